"""Test helpers for game authors: play a game through the real match engine, with no server.

``play`` runs a script of moves, ``random_playout`` a seeded random game, and ``playouts`` is a
Hypothesis strategy of random games. The ``check_*`` functions state properties every game should
keep and raise AssertionError with a message that says what broke, so they work as pytest tests::

    from netplay.testing import check_legal_play_never_raises, check_replay_equals_live

    def test_my_game_plays_and_replays():
        for playout in check_legal_play_never_raises(MyGame(), range(200)):
            check_replay_equals_live(MyGame(), playout)

Everything runs on a virtual clock: an action's time is a number the script gives (or the helper
counts), never the wall clock, so nothing here sleeps.
"""

from __future__ import annotations

import contextlib
import random
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, fields
from typing import TYPE_CHECKING, Any

import orjson

from .games import engine
from .games.base import Game, Outcome
from .games.engine import Action, Match, Move, Record, Step, TimeControl
from .proxy import LagProxy, Link, serve_proxy

if TYPE_CHECKING:
    from hypothesis.strategies import SearchStrategy

__all__ = [
    "Playout",
    "check_legal_play_never_raises",
    "check_no_leaks",
    "check_replay_equals_live",
    "lag_proxy",
    "play",
    "playouts",
    "random_playout",
]

#: A scripted step: ``(seat, move)``, or any engine action (``Resign``, ``OfferDraw``, ``Tick``...).
ScriptItem = tuple[int, Any] | Action


@dataclass(frozen=True, slots=True)
class Playout:
    """A game played through the engine: every match along the way, and what was recorded."""

    game: Game
    #: What ``engine.start`` returned.
    first: Step
    #: The actions fed to the engine, in order (with their times).
    fed: tuple[Action, ...]
    #: What ``engine.step`` returned for each action fed.
    steps: tuple[Step, ...]

    @property
    def matches(self) -> tuple[Match, ...]:
        """The match at the start, then after each action fed (a refused action leaves it as it was)."""
        return (self.first.match, *(s.match for s in self.steps))

    @property
    def match(self) -> Match:
        """The last match."""
        return self.steps[-1].match if self.steps else self.first.match

    @property
    def recorded(self) -> tuple[Action, ...]:
        """The actions the engine asked to store, in order: what a restore or a replay feeds again."""
        return tuple(e.action for s in self.steps for e in s.effects if type(e) is Record)

    @property
    def outcome(self) -> Outcome | None:
        """How the game ended (None: it had not ended when the playout stopped)."""
        return self.match.outcome

    @property
    def refusals(self) -> tuple[tuple[int, engine.Refused], ...]:
        """(index in ``fed``, refusal) for each action the engine refused."""
        return tuple((n, s.refused) for n, s in enumerate(self.steps) if s.refused is not None)


def _start(
    game: Game,
    *,
    seed: int,
    seats: int | None,
    options: Mapping[str, Any] | None,
    clock: TimeControl | str | None,
) -> Step:
    opts = dict(options or {})
    control = TimeControl.parse(clock) if isinstance(clock, str) else clock
    return engine.start(
        game,
        id="test",
        number=1,
        seats=game.seat_count(opts) if seats is None else seats,
        seed=seed,
        options=opts,
        at=0.0,
        control=control,
    )


def play(
    game: Game,
    moves_or_script: Iterable[ScriptItem],
    *,
    seed: int = 0,
    seats: int | None = None,
    options: Mapping[str, Any] | None = None,
    clock: TimeControl | str | None = None,
    strict: bool = True,
) -> Playout:
    """Play ``game`` from the start by script: ``[(0, 4), (1, 0), ...]`` as (seat, move) pairs.

    The match starts at time 0 and each (seat, move) is played one second after the action before
    it. Engine actions may be mixed in (``Tick(100.0)``, ``Resign(1, 5.0)``) and are fed as they are;
    the clock goes on from their time. ``clock`` is a time control (``"300+5"``, ``"30/move"``).
    With ``strict`` (the default) an action the rules refuse raises AssertionError with their reason;
    without it the refusal is kept in the playout (``Playout.refusals``) and the script goes on.
    """
    first = _start(game, seed=seed, seats=seats, options=options, clock=clock)
    match, now = first.match, 0.0
    fed: list[Action] = []
    steps: list[Step] = []
    for n, item in enumerate(moves_or_script):
        if isinstance(item, tuple):
            seat, move = item
            now += 1.0
            action: Action = Move(seat, move, now)
        else:
            action = item
            now = action.at
        result = engine.step(game, match, action)
        if strict and result.refused is not None:
            raise AssertionError(f"{game.name}: script item {n} ({action!r}) refused: {_refusal(result)}")
        fed.append(action)
        steps.append(result)
        match = result.match
    return Playout(game, first, tuple(fed), tuple(steps))


def _refusal(result: Step) -> str:
    refused = result.refused
    assert refused is not None
    detail = "" if refused.detail is None else f" ({refused.detail})"
    return f"{refused.code}: {refused.message}{detail}"


def random_playout(
    game: Game, seed: int, *, max_actions: int = 10_000, options: Mapping[str, Any] | None = None
) -> Playout:
    """A game where each action is a random legal move of a random seat that may act.

    ``seed`` seeds both the choices (a ``random.Random``) and the match (the rules' dice), so a seed
    is a reproducible game. It stops when the game is over or after ``max_actions`` moves. A move
    that ``legal_moves`` listed but the engine refused raises AssertionError, as does an active seat
    with no legal move or a ``legal_moves`` that raises.
    """
    chooser = random.Random(seed)
    first = _start(game, seed=seed, seats=None, options=options, clock=None)
    match = first.match
    fed: list[Action] = []
    steps: list[Step] = []
    while not match.over and len(steps) < max_actions:
        where = f"{game.name}, seed {seed}, action {len(steps)}"
        seat = chooser.choice(sorted(match.active))
        try:
            legal = list(game.legal_moves(match.state, seat))
        except Exception as exc:
            raise AssertionError(f"{where}: legal_moves(state, {seat}) raised {exc!r}") from exc
        if not legal:
            raise AssertionError(f"{where}: seat {seat} may act but legal_moves lists no move")
        action = Move(seat, chooser.choice(legal), float(len(steps) + 1))
        result = engine.step(game, match, action)
        if result.refused is not None:
            raise AssertionError(
                f"{where}: seat {seat}'s move {action.move!r}, from legal_moves, was refused: "
                + _refusal(result)
            )
        fed.append(action)
        steps.append(result)
        match = result.match
    return Playout(game, first, tuple(fed), tuple(steps))


def playouts(
    game: Game, *, options: Mapping[str, Any] | None = None, max_actions: int = 10_000
) -> SearchStrategy[Playout]:
    """A Hypothesis strategy of ``random_playout`` games from drawn seeds (needs ``hypothesis``)."""
    from hypothesis import strategies as st

    return st.integers(0, 2**63 - 1).map(
        lambda seed: random_playout(game, seed, max_actions=max_actions, options=options)
    )


# -- invariants ---------------------------------------------------------------------------------


def check_legal_play_never_raises(
    game: Game,
    seeds: Iterable[int],
    *,
    options: Mapping[str, Any] | None = None,
    max_actions: int = 10_000,
) -> list[Playout]:
    """Random legal play from each seed never fails: the rules accept every move ``legal_moves`` lists.

    Along every playout, ``view`` (for each seat and a spectator), ``view_move``, ``phase`` and
    ``legal_moves`` of each seat that may act must not raise, and each view must be JSON (it is
    sent to clients). Returns the playouts, for further checks.
    """
    played = []
    for seed in seeds:
        playout = random_playout(game, seed, max_actions=max_actions, options=options)
        for n, match in enumerate(playout.matches):
            _observe(game, match, f"{game.name}, seed {seed}, after action {n}")
        played.append(playout)
    return played


def _observe(game: Game, match: Match, where: str) -> None:
    """Call what the server calls to show ``match``; AssertionError naming the call that fails."""
    name = "phase(state)"
    try:
        game.phase(match.state)
        for viewer in [*range(match.seats), None]:
            name = f"view(state, {viewer})"
            orjson.dumps(game.view(match.state, viewer))
            if match.last is not None:
                name = f"view_move({match.last[0]}, {match.last[1]!r}, {viewer})"
                game.view_move(match.last[0], match.last[1], viewer)
        for seat in sorted(match.active):
            name = f"legal_moves(state, {seat})"
            game.legal_moves(match.state, seat)
    except Exception as exc:
        raise AssertionError(f"{where}: {name} raised {exc!r}") from exc


#: Fields a replay cannot restore: rematch votes are never recorded (a restored match forgets them).
_NOT_RECORDED = frozenset({"rematch"})


def check_replay_equals_live(game: Game, playout: Playout) -> Match:
    """Replaying what the playout recorded gives the same match, field by field; returns the replay.

    The recorded actions go through what the store keeps (``action_to_record``, the move as JSON,
    ``action_from_record``) and ``engine.replay``, after a fresh ``engine.start`` like the first:
    exactly a server's restore. Every field of the match must be equal (state, version, seats that
    may act, clocks, outcome, draw offers, the stale-move history...), except rematch votes, which
    are never recorded.
    """
    live = playout.match
    first = engine.start_like(game, playout.first.match)
    stored = [_through_store(game, action) for action in playout.recorded]
    try:
        replayed = engine.replay(game, first, stored)
    except engine.ReplayError as exc:
        raise AssertionError(f"{game.name}: the record does not replay: {exc}") from exc
    differences = _differences(live, replayed)
    if differences:
        raise AssertionError(
            f"{game.name}: the replay differs from the live match{_first_divergence(game, playout, stored)}: "
            + "; ".join(differences)
        )
    return replayed


def _through_store(game: Game, action: Action) -> Action:
    kind, seat, move = engine.action_to_record(action)
    try:
        move = orjson.loads(orjson.dumps(move))
    except TypeError as exc:
        raise AssertionError(f"{game.name}: the move {move!r} cannot be stored: it is not JSON") from exc
    return engine.action_from_record(kind, seat, move, action.at)


def _differences(live: Match, replayed: Match) -> list[str]:
    out = []
    for f in fields(live):
        if f.name in _NOT_RECORDED:
            continue
        a, b = getattr(live, f.name), getattr(replayed, f.name)
        if a != b:
            path, x, y = _first_difference(a, b)
            out.append(f"{f.name}{path}: live {_short(x)}, replayed {_short(y)}")
    return out


def _first_divergence(game: Game, playout: Playout, stored: Sequence[Action]) -> str:
    """Where the replay first parts from the live game: ' (from recorded action N, ...)'."""
    match = engine.start_like(game, playout.first.match).match
    done = 0
    for live_step in playout.steps:
        count = sum(type(e) is Record for e in live_step.effects)
        for action in stored[done : done + count]:
            match = engine.step(game, match, action).match
        done += count
        if count and _differences(live_step.match, match):
            return f" (from recorded action {done - count}, {stored[done - count]!r})"
    return ""


def _first_difference(a: Any, b: Any, path: str = "") -> tuple[str, Any, Any]:
    """The first place two JSON-like values differ, as a path (``["pending"][0]``) and both values."""
    if isinstance(a, Mapping) and isinstance(b, Mapping):
        for key in [*a, *(k for k in b if k not in a)]:
            if key not in a or key not in b or a[key] != b[key]:
                return _first_difference(a.get(key, "<missing>"), b.get(key, "<missing>"), f"{path}[{key!r}]")
    elif (
        isinstance(a, list | tuple)
        and isinstance(b, list | tuple)
        and type(a) is type(b)
        and len(a) == len(b)
    ):
        for n, (x, y) in enumerate(zip(a, b, strict=True)):
            if x != y:
                return _first_difference(x, y, f"{path}[{n}]")
    return path, a, b


def _short(value: Any, limit: int = 200) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _who(viewer: int | None) -> str:
    return "a spectator" if viewer is None else f"seat {viewer}"


def _seen_by(game: Game, match: Match, seat: int, move: Any, viewer: int | None) -> dict[str, Any]:
    """Everything ``viewer`` is shown of ``match`` just after ``seat`` played ``move``."""
    return {
        "view": game.view(match.state, viewer),
        "last": game.view_move(seat, move, viewer),
        "active": sorted(match.active),
        "phase": game.phase(match.state),
        "over": match.outcome is not None,
    }


def check_no_leaks(game: Game, playout: Playout) -> int:
    """A seat's secret choice is invisible to everyone else while others still choose alongside it.

    At each point of the playout where seat A made a move while another seat that could act with A
    (active before A's move) still has to act after it, A's move is swapped in turn for every other
    move in ``legal_moves`` the rules accept, from the same match. For every other seat and for a
    spectator, what the server would show just after the move must be identical whichever move A
    made: the view, the view of the last move (``view_move``), who may act, the phase, and whether
    the game is over. Returns how many alternatives were compared; raises AssertionError naming the
    viewer, both moves and the first path where what it sees differs.

    What it proves: for the states this playout passed through, nobody but A (not a seat that
    already chose, not a spectator who might pass it on) can tell A's simultaneous choice apart from
    any other legal choice until every seat acting alongside A has acted. The move that completes
    such a phase is not compared: revealing the choices then (the round of rock, paper, scissors) is
    the game working, not a leak.

    What it cannot prove: only this playout's states and the alternatives ``legal_moves`` lists are
    tried, so run it over many playouts. It says nothing about hidden information in round-robin
    play (a hand dealt by the rules' ``rng``, a move only some seats may see later): who may see
    what there is the game's own rule, which no generic check can know. It does not look for a
    leak spread across several later states, nor for timing. A game whose simultaneous choices are
    meant to be public fails it; do not use it for such a game.
    """
    compared = 0
    for n, result in enumerate(playout.steps):
        action = playout.fed[n]
        recorded = [e.action for e in result.effects if type(e) is Record]
        if type(action) is not Move or result.refused is not None or recorded != [action]:
            continue  # only a move played on its own (no timeout enforced first)
        before, after = playout.matches[n], result.match
        seat, move = action.seat, action.move
        waiting = (before.active & after.active) - {seat}
        if not waiting:
            continue
        viewers: list[int | None] = [s for s in range(before.seats) if s != seat]
        viewers.append(None)
        seen = {v: _seen_by(game, after, seat, move, v) for v in viewers}
        for other in game.legal_moves(before.state, seat):
            if other == move:
                continue
            alternative = engine.step(game, before, Move(seat, other, action.at))
            if alternative.refused is not None:
                continue
            compared += 1
            for viewer in viewers:
                mine, theirs = seen[viewer], _seen_by(game, alternative.match, seat, other, viewer)
                if mine != theirs:
                    path, x, y = _first_difference(mine, theirs)
                    still = ", ".join(str(s) for s in sorted(waiting))
                    raise AssertionError(
                        f"{game.name}: {_who(viewer)} can tell seat {seat}'s move {move!r} from {other!r} "
                        f"at version {after.version} while seat {still} has yet to act: "
                        f"{path} is {_short(x)} after {move!r} but {_short(y)} after {other!r}"
                    )
    return compared


def lag_proxy(
    port: int,
    *,
    latency: float = 0.15,
    jitter: float = 0.0,
    stall_every: float = 0.0,
    stall_for: float = 1.0,
    host: str = "127.0.0.1",
) -> contextlib.AbstractAsyncContextManager[LagProxy]:
    """A proxy in front of the server at ``host``:``port`` that adds ``latency`` to each round trip
    (seconds, give or take ``jitter``) and stalls every ``stall_every`` seconds, for a test that
    feels the network: ``async with lag_proxy(server.port) as proxy: connect to proxy.port``.
    Unlike the rest of this module it runs on the real clock (it is a real proxy)."""
    return serve_proxy((host, port), Link(latency, jitter, stall_every, stall_for))
