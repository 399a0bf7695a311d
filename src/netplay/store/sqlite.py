"""Matches in one SQLite file, written in WAL mode: a committed move survives ``kill -9`` of the server.

Writes run on the event loop's thread: in WAL mode with ``synchronous=NORMAL`` a commit is a write to
the log without an fsync (microseconds), which already survives a crash of the process. With
``durable=True`` (``--db-sync full``) every commit is also fsync-ed, surviving power loss at the cost of
a disk flush per move.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

from .base import MatchStore, SavedMatch, SavedMove, SavedPlayer

__all__ = ["SCHEMA_VERSION", "SqliteStore", "StoreError"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS matches (
    id            TEXT PRIMARY KEY,
    room_id       TEXT NOT NULL,
    room_code     TEXT,
    game          TEXT NOT NULL,
    number        INTEGER NOT NULL,
    options       TEXT NOT NULL,
    start_version INTEGER NOT NULL,
    players       TEXT NOT NULL,
    started_at    REAL NOT NULL,
    outcome       TEXT,
    finished_at   REAL,
    seed          INTEGER NOT NULL DEFAULT 0,
    rng           TEXT,
    clock         TEXT,
    move_limit    REAL
);
CREATE INDEX IF NOT EXISTS matches_unfinished ON matches (finished_at) WHERE finished_at IS NULL;
CREATE INDEX IF NOT EXISTS matches_started ON matches (started_at);
CREATE TABLE IF NOT EXISTS moves (
    match_id TEXT NOT NULL REFERENCES matches (id),
    idx      INTEGER NOT NULL,
    seat     INTEGER NOT NULL,
    move     TEXT NOT NULL,
    version  INTEGER NOT NULL,
    at       REAL NOT NULL,
    kind     TEXT NOT NULL DEFAULT 'move',
    PRIMARY KEY (match_id, idx)
) WITHOUT ROWID;
"""
SCHEMA_VERSION = 2

#: From schema 1 (netplay before the match engine): seeds, clocks and kinds of action.
_MIGRATE_1_TO_2 = """
ALTER TABLE matches ADD COLUMN seed INTEGER NOT NULL DEFAULT 0;
ALTER TABLE matches ADD COLUMN rng TEXT;
ALTER TABLE matches ADD COLUMN clock TEXT;
ALTER TABLE matches ADD COLUMN move_limit REAL;
ALTER TABLE moves ADD COLUMN kind TEXT NOT NULL DEFAULT 'move';
"""


class StoreError(Exception):
    """The database cannot be used (for example, a newer netplay wrote it)."""


class SqliteStore(MatchStore):
    """A MatchStore in an SQLite database file."""

    def __init__(self, path: str | Path, *, durable: bool = False, readonly: bool = False) -> None:
        """Open (or create) the database; ``readonly`` for looking at a server's matches without
        writing to it. Raises StoreError for a database written by a newer netplay."""
        self.path = str(path)
        if readonly:
            uri = f"{Path(self.path).resolve().as_uri()}?mode=ro"
            self._db = sqlite3.connect(uri, uri=True, isolation_level=None, check_same_thread=False)
        else:
            self._db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        (version,) = self._db.execute("PRAGMA user_version").fetchone()
        if version > SCHEMA_VERSION:
            self._db.close()
            raise StoreError(
                f"{self.path} was written by a newer netplay (schema {version}; this one knows "
                f"{SCHEMA_VERSION}): upgrade netplay, or use another --db"
            )
        #: A schema-1 database opened read-only is read as it is (it cannot be migrated).
        self._v1 = version == 1
        if readonly:
            return
        self._v1 = False
        self._db.execute("PRAGMA journal_mode = WAL")
        self._db.execute(f"PRAGMA synchronous = {'FULL' if durable else 'NORMAL'}")
        self._db.execute("PRAGMA foreign_keys = ON")
        if version < SCHEMA_VERSION:
            script = _SCHEMA if version == 0 else _MIGRATE_1_TO_2
            self._db.executescript(f"BEGIN; {script} PRAGMA user_version = {SCHEMA_VERSION}; COMMIT;")

    def match_started(self, match: SavedMatch) -> None:
        players = [
            {"seat": p.seat, "id": p.id, "name": p.name, "bot": p.bot, "token_hash": p.token_hash}
            for p in match.players
        ]
        self._db.execute(
            "INSERT INTO matches (id, room_id, room_code, game, number, options, start_version,"
            " players, started_at, seed, rng, clock, move_limit)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                match.id,
                match.room_id,
                match.room_code,
                match.game,
                match.number,
                json.dumps(match.options),
                match.start_version,
                json.dumps(players),
                match.started_at,
                match.seed,
                match.rng,
                match.clock,
                match.move_limit,
            ),
        )

    def move_applied(self, match_id: str, index: int, move: SavedMove) -> None:
        self._db.execute(
            "INSERT INTO moves (match_id, idx, seat, move, version, at, kind) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (match_id, index, move.seat, json.dumps(move.move), move.version, move.at, move.kind),
        )

    def match_finished(self, match_id: str, outcome: dict[str, Any], at: float) -> None:
        self._db.execute(
            "UPDATE matches SET outcome = ?, finished_at = ? WHERE id = ?",
            (json.dumps(outcome), at, match_id),
        )

    def unfinished(self) -> list[SavedMatch]:
        rows = self._db.execute(
            "SELECT * FROM matches WHERE finished_at IS NULL ORDER BY started_at"
        ).fetchall()
        return [self._with_moves(self._match(row)) for row in rows]

    def recent(self, limit: int = 20) -> list[SavedMatch]:
        rows = self._db.execute("SELECT * FROM matches ORDER BY started_at DESC LIMIT ?", (limit,)).fetchall()
        return [self._match(row) for row in rows]

    def move_count(self, match_id: str) -> int:
        (count,) = self._db.execute("SELECT COUNT(*) FROM moves WHERE match_id = ?", (match_id,)).fetchone()
        return int(count)

    def get(self, match_id: str) -> SavedMatch | None:
        row = self._db.execute("SELECT * FROM matches WHERE id = ?", (match_id,)).fetchone()
        return None if row is None else self._with_moves(self._match(row))

    def close(self) -> None:
        self._db.close()

    # -- rows -----------------------------------------------------------------------------------
    _COLUMNS = (
        "id",
        "room_id",
        "room_code",
        "game",
        "number",
        "options",
        "start_version",
        "players",
        "started_at",
        "outcome",
        "finished_at",
        "seed",
        "rng",
        "clock",
        "move_limit",
    )

    def _match(self, row: tuple[Any, ...]) -> SavedMatch:
        r = dict(zip(self._COLUMNS, row, strict=False))  # schema 1 lacks the last four columns
        return SavedMatch(
            id=r["id"],
            room_id=r["room_id"],
            room_code=r["room_code"],
            game=r["game"],
            number=r["number"],
            options=json.loads(r["options"]),
            start_version=r["start_version"],
            players=[SavedPlayer(**p) for p in json.loads(r["players"])],
            started_at=r["started_at"],
            outcome=None if r["outcome"] is None else json.loads(r["outcome"]),
            finished_at=r["finished_at"],
            seed=r.get("seed") or 0,
            rng=r.get("rng"),
            clock=r.get("clock"),
            move_limit=r.get("move_limit"),
        )

    def _with_moves(self, match: SavedMatch) -> SavedMatch:
        rows = self._db.execute(
            "SELECT seat, move, version, at, "
            + ("'move'" if self._v1 else "kind")
            + " FROM moves WHERE match_id = ? ORDER BY idx",
            (match.id,),
        ).fetchall()
        match.moves = [
            SavedMove(seat, json.loads(m), version, at, kind) for seat, m, version, at, kind in rows
        ]
        return match
