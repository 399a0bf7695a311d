"""``netplay matches`` and ``netplay replay``: read the matches a server kept in its database."""

from __future__ import annotations

import json
import sqlite3
import sys
import time
from pathlib import Path

from .games import Game, load_game
from .store import SavedMatch, SqliteStore, StoreError

__all__ = ["show_matches", "show_replay"]


def _open(db: str) -> SqliteStore | None:
    if not Path(db).is_file():
        print(f"error: no database at {db} (start the server with --db {db})", file=sys.stderr)
        return None
    try:
        return SqliteStore(db, readonly=True)  # looking never writes to a server's database
    except (StoreError, sqlite3.Error) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return None


def _when(ts: float | None) -> str:
    return "-" if ts is None else time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(ts))


def _result(match: SavedMatch) -> str:
    if match.outcome is None:
        return "in progress"
    if match.outcome["draw"]:
        return "draw" if match.outcome["reason"] == "rules" else match.outcome["reason"]
    winner = next((p.name for p in match.players if p.seat == match.outcome["winner"]), "?")
    return f"{winner} won" + ("" if match.outcome["reason"] == "rules" else f" ({match.outcome['reason']})")


def show_matches(db: str, limit: int = 20) -> int:
    """Print the most recent matches, newest first."""
    store = _open(db)
    if store is None:
        return 1
    try:
        matches = store.recent(limit)
        if not matches:
            print("No matches yet.")
        for match in matches:
            players = " vs ".join(p.name for p in match.players)
            moves = store.move_count(match.id)
            print(
                f"{match.id}  {_when(match.started_at)}  {match.game:<10} {players:<30} "
                f"{moves:>3} moves  {_result(match)}"
            )
    finally:
        store.close()
    return 0


def show_replay(db: str, match_id: str, rules_spec: str | None = None) -> int:
    """Print one match move by move, drawing each position with the game's own rendering."""
    store = _open(db)
    if store is None:
        return 1
    try:
        match = store.get(match_id)
    finally:
        store.close()
    if match is None:
        print(f"error: no match {match_id!r} in {db} (see `netplay matches --db {db}`)", file=sys.stderr)
        return 1
    try:
        rules: Game = load_game(rules_spec or match.game)
    except ValueError as exc:
        print(f"error: {exc}; pass --rules MODULE:CLASS for a game that is not built in", file=sys.stderr)
        return 2
    names = {p.seat: p.name for p in match.players}
    print(f"Match {match.id}: {match.game}, game {match.number} in room {match.room_id}")
    print(
        "Players: "
        + ", ".join(f"seat {p.seat} {p.name}" + (" (bot)" if p.bot else "") for p in match.players)
    )
    print(f"Started {_when(match.started_at)}")
    state = rules.setup(match.options)
    print()
    print(rules.render(rules.view(state, None), None))
    for n, move in enumerate(match.moves, 1):
        state = rules.apply(state, move.seat, move.move)
        print()
        print(f"{n}. seat {move.seat} ({names.get(move.seat, '?')}) plays {json.dumps(move.move)}")
        print(rules.render(rules.view(state, None), None))
    print()
    print(f"Result: {_result(match)}" + (f", {_when(match.finished_at)}" if match.finished_at else ""))
    return 0
