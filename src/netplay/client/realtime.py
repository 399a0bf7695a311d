"""A client's copy of a real-time match: the server's views, prediction and interpolation. Sans-I/O.

``RealtimeView`` takes the server's ``keyframe`` and ``patch`` messages (``receive``), says when to
ask for a keyframe (``Diverged``), and stamps the player's inputs with a sequence number and the
tick they are meant for (``input``). Time comes in as an argument (seconds on one monotonic
clock), so it runs the same under a test's virtual clock, in ``Client`` and in ``ThreadedClient``
(a pygame loop calls it every frame).

The timeline. Tick ``n`` leaves the server at about ``started + n / tick_rate`` and reaches this
client one way later. Each view received gives an offset, its tick less ``now * tick_rate``; the
timeline is the largest offset seen (the view that was least delayed), which jitter and stalls can
only lower, never raise. It drifts back slowly (``DRIFT`` ticks a second), to follow a server that
has fallen behind, and jumps back at once if it is more than a second off. ``timeline + now *
tick_rate`` is the tick whose view is just arriving; the server is half a round trip (``rtt``)
further on.

The tick an input is meant for (``client_tick``). The input takes another half round trip to reach
the server, so it is stamped ``floor(timeline + now * tick_rate + rtt * tick_rate) + 1 + margin``:
the first tick the server has not run when the input arrives, plus ``margin`` ticks to spare. The
server applies an input that arrives in time at exactly its tick, and one that comes late at its
next tick (it counts those). The client's tick never goes back (a smaller estimate waits for the
clock to catch up), and holds one input per tick: a second input in the same tick is stamped for
the next one, and the clock moves on to it.

Prediction. With the game's rules (the same pure ``tick`` the server runs), ``predicted(now)`` is
the newest authoritative view advanced, tick by tick, through the player's inputs the server has not
acknowledged, up to the client's tick; an input stamped for a tick the view has passed (it came
late) is run at the next one, as the server does. The states are cached until a view or an input
changes them. When the server's view of tick ``T`` arrives, the player's own part of it
(``RealtimeGame.own``, by default the whole view) is compared with this client's prediction of tick
``T`` from what it held just before (the previous view and the inputs then pending): a difference is
a correction (``corrections``). With every input on time, the own part never differs; a late one
costs a correction for each view that comes before the server applies it. Prediction
needs a view that is the whole state (a game without hidden information) and a ``tick`` that does
not draw from ``rng`` (the seed stays on the server). An input the rules reject is sent (the server
says why) but not predicted, and one never acknowledged once the server is past the latest tick it
could have been applied at (it was refused) is forgotten.

Interpolation. ``interpolated(now)`` is the view at the tick the timeline reached ``delay`` seconds
ago (two patch intervals by default, enough to always have a view on each side), blended between the
two views around that tick by their ticks: every number both hold is interpolated linearly,
everything else comes from the newer one. Other players' movement then looks smooth at any frame
rate, however unevenly the views arrive.
"""

from __future__ import annotations

import functools
import math
import threading
from collections import deque
from collections.abc import Callable, Mapping
from typing import Any, Concatenate, Final, ParamSpec, TypeVar

from ..games.realtime import RealtimeGame
from ..games.rng import Rng
from ..protocol import delta

__all__ = ["DRIFT", "MARGIN_DECAY", "Diverged", "RealtimeView", "blend"]

#: Ticks per second the timeline drifts back when no view comes as early as the best one did.
DRIFT: Final = 0.5
#: Views kept for interpolation, and for patches made against one of them.
_SNAPSHOTS: Final = 32
#: Seconds without a late input after which the margin a late one added is taken back, one tick.
MARGIN_DECAY: Final = 10.0
_BASES: Final = 64

_P = ParamSpec("_P")
_R = TypeVar("_R")


def _ack(message: Mapping[str, Any], seat: int | None) -> Any:
    """The seq of ``seat``'s latest input the server applied: a patch of a view everyone shares
    carries every seat's (``acks``, the same message for all), other views their member's (``ack``)."""
    acks = message.get("acks")
    if type(acks) is list and type(seat) is int and 0 <= seat < len(acks):
        return acks[seat]
    return message.get("ack")


class Diverged(Exception):
    """A patch did not apply to the view it was made against, or gave the wrong hash: resync."""


def blend(old: Any, new: Any, t: float) -> Any:
    """``old`` and ``new`` mixed at ``t`` (0: old, 1: new): numbers in both linearly, the rest new's."""
    if type(old) is type(new):
        if type(new) is int or type(new) is float:
            return old + (new - old) * t
        if type(new) is dict:
            return {k: blend(old[k], v, t) if k in old else v for k, v in new.items()}
        if type(new) is list and len(old) == len(new):
            return [blend(a, b, t) for a, b in zip(old, new, strict=True)]
    return new


def _locked(
    method: Callable[Concatenate[RealtimeView, _P], _R],
) -> Callable[Concatenate[RealtimeView, _P], _R]:
    def run(self: RealtimeView, /, *args: _P.args, **kwargs: _P.kwargs) -> _R:
        with self.lock:
            return method(self, *args, **kwargs)

    functools.update_wrapper(run, method)  # its name and docstring, for help()
    return run


class RealtimeView:
    """One member's copy of a real-time match (see the module docstring)."""

    def __init__(
        self,
        room: str,
        rules: RealtimeGame | None = None,
        *,
        margin: int = 1,
        delay: float | None = None,
    ) -> None:
        self.room = room
        self.rules = rules
        #: The game's name, as the room lists it.
        self.game_name = "" if rules is None else rules.name
        #: Ticks to spare: how much earlier than needed an input is meant to reach the server. It
        #: grows by one each time the server applies an input late (a slower or busier link than
        #: the estimate says), up to a sixth of a second, and shrinks back after MARGIN_DECAY seconds
        #: without one.
        self.margin = margin
        self._base_margin = margin
        self._late_at = 0.0
        #: Inputs this client saw the server apply after the tick they were meant for.
        self.late = 0
        #: The newest authoritative view, its tick, and this member's seat (None: spectating).
        self.view: Any = None
        self.tick = -1
        self.seat: int | None = None
        self.tick_rate = 30
        self.patch_rate = 20
        self.status = "waiting"
        self.outcome: dict[str, Any] | None = None
        self.players: list[Any] = []
        #: The number of the match in the room (a rematch is the next one).
        self.game = 0
        #: Round-trip time to the server in seconds (``Client`` measures it with pings: see
        #: ``add_rtt_sample``). Until then a slow link is assumed: inputs come early rather than late.
        self.rtt = 0.25
        self._rtt_samples = 0
        #: Predictions of this player's own part that the server's view of the same tick contradicted.
        self.corrections = 0
        #: Patches and keyframes taken, and patches refused (they did not match: resync needed).
        self.patches = 0
        self.keyframes = 0
        self.diverged = 0
        self._delay = delay
        self._seq = -1
        self._pending: deque[tuple[int, int, Any]] = deque()  # (seq, tick, data) not acknowledged
        self._chain: list[Any] = []  # predicted states of ticks self.tick + 1, + 2...
        self._snapshots: deque[tuple[int, Any]] = deque(maxlen=_SNAPSHOTS)  # (tick, view), oldest first
        self._bases: dict[int, Any] = {}  # views by tick, for patches made against any of them
        self._timeline: float | None = None  # the largest (tick - now * tick_rate) seen, drifting back
        self._timeline_at = 0.0  # when it was last updated
        self._clock = -1  # the highest client tick given out: the client's tick never goes back
        self._late_seqs: set[int] = set()  # pending inputs already counted late
        self._resyncing = False  # a patch did not fit: the ones until the next keyframe cannot either
        #: Held by every method: a ThreadedClient's game loop reads while its thread receives.
        self.lock = threading.Lock()

    # -- from the server -----------------------------------------------------------------------
    @_locked
    def receive(self, message: Mapping[str, Any], now: float) -> int | None:
        """Take a ``keyframe`` or ``patch``; return the tick of the view taken (None: nothing).

        Raises Diverged when a patch does not fit (send ``resync``; a keyframe follows, and the
        patches before it, made against the view that did not fit, are passed over).
        """
        kind = message.get("type")
        tick = message.get("tick")
        if type(tick) is not int:
            return None
        if kind == "keyframe":
            view = message["state"]
            game = message.get("game", self.game)
            if game != self.game or tick < self.tick:
                self._reset()  # a new match, or one restored from an earlier tick: start again
            self.game = game
            self.tick_rate = message.get("tick_rate", self.tick_rate)
            self.patch_rate = message.get("patch_rate", self.patch_rate)
            self.players = message.get("players", self.players)
            self.keyframes += 1
            self._resyncing = False
        elif kind == "patch":
            if tick <= self.tick or self._resyncing:
                return None  # older than what it has, or on the way before the keyframe asked for
            base_tick = message.get("base")
            if base_tick == self.tick:
                base = self.view
            elif type(base_tick) is int and base_tick in self._bases:
                base = self._bases[base_tick]
            else:
                raise self._diverged(f"a patch against tick {base_tick}, which this client does not have")
            try:
                view = delta.apply(base, message["ops"])
            except delta.PatchError as exc:
                raise self._diverged(str(exc)) from None
            if delta.state_hash(view) != message.get("hash"):
                raise self._diverged(f"the view of tick {tick} does not match the server's hash")
            self.patches += 1
        else:
            return None
        self.seat = message.get("seat", self.seat)
        if tick > self.tick and self._predicting():
            self._check(tick, view)
        self.view, self.tick = view, tick
        if kind == "keyframe":
            self.status = message.get("status", self.status)
            self.outcome = message.get("outcome")
        self._chain.clear()  # a new base: predictions start again from it
        self._bases[tick] = view
        while len(self._bases) > _BASES:
            del self._bases[next(iter(self._bases))]
        if self._snapshots and self._snapshots[-1][0] >= tick:
            self._snapshots.pop()  # the same tick again (a keyframe after a patch): the newest wins
        self._snapshots.append((tick, view))
        self._observe(tick, now)
        ack = _ack(message, self.seat)
        if type(ack) is int and self.seat is not None:
            if kind == "keyframe":  # a client resuming a seat (a new process) numbers on from there
                self._seq = max(self._seq, ack)
            self._applied(ack, tick, now)
        return tick

    def _diverged(self, why: str) -> Diverged:
        """Count a patch that did not fit; the next ones are made against it too: skip them."""
        self.diverged += 1
        self._resyncing = True
        return Diverged(why)

    def _reset(self) -> None:
        self._pending.clear()
        self._chain.clear()
        self._snapshots.clear()
        self._bases.clear()
        self._timeline = None
        self._clock = -1
        self._late_seqs.clear()
        self.tick = -1
        self.status = "waiting"

    def _check(self, tick: int, view: Any) -> None:
        """Count a correction if the prediction of ``tick`` from what was held differs from ``view``."""
        if tick - self.tick > 2 * self.tick_rate:
            return  # too long a gap to have predicted (a stall): nothing to compare
        guess = self._predict(tick)
        if self._own(guess) != self._own(view):
            self.corrections += 1

    def _applied(self, ack: int, tick: int, now: float) -> None:
        """The server has applied this member's inputs up to ``ack`` by ``tick``: forget them, and
        those it can no longer apply (it applies a late input at most ``tick_rate // 2`` ticks late).
        One still pending for a tick the view has passed came late: give the next ones more margin."""
        pending = self._pending
        while pending and pending[0][0] <= ack:
            pending.popleft()
        if pending and pending[0][1] <= tick and pending[0][0] not in self._late_seqs:
            self._late_seqs.add(pending[0][0])
            self.late += 1
            self.margin = min(self.margin + 1, max(self._base_margin, self.tick_rate // 6))
            self._late_at = now
        elif self.margin > self._base_margin and now - self._late_at >= MARGIN_DECAY:
            self.margin -= 1
            self._late_at = now
        if len(self._late_seqs) > 64:
            self._late_seqs = {s for s in self._late_seqs if s > ack}
        last_chance = tick - self.tick_rate // 2
        if pending and pending[0][1] <= last_chance:
            self._pending = deque(p for p in pending if p[1] > last_chance)

    def _observe(self, tick: int, now: float) -> None:
        """Move the timeline with a view of ``tick`` that arrived at ``now``."""
        offset = tick - now * self.tick_rate
        line = self._timeline
        if line is not None and offset < line:
            line -= DRIFT * max(now - self._timeline_at, 0.0)
            if offset < line - self.tick_rate:
                line = offset  # more than a second behind: the server's clock moved; follow it
        self._timeline = offset if line is None or offset > line else line
        self._timeline_at = now

    # -- the clock -----------------------------------------------------------------------------
    @_locked
    def add_rtt_sample(self, seconds: float) -> None:
        """Fold in one measured round trip: the first replaces the assumed one, each later one
        moves the estimate a fifth of the way to it (one slow answer moves it a little)."""
        self.rtt = seconds if self._rtt_samples == 0 else 0.8 * self.rtt + 0.2 * seconds
        self._rtt_samples += 1

    def _arriving(self, now: float) -> float:
        """The tick whose view is arriving now, by the timeline (the newest tick if there is none)."""
        if self._timeline is None:
            return float(self.tick)
        return self._timeline + now * self.tick_rate

    @_locked
    def server_tick(self, now: float) -> int:
        """The tick the server is at now, as well as this client can tell."""
        return max(self.tick, math.floor(self._arriving(now) + self.rtt / 2 * self.tick_rate))

    @_locked
    def client_tick(self, now: float) -> int:
        """The tick this client's inputs are meant for now: far enough ahead to arrive in time."""
        return self._client_tick(now)

    def _client_tick(self, now: float) -> int:
        ahead = math.floor(self._arriving(now) + self.rtt * self.tick_rate) + 1 + self.margin
        self._clock = max(self._clock, ahead, self.tick + 1)
        return self._clock

    # -- to the server -------------------------------------------------------------------------
    @_locked
    def input(self, data: Any, now: float) -> dict[str, Any]:
        """The ``input`` message for ``data``, stamped; kept to predict with until the server applies it."""
        self._seq += 1
        tick = self._client_tick(now)
        if self._pending and self._pending[-1][1] >= tick:
            tick = self._pending[-1][1] + 1  # one input per tick: the server keeps one per tick
        self._clock = max(self._clock, tick)
        self._pending.append((self._seq, tick, data))
        del self._chain[max(tick - self.tick - 1, 0) :]  # predictions from its tick on change
        return {"type": "input", "room": self.room, "seq": self._seq, "tick": tick, "data": data}

    @_locked
    def resume_after(self, seq: int) -> None:
        """Go on numbering inputs after ``seq`` (the server's ack after a reconnect)."""
        self._seq = max(self._seq, seq)

    @property
    def pending(self) -> int:
        """Inputs sent and not yet applied by the server."""
        return len(self._pending)

    # -- what to draw --------------------------------------------------------------------------
    @_locked
    def predicted(self, now: float) -> Any:
        """The view at the client's tick: the server's, advanced through this player's own inputs.

        Without rules (or for a spectator, or once the game is over) it is the server's view.
        """
        if not self._predicting():
            return self.view
        return self._predict(min(self._client_tick(now), self.tick + 2 * self.tick_rate))

    def _predicting(self) -> bool:
        ready = self.rules is not None and self.view is not None and self.seat is not None
        return ready and self.status == "playing"

    def _predict(self, target: int) -> Any:
        """The predicted state of tick ``target`` (or of the tick the game ends, if before)."""
        rules, seat, chain = self.rules, self.seat, self._chain
        assert rules is not None and seat is not None
        first = self.tick + 1
        if target < first:
            return self.view
        if len(chain) < target - first + 1:
            state = chain[-1] if chain else self.view
            if not chain or rules.outcome(state) is None:
                inputs = self._inputs(first)
                for n in range(first + len(chain), target + 1):
                    data = inputs.get(n)
                    state = rules.tick(state, {seat: data} if data is not None else {}, Rng(0, n))
                    chain.append(state)
                    if rules.outcome(state) is not None:
                        break
        return chain[min(target - first, len(chain) - 1)] if chain else self.view

    def _inputs(self, first: int) -> dict[int, Any]:
        """This player's pending inputs by the tick the server will apply them at (a late one: ``first``)."""
        rules, view, seat = self.rules, self.view, self.seat
        assert rules is not None and seat is not None
        inputs: dict[int, Any] = {}
        for _, tick, data in self._pending:
            try:
                refused = rules.validate_input(view, seat, data)
            except Exception:
                refused = "the rules failed on it"
            if refused is None:  # the server refuses it too: it never moves anything
                inputs[max(tick, first)] = data  # a later one for the same tick replaces it, as there
        return inputs

    @_locked
    def interpolated(self, now: float) -> Any:
        """The view at the tick the timeline reached ``delay`` seconds ago, blended between the two
        views around that tick."""
        snapshots = self._snapshots
        if not snapshots or self._timeline is None:
            return self.view
        delay = self._delay if self._delay is not None else 2.0 / max(self.patch_rate, 1)
        at = self._arriving(now) - delay * self.tick_rate
        if at >= snapshots[-1][0]:
            return snapshots[-1][1]
        for i in range(len(snapshots) - 1, 0, -1):
            (t0, older), (t1, newer) = snapshots[i - 1], snapshots[i]
            if t0 <= at:
                return blend(older, newer, (at - t0) / (t1 - t0))
        return snapshots[0][1]

    def _own(self, view: Any) -> Any:
        own: Callable[[Any, int], Any] | None = getattr(self.rules, "own", None)
        if own is None or self.seat is None:
            return view
        return own(view, self.seat)
