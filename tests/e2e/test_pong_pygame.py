"""examples/pong_pygame.py without a display (SDL's dummy drivers), against an in-process server:
its own bot plays the server's bot one game of Pong to the end, and it prints its tally."""

from __future__ import annotations

import json
import sys
from collections.abc import Awaitable, Callable

from netplay.server import Server

from ..conftest import until
from .test_examples import EXAMPLES, finish, spawn


async def test_the_pygame_pong_client_plays_a_server_bot_to_the_end(
    make_server: Callable[..., Awaitable[Server]],
) -> None:
    server = await make_server()
    command = [sys.executable, str(EXAMPLES / "pong_pygame.py"), "--port", str(server.port)]
    async with spawn(
        *command, "--vs", "--bot", "--games", "1", "--points", "1", "--json", "--seed", "3"
    ) as proc:
        status, output = await finish(proc, timeout=100)  # spawn sets SDL_VIDEODRIVER=dummy
    assert status == 0, output
    printed = output.split("\n--- stderr ---\n")[0].strip().splitlines()
    assert printed[-2].startswith("Game 1: you "), output
    tally = json.loads(printed[-1])
    assert set(tally) == {"games", "won", "lost", "drawn", "inputs"} and tally["games"] == 1, output
    assert tally["won"] + tally["lost"] + tally["drawn"] == 1
    # The match the server ran is over, and every input the client sent reached it and was judged
    # (a game of one point can be won without moving: the server's bot may miss the first ball).
    # Bytes the client wrote before it exited may still be unread: wait until its connection is gone.
    await until(lambda: server.hub.connections == 0, what="the server saw the client go")
    stats = server.hub.stats
    judged = stats.inputs_accepted + sum(stats.inputs_refused.values())
    assert stats.matches_finished == 1 and judged == tally["inputs"], (stats.inputs_refused, output)
