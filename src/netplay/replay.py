"""``netplay matches`` and ``netplay replay``: read the matches a server kept in its database."""

from __future__ import annotations

import contextlib
import json
import sqlite3
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from .client.terminal import clock_text
from .games import Game, load_game
from .games import engine as eng
from .server.rooms.match import saved_start
from .store import SavedMatch, SavedMove, SqliteStore, StoreError
from .store.sqlite import SCHEMA_VERSION

__all__ = ["describe_action", "result_text", "show_matches", "show_replay"]

_ORDINALS = {1: "st", 2: "nd", 3: "rd"}
#: What each recorded kind of action says in a replay (a move names its move).
_ACTIONS = {
    "resign": "resigns",
    "forfeit": "leaves the game (forfeit)",
    "timeout": "runs out of time",
    "draw_offer": "offers a draw",
    "draw_decline": "declines the draw",
}


@contextlib.contextmanager
def _open(db: str) -> Iterator[SqliteStore | None]:
    """The server's database, read only (None, said why, if it cannot be read).

    A database of an older schema is read from an upgraded temporary copy: read only, the store
    cannot add the columns newer schemas have.
    """
    with contextlib.ExitStack() as stack:
        store = _open_in(db, stack)
        yield store


def _open_in(db: str, stack: contextlib.ExitStack) -> SqliteStore | None:
    if not Path(db).is_file():
        print(f"error: no database at {db} (start the server with --db {db})", file=sys.stderr)
        return None
    try:
        store = SqliteStore(db, readonly=True)  # looking never writes to a server's database
        stack.callback(store.close)
        if _schema(db) >= SCHEMA_VERSION:
            return store
        folder = stack.enter_context(tempfile.TemporaryDirectory(prefix="netplay-"))
        copy = str(Path(folder) / "copy.db")
        source = sqlite3.connect(f"{Path(db).resolve().as_uri()}?mode=ro", uri=True)
        target = sqlite3.connect(copy)
        try:
            source.backup(target)
        finally:
            source.close()
            target.close()
        upgraded = SqliteStore(copy)
        stack.callback(upgraded.close)
        return upgraded
    except (StoreError, sqlite3.Error) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return None


def _schema(db: str) -> int:
    connection = sqlite3.connect(f"{Path(db).resolve().as_uri()}?mode=ro", uri=True)
    try:
        (version,) = connection.execute("PRAGMA user_version").fetchone()
        return int(version)
    finally:
        connection.close()


def _when(ts: float | None) -> str:
    return "-" if ts is None else time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(ts))


def _offset(seconds: float) -> str:
    """Time since the match began: ``+4.2 s``, ``+1:02.5``."""
    seconds = max(seconds, 0.0)
    if seconds < 60:
        return f"+{seconds:.1f} s"
    minutes, secs = divmod(seconds, 60)
    return f"+{int(minutes)}:{secs:04.1f}"


def _ordinal(n: int) -> str:
    return f"{n}{'th' if 10 <= n % 100 <= 20 else _ORDINALS.get(n % 10, 'th')}"


def _names(match: SavedMatch) -> dict[int, str]:
    return {p.seat: p.name for p in match.players}


def result_text(match: SavedMatch) -> str:
    """The result in words: "Ann won", "Ann won (Bob resigned)", "1st Ann, 2nd Bob and Cy (tied)"."""
    outcome = match.outcome
    if outcome is None:
        return "in progress"
    names = _names(match)

    def name(seat: int | None) -> str:
        return "?" if seat is None else names.get(seat, f"seat {seat}")

    reason = outcome.get("reason", "rules")
    if outcome.get("draw"):
        return {"rules": "draw", "agreed": "draw agreed"}.get(reason, reason)
    ranking = outcome.get("ranking")
    cause = reason if reason != "rules" else None
    if ranking and len(ranking[-1]) == 1 and reason in ("resign", "time", "forfeit"):
        loser = name(ranking[-1][0])
        cause = {"resign": f"{loser} resigned", "time": f"{loser} lost on time", "forfeit": f"{loser} left"}[
            reason
        ]
    if ranking and (len(match.players) > 2 or len(ranking) > 2):
        scores = outcome.get("scores")
        parts, place = [], 1
        for group in ranking:
            who = " and ".join(
                name(s) + (f" {scores[s]:g}" if scores is not None and s < len(scores) else "") for s in group
            )
            parts.append(f"{_ordinal(place)} {who}" + (" (tied)" if len(group) > 1 else ""))
            place += len(group)
        return ", ".join(parts) + ("" if cause is None else f" ({cause})")
    return f"{name(outcome.get('winner'))} won" + ("" if cause is None else f" ({cause})")


def describe_action(move: SavedMove, names: dict[int, str]) -> str:
    """One recorded action in words, without its number or time."""
    who = f"seat {move.seat} ({names.get(move.seat, '?')})"
    if move.kind == "move":
        return f"{who} plays {json.dumps(move.move)}"
    if move.kind == "auto":
        return f"{who} ran out of time; played for them: {json.dumps(move.move)}"
    return f"{who} {_ACTIONS.get(move.kind, move.kind)}"


def show_matches(db: str, limit: int = 20) -> int:
    """Print the most recent matches, newest first."""
    with _open(db) as store:
        if store is None:
            return 1
        matches = store.recent(limit)
        if not matches:
            print("No matches yet.")
        for match in matches:
            players = " vs ".join(p.name for p in match.players)
            full = store.get(match.id)
            moves = sum(m.kind in ("move", "auto") for m in full.moves) if full is not None else 0
            clock = f"  clock {match.clock}" if match.clock else ""
            print(
                f"{match.id}  {_when(match.started_at)}  {match.game:<10} {players:<30} "
                f"{moves:>3} moves{clock}  {result_text(match)}"
            )
    return 0


def _clocks(current: eng.Match, at: float, names: dict[int, str]) -> str | None:
    view: dict[str, Any] | None = eng.clock_view(current, at)
    if view is None:
        return None
    return ", ".join(
        f"{names.get(seat, seat)} {clock_text(left)}" for seat, left in enumerate(view["remaining"])
    )


def show_replay(db: str, match_id: str, rules_spec: str | None = None) -> int:
    """Print one match action by action, drawing each position with the game's own rendering."""
    with _open(db) as store:
        if store is None:
            return 1
        match = store.get(match_id)
    if match is None:
        print(f"error: no match {match_id!r} in {db} (see `netplay matches --db {db}`)", file=sys.stderr)
        return 1
    try:
        rules: Game = load_game(rules_spec or match.game)
    except ValueError as exc:
        print(f"error: {exc}; pass --rules MODULE:CLASS for a game that is not built in", file=sys.stderr)
        return 2
    names = _names(match)
    print(f"Match {match.id}: {match.game}, game {match.number} in room {match.room_id}")
    print(
        "Players: "
        + ", ".join(f"seat {p.seat} {p.name}" + (" (bot)" if p.bot else "") for p in match.players)
    )
    if match.clock:
        print(f"Clock: {match.clock}")
    elif match.move_limit:
        print(f"Time per move: {match.move_limit:g} s")
    print(f"Started {_when(match.started_at)}")
    current: eng.Match | None
    try:
        current = saved_start(rules, match)
    except ValueError as exc:
        print(f"(the rules cannot start this match again: {exc}; actions are listed without positions)")
        current = None
    if current is not None:
        print()
        print(rules.render(rules.view(current.state, None), None))
    for n, move in enumerate(match.moves, 1):
        print()
        print(f"{n}. {describe_action(move, names)} (at {_offset(move.at - match.started_at)})")
        if current is None:
            continue
        result = eng.step(rules, current, eng.action_from_record(move.kind, move.seat, move.move, move.at))
        if result.refused is not None:
            print(f"(the rules refuse this action now: {result.refused.message}; no more positions)")
            current = None
            continue
        changed = result.match.state is not current.state
        current = result.match
        if changed:
            print(rules.render(rules.view(current.state, None), None))
        clocks = _clocks(current, move.at, names)
        if clocks is not None and move.kind in ("move", "auto", "timeout"):
            print(f"Clock: {clocks}")
    print()
    print(f"Result: {result_text(match)}" + (f", {_when(match.finished_at)}" if match.finished_at else ""))
    return 0
