"""``netplay matches --redis`` and ``netplay replay --redis``: a cluster's matches, read from its
Redis by the real commands, whichever node played them."""

from __future__ import annotations

import re

from netplay.client import Client

from ..e2e.test_cli import Proc
from .conftest import MakeNode, RedisProcess, free_port
from .test_any_node import play_tictactoe


async def test_the_cluster_s_matches_are_listed_and_replayed_from_redis(
    make_node: MakeNode, redis_server: RedisProcess
) -> None:
    a, b = await make_node(), await make_node()
    for first, second in ((a, b), (b, a)):  # one room on each node, its players on both
        x = await Client.connect("127.0.0.1", first.port, name="Ann", reconnect=False)
        o = await Client.connect("127.0.0.1", second.port, name="Bob", reconnect=False)
        room = (await x.create_room("tictactoe"))["room"]["id"]
        await o.join(room)
        final = await play_tictactoe(x, o, room)
        assert final["outcome"]["winner"] == 0
        await x.close()
        await o.close()
    # (A final state is sent once Redis has the match's end: the record is complete by now.)
    proc = await Proc.start("matches", "--redis", redis_server.url)
    status, output = await proc.finish()
    assert status == 0, output
    lines = [line for line in output.splitlines() if line.strip()]
    assert len(lines) == 2, output
    assert all(re.search(r"tictactoe\s+Ann vs Bob\s+7 moves", line) for line in lines), output
    played = [line.split()[0] for line in lines]

    proc = await Proc.start("replay", played[0], "--redis", redis_server.url)
    status, output = await proc.finish()
    assert status == 0, output
    assert f"Match {played[0]}: tictactoe" in output and "Players: Ann (X), Bob (O)" in output
    # Every move replayed through the rules (a refused one would say so), to X's diagonal.
    assert "refuse" not in output and " X | O | X\n---+---+---\n O | X | O\n---+---+---\n X | 8 | 9" in output
    assert "Result: Ann won" in output

    proc = await Proc.start("replay", "m-nothing", "--redis", redis_server.url)
    status, output = await proc.finish()
    assert status == 1 and "error: no match 'm-nothing' in the cluster at" in output


async def test_a_cluster_without_matches_and_a_redis_out_of_reach(redis_server: RedisProcess) -> None:
    proc = await Proc.start("matches", "--redis", redis_server.url)
    status, output = await proc.finish()
    assert status == 0 and output.strip() == "No matches yet."
    dead = free_port()
    proc = await Proc.start("matches", "--redis", f"redis://127.0.0.1:{dead}/0")
    status, output = await proc.finish()
    assert status == 1 and output.startswith(f"error: cannot reach Redis at redis://127.0.0.1:{dead}/0: ")
    proc = await Proc.start("matches", "--redis", redis_server.url, "--db", "x.db")
    status, output = await proc.finish()
    assert status == 2 and "not allowed with argument" in output
