"""``--db-sync full`` as group commit (store/group_commit.py): commits are fsync-ed in batches in a
thread, and what the server says after a commit waits until that commit is on the disk.

The fsync is the real ``os.fsync`` on a real SQLite file; where a test must see messages wait, it
holds the fsync thread at a gate (a ``threading.Event``) before the real call, and waits on events,
never on time.
"""

from __future__ import annotations

import asyncio
import logging
import os
import threading
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest

from netplay.client import Client
from netplay.server import Server
from netplay.store import SavedMatch, SavedMove, SqliteStore
from netplay.store.group_commit import CHECKPOINT_BYTES

MakeServer = Callable[..., Awaitable[Server]]


class Gate:
    """An fsync that waits at a gate (closed until ``open``) and counts the calls that reached it."""

    def __init__(self) -> None:
        self.reached = threading.Event()
        self.gate = threading.Event()
        self.calls = 0

    def __call__(self, fd: int) -> None:
        self.calls += 1
        self.reached.set()
        if not self.gate.wait(10):
            raise AssertionError("the gate was never opened")
        os.fsync(fd)

    async def wait_reached(self) -> None:
        assert await asyncio.to_thread(self.reached.wait, 10), "no fsync reached the gate"


def wal_size(path: Path) -> int:
    """The size of the database's WAL file now."""
    return os.path.getsize(str(path) + "-wal")


def saved_match(match_id: str = "m1") -> SavedMatch:
    return SavedMatch(
        id=match_id,
        room_id="r1",
        room_code=None,
        game="tictactoe",
        number=1,
        options={},
        start_version=0,
        players=[],
        started_at=0.0,
        seed=1,
    )


def move(n: int) -> SavedMove:
    return SavedMove(n % 2, n, n + 1, float(n), "move")


async def durable_store(path: Path) -> SqliteStore:
    """A ``--db-sync full`` store opened on the loop, once its schema is on the disk."""
    store = SqliteStore(path, durable=True)
    waiting = store.pending()
    if waiting is not None:
        await asyncio.wait_for(waiting, 10)
    return store


def test_without_an_event_loop_each_commit_is_on_the_disk_before_the_call_returns(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "netplay.db", durable=True)
    assert store.sync is not None and store.holds_messages
    store.match_started(saved_match())
    for n in range(3):
        store.move_applied("m1", n, move(n))
        assert store.sync.durable == store.sync.writes  # fsync-ed already
        assert store.pending() is None
    syncs = store.sync.syncs
    store.close()
    assert syncs == store.sync.writes == 5  # the schema, the match and three moves
    again = SqliteStore(tmp_path / "netplay.db")
    found = again.get("m1")
    assert found is not None and [m.move for m in found.moves] == [0, 1, 2]
    again.close()


def test_the_default_mode_holds_nothing(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "netplay.db")
    assert store.sync is None and not store.holds_messages and store.pending() is None
    store.close()


async def test_commits_made_while_an_fsync_runs_wait_for_the_next_one(tmp_path: Path) -> None:
    store = await durable_store(tmp_path / "netplay.db")
    assert store.sync is not None
    gate = Gate()
    store.sync._fsync = gate
    store.match_started(saved_match())
    first = store.pending()
    assert first is not None and not first.done()
    await gate.wait_reached()  # the fsync of the first commit is under way (held at the gate)
    for n in range(3):  # three moves meanwhile: all wait for one more fsync, the same one
        store.move_applied("m1", n, move(n))
    second = store.pending()
    assert second is not None and second is not first and not second.done()
    assert store.sync.durable < store.sync.writes
    gate.gate.set()
    await asyncio.wait_for(first, 10)
    await asyncio.wait_for(second, 10)
    assert store.pending() is None
    assert store.sync.durable == store.sync.writes
    # The schema's fsync, then two for four commits: the three moves were one batch.
    assert gate.calls == 2 and store.sync.syncs == 3, (gate.calls, store.sync.syncs)
    store.close()


async def test_a_failed_fsync_is_counted_and_said_and_what_waited_goes_on(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    store = await durable_store(tmp_path / "netplay.db")
    assert store.sync is not None

    def broken(fd: int) -> None:
        raise OSError(5, "Input/output error")

    store.sync._fsync = broken
    with caplog.at_level(logging.ERROR, logger="netplay.store"):
        store.match_started(saved_match())
        waiting = store.pending()
        assert waiting is not None
        await asyncio.wait_for(waiting, 10)
    assert store.sync.failures == 1 and store.sync.durable < store.sync.writes
    assert "could not fsync" in caplog.text and "power cut" in caplog.text
    store.close()


async def test_the_wal_is_checkpointed_by_the_fsync_thread_once_it_is_big(tmp_path: Path) -> None:
    path = tmp_path / "netplay.db"
    store = await durable_store(path)
    store.match_started(saved_match())
    big = "x" * 4000  # about a page a move
    n = 0
    while wal_size(path) < CHECKPOINT_BYTES:
        store.move_applied("m1", n, SavedMove(0, big, n, 0.0, "move"))
        n += 1
    waiting = store.pending()
    assert waiting is not None
    await asyncio.wait_for(waiting, 10)
    store.move_applied("m1", n, move(n))  # the next fsync sees the big WAL and checkpoints it
    waiting = store.pending()
    assert waiting is not None
    await asyncio.wait_for(waiting, 10)
    # The moves are in the database file itself now (the writer's own checkpoints are off): a copy
    # of that file alone, without its WAL, holds them.
    copy = tmp_path / "copy.db"
    copy.write_bytes(path.read_bytes())
    store.close()
    alone = SqliteStore(copy)
    found = alone.get("m1")
    assert found is not None and len(found.moves) >= n, (len(found.moves) if found else None, n)
    alone.close()


async def test_a_move_is_told_to_nobody_until_its_fsync_is_done(
    make_server: MakeServer, tmp_path: Path
) -> None:
    """The whole path: the mover's ok and both players' new state wait for the fsync of the move."""
    server = await make_server(db=str(tmp_path / "netplay.db"), db_durable=True)
    store = server.store
    assert isinstance(store, SqliteStore) and store.sync is not None
    ann = await Client.connect("127.0.0.1", server.port, name="Ann", reconnect=False)
    bob = await Client.connect("127.0.0.1", server.port, name="Bob", reconnect=False)
    try:
        room = (await ann.create_room("tictactoe"))["room"]["id"]
        await bob.join(room)
        for client in (ann, bob):
            await client.wait_for("state", room=room)
        start = ann.states[room]["version"]
        idle = store.pending()
        if idle is not None:
            await asyncio.wait_for(idle, 10)
        gate = Gate()
        store.sync._fsync = gate
        moving = asyncio.create_task(ann.request({"type": "move", "room": room, "move": 4, "version": start}))
        await gate.wait_reached()  # the move is committed; its fsync is held at the gate
        match_id = store.recent(1)[0].id
        assert store.move_count(match_id) == 1
        assert server.hub is not None and server.hub._held  # the new state and the ok wait
        for client in (ann, bob):
            assert client.states[room]["version"] == start  # nobody has heard of the move
        assert not moving.done()
        gate.gate.set()
        assert (await asyncio.wait_for(moving, 10))["type"] == "ok"
        for client in (ann, bob):
            state = await client.wait_for("state", room=room, version=start + 1)
            assert state["state"]["board"][4] == "X"
        assert store.sync.durable == store.sync.writes
    finally:
        for client in (ann, bob):
            await client.close()
