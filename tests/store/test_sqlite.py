"""The SQLite match store: schema 2 round trips; a schema-1 database (netplay 0.1) is read and migrated."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from netplay.games import TicTacToe
from netplay.games import engine as eng
from netplay.store import SavedMatch, SavedMove, SavedPlayer, SqliteStore
from netplay.store.sqlite import SCHEMA_VERSION

# The schema netplay 0.1 wrote (user_version 1), as it was.
SCHEMA_1 = """
CREATE TABLE matches (id TEXT PRIMARY KEY, room_id TEXT NOT NULL, room_code TEXT, game TEXT NOT NULL,
    number INTEGER NOT NULL, options TEXT NOT NULL, start_version INTEGER NOT NULL, players TEXT NOT NULL,
    started_at REAL NOT NULL, outcome TEXT, finished_at REAL);
CREATE TABLE moves (match_id TEXT NOT NULL REFERENCES matches (id), idx INTEGER NOT NULL,
    seat INTEGER NOT NULL, move TEXT NOT NULL, version INTEGER NOT NULL, at REAL NOT NULL,
    PRIMARY KEY (match_id, idx)) WITHOUT ROWID;
PRAGMA user_version = 1;
"""
PLAYERS = (
    '[{"seat": 0, "id": "p-a", "name": "Ann", "bot": null, "token_hash": "h"},'
    ' {"seat": 1, "id": "p-b", "name": "Bob", "bot": null, "token_hash": null}]'
)


def make_v1(path: Path) -> None:
    with sqlite3.connect(path) as db:
        db.executescript(SCHEMA_1)
        db.execute(
            "INSERT INTO matches VALUES ('m-1', 'r-1', NULL, 'tictactoe', 1, '{\"seed\": 7}', 1, ?, 100.0,"
            " NULL, NULL)",
            (PLAYERS,),
        )
        db.executemany(
            "INSERT INTO moves VALUES ('m-1', ?, ?, ?, ?, ?)", [(0, 0, "4", 2, 101.0), (1, 1, "0", 3, 102.0)]
        )


def test_every_field_of_schema_2_round_trips(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "s.db")
    saved = SavedMatch(
        id="m-x", room_id="r-x", room_code="ABC", game="pig", number=2, options={"players": 3},
        start_version=5, players=[SavedPlayer(0, "p-a", "Ann", None, "h")], started_at=1.5,
        seed=2**62 + 3, rng="blake2b-splitmix64/1", clock="300+5", move_limit=300.0,
    )  # fmt: skip
    store.match_started(saved)
    store.move_applied("m-x", 0, SavedMove(0, "roll", 6, 2.0, "move"))
    store.move_applied("m-x", 1, SavedMove(0, None, 6, 2.5, "draw_offer"))
    store.move_applied("m-x", 2, SavedMove(0, None, 7, 3.0, "timeout"))
    back = store.get("m-x")
    store.close()
    assert back is not None
    assert (back.seed, back.rng, back.clock, back.move_limit) == (
        2**62 + 3,
        "blake2b-splitmix64/1",
        "300+5",
        300.0,
    )
    assert [(m.kind, m.move, m.version, m.at) for m in back.moves] == [
        ("move", "roll", 6, 2.0), ("draw_offer", None, 6, 2.5), ("timeout", None, 7, 3.0)
    ]  # fmt: skip


def test_a_schema_1_database_is_read_read_only_and_migrated_in_place(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    make_v1(path)
    before = path.read_bytes()
    looking = SqliteStore(path, readonly=True)  # `netplay matches` on an old server's file
    (old,) = looking.unfinished()
    looking.close()
    assert path.read_bytes() == before  # looking never writes
    assert (old.seed, old.clock, [m.kind for m in old.moves]) == (0, None, ["move", "move"])

    store = SqliteStore(path)  # a new server on the old file migrates it
    (match,) = store.unfinished()
    store.move_applied("m-1", 2, SavedMove(0, 8, 4, 103.0, "move"))
    store.close()
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA user_version").fetchone() == (SCHEMA_VERSION,)
    # The old match replays through the engine: its options still carry the seed 0.1 gave setup.
    first = eng.start(
        TicTacToe(), id=match.id, number=1, seats=2, seed=match.seed, options=match.options, at=100.0
    )
    actions = [eng.action_from_record(m.kind, m.seat, m.move, m.at) for m in match.moves]
    replayed = eng.replay(TicTacToe(), first, actions)
    assert replayed.state["board"][4] == "X" and replayed.state["board"][0] == "O" and replayed.turn == 0
