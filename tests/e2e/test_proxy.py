"""Feel the network (issue 11, item 6): ``netplay proxy`` and ``netplay.testing.lag_proxy`` in front
of a real server, with real clients. Time is measured on the real clock here, and only its lower
bounds are exact: the proxy never delivers early, but a busy machine may deliver late."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

from netplay.client import Client
from netplay.server import Server
from netplay.testing import lag_proxy

from .test_cli import Proc

MakeServer = Callable[..., Awaitable[Server]]


async def round_trip(client: Client) -> float:
    started = time.perf_counter()
    await client.request({"type": "ping"})
    return time.perf_counter() - started


async def test_the_round_trip_grows_by_the_latency_and_a_game_plays_through(make_server: MakeServer) -> None:
    server = await make_server()
    async with lag_proxy(server.port, latency=0.15, jitter=0.03) as proxy:
        far = await Client.connect("127.0.0.1", proxy.port, name="Far")
        near = await Client.connect("127.0.0.1", server.port, name="Near")
        trips = [await round_trip(far) for _ in range(5)]
        assert min(trips) >= 0.15 - 0.03, trips  # give or take the jitter (half of it each way)
        direct = [await round_trip(near) for _ in range(5)]
        assert min(direct) < 0.05, direct  # the direct link is untouched
        room = (await far.create_room("tictactoe"))["room"]["id"]
        await near.join(room)
        for cell, player in [(0, far), (3, near), (1, far), (4, near), (2, far)]:
            await player.request({"type": "move", "room": room, "move": cell})
        final = await near.wait_for("state", timeout=5)
        while final["outcome"] is None:
            final = await near.wait_for("state", timeout=5)
        assert final["outcome"]["winner"] == 0  # Far, through the proxy, won with the top row
        await far.close()
        await near.close()
    assert proxy.connections == 1


async def test_a_stall_holds_the_link_then_delivers_everything_in_order(make_server: MakeServer) -> None:
    server = await make_server()
    async with lag_proxy(server.port, latency=0.0, stall_every=0.4, stall_for=0.3) as proxy:
        client = await Client.connect("127.0.0.1", proxy.port, name="Wifi")
        started = time.perf_counter()
        trips = []
        while time.perf_counter() - started < 1.3:  # three stalls' worth
            trips.append(await round_trip(client))
            await asyncio.sleep(0.02)  # pacing, inside the rate limit (not synchronisation)
        # Most pings went straight through; those caught by a stall waited for its end.
        assert min(trips) < 0.05 and max(trips) >= 0.1, trips
        # Requests sent together, a stall or not, are all answered, in the order they were sent.
        answered: list[int] = []
        requests = [asyncio.ensure_future(client.request({"type": "ping"})) for _ in range(20)]
        for request in requests:
            request.add_done_callback(lambda f: answered.append(f.result()["re"]))
        await asyncio.wait_for(asyncio.gather(*requests), 5)
        assert answered == sorted(answered) and len(answered) == 20
        await client.close()


async def test_netplay_proxy_from_the_command_line(make_server: MakeServer) -> None:
    server = await make_server()
    proxy = await Proc.start("proxy", "--to", f"127.0.0.1:{server.port}", "--port", "0", "--latency", "100ms")
    try:
        port = int(
            (await proxy.expect(r"netplay proxy on 127\.0\.0\.1:(\d+) -> .*\+100 ms round trip")).group(1)
        )
        await proxy.expect(r"netplay play tictactoe --port \d+")
        client = await Client.connect("127.0.0.1", port, name="Lag")
        assert await round_trip(client) >= 0.1
        await client.close()
    finally:
        proxy.kill()
    bad = await Proc.start("proxy", "--to", "nowhere")
    status, output = await bad.finish()
    assert status == 2 and "give HOST:PORT" in output
    bad = await Proc.start("proxy", "--to", "127.0.0.1:1", "--latency", "soon")
    status, output = await bad.finish()
    assert status == 2 and "'soon' is not a duration" in output
