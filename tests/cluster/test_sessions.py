"""A client of one node in another node's room: dropping, coming back, leaving for good."""

from __future__ import annotations

from ..e2e.test_reconnect import greet
from .conftest import MakeNode

__all__ = ["greet"]  # the other cluster tests greet through it too


async def test_a_player_of_another_node_drops_and_resumes_its_seat(make_node: MakeNode) -> None:
    a, b = await make_node(), await make_node()
    ann, _ = await greet(a.port, "Ann")
    bob, wb = await greet(b.port, "Bob")
    ann.send({"type": "create_room", "game": "tictactoe", "id": 1})
    room = (await ann.recv_type("joined"))["room"]["id"]
    bob.send({"type": "join_room", "room": room, "id": 1})
    assert (await bob.recv_type("joined"))["seat"] == 1
    state = await ann.recv_type("state")
    ann.send({"type": "move", "room": room, "move": 4, "version": state["version"]})
    await bob.recv_type("state")
    await bob.close()  # no goodbye: Bob's node keeps his seat for the grace period, and says so
    away = await ann.recv_type("member_disconnected")
    assert away["member"]["name"] == "Bob" and away["member"]["seat"] == 1

    bob2, welcome = await greet(b.port, "ignored", token=wb["token"])
    assert welcome["resumed"] is True and welcome["rooms"] == [room]
    joined = await bob2.recv_type("joined")
    assert joined["resumed"] is True and joined["seat"] == 1
    current = await bob2.recv_type("state")
    assert current["state"]["board"][4] == "X" and current["turn"] == 1
    assert (await ann.recv_type("member_reconnected"))["member"]["name"] == "Bob"
    bob2.send({"type": "move", "room": room, "move": 0, "version": current["version"]})
    assert (await ann.recv_type("state"))["state"]["board"][0] == "O"


async def test_when_the_grace_period_ends_the_game_on_the_other_node_is_forfeited(
    make_node: MakeNode,
) -> None:
    a, b = await make_node(), await make_node(reconnect_grace=0.3)
    ann, _ = await greet(a.port, "Ann")
    bob, _ = await greet(b.port, "Bob")
    ann.send({"type": "create_room", "game": "tictactoe", "id": 1})
    room = (await ann.recv_type("joined"))["room"]["id"]
    bob.send({"type": "join_room", "room": room, "id": 1})
    await bob.recv_type("joined")  # his node knows he is in the room before he drops
    await ann.recv_type("state")
    await bob.close()
    await ann.recv_type("member_disconnected")
    final = await ann.recv_type("state", timeout=5)  # Bob's node gives up his seat: he forfeits
    assert final["outcome"]["winner"] == 0 and final["outcome"]["reason"] == "forfeit"


async def test_bye_leaves_the_rooms_of_every_node(make_node: MakeNode) -> None:
    a, b = await make_node(), await make_node()
    ann, _ = await greet(a.port, "Ann")
    bob, _ = await greet(b.port, "Bob")
    ann.send({"type": "create_room", "kind": "relay", "game": "chat", "id": 1})
    room = (await ann.recv_type("joined"))["room"]["id"]
    bob.send({"type": "join_room", "room": room, "id": 1})
    await ann.recv_type("member_joined")
    bob.send({"type": "bye", "id": 2})
    left = await ann.recv_type("member_left")
    assert left["member"]["name"] == "Bob"
    assert a.cluster is not None and a.cluster.node is not None and a.cluster.node.guests == {}


async def test_a_token_of_one_node_resumes_on_another(make_node: MakeNode) -> None:
    a, b, c = await make_node(), await make_node(), await make_node()
    ann, _ = await greet(a.port, "Ann")
    bob, wb = await greet(b.port, "Bob")
    cat, _ = await greet(c.port, "Cat")
    ann.send({"type": "create_room", "game": "tictactoe", "id": 1})
    game = (await ann.recv_type("joined"))["room"]["id"]
    cat.send({"type": "create_room", "kind": "relay", "game": "chat", "id": 1})
    chat = (await cat.recv_type("joined"))["room"]["id"]
    bob.send({"type": "join_room", "room": game, "id": 2})
    await bob.recv_type("joined")
    bob.send({"type": "join_room", "room": chat, "id": 3})
    await bob.recv_type("joined")
    state = await ann.recv_type("state")
    await bob.close()  # Bob's node B keeps him; he comes back through node C (a load balancer's pick)
    await ann.recv_type("member_disconnected")
    bob2, welcome = await greet(c.port, "ignored", token=wb["token"])
    assert welcome["resumed"] is True and welcome["player"] == wb["player"] and welcome["name"] == "Bob"
    assert welcome["rooms"] == sorted([game, chat]) and welcome["node"] == "node3"
    rejoined = {(await bob2.recv_type("joined"))["room"]["id"] for _ in range(2)}
    assert rejoined == {game, chat}
    assert (await ann.recv_type("member_reconnected"))["member"]["name"] == "Bob"
    ann.send({"type": "move", "room": game, "move": 4, "version": state["version"]})
    moved = await bob2.recv_type("state")
    while moved["version"] == state["version"]:  # the state sent on resuming, then Ann's move
        moved = await bob2.recv_type("state")
    bob2.send({"type": "move", "room": game, "move": 0, "version": moved["version"]})
    after = await ann.recv_type("state")
    while after["version"] <= moved["version"]:  # Ann's own move's state first
        after = await ann.recv_type("state")
    assert after["state"]["board"][:5] == ["O", None, None, None, "X"]
    bob2.send({"type": "relay", "room": chat, "data": "back", "id": 9})
    assert (await cat.recv_type("relay"))["data"] == "back"
    # The token is node C's now: yet another reconnect, through node A, resumes it again.
    await bob2.close()
    bob3, again = await greet(a.port, "ignored", token=wb["token"])
    assert again["resumed"] is True and again["rooms"] == sorted([game, chat])
    assert {(await bob3.recv_type("joined"))["room"]["id"] for _ in range(2)} == {game, chat}


async def test_a_second_connection_through_another_node_takes_the_session_over(make_node: MakeNode) -> None:
    a, b = await make_node(), await make_node()
    ann, _ = await greet(a.port, "Ann")
    bob, wb = await greet(b.port, "Bob")
    ann.send({"type": "create_room", "game": "tictactoe", "id": 1})
    room = (await ann.recv_type("joined"))["room"]["id"]
    bob.send({"type": "join_room", "room": room, "id": 1})
    await bob.recv_type("joined")
    await ann.recv_type("state")
    newer, welcome = await greet(a.port, "ignored", token=wb["token"])  # Bob's old link is half-open
    assert welcome["resumed"] is True and welcome["rooms"] == [room]
    replaced = await bob.recv_type("error")
    assert replaced["code"] == "session_replaced" and replaced["fatal"] is True
    assert await bob.closed()
    assert (await newer.recv_type("joined"))["resumed"] is True
    state = await newer.recv_type("state")
    assert state["turn"] == 0 and state["players"][1]["connected"] is True
    # He was never away: nobody was told he left or came back.
    ann.send({"type": "ping", "id": "sync"})
    seen = await ann.sync()
    assert not [m for m in seen if m["type"] in ("member_disconnected", "member_reconnected")]
