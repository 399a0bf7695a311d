"""netplay's own protocol over TCP: length-prefixed JSON frames, with coalesced, bounded writes."""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, cast

from ..protocol import ProtocolError, ServerConnection
from ..protocol.outgoing import Outgoing
from .coalesce import WriteCoalescer, write_bounded

if TYPE_CHECKING:
    from ..server.hub import Hub
    from ..server.session import Session

__all__ = ["TcpConnection", "WriteCoalescer"]

log = logging.getLogger("netplay.tcp")


class TcpConnection(asyncio.Protocol):
    """One TCP client: decodes frames into protocol events for the hub; implements the session Link."""

    __slots__ = ("_closing", "_coalescer", "_hub", "_out", "conn", "peer", "session", "transport")

    def __init__(self, hub: Hub, coalescer: WriteCoalescer) -> None:
        self._hub = hub
        self._coalescer = coalescer
        self._out: list[bytes] = []
        self._closing = False
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
        self.session = self._hub.connect(self)

    def data_received(self, data: bytes) -> None:
        if self.session is None or self._closing:
            return
        hub = self._hub
        events = self.conn.receive_data(data)
        if events:  # a partial frame is not a sign of life: only complete messages count
            hub.heard_from(self.session)
        receive = hub.receive
        for event in events:
            session = self.session  # a hello that resumes a session rebinds it mid-read
            if session is None:
                break
            receive(session, event)
            if self._closing:
                break

    def eof_received(self) -> bool:
        return False  # close our side too

    def connection_lost(self, exc: Exception | None) -> None:
        self._closing = True
        self._out.clear()
        self.conn.close()
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
        queued.append(out.framed or out.frame())  # a broadcast's first recipient frames it for all

    def flush(self) -> None:
        out = self._out
        transport = self.transport
        if not out or transport is None or transport.is_closing():
            out.clear()
            return
        self._out = []
        if not write_bounded(transport, b"".join(out), self._hub.config.max_send_buffer):
            log.info("disconnecting %s: it is not reading (send buffer full)", self.peer)
            self.abort()

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

    def abort(self) -> None:
        self._closing = True
        self._out.clear()
        if self.transport is not None:
            self.transport.abort()
