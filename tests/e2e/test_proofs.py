"""The issue's proofs, end to end on loopback: a crash mid-games, a hail of malformed input, a soak."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import json
import os
import random
import signal
import socket
import struct
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import psutil

from netplay.client import Client
from netplay.games import TicTacToe
from netplay.server import Server
from netplay.store import SqliteStore

from .test_cli import Proc

MakeServer = Callable[..., Awaitable[Server]]
RULES = TicTacToe()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def serve(port: int, *args: str) -> Proc:
    proc = await Proc.start("serve", "--port", str(port), "--bot-delay", "0", "--no-web", *args)
    await proc.expect(r"on 127\.0\.0\.1:\d+")
    return proc


class Bot:
    """A tic-tac-toe player that makes random legal moves and remembers every state it saw."""

    def __init__(self, client: Client, rng: random.Random, pause_before_move: int | None = None) -> None:
        self.client = client
        self.rng = rng
        self.pause_before_move = pause_before_move  # wait for `go` before this move (1-based)
        self.moves_made = 0
        self.final: dict[str, Any] | None = None
        self.history: dict[int, dict[str, Any]] = {}  # version -> last move, as observed
        self.resumed: list[bool] = []

    async def play(self, paused: asyncio.Queue[None], go: asyncio.Event) -> None:
        client = self.client
        async for event in client:
            if event["type"] == "reconnected":
                self.resumed.append(event["resumed"])
            if event["type"] != "state":
                continue
            if event["last"] is not None:
                self.history[event["version"]] = event["last"]
            if event["outcome"] is not None:
                self.final = event
                return
            if event["turn"] == client.seat():
                if self.moves_made + 1 == self.pause_before_move:
                    paused.put_nowait(None)
                    await go.wait()
                self.moves_made += 1
                legal = RULES.legal_moves(event["state"], event["turn"])
                await client.move(self.rng.choice(legal), version=event["version"])


def replay_is_consistent(moves: list[tuple[int, Any]], outcome: dict[str, Any]) -> bool:
    """Replaying the moves on the rules is legal all the way and ends in the recorded outcome."""
    state = RULES.setup({})
    turn = 0
    for seat, move in moves:
        if seat != turn or RULES.validate(state, seat, move) is not None:
            return False
        state = RULES.apply(state, seat, move)
        turn = RULES.next_player(state, seat)
    result = RULES.outcome(state)
    return result is not None and result.for_seats(2).to_json() == outcome


async def test_sigkill_in_the_middle_of_50_games_loses_no_move(tmp_path: Path) -> None:
    port, db = free_port(), str(tmp_path / "crash.db")
    server = await serve(port, "--db", db)
    rng = random.Random(2026)
    bots = []
    for i in range(100):
        client = await Client.connect("127.0.0.1", port, name=f"bot{i}")
        await client.quick_match("tictactoe")
        # Seat 0 of every game stops before its second move: all 50 games are half-played.
        bots.append(Bot(client, random.Random(rng.random()), pause_before_move=2))
    paused: asyncio.Queue[None] = asyncio.Queue()
    go = asyncio.Event()
    games = [asyncio.create_task(bot.play(paused, go)) for bot in bots]
    async with asyncio.timeout(30):
        for _ in range(50):
            await paused.get()
    server.process.send_signal(signal.SIGKILL)
    await server.process.wait()
    restarted = await serve(port, "--db", db)
    go.set()  # the paused players move now: over the new connection, or queued until it is up
    async with asyncio.timeout(60):
        await asyncio.gather(*games)
    for bot in bots:
        await bot.client.close()
    restarted.process.send_signal(signal.SIGTERM)
    await restarted.finish()

    assert all(bot.resumed == [True] for bot in bots)  # every client got its session back
    store = SqliteStore(db)
    try:
        by_room = {bot.final["room"]: bot for bot in bots if bot.final is not None}
        assert len(by_room) == 50 and all(bot.final is not None for bot in bots)
        matches = {m.room_id: store.get(m.id) for m in store.recent(100)}
        assert len(matches) == 50
        for room, match in matches.items():
            assert match is not None and match.outcome is not None
            recorded = [(m.seat, m.move) for m in match.moves]
            assert replay_is_consistent(recorded, match.outcome)
            final = by_room[room].final
            assert final is not None and final["outcome"] == match.outcome
            assert final["version"] == match.start_version + len(recorded)
            # Every move any player saw accepted is in the record, in order.
            seen = {
                v: h
                for bot in bots
                if bot.final and bot.final["room"] == room
                for v, h in bot.history.items()
            }
            assert [(h["seat"], h["move"]) for _, h in sorted(seen.items())] == recorded
    finally:
        store.close()


def malformed(rng: random.Random, room: str) -> bytes:
    """One hostile message: broken framing, bad JSON, bad fields, or requests out of place."""
    kind = rng.randrange(10)
    if kind == 0:
        body = bytes(rng.getrandbits(8) for _ in range(rng.randrange(1, 40)))
    elif kind == 1:
        body = b'{"type": "move", "room": '
    elif kind == 2:
        body = json.dumps({"type": rng.choice(["move", "relay", "join_room"]), "room": rng.random()}).encode()
    elif kind == 3:
        body = json.dumps({"type": "move", "room": room, "move": rng.randrange(-5, 15)}).encode()
    elif kind == 4:
        body = json.dumps({"type": "fly", "to": "moon"}).encode()
    elif kind == 5:
        body = json.dumps([1, 2, 3]).encode()
    elif kind == 6:
        body = json.dumps({"type": "join_room", "room": room, "code": "NOPE"}).encode()
    elif kind == 7:
        body = json.dumps({"type": "rematch", "room": room}).encode()
    elif kind == 8:
        return bytes(rng.getrandbits(8) for _ in range(rng.randrange(1, 12)))  # broken framing
    else:
        body = json.dumps({"type": "hello", "protocol": rng.randrange(5)}).encode()
    return struct.pack(">I", len(body)) + body


async def test_10000_malformed_messages_while_20_games_are_played(make_server: MakeServer) -> None:
    server = await make_server()
    rng = random.Random(7)
    bots = []
    for i in range(40):
        client = await Client.connect("127.0.0.1", server.port, name=f"p{i}")
        await client.quick_match("tictactoe")
        bots.append(Bot(client, random.Random(i)))
    rooms = sorted({bot.client.room for bot in bots if bot.client.room})
    paused: asyncio.Queue[None] = asyncio.Queue()
    games = [asyncio.create_task(bot.play(paused, asyncio.Event())) for bot in bots]

    async def attacker(budget: int) -> None:
        sent = 0
        while sent < budget:
            reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
            drain = asyncio.create_task(reader.read(-1))  # read whatever the server answers
            greet = json.dumps({"type": "hello", "protocol": 1}).encode()
            writer.write(struct.pack(">I", len(greet)) + greet)
            try:
                while sent < budget and not drain.done():
                    writer.write(malformed(rng, rng.choice(rooms)))
                    sent += 1
                    if sent % 50 == 0:
                        await writer.drain()  # also yields, so the games' traffic interleaves
            except ConnectionError:
                pass  # cut off by the server, as it should: the next connection goes on
            writer.close()
            await asyncio.wait([drain], timeout=5)
            drain.cancel()
            with contextlib.suppress(asyncio.CancelledError, ConnectionError):
                await drain

    async with asyncio.timeout(120):
        await asyncio.gather(*(attacker(1000) for _ in range(10)))
        await asyncio.gather(*games)
    for bot in bots:
        assert bot.final is not None and bot.final["outcome"]["reason"] == "rules"
        moves = [(h["seat"], h["move"]) for _, h in sorted(bot.history.items())]
        assert replay_is_consistent(moves, bot.final["outcome"])
        await bot.client.close()


async def test_a_soak_of_2000_connections_leaves_no_trace(tmp_path: Path) -> None:
    port = free_port()
    server = await serve(port, "--db", ":memory:")
    process = psutil.Process(server.process.pid)
    # Bots keep playing all along, against server-side bots.
    players = []
    for i in range(10):
        client = await Client.connect("127.0.0.1", port, name=f"player{i}")
        await client.create_room("tictactoe")
        await client.add_bot("random")
        players.append(client)

    async def keep_playing(client: Client) -> int:
        games = 0
        async for event in client:
            if event["type"] == "state" and event["outcome"] is not None:
                games += 1
                if stop.is_set():
                    return games
                await client.rematch()
            elif event["type"] == "state" and event["turn"] == client.seat():
                await client.move(event["state"]["board"].index(None))
        return games

    async def churn(count: int) -> None:
        for _ in range(count):
            client = await Client.connect("127.0.0.1", port, reconnect=False)
            if random.random() < 0.5:
                await client.quick_match("tictactoe")
            await client.close()

    async def settled(expected: int) -> int:
        """The server's open descriptors, once its count of connections is back to ``expected``."""
        for _ in range(400):  # polling another process's counters: there is no event to wait on
            fds = process.num_fds()
            if fds <= expected:
                return fds
            await asyncio.sleep(0.025)
        return process.num_fds()

    stop = asyncio.Event()
    games = [asyncio.create_task(keep_playing(p)) for p in players]
    await asyncio.gather(*(churn(10) for _ in range(20)))  # warm-up: 200 connections
    gc.collect()
    base_fds = await settled(10_000)
    base_rss = process.memory_info().rss
    await asyncio.gather(*(churn(100) for _ in range(20)))  # the soak: 2,000 connections
    fds = await settled(base_fds)
    rss = process.memory_info().rss
    stop.set()
    played = await asyncio.gather(*games)
    for client in players:
        await client.close()
    server.process.send_signal(signal.SIGTERM)
    await server.finish()
    assert all(n >= 1 for n in played)  # the games went on during the soak
    assert fds == base_fds
    assert rss - base_rss < 4 * 1024 * 1024, f"RSS grew by {(rss - base_rss) / 1024:.0f} KiB"


if sys.platform != "linux":  # pragma: no cover - num_fds and the signals are POSIX
    del test_a_soak_of_2000_connections_leaves_no_trace
assert os.name == "posix"
