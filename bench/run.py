"""One command for the whole benchmark: each scenario against the raw relay and against netplay's server.

    python -m bench                    # the full run (a few minutes)
    python -m bench --quick            # shorter windows, smaller counts
    python -m bench --smoke --only relay-sat-100x4   # a one-second look at one saturation scenario
    python -m bench --only relay-fixed,tictactoe
    python -m bench --profile relay-sat-1x20   # py-spy the netplay server under that load
    python -m bench --only arena-200x4         # the real-time scenario: netplay and Colyseus 0.18
    python -m bench --only arena-120x4         # the same with 120 rooms (any arena-ROOMSxPLAYERS)
    python -m bench --cluster                  # netplay alone, as 1 cluster node, as 2 (bench/cluster.py)

Each server runs as a subprocess pinned to core 0, the load generator as another pinned to core 1.
The table goes to stdout and everything measured to bench/results/<timestamp>.json.

The relay scenarios run against a third server kind, "text": netplay's server on its 15-112 text
port (docs/15-112.md), with text_room_size set to the scenario's room size, and clients that send
``relay PAYLOAD`` lines, as the student games do; the table shows it next to the other two, with
its ratio to the raw relay.

The real-time scenario (kind "realtime") runs arena rooms of four bots on netplay (over TCP) and,
side by side, on a Colyseus 0.18 room doing the same simulation (over WebSocket; npm install on
first use, skipped with --no-colyseus). Each server times every tick it runs into a file that is
read here once it has stopped, for the ticks inside the generator's measurement window.

``--cluster`` runs its own scenarios (relay and tic-tac-toe, ``--only`` narrows them) on three
kinds: "netplay" alone (a), "cluster1", one node with its redis-server (b), and "cluster2", two
nodes with every room's members split over them (c); all their processes on core 0, so that their
figures to compare are CPU time per message or move, not throughput. bench/cluster.py says more.
"""

from __future__ import annotations

import argparse
import collections
import dataclasses
import datetime as dt
import json
import math
import os
import platform
import re
import resource
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import psutil

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
COLYSEUS = ROOT / "bench" / "colyseus"
SERVERS = ("raw", "netplay")
#: The relay scenarios' servers: those, and netplay's 15-112 text port (the kind "text").
RELAY_SERVERS = (*SERVERS, "text")
#: A checkout of an earlier commit (``--baseline REV``), run as the server kind "baseline".
BASELINE: Path | None = None

# Targets from the issue; checked against every run and reported, never asserted.
TARGET_SAT_RATIO = 0.5  # relay saturation, netplay / raw delivered messages/s
TARGET_FIXED_P99_MS = 3.0
TARGET_IDLE_KIB = 8.0
TARGET_TICK_LATE_P99_MS = 5.0  # real time: tick lateness p99
TARGET_TICKS_LATE_PCT = 0.1  # real time: ticks run more than one period late, at most
TARGET_DELTA_RATIO = 5.0  # real time: full states / what was sent, at least
TARGET_TTT_FIXED_P99_MS = 5.0  # tic-tac-toe at a fixed 10 k moves/s, SQLite as netplay serve keeps it
TARGET_TTT_DURABLE_P99_MS = 20.0  # the same at 5 k moves/s with --db-sync full (an fsync per batch)
# Runs are repeated and the best kept (see best_run); PRIMARY is each kind's throughput figure.
PRIMARY = {"relay": "delivered_per_s", "tictactoe": "moves_per_s"}


@dataclass
class Scenario:
    """One load shape, run against each of ``servers``."""

    name: str
    kind: str  # relay | tictactoe | idle | realtime
    params: dict[str, Any]
    servers: tuple[str, ...] = SERVERS
    #: ServerConfig fields changed for this scenario (defaults otherwise), each for a stated reason;
    #: for the kinds "netplay", "baseline" and "text" alike.
    netplay_settings: dict[str, Any] = field(default_factory=dict)
    #: Run only when named with --only (the smoke run's real-time scenario, for its own test).
    only_if_named: bool = False
    #: A figure whose least value picks the best of the runs (the --cluster scenarios compare
    #: server CPU per message or move); empty: the kind's own choice (see best_run).
    best_by: str = ""


#: The real-time scenario's two servers: netplay, and Colyseus doing the same simulation.
REALTIME_SERVERS = ("netplay", "colyseus")
#: ``--only arena-RxP`` runs R arena rooms of P bots, whatever the mode's own size is.
ARENA_NAME = re.compile(r"arena-(\d+)x(\d+)")
#: ``--only tictactoe-durable-2000`` (or ``tictactoe-fixed-R``): that scenario at R moves/s.
PACED_NAME = re.compile(r"(tictactoe-fixed|tictactoe-durable)-(\d+)")


def arena_scenario(rooms: int, players: int, mode: str, *, only_if_named: bool = False) -> Scenario:
    """Arena rooms of client bots at 30 ticks/s and 20 patches/s, on netplay and on Colyseus.

    A full run measures 20 s after 5 s of warm-up (every room has started its first match by then
    and most are past their first second, when nothing moves); --quick 5 s after 2 s, a smoke run
    3 s after 1 s.
    """
    timing = {"full": (5.0, 20.0), "quick": (2.0, 5.0)}.get(mode, (1.0, 3.0))
    return Scenario(
        f"arena-{rooms}x{players}",
        "realtime",
        {"rooms": rooms, "players": players, "warmup": timing[0], "duration": timing[1]},
        servers=REALTIME_SERVERS,
        only_if_named=only_if_named,
    )


# A saturating client sends thousands of messages a second, far past the per-connection rate limit
# (a flood guard, 200/s by default), so saturation measures netplay with the guard off. The text
# port takes the same limit (a text client past it is slowed down), so it is off there too.
UNLIMITED_RATE = {"rate_limit": 0}


def saturation_scenarios(timing: dict[str, float], *, only_if_named: bool = False) -> list[Scenario]:
    """Relay saturation: one room of 20, and 100 rooms of 4, each member keeping 16 messages in flight."""
    return [
        Scenario(
            f"relay-sat-{rooms}x{members}",
            "relay",
            {"mode": "saturate", "rooms": rooms, "members": members, "window": 16, **timing},
            servers=RELAY_SERVERS,
            netplay_settings=UNLIMITED_RATE,
            only_if_named=only_if_named,
        )
        for rooms, members in ((1, 20), (100, 4))
    ]


def scenarios(mode: str, idle_max: int) -> list[Scenario]:
    """The scenarios of a full, quick or smoke run."""
    full = mode == "full"
    timing = {"warmup": 2.0, "duration": 5.0} if full else {"warmup": 1.0, "duration": 2.0}
    if mode == "smoke":
        smoke = {"warmup": 0.3, "duration": 1.0}
        return [
            Scenario(
                "relay-fixed",
                "relay",
                {"mode": "fixed", "rooms": 2, "members": 4, "rate": 20, **smoke},
                servers=RELAY_SERVERS,
            ),
            *saturation_scenarios(smoke, only_if_named=True),
            *fixed_move_scenarios(smoke, matches=20, only_if_named=True),
            arena_scenario(2, 4, mode, only_if_named=True),
        ]
    counts = [5000, min(20000, idle_max)] if full else [1000, min(5000, idle_max)]
    return [
        Scenario(
            "relay-fixed",
            "relay",
            {"mode": "fixed", "rooms": 200 if full else 50, "members": 4, "rate": 20, **timing},
            servers=RELAY_SERVERS,
        ),
        *saturation_scenarios(timing),
        Scenario(
            "tictactoe",
            "tictactoe",
            {"matches": 500 if full else 100, **timing},
            servers=("netplay",),
        ),
        *fixed_move_scenarios(timing),
        Scenario(
            "idle", "idle", {"counts": counts, "duration": 2.0}, netplay_settings={"max_connections": 25_000}
        ),
        arena_scenario(200 if full else 50, 4, mode),
    ]


def fixed_move_scenarios(
    timing: dict[str, float], *, matches: int = 500, only_if_named: bool = False
) -> list[Scenario]:
    """Tic-tac-toe at a fixed rate, 500 matches, matches kept in SQLite as ``netplay serve`` does:
    10 k moves/s by default (``--db-sync normal``), and 5 k moves/s with ``--db-sync full``, where
    every move waits for an fsync of its batch (the disk's own fsync time is measured alongside)."""
    return [
        Scenario(
            "tictactoe-fixed",
            "tictactoe",
            {"matches": matches, "rate": 10_000, **timing},
            servers=("netplay",),
            netplay_settings={"db": FRESH_DB},
            only_if_named=only_if_named,
        ),
        Scenario(
            "tictactoe-durable",
            "tictactoe",
            {"matches": matches, "rate": 5_000, **timing},
            servers=("netplay",),
            netplay_settings={"db": FRESH_DB, "db_durable": True},
            only_if_named=only_if_named,
        ),
    ]


# -- processes -----------------------------------------------------------------------------------
def free_port() -> int:
    """A TCP port on loopback that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


NICE = 0  # set from --nice: the priority of the server and the generator


def pin(pid: int, core: int) -> None:
    """Pin a process to one core (no-op where affinity is not supported), at the chosen priority."""
    if hasattr(os, "sched_setaffinity") and core < (os.cpu_count() or 1):
        os.sched_setaffinity(pid, {core})
    if NICE:
        os.setpriority(os.PRIO_PROCESS, pid, NICE)


def pinned(core: int) -> Any:
    """A ``preexec_fn`` pinning the child before it starts, so all of its threads inherit the core."""
    return lambda: pin(0, core)


class ServerProcess:
    """A server under test: started, pinned, awaited until it listens, stopped with SIGINT.

    The kind "text" is netplay's server with its 15-112 text port open too (``text_port``): the
    generator connects there (``client_port``), and ``port`` is netplay's own, as for "netplay".
    """

    def __init__(
        self, kind: str, core: int, settings: dict[str, Any] | None = None, tick_log: Path | None = None
    ) -> None:
        self.kind = kind
        self.port = free_port()
        self.text_port: int | None = None
        if kind == "text":
            self.text_port = free_port()
            while self.text_port == self.port:
                self.text_port = free_port()
            settings = {**(settings or {}), "text_port": self.text_port}
        env = None
        if kind == "colyseus":
            cmd = ["node", str(COLYSEUS / "server.js"), str(self.port)]
            if tick_log is not None:
                cmd.append(str(tick_log))
        elif kind == "baseline":  # netplay as it was at --baseline REV, from its own checkout
            assert BASELINE is not None
            cmd = [sys.executable, str(BASELINE / "bench" / "netplay_server.py"), "--port", str(self.port)]
            env = {**os.environ, "PYTHONPATH": str(BASELINE / "src")}
        else:
            script = "raw_relay.py" if kind == "raw" else "netplay_server.py"
            cmd = [sys.executable, str(ROOT / "bench" / script), "--port", str(self.port)]
        for name, value in (settings or {}).items() if kind in ("netplay", "baseline", "text") else ():
            cmd += ["--set", f"{name}={json.dumps(value)}"]
        if tick_log is not None and kind == "netplay":
            cmd += ["--tick-log", str(tick_log)]
        self._stderr: IO[bytes] = tempfile.TemporaryFile()
        self.proc = subprocess.Popen(
            cmd,
            cwd=ROOT if env is None else BASELINE,
            env=env,
            stdout=subprocess.PIPE,
            stderr=self._stderr,
            preexec_fn=pinned(core),
        )
        self._wait_ready(20.0)

    def _wait_ready(self, timeout: float) -> None:
        assert self.proc.stdout is not None
        fd = self.proc.stdout.fileno()
        deadline = time.monotonic() + timeout
        seen = b""
        while time.monotonic() < deadline and f":{self.port}".encode() not in seen:
            ready, _, _ = select.select([fd], [], [], 0.2)
            if ready:
                chunk = os.read(fd, 65536)
                if not chunk:
                    break
                seen += chunk
            elif self.proc.poll() is not None:
                break
        if f":{self.port}".encode() in seen:
            return
        self.stop()
        raise RuntimeError(f"{self.kind} server did not start: {seen[-500:]!r} {self.stderr_tail()}")

    @property
    def pid(self) -> int:
        return self.proc.pid

    @property
    def client_port(self) -> int:
        """Where the load generator connects: the text port for "text", else the server's port."""
        return self.port if self.text_port is None else self.text_port

    def alive(self) -> bool:
        return self.proc.poll() is None

    def stderr_tail(self, limit: int = 2000) -> str:
        """The end of what the server wrote to stderr."""
        self._stderr.seek(0)
        return self._stderr.read().decode(errors="replace")[-limit:]

    def stop(self) -> int | None:
        """SIGINT, then SIGKILL after 15 s; return the exit code."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        if self.proc.stdout is not None:
            self.proc.stdout.close()
        return self.proc.returncode


def run_generator(cfg: dict[str, Any], core: int) -> dict[str, Any]:
    """Run the load generator for one scenario and return its JSON result."""
    budget = float(cfg["budget"])
    if cfg["target"] == "colyseus":
        cmd = ["node", str(COLYSEUS / "loadgen.js"), json.dumps(cfg)]
    else:
        cmd = [sys.executable, "-m", "bench.loadgen", json.dumps(cfg)]
    proc = subprocess.Popen(
        cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, preexec_fn=pinned(core)
    )
    try:
        out, err = proc.communicate(timeout=budget + 30)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate(timeout=10)
    lines = out.decode().strip().splitlines()
    if proc.returncode != 0 or not lines:
        raise RuntimeError(f"load generator failed ({proc.returncode}): {err.decode()[-3000:]}")
    return dict(json.loads(lines[-1]))


class Profiler:
    """py-spy sampling the server for the length of a run, summarised by function."""

    def __init__(self, pid: int, seconds: float, core: int) -> None:
        self.path = Path(tempfile.mkstemp(suffix=".txt")[1])
        self.proc = subprocess.Popen(
            [
                *("py-spy", "record", "--nonblocking", "--function", "-r", "200", "-f", "raw"),
                *("-d", str(int(seconds)), "-p", str(pid), "-o", str(self.path)),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        pin(self.proc.pid, core)

    def summary(self, top: int = 20) -> dict[str, list[tuple[str, float]]]:
        """Own and inclusive time share of the busiest functions."""
        try:
            self.proc.wait(60)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        own: collections.Counter[str] = collections.Counter()
        total: collections.Counter[str] = collections.Counter()
        samples = 0
        for line in self.path.read_text().splitlines():
            stack, _, count = line.rpartition(" ")
            if not stack or not count.isdigit():
                continue
            n = int(count)
            frames = stack.split(";")
            samples += n
            own[frames[-1]] += n
            for frame in set(frames):
                total[frame] += n
        self.path.unlink(missing_ok=True)
        share = 100.0 / max(samples, 1)
        return {
            "own_pct": [(f, round(n * share, 1)) for f, n in own.most_common(top)],
            "inclusive_pct": [(f, round(n * share, 1)) for f, n in total.most_common(top)],
        }


# -- running and reporting -----------------------------------------------------------------------
def background_busy(seconds: float = 1.0) -> float:
    """Percent of the machine's CPU in use while the benchmark itself is idle: other people's load."""
    before = psutil.cpu_times()
    time.sleep(seconds)
    after = psutil.cpu_times()
    total = sum(after) - sum(before)
    idle = (after.idle + getattr(after, "iowait", 0)) - (before.idle + getattr(before, "iowait", 0))
    return round(100 * (1 - idle / total), 1) if total > 0 else 0.0


class QuietGate:
    """Holds each run back until other load drops below ``limit_pct``, within a total waiting budget."""

    def __init__(self, limit_pct: float, budget_s: float) -> None:
        self.limit_pct = limit_pct
        self.budget_s = budget_s

    def wait(self) -> float:
        """Wait while the machine is busy (and budget is left); return the last background reading."""
        started = time.monotonic()
        busy = background_busy()
        while busy > self.limit_pct and time.monotonic() - started < self.budget_s:
            busy = background_busy()
        self.budget_s = max(0.0, self.budget_s - (time.monotonic() - started))
        return busy


def run_scenario(scenario: Scenario, server_kind: str, profile: bool, gate: QuietGate) -> dict[str, Any]:
    """Start a fresh server, drive the scenario at it, stop it; the generator's figures plus exit status."""
    cores = os.cpu_count() or 1
    server_core, gen_core = 0, (1 if cores > 1 else 0)
    background = gate.wait()
    tick_log = None
    if scenario.kind == "realtime":
        tick_log = Path(tempfile.mkstemp(prefix=f"bench-ticks-{server_kind}-", suffix=".json")[1])
    server: Any
    settings = server_settings(scenario, server_kind)
    db_folder = None
    fsync_figures: dict[str, Any] = {}
    if settings.get("db") == FRESH_DB:  # a new SQLite file for each run, as `netplay serve` keeps one
        db_folder = Path(tempfile.mkdtemp(prefix=f"bench-db-{server_kind}-"))
        settings = {**settings, "db": str(db_folder / "netplay.db")}
        if settings.get("db_durable"):
            fsync_figures = disk_fsync(db_folder)
    if server_kind.startswith("cluster"):  # its nodes and redis-server, all on the server's core
        from bench.cluster import ClusterServers

        server = ClusterServers(server_kind, server_core, settings)
    else:
        server = ServerProcess(server_kind, server_core, settings, tick_log)
    profiler = None
    try:
        cfg = {
            "kind": scenario.kind,
            "target": server_kind,
            "host": "127.0.0.1",
            "port": server.client_port,
            "server_pid": server.pid,
            "budget": 240,
            **scenario.params,
        }
        if server_kind.startswith("cluster"):  # the generator spreads rooms over the nodes
            cfg.update(ports=server.client_ports, server_pids=server.pids)
            cfg.update(redis_pid=server.redis.pid, redis_port=server.redis.port)
        if profile:
            seconds = float(cfg.get("warmup", 0)) + float(cfg.get("duration", 5)) + 3
            profiler = Profiler(server.pid, seconds, gen_core)
        result = run_generator(cfg, gen_core)
        result["server_alive_after"] = server.alive()
        if profiler is not None:
            result["profile"] = profiler.summary()
    finally:
        code = server.stop()
        if db_folder is not None:
            shutil.rmtree(db_folder, ignore_errors=True)
    result["server_exit"] = code
    result["background_busy_pct"] = background
    result.update(fsync_figures)
    if hasattr(server, "summary"):
        result["cluster"] = server.summary()
    if tick_log is not None:
        try:
            result.update(tick_figures(tick_log, result, int(scenario.params.get("tick_rate", 30))))
        except (OSError, ValueError, KeyError) as exc:
            result["error"] = f"no tick log from the {server_kind} server: {exc!r}"
        finally:
            tick_log.unlink(missing_ok=True)
    warnings = [ln for ln in server.stderr_tail(4000).splitlines() if ln.strip()]
    if warnings:
        result["server_stderr_tail"] = warnings[-10:]
    return result


def disk_fsync(folder: Path, count: int = 200) -> dict[str, Any]:
    """The disk's own fsync time where the database lives: ``count`` appends of 4 KiB, each
    fsync-ed, as a WAL grows (before the run, so that it measures the disk, not the server)."""
    path = folder / "fsync-probe"
    times = []
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    try:
        block = b"\0" * 4096
        for _ in range(count):
            os.write(fd, block)
            started = time.perf_counter_ns()
            os.fsync(fd)
            times.append(time.perf_counter_ns() - started)
    finally:
        os.close(fd)
        path.unlink(missing_ok=True)
    times.sort()
    p50, p99 = round(times[len(times) // 2] / 1e6, 3), round(times[int(len(times) * 0.99)] / 1e6, 3)
    return {"disk_fsync_p50_ms": p50, "disk_fsync_p99_ms": p99, "disk_fsync": f"{p50} / {p99}"}


#: ``netplay_settings={"db": FRESH_DB}``: the server keeps its matches in SQLite, a new file a run.
FRESH_DB = "<a new file for each run>"


def server_settings(scenario: Scenario, server_kind: str) -> dict[str, Any]:
    """The ServerConfig fields set for a run: the scenario's, and for "text" its rooms' size (the
    text port fills rooms of ``text_room_size`` in connection order, as the generator expects)."""
    if server_kind != "text":
        return scenario.netplay_settings
    return {**scenario.netplay_settings, "text_room_size": int(scenario.params["members"])}


def tick_figures(path: Path, result: dict[str, Any], rate: int) -> dict[str, Any]:
    """The server's ticks inside the generator's window: CPU per room-tick, lateness, late ticks.

    Each record is one wake-up of one room: when it ran (CLOCK_MONOTONIC), how long after the
    deadline of its first due tick, and how many ticks it ran (more than one: it caught up; the
    k-th of them ran k periods less late). A tick is late when it ran more than one period after
    its deadline, as netplay's ``ticks_late`` counts.
    """
    data = json.loads(path.read_text())
    t0, t1 = result["window_mono"]
    wakes = [w for w in data["wakes"] if t0 <= w[0] < t1]
    ticks = sum(int(w[2]) for w in wakes)
    late = sorted(float(w[1]) for w in wakes)
    late_ticks = sum(min(int(r), math.ceil(lag * rate - 1)) for _, lag, r in wakes if lag * rate > 1)
    span = t1 - t0
    out: dict[str, Any] = {
        "wakeups": len(wakes),
        "room_ticks": ticks,
        "room_ticks_per_s": round(ticks / span) if span > 0 else None,
        "ticks_per_room_s": round(ticks / span / max(int(result.get("rooms") or 1), 1), 2) if span else None,
        "cpu_us_per_room_tick": round(float(result["server_cpu_s"]) / ticks * 1e6, 2) if ticks else None,
        "ticks_late": late_ticks,
        "ticks_late_pct": round(100 * late_ticks / ticks, 3) if ticks else None,
    }
    for name, q in (("p50", 0.50), ("p99", 0.99), ("max", 1.0)):
        value = late[min(len(late) - 1, int(q * len(late)))] if late else None
        out[f"tick_late_{name}_ms"] = None if value is None else round(value * 1e3, 3)
    if "gc" in data:  # netplay: the cycle collector's passes in the window, which stall every room
        passes = [g for g in data["gc"] if t0 <= g[0] < t1]
        out["gc_passes"] = len(passes)
        out["gc_full_passes"] = sum(1 for g in passes if g[2] == 2)
        out["gc_max_ms"] = round(max((g[1] for g in passes), default=0.0) * 1e3, 3)
        out["gc_ms_per_s"] = round(sum(g[1] for g in passes) * 1e3 / span, 3) if span > 0 else None
    if "stats" in data:
        out["server_stats"] = data["stats"]  # netplay's own counters, over the server's whole run
    return out


def best_run(scenario: Scenario, runs: list[dict[str, Any]]) -> dict[str, Any]:
    """The best of the runs (outside load only ever makes a run worse), with every run's figures.

    Fixed load: the run with the lowest p99. Saturation and tic-tac-toe: the run with the highest
    throughput. Real time: the run with the least server CPU per room-tick. A scenario with a
    ``best_by`` figure (the --cluster ones): the run with the least of it. Every figure reported
    comes from that one run.
    """
    good = [r for r in runs if "error" not in r]
    if not good:
        return runs[-1]

    def p99(run: dict[str, Any]) -> float:
        return float(run.get("lat_p99_ms") or "inf")

    def throughput(run: dict[str, Any]) -> float:
        return float(run.get(PRIMARY[scenario.kind]) or 0)

    if scenario.best_by:
        best = min(good, key=lambda r: float(r.get(scenario.best_by) or "inf"))
    elif scenario.kind == "relay" and scenario.params.get("mode") == "fixed":
        best = min(good, key=p99)
    elif scenario.kind == "realtime":
        best = min(good, key=lambda r: float(r.get("cpu_us_per_room_tick") or "inf"))
    elif scenario.kind in PRIMARY:
        best = max(good, key=throughput)
    else:
        best = good[0]
    chosen = dict(best)
    if scenario.kind in PRIMARY:
        chosen["runs"] = [r.get(PRIMARY[scenario.kind]) for r in good]
        chosen["runs_p99_ms"] = [r.get("lat_p99_ms", r.get("rtt_p99_ms")) for r in good]
    elif scenario.kind == "realtime":
        chosen["runs"] = [r.get("cpu_us_per_room_tick") for r in good]
        chosen["runs_p99_ms"] = [r.get("tick_late_p99_ms") for r in good]
    if scenario.best_by:
        chosen["runs_best_by"] = [r.get(scenario.best_by) for r in good]
    chosen["failed_runs"] = len(runs) - len(good)
    chosen["all_runs"] = [{k: v for k, v in r.items() if k != "profile"} for r in runs]
    return chosen


def _fmt(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:,.3f}" if abs(value) < 10 else f"{value:,.1f}"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, list):
        return "/".join(f"{v / 1000:.0f}k" if v >= 10000 else f"{v:.3g}" for v in value)
    return str(value)


def _ratio(raw: Any, net: Any) -> str:
    if isinstance(raw, (int, float)) and isinstance(net, (int, float)) and raw:
        return f"{net / raw:.2f}x"
    return ""


RELAY_ROWS = [
    ("delivered msgs/s", "delivered_per_s"),
    ("latency p50 ms", "lat_p50_ms"),
    ("latency p99 ms", "lat_p99_ms"),
    ("server CPU %", "server_cpu_pct"),
    ("server CPU us/msg", "server_cpu_us_per_msg"),
    ("server reads/writes per 100 msgs", "reads_writes_per_100"),
    ("server RSS MiB", "server_rss_mib"),
    ("generator CPU %", "gen_cpu_pct"),
    ("generator-bound", "generator_bound"),
    ("core 0 / core 1 busy %", "core_busy_pct"),
    ("other processes CPU %", "others_cpu_pct"),
    ("unaccounted CPU %", "unaccounted_cpu_pct"),
    ("background before run %", "background_busy_pct"),
    ("all runs: msgs/s", "runs"),
    ("all runs: p99 ms", "runs_p99_ms"),
    ("errors", "errors"),
]
TTT_ROWS = [
    ("games/s", "games_per_s"),
    ("moves/s", "moves_per_s"),
    ("move RTT p50 ms", "rtt_p50_ms"),
    ("move RTT p99 ms", "rtt_p99_ms"),
    ("move RTT max ms", "rtt_max_ms"),
    ("moves waiting for the pacer, max", "moves_waiting_max"),
    ("disk fsync p50 / p99 ms (probe)", "disk_fsync"),
    ("server CPU %", "server_cpu_pct"),
    ("server CPU us/move", "server_cpu_us_per_move"),
    ("server RSS MiB", "server_rss_mib"),
    ("generator CPU %", "gen_cpu_pct"),
    ("generator-bound", "generator_bound"),
    ("core 0 / core 1 busy %", "core_busy_pct"),
    ("other processes CPU %", "others_cpu_pct"),
    ("unaccounted CPU %", "unaccounted_cpu_pct"),
    ("background before run %", "background_busy_pct"),
    ("all runs: moves/s", "runs"),
    ("all runs: p99 ms", "runs_p99_ms"),
    ("errors", "errors"),
]


REALTIME_ROWS = [
    ("server CPU us/room-tick", "cpu_us_per_room_tick"),
    ("server CPU %", "server_cpu_pct"),
    ("room-ticks/s", "room_ticks_per_s"),
    ("ticks/s per room", "ticks_per_room_s"),
    ("tick lateness p50 ms", "tick_late_p50_ms"),
    ("tick lateness p99 ms", "tick_late_p99_ms"),
    ("tick lateness max ms", "tick_late_max_ms"),
    ("server GC pauses: longest ms", "gc_max_ms"),
    ("ticks late > 1 period %", "ticks_late_pct"),
    ("bytes/client/s received", "bytes_per_client_s"),
    ("  of which patches", "patch_bytes_per_client_s"),
    ("  of which keyframes/full states", "keyframe_bytes_per_client_s"),
    ("full states would be, bytes/client/s", "full_state_bytes_per_client_s"),
    ("delta ratio (full / received)", "delta_ratio"),
    ("views/client/s", "views_per_client_s"),
    ("input-to-state p50 ms", "input_p50_ms"),
    ("input-to-state p99 ms", "input_p99_ms"),
    ("inputs/client/s", "inputs_per_client_s"),
    ("games finished", "games_finished"),
    ("server RSS MiB", "server_rss_mib"),
    ("generator CPU %", "gen_cpu_pct"),
    ("generator-bound", "generator_bound"),
    ("generator loop lag p99 ms", "gen_loop_lag_p99_ms"),
    ("core 0 / core 1 busy %", "core_busy_pct"),
    ("background before run %", "background_busy_pct"),
    ("transport", "transport"),
    ("all runs: us/room-tick", "runs"),
    ("all runs: lateness p99 ms", "runs_p99_ms"),
    ("errors", "errors"),
]


NO_RATIO = {
    "generator-bound",
    "errors",
    "core 0 / core 1 busy %",
    "other processes CPU %",
    "unaccounted CPU %",
    "background before run %",
    "idle server CPU %",
    "generator loop lag p99 ms",
    "transport",
}


def table(results: dict[str, dict[str, Any]]) -> str:
    """The side-by-side table: one block per scenario, raw | netplay | netplay/raw, and where they
    ran, text (netplay's 15-112 port) | text/raw and colyseus."""
    with_colyseus = any("colyseus" in by_server for by_server in results.values())
    with_text = any("text" in by_server for by_server in results.values())
    head = f"{'scenario / metric':<34} {'raw relay':>14} {'netplay':>14} {'netplay/raw':>12}"
    head += f" {'text (15-112)':>14} {'text/raw':>9}" if with_text else ""
    lines = [head + (f" {'colyseus':>14}" if with_colyseus else "")]
    for name, by_server in results.items():
        lines.append(name)
        raw, net = by_server.get("raw", {}), by_server.get("netplay", {})
        col, txt = by_server.get("colyseus", {}), by_server.get("text", {})
        failed = {k: v["error"] for k, v in by_server.items() if "error" in v}
        if failed:
            lines.extend(f"  {k} failed: {v}" for k, v in failed.items())
            if not (raw or net) or "error" in raw or "error" in net:
                continue
        if name.startswith("idle"):
            rows = []
            steps = [x.get("steps") or [] for x in (raw, net, col)]
            for i in range(max(map(len, steps))):
                r, n, c = (s[i] if i < len(s) else {} for s in steps)
                count = (n or r or c)["connections"]
                for label, key in (
                    ("KiB/conn", "kib_per_conn"),
                    ("server RSS MiB", "server_rss_mib"),
                    ("connect s", "connect_s"),
                ):
                    rows.append((f"{count:,} conns: {label}", r.get(key), n.get(key), None, c.get(key)))
            for label, key in (
                ("baseline RSS MiB", "baseline_rss_mib"),
                ("idle server CPU %", "server_cpu_pct"),
            ):
                rows.append((label, raw.get(key), net.get(key), None, col.get(key)))
        else:
            spec = TTT_ROWS if name.startswith("tictactoe") else RELAY_ROWS
            rows = [(label, raw.get(k), net.get(k), txt.get(k), col.get(k)) for label, k in spec]
        for label, r_value, n_value, t_value, c_value in rows:
            if label.startswith("all runs"):
                extra = f"  text {_fmt(t_value)}" if with_text else ""
                extra += f"  colyseus {_fmt(c_value)}" if with_colyseus else ""
                lines.append(f"  {label:<32} raw {_fmt(r_value)}  netplay {_fmt(n_value)}{extra}")
                continue
            ratio = "" if label in NO_RATIO else _ratio(r_value, n_value)
            line = f"  {label:<32} {_fmt(r_value):>14} {_fmt(n_value):>14} {ratio:>12}"
            if with_text:
                line += f" {_fmt(t_value):>14} {'' if label in NO_RATIO else _ratio(r_value, t_value):>9}"
            lines.append(line + (f" {_fmt(c_value):>14}" if with_colyseus else ""))
    return "\n".join(lines)


def realtime_table(results: dict[str, dict[str, Any]]) -> str:
    """The real-time scenarios side by side: netplay | Colyseus | netplay/Colyseus."""
    lines = [f"{'scenario / metric':<38} {'netplay':>14} {'colyseus':>14} {'netplay/colyseus':>17}"]
    for name, by_server in results.items():
        lines.append(f"{name} (netplay over TCP, Colyseus over WebSocket)")
        net, col = by_server.get("netplay", {}), by_server.get("colyseus", {})
        lines.extend(f"  {k} failed: {v['error']}" for k, v in by_server.items() if "error" in v)
        if not net and not col:
            continue
        for label, key in REALTIME_ROWS:
            n_value, c_value = net.get(key), col.get(key)
            if label.startswith("all runs"):
                show = [("netplay", n_value), ("colyseus", c_value)]
                text = "  ".join(f"{k} {'/'.join(_fmt(v) for v in vs)}" for k, vs in show if vs)
                lines.append(f"  {label:<36} {text}")
                continue
            ratio = "" if label in NO_RATIO else _ratio(c_value, n_value)
            lines.append(f"  {label:<36} {_fmt(n_value):>14} {_fmt(c_value):>14} {ratio:>17}")
    return "\n".join(lines)


def checkout(rev: str) -> Path:
    """A git worktree of ``rev`` in the temp dir (made once, reused), for the "baseline" server."""
    commit = subprocess.run(
        ["git", "rev-parse", "--verify", f"{rev}^{{commit}}"], cwd=ROOT, capture_output=True, text=True
    )
    if commit.returncode != 0:
        raise SystemExit(f"--baseline {rev}: not a commit of this repository")
    sha = commit.stdout.strip()
    path = Path(tempfile.gettempdir()) / f"netplay-baseline-{sha[:12]}"
    if not (path / "src").is_dir():
        subprocess.run(["git", "worktree", "add", "--detach", str(path), sha], cwd=ROOT, check=True)
    return path


def baseline_table(results: dict[str, dict[str, Any]]) -> str:
    """netplay against the baseline revision: one line per metric, with the ratio now/then."""
    lines = [f"{'scenario / metric':<34} {'baseline':>14} {'netplay':>14} {'now/then':>12}"]
    for name, by_server in results.items():
        base, net = by_server.get("baseline"), by_server.get("netplay", {})
        if not base or "error" in base or "error" in net:
            continue
        lines.append(name)
        spec = TTT_ROWS if name.startswith("tictactoe") else RELAY_ROWS
        for label, key in spec:
            if label.startswith("all runs") or label in NO_RATIO:
                continue
            line = f"  {label:<32} {_fmt(base.get(key)):>14} {_fmt(net.get(key)):>14}"
            lines.append(line + f" {_ratio(base.get(key), net.get(key)):>12}")
    return "\n".join(lines)


def check_targets(results: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    """Each target of the issue, met or missed, with the numbers."""
    checks = []
    for name in ("relay-sat-1x20", "relay-sat-100x4"):
        pair = results.get(name, {})
        raw, net = pair.get("raw", {}).get("delivered_per_s"), pair.get("netplay", {}).get("delivered_per_s")
        if raw and net is not None:
            ratio = net / raw
            checks.append(
                {
                    "target": f"{name}: netplay >= {TARGET_SAT_RATIO:.0%} of raw msgs/s",
                    "value": f"{ratio:.0%} ({net:,} vs {raw:,})",
                    "met": ratio >= TARGET_SAT_RATIO,
                }
            )
    p99 = results.get("relay-fixed", {}).get("netplay", {}).get("lat_p99_ms")
    if p99 is not None:
        checks.append(
            {
                "target": f"relay-fixed: netplay p99 < {TARGET_FIXED_P99_MS} ms",
                "value": f"{p99} ms",
                "met": p99 < TARGET_FIXED_P99_MS,
            }
        )
    for name, pair in results.items():
        if not name.startswith("arena-"):
            continue
        net, col = pair.get("netplay", {}), pair.get("colyseus", {})
        p99, late_pct = net.get("tick_late_p99_ms"), net.get("ticks_late_pct")
        if p99 is not None:
            checks.append(
                {
                    "target": f"{name}: netplay tick lateness p99 < {TARGET_TICK_LATE_P99_MS} ms",
                    "value": f"{p99} ms",
                    "met": p99 < TARGET_TICK_LATE_P99_MS,
                }
            )
        if late_pct is not None:
            checks.append(
                {
                    "target": f"{name}: netplay ticks late by > 1 period <= {TARGET_TICKS_LATE_PCT} %",
                    "value": f"{late_pct} % ({net.get('ticks_late')} of {net.get('room_ticks')})",
                    "met": late_pct <= TARGET_TICKS_LATE_PCT,
                }
            )
        ratio = net.get("delta_ratio")
        if ratio is not None:
            checks.append(
                {
                    "target": f"{name}: netplay deltas >= {TARGET_DELTA_RATIO:g}x smaller than full states",
                    "value": f"{ratio}x ({net.get('full_state_bytes_per_view')} B a full state, "
                    f"{net.get('view_bytes_per_view')} B received a view)",
                    "met": ratio >= TARGET_DELTA_RATIO,
                }
            )
        n_cpu, c_cpu = net.get("cpu_us_per_room_tick"), col.get("cpu_us_per_room_tick")
        if n_cpu is not None and c_cpu is not None:
            checks.append(
                {
                    "target": f"{name}: netplay server CPU per room-tick < Colyseus's",
                    "value": f"{n_cpu} us vs {c_cpu} us ({n_cpu / c_cpu:.2f}x)",
                    "met": n_cpu < c_cpu,
                }
            )
        for kind, result in (("netplay", net), ("colyseus", col)):
            if result.get("generator_bound"):
                checks.append(
                    {
                        "target": f"{name}: the {kind} load generator keeps up (below 90 % of its core)",
                        "value": f"{result.get('gen_cpu_pct')} %: its latencies include its own delay",
                        "met": False,
                    }
                )
    for name, pair in results.items():
        paced = PACED_NAME.fullmatch(name)
        if name not in ("tictactoe-fixed", "tictactoe-durable") and not paced:
            continue
        durable = name.startswith("tictactoe-durable")
        target = TARGET_TTT_DURABLE_P99_MS if durable else TARGET_TTT_FIXED_P99_MS
        net = pair.get("netplay", {})
        if net.get("rtt_p99_ms") is not None:
            disk = (
                f"; the disk's fsync p99 {net['disk_fsync_p99_ms']} ms" if "disk_fsync_p99_ms" in net else ""
            )
            checks.append(
                {
                    "target": f"{name} at {net.get('rate'):,} moves/s: move round trip p99 < {target:g} ms",
                    "value": f"{net['rtt_p99_ms']} ms (p50 {net['rtt_p50_ms']} ms, "
                    f"{net.get('moves_per_s'):,} moves/s{disk})",
                    "met": net["rtt_p99_ms"] < target,
                }
            )
    for step in results.get("idle", {}).get("netplay", {}).get("steps", []):
        checks.append(
            {
                "target": f"idle {step['connections']:,}: netplay < {TARGET_IDLE_KIB} KiB/conn",
                "value": f"{step['kib_per_conn']} KiB",
                "met": step["kib_per_conn"] < TARGET_IDLE_KIB,
            }
        )
    return checks


def install_colyseus() -> None:
    """``npm install`` the Colyseus server and client into bench/colyseus/node_modules, once (again
    when package.json has gained a dependency since)."""
    wanted = json.loads((COLYSEUS / "package.json").read_text())["dependencies"]
    if all((COLYSEUS / "node_modules" / name).is_dir() for name in wanted):
        return
    print("installing Colyseus (npm install in bench/colyseus) ...", file=sys.stderr, flush=True)
    subprocess.run(["npm", "install", "--no-audit", "--no-fund"], cwd=COLYSEUS, check=True, timeout=600)


def machine() -> dict[str, Any]:
    """What the figures were measured on."""
    model = ""
    with open("/proc/cpuinfo") as cpuinfo:
        for line in cpuinfo:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    import uvloop

    commit = subprocess.run(
        ["git", "describe", "--always", "--dirty"], cwd=ROOT, capture_output=True, text=True, check=False
    ).stdout.strip()
    return {
        "netplay_commit": commit,
        "nproc": os.cpu_count(),
        "cpu_model": model,
        "kernel": platform.release(),
        "python": platform.python_version(),
        "uvloop": getattr(uvloop, "__version__", "?"),
        "nofile_hard_limit": resource.getrlimit(resource.RLIMIT_NOFILE)[1],
    }


def main(argv: list[str] | None = None) -> int:
    """Parse the command line, run the chosen scenarios, print the table, save the JSON."""
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="2 s windows and smaller counts")
    parser.add_argument("--smoke", action="store_true", help="the tiniest run: relay-fixed, 1 s (for tests)")
    parser.add_argument("--only", default="", help="comma-separated scenario names")
    parser.add_argument("--profile", default="", help="py-spy the netplay server during these scenarios")
    parser.add_argument("--repeat", type=int, help="runs per scenario and server, best kept")
    parser.add_argument(
        "--quiet",
        type=float,
        default=10.0,
        help="before each run, wait until other processes use less than this %% of the machine",
    )
    parser.add_argument(
        "--quiet-wait", type=float, help="total time all runs may wait for --quiet, s (default 90; smoke: 0)"
    )
    parser.add_argument(
        "--nice",
        type=int,
        default=0,
        help="run the servers and the generator at this niceness (e.g. -10, needs root) on a shared machine",
    )
    parser.add_argument(
        "--colyseus",
        action="store_true",
        help="also run the relay and idle scenarios against Colyseus 0.18 (npm install on first use)",
    )
    parser.add_argument(
        "--no-colyseus",
        action="store_true",
        help="run the real-time scenario on netplay alone (it runs on Colyseus too by default)",
    )
    parser.add_argument(
        "--baseline",
        metavar="REV",
        help="also run netplay as it was at this git revision, side by side (a worktree in the temp dir)",
    )
    parser.add_argument(
        "--cluster",
        action="store_true",
        help="relay and tic-tac-toe on netplay alone, one cluster node and two (needs redis-server)",
    )
    parser.add_argument(
        "--redis-aof",
        choices=("no", "everysec", "always"),
        default="no",
        help="--cluster: Redis's appendonly/appendfsync (default no: CPU, not the disk, is measured)",
    )
    parser.add_argument("--output", type=Path, help="where to write the JSON (default bench/results/)")
    args = parser.parse_args(argv)

    global NICE
    NICE = args.nice
    hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    # A process can hold at most `hard` descriptors, and the server and the generator each need one
    # per connection plus a few of their own.
    idle_max = max(100, hard - 100) if hard != resource.RLIM_INFINITY else 20000
    mode = "smoke" if args.smoke else "quick" if args.quick else "full"
    only = {s for s in args.only.split(",") if s}
    if args.cluster:
        from bench import cluster

        if args.baseline or args.colyseus:
            parser.error("--cluster compares netplay with itself: no --baseline, no --colyseus")
        if not cluster.available():
            parser.error("--cluster needs redis-server (apt-get install redis-server)")
        cluster.REDIS_AOF = args.redis_aof
        chosen = cluster.cluster_scenarios(mode)
    else:
        chosen = scenarios(mode, idle_max)
        for name in sorted(only - {s.name for s in chosen}):
            sized = ARENA_NAME.fullmatch(name)
            if sized and 1 <= int(sized[1]) <= 5000 and 2 <= int(sized[2]) <= 8:
                chosen.append(arena_scenario(int(sized[1]), int(sized[2]), mode))
            paced = PACED_NAME.fullmatch(name)
            if paced and 1 <= int(paced[2]) <= 100_000:
                base = next(s for s in scenarios(mode, idle_max) if s.name == paced[1])
                params = {**base.params, "rate": int(paced[2])}
                chosen.append(dataclasses.replace(base, name=name, params=params))
    profile = {s for s in args.profile.split(",") if s}
    unknown = (only | profile) - {s.name for s in chosen}
    if unknown:
        known = ", ".join(s.name for s in chosen)
        parser.error(f"unknown scenario(s) for a {mode} run: {', '.join(sorted(unknown))} (known: {known})")
    if profile and shutil.which("py-spy") is None:
        parser.error("--profile needs py-spy: pip install py-spy")
    if only or profile:
        chosen = [s for s in chosen if s.name in (only or profile)]
    else:
        chosen = [s for s in chosen if not s.only_if_named]
    pin(os.getpid(), 1 if (os.cpu_count() or 1) > 1 else 0)
    if args.colyseus:
        for scenario in chosen:
            if scenario.kind in ("relay", "idle"):
                scenario.servers = (*scenario.servers, "colyseus")
    for scenario in chosen:
        if scenario.kind == "realtime" and (args.no_colyseus or shutil.which("node") is None):
            if not args.no_colyseus:
                print(f"{scenario.name}: node is not installed: netplay alone", file=sys.stderr)
            scenario.servers = tuple(k for k in scenario.servers if k != "colyseus")
    if any("colyseus" in s.servers for s in chosen):
        install_colyseus()

    if args.baseline:
        global BASELINE
        BASELINE = checkout(args.baseline)
        for scenario in chosen:
            if "netplay" in scenario.servers and scenario.kind not in ("idle", "realtime"):
                scenario.servers = (*scenario.servers, "baseline")

    started = time.monotonic()
    waiting = args.quiet_wait if args.quiet_wait is not None else (0.0 if args.smoke else 90.0)
    gate = QuietGate(args.quiet, waiting)
    repeat = args.repeat if args.repeat is not None else (3 if mode == "full" else 1)
    results: dict[str, dict[str, Any]] = {}
    for scenario in chosen:
        # A profiled scenario runs netplay alone, but --cluster profiles every kind (node n1 of each).
        servers = ("netplay",) if scenario.name in profile and not args.cluster else scenario.servers
        runs: dict[str, list[dict[str, Any]]] = {kind: [] for kind in servers}
        for rep in range(1 if scenario.kind == "idle" else repeat):
            for kind in servers:  # interleaved, so a burst of outside load hits both alike
                print(
                    f"running {scenario.name} against {kind} (run {rep + 1}) ...", file=sys.stderr, flush=True
                )
                try:
                    profiled = scenario.name in profile and (kind == "netplay" or args.cluster)
                    result = run_scenario(scenario, kind, profiled, gate)
                except Exception as exc:  # report and go on: one failed scenario must not hide the rest
                    result = {"error": str(exc)[-2000:]}
                runs[kind].append(result)
        results[scenario.name] = {kind: best_run(scenario, rs) for kind, rs in runs.items()}
    targets = check_targets(results)
    extra: dict[str, Any] = {}
    if args.cluster:
        by_name = {s.name: s for s in chosen}
        targets += cluster.cluster_targets(results, by_name)
        extra = {
            "cluster": {
                "redis_aof": args.redis_aof,
                "pinning": "every node and redis-server on core 0, the generator on core 1: "
                "for cluster1 and cluster2 the figures are CPU time, not wall-clock throughput",
                "projection": cluster.projection(results, by_name),
            }
        }
    report = {
        "command": "python -m bench " + " ".join(argv if argv is not None else sys.argv[1:]),
        "mode": mode,
        "nice": args.nice,
        "when": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "elapsed_s": round(time.monotonic() - started, 1),
        "machine": machine(),
        "scenarios": {
            s.name: {
                **s.params,
                "kind": s.kind,
                "servers": list(s.servers),
                "netplay_settings": s.netplay_settings,
                **({"best_by": s.best_by} if s.best_by else {}),
                **({"text_settings": server_settings(s, "text")} if "text" in s.servers else {}),
            }
            for s in chosen
        },
        "results": results,
        "targets": targets,
        **extra,
    }
    realtime = {s.name for s in chosen if s.kind == "realtime"}
    others = {n: r for n, r in results.items() if n not in realtime}
    if args.cluster:
        print(cluster.cluster_table(results))
        projected = extra["cluster"]["projection"]
        if projected:
            print("\n" + cluster.projection_table(projected))
    elif others:
        print(table(others))
    if realtime:
        print(("\n" if others else "") + realtime_table({n: r for n, r in results.items() if n in realtime}))
    if args.baseline:
        print(f"\nnetplay now against netplay at {args.baseline} (same run, interleaved):")
        print(baseline_table(results))
    for check in report["targets"]:
        print(f"{'MET ' if check['met'] else 'MISS'}  {check['target']}: {check['value']}")
    for name, by_server in results.items():
        for kind, result in by_server.items():
            prof = result.get("profile")
            if prof:
                print(f"\n{kind} server profile under {name} (py-spy, % of samples, own time):")
                for func, pct in prof["own_pct"]:
                    print(f"  {pct:5.1f}%  {func}")
    out = args.output or RESULTS / f"{dt.datetime.now():%Y%m%d-%H%M%S}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2))
    print(f"\nresults: {out} ({report['elapsed_s']} s)")
    failed = [n for n, by in results.items() for r in by.values() if "error" in r]
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
