"""Matches in one SQLite file, written in WAL mode: a committed move survives ``kill -9`` of the server.

Writes run on the event loop's thread: in WAL mode with ``synchronous=NORMAL`` a commit is a write to
the log without an fsync (microseconds), which already survives a crash of the process. With
``durable=True`` (``--db-sync full``) commits also survive a power cut: they are fsync-ed in
batches in a thread (``group_commit.WalSync``), and ``pending()`` tells the server what its
messages must wait for, so that nothing is acknowledged before it is on the disk.

Match rooms are kept too (``rooms``, schema 3), one row per open room, rewritten when a seat or the
series changes (a join, a leave, a game's start, a rematch vote), never per move.
"""

from __future__ import annotations

import errno
import json
import os
import sqlite3
import stat
from pathlib import Path
from typing import Any

from ._lock import DbLock
from .base import MatchStore, SavedMatch, SavedMove, SavedPlayer, SavedRoom, StoreError
from .group_commit import WalSync

__all__ = ["SCHEMA_VERSION", "SqliteStore", "StoreError"]  # StoreError: also here, where it was

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
#: Schema 3: match rooms that are open (waiting for players, between games, or playing), one row
#: each, rewritten when a seat or the series changes and deleted when the room closes.
_ROOMS = """
CREATE TABLE IF NOT EXISTS rooms (
    id           TEXT PRIMARY KEY,
    code         TEXT,
    game         TEXT NOT NULL,
    options      TEXT NOT NULL,
    clock        TEXT,
    move_limit   REAL,
    seats        INTEGER NOT NULL,
    players      TEXT NOT NULL,
    games_played INTEGER NOT NULL,
    match_id     TEXT,
    rematch      TEXT NOT NULL,
    created_at   REAL NOT NULL,
    updated_at   REAL NOT NULL
);
"""
SCHEMA_VERSION = 3

#: From schema 1 (netplay before the match engine): seeds, clocks and kinds of action.
_MIGRATE_1_TO_2 = """
ALTER TABLE matches ADD COLUMN seed INTEGER NOT NULL DEFAULT 0;
ALTER TABLE matches ADD COLUMN rng TEXT;
ALTER TABLE matches ADD COLUMN clock TEXT;
ALTER TABLE matches ADD COLUMN move_limit REAL;
ALTER TABLE moves ADD COLUMN kind TEXT NOT NULL DEFAULT 'move';
"""
#: Each version's way to the next: a database is brought up to date one step at a time.
_MIGRATIONS = {1: _MIGRATE_1_TO_2, 2: _ROOMS}


class SqliteStore(MatchStore):
    """A MatchStore in an SQLite database file. A writable store holds the file's lock (``DB.lock``)
    until it is closed: one server per database."""

    def __init__(self, path: str | Path, *, durable: bool = False, readonly: bool = False) -> None:
        """Open (or create) the database; ``readonly`` for looking at a server's matches without
        writing to it (and without its lock). Raises StoreError, with a one-line message that names
        the file, for a database that cannot be used: no such folder, not a database, read-only,
        written by a newer netplay, or held by another server."""
        self.path = str(path)
        self._lock: DbLock | None = None
        #: With ``durable``: fsyncs the WAL in batches, off the event loop (None for ":memory:").
        self.sync: WalSync | None = None
        self._shown = self.path if self.path in ("", ":memory:") else os.path.abspath(self.path)
        if not readonly and self._shown not in ("", ":memory:"):
            problem = _place_problem(self._shown)
            if problem is not None:
                raise StoreError(problem)
            try:
                self._lock = DbLock.acquire(self.path, self._shown)
            except OSError as exc:
                raise StoreError(_lock_problem(self._shown, exc)) from exc
        try:
            if readonly:
                uri = f"{Path(self.path).resolve().as_uri()}?mode=ro"
                self._db = sqlite3.connect(uri, uri=True, isolation_level=None, check_same_thread=False)
            else:
                self._db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
            self._version = self._prepare(readonly=readonly)
            self._v1 = self._version == 1
            if durable and not readonly and self._shown not in ("", ":memory:"):
                self.sync = WalSync(self._shown)
                self.holds_messages = True
                self._db.execute("PRAGMA wal_autocheckpoint = 0")  # checkpoints run in its thread
                self.sync.wrote()  # the schema, as it was made or brought up to date: on the disk now
        except BaseException as exc:
            self.close()
            if isinstance(exc, sqlite3.Error):
                raise StoreError(_sqlite_problem(self._shown, exc)) from exc
            raise

    def _prepare(self, *, readonly: bool) -> int:
        """Check the schema version and bring the schema up to date; return the version it is read
        as (an older one only when opened read-only: such a database cannot be migrated)."""
        (version,) = self._db.execute("PRAGMA user_version").fetchone()
        if version > SCHEMA_VERSION:
            raise StoreError(
                f"{self._shown} was written by a newer netplay (schema {version}; this one knows "
                f"{SCHEMA_VERSION}): upgrade netplay, or use another --db"
            )
        if readonly:
            return int(version)
        self._db.execute("PRAGMA journal_mode = WAL")
        # Durable commits are fsync-ed in batches by ``WalSync``, not one by one by SQLite (FULL).
        self._db.execute("PRAGMA synchronous = NORMAL")
        self._db.execute("PRAGMA foreign_keys = ON")
        if version == 0:
            script = _SCHEMA + _ROOMS
        else:
            script = "".join(_MIGRATIONS[v] for v in range(version, SCHEMA_VERSION))
        # A write even when there is nothing to migrate: a file that SQLite could open only for reading
        # (read-only, or no room for its journal) is refused now, not at the first move of a match.
        # One transaction: a migration stopped half-way (kill -9, a full disk) leaves the old schema.
        self._db.executescript(f"BEGIN IMMEDIATE; {script} PRAGMA user_version = {SCHEMA_VERSION}; COMMIT;")
        return SCHEMA_VERSION

    def _write(self, sql: str, params: tuple[Any, ...]) -> None:
        """One statement, committed (autocommit); with ``durable``, handed to the fsyncs."""
        self._db.execute(sql, params)
        if self.sync is not None:
            self.sync.wrote()

    def pending(self) -> Any:
        """What a message sent now must wait for: the fsync of the latest commit (None: nothing)."""
        return None if self.sync is None else self.sync.pending()

    def match_started(self, match: SavedMatch) -> None:
        players = [_player_json(p) for p in match.players]
        self._write(
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
        self._write(
            "INSERT INTO moves (match_id, idx, seat, move, version, at, kind) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (match_id, index, move.seat, json.dumps(move.move), move.version, move.at, move.kind),
        )

    def match_finished(self, match_id: str, outcome: dict[str, Any], at: float) -> None:
        self._write(
            "UPDATE matches SET outcome = ?, finished_at = ? WHERE id = ?",
            (json.dumps(outcome), at, match_id),
        )

    def unfinished(self) -> list[SavedMatch]:
        """Raises StoreError for a damaged database (a server reads this first, as it starts)."""
        try:
            rows = self._db.execute(
                "SELECT * FROM matches WHERE finished_at IS NULL ORDER BY started_at"
            ).fetchall()
            return [self._with_moves(self._match(row)) for row in rows]
        except sqlite3.DatabaseError as exc:
            raise StoreError(_sqlite_problem(self._shown, exc)) from exc

    def recent(self, limit: int = 20) -> list[SavedMatch]:
        try:
            rows = self._db.execute(
                "SELECT * FROM matches ORDER BY started_at DESC LIMIT ?", (limit,)
            ).fetchall()
        except sqlite3.DatabaseError as exc:
            raise StoreError(_sqlite_problem(self._shown, exc)) from exc
        return [self._match(row) for row in rows]

    def move_count(self, match_id: str) -> int:
        (count,) = self._db.execute("SELECT COUNT(*) FROM moves WHERE match_id = ?", (match_id,)).fetchone()
        return int(count)

    def get(self, match_id: str) -> SavedMatch | None:
        try:
            row = self._db.execute("SELECT * FROM matches WHERE id = ?", (match_id,)).fetchone()
            return None if row is None else self._with_moves(self._match(row))
        except sqlite3.DatabaseError as exc:
            raise StoreError(_sqlite_problem(self._shown, exc)) from exc

    def room_saved(self, room: SavedRoom) -> None:
        self._write(
            "INSERT OR REPLACE INTO rooms (id, code, game, options, clock, move_limit, seats, players,"
            " games_played, match_id, rematch, created_at, updated_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                room.id,
                room.code,
                room.game,
                json.dumps(room.options),
                room.clock,
                room.move_limit,
                room.seats,
                json.dumps([_player_json(p) for p in room.players]),
                room.games_played,
                room.match_id,
                json.dumps(sorted(room.rematch)),
                room.created_at,
                room.updated_at,
            ),
        )

    def room_closed(self, room_id: str) -> None:
        self._write("DELETE FROM rooms WHERE id = ?", (room_id,))

    def rooms(self) -> list[SavedRoom]:
        """Raises StoreError for a damaged database (a server reads this as it starts)."""
        if self._version < 3:  # an older database, opened read-only: it has no rooms table
            return []
        try:
            rows = self._db.execute(
                "SELECT id, code, game, options, clock, move_limit, seats, players, games_played,"
                " match_id, rematch, created_at, updated_at FROM rooms ORDER BY created_at, id"
            ).fetchall()
            return [
                SavedRoom(
                    id=r[0],
                    code=r[1],
                    game=r[2],
                    options=json.loads(r[3]),
                    clock=r[4],
                    move_limit=r[5],
                    seats=r[6],
                    players=[SavedPlayer(**p) for p in json.loads(r[7])],
                    games_played=r[8],
                    match_id=r[9],
                    rematch=[int(seat) for seat in json.loads(r[10])],
                    created_at=r[11],
                    updated_at=r[12],
                )
                for r in rows
            ]
        except sqlite3.DatabaseError as exc:
            raise StoreError(_sqlite_problem(self._shown, exc)) from exc

    def close(self) -> None:
        """Close the database, then let go of its lock (so that the next server finds it complete)."""
        sync: WalSync | None = getattr(self, "sync", None)
        if sync is not None:
            sync.close()  # the fsync in flight ends first
        db: sqlite3.Connection | None = getattr(self, "_db", None)  # None if opening it failed
        if db is not None:
            db.close()
        if self._lock is not None:
            self._lock.release()
            self._lock = None

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


def _player_json(player: SavedPlayer) -> dict[str, Any]:
    """A seat as the ``players`` columns keep it: the token's hash, never the token."""
    return {
        "seat": player.seat,
        "id": player.id,
        "name": player.name,
        "bot": player.bot,
        "token_hash": player.token_hash,
    }


# -- what is wrong, in one line -----------------------------------------------------------------
def _place_problem(shown: str) -> str | None:
    """Why no database can be at ``shown`` (absolute): it is a folder, or its folder is missing or
    is a file. None when its folder is there."""
    if os.path.isdir(shown):
        example = os.path.join(shown, "netplay.db")
        return f"{shown} is a folder, not a database file: give --db a file in it, such as {example}"
    folder = probe = os.path.dirname(shown)
    while True:
        try:
            mode = os.stat(probe).st_mode
        except (FileNotFoundError, NotADirectoryError):
            if os.path.dirname(probe) == probe:
                return None  # nothing exists at all: let SQLite say what it finds
            probe = os.path.dirname(probe)
            continue
        except OSError as exc:
            reason = exc.strerror or exc
            return f"{shown}: cannot reach the folder {folder} ({reason}): give --db a path this user may use"
        if not stat.S_ISDIR(mode):
            return f"{shown}: {probe} is a file, not a folder: give --db a path in an existing folder"
        if probe != folder:
            return (
                f"{shown}: the folder {folder} does not exist: create it (mkdir -p {folder}), "
                "or give another --db"
            )
        return None


def _lock_problem(shown: str, exc: OSError) -> str:
    """Why the lock file beside the database could not be opened or created."""
    lock = os.path.realpath(shown) + ".lock"
    if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS) and not os.path.exists(lock):
        name = os.path.basename(lock)[: -len(".lock")]
        return (
            f"{shown}: cannot create files in the folder {os.path.dirname(lock)} ({exc.strerror}): the "
            f"server keeps {name}.lock, {name}-wal and {name}-shm beside the database; make the folder "
            "writable for this user, or give another --db"
        )
    if exc.errno in (errno.ENOLCK, errno.EOPNOTSUPP):
        return (
            f"{shown}: cannot lock {lock} ({exc.strerror}): this file system does not lock files; "
            "keep the database on a local disk"
        )
    return f"{shown}: cannot open its lock file {lock} ({exc.strerror}): make it writable for this user"


def _sqlite_problem(shown: str, exc: sqlite3.Error) -> str:
    """SQLite's error about the database, said for the person who runs the server."""
    code = str(getattr(exc, "sqlite_errorname", ""))
    name = os.path.basename(shown)
    if code == "SQLITE_NOTADB":
        return (
            f"{shown} is not an SQLite database: give --db the server's database file, or move this "
            "file away to start a new database there"
        )
    if code.startswith("SQLITE_CORRUPT"):
        return (
            f"{shown} is damaged ({exc}): restore it from a backup (docs/operations.md, section 5), "
            "or move it away to start a new database there"
        )
    if code in ("SQLITE_CANTOPEN", "SQLITE_READONLY_DIRECTORY"):
        folder = os.path.dirname(shown)
        return (
            f"{shown}: SQLite cannot open it or create its journal ({name}-wal, {name}-shm) in {folder} "
            f"({exc}): make the folder and the file writable for this user, or give another --db"
        )
    if code.startswith("SQLITE_READONLY"):
        return (
            f"{shown} is read-only ({exc}): the server writes every move to it; make it (and "
            f"{name}-wal, {name}-shm) writable for this user, or give another --db"
        )
    if code in ("SQLITE_BUSY", "SQLITE_LOCKED"):
        return f"{shown} is locked by another program (a sqlite3 shell?): close it, then start again"
    if code == "SQLITE_FULL":
        return f"{shown}: the disk is full: free some space, then start again"
    return f"{shown} cannot be used: {exc}" + (f" ({code})" if code else "")
