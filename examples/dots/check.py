"""A relay check for the dots demo: one step at a time, no teleporting, never off the board.

    netplay serve --text-port 50003 --relay-check examples.dots.check:NoTeleports

The room keeps where each member's dot is. A ``playerMoved DX DY`` of more than one step is refused,
and one that would leave the board is clamped to its edge (rewritten). A ``playerTeleported X Y`` is
how a player says where it is when it arrives, and to newcomers: the first one of each member is
taken, and so is one to where it already is; a jump anywhere else is refused. It speaks the 15-112
vocabulary, so unmodified text clients are checked the same way (their refused lines are dropped:
their protocol has no errors).
"""

from __future__ import annotations

from typing import Any

from netplay.games.relaycheck import Checked, RelayCheck

WIDTH, HEIGHT, STEP = 640, 480, 10  # as dots.py draws them


def _parse(data: Any) -> tuple[str, int, int] | None:
    """``(instr, a, b)`` of a dots message, from a netplay client (a dict) or a text client."""
    if isinstance(data, dict):
        instr, details = data.get("instr"), data.get("details")
    elif isinstance(data, str):
        instr, _, details = data.partition(" ")
    else:
        return None
    try:
        a, b = (int(n) for n in str(details).split())
    except ValueError:
        return None
    return (instr, a, b) if isinstance(instr, str) else None


class NoTeleports(RelayCheck):
    label = "15-112"  # the room label dots.py and the 15-112 text port use

    def setup(self) -> dict[str, tuple[int, int]]:
        return {}  # member id -> where its dot is

    def check(self, state: dict[str, tuple[int, int]], sender: str, data: Any) -> Checked:
        parsed = _parse(data)
        if parsed is None:
            return Checked.accept(state)  # not a dots message: other games share the room label
        instr, a, b = parsed
        here = state.get(sender)
        if instr == "playerTeleported":
            if here is not None and (a, b) != here:
                return Checked.refuse(state, "no teleporting: move one step at a time")
            return Checked.accept({**state, sender: (a, b)})
        if instr != "playerMoved":
            return Checked.accept(state)
        if abs(a) > STEP or abs(b) > STEP:
            return Checked.refuse(state, f"a move is at most {STEP} in each direction")
        x, y = here if here is not None else (WIDTH // 2, HEIGHT // 2)
        nx, ny = min(max(x + a, 0), WIDTH), min(max(y + b, 0), HEIGHT)
        after = {**state, sender: (nx, ny)}
        if (nx - x, ny - y) == (a, b):
            return Checked.accept(after)
        clamped = f"{nx - x} {ny - y}"
        if isinstance(data, dict):  # a text client's also carries its line as sent: it changes too
            rewritten: Any = {**data, "details": clamped}
            if "line" in data:
                rewritten["line"] = f"playerMoved {clamped}"
        else:
            rewritten = f"playerMoved {clamped}"
        return Checked.rewrite(after, rewritten)

    def left(self, state: dict[str, tuple[int, int]], member: str) -> dict[str, tuple[int, int]]:
        return {k: v for k, v in state.items() if k != member}
