"""TextConnection on an in-memory transport: lines to the handler, backpressure, over-long lines, failures."""

from __future__ import annotations

import asyncio
import errno
import socket
from typing import Any

import pytest

from netplay.transports import text
from netplay.transports.coalesce import WriteCoalescer
from netplay.transports.text import TextConnection


class FakeSocket:
    """The socket behind a MemoryTransport: options are ignored; its pending error (SO_ERROR) is
    read once, and each look is counted."""

    def __init__(self) -> None:
        self.error = 0
        self.looks = 0
        self.looked = asyncio.Event()

    def setsockopt(self, *args: Any) -> None:
        pass

    def getsockopt(self, level: int, option: int) -> int:
        assert (level, option) == (socket.SOL_SOCKET, socket.SO_ERROR)
        self.looks += 1
        self.looked.set()
        error, self.error = self.error, 0
        return error

    async def wait_looks(self, count: int) -> None:
        async with asyncio.timeout(5):
            while self.looks < count:
                self.looked.clear()
                await self.looked.wait()


class MemoryTransport(asyncio.Transport):
    """Records writes and whether reading is paused; never blocks."""

    def __init__(self) -> None:
        super().__init__()
        self.written = bytearray()
        self.reading = True
        self.pauses = 0
        self.closed = False
        self.aborted = False
        self.resumed = asyncio.Event()
        self.gone = asyncio.Event()
        self.sock = FakeSocket()

    def write(self, data: Any) -> None:
        self.written += data

    def get_write_buffer_size(self) -> int:
        return 0

    def is_closing(self) -> bool:
        return self.closed or self.aborted

    def is_reading(self) -> bool:
        return self.reading and not self.is_closing()

    def pause_reading(self) -> None:
        assert self.reading, "paused twice"
        self.reading = False
        self.pauses += 1

    def resume_reading(self) -> None:
        assert not self.reading, "resumed while reading"
        self.reading = True
        self.resumed.set()

    def close(self) -> None:
        self.closed = True

    def abort(self) -> None:
        self.aborted = True
        self.gone.set()

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        if name == "socket":
            return self.sock
        return ("127.0.0.1", 1) if name == "peername" else default


class Handler:
    """A LineHandler that records lines and asks to wait ``wait`` s after every ``every``-th line."""

    def __init__(self, *, every: int = 0, wait: float = 0.01, refuse: bool = False) -> None:
        self.every = every
        self.wait = wait
        self.refuse = refuse
        self.lines: list[bytes] = []
        self.gone: list[str] = []
        self.ended: list[str] = []
        self.got = asyncio.Event()
        self.expected = 0
        self.reading_when_taken: list[bool] = []
        self.conn: TextConnection[str] | None = None

    def open(self, conn: TextConnection[str]) -> str | None:
        self.conn = conn
        return None if self.refuse else "handle"

    def line(self, handle: str, line: bytes) -> float:
        assert handle == "handle"
        if line == b"boom":
            raise RuntimeError("a bug in the handler")
        self.lines.append(line)
        if len(self.lines) >= self.expected:
            self.got.set()
        if self.every and len(self.lines) % self.every == 0:
            return self.wait
        return 0.0

    def half_closed(self, handle: str) -> None:
        self.ended.append(handle)

    def lost(self, handle: str) -> None:
        self.gone.append(handle)


def connect(handler: Handler, max_line: int = 1024) -> tuple[TextConnection[str], MemoryTransport]:
    loop = asyncio.get_running_loop()
    conn = TextConnection(handler, WriteCoalescer(loop), loop, max_line=max_line)
    transport = MemoryTransport()
    conn.connection_made(transport)
    return conn, transport


async def wait_for_lines(handler: Handler, count: int) -> None:
    handler.expected = count
    if len(handler.lines) < count:
        handler.got.clear()
        async with asyncio.timeout(5):
            await handler.got.wait()


async def test_lines_go_to_the_handler_in_order_and_writes_are_coalesced() -> None:
    handler = Handler()
    conn, transport = connect(handler)
    conn.data_received(b"a 1\nb")
    conn.data_received(b" 2\n")
    assert handler.lines == [b"a 1", b"b 2"]
    conn.write(b"x\n")
    conn.write(b"y\n")
    assert transport.written == b""
    await asyncio.sleep(0)  # one loop turn: the coalescer flushes
    assert transport.written == b"x\ny\n"
    conn.connection_lost(None)
    assert handler.gone == ["handle"]


async def test_a_wait_pauses_reading_and_holds_the_rest_in_order() -> None:
    handler = Handler(every=2, wait=0.01)
    conn, transport = connect(handler)
    conn.data_received(b"".join(b"n %d\n" % i for i in range(5)))
    assert handler.lines == [b"n 0", b"n 1"]  # the handler asked to wait after the second line
    assert not transport.reading
    conn.data_received(b"n 5\n")  # read before the pause took effect: it waits behind the others
    assert len(handler.lines) == 2
    await wait_for_lines(handler, 6)
    assert handler.lines == [b"n %d" % i for i in range(6)]
    assert transport.pauses == 1  # waiting again after a wait does not pause twice
    async with asyncio.timeout(5):
        await transport.resumed.wait()  # the last wait ends with reading resumed
    assert transport.reading
    conn.data_received(b"n 6\n")
    await wait_for_lines(handler, 7)
    assert handler.lines[-1] == b"n 6"


async def test_a_line_too_long_while_held_cuts_off_after_the_lines_before_it() -> None:
    handler = Handler(every=1, wait=0.005)
    conn, transport = connect(handler, max_line=8)
    conn.data_received(b"a 1\nb 2\n" + b"x" * 20)
    assert handler.lines == [b"a 1"] and not transport.aborted
    await wait_for_lines(handler, 2)
    async with asyncio.timeout(5):
        await transport.gone.wait()
    assert handler.lines == [b"a 1", b"b 2"]


async def test_a_line_too_long_is_cut_off_at_once_when_not_held() -> None:
    handler = Handler()
    conn, transport = connect(handler, max_line=8)
    conn.data_received(b"a 1\n" + b"x" * 9 + b"\nb 2\n")
    assert handler.lines == [b"a 1"]
    assert transport.aborted


async def test_a_failing_handler_drops_only_that_connection() -> None:
    handler = Handler()
    conn, transport = connect(handler)
    conn.data_received(b"a 1\nboom\nb 2\n")
    assert handler.lines == [b"a 1"]
    assert transport.aborted
    conn.data_received(b"c 3\n")
    assert handler.lines == [b"a 1"]


async def test_closing_while_held_cancels_the_wait() -> None:
    handler = Handler(every=1, wait=60.0)
    conn, transport = connect(handler)
    conn.data_received(b"a 1\nb 2\n")
    conn.close()
    assert transport.closed
    conn.connection_lost(None)
    assert handler.lines == [b"a 1"] and handler.gone == ["handle"]


async def test_a_refused_client_is_closed_and_never_reported_lost() -> None:
    handler = Handler(refuse=True)
    conn, transport = connect(handler)
    assert transport.closed
    conn.data_received(b"a 1\n")
    conn.connection_lost(None)
    assert handler.lines == [] and handler.gone == []


# -- half-close --------------------------------------------------------------------------------------
async def test_a_half_close_keeps_the_connection_open_and_drops_only_the_unfinished_line() -> None:
    handler = Handler()
    conn, transport = connect(handler)
    conn.data_received(b"a 1\nb 2\npartial")
    assert conn.eof_received() is True  # the transport stays open for writing
    assert handler.lines == [b"a 1", b"b 2"] and handler.ended == ["handle"]
    assert not transport.closed and not transport.aborted
    conn.write(b"still\n")
    await asyncio.sleep(0)  # one loop turn: the coalescer flushes
    assert transport.written == b"still\n"
    assert conn.eof_received() is True  # a second EOF (a read resumed by someone) changes nothing
    assert handler.ended == ["handle"]
    conn.close()
    assert transport.closed
    conn.connection_lost(None)
    assert handler.lines == [b"a 1", b"b 2"] and handler.gone == ["handle"]


async def test_lines_held_by_the_rate_limit_still_go_after_a_half_close_and_reading_stays_off() -> None:
    handler = Handler(every=2, wait=0.005)
    conn, transport = connect(handler)
    conn.data_received(b"n 0\nn 1\nn 2\n")
    assert handler.lines == [b"n 0", b"n 1"] and not transport.reading
    conn.eof_received()
    await wait_for_lines(handler, 3)  # the wait is over: the last line taken, and no wait after it
    assert handler.lines == [b"n 0", b"n 1", b"n 2"]
    assert not transport.resumed.is_set() and not transport.reading  # nothing to read after an EOF
    assert not transport.closed and not transport.aborted


async def test_a_half_closed_connection_ends_when_a_write_finds_its_socket_reset() -> None:
    handler = Handler()
    conn, transport = connect(handler)
    conn.eof_received()
    conn.write(b"x\n")
    await asyncio.sleep(0)
    assert not transport.aborted  # no error: still there
    transport.sock.error = errno.EPIPE  # a closed peer answered that write with a reset
    conn.write(b"y\n")
    await asyncio.sleep(0)
    assert transport.aborted
    conn.connection_lost(None)
    assert handler.gone == ["handle"]


async def test_a_half_closed_connection_with_nothing_to_send_is_looked_at_until_its_socket_fails(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(text, "HALF_CLOSED_PROBE", 0.005)
    handler = Handler()
    conn, transport = connect(handler)
    conn.eof_received()
    await transport.sock.wait_looks(3)
    assert not transport.aborted
    transport.sock.error = errno.ETIMEDOUT  # keepalive found the peer dead
    async with asyncio.timeout(5):
        await transport.gone.wait()
    assert conn._probe is None  # the looks stopped with the connection
    conn.connection_lost(None)
    assert handler.gone == ["handle"]


async def test_an_eof_before_any_handle_closes() -> None:
    handler = Handler(refuse=True)
    conn, _ = connect(handler)
    assert conn.eof_received() is False
    assert handler.ended == []
