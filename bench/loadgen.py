"""The load generator: one uvloop process that drives one scenario against one server and prints JSON.

Run by bench/run.py as ``python -m bench.loadgen '<config json>'``, pinned to its own core. It reads
the server's CPU and RSS through psutil at the edges of the measurement window, so the figures cover
exactly the messages it counted. Scenarios: relay rooms (fixed rate or saturated), tic-tac-toe
matches, idle connections, and real-time arena rooms (``realtime``) of client bots that play
Arena's simple bot on the views they keep from patches.

Relay rooms speak the target's protocol: the raw relay's lines, netplay's frames, or (target
``text``) the 15-112 lines of netplay's text port, where each client sends ``relay PAYLOAD`` and
the others receive ``relay SENDER PAYLOAD``, padded to the raw relay's line. Every delivered message
carries its send time once, after ``|T``, which is what is counted and timed.

Against a cluster (bench/cluster.py) the config names every node: ``ports`` (each room's members,
each match's two players, go to them alternately: member ``k`` of group ``g`` to
``ports[(g + k) % len(ports)]``, so that every room of two or more has members on two nodes and the
rooms' owners alternate), ``server_pids`` (the server's CPU is theirs added up, each node's shown
too) and ``redis_pid``/``redis_port`` (Redis's CPU and commands over the same window, apart).
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import gc
import json
import math
import os
import random
import resource
import socket
import sys
import time
import zlib
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
import psutil

from netplay.client.realtime import DRIFT
from netplay.games.arena import Arena
from netplay.protocol import delta

MARK = b"|T"  # occurs exactly once in every relayed message, just before its 19-digit send time
_TS_LEN = 19
_PAD = b"x" * 16
# netplay wraps relayed data in 4 + 66 bytes ('{"type":"relay","room":"r-…","from":"p-…","data":"…"}');
# the raw line carries as many extra bytes, less its newline, so both move messages of one size.
_RAW_EXTRA = 4 + 66 - 1
#: The raw relay's line, which the 15-112 text line ``relay SENDER S......|T<ts>|xx…x`` is padded to
#: (for its sender's id), so that the text port moves messages of the raw relay's size.
_DELIVERED_BYTES = len(b"S000000|T") + _TS_LEN + len(b"|") + len(_PAD) + _RAW_EXTRA + len(b"\n")
_MAX_SAMPLES = 2_000_000
_CONNECT_CONCURRENCY = 200


def now_ns() -> int:
    """The clock every embedded timestamp uses."""
    return time.monotonic_ns()


def percentile(sorted_values: list[int], q: float) -> float | None:
    """Nearest-rank percentile of already sorted samples, or None when there are none."""
    if not sorted_values:
        return None
    return float(sorted_values[min(len(sorted_values) - 1, int(q * len(sorted_values)))])


def latency_summary(samples: list[int], prefix: str) -> dict[str, Any]:
    """p50/p99/max in milliseconds of nanosecond samples."""
    samples.sort()
    out: dict[str, Any] = {f"{prefix}_samples": len(samples)}
    for name, q in (("p50", 0.50), ("p99", 0.99), ("max", 1.0)):
        value = percentile(samples, q)
        out[f"{prefix}_{name}_ms"] = None if value is None else round(value / 1e6, 3)
    return out


def raise_nofile_limit() -> int:
    """Raise the soft open-files limit to the hard one; return the new soft limit."""
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    with contextlib.suppress(ValueError, OSError):
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


@dataclass(slots=True)
class Snapshot:
    """Wall clock, server CPU seconds and RSS, and this process's CPU seconds, at one instant.

    For a cluster, ``server_*`` add up every node, ``nodes_cpu`` has each node's CPU seconds, and
    ``redis_cpu``/``redis_commands`` are redis-server's CPU seconds and commands processed so far.
    """

    wall: float
    server_cpu: float
    server_sys: float
    server_rss: int
    own_cpu: float
    cores: list[Any]
    others: dict[int, float]
    nodes_cpu: list[float] = field(default_factory=list)
    redis_cpu: float | None = None
    redis_commands: dict[str, int] | None = None
    #: The server's read and write system calls so far (every node's, for a cluster).
    syscalls: tuple[int, int] = (0, 0)


class Meter:
    """Reads the server processes' counters (one, or every node of a cluster, and its Redis) and
    this process's CPU time."""

    def __init__(
        self,
        server_pid: int,
        node_pids: list[int] | None = None,
        redis_pid: int | None = None,
        redis_port: int | None = None,
    ) -> None:
        self.server = psutil.Process(server_pid)
        self.nodes = [psutil.Process(pid) for pid in node_pids or [server_pid]]
        self.redis = None if redis_pid is None else psutil.Process(redis_pid)
        self.redis_port = redis_port

    def snap(self) -> Snapshot:
        """Take a snapshot now."""
        times = [p.cpu_times() for p in self.nodes]
        nodes_cpu = [t.user + t.system for t in times]
        redis_cpu = None
        if self.redis is not None:
            rt = self.redis.cpu_times()
            redis_cpu = rt.user + rt.system
        return Snapshot(
            time.perf_counter(),
            sum(nodes_cpu),
            sum(t.system for t in times),
            sum(p.memory_info().rss for p in self.nodes),
            time.process_time(),
            psutil.cpu_times(percpu=True),
            self._others(),
            nodes_cpu if len(self.nodes) > 1 or self.redis is not None else [],
            redis_cpu,
            None if self.redis_port is None else redis_commands(self.redis_port),
            self._syscalls(),
        )

    def _syscalls(self) -> tuple[int, int]:
        """Reads and writes (system calls) of the server's processes, from /proc/PID/io."""
        try:
            counters = [p.io_counters() for p in self.nodes]
        except (psutil.Error, AttributeError):  # (not on every platform)
            return (0, 0)
        return (sum(c.read_count for c in counters), sum(c.write_count for c in counters))

    def _others(self) -> dict[int, float]:
        """CPU seconds of every other user-space process: the load that is not ours."""
        ours = {self.server.pid, os.getpid(), os.getppid(), *(p.pid for p in self.nodes)}
        if self.redis is not None:
            ours.add(self.redis.pid)
        seen: dict[int, float] = {}
        for proc in psutil.process_iter(["ppid", "cpu_times"]):
            info = proc.info
            if proc.pid in ours or proc.pid == 2 or info["ppid"] == 2 or info["cpu_times"] is None:
                continue  # kernel threads (children of kthreadd) do our loopback work too
            seen[proc.pid] = info["cpu_times"].user + info["cpu_times"].system
        return seen

    def rss(self) -> int:
        """The server's resident set size in bytes."""
        return int(self.server.memory_info().rss)

    @staticmethod
    def window(a: Snapshot, b: Snapshot) -> dict[str, Any]:
        """CPU and memory figures between two snapshots (a cluster's nodes and Redis apart too)."""
        wall = b.wall - a.wall
        own = (b.own_cpu - a.own_cpu) / wall
        redis = 0.0 if a.redis_cpu is None or b.redis_cpu is None else b.redis_cpu - a.redis_cpu
        out: dict[str, Any] = {
            "window_s": round(wall, 3),
            "server_cpu_s": round(b.server_cpu - a.server_cpu, 4),
            "server_cpu_pct": round(100 * (b.server_cpu - a.server_cpu) / wall, 1),
            # Of which in the kernel: system calls, and the loopback work charged to them.
            "server_sys_pct": round(100 * (b.server_sys - a.server_sys) / wall, 1),
            "server_rss_mib": round(b.server_rss / 2**20, 1),
            "server_reads": b.syscalls[0] - a.syscalls[0],
            "server_writes": b.syscalls[1] - a.syscalls[1],
            "gen_cpu_pct": round(100 * own, 1),
            "generator_bound": own >= 0.9,
            # Busy time on both cores not charged to the server or to us: the kernel's loopback work
            # in softirq, plus other processes (which "others_cpu_pct" counts if they outlive the window).
            "unaccounted_cpu_pct": round(
                sum(_busy(x, y) for x, y in zip(a.cores, b.cores, strict=True))
                - 100 * (b.server_cpu - a.server_cpu + b.own_cpu - a.own_cpu + redis) / wall,
                1,
            ),
            "others_cpu_pct": round(
                100 * sum(cpu - a.others.get(pid, 0.0) for pid, cpu in b.others.items()) / wall, 1
            ),
            "core_busy_pct": [_busy(x, y) for x, y in zip(a.cores, b.cores, strict=True)],
            "cores_pct": [_breakdown(x, y) for x, y in zip(a.cores, b.cores, strict=True)],
        }
        if b.nodes_cpu:
            node_s = [y - x for x, y in zip(a.nodes_cpu, b.nodes_cpu, strict=True)]
            out["node_cpu_s"] = [round(v, 4) for v in node_s]
            out["node_cpu_pct"] = [round(100 * v / wall, 1) for v in node_s]
        if a.redis_cpu is not None and b.redis_cpu is not None:
            out["redis_cpu_s"] = round(redis, 4)
            out["redis_cpu_pct"] = round(100 * redis / wall, 1)
        if a.redis_commands is not None and b.redis_commands is not None:
            # (less the generator's own INFO, which the end's reading counts at the start)
            calls = {k: v - a.redis_commands.get(k, 0) for k, v in b.redis_commands.items() if k != "info"}
            calls = {k: v for k, v in sorted(calls.items(), key=lambda kv: -kv[1]) if v > 0}
            out["redis_commands"] = calls
            out["redis_commands_per_s"] = round(sum(calls.values()) / wall)
        return out


def redis_commands(port: int) -> dict[str, int]:
    """Commands redis-server on ``port`` has processed so far, by name (``INFO commandstats``),
    read over a blocking socket of its own at the window's edges: what Redis did for the load."""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(b"INFO commandstats\r\n")
        data = b""
        while not data.startswith(b"$") or b"\r\n" not in data:
            data += sock.recv(65536)
        head, _, body = data.partition(b"\r\n")
        size = int(head[1:])
        while len(body) < size:
            body += sock.recv(65536)
    calls: dict[str, int] = {}
    for line in body[:size].decode().splitlines():  # cmdstat_publish:calls=12,usec=34,...
        name, _, stats = line.partition(":")
        if name.startswith("cmdstat_") and stats.startswith("calls="):
            calls[name[len("cmdstat_") :]] = int(stats.split(",", 1)[0][len("calls=") :])
    return calls


def _busy(a: Any, b: Any) -> float:
    """Percent of the time a core was not idle between two psutil per-CPU readings."""
    idle = (b.idle + getattr(b, "iowait", 0)) - (a.idle + getattr(a, "iowait", 0))
    total = sum(b) - sum(a)
    return round(100 * (1 - idle / total), 1) if total > 0 else 0.0


def _breakdown(a: Any, b: Any) -> dict[str, float]:
    """Where a core's time went between two psutil per-CPU readings, in percent."""
    total = sum(b) - sum(a)
    return {
        name: round(100 * (getattr(b, name) - getattr(a, name)) / total, 1) if total > 0 else 0.0
        for name in ("user", "system", "softirq", "irq", "steal", "idle")
        if hasattr(b, name)
    }


# -- netplay's framing, for the control phase and the tic-tac-toe bots -----------------------------
def frame(message: dict[str, Any]) -> bytes:
    """Encode and length-prefix one netplay message."""
    payload = orjson.dumps(message)
    return len(payload).to_bytes(4, "big") + payload


class NetplayConn(asyncio.Protocol):
    """A netplay client connection that parses every frame: handshake, requests with ids, pings."""

    def __init__(self, gen: Generator) -> None:
        self.gen = gen
        self.transport: asyncio.Transport | None = None
        self._buf = bytearray()
        self._ids = 0
        self._waiters: dict[int, asyncio.Future[dict[str, Any]]] = {}
        self.player_id = ""
        self.node = ""  # the cluster node it is connected to (its welcome's "node"), "" alone
        self.lost: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def connection_lost(self, exc: Exception | None) -> None:
        self.transport = None
        if not self.lost.done():
            self.lost.set_result(None)
        for waiter in self._waiters.values():
            if not waiter.done():
                waiter.set_exception(ConnectionError("connection lost"))
        self._waiters.clear()

    def data_received(self, data: bytes) -> None:
        buf = self._buf
        buf += data
        pos, end = 0, len(buf)
        while end - pos >= 4:
            stop = pos + 4 + int.from_bytes(buf[pos : pos + 4], "big")
            if stop > end:
                break
            message = orjson.loads(buf[pos + 4 : stop])
            pos = stop
            self._dispatch(message)
        del buf[:pos]

    def _dispatch(self, message: dict[str, Any]) -> None:
        re = message.get("re")
        if re is not None and (waiter := self._waiters.pop(re, None)) is not None:
            if not waiter.done():
                waiter.set_result(message)
            return
        kind = message.get("type")
        if kind == "ping":
            self.send({"type": "pong"})
        elif kind == "error":
            self.gen.errors += 1
            self.gen.last_error = message
        else:
            self.on_message(message)

    def on_message(self, message: dict[str, Any]) -> None:
        """An event that is not a reply; subclasses act on it."""

    def send(self, message: dict[str, Any]) -> None:
        """Send one message now."""
        if self.transport is not None:
            self.transport.write(frame(message))

    async def request(self, message: dict[str, Any], timeout: float = 30.0) -> dict[str, Any]:
        """Send a request with an id and return the reply; raise on an error reply."""
        self._ids += 1
        waiter: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._waiters[self._ids] = waiter
        self.send({**message, "id": self._ids})
        async with asyncio.timeout(timeout):
            reply = await waiter
        if reply.get("type") == "error":
            raise RuntimeError(f"{message['type']} refused: {reply}")
        return reply

    async def hello(self, name: str) -> None:
        """Complete the handshake."""
        welcome = await self.request({"type": "hello", "protocol": 1, "name": name})
        self.player_id = welcome.get("player") or welcome["id"]  # "id" before the protocol renamed it
        self.node = str(welcome.get("node") or "")

    def abort(self) -> None:
        """Drop the connection without a goodbye (no TIME_WAIT left behind)."""
        if self.transport is not None:
            self.transport.abort()


# -- relay load: the same counting code for both servers -------------------------------------------
class RelayRoom:
    """One room of the relay load: its members, and for saturation the in-flight window."""

    def __init__(self, gen: Generator, index: int, members: list[RelayMember], window: int) -> None:
        self.gen = gen
        self.index = index
        self.members = members
        self.sent = 0  # messages
        self.received = 0  # deliveries (each message is delivered to len(members) - 1 members)
        self.cap = window * len(members)
        # Refill once half the window is free: every member then writes at least window/2 messages.
        self.refill = max(len(members), self.cap // 2)
        self.room_id = b""

    def pump(self) -> None:
        """Saturation: top the room up to ``cap`` messages not yet received by every other member."""
        n = len(self.members)
        free = self.cap - (self.sent - self.received // (n - 1))
        if free < self.refill or not self.gen.running:
            return
        per = free // n
        ts = now_ns()
        for member in self.members:
            member.send_burst(per, ts)
        self.sent += per * n


class RelayMember:
    """What the relay load needs of a client: send stamped messages, count and time what arrives."""

    room: RelayRoom
    transport: asyncio.Transport | None
    loading: bool
    _tail_mark: bool
    _head: bytes
    _tail: bytes
    gen: Generator

    def set_message(self, sender: int, head: bytes, tail: bytes) -> None:
        """Prepare the constant parts of this member's message around the 19-digit timestamp."""
        self._head = head + b"S%06d|T" % sender
        self._tail = b"|" + tail

    def one_message(self, ts: int) -> bytes:
        """This member's message (a whole frame or line) stamped ``ts``."""
        return self._head + b"%019d" % ts + self._tail

    def send_burst(self, count: int, ts: int) -> None:
        """Write ``count`` messages stamped ``ts`` in one write."""
        if self.transport is not None and count > 0:
            one = self._head + b"%019d" % ts + self._tail
            self.transport.write(one * count if count > 1 else one)

    def count_delivered(self, data: bytes) -> None:
        """Count the relayed messages in a chunk and sample their latency (fast path: C-speed scans)."""
        now = now_ns()
        n = data.count(MARK)
        if self._tail_mark and data[:1] == b"T":  # a marker split across two reads
            n += 1
        self._tail_mark = data[-1:] == b"|"
        room = self.room
        room.received += n
        gen = self.gen
        if gen.measuring and n:
            samples = gen.samples
            if gen.sample_all:
                i = data.find(MARK)
                while i >= 0:
                    stamp = data[i + 2 : i + 2 + _TS_LEN]
                    if len(stamp) == _TS_LEN:
                        samples.append(now - int(stamp))
                    i = data.find(MARK, i + 2 + _TS_LEN)
            else:  # one sample per read, the oldest message in it
                i = data.find(MARK)
                stamp = data[i + 2 : i + 2 + _TS_LEN]
                if i >= 0 and len(stamp) == _TS_LEN:
                    samples.append(now - int(stamp))
        if gen.saturate:
            room.pump()


class NetplayRelayMember(NetplayConn, RelayMember):
    """A netplay relay-room member: parses frames while joining, then only counts."""

    def __init__(self, gen: Generator) -> None:
        super().__init__(gen)
        self.loading = False
        self._tail_mark = False

    def data_received(self, data: bytes) -> None:
        if not self.loading:
            super().data_received(data)
            return
        self.count_delivered(data)
        if b'"error"' in data:
            self.gen.errors += 1
        if b'"ping"' in data:
            self.send({"type": "pong"})


class RawRelayMember(asyncio.Protocol, RelayMember):
    """A raw-relay member: waits for ``OK`` to its JOIN line, then only counts."""

    def __init__(self, gen: Generator) -> None:
        self.gen = gen
        self.transport = None
        self.loading = False
        self._tail_mark = False
        self._control = b""
        self.joined: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def connection_lost(self, exc: Exception | None) -> None:
        self.transport = None
        if not self.joined.done():
            self.joined.set_exception(ConnectionError("connection lost"))

    def data_received(self, data: bytes) -> None:
        if self.joined.done():
            self.count_delivered(data)
            return
        self._control += data
        end = self._control.find(b"\n")
        if end >= 0:
            rest = self._control[end + 1 :]
            self.joined.set_result(None)
            if rest:
                self.count_delivered(rest)

    def abort(self) -> None:
        """Drop the connection."""
        if self.transport is not None:
            self.transport.abort()


class TextRelayMember(asyncio.Protocol, RelayMember):
    """A 15-112 text client (docs/15-112.md): reads its greeting (``newPlayer`` for each member
    already there, then ``myIDis K ``) and the ``newPlayer`` lines of those who join after it, then
    only counts the relayed lines ``relay SENDER payload``."""

    def __init__(self, gen: Generator, others: int) -> None:
        self.gen = gen
        self.transport = None
        self.loading = False
        self._tail_mark = False
        self._control = b""
        self.player_id = b""
        self.expected = others  # the other members of its room, whose newPlayer lines it waits for
        self.others: list[bytes] = []
        loop = asyncio.get_running_loop()
        self.greeted: asyncio.Future[None] = loop.create_future()  # its myIDis line has come
        self.complete: asyncio.Future[None] = loop.create_future()  # ... and every other's newPlayer

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def connection_lost(self, exc: Exception | None) -> None:
        self.transport = None
        for waiter in (self.greeted, self.complete):
            if not waiter.done():
                waiter.set_exception(ConnectionError("text connection lost (refused by the server?)"))

    def data_received(self, data: bytes) -> None:
        if self.loading:
            self.count_delivered(data)
            if b"newPlayer " in data or b"playerLeft " in data:  # nobody joins or leaves under load
                self.gen.errors += 1
            return
        *lines, self._control = (self._control + data).split(b"\n")
        for line in lines:
            instr, _, rest = line.partition(b" ")
            if instr == b"myIDis" and rest.endswith(b" ") and not self.greeted.done():
                self.player_id = rest[:-1]
                self.greeted.set_result(None)
            elif instr == b"newPlayer" and rest:
                self.others.append(rest)
            else:  # the server sends nothing else before any relay
                self.gen.errors += 1
                self.gen.last_error = line.decode(errors="replace")
        if self.greeted.done() and len(self.others) >= self.expected and not self.complete.done():
            self.complete.set_result(None)

    def abort(self) -> None:
        """Drop the connection."""
        if self.transport is not None:
            self.transport.abort()


async def open_text_members(gen: Generator, n_rooms: int, n_members: int) -> list[TextRelayMember]:
    """Connect the text clients one after the other, each once the previous one has its id.

    The server seats text clients in connection order, ``text_room_size`` (``n_members``) to a
    room, so members ``r * n_members`` to ``(r + 1) * n_members - 1`` share room ``r``. Each then
    waits for the ``newPlayer`` lines of all the others, and the rooms are checked against them.
    """
    loop = asyncio.get_running_loop()
    members: list[TextRelayMember] = []
    for _ in range(n_rooms * n_members):
        _, member = await loop.create_connection(
            lambda: TextRelayMember(gen, n_members - 1), gen.host, gen.port
        )
        assert isinstance(member, TextRelayMember)
        async with asyncio.timeout(30):
            await member.greeted
        members.append(member)
    async with asyncio.timeout(30):
        await asyncio.gather(*(m.complete for m in members))
    for r in range(n_rooms):
        group = members[r * n_members : (r + 1) * n_members]
        ids = {m.player_id for m in group}
        for m in group:
            if set(m.others) != ids - {m.player_id}:
                raise RuntimeError(
                    f"text room {r}: {m.player_id!r} sees {sorted(m.others)}, expected {sorted(ids)}"
                )
    return members


# -- tic-tac-toe bots ----------------------------------------------------------------------------
class TicTacToeBot(NetplayConn):
    """Quick-matches, moves at random the moment it is its turn, and asks for a rematch at the end."""

    def __init__(self, gen: Generator, rng: random.Random) -> None:
        super().__init__(gen)
        self.rng = rng
        self.sent_at = 0
        self.sent_version = -1

    def on_message(self, message: dict[str, Any]) -> None:
        if message.get("type") != "state":
            return
        gen = self.gen
        version = message["version"]
        if self.sent_at and version > self.sent_version:
            if gen.measuring:
                gen.moves += 1
                if len(gen.samples) < _MAX_SAMPLES:
                    gen.samples.append(now_ns() - self.sent_at)
            self.sent_at = 0
        if not gen.running:
            return
        seat = next(p["seat"] for p in message["players"] if p and p["id"] == self.player_id)
        if message["outcome"] is not None:
            if seat == 0 and gen.measuring:
                gen.games += 1
            self.send({"type": "rematch", "room": message["room"]})
        elif message["turn"] == seat:
            board = message["state"]["board"]
            move = self.rng.choice([i for i, cell in enumerate(board) if cell is None])
            order = {"type": "move", "room": message["room"], "move": move, "version": version}
            if gen.turns is not None:  # a fixed rate: the pacer sends it when its time comes
                gen.turns.append((self, order))
            else:
                self.play(order)

    def play(self, order: dict[str, Any]) -> None:
        """Send the move now; its round trip runs until the state it makes comes back."""
        self.sent_at = now_ns()
        self.sent_version = order["version"]
        self.send(order)


# -- the generator -------------------------------------------------------------------------------
@dataclass
class Generator:
    """Shared counters and the scenario's settings."""

    cfg: dict[str, Any]
    meter: Meter
    running: bool = False
    measuring: bool = False
    saturate: bool = False
    sample_all: bool = True
    errors: int = 0
    last_error: Any = None
    games: int = 0
    moves: int = 0
    samples: list[int] = field(default_factory=list)
    rooms: list[RelayRoom] = field(default_factory=list)
    #: Tic-tac-toe at a fixed rate: the bots whose turn it is, and their moves, in the order they came.
    turns: collections.deque[tuple[Any, dict[str, Any]]] | None = None
    turns_waiting_max: int = 0
    # The real-time scenario's counters (over the window, but for rt_unanswered and rt_diverged).
    rt_rules: Any = None
    rt_bot: Any = None
    rt_bytes: int = 0
    rt_patch_bytes: int = 0
    rt_keyframe_bytes: int = 0
    rt_full_bytes: int = 0
    rt_patches: int = 0
    rt_keyframes: int = 0
    rt_inputs: int = 0
    rt_unanswered: int = 0
    rt_diverged: int = 0
    rt_refused: dict[str, int] = field(default_factory=dict)
    rt_lag: list[int] = field(default_factory=list)

    @property
    def host(self) -> str:
        return str(self.cfg["host"])

    @property
    def port(self) -> int:
        return int(self.cfg["port"])

    def port_for(self, group: int, k: int) -> int:
        """The port of member ``k`` of room (or match) ``group``: the server's, or with several
        nodes (``ports``) the next node's for each next member, starting one node further on for
        each next room, so that every room spans the nodes and their first members (who make
        the rooms, which then live on their nodes) take turns too."""
        ports = self.cfg.get("ports") or [self.port]
        return int(ports[(group + k) % len(ports)])

    async def connect_many(self, count: int, make: Callable[[int], Awaitable[Any]]) -> list[Any]:
        """Run ``make(i)`` for ``count`` connections, a bounded number at a time."""
        gate = asyncio.Semaphore(_CONNECT_CONCURRENCY)

        async def one(i: int) -> Any:
            async with gate:
                return await make(i)

        return list(await asyncio.gather(*(one(i) for i in range(count))))

    async def measure(self, warmup: float, duration: float) -> tuple[Snapshot, Snapshot, int]:
        """Warm up, then count over a fixed window; return the edge snapshots and deliveries counted."""
        await asyncio.sleep(warmup)
        self.samples.clear()
        start = self.meter.snap()
        self.measuring = True
        delivered0 = self.delivered()
        await asyncio.sleep(duration)
        delivered = self.delivered() - delivered0
        self.measuring = False
        end = self.meter.snap()
        return start, end, delivered

    def delivered(self) -> int:
        """Relay deliveries counted so far, over every room."""
        return sum(room.received for room in self.rooms)


async def relay_scenario(gen: Generator) -> dict[str, Any]:
    """Relay rooms, at a fixed rate per client (``rate``) or saturated with an in-flight ``window``."""
    cfg = gen.cfg
    loop = asyncio.get_running_loop()
    n_rooms, n_members = int(cfg["rooms"]), int(cfg["members"])
    raw = cfg["target"] == "raw"
    text = cfg["target"] == "text"  # netplay's 15-112 text port, its rooms text_room_size = members
    gen.saturate = cfg["mode"] == "saturate"
    gen.sample_all = not gen.saturate

    async def open_member(i: int) -> RelayMember:
        factory = (lambda: RawRelayMember(gen)) if raw else (lambda: NetplayRelayMember(gen))
        port = gen.port_for(i // n_members, i % n_members)
        _, member = await loop.create_connection(factory, gen.host, port)
        assert isinstance(member, RawRelayMember | NetplayRelayMember)
        if isinstance(member, NetplayRelayMember):
            await member.hello(f"m{i}")
        return member

    members: list[RelayMember]
    if text:  # seated by the server as they connect: in rooms already
        members = list(await open_text_members(gen, n_rooms, n_members))
    else:
        members = await gen.connect_many(n_rooms * n_members, open_member)
    for r in range(n_rooms):
        group = members[r * n_members : (r + 1) * n_members]
        gen.rooms.append(RelayRoom(gen, r, group, int(cfg.get("window", 0))))

    async def join(room: RelayRoom) -> None:
        if raw:
            for m in room.members:
                assert isinstance(m, RawRelayMember) and m.transport is not None
                m.transport.write(b"JOIN room%d\n" % room.index)
            await asyncio.gather(*(m.joined for m in room.members))  # type: ignore[attr-defined]
        elif not text:  # (text clients were seated as they connected)
            first = room.members[0]
            assert isinstance(first, NetplayRelayMember)
            reply = await first.request(
                {"type": "create_room", "kind": "relay", "game": "bench", "max_members": n_members}
            )
            room.room_id = reply["room"]["id"].encode()
            for m in room.members[1:]:
                assert isinstance(m, NetplayRelayMember)
                await m.request({"type": "join_room", "room": room.room_id.decode()})
        for m in room.members:
            m.room = room

    await asyncio.gather(*(join(room) for room in gen.rooms))
    # Every message has one length, and the raw line is as long as netplay's delivered frame; the
    # text line as the raw line.
    sent_sizes, delivered_sizes = set(), set()
    for room in gen.rooms:
        for k, m in enumerate(room.members):
            sender = room.index * n_members + k
            if raw:
                m.set_message(sender, b"", _PAD + b"x" * _RAW_EXTRA + b"\n")
                sent_sizes.add(len(m.one_message(0)))
                delivered_sizes.add(len(m.one_message(0)))
            elif text:
                assert isinstance(m, TextRelayMember)
                # "relay PAYLOAD" arrives as "relay SENDER PAYLOAD": padded to the others' size.
                sender_part = len(m.player_id) + len(b" ")
                line = len(b"relay S000000|T") + _TS_LEN + len(b"|") + len(b"\n")
                pad = b"x" * (_DELIVERED_BYTES - line - sender_part)
                m.set_message(sender, b"relay ", pad + b"\n")
                sent_sizes.add(len(m.one_message(0)))
                delivered_sizes.add(len(m.one_message(0)) + sender_part)
            else:
                assert isinstance(m, NetplayRelayMember)
                prefix = b'{"type":"relay","room":"' + room.room_id + b'","data":"'
                suffix = _PAD + b'"}'
                body = len(prefix) + len(b"S000000|T") + _TS_LEN + 1 + len(suffix)
                m.set_message(sender, body.to_bytes(4, "big") + prefix, suffix)
                sent_sizes.add(len(m.one_message(0)))
                delivered_sizes.add(len(m.one_message(0)) + len(b',"from":""') + len(m.player_id))
    if text:
        for m in members:  # every newPlayer line has arrived (open_text_members), nothing else comes
            m.loading = True
    elif not raw:
        # Barrier: a ping answered after every join means every member_joined event has arrived.
        netplay_members = [m for m in members if isinstance(m, NetplayRelayMember)]
        await asyncio.gather(*(m.request({"type": "ping"}) for m in netplay_members))
        for m in netplay_members:
            m.loading = True

    gen.running = True
    ticker: asyncio.Task[None] | None = None
    if gen.saturate:
        for room in gen.rooms:
            room.pump()
    else:
        ticker = asyncio.create_task(_fixed_rate(gen, members, float(cfg["rate"])))
    start, end, delivered = await gen.measure(float(cfg["warmup"]), float(cfg["duration"]))
    gen.running = False
    if ticker is not None:
        ticker.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await ticker
    sent = sum(room.sent for room in gen.rooms)
    result = Meter.window(start, end)
    wall = end.wall - start.wall
    result.update(
        {
            "clients": len(members),
            "sent_total": sent,
            "delivered": delivered,
            "delivered_per_s": round(delivered / wall),
            "server_cpu_us_per_msg": round((end.server_cpu - start.server_cpu) / delivered * 1e6, 3)
            if delivered
            else None,
            # The server's system calls for each 100 deliveries: how many messages a read and a
            # write carry (both servers coalesce; netplay's writes, once per connection per turn).
            "reads_writes_per_100": [
                round(100 * result["server_reads"] / delivered, 2),
                round(100 * result["server_writes"] / delivered, 2),
            ]
            if delivered
            else None,
            "message_bytes": {"sent": sorted(sent_sizes), "delivered": sorted(delivered_sizes)},
            "errors": gen.errors,
        }
    )
    if not raw and not text:
        result.update(cluster_figures(start, end, delivered, "msg", [r.members for r in gen.rooms]))
    if cfg.get("dump_samples"):  # diagnostics: the raw samples, in order of arrival
        _dump(cfg["dump_samples"], gen.samples)
    result.update(latency_summary(gen.samples, "lat"))
    for m in members:
        m.abort()  # type: ignore[attr-defined]
    return result


def cluster_figures(
    start: Snapshot, end: Snapshot, count: int, unit: str, groups: list[list[Any]] | None
) -> dict[str, Any]:
    """What a cluster run adds (nothing for one process alone): Redis's CPU and commands per
    ``unit`` (a delivered message, a move) over the window, and how the rooms (``groups``, each
    room's or match's connections; None: not known, quick-match paired them) lay over the nodes,
    by each welcome's node."""
    out: dict[str, Any] = {}
    if start.redis_cpu is not None and end.redis_cpu is not None:
        redis = end.redis_cpu - start.redis_cpu
        server = end.server_cpu - start.server_cpu
        out[f"redis_cpu_us_per_{unit}"] = round(redis / count * 1e6, 3) if count else None
        out[f"total_cpu_us_per_{unit}"] = round((server + redis) / count * 1e6, 3) if count else None
    if start.redis_commands is not None and end.redis_commands is not None and count:
        calls = sum(v - start.redis_commands.get(k, 0) for k, v in end.redis_commands.items() if k != "info")
        out[f"redis_commands_per_{unit}"] = round(calls / count, 4)
    nodes = [[getattr(c, "node", "") for c in group] for group in groups or []]
    if any(n for group in nodes for n in group):
        by_node: collections.Counter[str] = collections.Counter(n for group in nodes for n in group)
        out["clients_by_node"] = dict(sorted(by_node.items()))
        out["rooms_split"] = sum(1 for group in nodes if len(set(group)) > 1)
        out["rooms_total"] = len(nodes)
    return out


def _dump(path: str, samples: list[int]) -> None:
    """Write latency samples (ns), one a line, for a closer look at a run."""
    Path(path).write_text("\n".join(map(str, samples)))


async def _fixed_rate(gen: Generator, members: list[RelayMember], rate: float) -> None:
    """Send ``rate`` messages/s per client, spread evenly: round-robin across rooms, ticking every ms."""
    order = sorted(range(len(members)), key=lambda i: (i % len(gen.rooms[0].members), i))
    ordered = [members[i] for i in order]
    total_rate = rate * len(members)
    count = len(ordered)
    t0 = time.perf_counter()
    sent = 0
    while gen.running:
        due = int((time.perf_counter() - t0) * total_rate) - sent
        for _ in range(due):
            member = ordered[sent % count]
            member.send_burst(1, now_ns())
            member.room.sent += 1
            sent += 1
        await asyncio.sleep(0.001)


async def _paced_moves(gen: Generator, rate: float) -> None:
    """Tic-tac-toe at ``rate`` moves/s in all: every millisecond, the moves due by now, taken from
    the bots whose turn it is in the order their turns came. Set up before the bots pair off."""
    turns = gen.turns
    assert turns is not None
    t0 = time.perf_counter()
    sent = 0
    while gen.running:
        due = int((time.perf_counter() - t0) * rate) - sent
        gen.turns_waiting_max = max(gen.turns_waiting_max, len(turns))
        while due > 0 and turns:
            bot, order = turns.popleft()
            bot.play(order)
            sent += 1
            due -= 1
        if due > 0:  # no bot waits for its turn: the rate is more than the matches can make
            sent += due
        await asyncio.sleep(0.001)


async def tictactoe_scenario(gen: Generator) -> dict[str, Any]:
    """``matches`` tic-tac-toe matches between client bots that move as soon as it is their turn.

    They pair up by quick-match, or (``pairing: "rooms"``) bot ``2m`` makes a room and bot
    ``2m + 1`` joins it: against two nodes, each match then has one player on each (quick-match
    would pair whoever comes, about half of them on one node), and the rooms alternate nodes.
    """
    cfg = gen.cfg
    loop = asyncio.get_running_loop()
    rng = random.Random(cfg.get("seed", 1))

    async def open_bot(i: int) -> TicTacToeBot:
        _, bot = await loop.create_connection(
            lambda: TicTacToeBot(gen, random.Random(rng.random())), gen.host, gen.port_for(i // 2, i % 2)
        )
        await bot.hello(f"b{i}")
        return bot

    if cfg.get("rate"):
        gen.turns = collections.deque()
    bots: list[TicTacToeBot] = await gen.connect_many(2 * int(cfg["matches"]), open_bot)
    gen.running = True
    pairs = [bots[m : m + 2] for m in range(0, len(bots), 2)]
    if cfg.get("pairing", "quick") == "rooms":

        async def pair(maker: TicTacToeBot, joiner: TicTacToeBot) -> None:
            reply = await maker.request({"type": "create_room", "game": "tictactoe"})
            await joiner.request({"type": "join_room", "room": reply["room"]["id"]})

        await gen.connect_many(len(pairs), lambda m: pair(*pairs[m]))
    else:
        await asyncio.gather(*(bot.request({"type": "quick_match", "game": "tictactoe"}) for bot in bots))
    pacer = None
    if cfg.get("rate"):
        pacer = asyncio.create_task(_paced_moves(gen, float(cfg["rate"])))
    start, end, _ = await gen.measure(float(cfg["warmup"]), float(cfg["duration"]))
    gen.running = False
    if pacer is not None:
        pacer.cancel()
    wall = end.wall - start.wall
    result = Meter.window(start, end)
    result.update(
        {
            "clients": len(bots),
            "matches": int(cfg["matches"]),
            "games": gen.games,
            "games_per_s": round(gen.games / wall, 1),
            "moves": gen.moves,
            "moves_per_s": round(gen.moves / wall),
            "server_cpu_us_per_move": round((end.server_cpu - start.server_cpu) / gen.moves * 1e6, 2)
            if gen.moves
            else None,
            "errors": gen.errors,
            "last_error": gen.last_error,
            "pairing": cfg.get("pairing", "quick"),
            "rate": cfg.get("rate"),
            "moves_waiting_max": gen.turns_waiting_max,
        }
    )
    known = pairs if cfg.get("pairing", "quick") == "rooms" else None
    result.update(cluster_figures(start, end, gen.moves, "move", known))
    result.update(latency_summary(gen.samples, "rtt"))
    for bot in bots:
        bot.abort()
    return result


# -- real-time arena bots --------------------------------------------------------------------------
class ArenaTable:
    """One arena room of the generator: its bots, and the views they decoded, shared.

    Every seat of the arena sees the whole state, so the four members of a room get the same view
    of each tick, in patches with the same ops when made against the same base. The first member to
    take a patch applies it, checks the hash and measures the view's canonical JSON (what the whole
    state would have cost); the others take that result for the same (game, base, tick) and hash.
    A real client does that work itself: sharing it is what lets one core drive hundreds of bots.
    """

    __slots__ = ("bots", "views")

    def __init__(self) -> None:
        self.bots: list[ArenaBot] = []
        self.views: dict[tuple[int, int, int], tuple[Any, int, str]] = {}

    def decoded(self, key: tuple[int, int, int], base: Any, ops: Any) -> tuple[Any, int, str]:
        """The view ``ops`` make of ``base``, its canonical size and hash (computed once per key).

        Raises delta.PatchError for ops that do not apply."""
        found = self.views.get(key)
        if found is None:
            view = delta.apply(base, ops)
            text = delta.canonical(view)  # delta.state_hash's own steps, its text measured too
            found = self._keep(key, (view, len(text), f"{zlib.crc32(text):08x}"))
        return found

    def full_size(self, key: tuple[int, int, int], view: Any) -> int:
        """The canonical size of a keyframe's view (measured once per key; keyframes carry no ops)."""
        found = self.views.get(key)
        if found is None:
            found = self._keep(key, (view, len(delta.canonical(view)), ""))
        return found[1]

    def _keep(self, key: tuple[int, int, int], value: tuple[Any, int, str]) -> tuple[Any, int, str]:
        views = self.views
        views[key] = value
        if len(views) > 32:
            del views[next(iter(views))]
        return value


class ArenaBot(NetplayConn):
    """A player of one arena room over TCP: keeps its view from keyframes and patches (acking each),
    plays Arena's simple bot on it, stamps inputs as RealtimeView does, and times each input until a
    view's ``ack`` covers it. It asks for a rematch whenever a match ends."""

    RATE = Arena.tick_rate

    def __init__(self, gen: Generator, table: ArenaTable, rng: random.Random, margin: int) -> None:
        super().__init__(gen)
        self.table = table
        self.rng = rng
        self.margin = margin
        self.room = ""
        self.seat = -1
        self.game = -1
        self.status = "waiting"
        self.view: Any = None
        self.tick = -1
        self.views: dict[int, Any] = {}  # recent views by tick: a patch names the base it was made against
        self.voted = -1
        self.seq = -1
        self.last_input: Any = None
        self.resyncing = False
        self.pending: deque[tuple[int, int, int]] = deque()  # (seq, tick, sent at ns) not yet acknowledged
        self.rtt = 0.25  # RealtimeView's guess until a ping is timed
        self.ping_at = 0.0
        self.ping_sent = 0.0
        self._reset_clock()

    def _reset_clock(self) -> None:
        self.timeline: float | None = None
        self.timeline_at = 0.0
        self.clock = -1

    # -- frames ------------------------------------------------------------------------------------
    def data_received(self, data: bytes) -> None:
        gen = self.gen
        arrived = now_ns()
        if gen.measuring:
            gen.rt_bytes += len(data)
        buf = self._buf
        buf += data
        pos, end = 0, len(buf)
        while end - pos >= 4:
            stop = pos + 4 + int.from_bytes(buf[pos : pos + 4], "big")
            if stop > end:
                break
            message = orjson.loads(buf[pos + 4 : stop])
            kind = message.get("type")
            if kind == "patch" or kind == "keyframe":
                self._take_view(message, kind, stop - pos, arrived)
            elif kind == "error" and "seq" in message:  # an input refused: its cycle crashed, say
                code = str(message.get("code"))
                gen.rt_refused[code] = gen.rt_refused.get(code, 0) + 1
                seq = message["seq"]
                self.pending = deque(p for p in self.pending if p[0] != seq)
            else:
                self._dispatch(message)
            pos = stop
        del buf[:pos]

    def on_message(self, message: dict[str, Any]) -> None:
        if message.get("type") == "pong" and message.get("re") == "rtt":
            self.rtt = time.monotonic() - self.ping_sent
            self.ping_sent = 0.0

    # -- views -------------------------------------------------------------------------------------
    def _take_view(self, message: dict[str, Any], kind: str, size: int, arrived: int) -> None:
        gen = self.gen
        tick = message["tick"]
        self.room = message["room"]
        if kind == "keyframe":
            game = message["game"]
            if game != self.game:  # a new match: start again, as RealtimeView does
                gen.rt_unanswered += len(self.pending)
                self.pending.clear()
                self.views.clear()
                self._reset_clock()
                self.game, self.last_input, self.tick = game, None, -1
            view = message["state"]
            self.resyncing = False
            full = self.table.full_size((game, -1, tick), view)
            self.status = message["status"]
            if gen.measuring:
                gen.rt_keyframes += 1
                gen.rt_keyframe_bytes += size
        else:
            if tick <= self.tick or self.resyncing:
                return  # older than what it has, or on the way before the keyframe asked for
            base_tick = message["base"]
            base = self.view if base_tick == self.tick else self.views.get(base_tick)
            if base is None:
                self._resync()
                return
            try:
                view, full, digest = self.table.decoded((self.game, base_tick, tick), base, message["ops"])
            except delta.PatchError:
                digest = ""
            if digest != message["hash"]:
                self._resync()
                return
            if gen.measuring:
                gen.rt_patches += 1
                gen.rt_patch_bytes += size
        if gen.measuring:
            gen.rt_full_bytes += full
        self.seat = message.get("seat", self.seat)
        self.view, self.tick = view, tick
        views = self.views
        views[tick] = view
        if len(views) > 16:
            del views[next(iter(views))]
        now = time.monotonic()
        self._observe(tick, now)
        acks = message.get("acks")  # a patch of a shared view: every seat's, the same for all
        ack = acks[self.seat] if acks is not None and self.seat is not None else message.get("ack")
        pending = self.pending
        if ack is not None and pending:
            while pending and pending[0][0] <= ack:
                sent = pending.popleft()[2]
                if gen.measuring:
                    gen.samples.append(arrived - sent)
            last_chance = tick - self.RATE // 2  # never applied now (refused, or the match moved on)
            while pending and pending[0][1] <= last_chance:
                pending.popleft()
                gen.rt_unanswered += 1
        if now - self.ping_at >= 2.0 and not self.ping_sent:  # time the round trip, as Client does
            self.ping_at = self.ping_sent = now
            self.send({"type": "ping", "id": "rtt"})
        if self.status == "finished":
            if self.voted != self.game and gen.running:
                self.voted = self.game
                if self.seat == 0 and gen.measuring:
                    gen.games += 1
                self.send({"type": "rematch", "room": self.room})
            return
        if not gen.running or self.seat < 0 or view["cycles"][self.seat]["out"]:
            return
        data = gen.rt_bot(gen.rt_rules, view, self.seat, self.rng)
        if data is not None and data != self.last_input:
            self.last_input = data
            self._input(data, now)

    def _resync(self) -> None:
        self.gen.rt_diverged += 1
        self.resyncing = True  # the patches until the keyframe are made against the one that failed
        self.send({"type": "resync", "room": self.room})

    # -- RealtimeView's clock (netplay.client.realtime), on the views this bot keeps -----------------
    def _observe(self, tick: int, now: float) -> None:
        offset = tick - now * self.RATE
        line = self.timeline
        if line is not None and offset < line:
            line -= DRIFT * max(now - self.timeline_at, 0.0)
            if offset < line - self.RATE:
                line = offset
        self.timeline = offset if line is None or offset > line else line
        self.timeline_at = now

    def _input(self, data: Any, now: float) -> None:
        arriving = self.tick if self.timeline is None else self.timeline + now * self.RATE
        ahead = math.floor(arriving + self.rtt * self.RATE) + 1 + self.margin
        tick = self.clock = max(self.clock, ahead, self.tick + 1)
        pending = self.pending
        if pending and pending[-1][1] >= tick:
            tick = self.clock = pending[-1][1] + 1  # one input per tick
        self.seq += 1
        pending.append((self.seq, tick, now_ns()))
        self.send({"type": "input", "room": self.room, "seq": self.seq, "tick": tick, "data": data})
        if self.gen.measuring:
            self.gen.rt_inputs += 1


async def _loop_lag(gen: Generator, every: float = 0.005) -> None:
    """Sample how late this process's own event loop runs a 5 ms timer (while measuring): when it
    lags, the generator itself delays views and inputs, and the latencies it reports include that."""
    while gen.running:
        due = time.perf_counter() + every
        await asyncio.sleep(every)
        if gen.measuring:
            gen.rt_lag.append(int(max(time.perf_counter() - due, 0.0) * 1e9))


async def realtime_scenario(gen: Generator) -> dict[str, Any]:
    """``rooms`` private arena rooms of ``players`` bots over TCP: one creates, the others join by code."""
    cfg = gen.cfg
    loop = asyncio.get_running_loop()
    n_rooms, n_players = int(cfg["rooms"]), int(cfg.get("players", 4))
    rng = random.Random(cfg.get("seed", 1))
    margin = int(cfg.get("margin", 1))
    gen.rt_rules = Arena()
    gen.rt_bot = Arena.bots["simple"]
    tables = [ArenaTable() for _ in range(n_rooms)]

    async def open_bot(i: int) -> ArenaBot:
        table = tables[i // n_players]
        _, bot = await loop.create_connection(
            lambda: ArenaBot(gen, table, random.Random(rng.random()), margin), gen.host, gen.port
        )
        assert isinstance(bot, ArenaBot)
        table.bots.append(bot)
        await bot.hello(f"a{i}")
        return bot

    bots: list[ArenaBot] = await gen.connect_many(n_rooms * n_players, open_bot)
    gen.running = True

    async def fill(table: ArenaTable) -> None:
        first, *others = table.bots
        options = {"players": n_players}
        reply = await first.request(
            {"type": "create_room", "kind": "realtime", "game": "arena", "private": True, "options": options}
        )
        for bot in others:  # the match starts as the last one joins
            await bot.request({"type": "join_room", "code": reply["code"]})

    await gen.connect_many(n_rooms, lambda r: fill(tables[r]))
    # The views are acyclic JSON, freed by reference counting; the cycle collector would only walk
    # every bot's views over and over (tens of milliseconds a pass at hundreds of bots) and stall
    # the generator, which is not what is measured.
    gc.disable()
    lagger = asyncio.create_task(_loop_lag(gen))
    await asyncio.sleep(float(cfg["warmup"]))
    gen.samples.clear()
    t0 = time.monotonic()
    start = gen.meter.snap()
    gen.measuring = True
    await asyncio.sleep(float(cfg["duration"]))
    gen.measuring = False
    end = gen.meter.snap()
    t1 = time.monotonic()
    gen.running = False
    await lagger
    wall = end.wall - start.wall
    clients = len(bots)

    def per_client(n: int) -> int:
        return round(n / clients / wall)

    views = gen.rt_patches + gen.rt_keyframes
    view_bytes = gen.rt_patch_bytes + gen.rt_keyframe_bytes
    result = Meter.window(start, end)
    result.update(
        {
            "transport": "tcp",
            "window_mono": [t0, t1],
            "clients": clients,
            "rooms": n_rooms,
            "margin": margin,
            "views": views,
            "views_per_client_s": round(views / clients / wall, 1),
            "patches": gen.rt_patches,
            "keyframes": gen.rt_keyframes,
            "inputs": gen.rt_inputs,
            "inputs_per_client_s": round(gen.rt_inputs / clients / wall, 2),
            "games_finished": gen.games,
            "bytes_per_client_s": per_client(gen.rt_bytes),
            "patch_bytes_per_client_s": per_client(gen.rt_patch_bytes),
            "keyframe_bytes_per_client_s": per_client(gen.rt_keyframe_bytes),
            "other_bytes_per_client_s": per_client(gen.rt_bytes - view_bytes),
            "full_state_bytes_per_client_s": per_client(gen.rt_full_bytes),
            "full_state_bytes_per_view": round(gen.rt_full_bytes / views) if views else None,
            "view_bytes_per_view": round(view_bytes / views) if views else None,
            "delta_ratio": round(gen.rt_full_bytes / view_bytes, 2) if view_bytes else None,
            "inputs_refused": dict(gen.rt_refused),
            "inputs_unanswered": gen.rt_unanswered,
            "diverged": gen.rt_diverged,
            "errors": gen.errors,
            "last_error": gen.last_error,
        }
    )
    result.update(latency_summary(gen.samples, "input"))
    result.update(latency_summary(gen.rt_lag, "gen_loop_lag"))
    for bot in bots:
        bot.abort()
    gc.enable()
    return result


async def _settled_rss(meter: Meter, limit: float = 10.0) -> int:
    """The server's RSS once it stops moving (two readings 0.5 s apart within 0.5 %), or after ``limit`` s."""
    deadline = time.perf_counter() + limit
    previous = meter.rss()
    while time.perf_counter() < deadline:
        await asyncio.sleep(0.5)
        current = meter.rss()
        if abs(current - previous) <= 0.005 * previous:
            return current
        previous = current
    return meter.rss()


async def idle_scenario(gen: Generator) -> dict[str, Any]:
    """Open ``counts`` idle connections step by step (netplay ones greet) and read the server's RSS."""
    cfg = gen.cfg
    loop = asyncio.get_running_loop()
    raw = cfg["target"] == "raw"
    counts = [int(c) for c in cfg["counts"]]
    open_conns: list[asyncio.Transport] = []

    async def open_one(i: int) -> asyncio.Transport:
        if raw:
            transport, _ = await loop.create_connection(asyncio.Protocol, gen.host, gen.port)
        else:
            transport, conn = await loop.create_connection(lambda: NetplayConn(gen), gen.host, gen.port)
            await conn.hello(f"i{i}")
        return transport

    baseline = await _settled_rss(gen.meter)
    steps = []
    for count in counts:
        t0 = time.perf_counter()
        open_conns += await gen.connect_many(count - len(open_conns), open_one)
        took = time.perf_counter() - t0
        rss = await _settled_rss(gen.meter)
        steps.append(
            {
                "connections": count,
                "connect_s": round(took, 2),
                "server_rss_mib": round(rss / 2**20, 1),
                "kib_per_conn": round((rss - baseline) / count / 1024, 2),
            }
        )
    start = gen.meter.snap()
    await asyncio.sleep(float(cfg.get("duration", 2.0)))
    end = gen.meter.snap()
    result = Meter.window(start, end)
    result.update({"baseline_rss_mib": round(baseline / 2**20, 1), "steps": steps, "errors": gen.errors})
    for transport in open_conns:
        transport.abort()
    return result


SCENARIOS: dict[str, Callable[[Generator], Awaitable[dict[str, Any]]]] = {
    "relay": relay_scenario,
    "tictactoe": tictactoe_scenario,
    "idle": idle_scenario,
    "realtime": realtime_scenario,
}


async def run(cfg: dict[str, Any]) -> dict[str, Any]:
    """Run the configured scenario within its time budget."""
    meter = Meter(int(cfg["server_pid"]), cfg.get("server_pids"), cfg.get("redis_pid"), cfg.get("redis_port"))
    gen = Generator(cfg, meter)
    async with asyncio.timeout(float(cfg.get("budget", 300))):
        result = await SCENARIOS[cfg["kind"]](gen)
        await asyncio.sleep(0.05)  # let the aborts reach the loop before it closes
    return result


def main(argv: list[str] | None = None) -> int:
    """``python -m bench.loadgen '<config json>'``: print one JSON line with the results."""
    args = sys.argv[1:] if argv is None else argv
    cfg = json.loads(args[0])
    cfg["nofile"] = raise_nofile_limit()
    import uvloop

    result = uvloop.run(run(cfg))
    print(json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
