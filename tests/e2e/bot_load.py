"""Load for tests/e2e/test_bot_load.py: players who keep server bots thinking, in a process of their own.

``python -m tests.e2e.bot_load PORT ROOMS``: ROOMS connections, each in a Connect Four room against
the server's negamax bot, each playing a random legal column the moment it is its turn, game after
game (rematch). It prints ``ready`` once every room's bot has moved, then, for each line read from
stdin, the number of moves the bots have made so far; it exits when stdin closes.
"""

from __future__ import annotations

import asyncio
import random
import sys
from typing import Any

from netplay.client import Client


class Counter:
    bot_moves = 0


async def play(
    port: int, n: int, counter: Counter, started: asyncio.Event, count: list[int], clients: list[Client]
) -> None:
    rng = random.Random(n)
    client = await Client.connect("127.0.0.1", port, name=f"load{n}")
    clients.append(client)
    room = (await client.create_room("connect4"))["room"]["id"]
    await client.add_bot(room=room, bot="negamax")
    moved = False
    async for event in client:
        if event["type"] != "state":
            continue
        me = next(p["seat"] for p in event["players"] if p["id"] == client.id)
        last = event.get("last")
        if last and last.get("seat") != me:
            counter.bot_moves += 1
            if not moved:  # the bot of this room has begun to think
                moved = True
                count[0] += 1
                if count[0] == count[1]:
                    started.set()
        if event["outcome"] is not None:
            client.send_nowait({"type": "rematch", "room": room})
        elif me in event["active"]:
            board: list[list[Any]] = event["state"]["board"]
            free = [c for c in range(len(board[0])) if board[0][c] is None]
            client.send_nowait(
                {"type": "move", "room": room, "move": rng.choice(free), "version": event["version"]}
            )


async def main(port: int, rooms: int) -> None:
    counter = Counter()
    started = asyncio.Event()
    count = [0, rooms]
    clients: list[Client] = []
    players = [asyncio.create_task(play(port, n, counter, started, count, clients)) for n in range(rooms)]
    waiting = asyncio.ensure_future(started.wait())
    await asyncio.wait([waiting, *players], return_when=asyncio.FIRST_COMPLETED)
    for task in players:
        if task.done():
            task.result()  # a player that failed says why
    print("ready", flush=True)
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    while await reader.readline():
        print(counter.bot_moves, flush=True)
    for task in players:
        task.cancel()
    await asyncio.gather(*players, return_exceptions=True)
    for client in clients:
        await client.close()


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]), int(sys.argv[2])))
