"""Quick-match across a cluster: seats are claimed in Redis, so no room is ever over-full."""

from __future__ import annotations

import asyncio
import collections

from netplay.client import Client

from .conftest import MakeNode


async def test_400_clients_quick_matching_at_once_on_3_nodes_fill_exactly_200_rooms(
    make_node: MakeNode,
) -> None:
    nodes = [await make_node(rate_limit=0) for _ in range(3)]
    clients = await asyncio.gather(
        *(Client.connect("127.0.0.1", nodes[n % 3].port, name=f"p{n}", reconnect=False) for n in range(400))
    )
    joined = await asyncio.gather(*(c.quick_match("tictactoe") for c in clients))
    rooms: collections.Counter[str] = collections.Counter(j["room"]["id"] for j in joined)
    # Every client is seated, and every room it was seated in fills: 200 rooms of 2, nobody waiting.
    starts = await asyncio.gather(
        *(c.wait_for("state", room=j["room"]["id"]) for c, j in zip(clients, joined, strict=True))
    )
    assert len(rooms) == 200 and set(rooms.values()) == {2}
    assert all(s["version"] == 1 and s["outcome"] is None for s in starts)
    # The rooms are spread over the nodes, and each names the same two players everywhere.
    owners = collections.Counter(nodes[0].cluster.directory.owner_of(r) for r in rooms)  # type: ignore[union-attr]
    assert sum(owners.values()) == 200 and len(owners) >= 2
    await asyncio.gather(*(c.close() for c in clients))


async def test_quick_match_finds_an_open_room_of_another_node_with_the_options_asked(
    make_node: MakeNode,
) -> None:
    a, b = await make_node(), await make_node()
    ann = await Client.connect("127.0.0.1", a.port, name="Ann", reconnect=False)
    bob = await Client.connect("127.0.0.1", b.port, name="Bob", reconnect=False)
    cat = await Client.connect("127.0.0.1", b.port, name="Cat", reconnect=False)
    five = await ann.create_room("pig", options={"target": 50})
    other = await cat.quick_match("pig", options={"target": 30})  # a room of its own: 30 is not 50
    assert other["room"]["id"] != five["room"]["id"]
    found = await bob.quick_match("pig", options={"target": 50})
    assert found["room"]["id"] == five["room"]["id"]
    assert [p["name"] for p in found["room"]["players"]][:2] == ["Ann", "Bob"]
    for c in (ann, bob, cat):
        await c.close()
