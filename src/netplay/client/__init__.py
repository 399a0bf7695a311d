"""Clients: ``Client`` for asyncio programs, ``ThreadedClient`` for game loops."""

from .aio import Client, ConnectionClosed, NetplayError
from .threaded import ThreadedClient

__all__ = ["Client", "ConnectionClosed", "NetplayError", "ThreadedClient"]
