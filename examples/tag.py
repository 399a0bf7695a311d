"""Tag, a real-time game in 50 lines: the chaser (seat 0) has 20 seconds to catch the runner.

Serve it and play it with bots, or in the browser (http://127.0.0.1:7777/, the arrow keys):

    PYTHONPATH=. netplay serve --game examples.tag:Tag --db :memory:
    PYTHONPATH=. netplay play tag --rules examples.tag:Tag --private --bot chase --json
    PYTHONPATH=. netplay play tag --rules examples.tag:Tag --code CODE --bot chase --json
"""

from typing import Any

from netplay.games import Outcome, RealtimeGame

SIZE, SPEED, SECONDS = 1000, 12, 20  # a 1000 x 1000 field, 12 units a tick


class Tag(RealtimeGame):
    name = "tag"
    description = "The chaser has 20 seconds to touch the runner."
    tick_rate = 30

    def setup(self, options: dict[str, Any], rng: Any) -> dict[str, Any]:
        return {"tick": 0, "pos": [[100, 100], [900, 900]], "vel": [[0, 0], [0, 0]]}

    def validate_input(self, state: Any, seat: int, data: Any) -> str | None:
        ok = type(data) is list and len(data) == 2 and all(type(v) is int and -1 <= v <= 1 for v in data)
        return None if ok else "send [dx, dy], each -1, 0 or 1"

    def tick(self, state: Any, inputs: Any, rng: Any) -> dict[str, Any]:
        vel = [inputs.get(seat, v) for seat, v in enumerate(state["vel"])]  # held until changed
        pos = [
            [min(max(x + dx * SPEED, 0), SIZE), min(max(y + dy * SPEED, 0), SIZE)]
            for (x, y), (dx, dy) in zip(state["pos"], vel, strict=True)
        ]
        return {"tick": state["tick"] + 1, "pos": pos, "vel": vel}

    def outcome(self, state: Any) -> Outcome | None:
        (ax, ay), (bx, by) = state["pos"]
        if abs(ax - bx) <= 20 and abs(ay - by) <= 20:
            return Outcome.win(0, "caught")
        return Outcome.win(1, "escaped") if state["tick"] >= SECONDS * self.tick_rate else None

    # In the browser (a game without a board of its own): the arrow keys, held, steer.
    keys = {"ArrowUp": [0, -1], "ArrowDown": [0, 1], "ArrowLeft": [-1, 0], "ArrowRight": [1, 0]}
    idle = [0, 0]

    def own(self, view: Any, seat: int) -> Any:
        return view["pos"][seat]  # what this seat's inputs move: a client predicts it

    def seat_label(self, seat: int) -> str:
        return ("chaser", "runner")[seat]


def chase(game: Tag, view: Any, seat: int, rng: Any) -> list[int]:
    """The chaser runs at the runner; the runner runs away from the chaser."""
    (x, y), (ox, oy) = view["pos"][seat], view["pos"][1 - seat]
    sign = 1 if seat == 0 else -1
    return [sign * ((ox > x) - (ox < x)), sign * ((oy > y) - (oy < y))]


Tag.bots = {"chase": chase}
