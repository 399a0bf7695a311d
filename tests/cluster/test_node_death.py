"""kill -9 of a node: its rooms are adopted by the live nodes, and their games go on."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import time
from pathlib import Path
from typing import Any

import orjson
import redis.asyncio as aioredis

from netplay.client import Client, NetplayError
from netplay.games import builtin_games
from netplay.games import engine as eng

from ..conftest import until
from ..e2e.test_cli import Proc
from .conftest import MakeNode, RedisProcess, free_port, start_redis
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


PROOF_LEASE = 10.0  # the default: the target is the first move again within 12 s of the kill
GAMES = 60


async def test_proof_60_games_on_3_nodes_one_killed_every_game_finishes_and_replays(tmp_path: Path) -> None:
    """The issue's proof: 3 nodes, 60 games of bots, kill -9 of one node in mid-game."""
    redis = start_redis(tmp_path / "redis", aof=True)
    ports = [free_port() for _ in range(3)]
    nodes = []
    for k in range(3):
        flags = ["--node-name", f"n{k}", "--lease", str(PROOF_LEASE), "--port", str(ports[k])]
        flags += ["--no-web", "--bot-delay", "0", "--rate-limit", "0"]
        nodes.append(await Proc.start("serve", "--redis", redis.url, *flags))
    clients: list[Client] = []
    try:
        for k, node in enumerate(nodes):
            await node.expect(f"Node n{k} of the cluster")
        games = []
        for g in range(GAMES):  # X's node makes the room (it owns it), O joins through the next
            here, there = g % 3, (g + 1) % 3
            x = await Client.connect(servers=[f"127.0.0.1:{ports[(here + k) % 3]}" for k in range(3)])
            o = await Client.connect(servers=[f"127.0.0.1:{ports[(there + k) % 3]}" for k in range(3)])
            clients += [x, o]
            room = (await x.create_room("tictactoe"))["room"]["id"]
            await o.join(room)
            games.append((x, o, room, here))
        for x, o, room, _ in games:  # mid-game: two moves each side has seen
            await x.move(4, room=room, version=(await x.wait_for("state", room=room))["version"])
            await o.move(0, room=room, version=(await o.wait_for("state", room=room, version=2))["version"])
        for x, _, room, _ in games:
            await x.wait_for("state", room=room, version=3)

        nodes[2].process.send_signal(signal.SIGKILL)  # n2: the owner of 20 rooms, home of 40 clients
        killed = time.monotonic()
        await nodes[2].finish()
        first_again: list[float] = []

        async def finish(x: Client, o: Client, room: str, owner: int) -> dict[str, Any]:
            """Play the game out. A bot whose move gets no new state in a while sends it again
            (its link may have died under it; a move made already is refused as stale)."""
            players = {0: x, 1: o}
            state = x.states[room]  # the latest X has seen: version 3, X to move
            while state["outcome"] is None:
                version, mover = state["version"], players[state["turn"]]
                for _ in range(int(4 * PROOF_LEASE)):
                    with contextlib.suppress(NetplayError, ConnectionError):
                        await mover.move(state["state"]["board"].index(None), room=room, version=version)
                    with contextlib.suppress(TimeoutError):
                        state = await x.wait_for("state", room=room, version=version + 1, timeout=1.0)
                        break
                else:
                    raise AssertionError(f"room {room} (node n{owner}) is stuck at version {version}")
                if owner == 2 and not first_again:
                    first_again.append(time.monotonic() - killed)  # a move of an adopted room
            await o.wait_for("state", room=room, version=state["version"], timeout=10)
            return state

        finals = await asyncio.gather(*(finish(x, o, room, owner) for x, o, room, owner in games))
        assert all(f["outcome"] is not None for f in finals)
        assert first_again  # how soon is reported, not asserted (target: under 12 s): a timing
        print(f"\nfirst move accepted again in an adopted room {first_again[0]:.2f} s after kill -9 "
              f"(lease {PROOF_LEASE:g} s)")  # fmt: skip

        # Each stored match replays legally to its stored result; no move is lost or doubled.
        seen = {f["room"]: f for f in finals}
        game = builtin_games()["tictactoe"]
        r = aioredis.from_url(redis.url)
        replayed = 0
        async for raw in r.scan_iter("netplay:match:*"):
            key = raw.decode()
            meta = orjson.loads(await r.hget(key, "meta"))
            stored = orjson.loads(await r.hget(key, "outcome"))
            entries = await r.xrange(key.replace(":match:", ":moves:"))
            assert [i.decode() for i, _ in entries] == [f"0-{n}" for n in range(1, len(entries) + 1)]
            match = eng.start(
                game, id="replay", number=1, seats=2, seed=meta["seed"], options={}, at=0.0
            ).match
            for n, (_, data) in enumerate(entries):
                step = eng.step(game, match, eng.Move(n % 2, orjson.loads(data[b"m"])["move"], 1.0, None))
                assert step.refused is None, (key, n)
                match = step.match
            assert match.outcome is not None and match.outcome.to_json() == stored
            assert (
                stored == seen[meta["room_id"]]["outcome"] and match.state == seen[meta["room_id"]]["state"]
            )
            replayed += 1
        assert replayed == GAMES
        await r.aclose()
    finally:
        for c in clients:
            with contextlib.suppress(Exception):
                await c.close()
        for k, node in enumerate(nodes):
            if node.process.returncode is None:
                node.process.send_signal(signal.SIGTERM)
                with contextlib.suppress(Exception):
                    await node.finish(timeout=10)
            print(f"--- node n{k} said:", *node.lines, sep="\n")  # (shown if the test fails)
        redis.kill()
