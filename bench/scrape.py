"""What a Prometheus scrape of ``/metrics`` costs the server, with 1,000 rooms and 2,000 players.

``python -m bench.scrape`` opens 1,000 tic-tac-toe rooms in-process (2,000 connections whose
transports only count bytes, half the rooms playing, half waiting), then times ``render`` of the
server's registry: the route's whole work, the event loop's time a scrape takes. Side by side, in
the same run, the baseline: ``prometheus_client`` rendering a registry of stock ``Gauge`` and
``Counter`` objects with as many samples (what any Python service pays per scrape). The issue's
target (a scrape with 1,000 rooms under 5 ms) is the first figure.

    python -m bench.scrape                 # best of 20 scrapes, each
    python -m bench.scrape --rooms 10000
"""

from __future__ import annotations

import argparse
import asyncio
import json
import struct
import time
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, generate_latest
from prometheus_client.parser import text_string_to_metric_families

from netplay.games import builtin_games
from netplay.server.config import ServerConfig
from netplay.server.hub import Hub
from netplay.server.metrics import metrics_registry, render
from netplay.transports.coalesce import WriteCoalescer
from netplay.transports.tcp import TcpConnection

from .hotpath import CountingTransport


def _frame(message: dict[str, Any]) -> bytes:
    payload = json.dumps(message).encode()
    return struct.pack(">I", len(payload)) + payload


async def _server(rooms: int) -> Hub:
    loop = asyncio.get_running_loop()
    hub = Hub(ServerConfig(rate_limit=0, max_connections=10 * rooms), builtin_games(), loop=loop)
    coalescer = WriteCoalescer(loop)
    for n in range(rooms):
        owner = TcpConnection(hub, coalescer)
        owner.connection_made(CountingTransport())
        owner.data_received(_frame({"type": "hello", "protocol": 1, "name": f"a{n}"}))
        owner.data_received(_frame({"type": "create_room", "game": "tictactoe", "id": 1}))
        if n % 2:  # every other room gets its second player: playing
            room = next(iter(hub.sessions[owner.session.id].rooms)) if owner.session else ""
            guest = TcpConnection(hub, coalescer)
            guest.connection_made(CountingTransport())
            guest.data_received(_frame({"type": "hello", "protocol": 1, "name": f"b{n}"}))
            guest.data_received(_frame({"type": "join_room", "room": room, "id": 1}))
        await asyncio.sleep(0)
    return hub


def _baseline(samples: int) -> CollectorRegistry:
    """A registry of stock metrics with ``samples`` samples in all, as a plain service has."""
    registry = CollectorRegistry()
    gauges = Gauge("bench_gauge", "a gauge", ["a", "b", "c"], registry=registry)
    counters = Counter("bench_counter", "a counter", ["a"], registry=registry)
    for n in range(samples // 2):
        gauges.labels(str(n % 7), str(n % 11), str(n)).set(n)
        counters.labels(str(n)).inc(n)
    return registry


def _best(render_once: Any, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        render_once()
        times.append(time.perf_counter() - started)
    return min(times)


async def _run(rooms: int, repeat: int) -> dict[str, float]:
    hub = await _server(rooms)
    registry = metrics_registry(hub)
    body = render(registry)[0]
    samples = sum(len(f.samples) for f in text_string_to_metric_families(body.decode()))
    baseline = _baseline(samples)
    netplay = _best(lambda: render(registry, "text/plain;version=0.0.4"), repeat)
    stock = _best(lambda: generate_latest(baseline), repeat)
    return {
        "rooms": len(hub.rooms), "samples": samples, "bytes": len(body), "netplay": netplay, "stock": stock,
    }  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rooms", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()
    got = asyncio.run(_run(args.rooms, args.repeat))
    print(
        f"{got['rooms']:.0f} rooms: a scrape ({got['samples']:.0f} samples, {got['bytes'] / 1024:.1f} KiB) "
        f"takes {got['netplay'] * 1000:.2f} ms; stock prometheus_client metrics with as many samples: "
        f"{got['stock'] * 1000:.2f} ms ({got['netplay'] / got['stock']:.2f}x); target: under 5 ms"
    )


if __name__ == "__main__":
    main()
