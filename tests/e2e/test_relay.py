"""Relay rooms: every message goes to every other member with the sender's id; joins and leaves are told."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import pytest

from netplay.client import Client, NetplayError
from netplay.server import Server

Connect = Callable[..., Awaitable[Client]]


async def test_messages_reach_every_other_member_with_the_sender_id(connect: Connect) -> None:
    a, b, c = await connect("A"), await connect("B"), await connect("C")
    room = (await a.create_room("dots", kind="relay"))["room"]["id"]
    await b.join(room)
    joined_b = await a.wait_for("member_joined")
    assert joined_b["member"] == {"id": b.id, "name": "B", "role": "member", "seat": None, "bot": None}
    entered = await c.join(room)
    assert [m["name"] for m in entered["room"]["members"]] == ["A", "B", "C"]
    await b.wait_for("member_joined")
    await a.wait_for("member_joined")

    await a.relay({"x": 1, "y": 2})
    for peer in (b, c):
        event = await peer.wait_for("relay")
        assert event == {"type": "relay", "room": room, "from": a.id, "data": {"x": 1, "y": 2}}
    # No echo to the sender: the next thing A receives is B's message, not its own.
    await b.relay("hi")
    assert (await a.wait_for("relay"))["data"] == "hi"


async def test_order_per_sender_is_kept(make_server: Callable[..., Awaitable[Server]]) -> None:
    server = await make_server(rate_limit=0)  # 500 at once: about order, not rate limits
    a = await Client.connect("127.0.0.1", server.port)
    b = await Client.connect("127.0.0.1", server.port)
    room = (await a.create_room(kind="relay"))["room"]["id"]
    await b.join(room)
    for i in range(500):
        await a.relay(i)
    got = [(await b.wait_for("relay"))["data"] for _ in range(500)]
    assert got == list(range(500))
    await a.close()
    await b.close()


async def test_leave_is_announced(connect: Connect) -> None:
    a, b = await connect("A"), await connect("B")
    room = (await a.create_room(kind="relay"))["room"]["id"]
    await b.join(room)
    await b.close()
    left = await a.wait_for("member_left")
    assert left["member"]["id"] == b.id and left["member"]["name"] == "B" and left["room"] == room


async def test_quick_match_into_a_relay_room_by_label(connect: Connect) -> None:
    a, b, c = await connect(), await connect(), await connect()
    first = await a.quick_match("dots", kind="relay")
    second = await b.quick_match("dots", kind="relay")
    other = await c.quick_match("pong", kind="relay")
    assert first["room"]["id"] == second["room"]["id"] != other["room"]["id"]


async def test_member_cap_and_wrong_room_kind(connect: Connect) -> None:
    a, b, c = await connect(), await connect(), await connect()
    room = (await a.create_room(kind="relay", max_members=2))["room"]["id"]
    await b.join(room)
    with pytest.raises(NetplayError) as full:
        await c.join(room)
    assert full.value.code == "room_full"
    match = (await c.create_room("tictactoe"))["room"]["id"]
    with pytest.raises(NetplayError) as wrong:
        await c.request({"type": "relay", "room": match, "data": 1})
    assert wrong.value.code == "wrong_room_kind"
    with pytest.raises(NetplayError) as wrong_move:
        await a.request({"type": "move", "room": room, "move": 1})
    assert wrong_move.value.code == "wrong_room_kind"
    with pytest.raises(NetplayError) as bad:
        await a.create_room(kind="relay", max_members=1)
    assert bad.value.code == "invalid_message"
