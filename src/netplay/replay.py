"""``netplay matches`` and ``netplay replay``: read the matches a server kept in its database."""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from .client.safe_text import safe_text
from .client.terminal import clock_text
from .games import Game, Outcome, RealtimeGame, builtin_games, load_game, ticker
from .games import engine as eng
from .server.rooms.match import saved_start
from .store import SavedMatch, SavedMove, SqliteStore, StoreError
from .store.sqlite import SCHEMA_VERSION

__all__ = [
    "describe_action",
    "list_matches",
    "plural",
    "replay_match",
    "result_text",
    "show_matches",
    "show_replay",
]

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


def plural(count: int, word: str, many: str | None = None) -> str:
    """``1 room``, ``2 rooms``; ``many`` for a word whose plural is not ``word + "s"``."""
    return f"{count} {word if count == 1 else (many or word + 's')}"


def _no_database(db: str) -> str:
    """Why there is nothing at ``db``, and where to look: right for the folder this runs in."""
    told = 'says where when it starts ("Matches are kept in ...")'
    if db == ":memory:":
        return (
            "error: a server run with --db :memory: keeps no matches\n"
            'Pass with --db the file a server keeps its matches in (it says "Matches are kept in ...").'
        )
    where = os.path.abspath(db)
    if os.path.isabs(db):
        return f"error: no database at {where}\nA server {told}: pass that file with --db."
    return (
        f"error: no database at {where}\n`netplay serve` keeps its matches in {db} in the folder it "
        f"was started from (unless given --db), and {told}: run this command in that folder, or pass "
        "that file with --db."
    )


def _open_in(db: str, stack: contextlib.ExitStack) -> SqliteStore | None:
    if not Path(db).is_file():
        print(_no_database(db), file=sys.stderr)
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
        return "?" if seat is None else names.get(seat, f"seat {seat + 1}")

    reason = outcome.get("reason", "rules")
    if outcome.get("draw"):
        return str({"rules": "draw", "agreed": "draw agreed"}.get(reason, reason))
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


def seat_text(seat: int, names: dict[int, str], rules: Game | None = None) -> str:
    """A seat for people: its player's name and side ("Ann (X)"), or its number from 1."""
    side = rules.seat_label(seat) if rules is not None else f"seat {seat + 1}"
    return f"{names.get(seat, '?')} ({side})"


def describe_action(move: SavedMove, names: dict[int, str], rules: Game | None = None) -> str:
    """One recorded action in words, without its number or time; moves as the game writes them."""
    who = seat_text(move.seat, names, rules)
    shown = json.dumps(move.move) if rules is None else rules.move_text(move.move)
    if move.kind == "move":
        return f"{who} plays {shown}"
    if move.kind == "auto":
        return f"{who} ran out of time; played for them: {shown}"
    return f"{who} {_ACTIONS.get(move.kind, move.kind)}"


def _say(text: str = "", *, multiline: bool = False) -> None:
    """Print a line (or, ``multiline``, a board) made safe: names, games and moves came from players."""
    print(safe_text(text, multiline=multiline))


def show_matches(db: str, limit: int = 20) -> int:
    """Print the most recent matches of a server's SQLite file, newest first."""
    with _open(db) as store:
        if store is None:
            return 1
        matches = [store.get(match.id) or match for match in store.recent(limit)]
    return list_matches(matches)


def list_matches(matches: list[SavedMatch]) -> int:
    """Print ``matches`` (with their moves), one line each: ``netplay matches``."""
    if not matches:
        _say("No matches yet.")
    for match in matches:
        players = " vs ".join(p.name for p in match.players)
        ticks = [m.version for m in match.moves if m.kind == "tick"]
        if ticks:  # a real-time match: how long it ran
            played = f"{max(ticks):>5} ticks"
        else:
            moves = sum(m.kind in ("move", "auto") for m in match.moves)
            played = f"{moves:>3} {'move ' if moves == 1 else 'moves'}"
        clock = f"  clock {match.clock}" if match.clock else ""
        _say(
            f"{match.id}  {_when(match.started_at)}  {match.game:<10} {players:<30} "
            f"{played}{clock}  {result_text(match)}"
        )
    return 0


def _clocks(current: eng.Match, at: float, names: dict[int, str]) -> str | None:
    view: dict[str, Any] | None = eng.clock_view(current, at)
    if view is None:
        return None
    return ", ".join(
        f"{names.get(seat, seat)} {clock_text(left)}" for seat, left in enumerate(view["remaining"])
    )


def _show_ticks(rules: RealtimeGame, match: SavedMatch) -> int:
    """A real-time match: its recorded inputs tick by tick, then the match rebuilt from them."""
    names = _names(match)
    _say(f"Match {match.id}: {match.game} (real time, {rules.tick_rate} ticks/s), game {match.number} "
         f"in room {match.room_id}")  # fmt: skip
    _say("Players: " + ", ".join(f"{names[p.seat]} ({rules.seat_label(p.seat)})" + (" (bot)" if p.bot else "")
                                 for p in match.players))  # fmt: skip
    _say(f"Started {_when(match.started_at)}")
    records = [ticker.record_from_json(m.move) for m in match.moves if m.kind == "tick"]
    for record in records:
        said = [f"{names.get(seat, seat)} {json.dumps(data)}" for seat, (_, data) in record.inputs.items()]
        said += [f"{names.get(seat, seat)} leaves" for seat in record.left]
        if said:  # a checkpoint (no inputs) is not worth a line
            _say(f"tick {record.tick} ({record.tick / rules.tick_rate:.2f} s): " + ", ".join(said))
    try:
        rebuilt = ticker.replay(
            rules, id=match.id, number=match.number, seats=len(match.players), seed=match.seed,
            options=match.options, records=records,
        )  # fmt: skip
    except (eng.ReplayError, ValueError) as exc:
        _say(f"(the recorded inputs do not replay: {exc})")
        return 0
    _say()
    _say(f"Tick {rebuilt.tick} ({rebuilt.tick / rules.tick_rate:.2f} s of play):")
    _say(rules.render(rules.view(rebuilt.state, None), None), multiline=True)
    _say()
    _say(f"Result: {result_text(match)}" + (f", {_when(match.finished_at)}" if match.finished_at else ""))
    if match.outcome is not None:
        agrees = rebuilt.outcome is not None and rebuilt.outcome.to_json() == match.outcome
        _say(
            "The replay reaches the same result."
            if agrees
            else "The replay does NOT reach the stored result."
        )
    return 0


def show_replay(db: str, match_id: str, rules_spec: str | None = None) -> int:
    """Print one match of a server's SQLite file action by action (``replay_match``)."""
    with _open(db) as store:
        if store is None:
            return 1
        match = store.get(match_id)
    if match is None:
        print(f"error: no match {match_id!r} in {db} (see `netplay matches --db {db}`)", file=sys.stderr)
        return 1
    return replay_match(match, rules_spec)


def replay_match(match: SavedMatch, rules_spec: str | None = None) -> int:
    """Print one match action by action, drawing each position with the game's own rendering."""
    # The rules named by --rules, else the built-in game of that name (a name read from the
    # database never makes this import a module); without either, the moves are still listed.
    rules: Game | RealtimeGame | None = builtin_games().get(match.game)
    if rules_spec is not None:
        try:
            rules = load_game(rules_spec)
        except ValueError as exc:
            print(safe_text(f"error: --rules {exc}"), file=sys.stderr)
            return 2
    if isinstance(rules, RealtimeGame):
        return _show_ticks(rules, match)
    names = _names(match)
    _say(f"Match {match.id}: {match.game}, game {match.number} in room {match.room_id}")
    _say(
        "Players: "
        + ", ".join(seat_text(p.seat, names, rules) + (" (bot)" if p.bot else "") for p in match.players)
    )
    if match.clock:
        _say(f"Clock: {match.clock}")
    elif match.move_limit:
        _say(f"Time per move: {match.move_limit:g} s")
    _say(f"Started {_when(match.started_at)}")
    current: eng.Match | None = None
    if rules is None:
        _say(
            f"(no rules for {match.game} here: the stored moves are listed without positions; "
            "pass --rules MODULE:CLASS to draw them)"
        )
    else:
        try:
            current = saved_start(rules, match)
        except ValueError as exc:
            _say(f"(the rules cannot start this match again: {exc}; actions are listed without positions)")
    if current is not None and rules is not None:
        _say()
        _say(rules.render(rules.view(current.state, None), None), multiline=True)
    for n, move in enumerate(match.moves, 1):
        _say()
        _say(f"{n}. {describe_action(move, names, rules)} (at {_offset(move.at - match.started_at)})")
        if current is None or rules is None:
            continue
        result = eng.step(rules, current, eng.action_from_record(move.kind, move.seat, move.move, move.at))
        if result.refused is not None:
            _say(f"(the rules refuse this action now: {result.refused.message}; no more positions)")
            current = None
            continue
        changed = result.match.state is not current.state
        current = result.match
        if changed:
            _say(rules.render(rules.view(current.state, None), None), multiline=True)
        clocks = _clocks(current, move.at, names)
        if clocks is not None and move.kind in ("move", "auto", "timeout"):
            _say(f"Clock: {clocks}")
    _say()
    _say(f"Result: {result_text(match)}" + (f", {_when(match.finished_at)}" if match.finished_at else ""))
    if current is not None and rules is not None:
        outcome = None if match.outcome is None else Outcome.from_json(match.outcome)
        players = [names.get(seat, "?") for seat in range(len(match.players))]
        notation = rules.notation(current.state, players, outcome)
        if notation is not None:  # the game's own record of it: chess's FEN and PGN
            _say()
            _say(notation, multiline=True)
    return 0
