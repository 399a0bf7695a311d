"""The server's per-message path without sockets: frames in, relayed bytes out, timed in-process.

``python -m bench.hotpath`` feeds relay frames straight into ``TcpConnection.data_received`` for a
room of N members whose transports only count bytes, so a change to the hot path can be measured in
seconds and without a load generator. Use ``python -m bench`` for the real, end-to-end figures.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import struct
import time
from typing import Any

from netplay.games import builtin_games
from netplay.server.config import ServerConfig
from netplay.server.hub import Hub
from netplay.transports.coalesce import WriteCoalescer
from netplay.transports.tcp import TcpConnection


class CountingTransport(asyncio.Transport):
    """Accepts writes and counts them; never blocks."""

    def __init__(self) -> None:
        super().__init__()
        self.writes = 0
        self.bytes = 0
        self._closing = False

    def write(self, data: Any) -> None:
        self.writes += 1
        self.bytes += len(data)

    def get_write_buffer_size(self) -> int:
        return 0

    def set_write_buffer_limits(self, high: int | None = None, low: int | None = None) -> None:
        pass

    def pause_reading(self) -> None:
        pass

    def resume_reading(self) -> None:
        pass

    def is_closing(self) -> bool:
        return self._closing

    def close(self) -> None:
        self._closing = True

    def abort(self) -> None:
        self._closing = True

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return ("127.0.0.1", 1) if name == "peername" else default


def frame(message: dict[str, Any]) -> bytes:
    payload = json.dumps(message, separators=(",", ":")).encode()
    return struct.pack(">I", len(payload)) + payload


async def measure(members: int, messages: int, batch: int) -> dict[str, float]:
    loop = asyncio.get_running_loop()
    hub = Hub(ServerConfig(rate_limit=0, byte_rate=0), builtin_games(), loop=loop)
    coalescer = WriteCoalescer(loop)
    conns, transports = [], []
    for i in range(members):
        conn, transport = TcpConnection(hub, coalescer), CountingTransport()
        conn.connection_made(transport)
        conn.data_received(frame({"type": "hello", "protocol": 1, "name": f"m{i}"}))
        conns.append(conn)
        transports.append(transport)
    conns[0].data_received(frame({"type": "create_room", "kind": "relay", "game": "bench", "id": 1}))
    await asyncio.sleep(0)
    room = next(iter(hub.rooms))
    for conn in conns[1:]:
        conn.data_received(frame({"type": "join_room", "room": room, "id": 1}))
    await asyncio.sleep(0)
    chunk = b"".join(
        frame({"type": "relay", "room": room, "data": [i, 1234567, 1732170000.123456]}) for i in range(batch)
    )
    before = [t.bytes for t in transports]
    started = time.perf_counter()
    cpu = time.process_time()
    for n in range(messages // batch):
        conns[n % members].data_received(chunk)
        await asyncio.sleep(0)  # one loop turn: the coalescer flushes
    cpu = time.process_time() - cpu
    wall = time.perf_counter() - started
    delivered = (messages // batch) * batch * (members - 1)
    assert sum(t.bytes for t in transports) > sum(before)
    return {
        "incoming_us": cpu / messages * 1e6,
        "delivered_us": cpu / delivered * 1e6,
        "delivered_per_s": delivered / wall,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=200_000)
    parser.add_argument(
        "--batch", type=int, default=8, help="frames per read, as a busy socket delivers them"
    )
    args = parser.parse_args()
    try:
        import uvloop

        uvloop.install()
    except ImportError:
        pass
    for members in (4, 20):
        result = asyncio.run(measure(members, args.messages, args.batch))
        print(
            f"room of {members:>2}: {result['incoming_us']:.2f} CPU-us per incoming message, "
            f"{result['delivered_us']:.3f} per delivered, {result['delivered_per_s']:,.0f} delivered/s"
        )


if __name__ == "__main__":
    main()
