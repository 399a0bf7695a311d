"""Redis killed in the middle of games and started again: games wait, then go on; no move is lost."""

from __future__ import annotations

import asyncio
import contextlib
import signal
from pathlib import Path
from typing import Any

import orjson
import pytest
import redis.asyncio as aioredis

from netplay.client import Client, NetplayError
from netplay.games import builtin_games
from netplay.games import engine as eng
from netplay.server import Server, ServerConfig

from .conftest import start_redis

OUTAGE = 3.0  # seconds Redis stays down (the fault, not a wait for anything)


async def autoplay(client: Client, room: str, seat: int) -> dict[str, Any]:
    """Play ``seat`` of a tic-tac-toe game to its end (the first free cell), return the last state."""
    while True:
        state = await client.wait_for("state", room=room, timeout=30)
        if state["outcome"] is not None:
            return state
        if state["turn"] == seat:
            await client.move(state["state"]["board"].index(None), room=room, version=state["version"])


async def test_games_wait_through_a_redis_outage_and_finish_with_every_move_kept(tmp_path: Path) -> None:
    redis = start_redis(tmp_path / "redis", aof=True)
    nodes: list[Server] = []
    clients: list[Client] = []
    try:
        for n in (1, 2):
            node = Server(ServerConfig(port=0, bot_delay=0.0, redis=redis.url, node_name=f"node{n}"))
            await node.start()
            nodes.append(node)
        games = []
        for g in range(6):
            x = await Client.connect("127.0.0.1", nodes[g % 2].port, name=f"x{g}")
            o = await Client.connect("127.0.0.1", nodes[(g + 1) % 2].port, name=f"o{g}")
            clients += [x, o]
            room = (await x.create_room("tictactoe"))["room"]["id"]
            await o.join(room)
            games.append((x, o, room))
        for x, _, room in games:  # two moves each before the fault
            state = await x.wait_for("state", room=room)
            await x.move(4, room=room, version=state["version"])
        for _, o, room in games:
            state = await o.wait_for("state", room=room, version=2)
            await o.move(0, room=room, version=state["version"])
        for x, _, room in games:
            await x.wait_for("state", room=room, version=3)

        redis.kill()
        x0, o0, room0 = games[0]  # a move now is taken, and waits with its game: nobody sees it yet
        await x0.move(8, room=room0, version=3)
        told = await clients[0].wait_for("notice", timeout=10)
        assert "lost its database" in told["text"]
        with pytest.raises(NetplayError) as refused:
            await clients[1].quick_match("tictactoe")
        assert refused.value.code == "unavailable"
        await asyncio.sleep(OUTAGE)
        early = [e for e in o0.poll() if e["type"] == "state" and e["room"] == room0 and e["version"] > 3]
        assert early == []  # nobody saw the move Redis could not take yet
        redis = start_redis(tmp_path / "redis", port=redis.port, aof=True)
        back = await clients[0].wait_for("notice", timeout=15)
        assert "database back" in back["text"]

        finals = await asyncio.gather(
            *(autoplay(c, room, seat) for x, o, room in games for c, seat in ((x, 0), (o, 1)))
        )
        seen = {f["room"]: f for f in finals}
        assert all(f["outcome"] is not None for f in finals) and len(seen) == len(games)
        assert seen[room0]["state"]["board"][8] == "X"  # the move made in the outage counted
        # Every move is in Redis once, in order, and replays to the end both players saw.
        game = builtin_games()["tictactoe"]
        r = aioredis.from_url(redis.url)
        replayed = 0
        async for raw in r.scan_iter("netplay:moves:*"):
            key = raw.decode()
            meta = orjson.loads(await r.hget(key.replace(":moves:", ":match:"), "meta"))
            entries = await r.xrange(key)
            assert [i.decode() for i, _ in entries] == [f"0-{n}" for n in range(1, len(entries) + 1)]
            match = eng.start(
                game, id="replay", number=1, seats=2, seed=meta["seed"], options={}, at=0.0
            ).match
            for n, (_, data) in enumerate(entries):
                match = eng.step(
                    game, match, eng.Move(n % 2, orjson.loads(data[b"m"])["move"], 1.0, None)
                ).match
            final = seen[meta["room_id"]]
            assert match.state == final["state"] and match.outcome is not None
            assert match.outcome.to_json() == final["outcome"]
            replayed += 1
        assert replayed == len(games)
        await r.aclose()
    finally:
        for c in clients:
            with contextlib.suppress(Exception):
                await c.close()
        for node in nodes:
            await node.stop(grace=1.0)
        redis.process.send_signal(signal.SIGKILL)
