"""Clients: ``Client`` for asyncio programs, ``ThreadedClient`` for game loops."""

from .aio import Client, ConnectionClosed, NetplayError, ServersUnreachable, format_server, parse_server
from .threaded import ThreadedClient

__all__ = [
    "Client",
    "ConnectionClosed",
    "NetplayError",
    "ServersUnreachable",
    "ThreadedClient",
    "format_server",
    "parse_server",
]
