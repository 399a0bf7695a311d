"""Nim for the web page's tests: one pile, take 1, 2 or 3 stones, whoever takes the last one wins.

Three variants, as a user would write them and serve them with ``--game``:
``Nim`` (legal moves, a text render with markup in it, named sides and a bot: the generic board's
buttons), ``TypedNim`` (no ``legal_moves``: the generic board's move box, which takes JSON or words)
and ``BoardNim`` (its own JavaScript board, ``board.js`` next to this file).
"""

from __future__ import annotations

import random
from typing import Any

from netplay.games import Game, Outcome, State


def perfect_bot(game: Game, state: State, seat: int, rng: random.Random) -> int:
    """Leave a multiple of four stones when possible, else take one."""
    return state["pile"] % 4 or 1


class Nim(Game):
    name = "nim"
    description = "Take 1-3 stones from a pile <em>of five</em>; whoever takes the last stone wins."
    bots = {"perfect": perfect_bot}

    def setup(self, options: dict[str, Any]) -> State:
        pile = options.get("pile", 5)
        return {"pile": pile if type(pile) is int and 1 <= pile <= 50 else 5, "last": None}

    def validate(self, state: State, seat: int, move: Any) -> str | None:
        if type(move) is not int or not 1 <= move <= 3:
            return "take 1, 2 or 3 stones"
        return None if move <= state["pile"] else f"only {state['pile']} stones are left"

    def apply(self, state: State, seat: int, move: Any) -> State:
        return {"pile": state["pile"] - move, "last": seat}

    def outcome(self, state: State) -> Outcome | None:
        return Outcome.win(state["last"]) if state["pile"] == 0 else None

    def legal_moves(self, state: State, seat: int) -> list[Any]:
        return [n for n in (1, 2, 3) if n <= state["pile"]]

    def seat_label(self, seat: int) -> str:
        return ("north", "south")[seat]

    def render(self, view: Any, seat: int | None) -> str:
        # The markup is text: the page must show it as typed, never as HTML.
        return f"{view['pile']} stones left\n{'o ' * view['pile']}\n<b>take 1, 2 or 3</b>"


class TypedNim(Nim):
    """Nim without ``legal_moves`` (and without names for its sides): moves are typed. ``"all"``
    takes the rest of the pile when three stones or fewer are left."""

    name = "typednim"
    bots = {}
    legal_moves = Game.legal_moves  # type: ignore[assignment]
    seat_label = Game.seat_label  # type: ignore[assignment]

    def validate(self, state: State, seat: int, move: Any) -> str | None:
        if move == "all":
            return None if state["pile"] <= 3 else "all: only when 3 stones or fewer are left"
        return super().validate(state, seat, move)

    def apply(self, state: State, seat: int, move: Any) -> State:
        return super().apply(state, seat, state["pile"] if move == "all" else move)


class BoardNim(Nim):
    """Nim with a board of its own: ``board.js``, in this folder."""

    name = "boardnim"
    web_board = "board.js"
