"""A real-time game with no board and no keys, for the generic real-time board's typed inputs."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from netplay.games import Outcome, RealtimeGame


class Tally(RealtimeGame):
    """Each player sends numbers from 1 to 9; the first whose numbers add up to 10 or more wins."""

    name = "tally"
    description = "Send numbers; the first to a total of 10 wins."

    def setup(self, options: dict[str, Any], rng: Any) -> dict[str, Any]:
        return {"tick": 0, "totals": [0, 0]}

    def validate_input(self, state: Any, seat: int, data: Any) -> str | None:
        return None if type(data) is int and 1 <= data <= 9 else "send a number from 1 to 9"

    def tick(self, state: Any, inputs: Mapping[int, Any], rng: Any) -> dict[str, Any]:
        totals = [total + inputs.get(seat, 0) for seat, total in enumerate(state["totals"])]
        return {"tick": state["tick"] + 1, "totals": totals}

    def outcome(self, state: Any) -> Outcome | None:
        for seat, total in enumerate(state["totals"]):
            if total >= 10:
                return Outcome.win(seat)
        return None
