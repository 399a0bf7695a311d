"""Any node, any room: clients of two nodes of one cluster (a real redis-server) share rooms."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from websockets.asyncio.client import connect

from netplay.client import Client, NetplayError
from netplay.server import Server

from ..conftest import until
from .conftest import MakeNode


async def client(node: Server, name: str) -> Client:
    return await Client.connect("127.0.0.1", node.port, name=name, reconnect=False)


async def play_tictactoe(x: Client, o: Client, room: str) -> dict[str, Any]:
    """Play a game to its end, X taking the first free cell each turn; the final state X sees."""
    players = {0: x, 1: o}
    state = await x.wait_for("state", room=room)
    await o.wait_for("state", room=room)
    while state["outcome"] is None:
        mover = players[state["turn"]]
        await mover.move(state["state"]["board"].index(None), room=room, version=state["version"])
        state = await x.wait_for("state", room=room, version=state["version"] + 1)
        await o.wait_for("state", room=room, version=state["version"])
    return state


async def test_every_node_lists_every_room_and_joins_any(make_node: MakeNode) -> None:
    a, b = await make_node(), await make_node()
    ann, bob = await client(a, "Ann"), await client(b, "Bob")
    made = await ann.create_room("tictactoe")
    room = made["room"]["id"]
    # The reply comes once Redis has the room: the other node finds it at once by id ...
    joined = await bob.join(room)
    assert joined["room"]["id"] == room and [p["name"] for p in joined["room"]["players"]] == ["Ann", "Bob"]
    # ... and lists it (its mirror of the directory follows within moments).
    listed = await until(lambda: b.cluster and b.cluster.directory.get(room))
    assert listed.listing["players"][1]["name"] == "Bob"
    rooms = {r["id"]: r for r in await bob.list_rooms()}
    assert rooms[room]["game"] == "tictactoe" and rooms[room]["status"] == "playing"
    final = await play_tictactoe(ann, bob, room)
    assert final["outcome"]["winner"] == 0  # X, first free cell every turn, wins on the diagonal
    await ann.close()
    await bob.close()


async def test_a_private_code_resolves_on_every_node(make_node: MakeNode) -> None:
    a, b = await make_node(), await make_node()
    ann, bob, eve = await client(a, "Ann"), await client(b, "Bob"), await client(b, "Eve")
    made = await ann.create_room("connect4", private=True)
    with pytest.raises(NetplayError) as refused:
        await eve.join(made["room"]["id"])
    assert refused.value.code == "wrong_code"  # the owner's answer, as on one process
    joined = await bob.join(code=made["code"].lower())
    assert joined["room"]["id"] == made["room"]["id"]
    for c in (ann, bob, eve):
        await c.close()


async def test_errors_from_another_nodes_room_are_the_ones_one_process_gives(make_node: MakeNode) -> None:
    a, b = await make_node(), await make_node()
    ann, bob = await client(a, "Ann"), await client(b, "Bob")
    room = (await ann.create_room("tictactoe"))["room"]["id"]
    await bob.join(room)
    state = await bob.wait_for("state", room=room)
    await bob.move(4, room=room, version=state["version"])  # Bob is O: not his turn
    error = await bob.wait_for("error")
    assert error["code"] == "not_your_turn"
    with pytest.raises(NetplayError) as twice:
        await bob.join(room)
    assert twice.value.code == "already_in_room"
    await bob.leave(room)
    left = await ann.wait_for("member_left", room=room)
    assert left["member"]["name"] == "Bob"
    with pytest.raises(NetplayError) as gone:
        await bob.resign(room)
    assert gone.value.code == "not_in_room"  # his home node forgot the room when he left it
    await ann.close()
    await bob.close()


async def test_a_spectator_on_another_node_watches(make_node: MakeNode) -> None:
    a, b = await make_node(), await make_node()
    ann, bob, cat = await client(a, "Ann"), await client(a, "Bob"), await client(b, "Cat")
    room = (await ann.create_room("tictactoe"))["room"]["id"]
    await bob.join(room)
    watching = await cat.join(room, spectate=True)
    assert watching["role"] == "spectator"
    final = await play_tictactoe(ann, bob, room)
    seen = await cat.wait_for("state", room=room, version=final["version"])
    assert seen["outcome"] == final["outcome"] and seen["state"] == final["state"]
    for c in (ann, bob, cat):
        await c.close()


async def test_a_browser_on_one_node_plays_a_tcp_client_of_another(make_node: MakeNode) -> None:
    """Every kind of client works through any node: a WebSocket (the web page's) against TCP."""
    a, b = await make_node(), await make_node()
    ann = await client(a, "Ann")
    room = (await ann.create_room("tictactoe"))["room"]["id"]
    async with connect(f"ws://127.0.0.1:{b.port}/ws") as ws:

        async def recv(kind: str) -> dict[str, Any]:
            while True:
                message = json.loads(await asyncio.wait_for(ws.recv(), 5))
                if message["type"] == kind:
                    return dict(message)

        await ws.send(json.dumps({"type": "hello", "protocol": 1, "name": "Web", "id": 0}))
        assert (await recv("welcome"))["node"] == "node2"
        await ws.send(json.dumps({"type": "join_room", "room": room, "id": 1}))
        assert (await recv("joined"))["seat"] == 1
        state = await ann.wait_for("state", room=room)
        await ann.move(4, room=room, version=state["version"])
        seen = await recv("state")
        while seen["version"] < 2:
            seen = await recv("state")
        await ws.send(json.dumps({"type": "move", "room": room, "move": 0, "version": 2, "id": 2}))
        after = await ann.wait_for("state", room=room, version=3)
        assert after["state"]["board"][0] == "O" and after["players"][1]["name"] == "Web"
    await ann.close()
