"""What the ``netplay`` command says to people (issue 9, item 23, the command-line part): counts in
good grammar, ``matches`` advice that is right where it runs, ``replay`` without ``--rules``, and
``serve --help`` giving every setting's default and meaning."""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import signal
import sys
from pathlib import Path

from netplay.cli import build_parser
from netplay.client import Client
from netplay.store import SavedMatch, SavedMove, SavedPlayer, SqliteStore

from .test_cli import NETPLAY, Proc


async def run(*args: str, cwd: Path | None = None) -> tuple[int, str]:
    """``netplay ARGS`` to the end (in ``cwd``, with no NETPLAY_DB): its status and output."""
    env = {k: v for k, v in os.environ.items() if k != "NETPLAY_DB"}
    process = await asyncio.create_subprocess_exec(
        *NETPLAY, *args, cwd=cwd, env={**env, "PYTHONUNBUFFERED": "1"},
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip
    out, _ = await process.communicate()
    return await process.wait(), out.decode()


def store_one_match(db: Path, game: str, *, moves: int) -> None:
    store = SqliteStore(db)
    players = [SavedPlayer(0, "p-eve", "Eve"), SavedPlayer(1, "p-bob", "Bob")]
    store.match_started(
        SavedMatch(
            id="m-1", room_id="r-1", room_code=None, game=game, number=1, options={},
            start_version=0, players=players, started_at=100.0,
        )
    )  # fmt: skip
    for n, cell in enumerate([4, 0, 8][:moves]):
        store.move_applied("m-1", n, SavedMove(n % 2, cell, n + 1, 101.0 + n))
    store.match_finished("m-1", {"draw": False, "winner": 0, "reason": "resign"}, 110.0)
    store.close()


def test_serve_help_gives_every_setting_a_meaning_and_its_default() -> None:
    parser = build_parser()
    commands = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    serve = commands.choices["serve"]
    for action in serve._actions:
        if isinstance(action, argparse._HelpAction):
            continue
        assert action.help, f"{action.option_strings} has no help"
        if action.default not in (None, False, [], ()):
            assert "default" in action.help, f"{action.option_strings}: {action.help!r} hides its default"


async def test_a_restart_that_resumes_one_match_says_so_in_the_singular(tmp_path: Path) -> None:
    db = str(tmp_path / "games.db")
    server = await Proc.start("serve", "--port", "0", "--db", db)
    port = int((await server.expect(r"on 127\.0\.0\.1:(\d+)")).group(1))
    await server.expect(rf"see: netplay matches --db {re.escape(db)}\)")  # right from any folder
    ann = await Client.connect("127.0.0.1", port, name="Ann", reconnect=False)
    bob = await Client.connect("127.0.0.1", port, name="Bob", reconnect=False)
    room = (await ann.quick_match("tictactoe"))["room"]["id"]
    await bob.join(room)
    await ann.wait_for("state", room=room)
    server.process.send_signal(signal.SIGTERM)
    assert (await server.finish())[0] == 0
    again = await Proc.start("serve", "--port", "0", "--db", db)
    await again.expect(r"^Resumed 1 match that was in progress\.$")
    again.process.send_signal(signal.SIGTERM)
    await again.finish()
    for client in (ann, bob):
        await client.close()


async def test_matches_counts_one_move_in_the_singular(tmp_path: Path) -> None:
    store_one_match(tmp_path / "kept.db", "tictactoe", moves=1)
    status, output = await run("matches", "--db", str(tmp_path / "kept.db"))
    assert status == 0 and re.search(r"\b1 move\b", output) and "1 moves" not in output, output


async def test_games_counts_one_player_in_the_singular(tmp_path: Path) -> None:
    (tmp_path / "solo.py").write_text(
        "from netplay.games.tictactoe import TicTacToe\n\n\n"
        "class Solo(TicTacToe):\n    name = 'solo'\n    players = 1\n"
    )
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "netplay", "serve", "--port", "0", "--game", "solo:Solo", "--no-web",
        cwd=tmp_path, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )  # fmt: skip
    server = Proc(process)
    port = (await server.expect(r"on 127\.0\.0\.1:(\d+)")).group(1)
    status, output = await run("games", "--port", port)
    assert status == 0 and re.search(r"^solo\s+1 player\s+bots:", output, re.M), output
    assert re.search(r"^tictactoe\s+2 players\s+bots:", output, re.M), output
    process.send_signal(signal.SIGTERM)
    await server.finish()


async def test_matches_in_a_folder_without_the_database_says_where_to_look(tmp_path: Path) -> None:
    status, output = await run("matches", cwd=tmp_path)
    assert status == 1
    assert f"no database at {tmp_path / 'netplay.db'}" in output  # the full path, not "netplay.db"
    assert "in the folder it was started from" in output and "--db" in output
    assert "start the server with" not in output  # the old advice: wrong for a server already running
    status, output = await run("replay", "m-1", cwd=tmp_path)
    assert status == 1 and f"no database at {tmp_path / 'netplay.db'}" in output


async def test_replay_of_a_game_not_built_in_lists_the_stored_moves(tmp_path: Path) -> None:
    db = tmp_path / "kept.db"
    store_one_match(db, "nim", moves=3)
    status, output = await run("replay", "m-1", "--db", str(db))
    assert status == 0, output
    assert "without positions" in output and "--rules" in output
    steps = re.findall(r"^\d+\. (.+) \(at \+\d+\.\d s\)$", output, re.M)
    assert steps == ["Eve (seat 1) plays 4", "Bob (seat 2) plays 0", "Eve (seat 1) plays 8"], output
    assert "Result: Eve won" in output
    status, output = await run("replay", "m-1", "--db", str(db), "--rules", "nowhere:Nim")
    assert status == 2 and "--rules cannot import 'nowhere'" in output  # asked for, and not there
