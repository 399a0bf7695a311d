"""A cluster's lobby at 10,000 rooms: how long a page of ``list_rooms`` and a quick-match claim take.

    python -m bench.lobby                 # 10,000 rooms; needs redis-server for the claims
    python -m bench.lobby --rooms 50000

Each node answers ``list_rooms`` from its mirror of the directory (server/cluster/directory.py): a
page is a slice of an index sorted by the rooms' order, so its cost should not grow with the rooms.
Quick-match claims its seat with a script in Redis that looks at the oldest open rooms of the game
(a sorted set), so it should not either. This times both, for the first page, a page deep in the
list, and a game with few rooms among many (the filter has to skip the others).
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import orjson

ROOT = Path(__file__).resolve().parent.parent


def _timed(call: Any, repeat: int = 200) -> float:
    """Median milliseconds of ``call()``."""
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        call()
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1000


async def _run(rooms: int) -> dict[str, float]:
    sys.path.insert(0, str(ROOT))
    from netplay.server.cluster import Cluster
    from netplay.server.directory import RoomInfo
    from tests.cluster.conftest import start_redis

    folder = Path(tempfile.mkdtemp(prefix="netplay-lobby-"))
    redis = start_redis(folder)
    cluster = Cluster(redis.url, "bench")
    try:
        await cluster.start()
        directory = cluster.directory
        for n in range(rooms):
            game = "chess" if n % 100 == 0 else "tictactoe"  # 1 % of the rooms: a rare game
            listing = {"id": f"r-{n:016x}", "kind": "match", "game": game, "status": "waiting"}
            info = RoomInfo(f"r-{n:016x}", "match", game, None, None, True, listing, {}, 1)
            directory.publish(info)
        await cluster.outbox.flush()
        figures = {
            "first page of 20 (ms)": _timed(lambda: directory.listing(limit=20)),
            "a page of 20 after 9,000 rooms (ms)": _timed(
                lambda: directory.listing(after=directory._order[min(9000, rooms - 1)], limit=20)
            ),
            "20 rooms of a game that has 1 % of them (ms)": _timed(
                lambda: directory.listing("chess", limit=20)
            ),
        }
        loop_times = []
        for _ in range(50):
            started = time.perf_counter()
            await directory.claim("match", "tictactoe", None, {}, [], None, 2)
            loop_times.append(time.perf_counter() - started)
        figures["quick-match claim, a round trip to Redis (ms)"] = statistics.median(loop_times) * 1000
        raw = await cluster.redis.info("memory")
        figures["Redis memory for the lobby (MiB)"] = float(raw["used_memory"]) / 2**20
        return figures
    finally:
        await cluster.stop()
        redis.kill()
        shutil.rmtree(folder, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rooms", type=int, default=10_000)
    args = parser.parse_args()
    figures = asyncio.run(_run(args.rooms))
    print(f"{args.rooms:,} rooms in the cluster's lobby:")
    for name, value in figures.items():
        print(f"  {name:52} {value:8.3f}")
    print(orjson.dumps({"rooms": args.rooms, **figures}).decode())


if __name__ == "__main__":
    main()
