"""The 15-112 text dialect's asyncio transport: bytes in, lines to a ``LineHandler``, lines out.

The dialect itself (line splitting, parsing, the line formats) is ``netplay.protocol.text112``;
what a line means (rooms, ids, the bridge to netplay's protocol) is the business of a
``LineHandler``, declared here and implemented by the server's text lobby
(``netplay.server.text_rooms``), which this module never imports.

Flow control is the handler's to ask for: ``line`` returns how long to wait before the next line.
The connection then stops reading from the socket (``pause_reading``) and resumes on a loop timer,
so a client sending faster than the server lets it is slowed down (TCP pushes back on it) and never
loses a line: the protocol has no way to say "slow down".

Half-close: a client that shuts down only its sending side (``shutdown(SHUT_WR)``) is still written
to, as the starter server does; its unfinished line is dropped. A FIN cannot tell a half-close from
a close, so the connection ends only when the socket fails: a write to a peer that has closed makes
it answer with a reset, and the loop no longer reads such a socket, so ``flush`` and a timer every
``HALF_CLOSED_PROBE`` seconds look at its error state (a reset, or a dead peer found by keepalive).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from collections.abc import Callable
from typing import Generic, Protocol, TypeVar, cast

from ..protocol.text112 import DEFAULT_MAX_LINE, LineSplitter
from .coalesce import WriteCoalescer, write_bounded
from .counts import TransportCounts

__all__ = [
    "HALF_CLOSED_PROBE",
    "KEEPALIVE_COUNT",
    "KEEPALIVE_IDLE",
    "KEEPALIVE_INTERVAL",
    "LineHandler",
    "TextConnection",
]

log = logging.getLogger("netplay.text")

Handle = TypeVar("Handle")


class LineHandler(Protocol[Handle]):
    """Where a ``TextConnection`` takes its client's lines (the server's text lobby is one)."""

    def open(self, conn: TextConnection[Handle]) -> Handle | None:
        """A client connected: the handle for its lines, or None to close it without a word."""

    def line(self, handle: Handle, line: bytes) -> float:
        """One complete line (its ``\\n`` removed). Returns the seconds to wait before the next one
        may be taken (0: at once); until then the connection does not read from the socket."""

    def half_closed(self, handle: Handle) -> None:
        """The client shut its sending side (or closed: a FIN cannot say which): no more lines come,
        but the connection stays open for writing until it fails or is closed."""

    def lost(self, handle: Handle) -> None:
        """The connection of ``handle`` is gone (called once, only after an ``open`` that gave one)."""


#: TCP keepalive for text clients: the strict protocol may send them nothing, so the kernel probes
#: instead, and a peer that vanished (a laptop closed, a cable pulled) is dropped after about
#: KEEPALIVE_IDLE + KEEPALIVE_COUNT * KEEPALIVE_INTERVAL seconds instead of holding its name forever.
KEEPALIVE_IDLE, KEEPALIVE_INTERVAL, KEEPALIVE_COUNT = 60, 10, 3

#: Seconds between looks at a half-closed client's socket for a reset or a dead peer: the event loop
#: stops reading a socket at its EOF, so it would only find out at the next write.
HALF_CLOSED_PROBE = 1.0


def enable_keepalive(sock: socket.socket | None) -> None:
    """Turn on kernel keepalive probes, where the platform allows setting them."""
    if sock is None:
        return
    with contextlib.suppress(OSError):
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
        for name, value in (
            ("TCP_KEEPIDLE", KEEPALIVE_IDLE),
            ("TCP_KEEPINTVL", KEEPALIVE_INTERVAL),
            ("TCP_KEEPCNT", KEEPALIVE_COUNT),
        ):
            option = getattr(socket, name, None)
            if option is not None:
                sock.setsockopt(socket.IPPROTO_TCP, option, value)


# -- the asyncio transport -------------------------------------------------------------------------
class TextConnection(asyncio.Protocol, Generic[Handle]):
    """One text client: splits its bytes into lines for the handler; queues lines to it, bounded."""

    __slots__ = (
        "_closing",
        "_counts",
        "_eof",
        "_flusher",
        "_handler",
        "_held",
        "_loop",
        "_next",
        "_out",
        "_probe",
        "_splitter",
        "_timer",
        "_waiting",
        "ending",
        "handle",
        "max_send_buffer",
        "peer",
        "transport",
    )

    def __init__(
        self,
        handler: LineHandler[Handle],
        flusher: WriteCoalescer,
        loop: asyncio.AbstractEventLoop,
        *,
        max_line: int = DEFAULT_MAX_LINE,
        max_send_buffer: int = 1 << 20,
        counts: TransportCounts | None = None,
    ) -> None:
        self._handler = handler
        #: Where this connection counts its lines and bytes (``/metrics``).
        self._counts = counts if counts is not None else TransportCounts()
        self._flusher = flusher
        self._loop = loop
        self._splitter = LineSplitter(max_line)
        self.max_send_buffer = max_send_buffer
        self._out: list[bytes] = []
        self._closing = False
        #: The client has shut its sending side: nothing more to read, still written to.
        self._eof = False
        #: While half-closed: the timer of the next look at the socket (``_watch``).
        self._probe: asyncio.TimerHandle | None = None
        #: While the handler makes the client wait: lines read but not yet taken (from ``_next`` on)
        #: and the timer that resumes. Reading is paused meanwhile, so this is at most one read.
        self._held: list[bytes] = []
        self._next = 0
        self._timer: asyncio.TimerHandle | None = None
        #: The handler is not ready for lines yet (``pause``): nothing is read meanwhile.
        self._waiting = False
        self.peer = "?"
        #: Why this side ended the connection ("send_buffer_full"), for the handler's ``lost``.
        self.ending: str | None = None
        self.transport: asyncio.Transport | None = None
        self.handle: Handle | None = None

    @classmethod
    def factory(
        cls,
        handler: LineHandler[Handle],
        loop: asyncio.AbstractEventLoop,
        *,
        max_line: int = DEFAULT_MAX_LINE,
        max_send_buffer: int = 1 << 20,
        counts: TransportCounts | None = None,
    ) -> Callable[[], TextConnection[Handle]]:
        """A protocol factory for ``loop.create_server``."""
        flusher = WriteCoalescer(loop)
        return lambda: cls(
            handler, flusher, loop, max_line=max_line, max_send_buffer=max_send_buffer, counts=counts
        )

    # -- asyncio.Protocol ----------------------------------------------------------------------
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's are not subclasses
        enable_keepalive(self.transport.get_extra_info("socket"))
        peername = self.transport.get_extra_info("peername")
        self.peer = f"{peername[0]}:{peername[1]}" if peername else "?"
        try:
            self.handle = self._handler.open(self)
        except Exception:
            log.exception(
                "could not seat text client %s", self.peer,
                extra={"event": "internal_error", "peer": self.peer, "transport": "text"},
            )  # fmt: skip
            self.handle = None
        if self.handle is None:
            self._closing = True
            self.transport.close()

    def data_received(self, data: bytes) -> None:
        handle = self.handle
        if handle is None or self._closing:
            return
        lines = self._splitter.feed(data)
        counts = self._counts
        counts.bytes_in += len(data)
        counts.messages_in += len(lines)
        if self._timer is not None:  # read before the pause took effect: it waits with the others
            self._held.extend(lines)
            return
        if lines:
            self._take(handle, lines, 0)
        if self._splitter.failed and self._timer is None and not self._closing:
            self._too_long()

    def eof_received(self) -> bool:
        """The client will send no more. Like the starter server, keep writing to it (True: the
        transport stays open); it leaves when the connection fails (``_watch``) or is closed."""
        if self.handle is None or self._closing or self._eof:
            return not self._closing
        self._eof = True
        dropped = self._splitter.end()
        log.debug(
            "text client %s stopped sending (%d bytes of a line dropped)", self.peer, dropped,
            extra={"event": "half_closed", "peer": self.peer, "transport": "text"},
        )  # fmt: skip
        try:
            self._handler.half_closed(self.handle)
        except Exception:
            log.exception(
                "text client %s: the handler failed on its half-close", self.peer,
                extra={"event": "internal_error", "peer": self.peer, "transport": "text"},
            )  # fmt: skip
            self.abort()
            return True
        self._watch()
        return not self._closing

    def connection_lost(self, exc: Exception | None) -> None:
        self._closing = True
        self._out.clear()
        self._release()
        handle, self.handle = self.handle, None
        if handle is not None:
            self._handler.lost(handle)

    # -- receiving -----------------------------------------------------------------------------
    def _take(self, handle: Handle, lines: list[bytes], start: int) -> None:
        """Hand ``lines[start:]`` to the handler, until it asks to wait (then hold the rest)."""
        take = self._handler.line
        try:
            for i in range(start, len(lines)):
                wait = take(handle, lines[i])
                if wait > 0.0:
                    if not self._closing:
                        self._hold(lines, i + 1, wait)
                    return
                if self._closing:
                    return
        except Exception:  # nothing a client sends may take the listener down
            log.exception(
                "a line from text client %s failed", self.peer,
                extra={"event": "internal_error", "peer": self.peer, "transport": "text"},
            )  # fmt: skip
            self.abort()

    def _hold(self, lines: list[bytes], start: int, wait: float) -> None:
        self._held, self._next = lines, start
        self._timer = self._loop.call_later(wait, self._resume)
        transport = self.transport
        if transport is not None and transport.is_reading():  # not when waiting again after a wait
            transport.pause_reading()

    def _resume(self) -> None:
        """The wait is over: hand on the held lines, then read again (unless told to wait again)."""
        self._timer = None
        lines, start = self._held, self._next
        self._held, self._next = [], 0
        handle = self.handle
        if handle is None or self._closing:
            return
        self._take(handle, lines, start)
        if self._timer is not None or self._closing:
            return
        if self._splitter.failed:  # the over-long line came in the read that was held
            self._too_long()
            return
        transport = self.transport
        if transport is not None and not transport.is_closing() and not self._eof and not self._waiting:
            transport.resume_reading()  # (after its EOF there is nothing to read: the loop stopped)

    def pause(self) -> None:
        """Read nothing until ``resume``: the handler cannot take this client's lines yet (a client
        of a cluster is being seated in a room of another node). Its bytes wait in the kernel."""
        self._waiting = True
        transport = self.transport
        if transport is not None and transport.is_reading():
            transport.pause_reading()

    def resume(self) -> None:
        """The handler takes lines now: read again (unless a rate wait holds reading anyway)."""
        if not self._waiting:
            return
        self._waiting = False
        transport = self.transport
        if transport is not None and not transport.is_closing() and not self._eof and self._timer is None:
            transport.resume_reading()

    def _release(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self._probe is not None:
            self._probe.cancel()
            self._probe = None
        self._held, self._next = [], 0

    # -- half-closed ---------------------------------------------------------------------------
    def _watch(self) -> None:
        """While half-closed: drop the connection if its socket failed, else look again later."""
        self._probe = None
        if self._closing:
            return
        if self._failed():
            return
        self._probe = self._loop.call_later(HALF_CLOSED_PROBE, self._watch)

    def _failed(self) -> bool:
        """Whether the half-closed socket has an error (a reset, a keepalive timeout); if so, abort.

        The loop no longer reads it, so the error waits on the socket until someone asks.
        """
        transport = self.transport
        if transport is None or transport.is_closing():
            return False  # a failed write or a close reports the loss itself
        sock = transport.get_extra_info("socket")
        if sock is None:
            return False
        try:
            error = sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
        except OSError as exc:
            error = exc.errno or -1
        if not error:
            return False
        log.debug(
            "text client %s is gone: its half-closed connection failed (errno %d)", self.peer, error,
            extra={"event": "half_closed", "peer": self.peer, "transport": "text"},
        )  # fmt: skip
        self.abort()
        return True

    def _too_long(self) -> None:
        limit = self._splitter.max_line
        log.info(
            "disconnecting text client %s: line longer than %d bytes", self.peer, limit,
            extra={"event": "refused", "peer": self.peer, "transport": "text", "reason": "line_too_long"},
        )  # fmt: skip
        self.abort()

    # -- sending -------------------------------------------------------------------------------
    def write(self, line: bytes) -> None:
        """Queue bytes for this client; they go out with everything else queued this loop turn."""
        if self._closing:
            return
        out = self._out
        if not out:
            self._flusher.mark(self)
        out.append(line)

    def flush(self) -> None:
        out = self._out
        transport = self.transport
        if not out or transport is None or transport.is_closing():
            out.clear()
            return
        self._out = []
        data = b"".join(out)
        counts = self._counts
        counts.messages_out += len(out)
        counts.bytes_out += len(data)
        if not write_bounded(transport, data, self.max_send_buffer):
            log.info(
                "disconnecting text client %s: it is not reading (send buffer full)", self.peer,
                extra={"event": "refused", "peer": self.peer, "transport": "text",
                       "reason": "send_buffer_full"},
            )  # fmt: skip
            self.ending = "send_buffer_full"
            self.abort()
        elif self._eof:  # a peer that closed answers this write with a reset: often here already
            self._failed()

    def close(self) -> None:
        """Flush and close (a text client is never told why: the protocol has no words for it)."""
        if self._closing:
            return
        self.flush()
        self._closing = True
        self._release()
        transport = self.transport
        if transport is None:
            return
        if transport.get_write_buffer_size():
            transport.abort()  # a client that is not reading would hold the connection open
        else:
            transport.close()

    def abort(self) -> None:
        """Drop the connection now, discarding anything queued."""
        self._closing = True
        self._out.clear()
        self._release()
        if self.transport is not None:
            self.transport.abort()
