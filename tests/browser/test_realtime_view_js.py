"""netplay.js's RealtimeView against the Python one (netplay.client.realtime), in Chromium: the
Python view plays a match against the server's own tick engine through an in-memory link of fixed
latency, and every call made on it (``receive``, ``input``, ``predicted``, ``interpolated``, the
clocks), with what it returned, is kept; the JavaScript view, given the very same calls (times in
milliseconds), must return the very same things, tick for tick and correction for correction.

Times are multiples of 1/256 s, exact in both units, so both languages compute the same numbers.
"""

from __future__ import annotations

import contextlib
import heapq
import itertools
import math
import random
from typing import Any

import pytest

from netplay.client.realtime import Diverged, RealtimeView
from netplay.games import ticker as tk
from netplay.games.arena import Arena
from netplay.games.pong import Pong
from netplay.games.realtime import RealtimeGame
from netplay.protocol import delta

from .board_pages import open_page
from .conftest import NetplayServer, Pages

try:
    import playwright.sync_api  # noqa: F401
except ImportError:
    import os

    if os.environ.get("CI"):
        raise
    pytest.skip("the playwright package is missing (pip install -e '.[test]')", allow_module_level=True)

QUANTUM = 256  # times are whole multiples of 1/QUANTUM s
#: What is compared after every call, besides its result.
FIELDS = (
    "tick",
    "seat",
    "status",
    "corrections",
    "pending",
    "diverged",
    "patches",
    "keyframes",
    "late",
    "margin",
)


def later(t: float) -> float:
    """The first time of the grid at or after ``t``."""
    return math.ceil(t * QUANTUM - 1e-9) / QUANTUM


class Recorder:
    """A Python RealtimeView whose every call, and its result, is kept for the JavaScript one."""

    def __init__(self, view: RealtimeView) -> None:
        self.view = view
        self.calls: list[list[Any]] = []

    def _keep(self, name: str, args: list[Any], result: Any) -> Any:
        v = self.view
        after = {name: getattr(v, name) for name in FIELDS}
        self.calls.append([name, args, result, after])
        return result

    def receive(self, message: dict[str, Any], now: float) -> int | None:
        try:
            tick = self.view.receive(message, now)
        except Diverged:
            self._keep("receive", [message, now], "diverged")
            raise
        return self._keep("receive", [message, now], tick)

    def input(self, data: Any, now: float) -> dict[str, Any]:
        return self._keep("input", [data, now], self.view.input(data, now))

    def predicted(self, now: float) -> Any:
        return self._keep("predicted", [now], self.view.predicted(now))

    def interpolated(self, now: float) -> Any:
        return self._keep("interpolated", [now], self.view.interpolated(now))

    def client_tick(self, now: float) -> int:
        return self._keep("clientTick", [now], self.view.client_tick(now))

    def server_tick(self, now: float) -> int:
        return self._keep("serverTick", [now], self.view.server_tick(now))

    def add_rtt_sample(self, seconds: float) -> None:
        self._keep("addRttSample", [seconds], self.view.add_rtt_sample(seconds))


class Link:
    """The server's tick engine, a server bot in every other seat, and the recorded view of seat 0,
    joined by a link that takes ``up`` and ``down`` seconds each way (ending on the grid)."""

    def __init__(
        self, game: RealtimeGame, options: dict[str, Any], client: Recorder, *, up: float, down: float
    ) -> None:
        self.game, self.client, self.up, self.down = game, client, up, down
        self.seats = seats = game.seat_count(options)
        self.match = tk.start(game, id="m", number=1, seats=seats, seed=5, options=options, at=0.0).match
        self.bots = random.Random(3)
        self._sent: Any = None  # the view sent last, and its tick
        self._base = -1
        self._queue: list[tuple[float, int, str, Any]] = []
        self._order = itertools.count()
        self.now = 0.0
        self._at(later(self.down), "to_client", self._message())
        self._at(1 / game.tick_rate, "tick", None)

    def _at(self, when: float, kind: str, payload: Any) -> None:
        heapq.heappush(self._queue, (when, next(self._order), kind, payload))

    def _message(self) -> dict[str, Any]:
        """The view of seat 0, as the server sends it: a patch against the view sent before."""
        match = self.match
        view = self.game.view(match.state, 0)
        base, sent = self._base, self._sent
        self._base, self._sent = match.tick, view
        common = {"room": "r", "tick": match.tick, "hash": delta.state_hash(view)}
        if base < 0 or match.outcome is not None:  # a keyframe is the member's own: its seat and ack
            outcome = None if match.outcome is None else match.outcome.to_json()
            status = "playing" if outcome is None else "finished"
            rates = {"tick_rate": self.game.tick_rate, "patch_rate": 20}
            return {"type": "keyframe", "game": 1, "state": view, "status": status, "players": [],
                    "outcome": outcome, **rates, **common, "seat": 0, "ack": match.acks[0]}  # fmt: skip
        # Pong and the arena show everyone everything: one patch for all, every seat's acks in it.
        return {
            "type": "patch",
            "base": base,
            "ops": delta.diff(sent, view),
            **common,
            "acks": list(match.acks),
        }

    def send(self, message: dict[str, Any]) -> None:
        self._at(later(self.now + self.up), "to_server", message)

    def run_until(self, until: float) -> None:
        rate = self.game.tick_rate
        while self._queue and self._queue[0][0] <= until:
            when, _, kind, payload = heapq.heappop(self._queue)
            self.now = when
            if kind == "tick":
                if self.match.outcome is not None:
                    continue
                before = self.match.tick
                self._step(tk.Advance(when))
                if (self.match.tick * 20) // rate != (before * 20) // rate or self.match.outcome is not None:
                    self._at(later(when + self.down), "to_client", self._message())
                for seat in range(1, self.seats):
                    bot = next(iter(self.game.bots.values()))
                    data = bot(self.game, self.game.view(self.match.state, seat), seat, self.bots)
                    if data is not None and self.match.outcome is None:
                        self._step(tk.Input(seat, self.match.received[seat] + 1, self.match.tick + 1, data))
                due = tk.next_due(self.match)
                if due is not None:
                    self._at(due, "tick", None)
            elif kind == "to_server":
                if self.match.outcome is None:
                    self._step(tk.Input(0, payload["seq"], payload["tick"], payload["data"]))
            else:
                with contextlib.suppress(Diverged):
                    self.client.receive(payload, when)
        self.now = until

    def _step(self, action: tk.Action) -> None:
        result = tk.step(self.game, self.match, action)
        if result.refused is None:
            self.match = result.match


def play(link: Link, seconds: float, inputs: list[Any], *, every: int = 7) -> None:
    """64 frames a second (on the grid): a new input every ``every`` frames, and the clocks, the
    prediction and the interpolation asked for every frame, as a page's animation frames do; after
    three seconds, two measured round trips (the link's own) come in."""
    client = link.client
    for frame in range(int(seconds * 64)):
        now = frame / 64
        link.run_until(now)
        if link.match.outcome is not None and client.view.status == "finished":
            break
        if frame in (192, 256):
            client.add_rtt_sample(link.up + link.down)
        if frame % every == 0 and client.view.status == "playing":
            link.send(client.input(inputs[(frame // every) % len(inputs)], now))
        client.client_tick(now)
        client.server_tick(now)
        client.predicted(now)
        client.interpolated(now)


def trace(game: RealtimeGame, options: dict[str, Any], *, rtt: float, up: float, down: float,
          seconds: float, inputs: list[Any]) -> tuple[list[list[Any]], RealtimeView]:  # fmt: skip
    view = RealtimeView("r", game)
    view.rtt = rtt
    client = Recorder(view)
    link = Link(game, options, client, up=up, down=down)
    play(link, seconds, inputs)
    # A patch that does not fit (Diverged), then one made against it, passed over until a keyframe.
    base = view.tick
    wrong = {
        "type": "patch",
        "room": "r",
        "tick": base + 1,
        "base": base,
        "ops": [],
        "hash": "00000000",
        "seat": 0,
    }
    unknown = {**wrong, "base": base - 1000}
    for message in (wrong, unknown):
        try:
            client.receive(message, link.now)
        except Diverged:
            pass
    return client.calls, view


REPLAY = """async ([calls, rules, rtt, names]) => {
  const { RealtimeView } = await import("/netplay.js");
  const module = await import(`/boards/${rules}_rules.js`);
  const view = new RealtimeView("r", module, { gameName: rules });
  view.rtt = rtt;
  const close = (a, b) => {
    if (typeof a === "number" && typeof b === "number") {
      return Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(a));
    }
    if (Array.isArray(a)) {
      return Array.isArray(b) && a.length === b.length && a.every((x, i) => close(x, b[i]));
    }
    if (a && typeof a === "object") {
      const keys = Object.keys(a);
      return Boolean(b) && typeof b === "object" && !Array.isArray(b) && keys.length === Object.keys(b).length
        && keys.every((k) => close(a[k], b[k]));
    }
    return a === b;
  };
  const fields = (v) => Object.fromEntries(names.map((name) => [name, v[name]]));
  for (const [index, [name, args, expected, after]] of calls.entries()) {
    let got;
    const ms = args[args.length - 1] * 1000;
    if (name === "receive") {
      try {
        got = view.receive(args[0], ms);
      } catch (error) {
        got = error.name === "Diverged" ? "diverged" : String(error);
      }
    } else if (name === "input") got = view.input(args[0], ms);
    else got = view[name](ms);
    if (got === undefined) got = null;
    if (!close(expected, got)) return { index, name, args, expected, got };
    if (!close(after, fields(view))) return { index, name, args, expected: after, got: fields(view) };
  }
  return { calls: calls.length, ...fields(view) };
}"""

PONG = Pong()
ARENA = Arena()
DIRS = [{"dir": d} for d in (1, 1, 0, -1, -1, 0, 1, -1, 0)]
TURNS = [{"dir": d} for d in ("right", "down", "left", "down", "right", "up", "up", "left")]


@pytest.mark.parametrize(
    ("game", "options", "rtt", "up", "down", "seconds", "inputs", "expect"),
    [
        pytest.param(PONG, {}, 0.125, 0.0625, 0.0625, 8.0, DIRS, "on time", id="pong-on-time"),
        pytest.param(PONG, {}, 0.03125, 0.15, 0.15, 5.0, DIRS, "late", id="pong-rtt-underestimated"),
        pytest.param(PONG, {}, 0.25, 0.25, 0.03125, 5.0, DIRS, "on time", id="pong-slow-uplink"),
        pytest.param(ARENA, {"players": 2}, 0.125, 0.0625, 0.0625, 6.0, TURNS, "any", id="arena-two"),
        pytest.param(ARENA, {"players": 4}, 0.0625, 0.0625, 0.0625, 6.0, TURNS, "any", id="arena-four"),
    ],
)
def test_the_javascript_view_does_what_the_python_view_does(
    web_server: NetplayServer,
    pages: Pages,
    game: RealtimeGame,
    options: dict[str, Any],
    rtt: float,
    up: float,
    down: float,
    seconds: float,
    inputs: list[Any],
    expect: str,
) -> None:
    calls, view = trace(game, options, rtt=rtt, up=up, down=down, seconds=seconds, inputs=inputs)
    if expect == "on time":
        assert view.corrections == 0
    elif expect == "late":
        assert view.corrections > 0
    assert view.diverged == 1 and view.patches > 20
    page = open_page(pages, web_server.url, "Replay")
    result = page.evaluate(REPLAY, [calls, game.name, rtt * 1000, FIELDS])
    assert result == {"calls": len(calls), **{name: getattr(view, name) for name in FIELDS}}, result
