"""netplay over WebSocket, and the web client's files over HTTP, on the shared port or a port of its own.

The peer here is the ``websockets`` library's client: what a browser does, without a browser.
"""

from __future__ import annotations

import asyncio
import json
import struct
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import InvalidStatus

from netplay.client import Client
from netplay.server import Server

from ..conftest import RawPeer

MakeServer = Callable[..., Awaitable[Server]]


class WsPeer:
    """A WebSocket client speaking netplay's JSON messages, one per text frame."""

    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws

    def send(self, message: Any) -> Awaitable[None]:
        return self.ws.send(json.dumps(message))

    async def recv(self, timeout: float = 5.0) -> dict[str, Any]:
        async with asyncio.timeout(timeout):
            data = await self.ws.recv()
        assert isinstance(data, str), "the server sends text frames"
        message = json.loads(data)
        assert isinstance(message, dict)
        return message

    async def recv_type(self, kind: str, timeout: float = 5.0) -> dict[str, Any]:
        async with asyncio.timeout(timeout):
            while True:
                message = await self.recv(timeout)
                if message["type"] == kind:
                    return message

    async def hello(self, name: str = "web") -> dict[str, Any]:
        await self.send({"type": "hello", "protocol": 1, "name": name, "id": 0})
        welcome = await self.recv()
        assert welcome["type"] == "welcome", welcome
        return welcome

    async def closed(self, timeout: float = 5.0) -> tuple[int | None, str | None]:
        """Wait for the server to close the WebSocket; return its close code and reason."""
        async with asyncio.timeout(timeout):
            await self.ws.wait_closed()
        return self.ws.close_code, self.ws.close_reason


OpenWs = Callable[..., Awaitable[WsPeer]]


@pytest.fixture
async def ws_open() -> AsyncIterator[OpenWs]:
    """Open WebSocket peers (``ws_open(port, path="/ws", **kwargs)``); close them afterwards."""
    peers: list[WsPeer] = []

    async def open_peer(port: int, path: str = "/ws", **kwargs: Any) -> WsPeer:
        kwargs.setdefault("proxy", None)
        kwargs.setdefault("open_timeout", 5)
        ws = await connect(f"ws://127.0.0.1:{port}{path}", **kwargs)
        peer = WsPeer(ws)
        peers.append(peer)
        return peer

    yield open_peer
    for peer in peers:
        await peer.ws.close()


async def http_get(port: int, request: bytes) -> tuple[int, dict[str, str], bytes]:
    """Send raw request bytes (with ``Connection: close`` added after the request line, since the
    server keeps HTTP/1.1 connections open); return the status, the headers (lower-case names) and
    the body."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    line, _, rest = request.partition(b"\r\n")
    writer.write(line + b"\r\nConnection: close\r\n" + rest)
    async with asyncio.timeout(5):
        response = await reader.read()  # the server closes after its one answer
    writer.close()
    head, _, body = response.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return status, headers, body


def get(path: str, *extra: str) -> bytes:
    return "\r\n".join([f"GET {path} HTTP/1.1", "Host: localhost", *extra, "", ""]).encode()


# -- the WebSocket transport ---------------------------------------------------------------------


async def test_handshake_and_ping_over_websocket(server: Server, ws_open: OpenWs) -> None:
    peer = await ws_open(server.port)
    welcome = await peer.hello("Wendy")
    assert welcome["name"] == "Wendy" and welcome["max_frame"] == server.config.max_frame
    await peer.send({"type": "ping", "id": "p"})
    assert await peer.recv() == {"type": "pong", "re": "p"}
    await peer.send({"type": "list_games", "id": 2})
    games = await peer.recv()
    assert {g["name"] for g in games["games"]} == {
        "tictactoe",
        "connect4",
        "chess",
        "battleship",
        "crazy8",
        "rps",
        "pig",
        "pong",
        "arena",
    }


async def test_a_full_game_between_a_websocket_and_a_tcp_client(server: Server, ws_open: OpenWs) -> None:
    web = await ws_open(server.port)
    await web.hello("Web")
    await web.send({"type": "quick_match", "game": "tictactoe", "id": 1})
    joined = await web.recv_type("joined")
    assert joined["seat"] == 0
    tcp = await Client.connect("127.0.0.1", server.port, name="Term")
    try:
        await tcp.quick_match("tictactoe")
        room = joined["room"]["id"]
        assert tcp.room == room
        state = await web.recv_type("state")
        assert [p["name"] for p in state["players"]] == ["Web", "Term"]
        # Web plays X down the left column; Term answers in the middle column.
        for cell, tcp_cell in [(0, 1), (3, 4), (6, None)]:
            await web.send({"type": "move", "room": room, "move": cell, "version": state["version"]})
            state = await web.recv_type("state")
            assert (await tcp.wait_for("state", version=state["version"])) == state
            if tcp_cell is not None:
                await tcp.move(tcp_cell)
                state = await web.recv_type("state")
        assert state["outcome"] == {
            "winner": 0,
            "draw": False,
            "reason": "rules",
            "ranking": [[0], [1]],
            "places": [1, 2],
        }
        assert state["state"]["board"][:7:3] == ["X", "X", "X"]
    finally:
        await tcp.close()


async def test_websocket_player_bot_and_tcp_spectator_share_a_room(server: Server, ws_open: OpenWs) -> None:
    """Interoperation: a browser-like client plays a server-side bot while a Python client watches."""
    web = await ws_open(server.port)
    await web.hello("Web")
    await web.send({"type": "create_room", "game": "connect4", "id": 1})
    room = (await web.recv_type("joined"))["room"]["id"]
    watcher = await Client.connect("127.0.0.1", server.port, name="Watcher")
    try:
        await watcher.join(room, spectate=True)
        await web.send({"type": "add_bot", "room": room, "bot": "random", "id": 2})
        state = await web.recv_type("state")
        while state["outcome"] is None:
            if state["turn"] == 0:
                column = next(c for c in range(7) if state["state"]["board"][0][c] is None)
                await web.send({"type": "move", "room": room, "move": column, "version": state["version"]})
            state = await web.recv_type("state", timeout=10)
        seen = await watcher.wait_for("state", version=state["version"])
        assert seen == state
        assert [p["bot"] for p in state["players"]] == [None, "random"]
    finally:
        await watcher.close()


async def test_an_invalid_json_text_frame_gets_an_error_and_the_connection_stays(
    server: Server, ws_open: OpenWs
) -> None:
    peer = await ws_open(server.port)
    await peer.hello()
    await peer.ws.send("{not json")
    error = await peer.recv()
    assert error["code"] == "invalid_json" and not error.get("fatal")
    await peer.ws.send(b'{"type": "ping", "id": 7}')  # a binary frame of JSON is accepted too
    assert await peer.recv() == {"type": "pong", "re": 7}
    await peer.send({"type": "nonsense"})
    assert (await peer.recv())["code"] == "unknown_type"


async def test_garbage_before_hello_is_fatal_with_a_close_code(server: Server, ws_open: OpenWs) -> None:
    peer = await ws_open(server.port)
    await peer.send({"type": "list_rooms"})
    error = await peer.recv()
    assert error["code"] == "handshake_required" and error["fatal"] is True
    code, reason = await peer.closed()
    assert (code, reason) == (1008, "handshake_required")


async def test_an_oversized_message_is_refused_and_closed(make_server: MakeServer, ws_open: OpenWs) -> None:
    server = await make_server(max_frame=1024)
    peer = await ws_open(server.port)
    await peer.hello()
    exact = json.dumps({"type": "ping", "id": 1, "pad": ""})
    exact = exact.replace('"pad": ""', '"pad": "' + "x" * (1024 - len(exact)) + '"')
    assert len(exact) == 1024
    await peer.ws.send(exact)  # exactly max_frame bytes: accepted, as on TCP
    assert (await peer.recv())["type"] == "pong"
    await peer.ws.send("x" * 1025)
    code, _ = await peer.closed()
    assert code == 1009  # message too big
    assert server.hub is not None
    for _ in range(100):
        if not server.hub.sessions:
            break
        await asyncio.sleep(0.01)
    assert not server.hub.sessions


async def test_an_oversized_fragmented_message_is_refused_too(
    make_server: MakeServer, ws_open: OpenWs
) -> None:
    server = await make_server(max_frame=1024)
    peer = await ws_open(server.port)
    await peer.hello()
    await peer.ws.send(['{"type": "ping", ', '"id": "frag"}'])  # fragments are put back together
    assert await peer.recv() == {"type": "pong", "re": "frag"}
    await peer.ws.send(["x" * 600, "x" * 600])
    code, _ = await peer.closed()
    assert code == 1009


async def test_heartbeats_and_idle_timeout_hold_for_websocket_clients(
    make_server: MakeServer, ws_open: OpenWs
) -> None:
    server = await make_server(heartbeat_interval=0.1, idle_timeout=0.4)
    peer = await ws_open(server.port, ping_interval=None)  # no WebSocket-level pings either
    await peer.hello()
    assert (await peer.recv(timeout=2)) == {"type": "ping"}
    error = await peer.recv(timeout=2)  # no pong: the server gives up
    assert error["code"] == "idle_timeout" and error["fatal"] is True
    code, _ = await peer.closed()
    assert code == 1008


async def test_a_websocket_that_never_says_hello_times_out(make_server: MakeServer, ws_open: OpenWs) -> None:
    server = await make_server(handshake_timeout=0.2)
    peer = await ws_open(server.port)
    error = await peer.recv(timeout=3)
    assert error["code"] == "handshake_timeout" and error["fatal"] is True
    await peer.closed()


async def test_a_websocket_that_stops_reading_is_cut_off(make_server: MakeServer, ws_open: OpenWs) -> None:
    server = await make_server(max_send_buffer=64 * 1024, rate_limit=0)  # the flood is the point
    sender = await Client.connect("127.0.0.1", server.port, name="sender")
    try:
        room = (await sender.create_room("flood", kind="relay"))["room"]["id"]
        # This client's library stops reading the socket once 1 message waits unread.
        stalled = await ws_open(server.port, max_queue=1, ping_interval=None)
        await stalled.hello("stalled")
        await stalled.send({"type": "join_room", "room": room, "id": 1})
        await stalled.recv_type("joined")
        await sender.wait_for("member_joined")
        blob = "x" * 60_000
        left = None
        for sent in range(1, 2001):
            await sender.relay(blob)
            if sent % 20 == 0:
                await sender.request({"type": "ping"})
                left = next((e for e in sender.poll() if e["type"] == "member_disconnected"), None)
                if left is not None:
                    break
        assert left is not None and left["member"]["name"] == "stalled"
    finally:
        await sender.close()


async def test_shutdown_tells_websocket_clients_why(make_server: MakeServer, ws_open: OpenWs) -> None:
    server = await make_server()
    peer = await ws_open(server.port)
    await peer.hello()
    await server.stop("maintenance")
    error = await peer.recv()
    assert error["code"] == "server_shutdown" and error["message"] == "maintenance"
    code, reason = await peer.closed()
    assert (code, reason) == (1001, "server_shutdown")


# -- the origin check ----------------------------------------------------------------------------


async def test_origins_are_checked_when_configured(make_server: MakeServer, ws_open: OpenWs) -> None:
    server = await make_server(web_origins=("https://games.example",))
    with pytest.raises(InvalidStatus) as refused:
        await ws_open(server.port, origin="https://evil.example")
    assert refused.value.response.status_code == 403
    assert server.hub is not None and not server.hub.sessions
    for origin in ("https://games.example", None, f"http://127.0.0.1:{server.port}"):
        # A listed origin; no Origin (not a browser); the server's own pages (same Host).
        peer = await ws_open(server.port, origin=origin)
        await peer.hello()


async def test_any_origin_is_accepted_by_default(server: Server, ws_open: OpenWs) -> None:
    peer = await ws_open(server.port, origin="https://anywhere.example")
    await peer.hello()


# -- the web client's files over HTTP ------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "content_type", "snippet"),
    [
        ("/", "text/html; charset=utf-8", b"<!doctype html>"),
        ("/index.html", "text/html; charset=utf-8", b"app.js"),
        ("/netplay.js", "text/javascript; charset=utf-8", b"export function connect"),
        ("/app.js", "text/javascript; charset=utf-8", b"import"),
        ("/style.css", "text/css; charset=utf-8", b":root"),
        ("/dots.html", "text/html; charset=utf-8", b"dots.js"),
        ("/favicon.svg", "image/svg+xml", b"<svg"),
        ("/netplay.js?v=2", "text/javascript; charset=utf-8", b"export"),
    ],
)
async def test_static_files_with_their_content_types(
    server: Server, path: str, content_type: str, snippet: bytes
) -> None:
    status, headers, body = await http_get(server.port, get(path))
    assert status == 200
    assert headers["content-type"] == content_type
    assert int(headers["content-length"]) == len(body) and snippet in body
    assert headers["cache-control"] == "no-cache" and headers["etag"]
    assert headers["access-control-allow-origin"] == "*"  # other sites may import netplay.js


async def test_an_unchanged_file_is_a_304_and_head_has_no_body(server: Server) -> None:
    _, headers, body = await http_get(server.port, get("/netplay.js"))
    status, _, again = await http_get(server.port, get("/netplay.js", f"If-None-Match: {headers['etag']}"))
    assert status == 304 and again == b""
    status, head_headers, empty = await http_get(
        server.port, b"HEAD /netplay.js HTTP/1.1\r\nHost: localhost\r\n\r\n"
    )
    assert status == 200 and empty == b"" and int(head_headers["content-length"]) == len(body)


@pytest.mark.parametrize(
    "path",
    [
        "/../pyproject.toml",
        "/..%2f..%2fpyproject.toml",
        "/%2e%2e/%2e%2e/cli.py",
        "/web/../cli.py",
        "//etc/passwd",
        "/..\\..\\cli.py",
        "/__init__.py",
        "/nothing.html",
    ],
)
async def test_paths_outside_the_web_files_are_404(server: Server, path: str) -> None:
    status, _, body = await http_get(server.port, get(path))
    assert status == 404 and b"no such page" in body


async def test_other_methods_are_refused(server: Server) -> None:
    status, headers, _ = await http_get(
        server.port, b"DELETE /index.html HTTP/1.1\r\nHost: localhost\r\n\r\n"
    )
    assert status == 405 and "GET" in headers["allow"]


async def test_a_plain_get_of_the_websocket_path_asks_for_an_upgrade(server: Server) -> None:
    status, _, _ = await http_get(server.port, get("/ws"))
    assert status == 426


async def test_an_incomplete_http_request_is_dropped_after_the_handshake_timeout(
    make_server: MakeServer,
) -> None:
    server = await make_server(handshake_timeout=0.2)
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    writer.write(b"GET / HTTP/1.1\r\nHost: loc")  # and nothing more
    async with asyncio.timeout(3):
        assert await reader.read() == b""
    writer.close()


# -- one port for everything, or two ---------------------------------------------------------------


async def test_tcp_clients_still_work_on_the_shared_port(server: Server, ws_open: OpenWs) -> None:
    a = await Client.connect("127.0.0.1", server.port, name="A")
    b = await Client.connect("127.0.0.1", server.port, name="B")
    try:
        await a.quick_match("tictactoe")
        await b.quick_match("tictactoe")
        version = (await a.wait_for("state"))["version"]
        status, _, _ = await http_get(server.port, get("/"))  # web traffic in between
        web = await ws_open(server.port)
        await web.hello()
        await a.move(4)
        assert (await b.wait_for("state", version=version + 1))["state"]["board"][4] == "X"
    finally:
        await a.close()
        await b.close()
    assert status == 200


async def test_a_tcp_frame_split_into_single_bytes_is_still_tcp(server: Server) -> None:
    peer = await RawPeer.open(server.port)
    payload = json.dumps({"type": "hello", "protocol": 1, "id": 1}).encode()
    data = struct.pack(">I", len(payload)) + payload
    for i in range(len(data)):  # the sniffer sees one byte at a time
        peer.send_bytes(data[i : i + 1])
        await peer.writer.drain()
        await asyncio.sleep(0)
    assert (await peer.recv())["type"] == "welcome"
    await peer.close()


async def test_a_silent_tcp_connection_on_the_shared_port_times_out(make_server: MakeServer) -> None:
    server = await make_server(handshake_timeout=0.2)
    peer = await RawPeer.open(server.port)
    error = await peer.recv(timeout=3)
    assert error["code"] == "handshake_timeout" and error["fatal"] is True
    assert await peer.closed()
    await peer.close()


async def test_web_port_splits_web_from_tcp(make_server: MakeServer, ws_open: OpenWs) -> None:
    server = await make_server(web_port=0)
    assert server.web_port is not None and server.web_port != server.port
    status, headers, _ = await http_get(server.web_port, get("/"))
    assert status == 200 and headers["content-type"].startswith("text/html")
    web = await ws_open(server.web_port)
    await web.hello()
    # The TCP port is plain netplay framing again: HTTP there is garbage.
    peer = await RawPeer.open(server.port)
    peer.send_bytes(get("/"))
    assert (await peer.recv())["code"] == "frame_too_large"
    await peer.close()
    client = await Client.connect("127.0.0.1", server.port)
    await client.close()


async def test_web_can_be_turned_off(make_server: MakeServer) -> None:
    server = await make_server(web=False)
    assert server.web is None and server.web_port is None
    peer = await RawPeer.open(server.port)
    peer.send_bytes(get("/"))
    assert (await peer.recv())["code"] == "frame_too_large"
    await peer.close()


async def test_a_dropped_websocket_keeps_its_seat_for_the_grace_period(
    server: Server, ws_open: OpenWs
) -> None:
    web = await ws_open(server.port)
    token = (await web.hello("Dropper"))["token"]
    await web.send({"type": "quick_match", "game": "tictactoe", "id": 1})
    room = (await web.recv_type("joined"))["room"]["id"]
    tcp = await Client.connect("127.0.0.1", server.port)
    try:
        await tcp.quick_match("tictactoe")
        await web.ws.close()  # no bye: the connection dropped
        away = await tcp.wait_for("member_disconnected")
        assert away["member"]["name"] == "Dropper"
        again = await ws_open(server.port)
        await again.send({"type": "hello", "protocol": 1, "token": token, "id": 0})
        welcome = await again.recv_type("welcome")
        assert welcome["resumed"] is True and welcome["rooms"] == [room]
        joined = await again.recv_type("joined")
        assert joined["resumed"] is True and joined["seat"] == 0
        assert (await tcp.wait_for("member_reconnected"))["member"]["name"] == "Dropper"
    finally:
        await tcp.close()


async def test_bye_then_close_leaves_the_rooms_at_once(server: Server, ws_open: OpenWs) -> None:
    web = await ws_open(server.port)
    await web.hello("Leaver")
    await web.send({"type": "quick_match", "game": "tictactoe", "id": 1})
    await web.recv_type("joined")
    tcp = await Client.connect("127.0.0.1", server.port)
    try:
        await tcp.quick_match("tictactoe")
        await web.send({"type": "bye"})
        await web.ws.close()
        left = await tcp.wait_for("member_left")
        assert left["member"]["name"] == "Leaver"
        final = await tcp.wait_for("state", status="finished")
        assert final["outcome"]["reason"] == "forfeit"
    finally:
        await tcp.close()
    assert web.ws.close_code == 1000  # the server answered the client's close frame
