"""TextConnection on an in-memory transport: lines to the handler, backpressure, over-long lines, failures."""

from __future__ import annotations

import asyncio
from typing import Any

from netplay.transports.coalesce import WriteCoalescer
from netplay.transports.text import TextConnection


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
        return ("127.0.0.1", 1) if name == "peername" else default


class Handler:
    """A LineHandler that records lines and asks to wait ``wait`` s after every ``every``-th line."""

    def __init__(self, *, every: int = 0, wait: float = 0.01, refuse: bool = False) -> None:
        self.every = every
        self.wait = wait
        self.refuse = refuse
        self.lines: list[bytes] = []
        self.gone: list[str] = []
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
