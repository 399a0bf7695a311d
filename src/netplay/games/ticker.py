"""The tick engine: everything a real-time match decides, as a pure function of (match, action).

``start`` makes a match and ``step(rules, match, action)`` returns a ``TickStep``: the new match,
the effects for the shell to carry out, and, for an action refused, why. Like the turn engine
(``engine.py``) it never reads a clock (time comes in ``at``, seconds on whatever monotonic clock
the shell uses), starts no timer (it asks for one with ``Arm``), touches no socket or store (it asks
with ``Record``), and owns the randomness (tick ``n`` gets ``Rng(seed, n)``; setup gets stream 0).
A room feeds it ``Input``, ``Advance``, ``Leave`` and ``Fail``; a replay and the tests feed the same.

Input timing. Ticks are fixed: tick ``n`` is due at ``started_at + n / rate`` and the state after
it is state number ``n``. Clients run ahead of the server, predicting the game with the same
``tick``, and tag each input with the tick they predicted it for (the tick whose step it takes
part in). An input that arrives in time, up to ``max_ahead`` ticks early, is applied at exactly
that tick, so a client whose prediction agrees with the server never sees a correction. An input
at most ``max_late`` ticks late is not dropped but applied at the next tick to run (``Late`` tells
the shell, to count it); one later still, or too far ahead, is refused. Each input carries a
sequence number that must grow per seat; the ``acks`` of a match say, per seat, which input the
last tick applied, and a client reconciles its prediction against that.

Catching up. Deadlines are always ``started_at + n / rate``, never "now plus a period", so a late
wake-up runs every tick missed and the next deadline stays where it was: no drift. A shell that
falls more than ``max_catchup`` ticks behind runs that many and skips the rest (``Skipped``): the
clock of the match moves forward instead of the game racing through seconds of ticks.

Leaving. A seat that leaves for good (``Leave``) changes the state through the game's ``leave``
(its entity off the field, say), then the game's ``forfeit`` decides on that new state whether the
match ends. A ``leave`` that fails keeps the state as it was (``Failed`` says why).

Failing. A tick that raises ends the match as a draw ("error"). States are not checked to be JSON
at every tick (that cost as much as a tick of the arena): the shell sends views, not states, and a
view it cannot send (``view`` raised, or made something that is not JSON) is a ``Fail``, which
ends the match the same way, recorded.

Records. Only ticks that applied inputs are recorded (``Record``, before anyone sees their state),
plus the tick that ended the match, each seat that left and a ``Fail``; ``replay`` rebuilds the
match from those records alone, running the unrecorded ticks with no inputs and each departure's
``leave`` after its tick, as live play did.

Each action and effect is a value: a slotted dataclass nothing changes once made. A match is
treated as immutable too: ``step`` returns a new one and leaves the one it was given as it was.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Final

import orjson

from .base import Outcome, State
from .engine import Refused, ReplayError
from .realtime import RealtimeGame
from .rng import Rng

__all__ = [
    "GAME_OVER",
    "INPUT_TOO_EARLY",
    "INPUT_TOO_LARGE",
    "INPUT_TOO_LATE",
    "INTERNAL_ERROR",
    "INVALID_INPUT",
    "NOT_A_PLAYER",
    "STALE_INPUT",
    "Action",
    "Advance",
    "Arm",
    "Dropped",
    "Effect",
    "Fail",
    "Failed",
    "Finished",
    "Input",
    "Late",
    "Leave",
    "Pending",
    "Record",
    "Refused",
    "ReplayError",
    "Skipped",
    "TickMatch",
    "TickStep",
    "Ticked",
    "next_due",
    "rebase",
    "record_from_json",
    "record_to_json",
    "replay",
    "start",
    "step",
]

# -- refusal codes (stable strings for the wire, as in protocol.ErrorCode) ----------------------

#: The seat does not exist or has left the match for good.
NOT_A_PLAYER: Final = "not_a_player"
#: The match is over.
GAME_OVER: Final = "game_over"
#: The input, encoded as JSON, is longer than the game's ``max_input_bytes``.
INPUT_TOO_LARGE: Final = "input_too_large"
#: The input is not JSON, its tick is not an integer, or the game's ``validate_input`` refused it.
INVALID_INPUT: Final = "invalid_input"
#: The sequence number is not newer than the last one received from that seat.
STALE_INPUT: Final = "stale_input"
#: The input is for a tick more than ``max_ahead`` ticks after the next one.
INPUT_TOO_EARLY: Final = "input_too_early"
#: The input is for a tick more than ``max_late`` ticks before the next one.
INPUT_TOO_LATE: Final = "input_too_late"
#: The game's rules raised (the detail, for the log, holds the exception).
INTERNAL_ERROR: Final = "internal_error"

# -- actions: what happens to a match ------------------------------------------------------------


@dataclass(slots=True)
class Input:
    """``seat`` sends its ``seq``-th input ``data``, meant for tick number ``tick``."""

    seat: int
    seq: int
    tick: int
    data: Any


@dataclass(slots=True)
class Advance:
    """Time has passed: run every tick due by ``at``."""

    at: float


@dataclass(slots=True)
class Leave:
    """``seat`` left for good at ``at`` (the shell sends it once the reconnect grace is over)."""

    seat: int
    at: float


@dataclass(slots=True)
class Fail:
    """The shell could not send the match's state: the game's ``view`` raised, or made something
    that is not JSON. The match ends now, as a draw ("error"), and its record says so."""

    detail: str


Action = Input | Advance | Leave | Fail

# -- effects: what the shell must do -------------------------------------------------------------


@dataclass(slots=True)
class Record:
    """Store this before anyone sees the state it makes: tick ``tick`` ran with ``inputs`` (by
    seat, ``(seq, data)``), then the seats in ``left`` left for good (``inputs`` is then empty and
    ``tick`` is the tick that had run already)."""

    tick: int
    inputs: Mapping[int, tuple[int, Any]]
    left: tuple[int, ...] = ()
    #: The match ended here, after tick ``tick``, on a ``Fail`` (``inputs`` is then empty).
    failed: bool = False


@dataclass(slots=True)
class Ticked:
    """Ticks ``first`` to ``last`` ran; ``late`` is how many seconds after its deadline the first
    one ran (the shell's timer lateness: 0 or more)."""

    first: int
    last: int
    late: float


@dataclass(slots=True)
class Skipped:
    """``count`` ticks were never run: the shell fell too far behind, and the match's clock moved."""

    count: int


@dataclass(slots=True)
class Late:
    """Input ``seq`` of ``seat`` came ``by_ticks`` ticks late and is applied at the next tick."""

    seat: int
    seq: int
    by_ticks: int


@dataclass(slots=True)
class Dropped:
    """Input ``seq`` of ``seat`` will never be applied: "replaced" (a newer input for the same
    tick) or "left" (its seat left)."""

    seat: int
    seq: int
    reason: str


@dataclass(slots=True)
class Failed:
    """The game's rules failed: a tick raised (the match ends as a draw, ``Finished`` follows), or
    ``leave`` raised or made a state that is not JSON (the state stays as it was, the match goes on),
    or the shell could not send the state (``Fail``: the match ends as a draw)."""

    detail: str


@dataclass(slots=True)
class Finished:
    """The match is over: record its outcome."""

    outcome: Outcome


@dataclass(slots=True)
class Arm:
    """Wake the engine with ``Advance`` at time ``at`` (the next tick's deadline). Replaces the last."""

    at: float


Effect = Record | Ticked | Skipped | Late | Dropped | Failed | Finished | Arm


@dataclass(slots=True)
class TickStep:
    """What ``step`` returns: the match after the action, its effects, and a refusal if any.

    A refused action leaves the match as it was (the very same object) and has no effects.
    """

    match: TickMatch
    effects: tuple[Effect, ...] = ()
    refused: Refused | None = None


# -- the match ----------------------------------------------------------------------------------

#: Inputs waiting for their tick: by tick, by seat, (seq, data). Copied, never changed, on a change.
Pending = Mapping[int, Mapping[int, tuple[int, Any]]]


@dataclass(slots=True, kw_only=True)
class TickMatch:
    """One real-time match, as data. Every field follows from the actions fed so far.

    Treat it as immutable: ``step`` never changes a match, it returns a new one.
    """

    id: str
    number: int
    seats: int
    #: The match's random seed: kept by the server, never in a state or a message.
    seed: int
    options: Mapping[str, Any]
    #: Ticks per second (the game's ``tick_rate``).
    rate: int
    #: When tick 0 was: tick n is due at ``started_at + n / rate``.
    started_at: float
    #: Ticks run so far: ``state`` is the state after tick number ``tick``.
    tick: int = 0
    state: State
    #: The result (``for_seats`` applied) once the match is over.
    outcome: Outcome | None = None
    #: Per seat, the highest input seq received (-1: none).
    received: tuple[int, ...]
    #: Per seat, the seq of the input the latest tick applied for it (-1: none): clients reconcile on it.
    acks: tuple[int, ...]
    #: Inputs queued for future ticks (see ``Pending``).
    pending: Pending
    #: Seats that left for good.
    gone: frozenset[int] = frozenset()
    #: Ticks never run because the shell fell too far behind, in total.
    skipped: int = 0

    @property
    def over(self) -> bool:
        """Whether the match has ended."""
        return self.outcome is not None

    @property
    def max_ahead(self) -> int:
        """How many ticks past the next one an input may be meant for (one second's worth)."""
        return self.rate

    @property
    def max_late(self) -> int:
        """How many ticks before the next one an input may be meant for (half a second's worth)."""
        return self.rate // 2

    @property
    def max_catchup(self) -> int:
        """The most ticks one ``Advance`` runs (one second's worth); the rest are skipped."""
        return self.rate


_new: Final = object.__new__


def _copy(m: TickMatch) -> TickMatch:
    """A field-by-field copy (``dataclasses.replace`` costs several times as much)."""
    new: TickMatch = _new(TickMatch)
    new.id, new.number, new.seats, new.seed, new.options = m.id, m.number, m.seats, m.seed, m.options
    new.rate, new.started_at, new.tick, new.state, new.outcome = (
        m.rate,
        m.started_at,
        m.tick,
        m.state,
        m.outcome,
    )
    new.received, new.acks, new.pending, new.gone, new.skipped = (
        m.received,
        m.acks,
        m.pending,
        m.gone,
        m.skipped,
    )
    return new


_NO_PENDING: Final[Pending] = {}


def rebase(match: TickMatch, at: float) -> TickMatch:
    """The match going on from ``at``: its next tick due one period later, nothing else changed.

    A shell that paused the match (a restored match waits for its players) resumes it with this,
    so the pause is not caught up as a burst of ticks, nor skipped and counted.
    """
    new = _copy(match)
    new.started_at = at - match.tick / match.rate
    return new


def next_due(match: TickMatch) -> float | None:
    """When the next tick is due (None: the match is over)."""
    if match.outcome is not None:
        return None
    return match.started_at + (match.tick + 1) / match.rate


# -- start and step ------------------------------------------------------------------------------


def _setup(
    rules: RealtimeGame, *, id: str, number: int, seats: int, seed: int, options: Mapping[str, Any], at: float
) -> TickMatch:
    rate = rules.tick_rate
    if type(rate) is not int or rate < 1:
        raise ValueError(f"{rules.name}'s tick_rate must be a positive integer, not {rate!r}")
    if type(seats) is not int or seats < 1:
        raise ValueError(f"a match needs at least one seat, not {seats!r}")
    opts = dict(options)
    try:
        state = rules.setup(opts, Rng(seed, 0))
    except Exception as exc:
        raise ValueError(f"{rules.name} cannot start with those options ({exc})") from exc
    try:
        orjson.dumps(state)
    except TypeError:
        raise ValueError(f"{rules.name}'s setup returned a state that is not JSON") from None
    try:
        outcome = rules.outcome(state)
        done = None if outcome is None else outcome.for_seats(seats)
    except Exception as exc:
        raise ValueError(f"{rules.name}'s outcome failed on the first state ({exc!r})") from exc
    return TickMatch(
        id=id,
        number=number,
        seats=seats,
        seed=seed,
        options=opts,
        rate=rate,
        started_at=at,
        tick=0,
        state=state,
        outcome=done,
        received=(-1,) * seats,
        acks=(-1,) * seats,
        pending=_NO_PENDING,
    )


def start(
    rules: RealtimeGame,
    *,
    id: str,
    number: int,
    seats: int,
    seed: int,
    options: Mapping[str, Any],
    at: float,
) -> TickStep:
    """A new match whose tick 0 is at ``at``: ``Arm`` for tick 1, or ``Finished`` if the first
    state is already over. Raises ValueError when the rules cannot start with ``options``."""
    match = _setup(rules, id=id, number=number, seats=seats, seed=seed, options=options, at=at)
    if match.outcome is not None:
        return TickStep(match, (Finished(match.outcome),))
    return TickStep(match, (Arm(at + 1 / match.rate),))


def step(rules: RealtimeGame, match: TickMatch, action: Action) -> TickStep:
    """The match after ``action``: a new match and its effects, or the same match and a refusal.

    Never raises for anything the game's rules or a client do: a rule that fails ends the match
    (``Failed``) or refuses the input (``internal_error``).
    """
    kind = type(action)
    if kind is Input:
        return _input(rules, match, action)  # type: ignore[arg-type]
    if kind is Advance:
        return _advance(rules, match, action.at)  # type: ignore[union-attr]
    if kind is Leave:
        return _leave(rules, match, action)  # type: ignore[arg-type]
    if kind is Fail:
        return _fail(match, action)  # type: ignore[arg-type]
    raise TypeError(f"not an action: {action!r}")


def _no(match: TickMatch, code: str, message: str, extra: Mapping[str, Any] | None = None) -> TickStep:
    return TickStep(match, (), Refused(code, message, extra))


def _input(rules: RealtimeGame, match: TickMatch, action: Input) -> TickStep:
    # Runs for every input of every seat: the checks are written out, the copy is one dict and a tuple.
    seat = action.seat
    if type(seat) is not int or not 0 <= seat < match.seats or seat in match.gone:
        return _no(match, NOT_A_PLAYER, "only players in the game can send inputs")
    if match.outcome is not None:
        return _no(match, GAME_OVER, "the game is over")
    data = action.data
    try:
        size = len(orjson.dumps(data))
    except TypeError:
        return _no(match, INVALID_INPUT, "an input must be JSON")
    limit = rules.max_input_bytes
    if size > limit:
        return _no(
            match,
            INPUT_TOO_LARGE,
            f"the input is {size} bytes; at most {limit} are allowed",
            {"limit": limit},
        )
    seq = action.seq
    received = match.received
    last_seq = received[seat]
    if type(seq) is not int or seq <= last_seq:
        return _no(
            match, STALE_INPUT, f"input {seq!r} is not newer than input {last_seq}", {"received": last_seq}
        )
    tick = action.tick
    if type(tick) is not int:
        return _no(match, INVALID_INPUT, "an input's tick must be an integer")
    next_tick = match.tick + 1
    rate = match.rate
    if tick > next_tick + rate:
        return _no(
            match,
            INPUT_TOO_EARLY,
            f"input for tick {tick} is too far ahead: the next tick is {next_tick}",
            {"tick": match.tick},
        )
    if tick < next_tick - rate // 2:
        return _no(
            match,
            INPUT_TOO_LATE,
            f"input for tick {tick} came too late: the next tick is {next_tick}",
            {"tick": match.tick},
        )
    try:
        reason = rules.validate_input(match.state, seat, data)
    except Exception as exc:
        return TickStep(
            match, (), Refused(INTERNAL_ERROR, "the game's rules failed on that input", None, repr(exc))
        )
    if reason is not None:
        return _no(match, INVALID_INPUT, str(reason))
    effects: tuple[Effect, ...] = ()
    if tick < next_tick:
        effects = (Late(seat, seq, next_tick - tick),)
        tick = next_tick
    pending = match.pending
    entry = (seq, data)
    row = pending.get(tick)
    if row is None:
        new_row: Mapping[int, tuple[int, Any]] = {seat: entry}
    else:
        old = row.get(seat)
        grown = dict(row)
        grown[seat] = entry
        if old is not None:
            effects = (*effects, Dropped(seat, old[0], "replaced"))
        elif seat < max(row):  # keep each row in seat order: the order the rules and the records see
            grown = dict(sorted(grown.items()))
        new_row = grown
    new_pending = dict(pending)
    new_pending[tick] = new_row
    new = _copy(match)
    new.received = (*received[:seat], seq, *received[seat + 1 :])
    new.pending = new_pending
    return TickStep(new, effects)


def _last_due(started: float, rate: int, at: float, done: int) -> int:
    """The highest tick due by ``at`` (at least ``done``), by the exact deadline ``started + n / rate``."""
    last = max(done, math.floor((at - started) * rate))
    while started + (last + 1) / rate <= at:
        last += 1
    while last > done and started + last / rate > at:
        last -= 1
    return last


def _run(
    rules: RealtimeGame,
    seats: int,
    seed: int,
    state: State,
    acks: tuple[int, ...],
    rows: Pending,
    first: int,
    last: int,
) -> tuple[State, tuple[int, ...], int, Outcome | None, str | None, list[Record]]:
    """Run ticks ``first`` to ``last`` with the inputs in ``rows``; shared by live play and replay.

    Returns the state, the acks, the last tick run, the outcome if the match ended, the failure's
    detail if the rules failed, and the records. The tick that ends the match is always recorded
    (so a replay reaches the end), and so is a tick whose rules failed (so a replay fails alike).
    """
    records: list[Record] = []
    new_acks: list[int] | None = None
    outcome: Outcome | None = None
    failed: str | None = None
    ran = first - 1
    tick = rules.tick
    over = rules.outcome
    for n in range(first, last + 1):
        row = rows.get(n) if rows else None
        inputs = {s: e[1] for s, e in row.items()} if row else {}
        try:
            new = tick(state, inputs, Rng(seed, n))  # not checked to be JSON: views are, as they are sent
            result = over(new)
            if result is not None:
                result = result.for_seats(seats)
        except Exception as exc:
            failed = repr(exc)
            outcome = Outcome.draw("error").for_seats(seats)
            records.append(Record(n, row if row else {}))
            break
        state, ran = new, n
        if row:
            if new_acks is None:
                new_acks = list(acks)
            for s, e in row.items():
                new_acks[s] = e[0]
            records.append(Record(n, row))
        if result is not None:
            outcome = result
            if not row:
                records.append(Record(n, {}))
            break
    return state, acks if new_acks is None else tuple(new_acks), ran, outcome, failed, records


def _advance(rules: RealtimeGame, match: TickMatch, at: float) -> TickStep:
    if match.outcome is not None:
        return TickStep(match)
    if not math.isfinite(at):
        return TickStep(match, (), Refused(INTERNAL_ERROR, "the time is not a finite number", None, repr(at)))
    rate, started, done = match.rate, match.started_at, match.tick
    last = _last_due(started, rate, at, done)
    if last <= done:
        return TickStep(match, (Arm(started + (done + 1) / rate),))
    skip = 0
    if last - done > rate:  # too far behind: run one second's worth, skip the rest
        skip = last - done - rate
        last = done + rate
    first = done + 1
    late = max(at - (started + first / rate), 0.0)
    pending = match.pending
    state, acks, ran, outcome, failed, records = _run(
        rules, match.seats, match.seed, match.state, match.acks, pending, first, last
    )
    new = _copy(match)
    new.state, new.acks, new.tick = state, acks, ran
    effects: list[Effect] = list(records)
    if ran >= first:
        effects.append(Ticked(first, ran, late))
    if outcome is not None:
        new.outcome, new.pending = outcome, _NO_PENDING
        if failed is not None:
            effects.append(Failed(failed))
        effects.append(Finished(outcome))
        return TickStep(new, tuple(effects))
    if pending and min(pending) <= last:
        new.pending = {n: row for n, row in pending.items() if n > last}
    if skip:
        started = at - last / rate  # the next tick is due one period after ``at``
        new.started_at, new.skipped = started, match.skipped + skip
        effects.append(Skipped(skip))
    effects.append(Arm(started + (last + 1) / rate))
    return TickStep(new, tuple(effects))


def _left(rules: RealtimeGame, state: State, seat: int) -> tuple[State, str | None]:
    """The state once ``seat`` has left (the game's ``leave``); shared by live play and replay.

    If ``leave`` raises or makes a state that is not JSON, the state as it was, and the failure's detail.
    """
    try:
        new = rules.leave(state, seat)
        orjson.dumps(new)  # states are sent and stored as JSON: check before committing
    except Exception as exc:
        return state, repr(exc)
    return new, None


def _forfeit(
    rules: RealtimeGame, state: State, seat: int, remaining: list[int], seats: int
) -> Outcome | None:
    """The game's result when ``seat`` leaves; its default policy if the game's own one fails."""
    try:
        outcome = rules.forfeit(state, seat, list(remaining))
        if outcome is not None and not isinstance(outcome, Outcome):
            raise TypeError(f"forfeit returned {outcome!r}, not an Outcome")
    except Exception:
        outcome = RealtimeGame.forfeit(rules, state, seat, list(remaining))
    return None if outcome is None else outcome.for_seats(seats)


def _leave(rules: RealtimeGame, match: TickMatch, action: Leave) -> TickStep:
    seat = action.seat
    if type(seat) is not int or not 0 <= seat < match.seats or seat in match.gone:
        return _no(match, NOT_A_PLAYER, "only players in the game can leave it")
    if match.outcome is not None:
        return _no(match, GAME_OVER, "the game is over")
    gone = match.gone | {seat}
    remaining = [s for s in range(match.seats) if s not in gone]
    state, failed = _left(rules, match.state, seat)
    outcome = _forfeit(rules, state, seat, remaining, match.seats)
    effects: list[Effect] = [Record(match.tick, {}, (seat,))]
    if failed is not None:
        effects.append(Failed(failed))
    pending = match.pending
    kept: dict[int, Mapping[int, tuple[int, Any]]] = {}
    dropped = False
    for n in sorted(pending):
        row = pending[n]
        entry = row.get(seat)
        if entry is None:
            kept[n] = row
            continue
        effects.append(Dropped(seat, entry[0], "left"))
        dropped = True
        if len(row) > 1:
            kept[n] = {s: e for s, e in row.items() if s != seat}
    new = _copy(match)
    new.gone, new.state = gone, state
    new.pending = kept if dropped else pending
    if outcome is not None:
        new.outcome, new.pending = outcome, _NO_PENDING
        effects.append(Finished(outcome))
    return TickStep(new, tuple(effects))


def _fail(match: TickMatch, action: Fail) -> TickStep:
    if match.outcome is not None:
        return _no(match, GAME_OVER, "the game is over")
    outcome = Outcome.draw("error").for_seats(match.seats)
    new = _copy(match)
    new.outcome, new.pending = outcome, _NO_PENDING
    return TickStep(new, (Record(match.tick, {}, failed=True), Failed(action.detail), Finished(outcome)))


# -- records and replay -------------------------------------------------------------------------


def record_to_json(record: Record) -> dict[str, Any]:
    """A record as JSON-compatible data for the store (seats become string keys; ``left`` only if any)."""
    out: dict[str, Any] = {
        "tick": record.tick,
        "inputs": {str(seat): [seq, data] for seat, (seq, data) in record.inputs.items()},
    }
    if record.left:
        out["left"] = list(record.left)
    if record.failed:
        out["failed"] = True
    return out


def record_from_json(data: Mapping[str, Any]) -> Record:
    """The record ``record_to_json`` stored (seats back to integers). Raises ReplayError if malformed."""
    try:
        tick = data["tick"]
        inputs = {int(seat): (entry[0], entry[1]) for seat, entry in data.get("inputs", {}).items()}
        left = tuple(int(seat) for seat in data.get("left", ()))
        failed = data.get("failed", False)
    except (KeyError, TypeError, ValueError, IndexError, AttributeError) as exc:
        raise ReplayError(f"not a tick record: {data!r} ({exc!r})") from None
    if type(tick) is not int or any(type(seq) is not int for seq, _ in inputs.values()):
        raise ReplayError(f"not a tick record: {data!r}")
    if type(failed) is not bool or (failed and (inputs or left)):
        raise ReplayError(f"not a tick record: {data!r}")
    return Record(tick, inputs, left, failed)


def replay(
    rules: RealtimeGame,
    *,
    id: str,
    number: int,
    seats: int,
    seed: int,
    options: Mapping[str, Any],
    records: Iterable[Record],
    until: int | None = None,
    at: float = 0.0,
) -> TickMatch:
    """Rebuild a match from its records alone: every tick from 1 to the last recorded one (or to
    ``until``), each with its recorded inputs (none if unrecorded), and each departure after its tick
    (the game's ``leave``, then its ``forfeit``, as live).

    The rebuilt match goes on from ``at``: its next tick is due one period later. Its state, tick,
    outcome, acks and departures equal the live match's; ``received`` is the newest seq recorded per
    seat; nothing is pending and nothing skipped. Raises ReplayError for records that cannot come
    from one match (out of order, unknown seats, past its end); ValueError as ``start`` does.
    """
    match = _setup(rules, id=id, number=number, seats=seats, seed=seed, options=options, at=at)
    state, tick, acks, outcome = match.state, 0, match.acks, match.outcome
    received = list(match.received)
    gone: set[int] = set()

    def check(seat: Any, n: int) -> None:
        if type(seat) is not int or not 0 <= seat < seats or seat in gone:
            raise ReplayError(f"record {n} names seat {seat!r}, which is not playing")

    for n, record in enumerate(records):
        if until is not None and record.tick > until:
            break
        if outcome is not None:
            raise ReplayError(f"record {n} comes after the end of the match")
        t, inputs = record.tick, record.inputs
        if type(t) is not int or t < tick:
            raise ReplayError(f"record {n} is for tick {t!r}, but tick {tick} has run")
        for seat, (seq, _) in inputs.items():
            check(seat, n)
            if seq > received[seat]:
                received[seat] = seq
        if t > tick:
            state, acks, tick, outcome, _, _ = _run(
                rules, seats, seed, state, acks, {t: inputs} if inputs else _NO_PENDING, tick + 1, t
            )
            if outcome is not None:
                continue
        elif inputs:
            raise ReplayError(f"record {n} has inputs for tick {t}, which has run already")
        for seat in record.left:
            check(seat, n)
            gone.add(seat)
            state = _left(rules, state, seat)[0]
            outcome = _forfeit(rules, state, seat, [s for s in range(seats) if s not in gone], seats)
            if outcome is not None:
                break
        if record.failed and outcome is None:
            outcome = Outcome.draw("error").for_seats(seats)
    if until is not None and outcome is None and tick < until:
        state, acks, tick, outcome, _, _ = _run(rules, seats, seed, state, acks, _NO_PENDING, tick + 1, until)
    match.state, match.tick, match.acks, match.outcome = state, tick, acks, outcome
    match.received, match.gone = tuple(received), frozenset(gone)
    match.started_at = at - tick / match.rate
    return match
