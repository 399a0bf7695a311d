"""Many relays in one read (a busy client): every one arrives, in order, as sent, from its sender."""

from __future__ import annotations

import asyncio
import json
import struct
from collections.abc import Awaitable, Callable
from typing import Any

from netplay.client import Client
from netplay.server import Server

Connect = Callable[..., Awaitable[Client]]


def wire(message: dict[str, Any] | bytes) -> bytes:
    payload = message if isinstance(message, bytes) else json.dumps(message, separators=(",", ":")).encode()
    return struct.pack(">I", len(payload)) + payload


async def read_message(reader: asyncio.StreamReader) -> dict[str, Any]:
    size = struct.unpack(">I", await reader.readexactly(4))[0]
    return json.loads(await reader.readexactly(size))


async def test_a_burst_of_relays_in_one_write_reaches_everyone_in_order(
    connect: Connect, server: Server
) -> None:
    host, other = await connect("Host"), await connect("Other")
    room = (await host.create_room("burst", kind="relay"))["room"]["id"]
    await other.join(room)
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    try:
        writer.write(wire({"type": "hello", "protocol": 1, "name": "Busy"}))
        me = (await read_message(reader))["player"]
        writer.write(wire({"type": "join_room", "room": room, "id": 1}))
        while (await read_message(reader)).get("type") != "joined":
            pass
        # 40 relays in one write, among them ones written otherwise than a client library would
        # (spaces, a key order of their own, a duplicate key) and one with an id.
        sent: list[Any] = [{"n": i, "text": "é\u2028"} for i in range(40)]
        frames = []
        for i, data in enumerate(sent):
            if i == 10:
                frames.append(
                    wire(
                        b'{ "type": "relay", "room": "%s", "data": %s }'
                        % (room.encode(), json.dumps(data).encode())
                    )
                )
            elif i == 20:
                frames.append(wire({"data": data, "room": room, "type": "relay"}))
            elif i == 25:
                frames.append(
                    wire(
                        b'{"type":"relay","room":"%s","data":0,"data":%s}'
                        % (room.encode(), json.dumps(data).encode())
                    )
                )
            elif i == 30:
                frames.append(wire({"type": "relay", "room": room, "data": data, "id": 7}))
            else:
                frames.append(wire({"type": "relay", "room": room, "data": data}))
        writer.write(b"".join(frames))
        for client in (host, other):
            got = []
            while len(got) < len(sent):
                event = await client.next_event(timeout=10)
                if event["type"] == "relay":
                    assert event["from"] == me and event["room"] == room
                    got.append(event["data"])
            assert got == sent
        ok = await read_message(reader)
        assert ok == {"type": "ok", "re": 7}
    finally:
        writer.close()
