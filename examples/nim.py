"""Nim: take 1, 2 or 3 stones from one pile; whoever takes the last stone wins.

From the repository root:
    netplay serve --game examples.nim:Nim
    netplay play nim --rules examples.nim:Nim --bot perfect
"""

from __future__ import annotations

import random
from typing import Any

from netplay.games import Game, Outcome, Rng, State, random_bot


def perfect_bot(game: Game, state: State, seat: int, rng: random.Random) -> int:
    """Leave a multiple of four stones when possible (a lost position for the opponent)."""
    take = state["pile"] % 4
    return take if take else rng.choice(game.legal_moves(state, seat))


class Nim(Game):
    name = "nim"
    description = "Take 1-3 stones from a pile; whoever takes the last stone wins."
    players = 2
    bots = {"perfect": perfect_bot, "random": random_bot}

    def setup(self, options: dict[str, Any], rng: Rng) -> State:
        pile = options.get("pile")
        if not isinstance(pile, int) or not 1 <= pile <= 100:
            pile = rng.randint(10, 20)  # the server's randomness: replayed exactly, never guessable
        return {"pile": pile, "last": None}

    def validate(self, state: State, seat: int, move: Any) -> str | None:
        if type(move) is not int or not 1 <= move <= 3:  # it came from the network: check it
            return "take 1, 2 or 3 stones"
        return None if move <= state["pile"] else f"only {state['pile']} stones are left"

    def apply(self, state: State, seat: int, move: Any) -> State:
        return {"pile": state["pile"] - move, "last": seat}

    def outcome(self, state: State) -> Outcome | None:
        return Outcome.win(state["last"]) if state["pile"] == 0 else None

    def legal_moves(self, state: State, seat: int) -> list[Any]:
        return [n for n in (1, 2, 3) if n <= state["pile"]]

    def render(self, view: Any, seat: int | None) -> str:
        return f"{view['pile']} stones: " + "o" * view["pile"]
