"""examples/pong_pygame.py without a display (SDL's dummy drivers), against an in-process server:
its own bot plays the server's bot one game of Pong to the end, and it prints its tally."""

from __future__ import annotations

import json
import sys
from collections.abc import Awaitable, Callable

from netplay.server import Server

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
    assert set(tally) == {"games", "won", "lost", "drawn"} and tally["games"] == 1, output
    assert tally["won"] + tally["lost"] + tally["drawn"] == 1
    # It played: its inputs reached the server, and the match the server ran is over.
    assert server.hub.stats.inputs_accepted > 0 and server.hub.stats.matches_finished == 1
