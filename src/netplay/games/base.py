"""The game definition: pure rules that never touch the network, a clock or storage.

A game is a class with a handful of pure functions over a JSON-compatible state. The server runs
any such definition authoritatively: it checks turns, calls ``validate`` then ``apply``, stamps a
version on every new state and sends each player ``view(state, seat)``.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar

__all__ = ["Bot", "Game", "Outcome", "State"]

#: A game state: JSON-compatible data (dicts, lists, strings, numbers, booleans, None).
State = Any


@dataclass(frozen=True, slots=True)
class Outcome:
    """How a finished game ended: ``winner`` is a seat number, or None for a draw."""

    winner: int | None
    reason: str = "rules"

    @classmethod
    def win(cls, seat: int, reason: str = "rules") -> Outcome:
        return cls(seat, reason)

    @classmethod
    def draw(cls, reason: str = "rules") -> Outcome:
        return cls(None, reason)

    @property
    def is_draw(self) -> bool:
        return self.winner is None

    def to_json(self) -> dict[str, Any]:
        return {"winner": self.winner, "draw": self.winner is None, "reason": self.reason}


#: A bot picks a move for ``seat`` from what that seat can see. ``rng`` makes it reproducible.
Bot = Callable[["Game", State, int, random.Random], Any]


class Game:
    """Subclass and override the rules. Every method is pure: same input, same output, no I/O.

    Seats are numbered 0 .. players-1. ``state`` must be JSON-compatible, because it is sent to
    clients (through ``view``) and stored. Never mutate the state you are given: return a new one.
    """

    #: Short identifier used on the wire and the command line, e.g. "tictactoe".
    name: ClassVar[str] = ""
    #: One line for lobbies and ``netplay games``.
    description: ClassVar[str] = ""
    #: Seats in a match.
    players: ClassVar[int] = 2
    #: Bots that can take a seat, by name; the first is the default.
    bots: ClassVar[dict[str, Bot]] = {}

    def setup(self, options: dict[str, Any]) -> State:
        """The state at the start of a match."""
        raise NotImplementedError

    def validate(self, state: State, seat: int, move: Any) -> str | None:
        """Why ``move`` by ``seat`` is illegal in ``state``, or None if it is legal.

        The server has already checked that it is ``seat``'s turn and that the game is not over.
        ``move`` came from the network: check its shape before using it.
        """
        raise NotImplementedError

    def apply(self, state: State, seat: int, move: Any) -> State:
        """The state after a legal move."""
        raise NotImplementedError

    def outcome(self, state: State) -> Outcome | None:
        """The result if the game is over, else None."""
        raise NotImplementedError

    def view(self, state: State, seat: int | None) -> Any:
        """What ``seat`` may see (None: a spectator). Override to hide information."""
        return state

    def view_move(self, seat: int, move: Any, viewer: int | None) -> dict[str, Any]:
        """What ``viewer`` may see of the move ``seat`` just made, as the state message's ``last``.

        Public games show it to everyone; in a game that hides information (``view`` overridden)
        only the mover sees the move itself, the others only who moved. Override to reveal more.
        """
        if not self.has_hidden_information or viewer == seat:
            return {"seat": seat, "move": move}
        return {"seat": seat}

    def first_player(self, state: State) -> int:
        """The seat that moves first."""
        return 0

    def next_player(self, state: State, seat: int) -> int:
        """The seat that moves after ``seat`` has moved into ``state``; round robin by default."""
        return (seat + 1) % self.players

    def forfeit(self, state: State, seat: int, remaining: list[int]) -> Outcome:
        """The result when ``seat`` abandons a game in progress; ``remaining`` are the seats still there.

        By default the last player standing wins, and with several left it is a draw.
        """
        if len(remaining) == 1:
            return Outcome.win(remaining[0], "forfeit")
        return Outcome.draw("abandoned")

    def legal_moves(self, state: State, seat: int) -> list[Any]:
        """Every legal move, where the game can list them (bots and hints use it)."""
        raise NotImplementedError

    # Terminal presentation: optional, used by ``netplay play``.
    def seat_label(self, seat: int) -> str:
        """A short name for a seat's side, such as "X" or "white"."""
        return f"seat {seat}"

    def render(self, view: Any, seat: int | None) -> str:
        """The view as text for a terminal."""
        import json

        return json.dumps(view, indent=2)

    def parse_move(self, text: str) -> Any:
        """Turn what a terminal player typed into a move; raise ValueError with a hint."""
        import json

        try:
            return json.loads(text)
        except ValueError:
            raise ValueError("type the move as JSON") from None

    @property
    def has_hidden_information(self) -> bool:
        """True when ``view`` is overridden, so each seat may see something different."""
        return type(self).view is not Game.view
