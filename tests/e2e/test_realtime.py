"""Real-time rooms over real sockets: Pong and the arena played to the end by clients and server
bots, spectators, the lobby, deltas and keyframes on the wire, and bad inputs refused and counted
while other rooms tick on."""

from __future__ import annotations

import asyncio
import json
import random
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from netplay.client import Client, NetplayError
from netplay.games.pong import Pong
from netplay.protocol import delta
from netplay.server import Server

from ..conftest import RawPeer
from .test_cli import Proc

Connect = Callable[..., Awaitable[Client]]
MakeServer = Callable[..., Awaitable[Server]]
PONG = Pong()


async def play_until_over(client: Client, room: str, rng: random.Random, *, timeout: float = 120.0) -> Any:
    """Let Pong's bot drive ``client`` once per view until the game is over; the final view."""
    view = client.view(room)
    bot = PONG.bots["simple"]
    last = None
    while view.status != "finished":
        view = await client.next_view(room, timeout=timeout)
        if view.status != "playing" or view.seat is None:
            continue
        data = bot(PONG, view.view, view.seat, rng)
        if data is not None and data != last:
            client.send_input(data, room)
            last = data
    return view


async def test_two_players_and_a_spectator_see_pong_to_the_same_end(connect: Connect) -> None:
    ann, bob, cat = await connect("Ann"), await connect("Bob"), await connect("Cat")
    for client in (ann, bob):
        client.predict_with(PONG)
    joined = await ann.create_room("pong", private=True, options={"points": 1})
    room = joined["room"]["id"]
    assert joined["room"]["kind"] == "realtime" and joined["room"]["tick_rate"] == 30
    await bob.join(code=joined["code"])
    await cat.join(code=joined["code"], spectate=True)
    first = await cat.wait_for("keyframe")
    assert first["tick"] == 0 and first["status"] == "playing" and "seat" not in first
    assert [p["name"] for p in first["players"]] == ["Ann", "Bob"]
    rng = random.Random(7)
    ann_view, bob_view = await asyncio.gather(
        play_until_over(ann, room, rng), play_until_over(bob, room, random.Random(8))
    )
    cat_view = cat.view(room)
    while cat_view.status != "finished":
        cat_view = await cat.next_view(room)
    assert ann_view.outcome == bob_view.outcome == cat_view.outcome
    assert ann_view.outcome["winner"] in (0, 1) and ann_view.outcome["reason"] == "rules"
    assert ann_view.view == bob_view.view == cat_view.view
    assert max(ann_view.view["score"]) == 1
    # Each client kept its copy by patches, checked by the server's hash at every step.
    assert ann_view.patches > 10 and ann_view.diverged == 0 and cat_view.diverged == 0


async def test_quick_match_pairs_two_players_and_the_lobby_lists_the_room(connect: Connect) -> None:
    ann, bob, cat = await connect("Ann"), await connect("Bob"), await connect("Cat")
    joined = await ann.quick_match("pong")
    assert joined["room"]["kind"] == "realtime" and joined["room"]["status"] == "waiting"
    (listed,) = [r for r in await cat.list_rooms("pong") if r["id"] == joined["room"]["id"]]
    assert listed["free_seats"] == 1 and listed["tick_rate"] == 30 and listed["patch_rate"] == 20
    again = await bob.quick_match("pong")
    assert again["room"]["id"] == joined["room"]["id"] and again["seat"] == 1
    keyframe = await bob.wait_for("keyframe")
    assert keyframe["seat"] == 1 and keyframe["ack"] == -1
    (playing,) = [r for r in await cat.list_rooms("pong") if r["id"] == joined["room"]["id"]]
    assert playing["status"] == "playing" and playing["free_seats"] == 0
    third = await cat.quick_match("pong")  # the full room is not offered: a new one
    assert third["room"]["id"] != joined["room"]["id"]


async def test_quick_match_with_options_meets_only_rooms_made_with_them(connect: Connect) -> None:
    ann, bob, cat, dan = [await connect(name) for name in ("Ann", "Bob", "Cat", "Dan")]
    six = await ann.quick_match("arena", options={"players": 6, "size": 40})
    assert six["room"]["seats"] == 6 and six["room"]["free_seats"] == 5
    two = await bob.quick_match("arena", options={"players": 2})  # not the six-player room
    assert two["room"]["id"] != six["room"]["id"] and two["room"]["seats"] == 2
    same = await cat.quick_match("arena", options={"players": 6})  # the size not named: any
    assert same["room"]["id"] == six["room"]["id"] and same["seat"] == 1
    plain = await dan.quick_match("arena")  # no options named: the oldest open room, whatever its
    assert plain["room"]["id"] == six["room"]["id"] and plain["seat"] == 2
    await dan.leave(plain["room"]["id"])
    with pytest.raises(NetplayError) as refused:
        await dan.quick_match("arena", options={"players": 99})
    assert refused.value.code == "invalid_message" and "arena cannot start" in refused.value.message
    with pytest.raises(NetplayError) as relay:
        await dan.quick_match("dots", kind="relay", options={"players": 2})
    assert relay.value.code == "invalid_message" and "relay room has no game options" in relay.value.message
    again = await dan.quick_match("arena", options={"players": 2})
    assert again["room"]["id"] == two["room"]["id"] and again["seat"] == 1


async def test_a_server_bot_plays_pong_and_a_rematch_starts_game_two(connect: Connect) -> None:
    ann = await connect("Ann")
    joined = await ann.create_room("pong", private=True, options={"points": 1})
    room = joined["room"]["id"]
    await ann.add_bot("simple", room=room)
    view = await play_until_over(ann, room, random.Random(3))
    assert view.game == 1 and view.outcome is not None
    await ann.rematch(room)
    second = await ann.wait_for("keyframe", game=2)
    assert second["tick"] == 0 and second["status"] == "playing"


async def test_arena_against_a_bot_with_a_spectator(connect: Connect) -> None:
    ann, cat = await connect("Ann"), await connect("Cat")
    joined = await ann.create_room("arena", private=True, options={"players": 2})
    room = joined["room"]["id"]
    await cat.join(code=joined["code"], spectate=True)
    await ann.add_bot("simple", room=room)
    view = ann.view(room)
    while view.status != "finished":  # Ann never steers: the bot outlasts her
        view = await ann.next_view(room, timeout=60)
    outcome = view.outcome
    assert outcome is not None and outcome["ranking"] == [[1], [0]] and outcome["winner"] == 1
    watched = cat.view(room)
    while watched.status != "finished":
        watched = await cat.next_view(room)
    assert watched.outcome == outcome and watched.view == view.view
    assert view.diverged == 0 and view.patches > 0


async def test_patches_on_the_wire_are_deltas_each_against_the_view_before(
    server: Server, raw: Callable[[], Awaitable[RawPeer]], connect: Connect
) -> None:
    ann = await connect("Ann")
    joined = await ann.create_room("arena", private=True, options={"players": 2})
    room = joined["room"]["id"]
    await ann.add_bot("simple", room=room)
    peer = await raw()
    await peer.hello("watcher")
    peer.send({"type": "join_room", "code": joined["code"], "spectate": True, "id": 1})
    await peer.recv_type("joined")
    keyframe = await peer.recv_type("keyframe")
    view, tick = keyframe["state"], keyframe["tick"]
    assert delta.state_hash(view) == keyframe["hash"]
    # Nothing is acknowledged: the connection delivers in order, and each patch is made against the
    # view sent before it.
    sizes: list[tuple[int, int]] = []
    for _ in range(40):
        message = await peer.recv()
        if message["type"] == "keyframe":
            view, tick = message["state"], message["tick"]
        elif message["type"] == "patch":
            assert message["base"] == tick
            view, tick = delta.apply(view, message["ops"]), message["tick"]
            assert delta.state_hash(view) == message["hash"]
            sizes.append((len(delta.canonical(message["ops"])), len(delta.canonical(view))))
    assert len(sizes) >= 20
    # A second in, a patch is a small fraction of the view it makes (trails only grow).
    assert sum(p for p, _ in sizes[-10:]) * 3 < sum(v for _, v in sizes[-10:])
    # A client that says its copy went wrong gets the whole view next.
    peer.send({"type": "resync", "room": room, "id": 2})
    while (message := await peer.recv())["type"] not in ("keyframe", "ok"):
        pass
    if message["type"] == "ok":
        message = await peer.recv_type("keyframe")
    assert delta.state_hash(message["state"]) == message["hash"]


@pytest.mark.parametrize(
    ("fields", "code"),
    [
        ({"data": {"dir": 2}}, "invalid_input"),
        ({"data": {"dir": True}}, "invalid_input"),
        ({"data": {"dir": 1, "pad": "x" * 400}}, "input_too_large"),
        ({"tick": 10**6}, "input_too_early"),
        ({"tick": -100}, "input_too_late"),
    ],
)
async def test_a_bad_input_is_refused_with_a_precise_error_and_counted(
    server: Server, connect: Connect, fields: dict[str, Any], code: str
) -> None:
    ann, bob = await connect("Ann"), await connect("Bob")
    joined = await ann.create_room("pong", private=True)
    room = joined["room"]["id"]
    await bob.join(code=joined["code"])
    keyframe = await ann.wait_for("keyframe")
    message = {"type": "input", "room": room, "seq": 0, "tick": keyframe["tick"] + 2, "data": {"dir": 1}}
    ann.send_nowait({**message, **fields}, ack=False)
    error = await ann.wait_for("error")
    assert error["code"] == code and error["seq"] == 0 and error["room"] == room
    if code in ("input_too_early", "input_too_late"):  # and where the room is, to set a clock by
        assert type(error["tick"]) is int and keyframe["tick"] <= error["tick"] < keyframe["tick"] + 60
    if code == "input_too_large":
        assert error["limit"] == Pong.max_input_bytes
    assert server.hub.stats.inputs_refused == {code: 1}
    # Refused, not applied: the paddle did not move, and the match goes on.
    view = await ann.next_view(room, after=keyframe["tick"] + 5)
    assert view.view["dirs"] == [0, 0] and view.status == "playing"


async def test_repeated_and_misplaced_inputs(server: Server, connect: Connect) -> None:
    ann, bob, cat = await connect("Ann"), await connect("Bob"), await connect("Cat")
    joined = await ann.create_room("pong", private=True)
    room = joined["room"]["id"]
    await bob.join(code=joined["code"])
    await cat.join(code=joined["code"], spectate=True)
    keyframe = await ann.wait_for("keyframe")
    tick = keyframe["tick"] + 3
    ann.send_nowait({"type": "input", "room": room, "seq": 5, "tick": tick, "data": {"dir": 1}}, ack=False)
    ann.send_nowait({"type": "input", "room": room, "seq": 5, "tick": tick, "data": {"dir": -1}}, ack=False)
    stale = await ann.wait_for("error")
    assert stale["code"] == "stale_input" and stale["received"] == 5  # the same seq twice
    with pytest.raises(NetplayError) as spectator:
        await cat.request({"type": "input", "room": room, "seq": 0, "tick": tick, "data": {"dir": 1}})
    assert spectator.value.code == "not_a_player"
    match_room = (await cat.create_room("tictactoe"))["room"]["id"]
    with pytest.raises(NetplayError) as wrong:
        await cat.request({"type": "input", "room": match_room, "seq": 0, "tick": 1, "data": 1})
    assert wrong.value.code == "wrong_room_kind"
    view = await ann.next_view(room, after=tick)
    assert view.view["dirs"][0] == 1  # the first of the two was applied, on time
    assert server.hub.stats.inputs_accepted == 1 and server.hub.stats.inputs_late == 0


async def test_a_flood_of_inputs_is_cut_off_and_other_rooms_tick_on(make_server: MakeServer) -> None:
    server = await make_server(rate_limit=50.0, rate_burst=20)
    port = server.port
    ann, bob, cy, dee = [
        await Client.connect("127.0.0.1", port, name=n, reconnect=False) for n in ("Ann", "Bob", "Cy", "Dee")
    ]
    try:
        flooded = await ann.create_room("pong", private=True)
        await bob.join(code=flooded["code"])
        calm = await cy.create_room("pong", private=True)
        await dee.join(code=calm["code"])
        start = await dee.wait_for("keyframe")
        room = flooded["room"]["id"]
        await ann.wait_for("keyframe")
        tick = ann.view(room).tick + 2
        for seq in range(2000):  # far past the rate: refused, then the connection is cut
            message = {"type": "input", "room": room, "seq": seq, "tick": tick, "data": {"dir": 1}}
            ann.send_nowait(message, ack=False)
        assert (await ann.wait_for("error"))["code"] == "rate_limited"
        # The calm room kept its rate meanwhile: a second of ticks arrives as it should.
        view = await dee.next_view(calm["room"]["id"], after=start["tick"] + 30, timeout=5)
        assert view.status == "playing" and view.diverged == 0
    finally:
        for client in (ann, bob, cy, dee):
            await client.close()


async def test_netplay_play_quick_matches_with_its_options(server: Server) -> None:
    """``--option`` without ``--private``: two bots asking for one-point pong meet, and play it (the
    second with ``--bot`` alone: the game's default bot)."""
    base = ("play", "pong", "--port", str(server.port), "--option", "points=1", "--json", "--bot")
    first = await Proc.start(*base, "simple")
    await first.expect("waiting for the game to start")
    second = await Proc.start(*base)
    tallies = []
    for proc in (first, second):
        tallies.append(json.loads((await proc.expect(r"(\{.*\})", timeout=60)).group(1)))
        assert await asyncio.wait_for(proc.process.wait(), 10) == 0
    assert [t["games"] for t in tallies] == [1, 1] and sorted(t["won"] for t in tallies) == [0, 1]
