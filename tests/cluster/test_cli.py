"""``netplay serve --redis`` and ``--workers``: the real commands, a real redis-server."""

from __future__ import annotations

import re
import signal

from netplay.client import Client

from ..e2e.test_cli import Proc
from ..e2e.test_text_protocol import TextClient
from .conftest import RedisProcess, free_port
from .test_any_node import play_tictactoe


async def test_a_node_that_cannot_reach_redis_says_so_in_one_line_and_exits() -> None:
    dead = free_port()  # nothing listens there
    proc = await Proc.start("serve", "--port", "0", "--redis", f"redis://127.0.0.1:{dead}/0")
    status, output = await proc.finish()
    assert status == 1
    errors = [line for line in output.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, output
    assert errors[0].startswith(f"error: --redis: cannot reach Redis at redis://127.0.0.1:{dead}/0: ")
    assert "Traceback" not in output and "serving" not in output


async def test_workers_need_redis_and_a_port() -> None:
    proc = await Proc.start("serve", "--workers", "2")
    status, output = await proc.finish()
    assert status == 2 and "--workers needs --redis" in output
    proc = await Proc.start("serve", "--workers", "2", "--redis", "redis://127.0.0.1:1/0", "--port", "0")
    status, output = await proc.finish()
    assert status == 2 and "--workers needs a port" in output


async def test_a_batch_delay_out_of_range_is_refused() -> None:
    proc = await Proc.start("serve", "--port", "0", "--redis", "redis://127.0.0.1:1/0", "--batch-delay", "5")
    status, output = await proc.finish()
    assert status == 2 and "--batch-delay must be between 0 and 1 second" in output


async def test_two_workers_share_one_port_and_their_players_meet(redis_server: RedisProcess) -> None:
    port = free_port()
    proc = await Proc.start(
        "serve", "--workers", "2", "--redis", redis_server.url, "--port", str(port), "--db", ":memory:",
        "--no-web",
    )  # fmt: skip
    try:
        # The workers start side by side: each says so, in whichever order they are ready.
        await proc.expect(r"Node \S+-w1 of the cluster")
        await proc.expect(r"Matches are kept in the cluster's Redis \(see: netplay matches --redis redis://")
        second = rf"netplay worker 2 \(node \S+-w2\) serving on 127\.0\.0\.1:{port}"
        if not any(re.search(second, line) for line in proc.lines):
            await proc.expect(second)
        assert any(re.search(rf"serving .* on 127\.0\.0\.1:{port}", line) for line in proc.lines)
        # The kernel spreads connections over the workers: open some until both have answered.
        clients: dict[str, Client] = {}
        for n in range(60):
            c = await Client.connect("127.0.0.1", port, name=f"p{n}", reconnect=False)
            node = c.welcome["node"]
            if node in clients:
                await c.close()
            else:
                clients[node] = c
            if len(clients) == 2:
                break
        assert len(clients) == 2, "60 connections all landed on one worker"
        x, o = clients.values()
        room = (await x.create_room("tictactoe"))["room"]["id"]
        await o.join(room)
        final = await play_tictactoe(x, o, room)
        assert final["outcome"]["winner"] == 0
        for c in (x, o):
            await c.close()
    finally:
        proc.process.send_signal(signal.SIGTERM)
        status, output = await proc.finish()
    assert status == 0 and "2 workers stopped" in output


async def test_text_clients_of_a_class_meet_whichever_worker_each_lands_on(
    redis_server: RedisProcess,
) -> None:
    """`netplay serve --workers 2 --text-port P`: 15-112 clients spread over the workers by the
    kernel all join one room. Each worker reserves its own block of ids (Player1.., Player257..),
    so the ids show which worker took a client."""
    port, text_port = free_port(), free_port()
    proc = await Proc.start(
        "serve", "--workers", "2", "--redis", redis_server.url, "--port", str(port), "--db", ":memory:",
        "--no-web", "--text-port", str(text_port),
    )  # fmt: skip
    clients: list[TextClient] = []
    try:
        await proc.expect(r"Node \S+-w1 of the cluster")
        second = rf"netplay worker 2 \(node \S+-w2\) serving on 127\.0\.0\.1:{port}"
        if not any(re.search(second, line) for line in proc.lines):
            await proc.expect(second)
        ids: list[str] = []
        for _ in range(40):  # until both workers have taken some (or the room is nearly full)
            client = await TextClient.open(text_port)
            clients.append(client)
            mine = await client.greet(*ids)  # every earlier client of the class, in join order
            for earlier in clients[:-1]:
                await earlier.expect(f"newPlayer {mine}\n".encode())
            ids.append(mine)
            if len({int(i.removeprefix("Player")) > 256 for i in ids}) == 2 and len(ids) >= 4:
                break
        assert len({int(i.removeprefix("Player")) > 256 for i in ids}) == 2, f"all on one worker: {ids}"
        await clients[0].send(b"playerMoved 5 0\n")
        for other in clients[1:]:
            await other.expect(f"playerMoved {ids[0]} 5 0\n".encode())
    finally:
        for client in clients:
            await client.close()
        proc.process.send_signal(signal.SIGTERM)
        status, output = await proc.finish()
    assert status == 0 and "2 workers stopped" in output
