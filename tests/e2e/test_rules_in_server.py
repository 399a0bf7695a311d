"""How the server treats game definitions that misbehave, and protocol guarantees around requests."""

from __future__ import annotations

import random
from collections.abc import Awaitable, Callable
from typing import Any

from netplay.games import Game, Outcome, TicTacToe
from netplay.server import Server
from netplay.store import NullStore, SavedMatch, SavedMove

from ..conftest import RawPeer

MakeServer = Callable[..., Awaitable[Server]]


class Counter(Game):
    """Players take turns adding 1; a move of 99 makes the rules return a state that is not JSON."""

    name = "counter"
    players = 2

    def setup(self, options: dict[str, Any]) -> Any:
        return {"n": 0}

    def validate(self, state: Any, seat: int, move: Any) -> str | None:
        return None if move in (1, 99) else "add 1"

    def apply(self, state: Any, seat: int, move: Any) -> Any:
        if move == 99:
            return {"n": {1, 2}}  # a set: not JSON
        return {"n": state["n"] + 1}

    def outcome(self, state: Any) -> Outcome | None:
        return Outcome.win(0) if state["n"] >= 4 else None

    def legal_moves(self, state: Any, seat: int) -> list[Any]:
        return [1]


def broken_bot(game: Game, state: Any, seat: int, rng: random.Random) -> Any:
    raise RuntimeError("this bot is broken")


def cheating_bot(game: Game, state: Any, seat: int, rng: random.Random) -> Any:
    return 1000  # always illegal


class BrokenBots(TicTacToe):
    name = "brokenbots"
    bots = {"broken": broken_bot, "cheat": cheating_bot}


async def pair(port: int, game: str) -> tuple[RawPeer, RawPeer, str, dict[str, Any]]:
    a, b = await RawPeer.open(port), await RawPeer.open(port)
    await a.hello("A")
    await b.hello("B")
    a.send({"type": "quick_match", "game": game, "id": 1})
    room = (await a.recv_type("joined"))["room"]["id"]
    b.send({"type": "quick_match", "game": game, "id": 1})
    await b.recv_type("joined")
    state = await a.recv_type("state")
    await b.recv_type("state")
    return a, b, room, state


async def test_a_state_that_is_not_json_is_refused_and_the_room_lives_on(make_server: MakeServer) -> None:
    server = await make_server(games=[Counter()])
    a, b, room, state = await pair(server.port, "counter")
    a.send({"type": "move", "room": room, "move": 99, "id": 5})
    error = await a.recv_type("error")
    assert error["code"] == "internal_error" and error["re"] == 5
    assert [m for m in await b.sync() if m["type"] == "state"] == []  # nothing changed
    a.send({"type": "move", "room": room, "move": 1, "version": state["version"]})
    after = await b.recv_type("state")
    assert after["state"] == {"n": 1} and after["version"] == state["version"] + 1
    await a.close()
    await b.close()


async def test_every_request_with_an_id_gets_exactly_one_reply(make_server: MakeServer) -> None:
    server = await make_server(games=[Counter()])
    a, b, room, _ = await pair(server.port, "counter")
    a.send({"type": "move", "room": room, "move": 1, "id": "m1"})
    replies = [m for m in await a.sync() if m.get("re") == "m1"]
    assert replies == [{"type": "ok", "re": "m1"}]
    a.send({"type": "move", "room": room, "move": 1, "id": "m2"})  # not a's turn now
    replies = [m for m in await a.sync() if m.get("re") == "m2"]
    assert [r["code"] for r in replies] == ["not_your_turn"]
    b.send({"type": "move", "room": room, "move": 1})  # no id: no acknowledgement
    assert [m for m in await b.sync() if m["type"] == "ok"] == []
    await a.close()
    await b.close()


async def test_an_id_the_server_refuses_is_not_echoed(make_server: MakeServer) -> None:
    server = await make_server()
    peer = await RawPeer.open(server.port)
    await peer.hello()
    peer.send({"type": "ping", "id": {"nested": 1}})
    error = await peer.recv()
    assert error["code"] == "invalid_message" and "re" not in error
    peer.send({"type": "ping", "id": True})
    assert "re" not in await peer.recv()
    await peer.close()


async def test_a_failing_server_bot_falls_back_to_a_legal_move(make_server: MakeServer) -> None:
    server = await make_server(games=[BrokenBots()])
    for bot in ("broken", "cheat"):
        peer = await RawPeer.open(server.port)
        await peer.hello()
        peer.send({"type": "create_room", "game": "brokenbots", "id": 1})
        room = (await peer.recv_type("joined"))["room"]["id"]
        peer.send({"type": "add_bot", "room": room, "bot": bot})
        state = await peer.recv_type("state")
        while state["outcome"] is None:
            if state["turn"] == 0:
                cell = state["state"]["board"].index(None)
                peer.send({"type": "move", "room": room, "move": cell, "version": state["version"]})
            state = await peer.recv_type("state")
        # The bot's seat played legal (random) moves all game: the game reached a real result.
        assert state["outcome"]["reason"] == "rules"
        await peer.close()


class Sized(Game):
    """A game whose options the rules check: ``size`` must be a number."""

    name = "sized"
    players = 2

    def setup(self, options: dict[str, Any]) -> Any:
        return {"size": int(options.get("size", 3))}

    def validate(self, state: Any, seat: int, move: Any) -> str | None:
        return None

    def apply(self, state: Any, seat: int, move: Any) -> Any:
        return state

    def outcome(self, state: Any) -> Outcome | None:
        return None


async def test_options_the_game_cannot_start_with_are_refused_at_once(make_server: MakeServer) -> None:
    server = await make_server(games=[Sized()])
    peer = await RawPeer.open(server.port)
    await peer.hello()
    peer.send({"type": "create_room", "game": "sized", "options": {"size": "huge"}, "id": 7})
    replies = [m for m in await peer.sync() if m.get("re") == 7]
    assert len(replies) == 1 and replies[0]["code"] == "invalid_message"  # one reply, no room
    assert "sized cannot start with those options" in replies[0]["message"]
    peer.send({"type": "create_room", "game": "sized", "options": {"size": 5}, "id": 8})
    assert (await peer.recv_type("joined"))["re"] == 8
    await peer.close()


async def test_names_must_be_printable(make_server: MakeServer) -> None:
    server = await make_server()
    peer = await RawPeer.open(server.port)
    peer.send({"type": "hello", "protocol": 1, "name": "Eve\x1b[2J", "id": 1})
    refused = await peer.recv()
    assert refused["code"] == "invalid_message" and "printable" in refused["message"]
    await peer.close()


class RefusingStore(NullStore):
    """A store whose disk is full: it refuses to record any match."""

    def match_started(self, match: SavedMatch) -> None:
        raise OSError("disk full")

    def move_applied(self, match_id: str, index: int, move: SavedMove) -> None:
        raise AssertionError("a match that was not recorded must not record moves")


async def test_a_match_the_store_cannot_record_is_still_played(make_server: MakeServer) -> None:
    server = await make_server()
    assert server.hub is not None
    server.hub.store = RefusingStore()
    a, b, room, state = await pair(server.port, "tictactoe")
    a.send({"type": "move", "room": room, "move": 4, "version": state["version"]})
    assert (await b.recv_type("state"))["state"]["board"][4] == "X"
    await a.close()
    await b.close()
