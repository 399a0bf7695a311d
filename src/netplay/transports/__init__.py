"""Thin asyncio transports that feed bytes to the protocol core and events to the hub."""

from .coalesce import WriteCoalescer
from .tcp import TcpConnection
from .text import TextConnection

__all__ = ["TcpConnection", "TextConnection", "WriteCoalescer"]
