"""15-112 text clients in a cluster: whichever node each connects to, they share rooms with each
other and with netplay clients of every node, byte for byte, with ids unique across the cluster."""

from __future__ import annotations

import asyncio
import re
import signal

from netplay.client import Client
from netplay.server import Server
from netplay.server.rooms import RelayRoom

from ..conftest import until
from ..e2e.test_cli import Proc
from ..e2e.test_reconnect import greet
from ..e2e.test_text_protocol import TextClient
from .conftest import MakeNode, RedisProcess


async def text_node(make_node: MakeNode, **settings: object) -> Server:
    return await make_node(text_port=0, rate_limit=0, **settings)


async def greeted(server: Server, *others: str) -> TextClient:
    """A text client of ``server`` that has read its greeting (``newPlayer`` for ``others`` first)."""
    assert server.text_port is not None
    client = await TextClient.open(server.text_port)
    await client.greet(*others)
    return client


async def test_text_clients_of_two_nodes_share_a_room_byte_for_byte_in_order(make_node: MakeNode) -> None:
    a, b = await text_node(make_node), await text_node(make_node)
    ann = await greeted(a)
    bob = await greeted(b, ann.id)  # on the other node, in the same room
    assert ann.id != bob.id
    await ann.expect(f"newPlayer {bob.id}\n".encode())
    await ann.send(b"playerMoved 5 0\n")
    await bob.expect(f"playerMoved {ann.id} 5 0\n".encode())
    await bob.send(b"playerTeleported 100  200 \r\n", piece=3)
    await ann.expect(f"playerTeleported {bob.id} 100  200 \r\n".encode())
    # Many lines at once cross the nodes each once, in the order sent.
    await ann.send(b"".join(b"step %d\n" % k for k in range(300)))
    await ann.send(b"marker end\n")
    await bob.expect(
        *(f"step {ann.id} {k}\n".encode() for k in range(300)), f"marker {ann.id} end\n".encode()
    )
    await ann.close()
    await bob.close()


async def test_lines_sent_before_the_greeting_wait_for_the_seat_and_none_is_lost(make_node: MakeNode) -> None:
    a, b = await text_node(make_node), await text_node(make_node)
    ann = await greeted(a)
    assert b.text_port is not None
    eager = await TextClient.open(b.text_port)
    await eager.send(b"".join(b"early %d\n" % k for k in range(50)))  # before it is seated
    mine = await eager.greet(ann.id)
    await ann.expect(f"newPlayer {mine}\n".encode(), *(f"early {mine} {k}\n".encode() for k in range(50)))
    await ann.close()
    await eager.close()


async def test_a_text_client_of_one_node_and_a_netplay_client_of_another_share_a_room(
    make_node: MakeNode,
) -> None:
    a, b = await text_node(make_node), await text_node(make_node)
    text = await greeted(a)
    net = await Client.connect("127.0.0.1", b.port, name="net", reconnect=False)
    joined = await net.quick_match("15-112", kind="relay")
    assert [m["id"] for m in joined["room"]["members"]] == [text.id, net.id]
    await text.expect(f"newPlayer {net.id}\n".encode())
    await net.relay({"instr": "playerMoved", "details": "5 0"})
    await net.relay("playerTeleported 1 2")
    await text.expect(f"playerMoved {net.id} 5 0\n".encode(), f"playerTeleported {net.id} 1 2\n".encode())
    await text.send(b"playerMoved  -5 0\n")
    event = await net.wait_for("relay")
    assert (event["from"], event["data"]) == (
        text.id,
        {"instr": "playerMoved", "details": " -5 0", "line": "playerMoved  -5 0"},
    )
    # A text client that comes later, through the netplay client's node, joins them both.
    later = await greeted(b, text.id, net.id)
    await text.expect(f"newPlayer {later.id}\n".encode())
    assert (await net.wait_for("member_joined"))["member"]["id"] == later.id
    await later.close()
    assert (await net.wait_for("member_left"))["member"]["id"] == later.id
    await net.close()
    await text.close()


async def test_text_clients_spread_over_three_nodes_fill_rooms_of_text_room_size(make_node: MakeNode) -> None:
    """Seats are claimed in Redis: 12 clients at once over 3 nodes make exactly 3 full rooms of 4."""
    nodes = [await text_node(make_node, text_room_size=4) for _ in range(3)]
    clients = [await TextClient.open(nodes[n % 3].text_port or 0) for n in range(12)]
    greetings = await asyncio.gather(*(_greeting(c) for c in clients))
    ids = [mine for mine, _ in greetings]
    assert len(set(ids)) == 12
    # Each client hears of every other member of its room: those before it in its greeting, the
    # rest as newPlayer lines.
    known = {}
    for client, (mine, before) in zip(clients, greetings, strict=True):
        later = [await _new_player(client) for _ in range(3 - len(before))]
        known[mine] = frozenset([mine, *before, *later])
    rooms = set(known.values())
    assert len(rooms) == 3 and all(len(room) == 4 for room in rooms)
    assert all(known[member] == room for room in rooms for member in room)
    lobby = await Client.connect("127.0.0.1", nodes[1].port, reconnect=False)
    listed = await lobby.list_rooms("15-112")
    assert sorted(frozenset(m["id"] for m in r["members"]) for r in listed) == sorted(rooms, key=sorted)
    await lobby.close()
    await asyncio.gather(*(c.close() for c in clients))


async def _greeting(client: TextClient) -> tuple[str, list[str]]:
    """The client's greeting: its id, and the members it names before it (in join order)."""
    before = []
    while True:
        line = await client.line(timeout=10)
        if line.startswith(b"myIDis "):
            match = re.fullmatch(rb"myIDis (\S+) \n", line)
            assert match is not None, line
            return match.group(1).decode(), before
        match = re.fullmatch(rb"newPlayer (\S+)\n", line)
        assert match is not None, line
        before.append(match.group(1).decode())


async def _new_player(client: TextClient) -> str:
    match = re.fullmatch(rb"newPlayer (\S+)\n", await client.line(timeout=10))
    assert match is not None
    return match.group(1).decode()


async def test_clients_gone_before_they_are_seated_leave_nobody_behind(
    make_node: MakeNode, redis_server: RedisProcess
) -> None:
    """Text and netplay clients that leave while their seats are being claimed (Redis held still
    meanwhile) leave no member in a room, and no room made for them stays behind."""
    a, b = await text_node(make_node), await text_node(make_node)
    first = await greeted(a)
    (room,) = a.hub.rooms.values()
    assert isinstance(room, RelayRoom) and a.text_port is not None and b.text_port is not None
    quitters = [(await greet(node.port, "quitter"))[0] for node in (a, b, a, b)]
    redis_server.process.send_signal(signal.SIGSTOP)  # every claim waits for Redis
    try:
        for node, net in zip((a, b, a, b), quitters, strict=True):
            assert node.text_port is not None
            text = await TextClient.open(node.text_port)  # its node reads nothing until it is seated
            await text.close()
            net.send({"type": "quick_match", "kind": "relay", "game": "15-112", "id": 1})
            await net.close()
        await until(
            lambda: a.hub.connections == 3 and b.hub.connections == 2, 10, "the netplay quitters gone"
        )
    finally:
        redis_server.process.send_signal(signal.SIGCONT)
    nodes = [n.cluster.node for n in (a, b) if n.cluster is not None]
    await until(lambda: a.hub.connections == 1 and b.hub.connections == 0, 10, "the text quitters gone")
    await until(lambda: not any(n and n.busy for n in nodes), 10, "the claims answered")
    await until(lambda: set(room.members) == {first.id}, 10, "nobody but the first in the room")
    assert list(a.hub.rooms.values()) == [room] and not b.hub.rooms  # no room made for a quitter
    last = await greeted(b, first.id)  # names nobody but the first
    await first.send(b"marker first\n")
    await last.expect(f"marker {first.id} first\n".encode())
    assert set(room.members) == {first.id, last.id}
    await first.close()
    await last.close()


async def test_a_names_list_is_refused_in_a_cluster() -> None:
    proc = await Proc.start(
        "serve", "--port", "0", "--redis", "redis://127.0.0.1:1/0", "--text-port", "0", "--text-names", "a,b"
    )
    status, output = await proc.finish()
    assert status == 2 and "--text-names cannot be used with --redis" in output
