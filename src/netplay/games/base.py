"""The game definition: pure rules that never touch the network, a clock or storage.

A game is a class with a handful of pure functions over a JSON-compatible state. The server runs
any such definition authoritatively: it checks turns, calls ``validate`` then ``apply``, stamps a
version on every new state and sends each player ``view(state, seat)``.
"""

from __future__ import annotations

import inspect
import random
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

__all__ = ["TIMEOUT_POLICIES", "Bot", "Game", "Outcome", "State"]

#: What happens to a seat whose time runs out (``Game.timeout_policy``).
TIMEOUT_POLICIES = ("lose", "random", "bot")

#: A game state: JSON-compatible data (dicts, lists, strings, numbers, booleans, None).
State = Any


@dataclass(frozen=True, slots=True)
class Outcome:
    """How a finished game ended: a ranking of the seats, with ties, and optionally their scores.

    ``winner`` is the seat alone in first place (None for a draw or a shared first place); two-player
    games need nothing more than ``Outcome.win(seat)`` and ``Outcome.draw()``. Games for more players
    rank everyone: ``Outcome.ranked([[2], [0, 3], [1]])`` or ``Outcome.by_score(scores)``.
    """

    winner: int | None
    reason: str = "rules"
    #: Places, best first: each a tuple of the seats that share it. None: filled in by the engine
    #: from ``winner`` (the winner first, everyone else second; a draw: everyone first).
    ranking: tuple[tuple[int, ...], ...] | None = None
    #: Each seat's score, where the game keeps one.
    scores: tuple[float, ...] | None = None

    @classmethod
    def win(cls, seat: int, reason: str = "rules") -> Outcome:
        return cls(seat, reason)

    @classmethod
    def draw(cls, reason: str = "rules") -> Outcome:
        return cls(None, reason)

    @classmethod
    def ranked(
        cls, places: Iterable[Iterable[int]], reason: str = "rules", scores: Sequence[float] | None = None
    ) -> Outcome:
        """A ranking, best place first; seats in one place are tied (``[[0], [1, 2]]``)."""
        ranking = tuple(tuple(sorted(place)) for place in places if place)
        winner = ranking[0][0] if ranking and len(ranking[0]) == 1 else None
        return cls(winner, reason, ranking, None if scores is None else tuple(scores))

    @classmethod
    def by_score(cls, scores: Sequence[float], reason: str = "rules") -> Outcome:
        """Rank every seat by its score, highest first; equal scores share a place."""
        order = sorted(set(scores), reverse=True)
        return cls.ranked(([s for s, v in enumerate(scores) if v == best] for best in order), reason, scores)

    def for_seats(self, seats: int) -> Outcome:
        """This outcome with its ranking spelled out for a match of ``seats`` seats."""
        if self.ranking is not None:
            return self
        everyone = tuple(range(seats))
        if self.winner is None:
            return Outcome(None, self.reason, (everyone,), self.scores)
        rest = tuple(s for s in everyone if s != self.winner)
        return Outcome(
            self.winner, self.reason, ((self.winner,), rest) if rest else ((self.winner,),), self.scores
        )

    def places(self) -> list[int]:
        """Each seat's place, from 1 (tied seats share a place; the next place skips: 1, 2, 2, 4)."""
        assert self.ranking is not None, "call for_seats first"
        out: dict[int, int] = {}
        place = 1
        for group in self.ranking:
            for seat in group:
                out[seat] = place
            place += len(group)
        return [out[s] for s in sorted(out)]

    @property
    def is_draw(self) -> bool:
        """Every seat shares first place (or no ranking and no winner)."""
        return self.winner is None and (self.ranking is None or len(self.ranking) == 1)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"winner": self.winner, "draw": self.is_draw, "reason": self.reason}
        if self.ranking is not None:
            out["ranking"] = [list(group) for group in self.ranking]
            out["places"] = self.places()
        if self.scores is not None:
            out["scores"] = list(self.scores)
        return out

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Outcome:
        ranking = data.get("ranking")
        scores = data.get("scores")
        return cls(
            data.get("winner"),
            data.get("reason", "rules"),
            None if ranking is None else tuple(tuple(g) for g in ranking),
            None if scores is None else tuple(scores),
        )


#: A bot picks a move for ``seat`` from what that seat can see. ``rng`` makes it reproducible.
Bot = Callable[["Game", State, int, random.Random], Any]


class Game:
    """Subclass and override the rules. Every method is pure: same input, same output, no I/O.

    Seats are numbered 0 .. players-1. ``state`` must be JSON-compatible, because it is sent to
    clients (through ``view``) and stored. Never mutate the state you are given: return a new one.

    Randomness: give ``setup`` or ``apply`` a parameter named ``rng`` and the engine passes a
    ``netplay.games.Rng`` owned by the server (seeded per match, replayed exactly, never sent).
    Who moves: round robin through ``first_player``/``next_player`` by default; override
    ``active`` for simultaneous moves and phases.
    """

    #: Short identifier used on the wire and the command line, e.g. "tictactoe".
    name: ClassVar[str] = ""
    #: One line for lobbies and ``netplay games``.
    description: ClassVar[str] = ""
    #: Seats in a match (the default of ``seat_count``).
    players: ClassVar[int] = 2
    #: Bots that can take a seat, by name; the first is the default.
    bots: ClassVar[dict[str, Bot]] = {}
    #: What happens when a seat's clock runs out: "lose" (the game's forfeit policy, reason "time"),
    #: "random" (a random legal move is played for it) or "bot" (its first bot moves for it).
    timeout_policy: ClassVar[str] = "lose"
    #: How the web page draws the game. None: its generic board (the ``render`` text, and the
    #: ``legal_moves`` as buttons); "builtin": a board the page ships (the games in the box); a file
    #: name such as "board.js": the game's own JavaScript module, in the folder of the class's
    #: module, served at ``/games/<name>/board.js`` and run in a sandboxed frame (docs/javascript.md).
    web_board: ClassVar[str | None] = None

    def setup(self, options: dict[str, Any]) -> State:
        """The state at the start of a match. May take ``rng`` (see the class docstring)."""
        raise NotImplementedError

    def validate(self, state: State, seat: int, move: Any) -> str | None:
        """Why ``move`` by ``seat`` is illegal in ``state``, or None if it is legal.

        The server has already checked that ``seat`` may act now and that the game is not over.
        ``move`` came from the network: check its shape before using it.
        """
        raise NotImplementedError

    def apply(self, state: State, seat: int, move: Any) -> State:
        """The state after a legal move. May take ``rng`` (see the class docstring)."""
        raise NotImplementedError

    def outcome(self, state: State) -> Outcome | None:
        """The result if the game is over, else None."""
        raise NotImplementedError

    def seat_count(self, options: dict[str, Any]) -> int:
        """How many seats a match with these options has (``players`` unless the game varies it).

        Raise ValueError with a hint for options the game cannot be played with.
        """
        return self.players

    def active(self, state: State) -> Collection[int] | None:
        """The seats that may act in ``state``: one, several or all at once (simultaneous moves).

        None (the default) means round robin: ``first_player``, then ``next_player`` after each
        move. A game with phases (place ships together, then fire in turn) returns them from its
        state. Only seats listed here may move; the engine runs their clocks.
        """
        return None

    def phase(self, state: State) -> str | None:
        """A name for the stage the game is in ("placement", "firing"), shown to clients; optional."""
        return None

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
        """The seat that moves first (round robin games)."""
        return 0

    def next_player(self, state: State, seat: int) -> int:
        """The seat that moves after ``seat`` has moved into ``state``; round robin by default."""
        return (seat + 1) % self.players

    def forfeit(self, state: State, seat: int, remaining: list[int]) -> Outcome:
        """The result when ``seat`` abandons, resigns or runs out of time; ``remaining`` are the others.

        By default the last player standing wins; with several left they share first place and
        ``seat`` comes last.
        """
        if len(remaining) == 1:
            return Outcome.win(remaining[0], "forfeit")
        if not remaining:
            return Outcome.draw("abandoned")
        return Outcome.ranked([remaining, [seat]], "forfeit")

    def legal_moves(self, state: State, seat: int) -> list[Any]:
        """Every legal move, where the game can list them (bots, hints and timeouts use it)."""
        raise NotImplementedError

    # Terminal presentation: optional, used by ``netplay play``.
    def seat_label(self, seat: int) -> str:
        """A short name for a seat's side, such as "X" or "white" (people count from 1: "player 1")."""
        return f"player {seat + 1}"

    def notation(self, state: State, names: Sequence[str], outcome: Outcome | None) -> str | None:
        """The whole game in the game's own notation, for ``netplay replay`` (chess: the position in
        FEN and the game in PGN); None (the default) when the game has none. ``names`` by seat."""
        return None

    def move_text(self, move: Any) -> str:
        """A move as a person reads it (``"e4"``, ``"5"``); JSON unless the game says otherwise."""
        import json

        return json.dumps(move)

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

    @property
    def round_robin(self) -> bool:
        """True when the game leaves ``active`` alone: one seat at a time, by ``next_player``."""
        return type(self).active is Game.active

    @property
    def wants_rng(self) -> tuple[bool, bool]:
        """Whether ``setup`` and ``apply`` take an ``rng`` parameter (looked up once per class)."""
        cls = type(self)
        cached = _WANTS_RNG.get(cls)
        if cached is None:
            cached = _WANTS_RNG[cls] = (_takes_rng(cls.setup), _takes_rng(cls.apply))
        return cached


_WANTS_RNG: dict[type, tuple[bool, bool]] = {}


def _takes_rng(function: Callable[..., Any]) -> bool:
    try:
        return "rng" in inspect.signature(function).parameters
    except (TypeError, ValueError):
        return False
