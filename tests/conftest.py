"""Fixtures shared by every test folder: an in-process server on a free port, clients, raw peers."""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import json
import os
import shutil
import struct
import tempfile
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
from hypothesis import settings

from netplay.client import Client
from netplay.games import Game
from netplay.server import Server, ServerConfig

# Servers started by the tests keep no database unless a test asks for one (--db): nothing is
# written into the working tree, and no test resumes another test's games.
os.environ["NETPLAY_DB"] = ":memory:"
# ... and `netplay play` keeps its resumable sessions in a folder of this run, not the user's home.
os.environ["XDG_STATE_HOME"] = tempfile.mkdtemp(prefix="netplay-tests-state-")
atexit.register(shutil.rmtree, os.environ["XDG_STATE_HOME"], ignore_errors=True)  # gone with the run

# Hypothesis' per-example deadline is a timing assertion: on a loaded 2-core CI box it fails
# correct code. Tests here assert behaviour, never speed (bench/ measures speed).
settings.register_profile("netplay", deadline=None)
settings.load_profile("netplay")


async def until(check: Callable[[], Any], timeout: float = 5.0, what: str = "the condition") -> Any:
    """Wait for ``check()`` to be true (a server catching up with what a peer did), at most ``timeout`` s."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        result = check()
        if result:
            return result
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.005)


@pytest.fixture
async def make_server() -> AsyncIterator[Callable[..., Awaitable[Server]]]:
    """Start servers on free loopback ports (``bot_delay`` 0 unless given); stop them afterwards."""
    servers: list[Server] = []

    async def start(games: list[Game] | None = None, **settings: Any) -> Server:
        settings.setdefault("port", 0)
        settings.setdefault("bot_delay", 0.0)
        server = Server(ServerConfig(**settings), games)
        await server.start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        await server.stop(grace=1.0)


@pytest.fixture
async def server(make_server: Callable[..., Awaitable[Server]]) -> Server:
    """A server with default limits on a free port."""
    return await make_server()


@pytest.fixture
async def connect(server: Server) -> AsyncIterator[Callable[..., Awaitable[Client]]]:
    """Open netplay clients to ``server``; close them afterwards."""
    clients: list[Client] = []

    async def open_client(name: str | None = None, target: Server | None = None) -> Client:
        srv = target or server
        client = await Client.connect("127.0.0.1", srv.port, name=name)
        clients.append(client)
        return client

    yield open_client
    for client in clients:
        await client.close()


class RawPeer:
    """A client that speaks the wire format by hand, to send what no well-behaved client would."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer

    @classmethod
    async def open(cls, port: int) -> RawPeer:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        return cls(reader, writer)

    def send_bytes(self, data: bytes) -> None:
        self.writer.write(data)

    def send(self, message: Any) -> None:
        payload = json.dumps(message).encode()
        self.writer.write(struct.pack(">I", len(payload)) + payload)

    async def recv(self, timeout: float = 5.0) -> dict[str, Any]:
        """The next message; raise EOFError if the server closed the connection."""
        async with asyncio.timeout(timeout):
            try:
                header = await self.reader.readexactly(4)
                payload = await self.reader.readexactly(struct.unpack(">I", header)[0])
            except asyncio.IncompleteReadError:
                raise EOFError("connection closed by the server") from None
        message = json.loads(payload)
        assert isinstance(message, dict)
        return message

    async def recv_type(self, kind: str, timeout: float = 5.0) -> dict[str, Any]:
        """Skip messages until one of type ``kind``."""
        async with asyncio.timeout(timeout):
            while True:
                message = await self.recv(timeout)
                if message["type"] == kind:
                    return message

    async def sync(self, timeout: float = 5.0) -> list[dict[str, Any]]:
        """Everything the server sent before answering a ping: a barrier, since it answers in order."""
        self.send({"type": "ping", "id": "sync"})
        seen = []
        async with asyncio.timeout(timeout):
            while True:
                message = await self.recv(timeout)
                if message["type"] == "pong" and message.get("re") == "sync":
                    return seen
                seen.append(message)

    async def hello(self, name: str = "raw") -> dict[str, Any]:
        self.send({"type": "hello", "protocol": 1, "name": name, "id": 0})
        welcome = await self.recv()
        assert welcome["type"] == "welcome", welcome
        return welcome

    async def until_closed(self, timeout: float = 10.0) -> list[dict[str, Any]]:
        """Every message until the server closes the connection."""
        messages = []
        async with asyncio.timeout(timeout):
            try:
                while True:
                    messages.append(await self.recv(timeout))
            except (EOFError, ConnectionError):
                return messages

    async def closed(self, timeout: float = 5.0) -> bool:
        """Wait for the server to close the connection (reading and dropping what is left)."""
        async with asyncio.timeout(timeout):
            try:
                while await self.reader.read(65536):
                    pass
            except ConnectionError:
                pass
        return True

    async def close(self) -> None:
        self.writer.close()
        with contextlib.suppress(Exception):
            await self.writer.wait_closed()


@pytest.fixture
async def raw(server: Server) -> AsyncIterator[Callable[[], Awaitable[RawPeer]]]:
    """Open raw peers to ``server``; close them afterwards."""
    peers: list[RawPeer] = []

    async def open_peer() -> RawPeer:
        peer = await RawPeer.open(server.port)
        peers.append(peer)
        return peer

    yield open_peer
    for peer in peers:
        await peer.close()
