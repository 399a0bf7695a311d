"""The asyncio client's reconnect loop against a scripted server: the edges a real server rarely shows."""

from __future__ import annotations

import asyncio
import contextlib
import json
import struct
from collections.abc import Awaitable, Callable
from typing import Any

from netplay.client import Client

Script = Callable[[int, asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


def frame(message: dict[str, Any]) -> bytes:
    body = json.dumps(message).encode()
    return struct.pack(">I", len(body)) + body


async def read_message(reader: asyncio.StreamReader) -> dict[str, Any]:
    size = struct.unpack(">I", await reader.readexactly(4))[0]
    return dict(json.loads(await reader.readexactly(size)))


def welcome(hello: dict[str, Any], resumed: bool) -> bytes:
    return frame(
        {
            "type": "welcome",
            "protocol": 1,
            "player": "p-1",
            "name": "x",
            "token": "t" * 32,
            "resumed": resumed,
            "rooms": [],
            "heartbeat": 5.0,
            "idle_timeout": 15.0,
            "reconnect_grace": 10.0,
            "re": hello["id"],
        }
    )


async def scripted(script: Script) -> tuple[asyncio.Server, int, list[int]]:
    """A server that runs ``script(n, ...)`` for its n-th connection (0-based)."""
    seen: list[int] = []

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        n = len(seen)
        seen.append(n)
        try:
            await script(n, reader, writer)
        except (ConnectionError, asyncio.IncompleteReadError):
            pass

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    return server, server.sockets[0].getsockname()[1], seen


async def test_a_link_that_dies_right_after_its_welcome_is_retried_not_forgotten() -> None:
    stay = asyncio.Event()

    async def script(n: int, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        hello = await read_message(reader)
        writer.write(welcome(hello, resumed=n > 0))
        if n in (0, 2):  # the first and third connections stay up
            await stay.wait()
        writer.close()  # the others die right after their welcome, in the same read

    server, port, seen = await scripted(script)
    client = await Client.connect("127.0.0.1", port)
    try:
        assert client._writer is not None
        client._writer.transport.abort()  # drop the first link
        async with asyncio.timeout(10):
            while True:  # every reconnected event until one whose link stays up
                event = await client.next_event()
                if event["type"] == "reconnected" and len(seen) >= 3:
                    break
        assert client.connected and not client.closed
        assert len(seen) == 3
    finally:
        stay.set()
        await client.close()
        server.close()


async def test_a_late_answer_on_an_abandoned_attempt_is_ignored() -> None:
    answer_late = asyncio.Event()
    late_sent = asyncio.Event()

    async def script(n: int, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        hello = await read_message(reader)
        if n == 1:  # the first reconnect attempt: no answer until the client has given up on it
            await answer_late.wait()
            writer.write(welcome(hello, resumed=True))
            writer.write(frame({"type": "error", "code": "session_replaced", "message": "m", "fatal": True}))
            with contextlib.suppress(ConnectionError):
                await writer.drain()
            writer.close()
            late_sent.set()
            return
        writer.write(welcome(hello, resumed=n > 0))
        while True:  # answer pings, so the test has a round trip to wait on
            message = await read_message(reader)
            if message["type"] == "ping" and "id" in message:
                writer.write(frame({"type": "pong", "re": message["id"]}))

    server, port, seen = await scripted(script)
    client = await Client.connect("127.0.0.1", port)
    try:
        assert client._writer is not None
        client._writer.transport.abort()
        async with asyncio.timeout(10):
            reconnected = await client.wait_for("reconnected")  # through the third connection
        assert reconnected["resumed"] is True and len(seen) == 3
        answer_late.set()  # the abandoned attempt answers now, then says its session was taken over
        async with asyncio.timeout(5):
            await late_sent.wait()
        assert (await client.request({"type": "ping"}))["type"] == "pong"  # a round trip after it
        assert [e for e in client.poll() if e["type"] in ("welcome", "error", "disconnected")] == []
        assert client.connected and not client.closed
    finally:
        await client.close()
        server.close()
