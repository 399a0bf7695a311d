"""``netplay cluster status``: what a cluster's Redis says of its nodes, rooms and players.

The operator's view, read from Redis alone (no node is asked anything, so a report works while
nodes are dying): ``read`` fetches the raw records in two round trips, ``summarize`` turns them
into the report (plain data: what ``--json`` prints), and ``format_report`` into text. The last
two are pure, so they are tested with hand-made records. Connections per node are not in Redis:
a node's players are counted from the tokens that resume on it (connected or away).
"""

from __future__ import annotations

import time
import urllib.parse
from dataclasses import dataclass, field
from typing import Any

import orjson
from redis.asyncio import Redis

from ...client.safe_text import safe_text
from ...replay import plural

__all__ = ["Raw", "format_report", "read", "redact", "summarize"]

#: Every key of a cluster starts with this (``Cluster``'s default).
PREFIX = "netplay:"


@dataclass
class Raw:
    """A cluster's records as Redis held them, decoded but not interpreted."""

    #: The ``nodes`` hash: node name -> its entry ({"name", "pid", "host", "started", "seen"}).
    nodes: dict[str, dict[str, Any]]
    #: The ``rooms`` hash's entries (each with "owner" and the lobby's "listing").
    rooms: list[dict[str, Any]]
    #: PTTL of each node's ``alive:NODE`` key, in ms, for every node named above or owning a room:
    #: -2 when the key is missing (the node is dead), -1 if it never expires.
    leases: dict[str, int]
    #: The ``tokens`` hash's values: the node each known player's token resumes on.
    token_homes: list[str] = field(default_factory=list)
    #: When they were read (seconds since the epoch): the "now" of the report.
    at: float = 0.0


def redact(url: str) -> str:
    """``url`` with its password, if it has one, as ``***``: reports and errors get pasted."""
    try:
        parts = urllib.parse.urlsplit(url)
        if parts.password is None:
            return url
    except ValueError:
        return url
    host = parts.netloc.rpartition("@")[2]
    return urllib.parse.urlunsplit(parts._replace(netloc=f"{parts.username or ''}:***@{host}"))


def _players(listing: dict[str, Any]) -> int:
    """Seats taken in a match room's listing, members in a relay room's (bots count: they play)."""
    seated = listing.get("players")
    if seated is None:
        seated = listing.get("members")
    return len(seated) if isinstance(seated, list) else 0


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def summarize(raw: Raw, url: str) -> dict[str, Any]:
    """The report as plain data (what ``--json`` prints): each node, the totals, and the rooms
    whose owner is dead, as of ``raw.at``. ``url`` is shown as it is (redact a password first)."""
    now = raw.at
    names = sorted(set(raw.nodes) | {str(r.get("owner")) for r in raw.rooms})
    rooms_of = dict.fromkeys(names, 0)
    players_of = dict.fromkeys(names, 0)
    tokens_of = dict.fromkeys(names, 0)
    for home in raw.token_homes:
        tokens_of[home] = tokens_of.get(home, 0) + 1

    def alive(name: str) -> bool:
        return raw.leases.get(name, -2) != -2

    orphans = []
    for room in sorted(raw.rooms, key=lambda r: (r.get("ordinal") or 0, str(r.get("id")))):
        owner = str(room.get("owner"))
        players = _players(room.get("listing") or {})
        rooms_of[owner] += 1
        players_of[owner] += players
        if not alive(owner):
            orphans.append(
                {
                    "id": room.get("id"),
                    "kind": room.get("kind"),
                    "game": room.get("game"),
                    "owner": owner,
                    # A node gone from the nodes hash is looked for by nobody: its rooms stay.
                    "owner_listed": owner in raw.nodes,
                    "players": players,
                }
            )
    nodes = []
    for name in names:
        entry = raw.nodes.get(name)
        if entry is None and alive(name):
            entry = {}  # alive, its entry not (re)written yet: it says it is alive every lease/5
        if entry is None:
            continue  # a dead owner no longer listed: its rooms are in "orphans"
        seen = _number(entry.get("seen"))
        lease = raw.leases.get(name, -2)
        nodes.append(
            {
                "name": name,
                "host": entry.get("host"),
                "pid": entry.get("pid"),
                "started": _number(entry.get("started")),
                "seen": seen,
                "alive": alive(name),
                "seen_ago": None if seen is None else max(now - seen, 0.0),
                "lease_ms": lease if lease >= 0 else None,
                "rooms": rooms_of.get(name, 0),
                "players": players_of.get(name, 0),
                "tokens": tokens_of.get(name, 0),
                # As of its last heartbeat (every lease/5): its clients' connections, and players away.
                "connections": entry.get("connections"),
                "away": entry.get("away"),
            }
        )
    return {
        "redis": url,
        "at": now,
        "nodes": nodes,
        "alive": sum(1 for n in nodes if n["alive"]),
        "rooms": len(raw.rooms),
        "players": sum(players_of.values()),
        "tokens": len(raw.token_homes),
        "orphaned_rooms": orphans,
    }


def _when(at: float | None) -> str:
    """A moment as every node's operator reads it alike, whatever their time zones: UTC."""
    if at is None:
        return "?"
    return time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(at))


def _ago(seconds: float) -> str:
    """``4.2 s``, ``3 min 20 s``, ``2 h 5 min``, ``3 d 4 h``: a span, to the precision that matters."""
    if seconds < 10:
        return f"{seconds:.1f} s"
    whole = int(seconds)
    for size, unit, smaller, small_unit in (
        (86400, "d", 3600, "h"),
        (3600, "h", 60, "min"),
        (60, "min", 1, "s"),
    ):
        if whole >= size:
            rest = (whole % size) // smaller
            return f"{whole // size} {unit}" + (f" {rest} {small_unit}" if rest else "")
    return f"{whole} s"


def _table(rows: list[list[str]]) -> list[str]:
    rows = [[safe_text(cell) for cell in row] for row in rows]  # names come from nodes' settings
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return [
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip() for row in rows
    ]


def format_report(report: dict[str, Any]) -> str:
    """The report of ``summarize`` as an operator reads it: a line of totals, a line per node, and
    the rooms waiting for a live node to adopt them."""
    nodes = report["nodes"]
    dead = len(nodes) - report["alive"]
    state = f"{report['alive']} alive" + (f", {dead} DEAD" if dead else "")
    lines = [
        f"Cluster at {safe_text(report['redis'])}: {plural(len(nodes), 'node')} ({state}), "
        f"{plural(report['rooms'], 'room')}, {plural(report['players'], 'player')} seated, "
        f"{plural(report['tokens'], 'token')} known"
    ]
    if not nodes:
        lines.append("No node has joined this cluster (or this is not its Redis).")
    else:
        rows = [
            ["NODE", "HOST", "PID", "UP SINCE", "STATE", "CONNECTIONS", "ROOMS", "PLAYERS", "TOKENS", "LEASE"]
        ]
        for node in nodes:
            if node["alive"]:
                status = "alive"
            elif node["seen_ago"] is None:
                status = "DEAD"
            else:
                status = f"DEAD, seen {_ago(node['seen_ago'])} ago"
            lease = "-" if node["lease_ms"] is None else f"{node['lease_ms'] / 1000:.1f} s left"
            rows.append(
                [
                    str(node["name"]),
                    str(node["host"] or "?"),
                    str(node["pid"] or "?"),
                    _when(node["started"]),
                    status,
                    "?" if node["connections"] is None else str(node["connections"]),
                    str(node["rooms"]),
                    str(node["players"]),
                    str(node["tokens"]),
                    lease,
                ]
            )
        lines += ["", *_table(rows)]
    orphans = report["orphaned_rooms"]
    if orphans:
        waiting = [o for o in orphans if o["owner_listed"]]
        stuck = [o for o in orphans if not o["owner_listed"]]
        if waiting:
            lines += ["", f"{plural(len(waiting), 'room')} of dead nodes, waiting for a live node to adopt:"]
            lines += [_orphan(o) for o in waiting]
        if stuck:
            lines += [
                "",
                f"{plural(len(stuck), 'room')} of nodes gone from the node list (no node will adopt "
                "these; their listings are stale):",
            ]
            lines += [_orphan(o) for o in stuck]
    return "\n".join(lines)


def _orphan(room: dict[str, Any]) -> str:
    text = f"  {room['id']}  {room['game']}  owner {room['owner']}  {plural(room['players'], 'player')}"
    return safe_text(text)


def _text(value: bytes | str) -> str:
    return value.decode(errors="replace") if isinstance(value, bytes) else value


def _json_object(raw: bytes | str) -> dict[str, Any]:
    """An entry of a hash, or an empty one if it is not a JSON object (a report must not die of it)."""
    try:
        value = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return {}
    return value if isinstance(value, dict) else {}


def _token_home(raw: bytes | str) -> str:
    """The node a ``tokens`` entry names: a JSON object's "node" (the player as another node would
    take it over), or the whole value (a plain node name, as nodes of earlier versions wrote it)."""
    text = _text(raw)
    if text.startswith("{"):
        node = _json_object(text).get("node")
        if isinstance(node, str):
            return node
    return text


async def read(url: str, prefix: str = PREFIX, timeout: float = 5.0) -> Raw:
    """Read a cluster's records from Redis at ``url`` (raises ``redis.exceptions.RedisError`` or
    ``OSError`` if it cannot be reached, ``ValueError`` for a URL that is not Redis's)."""
    redis: Redis = Redis.from_url(url, socket_connect_timeout=timeout, socket_timeout=timeout)
    try:
        pipe = redis.pipeline(transaction=False)
        pipe.hgetall(f"{prefix}nodes")
        pipe.hgetall(f"{prefix}rooms")
        pipe.hvals(f"{prefix}tokens")
        raw_nodes, raw_rooms, raw_homes = await pipe.execute()
        at = time.time()
        nodes = {_text(k): _json_object(v) for k, v in raw_nodes.items()}
        rooms = [_json_object(v) for v in raw_rooms.values()]
        names = sorted(set(nodes) | {str(r.get("owner")) for r in rooms})
        pipe = redis.pipeline(transaction=False)
        for name in names:
            pipe.pttl(f"{prefix}alive:{name}")
        leases = dict(zip(names, [int(ms) for ms in await pipe.execute()], strict=True))
        return Raw(nodes, rooms, leases, [_token_home(h) for h in raw_homes], at)
    finally:
        await redis.aclose()
