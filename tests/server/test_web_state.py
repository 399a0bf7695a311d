"""What the server tells the web page about each game: ``web_board`` in the games list, and, for the
games the page draws from text, ``text``, ``legal`` and ``sides`` in every recipient's state message.
Built-in games' state messages carry none of it."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from netplay.client import Client
from netplay.games import Game, builtin_games
from netplay.server import Server
from tests.browser.games.nim_game import BoardNim, Nim, TypedNim

MakeServer = Callable[..., Awaitable[Server]]

#: Every field of a state message of a built-in game (docs/protocol.md §8).
BASE_FIELDS = {
    "type",
    "room",
    "game",
    "version",
    "status",
    "turn",
    "active",
    "phase",
    "players",
    "state",
    "last",
    "outcome",
    "clock",
    "draw_offers",
}


class SeatNim(Nim):
    """Nim whose render says who is looking, with a view of its own (hidden information)."""

    name = "seatnim"

    def view(self, state: Any, seat: int | None) -> Any:
        return {**state, "viewer": seat}

    def render(self, view: Any, seat: int | None) -> str:
        return f"{view['pile']} stones, seen by {seat} ({view['viewer']})"


class BrokenNim(Nim):
    """Nim whose presentation hooks fail: render raises, legal_moves gives what JSON cannot carry."""

    name = "brokennim"

    def render(self, view: Any, seat: int | None) -> str:
        raise RuntimeError("render is broken")

    def legal_moves(self, state: Any, seat: int) -> list[Any]:
        return [{1, 2}]  # a set: no JSON for it


def games(*extra: Game) -> list[Game]:
    return [*builtin_games().values(), *extra]


async def clients(server: Server, *names: str) -> list[Client]:
    return [await Client.connect("127.0.0.1", server.port, name=name) for name in names]


async def seated(server: Server, game: str) -> tuple[Client, Client, Client, str]:
    """Ann opens a room of ``game``, Bob joins it, Sam watches: each has the first state."""
    ann, bob, sam = await clients(server, "Ann", "Bob", "Sam")
    room = (await ann.create_room(game))["room"]["id"]
    await bob.join(room)
    await sam.join(room, spectate=True)
    return ann, bob, sam, room


async def test_the_games_list_says_how_the_page_draws_each_game(make_server: MakeServer) -> None:
    server = await make_server(games(Nim(), TypedNim(), BoardNim()))
    (ann,) = await clients(server, "Ann")
    listed = {g["name"]: g for g in await ann.list_games()}
    assert listed["nim"]["web_board"] == "generic" and listed["nim"]["bots"] == ["perfect"]
    assert listed["typednim"]["web_board"] == "generic"
    assert listed["boardnim"]["web_board"] == "/games/boardnim/board.js"
    for name in ("tictactoe", "connect4", "chess", "battleship", "crazy8", "rps", "pig"):
        assert listed[name]["web_board"] == "builtin", name
    await ann.close()


async def test_a_user_game_gets_its_text_and_legal_moves_per_recipient(make_server: MakeServer) -> None:
    server = await make_server(games(Nim()))
    ann, bob, sam, room = await seated(server, "nim")
    first = [await c.wait_for("state", room=room) for c in (ann, bob, sam)]
    text = "5 stones left\no o o o o \n<b>take 1, 2 or 3</b>"
    assert [s["text"] for s in first] == [text, text, text]
    assert first[0]["legal"] == [1, 2, 3]  # Ann's turn: her moves
    assert "legal" not in first[1] and "legal" not in first[2]  # Bob waits; Sam watches
    assert all(s["sides"] == ["north", "south"] for s in first)

    await ann.move(2)
    after = [await c.wait_for("state", room=room, version=2) for c in (ann, bob, sam)]
    assert after[0]["text"].startswith("3 stones left")
    assert "legal" not in after[0] and after[1]["legal"] == [1, 2, 3] and "legal" not in after[2]

    await bob.move(3)
    over = [await c.wait_for("state", room=room, version=3) for c in (ann, bob, sam)]
    assert all(s["outcome"]["winner"] == 1 and "legal" not in s for s in over)
    assert over[1]["text"].startswith("0 stones left")
    for client in (ann, bob, sam):
        await client.close()


async def test_a_hidden_information_user_game_renders_each_recipients_own_view(
    make_server: MakeServer,
) -> None:
    server = await make_server(games(SeatNim()))
    ann, bob, sam, room = await seated(server, "seatnim")
    texts = [(await c.wait_for("state", room=room))["text"] for c in (ann, bob, sam)]
    assert texts == ["5 stones, seen by 0 (0)", "5 stones, seen by 1 (1)", "5 stones, seen by None (None)"]
    for client in (ann, bob, sam):
        await client.close()


async def test_a_game_without_legal_moves_or_sides_gets_its_text_only(make_server: MakeServer) -> None:
    server = await make_server(games(TypedNim()))
    ann, bob, sam, room = await seated(server, "typednim")
    for client in (ann, bob, sam):
        state = await client.wait_for("state", room=room)
        assert state["text"].startswith("5 stones left")
        assert "legal" not in state and "sides" not in state
        await client.close()


async def test_built_in_games_state_messages_are_unchanged(make_server: MakeServer) -> None:
    server = await make_server(games())
    for game in ("tictactoe", "rps"):  # public, and hidden information (per-recipient messages)
        ann, bob, sam, room = await seated(server, game)
        for client in (ann, bob, sam):
            state = await client.wait_for("state", room=room)
            assert set(state) == BASE_FIELDS, game
            await client.close()


async def test_failing_presentation_hooks_leave_their_fields_out_and_are_logged_once(
    make_server: MakeServer, caplog: pytest.LogCaptureFixture
) -> None:
    server = await make_server(games(BrokenNim()))
    with caplog.at_level(logging.ERROR, logger="netplay.rooms"):
        ann, bob, sam, room = await seated(server, "brokennim")
        for version, mover in [(2, ann), (3, bob), (4, ann)]:
            await mover.move(1)
            for client in (ann, bob, sam):
                state = await client.wait_for("state", room=room, version=version)
                assert "text" not in state and "legal" not in state
                assert state["state"]["pile"] == 5 - (version - 1)  # the game goes on
    render = [r for r in caplog.records if "brokennim.render" in r.getMessage()]
    legal = [r for r in caplog.records if "brokennim.legal_moves" in r.getMessage()]
    assert len(render) == 1 and "render is broken" in render[0].getMessage()
    assert len(legal) == 1 and "JSON" in legal[0].getMessage()
    for client in (ann, bob, sam):
        await client.close()
