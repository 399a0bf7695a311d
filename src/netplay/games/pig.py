"""Pig, the dice game for 2 to 6 players: roll to build a turn total, hold to bank it, a 1 loses it.

The state is ``{"target", "scores", "turn", "turn_total", "rolls", "last_turn"}``: ``rolls`` are this
turn's dice so far, ``last_turn`` is ``{"seat", "rolls", "banked"}`` for the turn before (None at the
start). The server rolls the die (``apply`` takes ``rng``); no seed or generator state is kept here.
"""

from __future__ import annotations

import random
from collections.abc import Collection
from typing import Any

from .base import Game, Outcome, State
from .bots import random_bot
from .rng import Rng

__all__ = ["Pig", "hold20_bot"]

_MOVES = ("roll", "hold")
_SHORT = {"r": "roll", "h": "hold"}


def _option(options: dict[str, Any], key: str, default: int, low: int, high: int) -> int:
    """A whole-number option in [low, high], or ValueError with a hint."""
    value = options.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ValueError(
            f"{key} must be a whole number from {low} to {high} (default {default}), not {value!r}"
        )
    return value


class Pig(Game):
    """Take turns rolling a die; first to bank ``target`` points wins, everyone else is ranked by score."""

    name = "pig"
    description = "Dice for 2-6 players: roll to build a turn total, hold to bank it, a 1 loses it."
    web_board = "builtin"
    players = 2

    def seat_count(self, options: dict[str, Any]) -> int:
        """The ``players`` option: 2 to 6, default 2."""
        return _option(options, "players", self.players, 2, 6)

    def setup(self, options: dict[str, Any]) -> State:
        """Everyone at 0, seat 0 to roll; options ``players`` (2-6) and ``target`` (10-1000, default 100)."""
        players = self.seat_count(options)
        target = _option(options, "target", 100, 10, 1000)
        return {
            "target": target,
            "scores": [0] * players,
            "turn": 0,
            "turn_total": 0,
            "rolls": [],
            "last_turn": None,
        }

    def active(self, state: State) -> Collection[int] | None:
        """The seat whose turn it is; nobody once the game is over."""
        return [] if self.outcome(state) is not None else [state["turn"]]

    def first_player(self, state: State) -> int:
        """Whose turn it is (the same as ``active``)."""
        return int(state["turn"])

    def next_player(self, state: State, seat: int) -> int:
        """Whose turn it is now (the same as ``active``): a roll keeps the turn, a hold or a 1 passes it."""
        return int(state["turn"])

    def validate(self, state: State, seat: int, move: Any) -> str | None:
        """Why the move is illegal: not "roll" or "hold", not this seat's turn, or nothing to hold."""
        if not isinstance(move, str) or move not in _MOVES:
            return 'a move is "roll" or "hold"'
        if seat != state["turn"]:
            return f"it is {self.seat_label(state['turn'])}'s turn"
        if move == "hold" and state["turn_total"] == 0:
            return "nothing to hold yet: roll at least once this turn"
        return None

    # The engine passes ``rng`` to an ``apply`` that names it (Game.wants_rng); mypy sees an override.
    def apply(self, state: State, seat: int, move: Any, rng: Rng) -> State:  # type: ignore[override]
        """Roll the server's die (a 1 loses the turn total and passes) or bank the turn total and pass."""
        scores = list(state["scores"])
        if move == "roll":
            die = rng.randint(1, 6)
            rolls = [*state["rolls"], die]
            if die != 1:
                return {**state, "turn_total": state["turn_total"] + die, "rolls": rolls}
            banked = 0
        else:
            rolls = list(state["rolls"])
            banked = state["turn_total"]
            scores[seat] += banked
        return {
            "target": state["target"],
            "scores": scores,
            "turn": (seat + 1) % len(scores),
            "turn_total": 0,
            "rolls": [],
            "last_turn": {"seat": seat, "rolls": rolls, "banked": banked},
        }

    def outcome(self, state: State) -> Outcome | None:
        """Once a seat has banked the target: every seat ranked by score."""
        scores = state["scores"]
        if max(scores) >= state["target"]:
            return Outcome.by_score(scores)
        return None

    def legal_moves(self, state: State, seat: int) -> list[Any]:
        """Roll, and hold once this turn has a total to bank."""
        return ["roll", "hold"] if state["turn_total"] > 0 else ["roll"]

    def seat_label(self, seat: int) -> str:
        return f"player {seat + 1}"

    def render(self, view: Any, seat: int | None) -> str:
        """Everyone's score, whose turn it is with its total, and the last roll."""
        lines = [f"first to {view['target']}"]
        for s, score in enumerate(view["scores"]):
            you = " (you)" if s == seat else ""
            lines.append(f"{self.seat_label(s)}{you}: {score}")
        lines.append(f"{self.seat_label(view['turn'])} to play, turn total {view['turn_total']}")
        last = view["last_turn"]
        if view["rolls"]:
            lines.append(f"last roll: {view['rolls'][-1]} (this turn: {' '.join(map(str, view['rolls']))})")
        elif last is not None:
            who = self.seat_label(last["seat"])
            if last["rolls"] and last["rolls"][-1] == 1:
                lines.append(f"last roll: 1, {who} lost the turn")
            else:
                lines.append(f"{who} held and banked {last['banked']}")
        return "\n".join(lines)

    def parse_move(self, text: str) -> Any:
        """roll or hold, in any case, or just r or h."""
        word = text.strip().lower()
        word = _SHORT.get(word, word)
        if word not in _MOVES:
            raise ValueError("type roll or hold (or r, h)")
        return word


def hold20_bot(game: Game, view: State, seat: int, rng: random.Random) -> str:
    """Roll until the turn total reaches 20, or would win the game, then hold."""
    total = view["turn_total"]
    if total > 0 and (total >= 20 or view["scores"][seat] + total >= view["target"]):
        return "hold"
    return "roll"


Pig.bots = {"hold20": hold20_bot, "random": random_bot}
