"""The server's per-message path without sockets: frames in, relayed bytes out, timed in-process.

``python -m bench.hotpath`` feeds relay frames straight into ``TcpConnection.data_received`` for a
room of N members whose transports only count bytes, so a change to the hot path can be measured in
seconds and without a load generator. Use ``python -m bench`` for the real, end-to-end figures.

``python -m bench.hotpath --realtime`` runs arena rooms of four members (the arena-200x4 scenario
of ``python -m bench``) in real time for a few seconds, the members' inputs chosen by the arena's
own bot in this process: server CPU per room-tick without the kernel's share, the bot's own time
taken out, steadier from run to run than the end-to-end figure.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
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


def _member(hub: Hub, coalescer: WriteCoalescer, name: str) -> tuple[TcpConnection, CountingTransport]:
    conn, transport = TcpConnection(hub, coalescer), CountingTransport()
    conn.connection_made(transport)
    conn.data_received(frame({"type": "hello", "protocol": 1, "name": name}))
    return conn, transport


async def measure_realtime(rooms: int, players: int, seconds: float) -> dict[str, float]:
    """``rooms`` arena rooms of ``players`` members run for ``seconds`` after one of warm-up."""
    from netplay.games.arena import simple_bot
    from netplay.server.rooms.realtime import RealtimeRoom

    loop = asyncio.get_running_loop()
    hub = Hub(
        ServerConfig(rate_limit=0, byte_rate=0, max_connections_per_address=0), builtin_games(), loop=loop
    )
    coalescer = WriteCoalescer(loop)
    tables: list[tuple[RealtimeRoom, list[TcpConnection]]] = []
    for r in range(rooms):
        conns = [_member(hub, coalescer, f"r{r}p{i}")[0] for i in range(players)]
        before = set(hub.rooms)
        create = {"type": "create_room", "kind": "realtime", "game": "arena", "private": True}
        conns[0].data_received(frame({**create, "options": {"players": players}, "id": 1}))
        await asyncio.sleep(0)
        (room_id,) = set(hub.rooms) - before
        room = hub.rooms[room_id]
        assert isinstance(room, RealtimeRoom)
        for conn in conns[1:]:
            conn.data_received(frame({"type": "join_room", "code": room.code, "id": 1}))
        tables.append((room, conns))
        await asyncio.sleep(0)
    rng = random.Random(1)
    seqs: dict[tuple[int, int, int], int] = {}
    bot_seconds = 0.0

    def play() -> None:
        """Each member's bot looks at the room's state and sends its input, as the generator's do."""
        nonlocal bot_seconds
        started = time.perf_counter()
        chunks: list[tuple[TcpConnection, bytes]] = []
        for r, (room, conns) in enumerate(tables):
            match = room.match
            if match is None:
                continue
            if match.outcome is not None:
                chunks.extend((c, frame({"type": "rematch", "room": room.id})) for c in conns)
                continue
            for seat, conn in enumerate(conns):
                data = simple_bot(room.rules, room.rules.view(match.state, seat), seat, rng)
                if data is not None:
                    seq = seqs[(r, match.number, seat)] = seqs.get((r, match.number, seat), -1) + 1
                    message = {
                        "type": "input",
                        "room": room.id,
                        "seq": seq,
                        "tick": match.tick + 2,
                        "data": data,
                    }
                    chunks.append((conn, frame(message)))
        bot_seconds += time.perf_counter() - started
        for conn, chunk in chunks:  # the server's part: taken in, decoded, handed to the room
            conn.data_received(chunk)
        loop.call_later(1 / 30, play)

    play()
    await asyncio.sleep(1.0)  # warm-up: every match under way
    ticks, bot_seconds = hub.stats.ticks, 0.0
    cpu = time.process_time()
    await asyncio.sleep(seconds)
    cpu = time.process_time() - cpu - bot_seconds
    ran = hub.stats.ticks - ticks
    return {
        "us_per_room_tick": cpu / ran * 1e6,
        "room_ticks_per_s": ran / seconds,
        "cpu_pct": 100 * cpu / seconds,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=200_000)
    parser.add_argument(
        "--batch", type=int, default=8, help="frames per read, as a busy socket delivers them"
    )
    parser.add_argument("--realtime", action="store_true", help="arena rooms instead of relays")
    parser.add_argument("--rooms", type=int, default=200, help="arena rooms (with --realtime)")
    parser.add_argument("--seconds", type=float, default=8.0, help="measured seconds (with --realtime)")
    args = parser.parse_args()
    try:
        import uvloop

        uvloop.install()
    except ImportError:
        pass
    if args.realtime:
        got = asyncio.run(measure_realtime(args.rooms, 4, args.seconds))
        print(
            f"{args.rooms} arena rooms of 4: {got['us_per_room_tick']:.1f} server CPU-us per room-tick "
            f"(no kernel), {got['room_ticks_per_s']:,.0f} room-ticks/s, {got['cpu_pct']:.0f} % of a core"
        )
        return
    for members in (4, 20):
        result = asyncio.run(measure(members, args.messages, args.batch))
        print(
            f"room of {members:>2}: {result['incoming_us']:.2f} CPU-us per incoming message, "
            f"{result['delivered_us']:.3f} per delivered, {result['delivered_per_s']:,.0f} delivered/s"
        )


if __name__ == "__main__":
    main()
