"""netplay's own protocol over TCP: length-prefixed JSON frames, with coalesced, bounded writes.

Backpressure both ways. A peer that stops reading is cut off once its unsent output passes
``max_send_buffer``. And a reply is never built faster than its reader takes it: while a
connection's unsent output (queued this turn plus the transport's buffer) is over 64 KiB (or half
``max_send_buffer``), the requests it has sent are held, unread, and the socket is not read any more
(``pause_reading``), until the transport drains (``resume_writing``). So one connection that sends
400 ``list_rooms`` in one write and never reads gets what the kernel's socket buffer takes plus
64 KiB of replies built, a few per loop turn, not 400; every other connection goes on being served.

And a byte rate (``byte_rate``, ``byte_burst``; ``pacing.ByteBudget``): a connection that sends
faster is not read from until it is back within its rate, so one relay member sending megabytes a
second is slowed down by TCP instead of filling every other member's send buffer. On the hot path
it costs one subtraction and one comparison per read.

Each socket holds one of the server's connection slots (``server.gate``) from the moment it is
accepted; one over a limit is told ``server_full`` and closed.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Any, cast

from ..protocol import ErrorCode, ProtocolError, ServerConnection
from ..protocol.outgoing import Outgoing, OutgoingRun
from .coalesce import WriteCoalescer, write_bounded
from .pacing import ByteBudget, ReadPacer

if TYPE_CHECKING:
    from ..server.gate import ConnectionGate
    from ..server.hub import Hub
    from ..server.session import Session

__all__ = ["SERVER_FULL", "TcpConnection", "WriteCoalescer"]

log = logging.getLogger("netplay.tcp")

#: Unsent output past which a connection's requests wait unread (or half ``max_send_buffer``, if
#: less). Small, so that a connection asking for big replies it does not read gets a few of them
#: built per loop turn, between everyone else's work, never a burst of them.
_REPLY_BUDGET = 64 * 1024
#: What a netplay client over a connection limit is told, as a frame, before it is closed.
SERVER_FULL = Outgoing(
    ProtocolError(ErrorCode.SERVER_FULL, "the server is full; try again later", fatal=True).to_message()
).frame()


class TcpConnection(asyncio.Protocol):
    """One TCP client: decodes frames into protocol events for the hub; implements the session Link."""

    kind = "tcp"
    __slots__ = (
        "_allowance",
        "_backed_up",
        "_closing",
        "_coalescer",
        "_counts",
        "_gate",
        "_held",
        "_hub",
        "_out",
        "_pacer",
        "_queued",
        "_reply_limit",
        "conn",
        "peer",
        "session",
        "transport",
    )

    def __init__(self, hub: Hub, coalescer: WriteCoalescer, gate: ConnectionGate | None = None) -> None:
        self._hub = hub
        self._coalescer = coalescer
        self._gate = gate
        config = hub.config
        #: The byte-rate limit: bytes that may be read before the pacer is asked again (kept here,
        #: so that a read costs a subtraction and a comparison), and the pacer.
        self._allowance = ByteBudget.initial(config.byte_rate, config.byte_burst)
        self._pacer: ReadPacer | None = None  # made when the first allowance runs out
        self._out: list[bytes] = []
        self._queued = 0  # bytes in _out
        self._backed_up = False  # the transport's own buffer is over the reply limit
        self._held: list[Any] = []  # events read but not handled: waiting for the peer to read
        self._reply_limit = min(hub.config.max_send_buffer // 2, _REPLY_BUDGET)
        self._closing = False
        self._counts = hub.stats.tcp
        self.conn = ServerConnection(hub.config.max_frame)
        self.peer = "?"
        self.transport: asyncio.Transport | None = None
        self.session: Session | None = None

    # -- asyncio.Protocol ----------------------------------------------------------------------
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's are not subclasses
        peername = self.transport.get_extra_info("peername")
        self.peer = f"{peername[0]}:{peername[1]}" if peername else "?"
        if self._hub.closing:
            self.transport.abort()
            return
        if self._gate is not None and not self._gate.admit(self.transport):
            self._closing = True
            self.transport.write(SERVER_FULL)
            self.transport.close()
            return
        self.session = self._hub.connect(self)
        # resume_writing is called once the transport's buffer is back under a quarter of the limit
        self.transport.set_write_buffer_limits(high=self._reply_limit, low=self._reply_limit // 2)

    def data_received(self, data: bytes) -> None:
        size = len(data)
        self._allowance -= size
        if self._allowance < 0:  # past the byte rate: this read is handled, the next ones wait
            self._overdrawn()
        if self.session is None or self._closing:
            return
        hub = self._hub
        events = self.conn.receive_data(data)
        counts = self._counts
        counts.bytes_in += size
        if events:  # a partial frame is not a sign of life: only complete messages count
            counts.messages_in += len(events)
            hub.heard_from(self.session)
        if self._held:  # still waiting for the peer to read: these wait behind the others
            self._held.extend(events)
            return
        self._handle(events, 0)

    def _handle(self, events: list[Any], start: int) -> None:
        """Hand ``events[start:]`` to the hub in order, holding the rest once the output backs up."""
        receive = self._hub.receive
        limit = self._reply_limit
        for n in range(start, len(events)):
            session = self.session  # a hello that resumes a session rebinds it mid-read
            if session is None or self._closing:
                return
            if self._queued > limit or self._backed_up:  # its replies are not read: make no more
                self._held = events[n:]
                if self.transport is not None:
                    self.transport.pause_reading()
                return
            receive(session, events[n])

    def pause_writing(self) -> None:
        """The transport's buffer passed the reply limit (``set_write_buffer_limits``)."""
        self._backed_up = True

    def resume_writing(self) -> None:
        """The peer has read: handle what was held, and read from it again if it all went."""
        self._backed_up = False
        held, self._held = self._held, []
        if held and not self._closing:
            self._handle(held, 0)
        if not self._held and not self._closing and not self._paused() and self.transport is not None:
            self.transport.resume_reading()

    # -- the byte rate -------------------------------------------------------------------------
    def _overdrawn(self) -> None:
        """The read allowance ran out: the next one, or a pause (``pacing.ReadPacer``)."""
        pacer = self._pacer
        if pacer is None:
            config = self._hub.config
            pacer = self._pacer = ReadPacer(self._hub.loop, config.byte_rate, config.byte_burst, self._unpace)
        self._allowance = pacer.overdrawn(self._allowance, self.transport)

    def _paused(self) -> bool:
        return self._pacer is not None and self._pacer.paused

    def _unpace(self) -> None:
        """The pause for the byte rate is over: read again (unless replies are still held)."""
        if self._closing:
            return
        self._overdrawn()
        if not self._paused() and not self._held and self.transport is not None:
            self.transport.resume_reading()

    def eof_received(self) -> bool:
        return False  # close our side too

    def connection_lost(self, exc: Exception | None) -> None:
        self._closing = True
        self._out.clear()
        self._held = []
        if self._pacer is not None:
            self._pacer.cancel()
        self.conn.close()
        if self._gate is not None and self.transport is not None:
            self._gate.release(self.transport)  # before the hub tells anyone: the slot is free
        if self.session is not None:
            self._hub.disconnect(self.session, self)

    # -- Link ----------------------------------------------------------------------------------
    def rebind(self, session: Session | None) -> None:
        self.session = session

    def send(self, out: Outgoing) -> None:
        if self._closing:
            return
        queued = self._out
        if not queued:
            self._coalescer.mark(self)
        framed = out.framed or out.frame()  # a broadcast's first recipient frames it for all
        queued.append(framed)
        self._queued += len(framed)

    def send_run(self, run: OutgoingRun) -> None:
        if self._closing:
            return
        queued = self._out
        if not queued:
            self._coalescer.mark(self)
        framed = run.framed or run.frame()  # every frame of the run, joined once for all its links
        queued.append(framed)
        self._queued += len(framed)
        self._counts.messages_out += run.count - 1  # flush counts the one item it is

    def flush(self) -> None:
        out = self._out
        transport = self.transport
        if not out or transport is None or transport.is_closing():
            out.clear()
            self._queued = 0
            return
        self._out = []
        self._queued = 0
        data = b"".join(out)
        counts = self._counts
        counts.messages_out += len(out)
        counts.bytes_out += len(data)
        if not write_bounded(transport, data, self._hub.config.max_send_buffer):
            log.info(
                "disconnecting %s: it is not reading (send buffer full)", self.peer,
                extra={"event": "refused", "peer": self.peer, "transport": "tcp",
                       "reason": "send_buffer_full",
                       "player": self.session.id if self.session is not None else None},
            )  # fmt: skip
            if self.session is not None:
                self.session.ending = "send_buffer_full"
            self.abort()
        elif self._held and not self._backed_up:
            # The transport took it without passing its limit, so it will not call resume_writing:
            # go on with the held requests next turn (a few replies' worth a turn, between others).
            self._hub.loop.call_soon(self.resume_writing)

    def close(self, error: ProtocolError | None = None) -> None:
        if self._closing:
            return
        if error is not None:
            self.send(Outgoing(error.to_message()))
        self.flush()
        self._closing = True
        self.conn.close()
        if self.transport is not None:
            self.transport.close()

    def backlog(self) -> int:
        transport = self.transport
        return self._queued + (0 if transport is None else transport.get_write_buffer_size())

    def abort(self) -> None:
        self._closing = True
        self._out.clear()
        self._queued = 0
        if self.transport is not None:
            self.transport.abort()
