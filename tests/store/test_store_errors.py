"""The store's refusals: one-line StoreErrors that name the file, and the lock that keeps one writer
per database (released on close, shared with nobody, not even a forked child)."""

from __future__ import annotations

import json
import os
import socket
import sqlite3
from pathlib import Path

import pytest

from netplay.store import SavedMatch, SavedPlayer, SqliteStore, StoreError


def refusal(path: Path, **kwargs: bool) -> str:
    with pytest.raises(StoreError) as caught:
        SqliteStore(path, **kwargs)
    message = str(caught.value)
    assert "\n" not in message and str(path) in message, message
    return message


def test_what_is_wrong_is_said_in_one_line_naming_the_file(tmp_path: Path) -> None:
    garbage = tmp_path / "garbage.db"
    garbage.write_bytes(os.urandom(4096))
    assert "is not an SQLite database" in refusal(garbage)
    assert "is not an SQLite database" in refusal(garbage, readonly=True)  # `netplay matches` too
    assert "does not exist" in refusal(tmp_path / "missing" / "x.db")
    (tmp_path / "file").write_text("")
    assert "is a file, not a folder" in refusal(tmp_path / "file" / "x.db")
    assert "is a folder" in refusal(tmp_path)


def test_a_relative_path_is_named_in_full(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    Path("netplay.db").write_bytes(os.urandom(4096))
    with pytest.raises(StoreError, match=f"^{tmp_path / 'netplay.db'} is not"):
        SqliteStore("netplay.db")


def test_reading_a_damaged_database_is_a_store_error(tmp_path: Path) -> None:
    path = tmp_path / "damaged.db"
    store = SqliteStore(path)
    for i in range(50):
        store.match_started(
            SavedMatch(
                f"m-{i}", f"r-{i}", None, "tictactoe", 1, {}, 1, [SavedPlayer(0, "p", "Ann")], float(i)
            )
        )
    store.close()
    data = path.read_bytes()
    page = int.from_bytes(data[16:18], "big")
    path.write_bytes(data[:page] + os.urandom(len(data) - page))
    store = SqliteStore(path)  # the header and the schema are readable: the tables are not
    try:
        with pytest.raises(StoreError, match="is damaged"):
            store.unfinished()
        with pytest.raises(StoreError, match="is damaged"):
            store.recent()
    finally:
        store.close()


def test_one_writer_per_database(tmp_path: Path) -> None:
    path = tmp_path / "netplay.db"
    first = SqliteStore(path)
    lock = tmp_path / "netplay.db.lock"
    assert json.loads(lock.read_text()) == {"pid": os.getpid(), "host": socket.gethostname()}
    message = refusal(path)  # even from the same process: the lock is per open store
    assert f"is in use by another netplay server (pid {os.getpid()} on {socket.gethostname()})" in message
    link = tmp_path / "link.db"
    link.symlink_to(path)
    assert "is in use" in refusal(link)  # another name for the same file
    looking = SqliteStore(path, readonly=True)  # reading takes no lock
    assert looking.recent() == []
    looking.close()
    first.close()
    assert lock.read_text() == ""  # no stale pid left behind
    SqliteStore(path).close()  # free again at once


def test_a_store_that_failed_to_open_leaves_the_lock_free(tmp_path: Path) -> None:
    path = tmp_path / "future.db"
    SqliteStore(path).close()
    with sqlite3.connect(path) as db:
        db.execute("PRAGMA user_version = 99")
    db.close()
    assert "newer netplay" in refusal(path)
    assert "newer netplay" in refusal(path)  # not "in use": the failed attempt let go of the lock


def test_a_forked_child_does_not_keep_the_lock(tmp_path: Path) -> None:
    """A worker process forked by the server (bots, say) must not hold the database once the server
    is gone: the lock dies with the process that took it."""
    path = tmp_path / "netplay.db"
    store = SqliteStore(path)
    reader, writer = os.pipe()
    started, ready = os.pipe()
    child = os.fork()
    if child == 0:  # the child lives on, holding whatever it inherited, until told to go
        os.write(ready, b"x")  # the fork's hooks have run: what it let go of, it has let go of
        os.read(reader, 1)
        os._exit(0)
    try:
        assert os.read(started, 1) == b"x"
        store.close()
        SqliteStore(path).close()  # the child is still alive, and the database is free
    finally:
        os.write(writer, b"x")
        os.waitpid(child, 0)
        for fd in (reader, writer, started, ready):
            os.close(fd)
