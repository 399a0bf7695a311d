"""Feel the network: a TCP proxy that adds latency, jitter and stalls, for trying a game on a bad link.

``netplay proxy --to HOST:PORT --latency 150ms --jitter 30ms --stall-every 10s`` listens on a port
of its own and forwards every connection to the server, byte for byte, late: what a client sends
reaches the server half the ``latency`` later, and the answer comes back half of it later again,
so the round trip grows by ``latency``, give or take ``jitter``. Every ``stall_every`` seconds the
link stops for ``stall_for`` (a Wi-Fi hiccup): nothing passes either way, then everything held
arrives at once, in order. It speaks no protocol, so it fits netplay's TCP clients, the web page
and WebSocket (``ws://`` through it), and 15-112 text clients alike. ``netplay.testing.lag_proxy``
is the same inside a test.

``DelayLine`` is the proxy's core, without I/O: bytes in with the time they arrived, and the time
each chunk may leave. TCP keeps order, so a chunk never leaves before the one before it, however
its jitter falls. The asyncio shell (``LagProxy``) only reads, asks the line, and writes on time.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections import deque
from collections.abc import AsyncIterator
from dataclasses import dataclass

__all__ = ["DelayLine", "LagProxy", "Link", "parse_duration", "serve_proxy"]

log = logging.getLogger("netplay.proxy")


@dataclass(frozen=True, slots=True)
class Link:
    """How bad the network is. Times in seconds; ``latency`` is added to the round trip."""

    latency: float = 0.0
    jitter: float = 0.0
    stall_every: float = 0.0  # 0: never
    stall_for: float = 1.0

    def __post_init__(self) -> None:
        for name in ("latency", "jitter", "stall_every", "stall_for"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} cannot be negative")


class DelayLine:
    """One direction of one connection: when each chunk of bytes may be passed on."""

    def __init__(self, link: Link, started: float, rng: random.Random | None = None) -> None:
        self.link = link
        self.started = started
        self.rng = rng or random.Random()
        self._last = started  # when the previous chunk leaves: none leaves before it
        self._queue: deque[tuple[float, bytes]] = deque()

    def push(self, now: float, data: bytes) -> float:
        """Take ``data`` received at ``now``; return when it may leave."""
        link = self.link
        delay = link.latency / 2
        if link.jitter:
            delay += self.rng.uniform(-link.jitter / 2, link.jitter / 2)
        leave = max(now + max(delay, 0.0), self._last)
        leave = self._after_stall(leave)
        self._last = leave
        self._queue.append((leave, data))
        return leave

    def due(self, now: float) -> bytes:
        """Every byte whose time has come, in order (b"" if none)."""
        out = []
        queue = self._queue
        while queue and queue[0][0] <= now:
            out.append(queue.popleft()[1])
        return b"".join(out)

    def next_due(self) -> float | None:
        return self._queue[0][0] if self._queue else None

    def stalled(self, at: float) -> bool:
        """Whether the link is in a stall at ``at``."""
        every = self.link.stall_every
        if not every:
            return False
        since = (at - self.started) % every
        return (at - self.started) >= every and since < self.link.stall_for

    def _after_stall(self, leave: float) -> float:
        """A chunk due during a stall waits for its end."""
        if not self.stalled(leave):
            return leave
        every = self.link.stall_every
        since = (leave - self.started) % every
        return leave - since + self.link.stall_for

    @property
    def held(self) -> int:
        return sum(len(data) for _, data in self._queue)


#: Bytes one direction may hold before the proxy stops reading from its sender (TCP slows it).
HOLD_LIMIT = 4 * 1024 * 1024


class _Pump:
    """Copies one socket's bytes to the other through a delay line, each chunk on time."""

    def __init__(
        self, line: DelayLine, writer: asyncio.StreamWriter, loop: asyncio.AbstractEventLoop
    ) -> None:
        self.line = line
        self.writer = writer
        self.loop = loop
        self.timer: asyncio.TimerHandle | None = None
        self.closing = False
        #: Set once the sender has finished and everything held has been passed on.
        self.done = asyncio.Event()
        #: Clear while more than HOLD_LIMIT is held.
        self.room = asyncio.Event()
        self.room.set()

    def take(self, data: bytes) -> None:
        leave = self.line.push(self.loop.time(), data)
        if self.timer is None:
            self.timer = self.loop.call_at(leave, self._release)
        if self.line.held > HOLD_LIMIT:
            self.room.clear()

    def _release(self) -> None:
        self.timer = None
        data = self.line.due(self.loop.time())
        if data and not self.writer.is_closing():
            self.writer.write(data)
        if self.line.held <= HOLD_LIMIT // 2:
            self.room.set()
        following = self.line.next_due()
        if following is not None:
            self.timer = self.loop.call_at(following, self._release)
        elif self.closing:
            self._close()

    def finish(self) -> None:
        """The sender has finished: pass on its end once everything held has left."""
        self.closing = True
        if self.timer is None:
            self._close()

    def _close(self) -> None:
        with contextlib.suppress(Exception):
            if not self.writer.is_closing():
                if self.writer.can_write_eof():
                    self.writer.write_eof()  # a half-close passes through as a half-close
                else:
                    self.writer.close()
        self.done.set()

    def cancel(self) -> None:
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None
        self.done.set()


class LagProxy:
    """Listens on ``host``:``port`` (0: any) and forwards to ``target`` through ``link``."""

    def __init__(
        self, target: tuple[str, int], link: Link, *, host: str = "127.0.0.1", port: int = 0
    ) -> None:
        self.target = target
        self.link = link
        self.host = host
        self.port = port
        self.connections = 0
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._serve, self.host, self.port)
        self.port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._server is not None:
            await self._server.wait_closed()

    async def _serve(self, client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        self.connections += 1
        loop = asyncio.get_running_loop()
        server_writer: asyncio.StreamWriter | None = None
        up = down = None
        try:
            server_reader, server_writer = await asyncio.open_connection(*self.target)
            now = loop.time()
            up = _Pump(DelayLine(self.link, now), server_writer, loop)
            down = _Pump(DelayLine(self.link, now), client_writer, loop)
            await asyncio.gather(_copy(client_reader, up), _copy(server_reader, down))
            await up.done.wait()  # what is still held on its way
            await down.done.wait()
        except OSError as exc:
            if server_writer is None:
                log.warning("cannot reach %s:%d: %s", *self.target, exc)
        except asyncio.CancelledError:
            pass
        finally:
            for pump in (up, down):
                if pump is not None:
                    pump.cancel()
            for writer in (client_writer, server_writer):
                if writer is not None:
                    writer.close()
            self._tasks.discard(task)


async def _copy(reader: asyncio.StreamReader, pump: _Pump) -> None:
    try:
        while data := await reader.read(65536):
            pump.take(data)
            await pump.room.wait()
    except ConnectionError:
        pass
    pump.finish()


def parse_duration(text: str) -> float:
    """``150ms``, ``1.5s``, ``2`` (seconds) -> seconds. Raises ValueError in words."""
    raw = text.strip().lower()
    scale = 1.0
    if raw.endswith("ms"):
        raw, scale = raw[:-2], 0.001
    elif raw.endswith("s"):
        raw = raw[:-1]
    try:
        value = float(raw) * scale
    except ValueError:
        raise ValueError(f"{text!r} is not a duration: use e.g. 150ms, 1.5s or 2") from None
    if not value >= 0 or value == float("inf"):
        raise ValueError(f"{text!r} is not a duration of 0 or more")
    return value


@contextlib.asynccontextmanager
async def serve_proxy(
    target: tuple[str, int], link: Link, *, host: str = "127.0.0.1", port: int = 0
) -> AsyncIterator[LagProxy]:
    """A running ``LagProxy`` for the ``async with`` block."""
    proxy = LagProxy(target, link, host=host, port=port)
    await proxy.start()
    try:
        yield proxy
    finally:
        await proxy.stop()
