"""A tiny user game for the registry tests: Nim, take 1-3 stones, whoever takes the last wins."""

from __future__ import annotations

from typing import Any

from netplay.games import Game, Outcome, State


class Nim(Game):
    """One pile of stones; players alternately take 1 to 3; taking the last stone wins."""

    name = "nim"
    description = "Take 1-3 stones from a pile; whoever takes the last stone wins."

    def setup(self, options: dict[str, Any]) -> State:
        return {"pile": int(options.get("pile", 10)), "last": None}

    def validate(self, state: State, seat: int, move: Any) -> str | None:
        if isinstance(move, bool) or not isinstance(move, int) or not 1 <= move <= 3:
            return "take 1, 2 or 3 stones"
        return None if move <= state["pile"] else f"only {state['pile']} stones left"

    def apply(self, state: State, seat: int, move: Any) -> State:
        return {"pile": state["pile"] - move, "last": seat}

    def outcome(self, state: State) -> Outcome | None:
        return Outcome.win(state["last"]) if state["pile"] == 0 else None

    def legal_moves(self, state: State, seat: int) -> list[Any]:
        return [n for n in (1, 2, 3) if n <= state["pile"]]


NOT_A_GAME = object()
