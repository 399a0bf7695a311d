"""``netplay cluster status``: what an operator sees of a cluster, read from its Redis."""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import sys
from typing import Any

import redis.asyncio as aioredis

from netplay.server import Server
from netplay.server.cluster.status import Raw, format_report, summarize

from ..conftest import until
from ..e2e.test_cli import Proc
from .conftest import MakeNode, RedisProcess, free_port
from .test_sessions import greet

LEASE = 2.0
NOW = 1_700_000_000.0  # 2023-11-14 22:13:20 UTC


async def status(*args: str) -> tuple[int, str, str]:
    """Run the real ``netplay cluster status`` command: its exit status, stdout and stderr."""
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "netplay", "cluster", "status", *args,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    async with asyncio.timeout(30):
        out, err = await process.communicate()
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


def rows(text: str) -> dict[str, dict[str, str]]:
    """The report's node table, by node name: each row's cells under their column names."""
    lines = text.splitlines()
    at = next(i for i, line in enumerate(lines) if line.startswith("NODE "))
    header = re.split(r"\s{2,}", lines[at])
    table = {}
    for line in lines[at + 1 :]:
        if not line.strip():
            break
        cells = re.split(r"\s{2,}", line)
        table[cells[0]] = dict(zip(header, cells, strict=True))
    return table


def players_in(node: Server, room_id: str) -> int:
    """Players (relay: members) in a room as a node's mirror of the directory lists it."""
    info = None if node.cluster is None else node.cluster.directory.get(room_id)
    listing = {} if info is None else info.listing
    return len(listing.get("players", listing.get("members", [])))


def room(room_id: str, owner: str, players: int, kind: str = "match") -> dict[str, Any]:
    """A ``rooms`` hash entry as a node writes it (the fields the report reads, and some more)."""
    field = "members" if kind == "relay" else "players"
    listing = {
        "id": room_id,
        "kind": kind,
        "status": "waiting",
        field: [{"name": f"p{n}"} for n in range(players)],
    }
    return {"id": room_id, "kind": kind, "game": "chat" if kind == "relay" else "tictactoe", "code": None,
            "clock": None, "open": True, "free": 1, "listing": listing, "options": {}, "owner": owner,
            "ordinal": int(NOW * 1000) * 1000}  # fmt: skip


def test_the_report_shows_each_node_the_totals_and_the_rooms_waiting_for_adoption() -> None:
    raw = Raw(
        nodes={
            "node1": {
                "name": "node1",
                "pid": 101,
                "host": "box-a",
                "started": NOW - 3725,
                "seen": NOW - 0.4,
                "connections": 7,
                "away": 1,
            },
            "node2": {"name": "node2", "pid": 202, "host": "box-b", "started": NOW - 60, "seen": NOW - 12.5},
        },
        rooms=[
            room("r-1", "node1", 2),
            room("r-2", "node1", 3, kind="relay"),
            room("r-3", "node2", 1),
            room("r-4", "ghost", 2),  # its node is gone from the node list: nobody will adopt it
        ],
        leases={"node1": 1800, "node2": -2, "ghost": -2},
        token_homes=["node1", "node1", "node1", "node2"],
        at=NOW,
    )
    report = summarize(raw, "redis://10.0.0.10:6379/0")
    assert report["rooms"] == 4 and report["players"] == 8 and report["tokens"] == 4 and report["alive"] == 1
    by_name = {n["name"]: n for n in report["nodes"]}
    assert set(by_name) == {"node1", "node2"}
    assert by_name["node1"] | {"seen_ago": None} == {
        "name": "node1", "host": "box-a", "pid": 101, "started": NOW - 3725, "seen": NOW - 0.4,
        "alive": True, "seen_ago": None, "lease_ms": 1800, "rooms": 2, "players": 5, "tokens": 3,
        "connections": 7, "away": 1,
    }  # fmt: skip
    assert by_name["node2"]["alive"] is False and by_name["node2"]["lease_ms"] is None
    assert by_name["node2"]["seen_ago"] == 12.5 and by_name["node2"]["rooms"] == 1
    assert [(o["id"], o["owner"], o["owner_listed"]) for o in report["orphaned_rooms"]] == [
        ("r-3", "node2", True),
        ("r-4", "ghost", False),
    ]
    json.dumps(report)  # --json prints it as it is

    text = format_report(report)
    assert text.splitlines()[0] == (
        "Cluster at redis://10.0.0.10:6379/0: 2 nodes (1 alive, 1 DEAD), 4 rooms, 8 players seated, "
        "4 tokens known"
    )
    table = rows(text)
    assert table["node1"] == {
        "NODE": "node1", "HOST": "box-a", "PID": "101", "UP SINCE": "2023-11-14 21:11:15 UTC",
        "STATE": "alive", "CONNECTIONS": "7", "ROOMS": "2", "PLAYERS": "5", "TOKENS": "3",
        "LEASE": "1.8 s left",
    }  # fmt: skip
    assert table["node2"]["STATE"] == "DEAD, seen 12 s ago" and table["node2"]["LEASE"] == "-"
    assert (
        "1 room of dead nodes, waiting for a live node to adopt:\n  r-3  tictactoe  owner node2  1 player"
        in text
    )
    assert "1 room of nodes gone from the node list (no node will adopt these" in text
    assert "  r-4  tictactoe  owner ghost  2 players" in text


def test_an_empty_redis_says_no_node_has_joined_and_names_are_shown_harmlessly() -> None:
    report = summarize(Raw({}, [], {}, [], NOW), "redis://127.0.0.1:6379/0")
    assert format_report(report).splitlines() == [
        "Cluster at redis://127.0.0.1:6379/0: 0 nodes (0 alive), 0 rooms, 0 players seated, 0 tokens known",
        "No node has joined this cluster (or this is not its Redis).",
    ]
    evil = Raw(
        {"n\x1b[2J": {"host": "h\nx", "pid": 1, "started": NOW, "seen": NOW}}, [], {"n\x1b[2J": 900}, [], NOW
    )
    text = format_report(summarize(evil, "redis://r"))
    assert "\x1b" not in text and "n\\x1b[2J" in text and "h\\nx" in text


async def test_an_operator_sees_both_nodes_alive_with_their_rooms_and_players(
    make_node: MakeNode, redis_server: RedisProcess
) -> None:
    a, b = await make_node(), await make_node()
    ann, _ = await greet(a.port, "Ann")
    bob, _ = await greet(b.port, "Bob")
    cat, _ = await greet(b.port, "Cat")
    ann.send({"type": "create_room", "game": "tictactoe", "id": 1})
    game = (await ann.recv_type("joined"))["room"]["id"]
    ann.send({"type": "create_room", "kind": "relay", "game": "chat", "id": 2})
    chat = (await ann.recv_type("joined"))["room"]["id"]
    bob.send({"type": "create_room", "game": "connect4", "id": 1})
    bobs = (await bob.recv_type("joined"))["room"]["id"]
    cat.send({"type": "join_room", "room": bobs, "id": 1})
    await cat.recv_type("joined")
    # Redis has everyone's seat once the other node's mirror (fed by Redis) shows it.
    seated = [(b, game, 1), (b, chat, 1), (a, bobs, 2)]
    await until(lambda: all(players_in(n, r) == count for n, r, count in seated), what="every seat in Redis")
    # Connections are in each node's heartbeat (every lease/5): wait for one written since.
    r = aioredis.from_url(redis_server.url)
    counts = {"node1": 1, "node2": 2}

    async def beat() -> bool:
        entries = {k.decode(): json.loads(v) for k, v in (await r.hgetall("netplay:nodes")).items()}
        return all(entries.get(n, {}).get("connections") == c for n, c in counts.items())

    deadline = asyncio.get_running_loop().time() + 10
    while not await beat():
        assert asyncio.get_running_loop().time() < deadline, "no heartbeat with the connections"
        await asyncio.sleep(0.05)
    await r.aclose()

    code, out, err = await status("--redis", redis_server.url)
    assert code == 0 and err == "", err
    assert out.splitlines()[0] == (
        f"Cluster at {redis_server.url}: 2 nodes (2 alive), 3 rooms, 4 players seated, 3 tokens known"
    )
    table = rows(out)
    assert set(table) == {"node1", "node2"}
    for name, rooms, players in (("node1", "2", "2"), ("node2", "1", "2")):
        row = table[name]
        assert row["STATE"] == "alive" and row["ROOMS"] == rooms and row["PLAYERS"] == players, row
        assert row["CONNECTIONS"] == str(counts[name])
        assert row["PID"] == str(os.getpid()) and row["UP SINCE"].endswith(" UTC")
        left = float(row["LEASE"].removesuffix(" s left"))
        assert 0 < left <= 10.0  # the default lease: said again every 2 s
    assert table["node1"]["TOKENS"] == "1" and table["node2"]["TOKENS"] == "2"
    assert "waiting for a live node" not in out

    code, out, err = await status("--redis", redis_server.url, "--json")
    assert code == 0 and err == ""
    report = json.loads(out)
    assert (report["rooms"], report["players"], report["tokens"], report["alive"]) == (3, 4, 3, 2)
    assert {n["name"]: (n["alive"], n["rooms"]) for n in report["nodes"]} == {
        "node1": (True, 2),
        "node2": (True, 1),
    }
    assert report["orphaned_rooms"] == []
    for peer in (ann, bob, cat):
        await peer.close()


async def test_a_killed_node_shows_dead_then_is_gone_once_a_live_node_adopts_its_room(
    make_node: MakeNode, redis_server: RedisProcess
) -> None:
    port = free_port()
    doomed = await Proc.start(
        "serve", "--redis", redis_server.url, "--node-name", "doomed", "--lease", str(LEASE),
        "--port", str(port), "--no-web", "--bot-delay", "0",
    )  # fmt: skip
    try:
        await doomed.expect("Node doomed of the cluster")
        ann, _ = await greet(port, "Ann")
        bob, _ = await greet(port, "Bob")
        ann.send({"type": "create_room", "game": "tictactoe", "id": 1})
        room_id = (await ann.recv_type("joined"))["room"]["id"]
        bob.send({"type": "join_room", "room": room_id, "id": 1})
        await bob.recv_type("joined")
        state = await ann.recv_type("state")
        ann.send({"type": "move", "room": room_id, "move": 4, "version": state["version"], "id": 2})
        await bob.recv_type("state")  # a match in progress, its first move in Redis
        code, out, _ = await status("--redis", redis_server.url)
        assert code == 0 and rows(out)["doomed"]["STATE"] == "alive" and rows(out)["doomed"]["ROOMS"] == "1"

        doomed.process.send_signal(signal.SIGKILL)  # no goodbye: its lease runs out in Redis
        await doomed.finish()
        r = aioredis.from_url(redis_server.url)
        try:
            deadline = asyncio.get_running_loop().time() + 2 * LEASE + 5
            while await r.exists("netplay:alive:doomed"):  # its lease, expiring in Redis
                assert asyncio.get_running_loop().time() < deadline, "the lease never ran out"
                await asyncio.sleep(0.05)
        finally:
            await r.aclose()
        code, out, _ = await status("--redis", redis_server.url)
        assert code == 0
        assert out.splitlines()[0].startswith(
            f"Cluster at {redis_server.url}: 1 node (0 alive, 1 DEAD), 1 room"
        )
        row = rows(out)["doomed"]
        assert re.fullmatch(r"DEAD, seen \d+\.\d s ago", row["STATE"]) and row["LEASE"] == "-", row
        assert row["ROOMS"] == "1" and row["PLAYERS"] == "2"
        assert (
            f"1 room of dead nodes, waiting for a live node to adopt:\n  {room_id}  tictactoe  owner doomed"
            in out
        )

        # A live node joins, finds the dead one and adopts its room: the dead node is gone.
        live: Server = await make_node(cluster_lease=LEASE)
        hub, cluster = live.hub, live.cluster
        assert hub is not None and cluster is not None
        await until(lambda: room_id in hub.rooms, timeout=2 * LEASE + 5, what="the adoption")
        await cluster.outbox.flush()  # the room's new entry, with its new owner, is in Redis
        code, out, _ = await status("--redis", redis_server.url, "--json")
        report = json.loads(out)
        assert code == 0 and [n["name"] for n in report["nodes"]] == ["node1"]
        assert report["nodes"][0]["rooms"] == 1 and report["nodes"][0]["players"] == 2
        assert report["orphaned_rooms"] == [] and report["alive"] == 1
    finally:
        doomed.kill()


async def test_unreachable_redis_is_one_line_on_stderr_and_status_1() -> None:
    url = f"redis://127.0.0.1:{free_port()}/0"  # nothing listens there
    code, out, err = await status("--redis", url)
    assert code == 1 and out == ""
    assert len(err.splitlines()) == 1 and err.startswith(f"error: cannot reach Redis at {url}: "), err
    code, out, err = await status("--redis", f"redis://:secret@127.0.0.1:{free_port()}/0")
    assert code == 1 and "secret" not in err and ":***@" in err
