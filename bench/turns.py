"""The server's per-move path without sockets: tic-tac-toe matches played in-process, timed.

``python -m bench.turns`` seats 400 client bots in 200 tic-tac-toe matches on a ``Hub`` whose
connections write into memory (``hotpath.CountingTransport``), and plays round after round: every
bot whose turn it is moves (a random free cell), every bot whose game is over asks for a rematch.
Only the server's work is timed (feeding the frames in and one loop turn for the writes); the
bots' own work (decoding what they were sent, choosing a move) is not. So a change to the engine,
the room or the hub can be measured in seconds, without a load generator, and without noise from
the kernel's sockets.

    python -m bench.turns                      # CPU-us per move, best of 3, this tree
    python -m bench.turns --tree /tmp/old      # the same for another checkout (git worktree)
    python -m bench.turns --instructions       # instructions per move, under valgrind: exact,
                                               # whatever else the machine is doing (slow: ~1 min)

Instructions include the bots' decoding (the same work for any tree, apart from message sizes), so
their ratio between two trees understates the server's; CPU time is the server's alone. Use
``python -m bench --only tictactoe`` for the real, end-to-end figures.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import re
import subprocess
import sys
import time
from typing import Any

_ROUNDS = 300


def _play(tree: str | None, rounds: int, matches: int) -> dict[str, float]:
    if tree is not None:  # import that checkout's netplay, not this one's
        sys.path.insert(0, os.path.join(tree, "src"))
    import orjson

    from netplay.games import builtin_games
    from netplay.server.config import ServerConfig
    from netplay.server.hub import Hub
    from netplay.transports.coalesce import WriteCoalescer
    from netplay.transports.tcp import TcpConnection

    from .hotpath import CountingTransport

    class Keeping(CountingTransport):
        """Keeps what was written, for the bot to read outside the timed part."""

        def __init__(self) -> None:
            super().__init__()
            self.kept = bytearray()

        def write(self, data: Any) -> None:
            super().write(data)
            self.kept += data

        def messages(self) -> list[dict[str, Any]]:
            out, buf, at = [], self.kept, 0
            while at + 4 <= len(buf):
                size = int.from_bytes(buf[at : at + 4], "big")
                if at + 4 + size > len(buf):
                    break
                out.append(orjson.loads(bytes(buf[at + 4 : at + 4 + size])))
                at += 4 + size
            del buf[:at]
            return out

    def frame(message: dict[str, Any]) -> bytes:
        payload = orjson.dumps(message)
        return len(payload).to_bytes(4, "big") + payload

    async def run() -> dict[str, float]:
        loop = asyncio.get_running_loop()
        hub = Hub(ServerConfig(rate_limit=0), builtin_games(), loop=loop)
        coalescer = WriteCoalescer(loop)
        bots: list[tuple[TcpConnection, Keeping, list[str]]] = []
        for n in range(2 * matches):
            conn, transport = TcpConnection(hub, coalescer), Keeping()
            conn.connection_made(transport)
            conn.data_received(frame({"type": "hello", "protocol": 1, "name": f"b{n}"}))
            bots.append((conn, transport, [""]))
        await asyncio.sleep(0)
        for conn, transport, me in bots:
            for message in transport.messages():
                if message["type"] == "welcome":
                    me[0] = message.get("player") or message["id"]
            conn.data_received(frame({"type": "quick_match", "game": "tictactoe", "id": 1}))
        await asyncio.sleep(0)
        rng = random.Random(1)
        cpu, moves, written = 0.0, 0, sum(t.bytes for _, t, _ in bots)
        for _ in range(rounds):
            due = []
            for conn, transport, me in bots:
                for message in transport.messages():
                    if message["type"] != "state":
                        continue
                    seat = next(p["seat"] for p in message["players"] if p and p["id"] == me[0])
                    if message["outcome"] is not None:
                        due.append((conn, frame({"type": "rematch", "room": message["room"]})))
                    elif message["turn"] == seat:
                        free = [i for i, cell in enumerate(message["state"]["board"]) if cell is None]
                        move = {"type": "move", "room": message["room"], "move": rng.choice(free)}
                        due.append((conn, frame({**move, "version": message["version"]})))
                        moves += 1
            started = time.process_time()
            for conn, data in due:
                conn.data_received(data)
            await asyncio.sleep(0)  # one loop turn: the coalescer writes
            cpu += time.process_time() - started
        written = sum(t.bytes for _, t, _ in bots) - written
        return {"moves": moves, "cpu_us": cpu / max(moves, 1) * 1e6, "bytes": written / max(moves, 1)}

    try:
        import uvloop

        uvloop.install()
    except ImportError:
        pass
    return asyncio.run(run())


def _instructions(tree: str | None, rounds: int, matches: int) -> tuple[float, int]:
    """Instructions per move under valgrind: a run of ``rounds`` minus a run of none."""
    python = os.path.realpath(sys.executable)  # not a pyenv shim: valgrind must see Python itself
    counts = []
    for n in (0, rounds):
        command = [python, "-m", "bench.turns", "--rounds", str(n), "--matches", str(matches), "--once"]
        if tree is not None:
            command += ["--tree", tree]
        done = subprocess.run(
            ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", *command],
            capture_output=True,
            text=True,
            check=True,
            cwd=os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
        )
        found = re.search(r"Collected : (\d+)", done.stderr)
        moves = re.search(r"(\d+) moves", done.stdout)
        assert found and moves, done.stderr[-500:]
        counts.append((int(found.group(1)), int(moves.group(1))))
    (base, _), (total, moves_played) = counts
    return (total - base) / max(moves_played, 1), moves_played


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tree", help="a checkout of netplay to measure instead of this one")
    parser.add_argument("--rounds", type=int, default=_ROUNDS)
    parser.add_argument("--matches", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=3, help="runs; the best is kept")
    parser.add_argument("--instructions", action="store_true", help="count instructions (valgrind)")
    parser.add_argument("--once", action="store_true", help=argparse.SUPPRESS)  # one run, in this process
    args = parser.parse_args()
    where = args.tree or "this tree"
    if args.instructions:
        per_move, moves = _instructions(args.tree, min(args.rounds, 30), args.matches)
        print(f"{where}: {per_move:,.0f} instructions per move ({moves} moves, bots' decoding included)")
        return
    if args.once:
        result = _play(args.tree, args.rounds, args.matches)
        print(f"{where}: {result['moves']:.0f} moves, {result['cpu_us']:.2f} CPU-us per move")
        return
    best: dict[str, float] | None = None
    for _ in range(args.repeat):  # each in a fresh process: imports and allocator start alike
        command = [sys.executable, "-m", "bench.turns", "--once", "--rounds", str(args.rounds)]
        command += ["--matches", str(args.matches)] + (["--tree", args.tree] if args.tree else [])
        out = subprocess.run(command, capture_output=True, text=True, check=True).stdout
        found = re.search(r"(\d+) moves, ([\d.]+) CPU-us per move", out)
        assert found, out
        result = {"moves": float(found.group(1)), "cpu_us": float(found.group(2))}
        if best is None or result["cpu_us"] < best["cpu_us"]:
            best = result
    assert best is not None
    print(f"{where}: {best['cpu_us']:.2f} CPU-us per move, best of {args.repeat} ({best['moves']:.0f} moves)")


if __name__ == "__main__":
    main()
