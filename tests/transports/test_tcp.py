"""TcpConnection's read backpressure: no reply is built while the peer is not reading its output."""

from __future__ import annotations

import asyncio
from typing import Any

from netplay.games import builtin_games
from netplay.protocol import FrameDecoder, frame
from netplay.protocol.codec import decode, encode
from netplay.server.config import ServerConfig
from netplay.server.hub import Hub
from netplay.transports.coalesce import WriteCoalescer
from netplay.transports.tcp import TcpConnection


class Pipe(asyncio.Transport):
    """A transport whose peer reads only when told to: written bytes wait in ``unread``. Like
    asyncio's transports, it calls the protocol's pause_writing when its buffer passes the high
    water mark, and resume_writing once the peer has read it below the low one."""

    def __init__(self) -> None:
        super().__init__()
        self.unread = bytearray()
        self.paused = False
        self.closed = False
        self.protocol: asyncio.Protocol | None = None
        self.high, self.low = 64 * 1024, 16 * 1024
        self.writing_paused = False

    def write(self, data: Any) -> None:
        self.unread += data
        if len(self.unread) > self.high and not self.writing_paused and self.protocol is not None:
            self.writing_paused = True
            self.protocol.pause_writing()

    def get_write_buffer_size(self) -> int:
        return len(self.unread)

    def set_write_buffer_limits(self, high: int | None = None, low: int | None = None) -> None:
        self.high, self.low = high or self.high, low or self.low

    def pause_reading(self) -> None:
        self.paused = True

    def resume_reading(self) -> None:
        self.paused = False

    def is_closing(self) -> bool:
        return self.closed

    def close(self) -> None:
        self.closed = True

    def abort(self) -> None:
        self.closed = True

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return ("127.0.0.1", 1) if name == "peername" else default

    def read_all(self) -> list[dict[str, Any]]:
        """The peer reads everything written so far."""
        decoder = FrameDecoder(1 << 24)
        messages = [decode(item) for item in decoder.feed(bytes(self.unread))]
        self.unread.clear()
        if self.writing_paused and self.protocol is not None:
            self.writing_paused = False
            self.protocol.resume_writing()
        return messages


async def test_requests_wait_unread_while_the_replies_to_earlier_ones_are_not_read() -> None:
    loop = asyncio.get_running_loop()
    hub = Hub(ServerConfig(rate_limit=0, max_send_buffer=64 * 1024), builtin_games(), loop=loop)
    conn, pipe = TcpConnection(hub, WriteCoalescer(loop)), Pipe()
    pipe.protocol = conn
    conn.connection_made(pipe)
    conn.data_received(frame(encode({"type": "hello", "protocol": 1, "name": "slow"})))
    await asyncio.sleep(0)  # one loop turn: the coalescer writes the welcome
    assert pipe.read_all()[0]["type"] == "welcome"
    # 400 requests in one read, each with a reply of about 2 KB: 800 KB of replies in all.
    requests = b"".join(frame(encode({"type": "list_games", "id": n})) for n in range(400))
    conn.data_received(requests)
    await asyncio.sleep(0)
    written = len(pipe.unread)
    assert pipe.paused, "the connection went on reading from a peer that does not read"
    assert 32 * 1024 < written <= 32 * 1024 + 4096, written  # half the send buffer (64 KiB), one reply more
    conn.data_received(frame(encode({"type": "ping", "id": "last"})))  # read before the pause took
    await asyncio.sleep(0)
    assert len(pipe.unread) == written  # held behind the others: nothing more was built
    replies: list[dict[str, Any]] = []
    for _ in range(200):  # the peer reads (and the transport, drained, says so), turn after turn
        replies += pipe.read_all()
        if len(replies) >= 401:
            break
        await asyncio.sleep(0)
    assert not pipe.paused and not conn._held  # all handled: reading again
    assert [r["re"] for r in replies] == [*range(400), "last"]  # every request, once, in order
    assert not pipe.closed
