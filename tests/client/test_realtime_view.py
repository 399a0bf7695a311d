"""RealtimeView, the client's sans-I/O copy of a real-time match, on a virtual clock.

Hand-made keyframes and patches (``delta.diff`` and ``state_hash``) test each rule on its own; a
``Wire`` joins the view to the server's own pure tick engine (``games.ticker``) through a link of
fixed latency, in memory, to show that inputs stamped by the view arrive in time and that its
prediction then never needs a correction.
"""

from __future__ import annotations

import heapq
import itertools
from typing import Any

import pytest

from netplay.client.realtime import Diverged, RealtimeView, blend
from netplay.games import ticker as tk
from netplay.games.pong import PADDLE_SPEED, Pong
from netplay.games.rng import Rng
from netplay.protocol import delta

PONG = Pong()
RATE = 30
ONE_WAY = 0.075  # seconds each way: a round trip of 150 ms


def start_state() -> Any:
    return PONG.setup({}, Rng(1, 0))


def run(state: Any, ticks: int, inputs: dict[int, Any] | None = None, *, first: int = 1) -> Any:
    """``state`` after ``ticks`` ticks numbered from ``first``; ``inputs``: seat 0's, by tick."""
    for n in range(first, first + ticks):
        data = (inputs or {}).get(n)
        state = PONG.tick(state, {} if data is None else {0: data}, Rng(0, n))
    return state


def keyframe(
    tick: int, state: Any, *, ack: int = -1, game: int = 1, status: str = "playing"
) -> dict[str, Any]:
    return {
        "type": "keyframe", "room": "r", "game": game, "tick": tick, "state": state,
        "hash": delta.state_hash(state), "status": status, "players": [], "outcome": None,
        "tick_rate": RATE, "patch_rate": 20, "seat": 0, "ack": ack,
    }  # fmt: skip


def patch(base_tick: int, base: Any, tick: int, state: Any, *, ack: int = -1) -> dict[str, Any]:
    return {
        "type": "patch", "room": "r", "tick": tick, "base": base_tick, "ops": delta.diff(base, state),
        "hash": delta.state_hash(state), "seat": 0, "ack": ack,
    }  # fmt: skip


def arrival(tick: int) -> float:
    """When the view of ``tick`` reaches the client: the server sends it at tick / RATE."""
    return tick / RATE + ONE_WAY


def view_at(tick: int, state: Any) -> RealtimeView:
    """A predicting view of seat 0 that has just received the keyframe of ``tick``."""
    view = RealtimeView("r", PONG)
    view.rtt = 2 * ONE_WAY
    assert view.receive(keyframe(tick, state), arrival(tick)) == tick
    return view


# -- keyframes and patches ------------------------------------------------------------------------


def test_patches_apply_and_return_the_tick_of_their_view() -> None:
    s0 = start_state()
    view = RealtimeView("r")
    assert view.receive(keyframe(0, s0), arrival(0)) == 0
    assert view.view == s0 and view.tick == 0 and view.seat == 0 and view.status == "playing"
    s2 = run(s0, 2)
    assert view.receive(patch(0, s0, 2, s2), arrival(2)) == 2
    assert view.view == s2 and view.tick == 2
    s3 = run(s2, 1, first=3)
    # A patch against an older view this client still holds applies too.
    assert view.receive(patch(0, s0, 3, s3), arrival(3)) == 3
    assert view.view == s3 and (view.patches, view.keyframes, view.diverged) == (2, 1, 0)
    assert view.receive(patch(2, s2, 3, s3), arrival(3)) is None  # not newer: nothing to do
    assert view.receive({"type": "state", "room": "r"}, 1.0) is None  # not a real-time message


def test_a_wrong_hash_or_an_unknown_base_raises_diverged_and_keeps_the_view() -> None:
    s0 = start_state()
    s1, s2 = run(s0, 1), run(s0, 2)
    bad = (
        ({**patch(0, s0, 2, s2), "hash": "00000000"}, "hash"),
        (patch(1, s1, 2, s2), "tick 1"),
        ({**patch(0, s0, 2, s2), "ops": [[["nowhere", 3], 1]]}, "nowhere"),
    )
    for number, (message, why) in enumerate(bad, 1):
        view = RealtimeView("r")
        view.receive(keyframe(0, s0), arrival(0))
        with pytest.raises(Diverged, match=why):
            view.receive(message, arrival(2))
        assert view.view == s0 and view.tick == 0 and view.diverged == 1 and view.patches == 0, number
        assert view.receive(keyframe(2, s2), arrival(2)) == 2  # the resync's keyframe sets it right
        assert view.view == s2 and view.tick == 2


def test_after_a_patch_that_does_not_fit_the_next_ones_wait_for_the_keyframe() -> None:
    """The server makes each patch against the one before: those on the way after one that did not
    fit cannot fit either, and are passed over (not one resync each) until the keyframe comes."""
    s0 = start_state()
    s2, s3, s5 = run(s0, 2), run(s0, 3), run(s0, 5)
    view = RealtimeView("r")
    view.receive(keyframe(0, s0), arrival(0))
    with pytest.raises(Diverged):
        view.receive({**patch(0, s0, 2, s2), "hash": "00000000"}, arrival(2))
    assert view.receive(patch(2, s2, 3, s3), arrival(3)) is None
    assert view.view == s0 and view.diverged == 1
    assert view.receive(keyframe(3, s3), arrival(3)) == 3
    assert view.receive(patch(3, s3, 5, s5), arrival(5)) == 5 and view.view == s5 and view.patches == 1


def test_a_keyframe_of_the_next_match_starts_afresh() -> None:
    s0 = start_state()
    view = view_at(40, run(s0, 40))
    view.input({"dir": 1}, arrival(40))
    assert view.pending == 1
    assert view.receive(keyframe(0, s0, game=2), 5.0) == 0
    assert view.game == 2 and view.tick == 0 and view.pending == 0
    assert view.client_tick(5.0) < 40  # the new match's clock, not the old one's


# -- stamping inputs ------------------------------------------------------------------------------


def test_inputs_are_stamped_ahead_one_tick_each_with_growing_seqs() -> None:
    view = view_at(10, run(start_state(), 10))
    now = arrival(10)
    # The view of tick 10 is arriving; the server is half a round trip on (tick 12.25) and the input
    # takes another half: it is in time for tick floor(10 + 4.5) + 1, plus the margin of 1.
    assert view.server_tick(now) == 12
    first = view.input({"dir": 1}, now)
    assert first == {"type": "input", "room": "r", "seq": 0, "tick": 16, "data": {"dir": 1}}
    second = view.input({"dir": 0}, now)  # the same tick is taken: the next one
    assert (second["seq"], second["tick"]) == (1, 17)
    later = view.input({"dir": -1}, now + 1.0)  # a second on: 30 ticks on
    assert (later["seq"], later["tick"]) == (2, 46)
    assert view.pending == 3


def test_the_first_round_trip_measured_replaces_the_assumed_one() -> None:
    view = RealtimeView("r")
    assert view.rtt == 0.25  # a slow link, until measured: inputs early rather than late
    view.add_rtt_sample(0.15)
    assert view.rtt == 0.15
    view.add_rtt_sample(0.25)
    assert view.rtt == pytest.approx(0.17)


def test_the_client_tick_never_goes_back() -> None:
    view = view_at(10, run(start_state(), 10))
    now = arrival(10)
    assert view.client_tick(now) == 16
    view.rtt = 0.01  # a faster link measured: the estimate falls, the clock waits for it
    assert view.client_tick(now) == 16 and view.client_tick(now + 0.1) == 16
    assert view.client_tick(now + 0.17) == 17  # floor(15.1 + 0.3) + 2: on again, caught up


# -- prediction -----------------------------------------------------------------------------------


def test_predicted_shows_an_input_at_once_and_drops_it_once_applied() -> None:
    s10 = run(start_state(), 10)
    view = view_at(10, s10)
    now = arrival(10)
    assert view.predicted(now) == run(s10, 6, first=11)  # up to the client's tick, 16, no inputs
    tick = view.input({"dir": 1}, now)["tick"]
    shown = view.predicted(now)  # the very next call, before the server has seen the input
    assert shown["dirs"][0] == 1 and shown["paddles"][0] == s10["paddles"][0] + PADDLE_SPEED
    assert shown == run(s10, tick - 10, {tick: {"dir": 1}}, first=11)
    assert view.view == s10  # the server's view has not moved
    # The server applies it at its tick; the view of the tick after acknowledges it.
    s17 = run(s10, 7, {16: {"dir": 1}}, first=11)
    view.receive(patch(10, s10, 17, s17, ack=0), arrival(17))
    assert view.pending == 0 and view.corrections == 0
    assert view.predicted(arrival(17)) == run(s17, 6, first=18)  # nothing pending: the view run on


def test_a_patch_everyone_shares_acknowledges_by_the_seat_of_this_client() -> None:
    """A view everyone sees comes as one patch for all, ``acks`` holding every seat's latest input."""
    s10 = run(start_state(), 10)
    view = view_at(10, s10)  # seat 0
    view.input({"dir": 1}, arrival(10))
    s17 = run(s10, 7, {16: {"dir": 1}}, first=11)
    shared = {k: v for k, v in patch(10, s10, 17, s17).items() if k not in ("ack", "seat")}
    assert view.receive({**shared, "acks": [-1, 4]}, arrival(17)) == 17
    assert view.pending == 1  # seat 1's input 4 is not this client's
    assert view.receive({**patch(17, s17, 18, run(s17, 1, first=18)), "acks": [0, 4]}, arrival(18)) == 18
    assert view.pending == 0 and view.seat == 0


def test_a_late_input_is_one_correction_and_an_input_on_time_none() -> None:
    s10 = run(start_state(), 10)
    view = view_at(10, s10)
    tick = view.input({"dir": 1}, arrival(10))["tick"]
    view.predicted(arrival(10))
    # The input reached the server late: it applied it one tick later than it was meant for.
    late = {tick + 1: {"dir": 1}}
    s16 = run(s10, 6, late, first=11)
    view.receive(patch(10, s10, 16, s16, ack=-1), arrival(16))
    assert view.corrections == 1  # the prediction of tick 16 moved the paddle; the server's did not
    s17 = run(s10, 7, late, first=11)
    view.receive(patch(16, s16, 17, s17, ack=0), arrival(17))
    assert view.corrections == 1  # from tick 16, the late input runs at 17: as the server ran it
    s19 = run(s17, 2, first=18)
    view.receive(patch(17, s17, 19, s19, ack=0), arrival(19))
    assert view.corrections == 1 and view.pending == 0


def test_a_late_input_widens_the_margin_and_quiet_time_narrows_it_again() -> None:
    from netplay.client.realtime import MARGIN_DECAY

    s10 = run(start_state(), 10)
    view = view_at(10, s10)
    assert view.margin == 1 and view.late == 0
    tick = view.input({"dir": 1}, arrival(10))["tick"]
    before = view.client_tick(arrival(10))
    s_after = run(s10, tick - 10)  # the server reached the input's tick without it: it came late
    view.receive(patch(10, s10, tick, s_after, ack=-1), arrival(tick))
    assert view.late == 1 and view.margin == 2
    assert view.client_tick(arrival(tick)) >= before  # inputs from now on go a tick further ahead
    view.receive(patch(tick, s_after, tick + 1, run(s_after, 1, first=tick + 1), ack=-1), arrival(tick + 1))
    assert view.late == 1  # the same late input is counted once
    # MARGIN_DECAY seconds later with nothing late, the margin comes back down.
    later = tick + 1 + int(MARGIN_DECAY * RATE) + 1
    s_later = run(start_state(), later)
    view.receive(keyframe(later, s_later, ack=0), arrival(later))
    assert view.margin == 1


def test_the_opponents_moves_are_not_corrections() -> None:
    s10 = run(start_state(), 10)
    view = view_at(10, s10)
    s12 = PONG.tick(PONG.tick(s10, {1: {"dir": 1}}, Rng(0, 11)), {}, Rng(0, 12))
    view.predicted(arrival(12))
    view.receive(patch(10, s10, 12, s12), arrival(12))
    assert view.view["dirs"] == [0, 1] and view.corrections == 0  # Pong's own(): one's own paddle


def test_a_refused_input_is_never_predicted_and_is_forgotten() -> None:
    s10 = run(start_state(), 10)
    view = view_at(10, s10)
    tick = view.input({"dir": 5}, arrival(10))["tick"]  # the server refuses it: invalid_input
    assert view.predicted(arrival(10)) == run(s10, tick - 10, first=11)
    s_after = run(s10, tick + RATE // 2 - 10, first=11)
    view.receive(patch(10, s10, tick + RATE // 2, s_after, ack=-1), arrival(tick + RATE // 2))
    assert view.pending == 0 and view.corrections == 0  # past the last tick it could have run at


def test_spectators_and_finished_games_show_the_servers_view() -> None:
    s10 = run(start_state(), 10)
    message = keyframe(10, s10)
    del message["seat"], message["ack"]
    watcher = RealtimeView("r", PONG)
    watcher.receive(message, arrival(10))
    assert watcher.seat is None and watcher.predicted(arrival(10) + 1) == s10
    view = view_at(10, s10)
    view.receive(keyframe(11, run(s10, 1, first=11), status="finished"), arrival(11))
    assert view.predicted(arrival(11) + 1) == view.view


# -- interpolation --------------------------------------------------------------------------------


def test_interpolation_is_halfway_between_the_views_around_the_tick_shown() -> None:
    older = run(start_state(), 40)  # the ball moves: the serve's second of waiting is over
    newer = run(older, 2, first=41)
    view = RealtimeView("r", PONG, delay=0.1)  # 3 ticks behind the view arriving
    view.receive(keyframe(10, older), arrival(10))
    view.receive(patch(10, older, 12, newer), arrival(12))
    halfway = view.interpolated(arrival(14))  # the tick arriving is 14: tick 11 is shown
    assert halfway["ball"] == [(a + b) / 2 for a, b in zip(older["ball"], newer["ball"], strict=True)]
    assert halfway["ball"][0] != older["ball"][0] and halfway["paddles"] == older["paddles"]
    assert view.interpolated(arrival(13)) == older  # at the first view's tick: the first
    assert view.interpolated(arrival(15)) == newer  # nothing newer to blend towards: the newest
    # Ticks place the views, not arrival times: one that came 50 ms late moves nothing (but for
    # the timeline's slow drift back, a few hundredths of a tick).
    view.receive(patch(12, newer, 14, run(newer, 2, first=43)), arrival(14) + 0.05)
    assert view.interpolated(arrival(14))["ball"] == pytest.approx(halfway["ball"], abs=1)


def test_blend_mixes_numbers_and_takes_the_rest_from_the_newer() -> None:
    old = {"x": 0, "y": [0.0, 10], "name": "a", "gone": 1, "flag": False}
    new = {"x": 10, "y": [1.0, 20], "name": "b", "flag": True, "new": 3}
    assert blend(old, new, 0.25) == {"x": 2.5, "y": [0.25, 12.5], "name": "b", "flag": True, "new": 3}
    assert blend([1, 2], [1, 2, 3], 0.5) == [1, 2, 3]  # lengths differ: the newer


# -- the view and the server's tick engine, joined by a link in memory -----------------------------


class Wire:
    """The server's tick engine for one seat and a server bot, joined to a view through a link.

    Everything happens at virtual times: ticks at their deadlines, views sent after the ticks a
    room sends them at (20 of every 30), and messages delivered ``up``/``down`` seconds later.
    """

    def __init__(self, view: RealtimeView, *, up: float, down: float) -> None:
        self.view, self.up, self.down = view, up, down
        first = tk.start(PONG, id="m", number=1, seats=2, seed=9, options={}, at=0.0)
        self.match = first.match
        self.late = 0
        #: The state after each tick, by tick.
        self.states = {0: self.match.state}
        self._sent: Any = None  # the view sent last, of tick _base
        self._base = -1
        self._queue: list[tuple[float, int, str, Any]] = []
        self._order = itertools.count()
        self._at(0.0 + self.down, "to_client", self._message())
        self._at(1 / RATE, "tick", None)
        self.now = 0.0

    def _at(self, when: float, kind: str, payload: Any) -> None:
        heapq.heappush(self._queue, (when, next(self._order), kind, payload))

    def _message(self) -> dict[str, Any]:
        """The view of seat 0, as the server sends it: a patch against the view sent before."""
        match = self.match
        view = PONG.view(match.state, 0)
        base, sent = self._base, self._sent
        self._base, self._sent = match.tick, view
        if base < 0:
            return keyframe(match.tick, view, ack=match.acks[0])
        return patch(base, sent, match.tick, view, ack=match.acks[0])

    def send(self, message: dict[str, Any]) -> None:
        """An input from the client, leaving now."""
        self._at(self.now + self.up, "to_server", message)

    def run_until(self, until: float) -> None:
        while self._queue and self._queue[0][0] <= until:
            when, _, kind, payload = heapq.heappop(self._queue)
            self.now = when
            if kind == "tick":
                before = self.match.tick
                self._step(tk.Advance(when))
                self.states[self.match.tick] = self.match.state
                if (self.match.tick * 20) // RATE != (before * 20) // RATE:
                    self._at(when + self.down, "to_client", self._message())
                bot = PONG.bots["simple"](PONG, PONG.view(self.match.state, 1), 1, _NoLag())
                if bot is not None:
                    seq = self.match.received[1] + 1
                    self._step(tk.Input(1, seq, self.match.tick + 1, bot))
                self._at(tk.next_due(self.match) or when + 1, "tick", None)
            elif kind == "to_server":
                self._step(tk.Input(0, payload["seq"], payload["tick"], payload["data"]))
            else:
                self.view.receive(payload, when)
        self.now = until

    def _step(self, action: tk.Action) -> None:
        result = tk.step(PONG, self.match, action)
        assert result.refused is None, result.refused
        self.late += sum(type(e) is tk.Late for e in result.effects)
        self.match = result.match


class _NoLag:
    """A ``random.Random`` stand-in for the bot that never lags and never errs."""

    def random(self) -> float:
        return 1.0


def play(wire: Wire, seconds: float, script: list[int]) -> None:
    """A game loop at 60 frames a second: a new direction every 7 frames, the prediction drawn
    every frame; each input is in the very next prediction."""
    view = wire.view
    for frame in range(int(seconds * 60)):
        now = frame / 60
        wire.run_until(now)
        if frame % 7 == 0 and view.status == "playing":
            data = {"dir": script[(frame // 7) % len(script)]}
            wire.send(view.input(data, now))
            assert view.predicted(now)["dirs"][0] == data["dir"]
        view.predicted(now)


def test_inputs_stamped_by_the_view_arrive_in_time_and_need_no_correction() -> None:
    view = RealtimeView("r", PONG)
    view.rtt = 2 * ONE_WAY
    wire = Wire(view, up=ONE_WAY, down=ONE_WAY)
    play(wire, 8.0, [1, 1, 0, -1, -1, 0, 1, -1])
    assert view.pending < 10 and wire.match.tick >= 8 * RATE - 1
    assert wire.late == 0 and view.corrections == 0 and view.diverged == 0


def test_with_the_round_trip_underestimated_inputs_come_late_and_the_view_still_converges() -> None:
    view = RealtimeView("r", PONG)
    view.rtt = 0.05  # the link is really 300 ms round: every input comes late
    wire = Wire(view, up=0.15, down=0.15)
    play(wire, 4.0, [1, 0, -1, 0])
    assert wire.late > 0 and view.corrections > 0
    # Once the inputs stop, everything sent is applied, and the prediction is what the server ran.
    wire.run_until(5.0)
    assert view.pending == 0
    corrections = view.corrections
    shown, tick = view.predicted(5.0), view.client_tick(5.0)
    wire.run_until(6.0)
    assert PONG.own(shown, 0) == PONG.own(wire.states[tick], 0)
    assert view.corrections == corrections and view.diverged == 0  # no input pending: nothing more to correct
