"""The web side's HTTP without sockets: ``serve_files`` and ``WebSite.respond`` (request in,
response out), ``HttpServerConnection`` (bytes in, requests and answers' bytes out, read by an h11
client), and ``WebConnection`` on an in-memory transport that backs up like a real one."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import h11
import pytest
from hypothesis import given
from hypothesis import strategies as st

from netplay.server.config import ServerConfig
from netplay.server.hub import Hub
from netplay.transports.http import (
    MAX_BODY,
    HttpRequest,
    HttpResponse,
    HttpServerConnection,
    StaticFile,
    Upgrade,
    serve_files,
)
from netplay.transports.websocket import (
    WS_PATH,
    WebConnection,
    WebSite,
    game_board_path,
    load_game_boards,
)
from tests.browser.games.nim_game import BoardNim

BOARD_JS = Path(__file__).resolve().parents[1] / "browser" / "games" / "board.js"

PAGE = StaticFile(b"<!doctype html>hello", "text/html; charset=utf-8", '"abc"')
FILES = {"/": PAGE, "/index.html": PAGE, "/a b.js": StaticFile(b"export {}", "text/javascript", '"e"')}


def get(target: str, *headers: tuple[str, str], method: str = "GET", body: bytes = b"") -> HttpRequest:
    return HttpRequest(method, target, tuple((k.lower(), v) for k, v in headers), body)


def head(response: HttpResponse) -> dict[str, str]:
    return {k.lower(): v for k, v in response.headers}


# -- request -> response -------------------------------------------------------------------------
def test_a_file_is_served_with_its_headers() -> None:
    response = serve_files(FILES, get("/index.html?v=2#top"))
    assert (response.status, response.body) == (200, PAGE.body)
    assert head(response) == {
        "content-type": "text/html; charset=utf-8",
        "cache-control": "no-cache",
        "etag": '"abc"',
        "x-content-type-options": "nosniff",
        "access-control-allow-origin": "*",
        "content-length": str(len(PAGE.body)),
    }
    assert serve_files(FILES, get("/a%20b.js")).body == b"export {}"  # paths are looked up unquoted


def test_head_has_the_same_headers_and_no_body() -> None:
    got, headed = serve_files(FILES, get("/")), serve_files(FILES, get("/", method="HEAD"))
    assert headed.status == 200 and headed.body == b"" and headed.headers == got.headers


def test_an_unchanged_file_is_a_304() -> None:
    response = serve_files(FILES, get("/", ("If-None-Match", '"abc"')))
    assert response.status == 304 and response.body == b"" and head(response)["etag"] == '"abc"'
    twice = get("/", ("If-None-Match", '"abc"'), ("If-None-Match", '"abc"'))  # repeated: as none
    assert serve_files(FILES, twice).status == 200


@pytest.mark.parametrize("path", ["/nothing.html", "/../pyproject.toml", "/%2e%2e/cli.py", WS_PATH])
def test_anything_else_is_404(path: str) -> None:
    response = serve_files(FILES, get(path))
    assert response.status == 404 and response.body.startswith(b"no such page")


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", "OPTIONS", "PATCH"])
def test_other_methods_are_405_with_allow(method: str) -> None:
    response = serve_files(FILES, get("/", method=method, body=b"x=1"))
    assert response.status == 405 and head(response)["allow"] == "GET, HEAD"


async def test_the_site_serves_a_games_board_module() -> None:
    hub = Hub(ServerConfig(), {}, loop=asyncio.get_running_loop())
    site = WebSite(hub, files={**FILES, **load_game_boards([BoardNim()])})
    response = site.respond(get(game_board_path("boardnim")))
    assert response.status == 200 and response.body == BOARD_JS.read_bytes()
    assert head(response)["content-type"] == "text/javascript; charset=utf-8"
    assert site.respond(get("/games/boardnim/nim_game.py")).status == 404
    assert site.respond(get("/", method="POST")).status == 405


class Echo:
    """Routes of its own: ``/echo`` answers with the body it was sent."""

    def handles(self, path: str) -> bool:
        return path == "/echo"

    def respond(self, request: HttpRequest) -> HttpResponse:
        return HttpResponse(200, (("Content-Type", "text/plain"),), request.body)


async def test_the_sites_own_routes_come_before_the_files_and_get_the_body() -> None:
    hub = Hub(ServerConfig(), {}, loop=asyncio.get_running_loop())
    site = WebSite(hub, files={**FILES, "/echo": PAGE}, routes=Echo())
    assert site.respond(get("/echo?x=1", method="POST", body=b"hi")).body == b"hi"
    assert site.respond(get("/")).body == PAGE.body


# -- bytes -> requests -> bytes ------------------------------------------------------------------
class Exchange:
    """A server connection, the bytes its answers make, read back by an h11 client."""

    def __init__(self, **settings: Any) -> None:
        self.server = HttpServerConnection(WS_PATH, **settings)
        self.sent = bytearray()

    def feed(self, data: bytes) -> list[HttpRequest | Upgrade]:
        """Feed ``data``; answer every complete request from FILES; return the requests."""
        self.server.receive_data(data)
        seen: list[HttpRequest | Upgrade] = []
        while (event := self.server.next_event()) is not None:
            seen.append(event)
            if isinstance(event, Upgrade):
                break
            self.server.answer(event, serve_files(FILES, event))
        self.sent += self.server.data_to_send()
        return seen

    def responses(self, *methods: str) -> list[tuple[int, dict[str, str], bytes]]:
        """The answers sent, one per request of ``methods`` (what a client sent, in order)."""
        client = h11.Connection(h11.CLIENT)
        client.receive_data(bytes(self.sent))
        answers = []
        for method in methods:
            client.send(h11.Request(method=method, target="/", headers=[("Host", "x")]))
            client.send(h11.EndOfMessage())
            status, headers, body = 0, {}, b""
            while True:
                event = client.next_event()
                if isinstance(event, h11.Response):
                    status = event.status_code
                    headers = {k.decode(): v.decode() for k, v in event.headers}
                elif isinstance(event, h11.Data):
                    body += event.data
                elif isinstance(event, h11.EndOfMessage):
                    break
                else:
                    raise AssertionError(f"incomplete answer: {event}")
            answers.append((status, headers, body))
            if client.our_state is h11.DONE and client.their_state is h11.DONE:
                client.start_next_cycle()
        return answers


def request(method: str, target: str, *lines: str, body: bytes = b"") -> bytes:
    return "\r\n".join([f"{method} {target} HTTP/1.1", "Host: x", *lines, "", ""]).encode() + body


def test_pipelined_requests_are_answered_in_order_on_one_connection() -> None:
    exchange = Exchange()
    seen = exchange.feed(request("GET", "/") + request("HEAD", "/a%20b.js") + request("GET", "/nope"))
    assert [(r.method, r.path) for r in seen if isinstance(r, HttpRequest)] == [
        ("GET", "/"),
        ("HEAD", "/a b.js"),
        ("GET", "/nope"),
    ]
    got = exchange.responses("GET", "HEAD", "GET")
    assert [status for status, _, _ in got] == [200, 200, 404]
    assert got[0][2] == PAGE.body and got[1][2] == b"" and got[1][1]["content-length"] == "9"
    assert not exchange.server.done and exchange.server.idle  # kept alive, waiting for the next


def test_a_request_split_anywhere_is_one_request() -> None:
    exchange = Exchange()
    data = request("GET", "/index.html")
    assert [exchange.feed(data[i : i + 1]) for i in range(len(data) - 1)] == [[]] * (len(data) - 1)
    assert not exchange.server.idle  # half a request: the slow-request timer's business
    assert [r.path for r in exchange.feed(data[-1:]) if isinstance(r, HttpRequest)] == ["/index.html"]


def test_a_body_within_the_limit_is_read_and_the_connection_goes_on() -> None:
    exchange = Exchange()
    seen = exchange.feed(request("POST", "/", "Content-Length: 10", body=b"0123456789") + request("GET", "/"))
    assert [(r.method, r.body) for r in seen if isinstance(r, HttpRequest)] == [
        ("POST", b"0123456789"),
        ("GET", b""),
    ]
    assert [status for status, _, _ in exchange.responses("POST", "GET")] == [405, 200]
    chunked = request("POST", "/", "Transfer-Encoding: chunked", body=b"3\r\nabc\r\n0\r\n\r\n")
    assert [r.body for r in exchange.feed(chunked) if isinstance(r, HttpRequest)] == [b"abc"]


@pytest.mark.parametrize(
    "data",
    [
        request("POST", "/", f"Content-Length: {MAX_BODY + 1}"),  # refused before it is sent
        request("POST", "/", f"Content-Length: {MAX_BODY + 1}", body=b"x" * 1000),
        request(
            "POST", "/", "Transfer-Encoding: chunked", body=b"%x\r\n" % (MAX_BODY + 1) + b"x" * (MAX_BODY + 1)
        ),
    ],
    ids=["declared", "declared-and-sending", "chunked"],
)
def test_a_body_over_the_limit_is_413_and_the_end(data: bytes) -> None:
    exchange = Exchange()
    assert exchange.feed(data) == []
    ((status, headers, body),) = exchange.responses("POST")
    assert (
        status == 413 and headers["connection"] == "close" and body.startswith(b"a request body is at most")
    )
    assert exchange.server.done
    assert exchange.feed(request("GET", "/")) == [] and exchange.server.data_to_send() == b""


def test_a_client_waiting_for_100_continue_is_told_to_go_on() -> None:
    exchange = Exchange()
    assert exchange.feed(request("POST", "/", "Expect: 100-continue", "Content-Length: 3")) == []
    assert bytes(exchange.sent).startswith(b"HTTP/1.1 100 ")
    (posted,) = exchange.feed(b"abc")
    assert isinstance(posted, HttpRequest) and (posted.method, posted.body) == ("POST", b"abc")


@pytest.mark.parametrize(
    "data",
    [
        b"GARBAGE\r\n\r\n",
        request("GET", "/", "no colon here"),
        b"GET / HTTP/1.1\r\n\r\n",
        b"GET /\x00 HTTP/1.1\r\n\r\n",
    ],
    ids=["request-line", "header", "no-host", "nul"],
)
def test_a_malformed_request_is_400_and_the_end(data: bytes) -> None:
    exchange = Exchange()
    assert exchange.feed(data) == []
    ((status, headers, _),) = exchange.responses("GET")
    assert status == 400 and headers["connection"] == "close" and exchange.server.done


def test_a_head_still_incomplete_past_16_kib_is_431() -> None:
    exchange = Exchange()
    assert exchange.feed(request("GET", "/", "X-Big: " + "a" * 20_000)[:17_000]) == []
    assert exchange.responses("GET")[0][0] == 431 and exchange.server.done


@pytest.mark.parametrize(
    ("data", "methods"),
    [
        (request("GET", "/", "Connection: close") + request("GET", "/"), ["GET"]),
        (b"GET / HTTP/1.0\r\n\r\nGET / HTTP/1.0\r\n\r\n", ["GET"]),
        (b"GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", ["GET"]),  # h11 keeps 1.0 to one
    ],
    ids=["connection-close", "http-1.0", "http-1.0-keep-alive"],
)
def test_the_last_answer_says_close_and_nothing_after_it_is_answered(data: bytes, methods: list[str]) -> None:
    exchange = Exchange()
    assert len(exchange.feed(data)) == 1
    ((status, headers, _),) = exchange.responses(*methods)
    assert status == 200 and headers["connection"] == "close" and exchange.server.done


def test_the_end_of_the_stream_between_requests_is_the_end() -> None:
    exchange = Exchange()
    exchange.feed(request("GET", "/"))
    exchange.server.receive_data(b"")
    assert exchange.server.next_event() is None and exchange.server.done
    assert exchange.server.data_to_send() == b""  # nothing to say: the client has gone


def test_a_websocket_request_hands_on_its_exact_bytes_and_all_after_it() -> None:
    upgrade = request(
        "GET", "/ws?v=1", "Upgrade: websocket", "Connection: Upgrade", "Sec-WebSocket-Version: 13"
    )
    after = b"\x81\x85frames"
    exchange = Exchange()
    seen = exchange.feed(request("GET", "/") + upgrade + after[:3])
    assert isinstance(seen[0], HttpRequest) and isinstance(seen[1], Upgrade)
    assert seen[1].raw == upgrade + after[:3] and seen[1].request.target == "/ws?v=1"
    assert exchange.server.done and [s for s, _, _ in exchange.responses("GET")] == [200]
    # First on its connection, split across reads: still the exact bytes.
    exchange = Exchange()
    assert exchange.feed(upgrade[:10]) == []
    (handed,) = exchange.feed(upgrade[10:] + after)
    assert isinstance(handed, Upgrade) and handed.raw == upgrade + after
    # Only a GET of the path itself.
    assert isinstance(Exchange().feed(request("POST", "/ws", "Content-Length: 0"))[0], HttpRequest)
    assert isinstance(Exchange().feed(request("GET", "/wsx"))[0], HttpRequest)


PIECES = [
    request("GET", "/"),
    request("HEAD", "/index.html", "Connection: close"),
    request("POST", "/", "Content-Length: 3", body=b"abc"),
    request("POST", "/", "Transfer-Encoding: chunked", body=b"3\r\nabc\r\n0\r\n\r\n"),
    request("GET", "/ws", "Upgrade: websocket"),
    b"GET / HTTP/1.0\r\n\r\n",
    b"Content-Length: -1\r\n",
    b"Content-Length: 99999999999999999999\r\n",
    b"Transfer-Encoding: gzip\r\n",
    b"\r\n",
    b"\x00\xff\x80",
    b"GET",
]


@given(st.lists(st.one_of(st.sampled_from(PIECES), st.binary(max_size=40)), max_size=12), st.integers(1, 64))
def test_nothing_a_client_sends_makes_it_raise(pieces: list[bytes], step: int) -> None:
    exchange = Exchange(max_body=16)
    data = b"".join(pieces)
    for i in range(0, len(data), step):
        exchange.feed(data[i : i + step])
    exchange.server.receive_data(b"")
    while exchange.server.next_event() is not None:
        pass


# -- WebConnection: answers a client does not read hold back the requests behind them --------------
class BackingUpWire(asyncio.Transport):
    """A transport whose peer reads only on ``take``, and that tells its protocol when its buffer
    passes the high-water mark and drains to the low one, as asyncio's do."""

    def __init__(self) -> None:
        super().__init__()
        self.unread = bytearray()
        self.reading = True
        self.closed = False
        self.high = self.low = 0
        self.paused = False
        self.protocol: WebConnection | None = None

    def set_write_buffer_limits(self, high: int | None = None, low: int | None = None) -> None:
        self.high, self.low = high or 0, low or 0

    def write(self, data: Any) -> None:
        self.unread += data
        if not self.paused and self.protocol is not None and len(self.unread) > self.high:
            self.paused = True
            self.protocol.pause_writing()

    def take(self) -> bytes:
        data, self.unread = bytes(self.unread), bytearray()
        if self.paused and self.protocol is not None:
            self.paused = False
            self.protocol.resume_writing()
        return data

    def get_write_buffer_size(self) -> int:
        return len(self.unread)

    def is_closing(self) -> bool:
        return self.closed

    def is_reading(self) -> bool:
        return self.reading

    def pause_reading(self) -> None:
        self.reading = False

    def resume_reading(self) -> None:
        self.reading = True

    def can_write_eof(self) -> bool:
        return True

    def write_eof(self) -> None:
        pass

    def close(self) -> None:
        self.closed = True

    def abort(self) -> None:
        self.closed = True

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return ("127.0.0.1", 1) if name == "peername" else default


async def test_pipelined_requests_wait_while_their_answers_are_not_read() -> None:
    hub = Hub(ServerConfig(), {}, loop=asyncio.get_running_loop())
    big = StaticFile(b"x" * 20_000, "text/plain", '"x"')
    conn = WebConnection(WebSite(hub, files={"/big": big}))
    wire = BackingUpWire()
    wire.protocol = conn
    conn.connection_made(wire)
    assert wire.high == 64 * 1024  # the reply limit, as on TCP
    conn.data_received(request("GET", "/big") * 100)  # 100 answers, 2 MB: none of them read
    first = wire.unread.count(b"HTTP/1.1 200 ")
    assert 3 <= first <= 5 and not wire.reading  # a reply limit's worth, then it stopped reading
    answers = 0
    for _ in range(100):
        answers += wire.take().count(b"HTTP/1.1 200 ")  # the client reads: the next few
        if not wire.unread:
            break
    assert answers == 100 and wire.reading and not wire.closed  # every one, none dropped
