"""kill -9 of a node: its rooms are adopted by the live nodes, and their games go on."""

from __future__ import annotations

import os
import signal
import time
from typing import Any

import orjson
import redis.asyncio as aioredis

from netplay.games import builtin_games
from netplay.games import engine as eng

from ..e2e.test_cli import Proc
from .conftest import MakeNode, RedisProcess, free_port, until
from .test_sessions import greet

LEASE = 2.0


async def state_at(peer: Any, version: int) -> dict[str, Any]:
    """The state message of ``version`` (skipping older ones: each resume sends the current one)."""
    while True:
        state = await peer.recv_type("state")
        if state["version"] >= version:
            assert state["version"] == version, state
            return state


async def test_a_killed_nodes_match_is_adopted_and_played_to_its_end(
    make_node: MakeNode, redis_server: RedisProcess
) -> None:
    a, b = await make_node(cluster_lease=LEASE), await make_node(cluster_lease=LEASE)
    port = free_port()
    doomed = await Proc.start(
        "serve", "--redis", redis_server.url, "--node-name", "doomed", "--lease", str(LEASE),
        "--port", str(port), "--no-web", "--bot-delay", "0",
    )  # fmt: skip
    try:
        await doomed.expect("Node doomed of the cluster")
        ann, wa = await greet(port, "Ann")
        bob, _ = await greet(a.port, "Bob")
        ann.send({"type": "create_room", "game": "tictactoe", "id": 1})
        room = (await ann.recv_type("joined"))["room"]["id"]
        bob.send({"type": "join_room", "room": room, "id": 1})
        await bob.recv_type("joined")
        state = await state_at(ann, 1)
        ann.send({"type": "move", "room": room, "move": 4, "version": 1, "id": 2})
        await state_at(bob, 2)
        bob.send({"type": "move", "room": room, "move": 0, "version": 2, "id": 2})
        state = await state_at(ann, 3)
        assert state["state"]["board"][:5] == ["O", None, None, None, "X"]

        doomed.process.send_signal(signal.SIGKILL)
        killed = time.monotonic()
        await doomed.finish()
        adopter = await until(
            lambda: next((n for n in (a, b) if room in n.hub.rooms), None),  # type: ignore[union-attr]
            timeout=4 * LEASE + 5,
            what="a live node to adopt the room",
        )
        adopted_after = time.monotonic() - killed
        assert adopted_after < 2 * LEASE + 2, adopted_after

        # Ann's connection died with its node; her token resumes her seat through the other one.
        ann2, welcome = await greet(b.port, "ignored", token=wa["token"])
        assert welcome["resumed"] is True and welcome["rooms"] == [room]
        assert (await ann2.recv_type("joined"))["seat"] == 0
        current = await ann2.recv_type("state")
        assert current["state"]["board"][:5] == ["O", None, None, None, "X"] and current["turn"] == 0
        # Bob never left: his node sends his requests to the room's new owner.
        seen_by_bob = await bob.recv_type("state")
        assert seen_by_bob["version"] == current["version"]
        moves: list[tuple[Any, int]] = [(ann2, 8), (bob, 1), (ann2, 2), (bob, 3), (ann2, 6)]
        for player, cell in moves:
            version = current["version"]
            player.send({"type": "move", "room": room, "move": cell, "version": version, "id": 3})
            current = await state_at(bob if player is ann2 else ann2, version + 1)
        assert current["outcome"]["winner"] == 0  # X: 4, 8, 2, 6 ... the diagonal 2-4-6
        # Every accepted move is in Redis once, in order, and replays to the stored result.
        r = aioredis.from_url(redis_server.url)
        owner, epoch = await r.hmget(f"netplay:owner:{room}", "owner", "epoch")
        assert owner.decode() == adopter.cluster.name and epoch == b"2"  # type: ignore[union-attr]
        keys = [k.decode() async for k in r.scan_iter("netplay:moves:*")]
        assert len(keys) == 1
        entries = await r.xrange(keys[0])
        cells = [orjson.loads(data[b"m"])["move"] for _, data in entries]
        assert cells == [4, 0, 8, 1, 2, 3, 6]
        game = builtin_games()["tictactoe"]
        meta = orjson.loads(await r.hget(keys[0].replace("moves:", "match:"), "meta"))
        outcome = orjson.loads(await r.hget(keys[0].replace("moves:", "match:"), "outcome"))
        replayed = eng.start(
            game, id="replay", number=1, seats=2, seed=meta["seed"], options={}, at=0.0
        ).match
        for n, cell in enumerate(cells):
            replayed = eng.step(game, replayed, eng.Move(n % 2, cell, 1.0, None)).match
        assert replayed.outcome is not None and replayed.outcome.winner == outcome["winner"] == 0
        await r.aclose()
        print(f"\nadopted {adopted_after:.2f} s after kill -9 (lease {LEASE} s)")
    finally:
        if doomed.process.returncode is None:
            os.kill(doomed.process.pid, signal.SIGKILL)
