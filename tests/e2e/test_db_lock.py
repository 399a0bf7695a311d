"""One server per database: a second `netplay serve` on the same file refuses, naming the process
that holds it, while the first keeps serving; after `kill -9` of the first, a new one starts at once
on the same file and resumes its match."""

from __future__ import annotations

import asyncio
import signal
import socket
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from ..conftest import RawPeer
from .test_cli import Proc
from .test_db_errors import assert_refused, refused
from .test_proofs import free_port

Serve = Callable[[int, Path], Awaitable[Proc]]


@pytest.fixture
async def serve() -> AsyncIterator[Serve]:
    """Start ``netplay serve --db`` on a port; whatever is still running at the end is killed."""
    procs: list[Proc] = []

    async def start(port: int, db: Path) -> Proc:
        args = ["serve", "--port", str(port), "--db", str(db), "--bot-delay", "0", "--no-web"]
        proc = await Proc.start(*args)
        procs.append(proc)
        await proc.expect("Stop with Ctrl-C")
        return proc

    yield start
    for proc in procs:
        proc.kill()
        await proc.process.wait()


async def greet(port: int, name: str, token: str | None = None) -> tuple[RawPeer, dict[str, Any]]:
    peer = await RawPeer.open(port)
    hello: dict[str, Any] = {"type": "hello", "protocol": 1, "name": name, "id": 0}
    if token is not None:
        hello["token"] = token
    peer.send(hello)
    return peer, await peer.recv_type("welcome")


async def start_game(port: int) -> tuple[list[RawPeer], list[str], str]:
    """Ann and Bob in a private tic-tac-toe room, the game on: their peers, tokens and room id."""
    (ann, wa), (bob, wb) = await greet(port, "Ann"), await greet(port, "Bob")
    ann.send({"type": "create_room", "game": "tictactoe", "private": True, "id": 1})
    joined = await ann.recv_type("joined")
    bob.send({"type": "join_room", "code": joined["code"], "id": 1})
    await bob.recv_type("joined")
    await ann.recv_type("state")
    await bob.recv_type("state")
    return [ann, bob], [wa["token"], wb["token"]], joined["room"]["id"]


async def move(peers: list[RawPeer], room: str, seat: int, cell: int) -> dict[str, Any]:
    """Seat ``seat`` plays ``cell``; both players see the new state. Returns it."""
    peers[seat].send({"type": "move", "room": room, "move": cell})
    states = [await peer.recv_type("state") for peer in peers]
    assert states[0] == states[1] and states[0]["last"] == {"seat": seat, "move": cell}, states
    return states[0]


async def netplay(*args: str) -> tuple[int, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "netplay", *args,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip
    out, _ = await process.communicate()
    return await process.wait(), out.decode()


async def test_a_second_server_on_the_same_database_refuses_and_names_the_first(
    tmp_path: Path, serve: Serve
) -> None:
    db = tmp_path / "netplay.db"
    port = free_port()
    first = await serve(port, db)
    peers, _, room = await start_game(port)
    await move(peers, room, 0, 4)

    second = await refused(db)
    line = assert_refused(second, db, "in use")
    assert f"pid {first.process.pid}" in line and socket.gethostname() in line, line
    assert first.process.returncode is None
    # The first server did not notice: the game goes on to its end, nobody was marked away.
    for seat, cell in [(1, 0), (0, 3), (1, 1), (0, 5)]:
        state = await move(peers, room, seat, cell)
    assert state["outcome"]["winner"] == 0
    for peer in peers:
        seen = await peer.sync()
        assert not [m for m in seen if m["type"] in ("member_disconnected", "error")], seen
    # Looking at the database while a server holds it is still allowed: it only reads.
    status, listing = await netplay("matches", "--db", str(db))
    assert status == 0 and "Ann vs Bob" in listing, listing

    for peer in peers:
        await peer.close()
    first.process.send_signal(signal.SIGTERM)
    status, output = await first.finish()
    assert status == 0, output


async def test_after_kill_9_a_new_server_starts_at_once_and_resumes(tmp_path: Path, serve: Serve) -> None:
    db = tmp_path / "netplay.db"
    port = free_port()
    first = await serve(port, db)
    peers, tokens, room = await start_game(port)
    await move(peers, room, 0, 4)
    await move(peers, room, 1, 0)
    first.process.send_signal(signal.SIGKILL)
    await first.process.wait()
    for peer in peers:
        await peer.close()

    again = await serve(port, db)  # no wait for a stale lock: the kernel let go of it with the process
    assert any("Resumed 1 match" in line for line in again.lines), again.lines
    greeted = [await greet(port, name, token) for name, token in zip(["Ann", "Bob"], tokens, strict=True)]
    peers = [peer for peer, _ in greeted]
    assert all(welcome["resumed"] is True for _, welcome in greeted)
    for peer in peers:
        await peer.recv_type("state")
    board = (await move(peers, room, 0, 8))["state"]["board"]
    assert (board[4], board[0], board[8]) == ("X", "O", "X")  # the moves from before the kill are there
    # And the new server holds the database in its turn.
    line = assert_refused(await refused(db), db, "in use")
    assert f"pid {again.process.pid}" in line
    for peer in peers:
        await peer.close()
    again.process.send_signal(signal.SIGTERM)
    status, output = await again.finish()
    assert status == 0, output
