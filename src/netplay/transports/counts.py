"""What one transport's connections have received and sent, for ``/metrics`` (server/metrics.py)."""

from __future__ import annotations

__all__ = ["TransportCounts"]


class TransportCounts:
    """Messages and bytes in and out. Each connection holds its transport's one, so counting on the
    hot path is an attribute add per read and per write."""

    __slots__ = ("bytes_in", "bytes_out", "messages_in", "messages_out")

    def __init__(self) -> None:
        self.messages_in = self.messages_out = self.bytes_in = self.bytes_out = 0
