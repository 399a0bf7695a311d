"""Rooms and lobby: list, create, join by id or private code, quick-match, leave, cleanup, isolation."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import pytest

from netplay.client import Client, NetplayError
from netplay.server import Server

Connect = Callable[..., Awaitable[Client]]


async def test_list_games(connect: Connect) -> None:
    client = await connect()
    games = {g["name"]: g for g in await client.list_games()}
    assert set(games) == {
        "tictactoe", "connect4", "chess", "battleship", "crazy8", "rps", "pig", "pong", "arena"
    }  # fmt: skip
    assert games["tictactoe"]["players"] == 2 and "minimax" in games["tictactoe"]["bots"]
    assert games["tictactoe"]["realtime"] is False and games["tictactoe"]["tick_rate"] is None
    assert games["pong"]["realtime"] is True and games["pong"]["tick_rate"] == 30
    assert client.welcome["games"] == [
        "arena", "battleship", "chess", "connect4", "crazy8", "pig", "pong", "rps", "tictactoe"
    ]  # fmt: skip


async def test_rooms_are_listed_with_seats_spectators_and_privacy(connect: Connect) -> None:
    ann, bob, cat = await connect("Ann"), await connect("Bob"), await connect("Cat")
    public = await ann.create_room("tictactoe")
    private = await bob.create_room("connect4", private=True)
    assert "code" not in public and len(private["code"]) == 8
    await cat.join(public["room"]["id"], spectate=True)
    rooms = {r["id"]: r for r in await cat.list_rooms()}
    pub = rooms[public["room"]["id"]]
    assert pub["game"] == "tictactoe" and pub["private"] is False and pub["status"] == "waiting"
    assert pub["seats"] == 2 and pub["free_seats"] == 1 and pub["spectators"] == 1
    assert [p["name"] for p in pub["players"]] == ["Ann"]
    priv = rooms[private["room"]["id"]]
    assert priv["private"] is True and "code" not in priv
    # Strangers see that a private room has a player, not who: no name, no player id.
    assert [(p["seat"], p["id"], p["name"]) for p in priv["players"]] == [(0, None, None)]
    assert private["room"]["players"][0]["name"] == "Bob"  # its own members see everyone
    only_c4 = await cat.list_rooms("connect4")
    assert [r["id"] for r in only_c4] == [private["room"]["id"]]


async def test_private_room_needs_its_code(connect: Connect) -> None:
    host, guest = await connect("Host"), await connect("Guest")
    created = await host.create_room("tictactoe", private=True)
    room_id, code = created["room"]["id"], created["code"]
    with pytest.raises(NetplayError) as refused:
        await guest.join(room_id)
    assert refused.value.code == "wrong_code"
    with pytest.raises(NetplayError) as wrong:
        await guest.join(room_id, code="AAAAAA" if code != "AAAAAA" else "BBBBBB")
    assert wrong.value.code == "wrong_code"
    with pytest.raises(NetplayError) as unknown:
        await guest.join(code="ZZZZ99")
    assert unknown.value.code == "wrong_code"
    joined = await guest.join(code=code.lower())  # codes are case-insensitive
    assert joined["room"]["id"] == room_id and joined["seat"] == 1
    state = await guest.wait_for("state")
    assert state["turn"] == 0


async def test_quick_match_never_pairs_into_private_rooms(connect: Connect) -> None:
    host, stranger = await connect(), await connect()
    private = await host.create_room("tictactoe", private=True)
    joined = await stranger.quick_match("tictactoe")
    assert joined["room"]["id"] != private["room"]["id"]
    assert joined["seat"] == 0  # it opened a new room and waits there


async def test_quick_match_fills_an_open_room_then_opens_another(connect: Connect) -> None:
    a, b, c = await connect(), await connect(), await connect()
    first = await a.quick_match("connect4")
    second = await b.quick_match("connect4")
    third = await c.quick_match("connect4")
    assert first["room"]["id"] == second["room"]["id"] != third["room"]["id"]
    assert [first["seat"], second["seat"], third["seat"]] == [0, 1, 0]


async def test_unknown_game_and_room(connect: Connect) -> None:
    client = await connect()
    with pytest.raises(NetplayError) as no_game:
        await client.quick_match("go")
    assert no_game.value.code == "no_such_game" and "tictactoe" in no_game.value.message
    with pytest.raises(NetplayError) as no_room:
        await client.join("r-00000000")
    assert no_room.value.code == "no_such_room"
    with pytest.raises(NetplayError) as bad_kind:
        await client.create_room("tictactoe", kind="lobby")
    assert bad_kind.value.code == "invalid_message"


async def test_full_room_refuses_players_but_takes_spectators(connect: Connect) -> None:
    a, b, c = await connect(), await connect(), await connect()
    room = (await a.create_room("tictactoe"))["room"]["id"]
    await b.join(room)
    with pytest.raises(NetplayError) as full:
        await c.join(room)
    assert full.value.code == "room_full" and "spectate" in full.value.message
    watching = await c.join(room, spectate=True)
    assert watching["role"] == "spectator" and watching["seat"] is None


async def test_leave_and_the_last_one_out_removes_the_room(connect: Connect, server: Server) -> None:
    a, b = await connect(), await connect()
    room = (await a.create_room("tictactoe"))["room"]["id"]
    await b.join(room, spectate=True)
    await a.leave(room)
    with pytest.raises(NetplayError) as again:
        await a.leave(room)
    assert again.value.code == "not_in_room"
    assert room in {r["id"] for r in await b.list_rooms()}
    await b.leave(room)
    assert room not in {r["id"] for r in await b.list_rooms()}
    assert server.hub is not None and len(server.hub.directory) == 0 and not server.hub.rooms


async def test_a_disconnect_removes_an_empty_room(connect: Connect) -> None:
    a, b = await connect(), await connect()
    room = (await a.create_room("connect4"))["room"]["id"]
    await a.close()
    # b's request is handled after a's disconnect was noticed, or the room is still listed: wait on it.
    for _ in range(100):
        if room not in {r["id"] for r in await b.list_rooms()}:
            break
        await b.request({"type": "ping"})
    assert room not in {r["id"] for r in await b.list_rooms()}


async def test_joining_twice_is_refused(connect: Connect) -> None:
    a = await connect()
    room = (await a.create_room("tictactoe"))["room"]["id"]
    with pytest.raises(NetplayError) as twice:
        await a.join(room)
    assert twice.value.code == "already_in_room"


async def test_rooms_per_client_limit(make_server: Callable[..., Awaitable[Server]]) -> None:
    server = await make_server(max_rooms_per_client=2)
    client = await Client.connect("127.0.0.1", server.port)
    try:
        await client.create_room("tictactoe")
        await client.create_room("relay", kind="relay")
        with pytest.raises(NetplayError) as limit:
            await client.create_room("connect4")
        assert limit.value.code == "too_many_rooms" and "at most 2 rooms" in limit.value.message
    finally:
        await client.close()


async def test_games_in_two_rooms_do_not_disturb_each_other(connect: Connect) -> None:
    p = [await connect(f"P{i}") for i in range(4)]
    r1 = (await p[0].quick_match("tictactoe"))["room"]["id"]
    await p[1].quick_match("tictactoe")
    r2 = (await p[2].quick_match("tictactoe"))["room"]["id"]
    await p[3].quick_match("tictactoe")
    assert r1 != r2
    s1 = await p[0].wait_for("state")
    s2 = await p[2].wait_for("state")
    await p[0].move(4)
    after = await p[1].wait_for("state", version=s1["version"] + 1)
    assert after["state"]["board"][4] == "X"
    # Room 2 saw nothing of it, and its own game is untouched.
    await p[2].move(0)
    mine = await p[3].wait_for("state", version=s2["version"] + 1)
    assert mine["state"]["board"] == ["X"] + [None] * 8
    with pytest.raises(NetplayError):
        await p[2].request({"type": "move", "room": r1, "move": 1})


async def test_quick_match_skips_a_room_the_client_already_waits_in(connect: Connect) -> None:
    a, b = await connect(), await connect()
    first = await a.quick_match("tictactoe")
    second = await a.quick_match("tictactoe")  # a second table, not an error
    assert second["room"]["id"] != first["room"]["id"]
    joined = await b.quick_match("tictactoe")
    assert joined["room"]["id"] == first["room"]["id"]  # the oldest open room is filled first
