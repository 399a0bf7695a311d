"""Server-authoritative matches over real sockets: the server alone judges every move."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from netplay.server import Server

from ..conftest import RawPeer

Open = Callable[[], Awaitable[RawPeer]]


async def seated_pair(raw: Open, game: str = "tictactoe") -> tuple[RawPeer, RawPeer, str, dict[str, Any]]:
    """Two players quick-matched into one room; returns them (seat 0 first), the room, the first state."""
    a, b = await raw(), await raw()
    await a.hello("Ann")
    await b.hello("Bob")
    a.send({"type": "quick_match", "game": game, "id": 1})
    joined_a = await a.recv_type("joined")
    b.send({"type": "quick_match", "game": game, "id": 1})
    joined_b = await b.recv_type("joined")
    room = joined_a["room"]["id"]
    assert joined_b["room"]["id"] == room
    assert (joined_a["seat"], joined_b["seat"]) == (0, 1)
    state_a = await a.recv_type("state")
    state_b = await b.recv_type("state")
    assert state_a == state_b
    return a, b, room, state_a


async def play(a: RawPeer, b: RawPeer, room: str, moves: list[tuple[RawPeer, Any]]) -> dict[str, Any]:
    """Make each move, read the resulting state on both sides (they must agree); return the last."""
    state: dict[str, Any] = {}
    for peer, move in moves:
        peer.send({"type": "move", "room": room, "move": move})
        state = await a.recv_type("state")
        assert await b.recv_type("state") == state
    return state


async def test_a_full_tictactoe_game_to_a_win(raw: Open) -> None:
    a, b, room, state = await seated_pair(raw)
    assert state["turn"] == 0 and state["status"] == "playing" and state["outcome"] is None
    assert [p["name"] for p in state["players"]] == ["Ann", "Bob"]
    moves = [(a, 0), (b, 3), (a, 1), (b, 4), (a, 2)]  # X takes the top row
    version = state["version"]
    for peer, cell in moves:
        peer.send({"type": "move", "room": room, "move": cell, "version": version})
        seen_a = await a.recv_type("state")
        seen_b = await b.recv_type("state")
        assert seen_a == seen_b
        assert seen_a["version"] == version + 1
        version = seen_a["version"]
    assert seen_a["outcome"] == {
        "winner": 0,
        "draw": False,
        "reason": "rules",
        "ranking": [[0], [1]],
        "places": [1, 2],
    }
    assert seen_a["turn"] is None and seen_a["status"] == "finished"
    assert seen_a["state"]["board"] == ["X", "X", "X", "O", "O", None, None, None, None]
    assert seen_a["last"] == {"seat": 0, "move": 2}


async def test_each_accepted_move_yields_exactly_one_state_to_everyone(raw: Open) -> None:
    a, b, room, state = await seated_pair(raw)
    watcher = await raw()
    await watcher.hello("Wes")
    watcher.send({"type": "join_room", "room": room, "spectate": True, "id": 1})
    assert (await watcher.recv_type("joined"))["role"] == "spectator"
    assert (await watcher.recv())["version"] == state["version"]  # a late spectator gets the state first
    for peer, cell in [(a, 4), (b, 0), (a, 8)]:
        peer.send({"type": "move", "room": room, "move": cell})
        for who in (a, b, watcher):
            states = [m for m in await who.sync() if m["type"] == "state"]
            assert len(states) == 1, states
            assert states[0]["version"] == state["version"] + 1
        state = states[0]


@pytest.mark.parametrize(
    ("who", "move", "code"),
    [
        ("b", 4, "not_your_turn"),
        ("a", 9, "invalid_move"),
        ("a", -1, "invalid_move"),
        ("a", "4", "invalid_move"),
        ("a", [4], "invalid_move"),
        ("a", None, "invalid_move"),
        ("a", True, "invalid_move"),
        ("a", 4.0, "invalid_move"),
    ],
)
async def test_bad_moves_are_refused_with_a_reason_and_change_nothing(
    raw: Open, who: str, move: Any, code: str
) -> None:
    a, b, room, state = await seated_pair(raw)
    peer = {"a": a, "b": b}[who]
    peer.send({"type": "move", "room": room, "move": move, "id": 42})
    error = await peer.recv_type("error")
    assert error["code"] == code and error["re"] == 42 and error["message"]
    assert not error.get("fatal")
    # Nothing changed: the other player saw nothing, and the right move is still accepted.
    other = b if peer is a else a
    assert [m for m in await other.sync() if m["type"] == "state"] == []
    a.send({"type": "move", "room": room, "move": 4, "version": state["version"]})
    after = await a.recv_type("state")
    assert after["version"] == state["version"] + 1 and after["state"]["board"][4] == "X"


async def test_occupied_cell_stale_version_and_game_over(raw: Open) -> None:
    a, b, room, state = await seated_pair(raw)
    v = state["version"]
    a.send({"type": "move", "room": room, "move": 4, "version": v})
    await a.recv_type("state")
    b.send({"type": "move", "room": room, "move": 4, "version": v + 1})
    error = await b.recv_type("error")
    assert error["code"] == "invalid_move" and "already taken" in error["message"]
    b.send({"type": "move", "room": room, "move": 0, "version": v})
    stale = await b.recv_type("error")
    assert stale["code"] == "stale_version" and stale["version"] == v + 1
    # Play to the end, then a move after the game is over is refused.
    last = await play(a, b, room, [(b, 0), (a, 3), (b, 1), (a, 5)])
    assert last["outcome"]["winner"] == 0
    b.send({"type": "move", "room": room, "move": 8})
    assert (await b.recv_type("error"))["code"] == "game_over"


async def test_spectators_and_strangers_cannot_move(raw: Open) -> None:
    _, _, room, _ = await seated_pair(raw)
    watcher, stranger = await raw(), await raw()
    await watcher.hello()
    await stranger.hello()
    watcher.send({"type": "join_room", "room": room, "spectate": True})
    await watcher.recv_type("state")
    watcher.send({"type": "move", "room": room, "move": 4})
    error = await watcher.recv_type("error")
    assert error["code"] == "not_a_player" and "spectator" in error["message"]
    stranger.send({"type": "move", "room": room, "move": 4})
    assert (await stranger.recv_type("error"))["code"] == "not_in_room"


async def test_move_before_the_game_starts(raw: Open) -> None:
    a = await raw()
    await a.hello()
    a.send({"type": "create_room", "game": "tictactoe", "id": 1})
    room = (await a.recv_type("joined"))["room"]["id"]
    a.send({"type": "move", "room": room, "move": 4})
    assert (await a.recv_type("error"))["code"] == "game_not_started"


async def test_rematch_swaps_seats_and_versions_keep_rising(raw: Open) -> None:
    a, b, room, _ = await seated_pair(raw)
    final = await play(a, b, room, [(a, 0), (b, 3), (a, 1), (b, 4), (a, 2)])
    a.send({"type": "rematch", "room": room})
    assert (await b.recv_type("rematch_requested"))["seat"] == 0
    assert [m for m in await a.sync() if m["type"] == "state"] == []  # one vote is not enough
    b.send({"type": "rematch", "room": room})
    second = await a.recv_type("state")
    assert second["game"] == 2 and second["version"] == final["version"] + 1
    assert [p["name"] for p in second["players"]] == ["Bob", "Ann"]  # Bob plays X now
    assert second["turn"] == 0 and second["state"]["board"] == [None] * 9
    b.send({"type": "move", "room": room, "move": 4, "version": second["version"]})
    assert (await a.recv_type("state"))["state"]["board"][4] == "X"


async def test_rematch_during_a_game_is_refused(raw: Open) -> None:
    a, _, room, _ = await seated_pair(raw)
    a.send({"type": "rematch", "room": room})
    assert (await a.recv_type("error"))["code"] == "game_in_progress"


async def test_leaving_mid_game_forfeits_to_the_other_player(raw: Open) -> None:
    a, b, _, state = await seated_pair(raw)
    b.send({"type": "bye"})  # leaving on purpose: no grace period
    left = await a.recv_type("member_left")
    assert left["member"]["name"] == "Bob"
    final = await a.recv_type("state")
    assert final["outcome"] == {
        "winner": 0,
        "draw": False,
        "reason": "forfeit",
        "ranking": [[0], [1]],
        "places": [1, 2],
    }
    assert final["version"] == state["version"] + 1


async def test_a_full_connect_four_game(raw: Open) -> None:
    a, b, room, _ = await seated_pair(raw, "connect4")
    # X stacks column 3, O column 4: X wins vertically on its fourth piece.
    last = await play(a, b, room, [(a, 3), (b, 4), (a, 3), (b, 4), (a, 3), (b, 4), (a, 3)])
    assert last["outcome"] == {
        "winner": 0,
        "draw": False,
        "reason": "rules",
        "ranking": [[0], [1]],
        "places": [1, 2],
    }
    b.send({"type": "move", "room": room, "move": 9})
    assert (await b.recv_type("error"))["code"] == "game_over"


async def test_a_server_side_bot_plays_a_seat(raw: Open) -> None:
    a = await raw()
    await a.hello()
    a.send({"type": "create_room", "game": "tictactoe", "id": 1})
    room = (await a.recv_type("joined"))["room"]["id"]
    a.send({"type": "add_bot", "room": room, "bot": "nonsense"})
    error = await a.recv_type("error")
    assert error["code"] == "no_such_bot" and "minimax" in error["message"]
    a.send({"type": "add_bot", "room": room, "bot": "minimax"})
    joined = await a.recv_type("member_joined")
    assert joined["member"]["bot"] == "minimax"
    state = await a.recv_type("state")
    while state["outcome"] is None:
        if state["turn"] == 0:
            cell = state["state"]["board"].index(None)
            a.send({"type": "move", "room": room, "move": cell, "version": state["version"]})
        state = await a.recv_type("state")
    assert state["outcome"]["winner"] in (None, 1)  # minimax never loses


async def test_a_late_joiner_takes_a_free_seat_after_a_forfeit(raw: Open, server: Server) -> None:
    a, b, room, _ = await seated_pair(raw)
    b.send({"type": "bye"})
    await a.recv_type("state")  # the forfeit
    # Quick-match never drops a newcomer into a finished game...
    c = await raw()
    await c.hello("Cy")
    c.send({"type": "quick_match", "game": "tictactoe", "id": 1})
    elsewhere = await c.recv_type("joined")
    assert elsewhere["room"]["id"] != room
    # ... but joining that room by its id takes the free seat, shows the finished game first,
    # and a rematch vote from the player who stayed starts game 2.
    c.send({"type": "join_room", "room": room, "id": 2})
    joined = await c.recv_type("joined")
    assert joined["room"]["id"] == room and joined["seat"] == 1
    finished = await c.recv()
    assert finished["type"] == "state" and finished["outcome"]["reason"] == "forfeit"
    a.send({"type": "rematch", "room": room})
    fresh = await c.recv_type("state")
    assert fresh["game"] == 2 and fresh["outcome"] is None
    assert {p["name"] for p in fresh["players"]} == {"Ann", "Cy"}
