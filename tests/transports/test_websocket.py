"""WebConnection on an in-memory transport: pings within the rate limit, control frames within the send
buffer, big reads parsed a slice per loop turn. The peer is the ``websockets`` library's Sans-I/O client.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

from websockets.client import ClientProtocol
from websockets.frames import Close, Frame, Opcode
from websockets.protocol import State
from websockets.uri import parse_uri

from netplay.server.config import ServerConfig
from netplay.server.hub import Hub
from netplay.transports.websocket import WebConnection, WebSite


class Wire(asyncio.Transport):
    """A transport whose peer reads nothing until ``take``: what is written stays buffered."""

    def __init__(self) -> None:
        super().__init__()
        self.unread = bytearray()
        self.reading = True
        self.closed = False
        self.aborted = False
        self.resumed = asyncio.Event()

    def write(self, data: Any) -> None:
        self.unread += data

    def get_write_buffer_size(self) -> int:
        return len(self.unread)

    def take(self) -> bytes:
        data, self.unread = bytes(self.unread), bytearray()
        return data

    def is_closing(self) -> bool:
        return self.closed or self.aborted

    def is_reading(self) -> bool:
        return self.reading and not self.is_closing()

    def pause_reading(self) -> None:
        self.reading = False

    def resume_reading(self) -> None:
        self.reading = True
        self.resumed.set()

    def close(self) -> None:
        self.closed = True

    def abort(self) -> None:
        self.aborted = True

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return ("127.0.0.1", 1) if name == "peername" else default


class Peer:
    """One WebSocket connection to a fresh hub, and the client's side of it."""

    def __init__(self, **settings: Any) -> None:
        self.hub = Hub(ServerConfig(**settings), {}, loop=asyncio.get_running_loop())
        self.conn = WebConnection(WebSite(self.hub, files={}))
        self.wire = Wire()
        self.conn.connection_made(self.wire)
        self.client = ClientProtocol(parse_uri("ws://127.0.0.1/ws"))
        self.client.send_request(self.client.connect())
        self.send_client_output()
        self.client.receive_data(self.wire.take())
        assert self.client.state is State.OPEN
        self.client.events_received()  # the 101 response

    def send_client_output(self) -> None:
        self.conn.data_received(b"".join(self.client.data_to_send()))

    def pings(self, count: int, size: int = 0) -> bytes:
        """``count`` ping frames in one write, payloads b"0", b"1", ... (padded to ``size``)."""
        for i in range(count):
            self.client.send_ping(str(i).encode().ljust(size, b"."))
        return b"".join(self.client.data_to_send())

    def received(self) -> list[Frame]:
        """Every frame the server wrote since the last call."""
        self.client.receive_data(self.wire.take())
        return [e for e in self.client.events_received() if isinstance(e, Frame)]

    async def hello(self) -> None:
        self.client.send_text(json.dumps({"type": "hello", "protocol": 1, "name": "web", "id": 0}).encode())
        self.send_client_output()
        await asyncio.sleep(0)  # one loop turn: the coalescer flushes the welcome
        assert json.loads(self.received()[0].data)["type"] == "welcome"


def pongs(frames: list[Frame]) -> list[bytes]:
    return [bytes(f.data) for f in frames if f.opcode is Opcode.PONG]


def messages(frames: list[Frame]) -> list[dict[str, Any]]:
    return [json.loads(f.data) for f in frames if f.opcode is Opcode.TEXT]


async def test_each_ping_within_the_rate_gets_its_pong() -> None:
    peer = Peer()
    peer.conn.data_received(peer.pings(3))
    assert pongs(peer.received()) == [b"0", b"1", b"2"]


async def test_pings_and_messages_take_tokens_from_one_bucket() -> None:
    # rate_limit 0.001: no token comes back during the test, so the counts are exact.
    peer = Peer(rate_limit=0.001, rate_burst=5)
    await peer.hello()  # hello takes no token
    peer.conn.data_received(peer.pings(3))
    assert pongs(peer.received()) == [b"0", b"1", b"2"]
    for rid in "abc":
        peer.client.send_text(json.dumps({"type": "ping", "id": rid}).encode())
    peer.send_client_output()
    await asyncio.sleep(0)
    replies = messages(peer.received())
    assert [r["type"] for r in replies] == ["pong", "pong", "error"]
    assert replies[2]["code"] == "rate_limited" and replies[2]["re"] == "c"
    peer.conn.data_received(peer.pings(1))
    assert pongs(peer.received()) == []  # and the bucket is as empty for pings


async def test_a_ping_flood_past_the_burst_is_refused_warned_once_then_cut_off() -> None:
    peer = Peer(rate_limit=0.001, rate_burst=5)
    peer.conn.data_received(peer.pings(3000))  # one big read, as a flood arrives
    frames = peer.received()
    # The burst is answered; the next pings are refused (no pong) with one warning, and the
    # one that is a burst past the limit cuts the client off: the fatal error, close code 1008.
    assert pongs(frames) == [b"0", b"1", b"2", b"3", b"4"]
    assert [(m["code"], m.get("fatal", False)) for m in messages(frames)] == [
        ("rate_limited", False),
        ("rate_limited", True),
    ]
    closes = [Close.parse(f.data) for f in frames if f.opcode is Opcode.CLOSE]
    assert [(c.code, c.reason) for c in closes] == [(1008, "rate_limited")]
    assert peer.wire.closed  # as on TCP: not read any more, no wait for its close frame
    for _ in range(10):  # the rest of the read is never parsed: nothing more is ever written
        await asyncio.sleep(0)
    assert peer.wire.take() == b""


async def test_pongs_count_against_the_send_buffer() -> None:
    peer = Peer(rate_limit=0, max_send_buffer=1000)
    peer.conn.data_received(peer.pings(5, size=125))
    assert not peer.wire.aborted  # 5 pongs of 127 bytes, unread: under the limit
    peer.conn.data_received(peer.pings(5, size=125))  # 5 more: past it
    assert peer.wire.aborted


async def test_a_close_reply_counts_against_the_send_buffer() -> None:
    peer = Peer(max_send_buffer=1000)
    peer.wire.unread += b"x" * 999  # the client has left nearly the whole limit unread
    peer.client.send_close(1000)
    peer.send_client_output()
    assert peer.wire.aborted and not peer.wire.closed


async def test_a_big_read_is_parsed_a_slice_per_loop_turn_without_reading() -> None:
    peer = Peer(rate_limit=0, max_send_buffer=1 << 30)
    flood = peer.pings(20_000)  # about 150 KiB
    peer.conn.data_received(flood)
    first = len(pongs(peer.received()))
    assert 0 < first < 2000 and not peer.wire.reading
    async with asyncio.timeout(5):
        await peer.wire.resumed.wait()
    assert first + len(pongs(peer.received())) == 20_000
