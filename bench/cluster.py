"""``python -m bench --cluster``: netplay alone, as one cluster node, and as two, side by side.

    python -m bench --cluster                      # the three kinds, three scenarios (a few minutes)
    python -m bench --cluster --quick              # shorter windows, one run each
    python -m bench --cluster --smoke --only cluster-tictactoe
    python -m bench --cluster --redis-aof always   # Redis as docs/cluster.md recommends it

Three server kinds, each run on a fresh redis-server where it has one:

- ``netplay`` (a): one process, no Redis; for matches it keeps them as ``netplay serve`` does, in
  a SQLite file (a new one each run), so (a) and the cluster both keep every move (the cost of
  keeping nothing is the main suite's tic-tac-toe figures: ``python -m bench --only tictactoe``);
- ``cluster1`` (b): one node (``ServerConfig(redis=URL, node_name="n1")``) and its redis-server:
  every member of every room is local, so what it costs over (a) is the cluster's price for
  room-local traffic (the directory, and for matches every move written to Redis, not SQLite);
- ``cluster2`` (c): two nodes on one redis-server; the generator connects each room's members to
  the two nodes in turn (``Generator.port_for``), so every room has members on both, and its first
  member, who makes it and so decides its owner, alternates between nodes from room to room.

Every server-side process (the nodes and redis-server) is pinned to core 0, the generator to core
1: on two cores that is the only split that keeps the generator's core its own. So for (b) and (c)
the messages and moves per second are what one core shared by two or three processes gives, not
what a cluster of machines would: the figures to compare are CPU time per delivered message or
move (psutil, per process, over the generator's window), which do not depend on the sharing. For
(c) the server's CPU is both nodes' added up; Redis's is reported apart, with the commands it
processed (``INFO commandstats``).

The targets (issue 12): (b) within 10 % of (a), in server CPU per message or move and in
throughput; (c) at most twice (a)'s server CPU per delivered message or move. ``projection``
turns the measured costs into the throughput of 4, 16 and 64 nodes (see its docstring).
"""

from __future__ import annotations

import contextlib
import shutil
import signal
import socket
import statistics
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.run import FRESH_DB, UNLIMITED_RATE, Scenario, ServerProcess, _fmt, _ratio, free_port, pinned

#: The kinds of a --cluster run, in the table's order: (a), (b), (c).
CLUSTER_SERVERS = ("netplay", "cluster1", "cluster2")
#: How many nodes each cluster kind runs.
NODES = {"cluster1": 1, "cluster2": 2}
LABELS = {"netplay": "(a) alone", "cluster1": "(b) 1 node", "cluster2": "(c) 2 nodes"}
#: Redis's append-only file: "no" (the default here: CPU is measured, not the disk), "everysec"
#: or "always" (docs/cluster.md's recommendation); set by --redis-aof.
REDIS_AOF = "no"

TARGET_LOCAL_RATIO = 1.10  # (b) / (a), server CPU per message or move, at most
TARGET_LOCAL_THROUGHPUT = 0.90  # (b) / (a), messages or moves per second, at least
TARGET_SPLIT_RATIO = 2.0  # (c) / (a), server CPU per delivered message or move, at most
#: The cluster sizes the projection is made for.
PROJECTED_NODES = (4, 16, 64)


def available() -> bool:
    """redis-server is installed (Debian: apt-get install redis-server)."""
    return shutil.which("redis-server") is not None


def cluster_scenarios(mode: str) -> list[Scenario]:
    """The scenarios of a --cluster run: relay 4-member rooms saturated and at a fixed rate, and
    tic-tac-toe matches paired by room (so that on two nodes every match has a player on each).

    A full run measures 5 s after 2 s of warm-up, 100 rooms saturated, 100 at 20 messages/s per
    member and 500 matches; --quick 2 s after 1 s with fewer fixed-rate rooms and matches; a smoke
    run 1 s after 0.5 s, small. Each run's best is the one with the least server CPU per message
    or move: that is the figure compared.
    """
    timing = {"full": (2.0, 5.0), "quick": (1.0, 2.0)}.get(mode, (0.5, 1.0))
    window = {"warmup": timing[0], "duration": timing[1]}
    sat, fixed, matches = {"full": (100, 100, 500), "quick": (100, 50, 200)}.get(mode, (20, 10, 50))
    return [
        Scenario(
            "cluster-relay-sat",
            "relay",
            {"mode": "saturate", "rooms": sat, "members": 4, "window": 16, **window},
            servers=CLUSTER_SERVERS,
            netplay_settings=UNLIMITED_RATE,
            best_by="server_cpu_us_per_msg",
        ),
        Scenario(
            "cluster-relay-fixed",
            "relay",
            {"mode": "fixed", "rooms": fixed, "members": 4, "rate": 20, **window},
            servers=CLUSTER_SERVERS,
            best_by="server_cpu_us_per_msg",
        ),
        Scenario(
            "cluster-tictactoe",
            "tictactoe",
            {"matches": matches, "pairing": "rooms", **window},
            servers=CLUSTER_SERVERS,
            # (a) keeps its matches as `netplay serve` does, in SQLite (the cluster, in Redis): what
            # is compared is one durable server against a durable cluster, not keeping against not.
            netplay_settings={"db": FRESH_DB},
            best_by="server_cpu_us_per_move",
        ),
    ]


# -- processes -----------------------------------------------------------------------------------
class RedisServer:
    """A redis-server of one run: a free port, no snapshots, its files in a temp folder, pinned."""

    def __init__(self, core: int, aof: str = "no") -> None:
        self.port = free_port()
        self.aof = aof
        self.folder = Path(tempfile.mkdtemp(prefix="bench-redis-"))
        command = ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", ""]
        command += ["--dir", str(self.folder), "--logfile", str(self.folder / "redis.log")]
        command += ["--maxmemory-policy", "noeviction", "--appendonly", "no" if aof == "no" else "yes"]
        if aof != "no":
            command += ["--appendfsync", aof]
        self.proc = subprocess.Popen(
            command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, preexec_fn=pinned(core)
        )
        self._wait_ready(10.0)

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    @property
    def pid(self) -> int:
        return self.proc.pid

    def _wait_ready(self, timeout: float) -> None:
        """Until it answers PING (a fresh server has nothing to load)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and self.proc.poll() is None:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", self.port), 1) as s:
                s.sendall(b"PING\r\n")
                if s.recv(64).startswith(b"+PONG"):
                    return
            time.sleep(0.05)  # a poll's pace: it is not listening yet
        log = self.log_tail()
        self.stop()
        raise RuntimeError(f"redis-server did not start: {log}")

    def log_tail(self, limit: int = 1000) -> str:
        """The end of its log file."""
        try:
            return (self.folder / "redis.log").read_text(errors="replace")[-limit:]
        except OSError:
            return ""

    def alive(self) -> bool:
        return self.proc.poll() is None

    def stop(self) -> int | None:
        """SIGTERM (it saves nothing: ``--save ""``), SIGKILL after 10 s; its folder removed."""
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        shutil.rmtree(self.folder, ignore_errors=True)
        return self.proc.returncode


class ClusterServers:
    """A cluster under test, as run_scenario sees one server: a redis-server and ``nodes`` netplay
    nodes on it (``n1``, ``n2``...), all pinned to ``core``; ``client_ports`` has every node's."""

    def __init__(self, kind: str, core: int, settings: dict[str, Any] | None = None) -> None:
        self.kind = kind
        self.redis = RedisServer(core, REDIS_AOF)
        self.nodes: list[ServerProcess] = []
        self.node_exits: list[int | None] = []
        self.redis_exit: int | None = None
        try:
            # A node keeps its matches in Redis: a SQLite file set for (a) is not its.
            own = {k: v for k, v in (settings or {}).items() if k != "db"}
            for n in range(NODES[kind]):
                node = {**own, "redis": self.redis.url, "node_name": f"n{n + 1}"}
                self.nodes.append(ServerProcess("netplay", core, node))
        except BaseException:
            self.stop()
            raise

    @property
    def pid(self) -> int:
        return self.nodes[0].pid

    @property
    def pids(self) -> list[int]:
        return [node.pid for node in self.nodes]

    @property
    def client_port(self) -> int:
        return self.nodes[0].client_port

    @property
    def client_ports(self) -> list[int]:
        return [node.client_port for node in self.nodes]

    def alive(self) -> bool:
        """Every node and Redis still running."""
        return self.redis.alive() and all(node.alive() for node in self.nodes)

    def stderr_tail(self, limit: int = 2000) -> str:
        """Each node's stderr, named."""
        tails = [(f"n{i + 1}", node.stderr_tail(limit)) for i, node in enumerate(self.nodes)]
        return "\n".join(f"[{name}] {line}" for name, tail in tails for line in tail.splitlines())

    def stop(self) -> int | None:
        """Stop the nodes together (each leaving the cluster: none adopts another's rooms while it
        stops too), then Redis; return the first node's non-zero exit code, else 0."""
        for node in self.nodes:
            if node.alive():
                node.proc.send_signal(signal.SIGINT)
        self.node_exits = [node.stop() for node in self.nodes]
        self.redis_exit = self.redis.stop()
        return next((code for code in self.node_exits if code != 0), 0)

    def summary(self) -> dict[str, Any]:
        """What a run's result records of the cluster itself."""
        return {
            "nodes": len(self.nodes),
            "node_exits": self.node_exits,
            "redis_exit": self.redis_exit,
            "redis_aof": self.redis.aof,
        }


# -- reporting -----------------------------------------------------------------------------------
def _rows(unit: str) -> list[tuple[str, str]]:
    """The table's rows for a scenario counted in ``unit`` ("msg" or "move")."""
    if unit == "msg":
        head = [("delivered msgs/s *", "delivered_per_s"), ("latency p50 ms", "lat_p50_ms")]
        head.append(("latency p99 ms", "lat_p99_ms"))
    else:
        head = [("games/s *", "games_per_s"), ("moves/s *", "moves_per_s")]
        head += [("move RTT p50 ms", "rtt_p50_ms"), ("move RTT p99 ms", "rtt_p99_ms")]
    return [
        *head,
        (f"server CPU us/{unit} (nodes)", f"server_cpu_us_per_{unit}"),
        (f"Redis CPU us/{unit}", f"redis_cpu_us_per_{unit}"),
        (f"nodes + Redis CPU us/{unit}", f"total_cpu_us_per_{unit}"),
        (f"Redis commands/{unit}", f"redis_commands_per_{unit}"),
        ("server CPU % (nodes)", "server_cpu_pct"),
        ("  each node's %", "node_cpu_pct"),
        ("Redis CPU %", "redis_cpu_pct"),
        ("Redis commands/s", "redis_commands_per_s"),
        ("server RSS MiB (nodes)", "server_rss_mib"),
        ("generator CPU %", "gen_cpu_pct"),
        ("generator-bound", "generator_bound"),
        ("core 0 / core 1 busy %", "core_busy_pct"),
        ("other processes CPU %", "others_cpu_pct"),
        ("background before run %", "background_busy_pct"),
        ("rooms with members on 2 nodes", "rooms_split"),
        (f"all runs: us/{unit}", "runs_best_by"),
        ("errors", "errors"),
    ]


#: Rows whose ratio to (a) means nothing (or that (a) has not).
_NO_RATIO = {
    "generator-bound",
    "errors",
    "core 0 / core 1 busy %",
    "other processes CPU %",
    "background before run %",
    "rooms with members on 2 nodes",
    "  each node's %",
}


def unit_of(result: dict[str, Any]) -> str:
    """The unit a result is counted in: a tic-tac-toe move, or a relayed message."""
    return "move" if "moves_per_s" in result else "msg"


def _figure(result: dict[str, Any], key: str) -> Any:
    """A result's figure; for one process alone its total CPU is its server CPU (it has no Redis)."""
    if key.startswith("total_cpu_us_per_") and key not in result:
        return result.get(key.replace("total_", "server_"))
    return result.get(key)


def cluster_table(results: dict[str, dict[str, Any]]) -> str:
    """(a) | (b) | b/a | (c) | c/a for every cluster scenario, with the caveat about throughput."""
    a, b, c = (LABELS[k] for k in CLUSTER_SERVERS)
    lines = [f"{'scenario / metric':<34} {a:>14} {b:>14} {'b/a':>7} {c:>14} {'c/a':>7}"]
    for name, by_server in results.items():
        lines.append(name)
        lines.extend(f"  {k} failed: {v['error']}" for k, v in by_server.items() if "error" in v)
        results_ok = [r for r in by_server.values() if "error" not in r]
        if not results_ok:
            continue
        base = by_server.get("netplay", {})
        for label, key in _rows(unit_of(results_ok[0])):
            line = f"  {label:<32}"
            for kind in CLUSTER_SERVERS:
                value = _figure(by_server.get(kind, {}), key)
                line += f" {_fmt(value):>14}"
                if kind != "netplay":
                    ratio = "" if label in _NO_RATIO else _ratio(_figure(base, key), value)
                    line += f" {ratio:>7}"
            lines.append(line)
    lines.append(
        "  * (b) and (c) run their nodes and redis-server all on core 0 (the generator has core 1):"
        " their msgs/s and moves/s\n    are one core shared by 2 or 3 processes, not a cluster's"
        " throughput; compare CPU time per message or move.\n    (c)'s server CPU is both nodes'"
        " added up; Redis's is apart."
    )
    return "\n".join(lines)


def cluster_targets(
    results: dict[str, dict[str, Any]], scenarios: dict[str, Scenario]
) -> list[dict[str, Any]]:
    """The issue's targets for every cluster scenario that ran on (a) and (b) or (c); throughput
    is compared where the server sets it (saturation, tic-tac-toe), not at a fixed rate."""
    checks: list[dict[str, Any]] = []
    for name, by_server in results.items():
        fixed = scenarios[name].params.get("mode") == "fixed"
        a, b, c = (by_server.get(k, {}) for k in CLUSTER_SERVERS)
        if not a or "error" in a:
            continue
        unit = unit_of(a)
        cpu = f"server_cpu_us_per_{unit}"
        tp = "delivered_per_s" if unit == "msg" else "moves_per_s"
        a_cpu, a_tp = a.get(cpu), a.get(tp)
        if b and "error" not in b and a_cpu and b.get(cpu) is not None:
            ratio = b[cpu] / a_cpu
            checks.append(
                {
                    "target": f"{name}: (b) one node + Redis, server CPU/{unit} <= "
                    f"{TARGET_LOCAL_RATIO:.2f}x (a)'s",
                    "value": f"{ratio:.2f}x ({b[cpu]} vs {a_cpu} us; Redis another "
                    f"{_fmt(b.get(f'redis_cpu_us_per_{unit}'))} us){_paired(a, b)}",
                    "met": ratio <= TARGET_LOCAL_RATIO,
                }
            )
            if a_tp and b.get(tp) is not None and not fixed:
                ratio = b[tp] / a_tp
                checks.append(
                    {
                        "target": f"{name}: (b) {tp} >= {TARGET_LOCAL_THROUGHPUT:.2f}x (a)'s "
                        "(Redis shares its core)",
                        "value": f"{ratio:.2f}x ({b[tp]:,} vs {a_tp:,})",
                        "met": ratio >= TARGET_LOCAL_THROUGHPUT,
                    }
                )
        if c and "error" not in c and a_cpu and c.get(cpu) is not None:
            ratio = c[cpu] / a_cpu
            checks.append(
                {
                    "target": f"{name}: (c) two nodes, rooms split, server CPU/{unit} (both nodes) <= "
                    f"{TARGET_SPLIT_RATIO:g}x (a)'s",
                    "value": f"{ratio:.2f}x ({c[cpu]} vs {a_cpu} us; Redis another "
                    f"{_fmt(c.get(f'redis_cpu_us_per_{unit}'))} us){_paired(a, c)}",
                    "met": ratio <= TARGET_SPLIT_RATIO,
                }
            )
        for kind, result in zip(CLUSTER_SERVERS, (a, b, c), strict=True):
            if result.get("generator_bound"):
                checks.append(
                    {
                        "target": f"{name}: the load generator keeps up against {kind} (< 90 % of its core)",
                        "value": f"{result.get('gen_cpu_pct')} %: the server was not the bottleneck",
                        "met": False,
                    }
                )
    return checks


def _paired(a: dict[str, Any], other: dict[str, Any]) -> str:
    """Run k of (a) and run k of the other kind ran one after the other: their ratios, run by run,
    and the median of them (steadier than best against best when one run of (a) was lucky)."""
    pairs = [
        x / y
        for y, x in zip(a.get("runs_best_by") or [], other.get("runs_best_by") or [], strict=False)
        if x is not None and y
    ]
    if len(pairs) < 2:
        return ""
    shown = "/".join(f"{r:.2f}" for r in pairs)
    return f"; run by run {shown}, median {statistics.median(pairs):.2f}x"


def remote_share(nodes: int, members: int) -> float:
    """The share of a room's members not on its owner's node, when a balancer puts each client on
    one of ``nodes`` nodes at random: the owner's node has the room's maker, each of the other
    ``members - 1`` is elsewhere with probability (nodes - 1) / nodes."""
    return (members - 1) / members * (nodes - 1) / nodes


def projection(results: dict[str, dict[str, Any]], scenarios: dict[str, Scenario]) -> dict[str, Any]:
    """The throughput of 4, 16 and 64 nodes, projected from each scenario's measured costs.

    The model: a node is one core and spends ``cpu(f)`` per delivered message (or move), where
    ``f`` is the share of deliveries to members on another node than the room's owner; ``cpu`` is
    a straight line through (b) (f = 0: every member local) and (c) (f = the share (c) measured:
    half, for rooms split evenly over two nodes). Redis, single-threaded, spends ``redis(f)`` on a
    line through the same two points, and can do at most one core's worth. Clients land on nodes
    at random (``remote_share``). The cluster delivers ``min(N / cpu(f), 1 / redis(f))`` a second.

    Where it breaks: past the measured f it extrapolates (4-member rooms reach f = 0.74); the
    bus batches what one loop turn has for a node into one message, and with more nodes fewer
    deliveries share a message, so Redis's cost per delivery grows faster than the line; the
    directory's channel goes to every node (each room's change costs N deliveries in Redis);
    Redis's ceiling here is its CPU on this machine's core, without a network between nodes.
    """
    out: dict[str, Any] = {}
    for name, by_server in results.items():
        b, c = by_server.get("cluster1", {}), by_server.get("cluster2", {})
        if "error" in b or "error" in c or not b or not c:
            continue
        unit = unit_of(b)
        keys = (f"server_cpu_us_per_{unit}", f"redis_cpu_us_per_{unit}")
        if any(not isinstance(x.get(k), (int, float)) for x in (b, c) for k in keys):
            continue
        n = int(scenarios[name].params.get("members", 2))  # a match: its two players
        measured = (n // 2) / n  # (c): member k of each room on node (room + k) % 2
        node_b, node_c = float(b[keys[0]]), float(c[keys[0]])
        redis_b, redis_c = float(b[keys[1]]), float(c[keys[1]])
        rows = []
        for nodes in PROJECTED_NODES:
            f = remote_share(nodes, n)
            node_us = node_b + (node_c - node_b) * f / measured
            redis_us = redis_b + (redis_c - redis_b) * f / measured
            by_nodes = nodes * 1e6 / node_us
            by_redis = 1e6 / redis_us if redis_us > 0 else float("inf")
            rows.append(
                {
                    "nodes": nodes,
                    "remote_share": round(f, 3),
                    "node_cpu_us": round(node_us, 3),
                    "redis_cpu_us": round(redis_us, 3),
                    "nodes_capacity_per_s": round(by_nodes),
                    "redis_capacity_per_s": None if by_redis == float("inf") else round(by_redis),
                    "projected_per_s": round(min(by_nodes, by_redis)),
                    "bound_by": "nodes" if by_nodes <= by_redis else "Redis",
                    "redis_saturates_at_nodes": None
                    if by_redis == float("inf")
                    else round(by_redis * node_us / 1e6, 1),
                }
            )
        out[name] = {"unit": unit, "members": n, "measured_remote_share": measured, "rows": rows}
    return out


def projection_table(proj: dict[str, Any]) -> str:
    """The projection, one line per scenario and cluster size."""
    lines = [
        f"{'projection (see bench/cluster.py projection)':<44} {'remote':>7} {'node us':>8} "
        f"{'Redis us':>9} {'nodes cap/s':>12} {'Redis cap/s':>12} {'projected/s':>12}  bound"
    ]
    for name, entry in proj.items():
        for row in entry["rows"]:
            label = f"{name}, {row['nodes']} nodes ({entry['unit']}s)"
            lines.append(
                f"  {label:<42} {row['remote_share']:>7.3f} {row['node_cpu_us']:>8.2f} "
                f"{row['redis_cpu_us']:>9.3f} {_fmt(row['nodes_capacity_per_s']):>12} "
                f"{_fmt(row['redis_capacity_per_s']):>12} {_fmt(row['projected_per_s']):>12}"
                f"  {row['bound_by']}"
            )
    return "\n".join(lines)
