"""Room records (schema 3): every field round trips, a rewrite replaces, closing deletes; a schema-2
database (netplay before room records) is read as it is and migrated in place, its matches kept."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from netplay.store import NullStore, SavedMatch, SavedPlayer, SavedRoom, SqliteStore, StoreError
from netplay.store.sqlite import SCHEMA_VERSION

from .test_sqlite import make_v1

# The schema netplay 0.2 wrote before room records (user_version 2), as it was.
SCHEMA_2 = """
CREATE TABLE matches (id TEXT PRIMARY KEY, room_id TEXT NOT NULL, room_code TEXT, game TEXT NOT NULL,
    number INTEGER NOT NULL, options TEXT NOT NULL, start_version INTEGER NOT NULL, players TEXT NOT NULL,
    started_at REAL NOT NULL, outcome TEXT, finished_at REAL, seed INTEGER NOT NULL DEFAULT 0, rng TEXT,
    clock TEXT, move_limit REAL);
CREATE INDEX matches_unfinished ON matches (finished_at) WHERE finished_at IS NULL;
CREATE INDEX matches_started ON matches (started_at);
CREATE TABLE moves (match_id TEXT NOT NULL REFERENCES matches (id), idx INTEGER NOT NULL,
    seat INTEGER NOT NULL, move TEXT NOT NULL, version INTEGER NOT NULL, at REAL NOT NULL,
    kind TEXT NOT NULL DEFAULT 'move', PRIMARY KEY (match_id, idx)) WITHOUT ROWID;
PRAGMA user_version = 2;
"""
PLAYERS = '[{"seat": 0, "id": "p-a", "name": "Ann", "bot": null, "token_hash": "h"}]'


def make_v2(path: Path) -> None:
    with sqlite3.connect(path) as db:
        db.executescript(SCHEMA_2)
        db.execute(
            "INSERT INTO matches VALUES ('m-1', 'r-1', NULL, 'tictactoe', 1, '{\"seed\": 7}', 1, ?, 100.0,"
            " NULL, NULL, 42, 'blake2b-splitmix64/1', NULL, 300.0)",
            (PLAYERS,),
        )
        db.execute("INSERT INTO moves VALUES ('m-1', 0, 0, '4', 2, 101.0, 'move')")
    db.close()


def a_room(**changes: object) -> SavedRoom:
    room = SavedRoom(
        id="r-x", code="K7QP2MXA", game="pig", options={"players": 3, "target": 50}, clock="300+5",
        move_limit=300.0, seats=3,
        players=[SavedPlayer(0, "p-a", "Ann", None, "hash-a"),
                 SavedPlayer(2, "bot-1", "random bot", "random")],
        games_played=2, match_id="m-2", rematch=[2, 0], created_at=10.5, updated_at=20.25,
    )  # fmt: skip
    for name, value in changes.items():
        setattr(room, name, value)
    return room


def test_every_field_of_a_room_record_round_trips(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "rooms.db")
    store.room_saved(a_room())
    store.room_saved(a_room(id="r-y", code=None, clock=None, move_limit=None, players=[], match_id=None,
                            games_played=0, rematch=[], created_at=11.0))  # fmt: skip
    first, second = store.rooms()  # oldest first
    store.close()
    assert first == a_room(rematch=[0, 2])  # votes are kept sorted
    assert (second.id, second.code, second.clock, second.match_id) == ("r-y", None, None, None)
    assert second.players == [] and second.games_played == 0
    # Only hashes of tokens are kept, never a token: the column holds what it was given.
    assert first.players[0].token_hash == "hash-a" and first.players[1].bot == "random"


def test_a_rewrite_replaces_the_record_and_closing_deletes_it(tmp_path: Path) -> None:
    path = tmp_path / "rooms.db"
    store = SqliteStore(path)
    store.room_saved(a_room())
    store.room_saved(a_room(games_played=3, match_id="m-3", rematch=[], updated_at=30.0))
    (room,) = store.rooms()
    assert (room.games_played, room.match_id, room.rematch, room.created_at) == (3, "m-3", [], 10.5)
    store.room_closed("r-x")
    store.room_closed("r-nothere")  # an unknown id: nothing to do, no error
    assert store.rooms() == []
    store.close()
    again = SqliteStore(path)  # the deletion was committed
    assert again.rooms() == []
    again.close()


def test_a_schema_2_database_is_read_as_it_is_and_migrated_in_place(tmp_path: Path) -> None:
    path = tmp_path / "v2.db"
    make_v2(path)
    before = path.read_bytes()
    looking = SqliteStore(path, readonly=True)  # `netplay matches` on an older server's file
    assert looking.rooms() == [] and [m.id for m in looking.unfinished()] == ["m-1"]
    looking.close()
    assert path.read_bytes() == before  # looking never writes

    store = SqliteStore(path)  # a server on the old file migrates it, keeping its matches
    (match,) = store.unfinished()
    assert (match.seed, match.move_limit, [m.move for m in match.moves]) == (42, 300.0, [4])
    assert store.rooms() == []
    store.room_saved(a_room(id="r-1", match_id="m-1"))
    store.close()
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA user_version").fetchone() == (SCHEMA_VERSION,) == (3,)
    db.close()
    again = SqliteStore(path)  # and opens it again as it is
    assert [r.id for r in again.rooms()] == ["r-1"] and [m.id for m in again.unfinished()] == ["m-1"]
    again.close()


def test_the_steps_from_schema_1_are_one_transaction(tmp_path: Path) -> None:
    """Schema 1 goes to 3 through 2 in one transaction: a step that fails half-way (here the last
    statement of 1 to 2, a column that is already there) leaves the file at schema 1, as it was."""
    path = tmp_path / "v1.db"
    make_v1(path)
    with sqlite3.connect(path) as db:
        db.execute("ALTER TABLE moves ADD COLUMN kind TEXT")
    db.close()
    with pytest.raises(StoreError, match="duplicate column"):
        SqliteStore(path)
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA user_version").fetchone() == (1,)
        columns = {row[1] for row in db.execute("PRAGMA table_info(matches)")}
        assert "seed" not in columns  # the step's first statements were undone too
        assert db.execute("SELECT name FROM sqlite_master WHERE name = 'rooms'").fetchone() is None
    db.close()
    make_v1(tmp_path / "plain.db")  # without the obstacle, schema 1 goes all the way
    store = SqliteStore(tmp_path / "plain.db")
    assert store.rooms() == [] and [m.id for m in store.unfinished()] == ["m-1"]
    store.close()


def test_a_database_from_a_newer_netplay_is_still_refused(tmp_path: Path) -> None:
    path = tmp_path / "future.db"
    SqliteStore(path).close()
    with sqlite3.connect(path) as db:
        db.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    db.close()
    newer = f"newer netplay \\(schema {SCHEMA_VERSION + 1}; this one knows 3\\)"
    with pytest.raises(StoreError, match=newer):
        SqliteStore(path)


def test_a_room_record_and_the_matches_of_its_room_are_separate_rows(tmp_path: Path) -> None:
    """Closing a room deletes its record only: its matches stay, for `netplay matches` and replays."""
    store = SqliteStore(tmp_path / "rooms.db")
    store.match_started(
        SavedMatch("m-2", "r-x", "K7QP2MXA", "pig", 2, {"players": 3, "seed": 1}, 9,
                   [SavedPlayer(0, "p-a", "Ann", None, "hash-a")], 12.0)
    )  # fmt: skip
    store.room_saved(a_room())
    store.room_closed("r-x")
    assert store.rooms() == [] and store.get("m-2") is not None
    store.close()


def test_the_null_store_keeps_no_rooms() -> None:
    store = NullStore()
    assert store.keeps is False
    store.room_saved(a_room())
    store.room_closed("r-x")
    assert store.rooms() == []
