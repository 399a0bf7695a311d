"""Write coalescing shared by every transport: one write per connection per event-loop turn."""

from __future__ import annotations

import asyncio
from typing import Protocol

__all__ = ["Flushable", "WriteCoalescer", "write_bounded"]


class Flushable(Protocol):
    def flush(self) -> None:
        """Write everything queued for this connection."""


class WriteCoalescer:
    """Batches writes: every message queued for a connection during one loop turn goes out in one write.

    A broadcast to 20 members from 20 senders in the same turn costs 20 writes, not 400. A connection
    calls ``mark`` when it queues into an empty buffer; ``flush`` runs once, after the current turn's
    callbacks (all the reads of this turn) have run.
    """

    __slots__ = ("_dirty", "_loop", "_scheduled")

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._dirty: list[Flushable] = []
        self._scheduled = False

    def mark(self, connection: Flushable) -> None:
        self._dirty.append(connection)
        if not self._scheduled:
            self._scheduled = True
            self._loop.call_soon(self._flush)

    def _flush(self) -> None:
        dirty, self._dirty = self._dirty, []
        self._scheduled = False
        for connection in dirty:
            connection.flush()


def write_bounded(transport: asyncio.WriteTransport, data: bytes, limit: int) -> bool:
    """Write ``data``; False when the peer has stopped reading (the unsent bytes passed ``limit``).

    The caller cuts such a peer off: a client that never reads must never grow the server's memory.
    """
    transport.write(data)
    return transport.get_write_buffer_size() <= limit
