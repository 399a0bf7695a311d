"""netplay's server as ``netplay serve`` runs it (``netplay.server.app.run``), with chosen limits lifted.

    python bench/netplay_server.py --port P [--set rate_limit=0] [--set max_connections=25000]
    python bench/netplay_server.py --port P --tick-log ticks.json   # the real-time scenario

``netplay serve`` has no flags yet for the per-connection rate limit or the connection cap, which a
saturation run and 20,000 idle connections go past by design; ``--set`` changes any ServerConfig field.

``--tick-log`` times every wake-up of every real-time room (when it ran, how late after its first
due tick's deadline, how many ticks it ran) and writes them, with the server's tick and input
counters, to a JSON file at exit; bench/run.py keeps those inside the generator's window.
"""

from __future__ import annotations

import argparse
import dataclasses
import gc
import json
import logging
import sys
import time
from array import array
from pathlib import Path
from typing import Any

from netplay.games import builtin_games
from netplay.games import ticker as tk
from netplay.server import ServerConfig
from netplay.server.app import Server, run
from netplay.server.rooms.realtime import RealtimeRoom


def parse_overrides(items: list[str]) -> dict[str, object]:
    """``field=value`` pairs (values as JSON, else strings) checked against ServerConfig's fields."""
    known = {f.name for f in dataclasses.fields(ServerConfig)}
    overrides: dict[str, object] = {}
    for item in items:
        name, _, value = item.partition("=")
        if name not in known:
            raise SystemExit(f"ServerConfig has no field {name!r}")
        try:
            overrides[name] = json.loads(value)
        except ValueError:
            overrides[name] = value
    return overrides


class WakeLog:
    """Every real-time wake-up that ran ticks: when (time.monotonic), how late, how many ticks.

    It wraps ``RealtimeRoom._wake`` (the room's timer callback) from outside: the deadline is the
    engine's own (``ticker.next_due``, on the loop's clock, which is CLOCK_MONOTONIC in whole
    milliseconds), the time is read just before the room runs. The cost is a few array appends a
    wake-up; nothing in src/ changes. It times the cycle collector's passes too (``gc.callbacks``):
    a long one delays every room's tick at once.
    """

    def __init__(self) -> None:
        self.at = array("d")
        self.late = array("d")
        self.ran = array("l")
        self.gc_at = array("d")
        self.gc_seconds = array("d")
        self.gc_generation = array("b")
        self._gc_start = 0.0
        self.server: Server | None = None

    def install(self) -> None:
        """Replace ``RealtimeRoom._wake`` with a timed one (before any room arms its timer)."""
        wake = RealtimeRoom._wake
        at, late, ran = self.at, self.late, self.ran

        def timed_wake(room: RealtimeRoom) -> None:
            match = room.match
            due = None if match is None else tk.next_due(match)
            now = time.monotonic()
            stats = room.host.stats
            before = stats.ticks
            wake(room)
            if due is not None and stats.ticks > before:
                at.append(now)
                late.append(max(now - due, 0.0))
                ran.append(stats.ticks - before)

        RealtimeRoom._wake = timed_wake  # type: ignore[assignment]
        gc.callbacks.append(self._collected)

    def _collected(self, phase: str, info: dict[str, int]) -> None:
        now = time.monotonic()
        if phase == "start":
            self._gc_start = now
        else:
            self.gc_at.append(self._gc_start)
            self.gc_seconds.append(now - self._gc_start)
            self.gc_generation.append(info["generation"])

    def summary(self) -> dict[str, Any]:
        """The wake-ups, and the server's own real-time counters for its whole run."""
        out: dict[str, Any] = {
            "server": "netplay",
            "wakes": list(zip(self.at, self.late, self.ran, strict=True)),
            "gc": list(zip(self.gc_at, self.gc_seconds, self.gc_generation, strict=True)),
        }
        hub = None if self.server is None else self.server.hub
        if hub is not None:
            st = hub.stats
            out["stats"] = {
                "ticks": st.ticks,
                "ticks_late": st.ticks_late,
                "ticks_skipped": st.ticks_skipped,
                "inputs_accepted": st.inputs_accepted,
                "inputs_late": st.inputs_late,
                "inputs_refused": dict(st.inputs_refused),
                "inputs_dropped": dict(st.inputs_dropped),
                "matches_started": st.matches_started,
                "matches_finished": st.matches_finished,
                # Time in the rooms' wake-ups (ticks, views, sends), for the whole run.
                "tick_seconds": st.tick_seconds.sum,
            }
        return out


def main(argv: list[str] | None = None) -> int:
    """Serve until SIGINT or SIGTERM; print one line with the port once listening."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--set", action="append", default=[], metavar="FIELD=VALUE")
    parser.add_argument("--tick-log", type=Path, help="write every real-time wake-up's timing here at exit")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # The load generator opens every connection from one address (127.0.0.1), as no crowd of
    # players does: the per-address connection limit (256) is lifted unless --set says otherwise.
    overrides = {"max_connections_per_address": 0, **parse_overrides(args.set)}
    config = ServerConfig(host=args.host, port=args.port, **overrides)  # type: ignore[arg-type]

    wakes = WakeLog() if args.tick_log else None
    if wakes is not None:
        wakes.install()

    def ready(server: Server) -> None:
        if wakes is not None:
            wakes.server = server
        print(f"netplay serving on {args.host}:{server.port}", flush=True)

    run(config, builtin_games().values(), on_ready=ready)
    if wakes is not None:
        args.tick_log.write_text(json.dumps(wakes.summary()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
