"""A tic-tac-toe bot written with the asyncio client.

It quick-matches a game of tic-tac-toe, plays random legal moves until the game ends, prints one
``result: ...`` line and exits (status 0 after a game, 1 if it could not play one).

    netplay serve --port 7890                              # in one terminal
    python examples/async_bot.py --port 7890               # in another
    netplay play tictactoe --port 7890                     # and play against it yourself
"""

from __future__ import annotations

import argparse
import asyncio
import random

from netplay.client import Client, ConnectionClosed, NetplayError
from netplay.games import TicTacToe


async def play(host: str, port: int, name: str, seed: int | None) -> int:
    rules = TicTacToe()  # the same rules the server runs, used here to list the legal moves
    rng = random.Random(seed)
    try:
        client = await Client.connect(host, port, name=name)
    except (OSError, TimeoutError, NetplayError) as exc:
        print(f"result: cannot connect to {host}:{port} ({exc})")
        return 1
    async with client:
        joined = await client.quick_match("tictactoe")
        print(f"{client.name} joined room {joined['room']['id']} as a {joined['role']}", flush=True)
        played: set[int] = set()  # numbers of the games seen in progress
        async for event in client:  # ends when the connection closes
            if event["type"] == "error":
                print(f"refused: {event['code']}: {event['message']}", flush=True)
            elif event["type"] == "member_joined":
                print(f"{event['member']['name']} joined", flush=True)
            elif event["type"] == "state":
                seat = client.seat()  # read it from each state: seats rotate on a rematch
                if event["outcome"] is None:
                    played.add(event["game"])
                    if event["turn"] == seat:
                        move = rng.choice(rules.legal_moves(event["state"], seat))
                        await client.move(move)  # sent with this state's version
                elif event["game"] in played:  # not the end of a game played before we came
                    print(f"result: {describe(event['outcome'], seat)}", flush=True)
                    return 0
    print(f"result: connection closed ({(client.close_reason or {}).get('message')})")
    return 1


def describe(outcome: dict[str, object], seat: int | None) -> str:
    if outcome["draw"]:
        return f"draw ({outcome['reason']})"
    verdict = "win" if outcome["winner"] == seat else "loss"
    return f"{verdict} ({outcome['reason']})"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=7777)
    parser.add_argument("--name", default="async-bot")
    parser.add_argument("--seed", type=int, help="seed the random moves, for a repeatable game")
    args = parser.parse_args()
    try:
        return asyncio.run(play(args.host, args.port, args.name, args.seed))
    except ConnectionClosed as exc:
        print(f"result: connection closed ({exc.message})")
        return 1
    except NetplayError as exc:  # the server refused a request
        print(f"result: refused ({exc.code}: {exc.message})")
        return 1


if __name__ == "__main__":
    raise SystemExit(main())
