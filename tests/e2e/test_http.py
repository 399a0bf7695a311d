"""HTTP/1.1 on the shared port, over real sockets: keep-alive, pipelining, request bodies, the
answers that end a connection, the idle timeout, a WebSocket after HTTP requests on the same
connection; and never a traceback in the server's log, whatever a client sends."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path

import pytest
from websockets.client import ClientProtocol
from websockets.frames import Frame, Opcode
from websockets.http11 import Response
from websockets.uri import parse_uri

import netplay
from netplay.server import Server

MakeServer = Callable[..., Awaitable[Server]]
WEB = Path(netplay.__file__).parent / "web"


@pytest.fixture(autouse=True)
def no_tracebacks(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    """Every test here: the server logged no error and no traceback, whatever the client sent."""
    caplog.set_level(logging.INFO)
    yield
    bad = [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info]
    assert not bad, [f"{r.name}: {r.getMessage()}" for r in bad]


class Conn:
    """One raw connection that reads the server's answers one at a time, as a keep-alive client."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer

    async def answer(
        self, head_only: bool = False, timeout: float = 5.0
    ) -> tuple[int, dict[str, str], bytes]:
        """The next answer: status, headers (lower-case names), body (by its Content-Length)."""
        async with asyncio.timeout(timeout):
            head = await self.reader.readuntil(b"\r\n\r\n")
            lines = head.decode("latin-1").split("\r\n")
            headers = {}
            for line in lines[1:]:
                if line:
                    name, _, value = line.partition(":")
                    headers[name.strip().lower()] = value.strip()
            status = int(lines[0].split()[1])
            length = 0 if head_only or status in (204, 304) else int(headers["content-length"])
            body = await self.reader.readexactly(length)
        return status, headers, body

    async def closed(self, timeout: float = 5.0) -> bytes:
        """Wait until the server closes (a reset counts); return what came before."""
        async with asyncio.timeout(timeout):
            try:
                return await self.reader.read()
            except ConnectionError:
                return b""


OpenConn = Callable[..., Awaitable[Conn]]


@pytest.fixture
async def conn_to() -> AsyncIterator[OpenConn]:
    opened: list[Conn] = []

    async def open_conn(port: int) -> Conn:
        conn = Conn(*await asyncio.open_connection("127.0.0.1", port))
        opened.append(conn)
        return conn

    yield open_conn
    for conn in opened:
        conn.writer.close()
        with contextlib.suppress(Exception):
            await conn.writer.wait_closed()


def request(method: str, target: str, *lines: str, body: bytes = b"") -> bytes:
    return "\r\n".join([f"{method} {target} HTTP/1.1", "Host: localhost", *lines, "", ""]).encode() + body


def websocket_request(port: int) -> tuple[ClientProtocol, bytes]:
    ws = ClientProtocol(parse_uri(f"ws://127.0.0.1:{port}/ws"))
    ws.send_request(ws.connect())
    return ws, b"".join(ws.data_to_send())


async def test_pipelined_requests_get_their_answers_in_order(server: Server, conn_to: OpenConn) -> None:
    conn = await conn_to(server.port)
    conn.writer.write(request("GET", "/") + request("GET", "/netplay.js") + request("HEAD", "/style.css"))
    status, _, body = await conn.answer()
    assert status == 200 and body == (WEB / "index.html").read_bytes()
    status, headers, body = await conn.answer()
    assert status == 200 and body == (WEB / "netplay.js").read_bytes()
    assert headers["content-type"] == "text/javascript; charset=utf-8"
    status, headers, _ = await conn.answer(head_only=True)
    assert status == 200 and int(headers["content-length"]) == len((WEB / "style.css").read_bytes())
    # Kept alive: the same connection takes the next request, and nothing came between.
    conn.writer.write(request("GET", "/nothing.html"))
    status, _, body = await conn.answer()
    assert status == 404 and body.startswith(b"no such page")


async def test_a_request_with_a_small_body_gets_its_answer(server: Server, conn_to: OpenConn) -> None:
    conn = await conn_to(server.port)
    conn.writer.write(
        request("GET", "/", "Content-Length: 10", body=b"0123456789") + request("GET", "/favicon.svg")
    )
    assert (await conn.answer())[0] == 200
    status, headers, _ = await conn.answer()
    assert status == 200 and headers["content-type"] == "image/svg+xml"  # the body was not a request


async def test_a_body_over_64_kib_is_413_and_the_connection_closes(server: Server, conn_to: OpenConn) -> None:
    conn = await conn_to(server.port)
    body = b"x" * (1 << 20)
    conn.writer.write(request("POST", "/", f"Content-Length: {len(body)}", body=body))
    status, headers, text = await conn.answer()
    assert status == 413 and headers["connection"] == "close" and b"at most 65536 bytes" in text
    assert await conn.closed() == b""  # the server read (and dropped) the rest: no reset lost the answer
    await conn.writer.drain()  # and the whole megabyte went: the server read it all


async def test_post_is_405_with_allow_and_the_connection_goes_on(server: Server, conn_to: OpenConn) -> None:
    conn = await conn_to(server.port)
    conn.writer.write(request("POST", "/", "Content-Length: 3", body=b"a=1"))
    status, headers, _ = await conn.answer()
    assert status == 405 and headers["allow"] == "GET, HEAD"
    conn.writer.write(request("GET", "/"))
    assert (await conn.answer())[0] == 200


@pytest.mark.parametrize(
    "garbage",
    [
        b"GET nonsense\r\n\r\n",
        request("GET", "/", "no colon"),
        b"POST / HTTP/1.1\r\nContent-Length: x\r\n\r\n",
    ],
    ids=["request-line", "header", "content-length"],
)
async def test_a_malformed_request_is_400_and_closed(
    server: Server, conn_to: OpenConn, garbage: bytes
) -> None:
    conn = await conn_to(server.port)
    conn.writer.write(garbage)
    status, headers, _ = await conn.answer()
    assert status == 400 and headers["connection"] == "close"
    assert await conn.closed() == b""


async def test_garbage_after_a_good_request_is_400_after_its_answer(
    server: Server, conn_to: OpenConn
) -> None:
    conn = await conn_to(server.port)
    conn.writer.write(request("GET", "/") + b"\x00\x01\x02 not http\r\n\r\n")
    assert (await conn.answer())[0] == 200
    assert (await conn.answer())[0] == 400
    assert await conn.closed() == b""


@pytest.mark.parametrize(
    "first",
    [b"GET / HTTP/1.0\r\n\r\n", request("GET", "/", "Connection: close")],
    ids=["http-1.0", "connection-close"],
)
async def test_the_connection_closes_after_an_answer_that_says_so(
    server: Server, conn_to: OpenConn, first: bytes
) -> None:
    conn = await conn_to(server.port)
    conn.writer.write(first + request("GET", "/netplay.js"))  # the second is never answered
    status, headers, body = await conn.answer()
    assert status == 200 and headers["connection"] == "close" and b"<!doctype html>" in body
    assert await conn.closed() == b""


async def test_an_idle_keep_alive_connection_is_closed_after_the_handshake_timeout(
    make_server: MakeServer, conn_to: OpenConn
) -> None:
    server = await make_server(handshake_timeout=0.5)
    conn = await conn_to(server.port)
    for _ in range(3):  # each answer gives the next request the whole timeout
        conn.writer.write(request("GET", "/favicon.svg"))
        assert (await conn.answer())[0] == 200
    loop = asyncio.get_running_loop()
    idle_since = loop.time()
    assert await conn.closed(timeout=5) == b""
    assert loop.time() - idle_since >= 0.4  # closed for being idle, not at once


async def test_a_half_sent_request_on_a_kept_alive_connection_is_dropped_in_time(
    make_server: MakeServer, conn_to: OpenConn
) -> None:
    server = await make_server(handshake_timeout=0.5)
    conn = await conn_to(server.port)
    conn.writer.write(request("GET", "/favicon.svg") + b"GET / HTTP/1.1\r\nHost: loc")
    assert (await conn.answer())[0] == 200
    assert await conn.closed(timeout=5) == b""


async def test_a_websocket_after_http_requests_on_the_same_connection(
    server: Server, conn_to: OpenConn
) -> None:
    conn = await conn_to(server.port)
    ws, upgrade = websocket_request(server.port)
    conn.writer.write(request("GET", "/") + request("HEAD", "/app.js") + upgrade)
    assert (await conn.answer())[0] == 200
    assert (await conn.answer(head_only=True))[0] == 200
    async with asyncio.timeout(5):
        while not (events := ws.events_received()):
            ws.receive_data(await conn.reader.read(65536))
    assert isinstance(events[0], Response) and events[0].status_code == 101, events
    ws.send_text(json.dumps({"type": "hello", "protocol": 1, "name": "Kay", "id": 0}).encode())
    conn.writer.write(b"".join(ws.data_to_send()))
    async with asyncio.timeout(5):
        while not (frames := [e for e in ws.events_received() if isinstance(e, Frame)]):
            ws.receive_data(await conn.reader.read(65536))
    assert frames[0].opcode is Opcode.TEXT and json.loads(frames[0].data)["type"] == "welcome"
