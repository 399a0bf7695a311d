"""Thin asyncio transports that feed bytes to the protocol core and events to the hub."""

from .tcp import TcpConnection, WriteCoalescer

__all__ = ["TcpConnection", "WriteCoalescer"]
