"""Thin asyncio transports that feed bytes to the protocol core and events to the hub."""

from .tcp import TcpConnection, WriteCoalescer
from .text import TextConnection

__all__ = ["TcpConnection", "TextConnection", "WriteCoalescer"]
