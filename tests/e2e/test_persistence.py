"""Matches kept in SQLite: a restarted server resumes games in progress; they can be listed and replayed."""

from __future__ import annotations

import asyncio
import sqlite3
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from netplay.server import Server
from netplay.store import SqliteStore, StoreError

from ..conftest import RawPeer

MakeServer = Callable[..., Awaitable[Server]]


async def hello(port: int, name: str, token: str | None = None) -> tuple[RawPeer, dict[str, Any]]:
    peer = await RawPeer.open(port)
    message: dict[str, Any] = {"type": "hello", "protocol": 1, "name": name, "id": 0}
    if token:
        message["token"] = token
    peer.send(message)
    return peer, await peer.recv()


async def test_a_restarted_server_resumes_a_game_where_it_stood(
    make_server: MakeServer, tmp_path: Path
) -> None:
    db = str(tmp_path / "games.db")
    first = await make_server(db=db)
    a, wa = await hello(first.port, "Ann")
    b, wb = await hello(first.port, "Bob")
    a.send({"type": "create_room", "game": "tictactoe", "private": True, "id": 1})
    joined = await a.recv_type("joined")
    room, code = joined["room"]["id"], joined["code"]
    b.send({"type": "join_room", "code": code, "id": 1})
    await b.recv_type("joined")
    await a.recv_type("state")
    await b.recv_type("state")
    for peer, cell in [(a, 4), (b, 0), (a, 8)]:
        peer.send({"type": "move", "room": room, "move": cell})
        before = await b.recv_type("state")
        assert await a.recv_type("state") == before
    await first.stop()

    second = await make_server(db=db)
    assert second.restored == 1
    a2, resumed_a = await hello(second.port, "Ann", wa["token"])
    assert resumed_a["resumed"] is True and resumed_a["rooms"] == [room]
    state = await a2.recv_type("state")
    assert state["version"] == before["version"] and state["state"] == before["state"]
    assert state["turn"] == 1 and [p["connected"] for p in state["players"]] == [True, False]
    b2, resumed_b = await hello(second.port, "Bob", wb["token"])
    assert resumed_b["resumed"] is True
    await b2.recv_type("state")
    b2.send({"type": "move", "room": room, "move": 2, "version": state["version"]})
    assert (await a2.recv_type("state"))["state"]["board"][2] == "O"
    # The private room kept its code.
    stranger, _ = await hello(second.port, "Eve")
    stranger.send({"type": "join_room", "room": room, "spectate": True, "id": 3})
    assert (await stranger.recv_type("error"))["code"] == "wrong_code"
    for peer in (a, b, a2, b2, stranger):
        await peer.close()


async def test_matches_and_replay_commands(make_server: MakeServer, tmp_path: Path) -> None:
    db = str(tmp_path / "games.db")
    server = await make_server(db=db)
    a, _ = await hello(server.port, "Ann")
    b, _ = await hello(server.port, "Bob")
    a.send({"type": "quick_match", "game": "tictactoe", "id": 1})
    room = (await a.recv_type("joined"))["room"]["id"]
    b.send({"type": "quick_match", "game": "tictactoe", "id": 1})
    await a.recv_type("state")
    for peer, cell in [(a, 0), (b, 3), (a, 1), (b, 4), (a, 2)]:
        peer.send({"type": "move", "room": room, "move": cell})
        final = await peer.recv_type("state")
        while final.get("last", {}) != {"seat": 0 if peer is a else 1, "move": cell}:
            final = await peer.recv_type("state")
    assert final["outcome"]["winner"] == 0
    await server.stop()
    store = SqliteStore(db)
    (match,) = store.recent()
    store.close()

    async def netplay(*args: str) -> tuple[int, str]:
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "netplay", *args,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
        )  # fmt: skip
        out, _ = await process.communicate()
        return await process.wait(), out.decode()

    status, listing = await netplay("matches", "--db", db)
    assert status == 0 and match.id in listing and "Ann vs Bob" in listing and "5 moves" in listing
    assert "Ann won" in listing
    status, replay = await netplay("replay", match.id, "--db", db)
    assert status == 0
    assert "1. Ann (X) plays 1" in replay and "5. Ann (X) plays 3" in replay
    assert " X | X | X" in replay and "Result: Ann won" in replay
    status, missing = await netplay("replay", "m-nothere", "--db", db)
    assert status == 1 and "no match 'm-nothere'" in missing
    status, nodb = await netplay("matches", "--db", str(tmp_path / "absent.db"))
    assert status == 1 and "no database at" in nodb


async def test_a_restored_game_against_a_server_bot_can_be_rematched(
    make_server: MakeServer, tmp_path: Path
) -> None:
    db = str(tmp_path / "bot.db")
    first = await make_server(db=db)
    a, wa = await hello(first.port, "Ann")
    a.send({"type": "create_room", "game": "tictactoe", "id": 1})
    room = (await a.recv_type("joined"))["room"]["id"]
    a.send({"type": "add_bot", "room": room, "bot": "minimax"})
    state = await a.recv_type("state")
    await first.stop()
    second = await make_server(db=db)
    a2, _ = await hello(second.port, "Ann", wa["token"])
    state = await a2.recv_type("state")
    while state["outcome"] is None:  # play it out against the restored bot
        if state["turn"] == 0:
            cell = state["state"]["board"].index(None)
            a2.send({"type": "move", "room": room, "move": cell, "version": state["version"]})
        state = await a2.recv_type("state")
    a2.send({"type": "rematch", "room": room})
    fresh = await a2.recv_type("state")
    while fresh["game"] != 2:
        fresh = await a2.recv_type("state")
    assert fresh["outcome"] is None  # the restored bot voted for the rematch, as bots do


def test_a_database_from_a_newer_netplay_is_refused_not_relabelled(tmp_path: Path) -> None:
    path = tmp_path / "future.db"
    SqliteStore(path).close()
    with sqlite3.connect(path) as db:
        db.execute("PRAGMA user_version = 99")
    with pytest.raises(StoreError, match="newer netplay"):
        SqliteStore(path)
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA user_version").fetchone() == (99,)  # left as it was


def test_looking_at_a_database_never_writes_to_it(tmp_path: Path) -> None:
    path = tmp_path / "kept.db"
    SqliteStore(path).close()
    before = path.read_bytes()
    store = SqliteStore(path, readonly=True)
    assert store.recent() == []
    store.close()
    assert path.read_bytes() == before
