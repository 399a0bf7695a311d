"""The match engine: everything a match decides, as a pure function of (match, action).

``start`` makes a match and ``step(rules, match, action)`` returns a ``Step``: the new match, the
effects for the shell to carry out, and, for an action the rules refuse, why. The engine never reads
a clock (every action carries its time ``at``), starts no timer (it asks for one with ``Arm``),
touches no socket or store (it asks with ``Record``, ``Changed``, ``Announce``), and owns the
randomness (an ``Rng`` per action from the match seed). A room is the shell around it; a restore, a
replay and a test all feed the same actions and get the same matches.

Who may act. Round-robin games (``Game.active`` not overridden) keep a ``turn``; others say which
seats may act in each state, one or several at once. A move made against an older ``version`` is
refused (``stale_version``) unless nothing it could depend on has changed: every change since that
version was a move by another seat that was, like this one, already allowed to act at that version
(two players choosing at once in rock-paper-scissors both move against the same version).

Clocks. A ``TimeControl`` gives each seat a budget (``initial`` plus ``increment`` per move) or a
limit per move; without one the server's ``move_limit`` bounds each move. Only seats that may act
have their clock running. When a clock runs out the game's ``timeout_policy`` applies: the seat
loses ("lose", reason "time"), or a random legal move ("random") or its first bot ("bot") plays for
it. A timeout is recorded like a move, so a replay needs no clock.

Each action and effect is a value: a slotted dataclass that nothing changes once made (not frozen,
because the engine makes several per move and a frozen one costs four times as much to build). The
effects come in the order the shell must carry them out: ``Record`` first (a move is stored before
anyone sees it), then the rest.
"""

from __future__ import annotations

import random
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any, Final

import orjson

from .base import TIMEOUT_POLICIES, Game, Outcome, State
from .rng import Rng

__all__ = [
    "CHANGED",
    "Action",
    "Announce",
    "Arm",
    "Changed",
    "DeclineDraw",
    "Effect",
    "Finished",
    "Forfeit",
    "Match",
    "Move",
    "NextMatch",
    "OfferDraw",
    "Record",
    "Refused",
    "Rematch",
    "ReplayError",
    "Resign",
    "Step",
    "Tick",
    "TimeControl",
    "Timeout",
    "action_from_record",
    "action_to_record",
    "clock_view",
    "replay",
    "start",
    "start_like",
    "step",
]

# -- time controls ------------------------------------------------------------------------------

_DURATION = r"(\d+(?:\.\d+)?)([smh]?)"
_UNITS: Final = {"": 1.0, "s": 1.0, "m": 60.0, "h": 3600.0}


def _seconds(number: str, unit: str) -> float:
    return float(number) * _UNITS[unit]


def _fmt(seconds: float) -> str:
    """Seconds as typed: 300, 0.5 (never rounded: the text is stored and parsed again on restore)."""
    return str(int(seconds)) if seconds.is_integer() else repr(seconds)


@dataclass(frozen=True, slots=True)
class TimeControl:
    """How much time each seat has: a budget with an increment per move, or a limit per move."""

    #: Seconds each seat has for the whole game (None: no game clock, see per_move).
    initial: float | None = None
    #: Seconds added to a seat's clock after each of its moves.
    increment: float = 0.0
    #: Seconds for each move, not carried over (None: no limit per move).
    per_move: float | None = None

    @classmethod
    def parse(cls, text: str) -> TimeControl:
        """Read ``300+5`` (300 s plus 5 s a move), ``5m+3``, ``600``, or ``30/move`` (30 s each move).

        Raises ValueError with the accepted forms.
        """
        spec = text.strip().lower()
        if m := re.fullmatch(_DURATION + r"\s*/\s*move", spec):
            per_move = _seconds(*m.groups())
            if not 0 < per_move <= 86_400:
                raise ValueError("a limit per move must be from 0 to 86400 seconds")
            return cls(per_move=per_move)
        if m := re.fullmatch(_DURATION + r"(?:\s*\+\s*" + _DURATION + r")?", spec):
            initial = _seconds(m.group(1), m.group(2))
            increment = _seconds(m.group(3), m.group(4)) if m.group(3) else 0.0
            if not 0 < initial <= 86_400 or not 0 <= increment <= 3_600:
                raise ValueError("a clock must be from 0 to 86400 seconds, an increment at most 3600")
            return cls(initial=initial, increment=increment)
        raise ValueError(
            f"{text!r} is not a time control: use INITIAL+INCREMENT in seconds (300+5, 5m+3), "
            "or SECONDS/move (30/move)"
        )

    def __str__(self) -> str:
        if self.initial is None:
            return f"{_fmt(self.per_move or 0)}/move"
        return f"{_fmt(self.initial)}+{_fmt(self.increment)}"


# -- actions: what happens to a match ------------------------------------------------------------


@dataclass(slots=True)
class Move:
    """``seat`` plays ``move``, seen against ``version`` (None: whatever is current)."""

    seat: int
    move: Any
    at: float
    version: int | None = None
    #: Played for the seat by the engine when its time ran out (the timeout policy).
    auto: bool = False


@dataclass(slots=True)
class _BySeat:
    """An action by one seat at time ``at``; each subclass names what the seat does."""

    seat: int
    at: float


class Resign(_BySeat):
    """``seat`` gives up the game."""

    __slots__ = ()


class Forfeit(_BySeat):
    """``seat`` abandoned the game: it left, or did not come back within the reconnect grace."""

    __slots__ = ()


class OfferDraw(_BySeat):
    """``seat`` offers (or accepts) a draw; it is agreed once every seat has."""

    __slots__ = ()


class DeclineDraw(_BySeat):
    """``seat`` withdraws its offer or declines the others'."""

    __slots__ = ()


class Timeout(_BySeat):
    """``seat``'s time ran out at ``at`` and it lost on time (recorded; never sent by a shell)."""

    __slots__ = ()


class Rematch(_BySeat):
    """``seat`` wants another game after this one."""

    __slots__ = ()


@dataclass(slots=True)
class Tick:
    """Time has passed: clocks that ran out by ``at`` are enforced. Never recorded."""

    at: float


Action = Move | Resign | Forfeit | OfferDraw | DeclineDraw | Timeout | Tick | Rematch

# -- effects: what the shell must do ------------------------------------------------------------


@dataclass(slots=True)
class Record:
    """Store ``action`` (it made the match ``version``) before anything else is sent."""

    action: Action
    version: int


@dataclass(slots=True)
class Changed:
    """The match changed: send every member its view of it."""


CHANGED: Final = Changed()


@dataclass(slots=True)
class Announce:
    """Tell every member of the room ``message`` (its ``room`` field is the shell's to add)."""

    message: dict[str, Any]


@dataclass(slots=True)
class Finished:
    """The match is over: record its outcome."""

    outcome: Outcome


@dataclass(slots=True)
class Arm:
    """Wake the engine with ``Tick(at)`` at time ``at`` (None: no deadline now). Replaces the last."""

    at: float | None


#: ``Arm(None)``, made once (treat it, as every effect, as a value).
_NO_DEADLINE: Final = Arm(None)


@dataclass(slots=True)
class NextMatch:
    """Every seat asked for a rematch: the shell starts the next match."""


Effect = Record | Changed | Announce | Finished | Arm | NextMatch


@dataclass(slots=True)
class Refused:
    """Why the rules refused an action: a stable error code, words for the player, extra fields."""

    code: str
    message: str
    extra: Mapping[str, Any] | None = None
    #: For the server's log only (an exception in a game's rules); never sent.
    detail: str | None = None


@dataclass(slots=True)
class Step:
    """What ``step`` returns: the match after the action, its effects, and a refusal if any.

    A refused action may still have effects: a move that arrives after its seat's deadline first
    enforces the timeout, then is refused.
    """

    match: Match
    effects: tuple[Effect, ...] = ()
    refused: Refused | None = None


class ReplayError(Exception):
    """A recorded action the rules now refuse: the record and the rules disagree."""


# -- the match ----------------------------------------------------------------------------------


@dataclass(slots=True, kw_only=True)
class Match:
    """One game of a room, as data. Every field is derived from the actions fed so far.

    Treat it as immutable: the engine never changes a match it was given, it returns a changed
    copy (``evolve``), so a shell may keep the old one if the new one cannot be stored.
    """

    id: str
    number: int
    seats: int
    #: The match's random seed: kept by the server, never in a state or a message.
    seed: int = 0
    options: Mapping[str, Any]
    control: TimeControl | None = None
    #: Seconds a seat may take for a move when there is no time control (None: no limit).
    move_limit: float | None = None
    #: Seats played by server-side bots: they ask for rematches and never agree to draws.
    bots: frozenset[int] = frozenset()
    state: State
    version: int
    #: The seat to move in a round-robin game; None for games that choose their own active seats.
    turn: int | None
    active: frozenset[int]
    #: For each seat, when its current move began (None: it may not act now).
    since: tuple[float | None, ...]
    #: Each seat's clock as of ``since`` (None without a game clock).
    remaining: tuple[float, ...] | None = None
    outcome: Outcome | None = None
    last: tuple[int, Any] | None = None
    draw_offers: frozenset[int] = frozenset()
    rematch: frozenset[int] = frozenset()
    #: Actions recorded so far; the next action's random stream.
    actions: int = 0
    #: (version made, by seat, seats that could act before it), newest last: the stale-move rule.
    history: tuple[tuple[int, int, frozenset[int]], ...] = ()
    started_at: float = 0.0

    def evolve(self, **changes: Any) -> Match:
        """A copy with ``changes`` (a hand-written copy: ``dataclasses.replace`` is 5x slower)."""
        new = _new_match(Match)
        new.id, new.number, new.seats, new.seed = self.id, self.number, self.seats, self.seed
        new.options, new.control, new.move_limit, new.bots = (
            self.options,
            self.control,
            self.move_limit,
            self.bots,
        )
        new.state, new.version, new.turn, new.active = self.state, self.version, self.turn, self.active
        new.since, new.remaining, new.outcome, new.last = self.since, self.remaining, self.outcome, self.last
        new.draw_offers, new.rematch, new.actions = self.draw_offers, self.rematch, self.actions
        new.history, new.started_at = self.history, self.started_at
        for name, value in changes.items():
            setattr(new, name, value)
        return new

    @property
    def over(self) -> bool:
        return self.outcome is not None

    def deadline(self, seat: int) -> float | None:
        """When ``seat`` runs out of time for its current move (None: no deadline, or not acting)."""
        began = self.since[seat]
        if began is None:
            return None
        control = self.control
        if control is None:
            return None if self.move_limit is None else began + self.move_limit
        if control.per_move is not None:
            return began + control.per_move
        assert self.remaining is not None
        return began + self.remaining[seat]

    def next_deadline(self) -> float | None:
        """The earliest deadline of any seat that may act (what the shell arms a timer for)."""
        if self.outcome is not None:
            return None
        if self.control is None:  # the usual case, once per move: the server's limit per move
            limit = self.move_limit
            if limit is None:
                return None
            if self.turn is not None:
                began = self.since[self.turn]
                return None if began is None else began + limit
        best = None
        for seat in self.active:
            d = self.deadline(seat)
            if d is not None and (best is None or d < best):
                best = d
        return best


_new_match = object.__new__
_NOBODY: Final = frozenset[int]()
#: ``frozenset((seat,))`` for the first seats, made once: who may act after most moves.
_ONE_SEAT: Final = tuple(frozenset((seat,)) for seat in range(16))


def _one_seat(seat: int, seats: int) -> frozenset[int]:
    """Just ``seat``, if the match has such a seat (else nobody: the caller reports the rules' bug)."""
    if type(seat) is not int or not 0 <= seat < seats:
        return _NOBODY
    return _ONE_SEAT[seat] if seat < 16 else frozenset((seat,))


_AUTO_STREAM: Final = 1 << 62  # streams of the moves chosen for seats out of time
_HISTORY: Final = 64  # changes kept for the stale-move rule; older versions are simply stale


@dataclass(frozen=True, slots=True)
class _Traits:
    """What the engine needs to know of a game's class, looked up once per class."""

    setup_rng: bool
    apply_rng: bool
    round_robin: bool
    #: The game chooses the next seat itself (else: round robin over the match's seats).
    own_next: bool


_TRAITS: dict[type, _Traits] = {}


def _traits(rules: Game) -> _Traits:
    cls = type(rules)
    traits = _TRAITS.get(cls)
    if traits is None:
        setup_rng, apply_rng = rules.wants_rng
        traits = _TRAITS[cls] = _Traits(
            setup_rng, apply_rng, rules.round_robin, cls.next_player is not Game.next_player
        )
    return traits


def _json_ok(state: State) -> bool:
    try:
        orjson.dumps(state)
        return True
    except TypeError:
        return False


def _active_of(rules: Game, state: State, seats: int, turn: int | None) -> frozenset[int]:
    if turn is not None:  # a seat that does not exist cannot act: the caller reports "no seat"
        return _one_seat(turn, seats)
    chosen = rules.active(state)
    return frozenset(s for s in chosen or () if type(s) is int and 0 <= s < seats)


def _after(
    match: Match, at: float, active: frozenset[int], mover: int | None, *, increment: bool = True
) -> tuple[tuple[float | None, ...], tuple[float, ...] | None]:
    """The clocks at ``at`` after ``mover`` (if any) acted, when ``active`` may act next.

    The mover's clock is charged (plus the increment) and restarts if it acts again; a seat that
    stops acting is charged; a seat that goes on acting keeps running from when it began.
    """
    remaining = match.remaining
    since = match.since
    if remaining is None and len(active) == 1:  # the usual case, once per move: one seat, no clock
        (seat,) = active
        began = since[seat]
        new_since: list[float | None] = [None] * match.seats
        new_since[seat] = at if seat == mover or began is None else began
        return tuple(new_since), None
    if remaining is not None:
        assert match.control is not None
        bonus = match.control.increment if increment else 0.0
        per_move = match.control.per_move
        left = list(remaining)
        for seat, began in enumerate(since):
            if began is not None and (seat == mover or seat not in active):
                if per_move is not None:  # nothing carries over: the next move has the whole limit
                    left[seat] = per_move
                else:
                    left[seat] = max(left[seat] - (at - began), 0.0) + (bonus if seat == mover else 0.0)
        remaining = tuple(left)
    return tuple(
        (at if (seat == mover or since[seat] is None) else since[seat]) if seat in active else None
        for seat in range(match.seats)
    ), remaining


def start(
    rules: Game,
    *,
    id: str,
    number: int,
    seats: int,
    seed: int,
    options: Mapping[str, Any],
    at: float,
    control: TimeControl | None = None,
    move_limit: float | None = None,
    bots: Iterable[int] = (),
    version: int = 1,
) -> Step:
    """A new match at time ``at``. Raises ValueError when the rules cannot start with ``options``.

    ``version`` is the first state's version: a room's later matches go on counting from its last,
    so that a move made against an old match is always stale.
    """
    opts = dict(options)
    traits = _traits(rules)
    try:
        state = rules.setup(opts, rng=Rng(seed, 0)) if traits.setup_rng else rules.setup(opts)  # type: ignore[call-arg]
    except Exception as exc:
        raise ValueError(f"{rules.name} cannot start with those options ({exc})") from exc
    if not _json_ok(state):
        raise ValueError(f"{rules.name}'s setup returned a state that is not JSON")
    turn = rules.first_player(state) if traits.round_robin else None
    active = _active_of(rules, state, seats, turn)
    remaining = None
    if control is not None:  # a per-move limit keeps one too: the limit, or 0 once a seat lost on time
        remaining = (
            float(control.initial if control.initial is not None else control.per_move or 0),
        ) * seats
    match = _new_match(Match)  # Match(...) with its keywords written out: once per game
    match.id, match.number, match.seats, match.seed, match.options = id, number, seats, seed, opts
    match.control, match.move_limit, match.bots = control, move_limit, frozenset(bots)
    match.state, match.version, match.turn, match.active = state, version, turn, active
    since: list[float | None] = [None] * seats
    for seat in active:
        since[seat] = at
    match.since, match.remaining, match.outcome, match.last = tuple(since), remaining, None, None
    match.draw_offers, match.rematch = _NOBODY, _NOBODY
    match.actions = 1  # stream 0 was setup's
    match.history, match.started_at = (), at
    outcome = rules.outcome(state)
    if outcome is not None:  # a game over before it starts: legal, if odd
        match = match.evolve(outcome=outcome.for_seats(seats), active=frozenset())
        return Step(match, (Finished(match.outcome), CHANGED, Arm(None)))  # type: ignore[arg-type]
    if not active:
        raise ValueError(f"{rules.name}'s rules leave no seat able to act at the start")
    return Step(match, (CHANGED, Arm(match.next_deadline())))


def step(rules: Game, match: Match, action: Action) -> Step:
    """The match after ``action``: a new match and its effects, or the same match and a refusal."""
    kind = type(action)
    if kind is Move:
        return _move(rules, match, action)  # type: ignore[arg-type]
    if kind is Tick:
        return _expire(rules, match, action.at)
    if kind is Rematch:
        return _rematch(match, action)  # type: ignore[arg-type]
    if kind is Timeout:  # recorded: applied without looking at the clock
        return _time_loss(rules, match, action.seat, action.at)  # type: ignore[union-attr]
    seat = action.seat  # type: ignore[union-attr]
    if not 0 <= seat < match.seats:
        return Step(match, (), Refused("not_a_player", "only players can do that"))
    ticked = _expire(rules, match, action.at)
    effects = ticked.effects if ticked.match is not match else ()  # no re-Arm ahead of the Record
    match = ticked.match
    if match.outcome is not None:
        return Step(match, effects, Refused("game_over", "the game is over"))
    if kind is Resign or kind is Forfeit:
        reason = "resign" if kind is Resign else None
        return _with(effects, _give_up(rules, match, seat, action.at, reason, action))
    if kind is OfferDraw:
        return _with(effects, _offer_draw(match, action))  # type: ignore[arg-type]
    if kind is DeclineDraw:
        return _with(effects, _decline_draw(match, action))  # type: ignore[arg-type]
    raise TypeError(f"not an action: {action!r}")


def _with(before: tuple[Effect, ...], after: Step) -> Step:
    return after if not before else Step(after.match, before + after.effects, after.refused)


def _move(rules: Game, match: Match, action: Move) -> Step:
    # This runs for every move a server sees: the usual case (one seat to move, no game clock) is
    # written out inline, and everything else goes through the general helpers.
    at = action.at
    effects: tuple[Effect, ...] = ()
    turn = match.turn
    if match.control is None and turn is not None:  # round robin, the server's move limit at most
        limit, began = match.move_limit, match.since[turn]
        deadline = None if limit is None or began is None else began + limit
    else:
        deadline = match.next_deadline()
    # An auto move is the timeout itself, played at its deadline (live or replayed): never too late.
    if deadline is not None and at >= deadline and not action.auto:  # the clock ran out before the timer
        ticked = _expire(rules, match, at)
        match, effects = ticked.match, ticked.effects
        turn = match.turn
    seat = action.seat
    if match.outcome is not None:
        return Step(match, effects, Refused("game_over", "the game is over; ask for a rematch"))
    version = action.version
    if version is not None and version != match.version and not _concurrent(match, seat, version):
        return Step(
            match,
            effects,
            Refused(
                "stale_version",
                f"move made against version {version}; the current version is {match.version}",
                {"version": match.version},
            ),
        )
    if seat not in match.active:
        if turn is not None:
            return Step(match, effects, Refused("not_your_turn", f"it is {rules.seat_label(turn)}'s turn"))
        waiting = " and ".join(rules.seat_label(s) for s in sorted(match.active))
        return Step(match, effects, Refused("not_your_turn", f"waiting for {waiting}, not you"))
    state = match.state
    seats = match.seats
    traits = _TRAITS.get(type(rules)) or _traits(rules)
    try:
        reason = rules.validate(state, seat, action.move)
        if reason is None:
            if traits.apply_rng:
                new = rules.apply(state, seat, action.move, rng=Rng(match.seed, match.actions))  # type: ignore[call-arg]
            else:
                new = rules.apply(state, seat, action.move)
            try:  # states are sent and stored as JSON: check before committing
                orjson.dumps(new)
            except TypeError:
                raise TypeError("apply returned a state that is not JSON") from None
            outcome = rules.outcome(new)
            if outcome is not None:
                turn, active = None, _NOBODY
            elif turn is not None:
                turn = rules.next_player(new, seat) if traits.own_next else (seat + 1) % seats
                active = _one_seat(turn, seats)
            else:
                active = _active_of(rules, new, seats, None)
    except Exception as exc:
        return Step(
            match, effects, Refused("internal_error", "the game's rules failed on that move", None, repr(exc))
        )
    if reason is not None:
        return Step(match, effects, Refused("invalid_move", reason))
    if outcome is None and not active:
        return Step(
            match,
            effects,
            Refused("internal_error", "the game's rules left no seat able to act", None, "empty active()"),
        )
    remaining = match.remaining
    if remaining is None and turn is not None:  # one seat acts next and starts its move now
        since_list: list[float | None] = [None] * seats
        since_list[turn] = at
        since: tuple[float | None, ...] = tuple(since_list)
    else:
        since, remaining = _after(match, at, active, seat)
    version = match.version + 1
    history = match.history  # round robin needs none: any other version is stale
    if turn is None:
        history = (*history[-(_HISTORY - 1) :], (version, seat, match.active))
    offers = match.draw_offers
    if offers and offers != {seat}:
        offers = offers & {seat}  # playing on declines the others' offers
    # What evolve() does, written out: evolve's keywords cost twice as much.
    new_match = _new_match(Match)
    new_match.id, new_match.number, new_match.seats, new_match.seed = (
        match.id,
        match.number,
        seats,
        match.seed,
    )
    new_match.options, new_match.control, new_match.move_limit, new_match.bots = (
        match.options,
        match.control,
        match.move_limit,
        match.bots,
    )
    new_match.state, new_match.version, new_match.turn, new_match.active = new, version, turn, active
    new_match.since, new_match.remaining, new_match.last = since, remaining, (seat, action.move)
    new_match.outcome = None if outcome is None else outcome.for_seats(seats)
    new_match.draw_offers, new_match.rematch, new_match.actions = offers, match.rematch, match.actions + 1
    new_match.history, new_match.started_at = history, match.started_at
    if outcome is None:
        if new_match.control is None and turn is not None:
            limit = new_match.move_limit
            arm = _NO_DEADLINE if limit is None else Arm(at + limit)
        else:
            arm = Arm(new_match.next_deadline())
        return Step(new_match, (*effects, Record(action, version), CHANGED, arm))
    assert new_match.outcome is not None
    return Step(
        new_match, (*effects, Record(action, version), Finished(new_match.outcome), CHANGED, _NO_DEADLINE)
    )


def _concurrent(match: Match, seat: int, version: int) -> bool:
    """Whether a move by ``seat`` against the older ``version`` conflicts with nothing since."""
    if version > match.version:
        return False
    changes = [h for h in match.history if h[0] > version]
    if len(changes) != match.version - version:
        return False  # older than the history we keep
    allowed = changes[0][2]  # who could act at ``version``
    return seat in allowed and all(by != seat and by in allowed for _, by, _ in changes)


def _finish(match: Match, outcome: Outcome, action: Action, at: float) -> Step:
    """End the match with ``outcome`` because of the recorded ``action``."""
    version = match.version + 1
    since, remaining = _after(match, at, frozenset(), getattr(action, "seat", None), increment=False)
    if remaining is not None and type(action) is Timeout:
        remaining = (*remaining[: action.seat], 0.0, *remaining[action.seat + 1 :])
    done = outcome.for_seats(match.seats)
    new = match.evolve(
        outcome=done,
        version=version,
        active=frozenset(),
        turn=None,
        since=since,
        remaining=remaining,
        draw_offers=frozenset(),
        actions=match.actions + 1,
        history=(*match.history[-(_HISTORY - 1) :], (version, -1, match.active)),
    )
    return Step(new, (Record(action, version), Finished(done), CHANGED, Arm(None)))


def _give_up(rules: Game, match: Match, seat: int, at: float, reason: str | None, action: Action) -> Step:
    others = [s for s in range(match.seats) if s != seat]
    try:
        outcome = rules.forfeit(match.state, seat, others)
    except Exception:  # a game's own policy failed: the last player standing wins, or a draw
        outcome = Game.forfeit(rules, match.state, seat, others)
    if reason is not None and outcome.reason in ("forfeit", "abandoned"):
        outcome = replace(outcome, reason=reason)
    return _finish(match, outcome, action, at)


def _time_loss(rules: Game, match: Match, seat: int, at: float) -> Step:
    if match.outcome is not None or not 0 <= seat < match.seats:
        return Step(match, (), Refused("game_over", "the game is over"))
    return _give_up(rules, match, seat, at, "time", Timeout(seat, at))


def _expire(rules: Game, match: Match, at: float) -> Step:
    """Enforce every deadline that has passed by ``at``, earliest first."""
    effects: tuple[Effect, ...] = ()
    for _ in range(4 * match.seats + 4):  # each round ends a seat's move; bounded for safety
        if match.outcome is not None:
            break
        expired = [(d, s) for s in sorted(match.active) if (d := match.deadline(s)) is not None and d <= at]
        if not expired:
            break
        deadline, seat = min(expired)
        result = _on_timeout(rules, match, seat, deadline)
        match, effects = result.match, effects + result.effects
    if effects:
        return Step(match, (*[e for e in effects if type(e) is not Arm], Arm(match.next_deadline())))
    return Step(match, (Arm(match.next_deadline()),))


def _on_timeout(rules: Game, match: Match, seat: int, deadline: float) -> Step:
    """The game's timeout policy for ``seat``, whose time ran out at ``deadline``."""
    policy = rules.timeout_policy if rules.timeout_policy in TIMEOUT_POLICIES else "lose"
    if policy != "lose":
        move = _auto_move(rules, match, seat, policy)
        if move is not None:
            played = _move(rules, match, Move(seat, move[0], deadline, None, auto=True))
            if played.refused is None:
                return played
    return _time_loss(rules, match, seat, deadline)


def _auto_move(rules: Game, match: Match, seat: int, policy: str) -> tuple[Any] | None:
    """A move to play for a seat out of time: its first bot's, or a random legal one."""
    rng = Rng(match.seed, _AUTO_STREAM + match.actions)  # not apply's stream: the choice must not bias it
    try:
        if policy == "bot" and rules.bots:
            bot = next(iter(rules.bots.values()))
            return (bot(rules, rules.view(match.state, seat), seat, random.Random(rng.next64())),)
        return (rng.choice(rules.legal_moves(match.state, seat)),)
    except Exception:
        return None


def _offer_draw(match: Match, action: OfferDraw) -> Step:
    offers = match.draw_offers | {action.seat}
    if offers == match.draw_offers:
        return Step(match, (), None)
    version = match.version  # an offer changes no state: the version stays, so moves stay current
    record = Record(action, version)
    if len(offers) == match.seats and not match.bots:
        done = Outcome.draw("agreed").for_seats(match.seats)
        since, remaining = _after(match, action.at, frozenset(), None)
        new = match.evolve(
            outcome=done,
            version=version + 1,
            active=frozenset(),
            turn=None,
            since=since,
            remaining=remaining,
            draw_offers=frozenset(),
            actions=match.actions + 1,
            history=(*match.history[-(_HISTORY - 1) :], (version + 1, -1, match.active)),
        )
        return Step(new, (Record(action, version + 1), Finished(done), CHANGED, Arm(None)))
    new = match.evolve(draw_offers=offers, actions=match.actions + 1)
    message = {"type": "draw_offered", "seat": action.seat, "offers": sorted(offers)}
    return Step(new, (record, Announce(message)))


def _decline_draw(match: Match, action: DeclineDraw) -> Step:
    if not match.draw_offers:
        return Step(match, (), None)  # nothing to decline: still a success
    new = match.evolve(draw_offers=frozenset(), actions=match.actions + 1)
    message = {"type": "draw_declined", "seat": action.seat}
    return Step(new, (Record(action, match.version), Announce(message)))


def _rematch(match: Match, action: Rematch) -> Step:
    if not 0 <= action.seat < match.seats:
        return Step(match, (), Refused("not_a_player", "only players can ask for a rematch"))
    if match.outcome is None:
        return Step(match, (), Refused("game_in_progress", "the game is not over yet"))
    votes = match.rematch | {action.seat} | match.bots
    new = match.evolve(rematch=votes)
    effects: tuple[Effect, ...] = (Announce({"type": "rematch_requested", "seat": action.seat}),)
    if len(votes) == match.seats:
        effects += (NextMatch(),)
    return Step(new, effects)


# -- records and replay -------------------------------------------------------------------------

_KINDS: Final[dict[type, str]] = {
    Move: "move",
    Resign: "resign",
    Forfeit: "forfeit",
    OfferDraw: "draw_offer",
    DeclineDraw: "draw_decline",
    Timeout: "timeout",
}


def action_to_record(action: Action) -> tuple[str, int, Any]:
    """(kind, seat, move or None) for the store; ``at`` and the version are stored beside it."""
    kind = _KINDS.get(type(action))
    if kind is None:
        raise TypeError(f"{type(action).__name__} is never recorded")
    if type(action) is Move:
        return ("auto" if action.auto else "move"), action.seat, action.move
    return kind, action.seat, None  # type: ignore[union-attr]


def action_from_record(kind: str, seat: int, move: Any, at: float) -> Action:
    """The action a stored record stands for."""
    if kind in ("move", "auto"):
        return Move(seat, move, at, None, auto=kind == "auto")
    for cls, name in _KINDS.items():
        if name == kind:
            action: Action = cls(seat, at)
            return action
    raise ReplayError(f"unknown recorded action {kind!r}")


def start_like(rules: Game, match: Match) -> Step:
    """Start again the match ``match`` began as (same id, seed, options, clock, seats, time):
    what a restore or a replay check does before feeding the recorded actions."""
    return start(
        rules,
        id=match.id,
        number=match.number,
        seats=match.seats,
        seed=match.seed,
        options=match.options,
        at=match.started_at,
        control=match.control,
        move_limit=match.move_limit,
        bots=match.bots,
        version=match.version,
    )


def replay(rules: Game, first: Step, actions: Iterable[Action]) -> Match:
    """Feed recorded ``actions`` to the match ``first`` started; raise ReplayError if one is refused.

    Restores after a crash and ``netplay replay`` both use it: the same actions give the same match.
    """
    match = first.match
    for n, action in enumerate(actions):
        result = step(rules, match, action)
        if result.refused is not None:
            raise ReplayError(f"recorded action {n} ({action!r}) is refused: {result.refused.message}")
        match = result.match
    return match


def clock_view(match: Match, now: float) -> dict[str, Any] | None:
    """Each seat's time left as of ``now`` and whose clock runs, for state messages (None: no clock)."""
    control = match.control
    if control is None:
        return None
    running = sorted(match.active) if match.outcome is None else []
    assert match.remaining is not None
    if control.per_move is not None:
        left = [
            max(control.per_move - (now - began), 0.0) if began is not None and s in running else r
            for s, (r, began) in enumerate(zip(match.remaining, match.since, strict=True))
        ]
    else:
        left = [
            max(r - (now - began), 0.0) if began is not None and s in running else r
            for s, (r, began) in enumerate(zip(match.remaining, match.since, strict=True))
        ]
    return {"control": str(control), "remaining": [round(x, 3) for x in left], "running": running}
