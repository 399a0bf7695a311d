"""The real-time game definition: a fixed-rate ``tick`` and a few more pure functions.

A real-time game is as pure as a turn-based one. The server calls ``tick(state, inputs, rng)``
``tick_rate`` times a second, with the inputs each seat sent for that tick, and sends every member
``view(state, seat)`` at ``patch_rate`` as a delta against what that member last acknowledged. The
step is fixed (one tick is always ``1 / tick_rate`` seconds of game time), so the same inputs always
give the same states: crash recovery and ``netplay replay`` rebuild a match from its inputs, and a
client predicts its own movement by running the same ``tick`` on its own inputs.

Keep the state in integers (positions in fixed point, say thousandths of a cell): a browser runs the
game's tick in JavaScript for prediction, and integers are the numbers both languages compute alike.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping
from typing import Any, ClassVar

from .base import Outcome, State
from .rng import Rng

__all__ = ["RealtimeBot", "RealtimeGame"]

#: A bot picks an input for ``seat`` (or None: nothing this tick) from what that seat can see.
RealtimeBot = Callable[["RealtimeGame", Any, int, random.Random], Any]


class RealtimeGame:
    """Subclass and override the rules. Every method is pure: same input, same output, no I/O.

    ``state`` must be JSON-compatible and should hold integers only (see the module docstring).
    Never mutate the state you are given: return a new one.
    """

    #: Short identifier used on the wire and the command line, e.g. "pong".
    name: ClassVar[str] = ""
    #: One line for lobbies and ``netplay games``.
    description: ClassVar[str] = ""
    #: Seats in a match (the default of ``seat_count``).
    players: ClassVar[int] = 2
    #: Simulation steps per second. Each tick is 1/tick_rate seconds of game time, always.
    tick_rate: ClassVar[int] = 30
    #: State patches per second sent to each client (at most ``tick_rate``).
    patch_rate: ClassVar[int] = 20
    #: Largest encoded input the server accepts, in bytes.
    max_input_bytes: ClassVar[int] = 256
    #: Bots that can take a seat, by name; the first is the default.
    bots: ClassVar[dict[str, RealtimeBot]] = {}
    #: How the web page draws the game: "builtin" for the games in the box, or a file name as
    #: ``Game.web_board`` (docs/javascript.md).
    web_board: ClassVar[str | None] = None
    #: For the web page's generic board (a game without a board of its own): the input each key
    #: sends while it is held, by the key's name (``KeyboardEvent.key``, letters in lower case:
    #: ``{"ArrowUp": [0, -1], "w": [0, -1]}``); the latest key held wins. Empty: the page offers
    #: a box to type inputs in, as JSON.
    keys: ClassVar[dict[str, Any]] = {}
    #: The input the generic board sends when no key is held any more (None: nothing).
    idle: ClassVar[Any] = None

    def setup(self, options: dict[str, Any], rng: Rng) -> State:
        """The state at tick 0."""
        raise NotImplementedError

    def seat_count(self, options: dict[str, Any]) -> int:
        """How many seats a match with these options has; raise ValueError for options it cannot play."""
        return self.players

    def validate_input(self, state: State, seat: int, data: Any) -> str | None:
        """Why ``data`` is not an input ``seat`` can send, or None if it is.

        It came from the network: check its shape before using it. Called when the input arrives,
        against the latest state; ``tick`` then only ever sees inputs that passed.
        """
        raise NotImplementedError

    def tick(self, state: State, inputs: Mapping[int, Any], rng: Rng) -> State:
        """The state one tick later. ``inputs`` holds, by seat, the input each seat sent for this
        tick (seats that sent none are absent: anything held, such as a direction, lives in the state)."""
        raise NotImplementedError

    def outcome(self, state: State) -> Outcome | None:
        """The result if the game is over, else None."""
        raise NotImplementedError

    def view(self, state: State, seat: int | None) -> Any:
        """What ``seat`` may see (None: a spectator). Override to hide information."""
        return state

    def leave(self, state: State, seat: int) -> State:
        """The state once ``seat`` has left for good: take its entity off the field, say.

        Called when the seat leaves, before ``forfeit`` (which then sees this state), and again at
        the same point by a replay. If it raises or returns a state that is not JSON, the state
        stays as it was. By default nothing changes.
        """
        return state

    def forfeit(self, state: State, seat: int, remaining: list[int]) -> Outcome | None:
        """The result when ``seat`` leaves for good (``state`` is what ``leave`` made); None to play
        on without it.

        By default the last player standing wins, and with several left the game goes on (the
        departed seat simply sends no more inputs).
        """
        if len(remaining) == 1:
            return Outcome.win(remaining[0], "forfeit")
        if not remaining:
            return Outcome.draw("abandoned")
        return None

    def own(self, view: Any, seat: int) -> Any:
        """The part of ``view`` that ``seat``'s own inputs move (a paddle, a cycle).

        A predicting client compares it with what it predicted, to count corrections: the others'
        movement cannot be predicted, the player's own can. By default the whole view.
        """
        return view

    def seat_label(self, seat: int) -> str:
        """A short name for a seat's side, such as "left" or "red"."""
        return f"player {seat + 1}"

    def render(self, view: Any, seat: int | None) -> str:
        """The view as text, for logs and a terminal that only watches."""
        import json

        return json.dumps(view)

    @property
    def has_hidden_information(self) -> bool:
        """True when ``view`` is overridden, so each seat may see something different."""
        return type(self).view is not RealtimeGame.view
