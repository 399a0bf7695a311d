"""``netplay play`` keeps its seat (issue 9, items 17 and 23): run the same command again after the
process died and it takes the seat back; Ctrl-C asks before it forfeits a game in progress.

Real ``netplay play`` subprocesses against the real ``netplay serve``, each with its own state
folder (``XDG_STATE_HOME``) shared by the players of a test, as two terminals of one user share it.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import stat
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from netplay.client import Client
from netplay.client.state_file import KeptSession, SessionStore

from .test_cli import NETPLAY, Proc


async def start(state_home: Path, *args: str, stdin: bool = True) -> Proc:
    """``netplay ARGS`` with ``XDG_STATE_HOME`` set to ``state_home``."""
    process = await asyncio.create_subprocess_exec(
        *NETPLAY,
        *args,
        stdin=asyncio.subprocess.PIPE if stdin else asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
        env={**os.environ, "PYTHONUNBUFFERED": "1", "XDG_STATE_HOME": str(state_home)},
    )
    return Proc(process)


@pytest.fixture
async def served() -> AsyncIterator[tuple[Proc, int]]:
    """``netplay serve --port 0`` logging everything (a token must not be in its log either)."""
    proc = await Proc.start("serve", "--port", "0", "--bot-delay", "0", "--log-level", "DEBUG")
    match = await proc.expect(r"on 127\.0\.0\.1:(\d+)")
    yield proc, int(match.group(1))
    if proc.process.returncode is None:
        proc.process.send_signal(signal.SIGTERM)
        await proc.finish()


@pytest.fixture
def state_home(tmp_path: Path) -> Path:
    return tmp_path / "state"


def kept_files(state_home: Path) -> list[Path]:
    return list(SessionStore(state_home / "netplay").files())


def tokens(state_home: Path) -> set[str]:
    return {json.loads(path.read_text())["token"] for path in kept_files(state_home)}


async def test_a_killed_player_runs_the_same_command_again_and_gets_the_seat_back(
    served: tuple[Proc, int], state_home: Path
) -> None:
    server, port = served
    ann_command = ["play", "tictactoe", "--port", str(port), "--name", "Ann"]
    ann = await start(state_home, *ann_command)
    await ann.expect("Waiting for an opponent")
    bob = await start(state_home, "play", "tictactoe", "--port", str(port), "--name", "Bob")
    await ann.expect("Bob joined")
    await ann.expect(r"Your move \(X")
    ann.type("5")
    await bob.expect(r"Ann \(X\) played 5")
    await bob.expect(r"Your move \(O")
    room = re.search(r"in room (r-[0-9a-f]+)", "\n".join(ann.lines))
    assert room is not None

    ann.process.kill()  # SIGKILL: no bye, no cleanup; the seat waits out the server's grace
    assert (await ann.finish())[0] == -signal.SIGKILL
    await bob.expect("Ann lost the connection")
    # Both players' sessions are kept (one user, two terminals): files of their own, 0600 in 0700.
    files = kept_files(state_home)
    assert len(files) == 2
    assert stat.S_IMODE((state_home / "netplay").stat().st_mode) == 0o700
    assert all(stat.S_IMODE(path.stat().st_mode) == 0o600 for path in files)
    secrets = tokens(state_home)
    assert len(secrets) == 2

    again = await start(state_home, *ann_command)  # the very same command
    await again.expect(rf"You are Ann, back in room {room.group(1)} \(tictactoe\) as player")
    await bob.expect("Ann is back")
    await again.expect(r"Waiting for Bob \(O\)")
    bob.type("1")
    await again.expect(r"Bob \(O\) played 1")
    await again.expect(r"Your move \(X")
    again.type("3")
    await bob.expect(r"Your move \(O")
    bob.type("2")
    await again.expect(r"Your move \(X")
    again.type("7")  # X holds 3, 5 and 7: a diagonal
    await again.expect("You win!")
    status, again_output = await again.finish()
    assert status == 0, again_output
    await bob.expect("You lose")
    status, bob_output = await bob.finish()
    assert status == 0, bob_output
    assert tokens(state_home) == set() and kept_files(state_home) == []  # the game ended: forgotten

    server.process.send_signal(signal.SIGTERM)
    _, server_log = await server.finish()
    everything = "\n".join([server_log, again_output, bob_output, *ann.lines])
    for secret in secrets:
        assert secret not in everything
    assert "Traceback" not in everything


async def test_new_after_a_kill_starts_a_new_room_and_forgets_the_old_seat(
    served: tuple[Proc, int], state_home: Path
) -> None:
    _, port = served
    command = ["play", "tictactoe", "--port", str(port), "--name", "Ann"]
    ann = await start(state_home, *command)
    first = (await ann.expect(r"in room (r-[0-9a-f]+)")).group(1)
    bob = await Client.connect("127.0.0.1", port, name="Bob")
    await bob.quick_match("tictactoe")
    await ann.expect(r"Your move \(X")
    ann.process.kill()
    await ann.finish()
    (old,) = tokens(state_home)

    fresh = await start(state_home, *command, "--new")
    second = (await fresh.expect(r"You are Ann, in room (r-[0-9a-f]+)")).group(1)
    assert second != first
    await fresh.expect("Waiting for an opponent")
    assert old not in tokens(state_home) and len(kept_files(state_home)) == 1
    fresh.process.send_signal(signal.SIGINT)  # waiting, no game to forfeit: it just leaves
    await fresh.expect("Left the room")
    status, output = await fresh.finish()
    assert status == 130 and "forfeit" not in output and "Traceback" not in output
    assert kept_files(state_home) == []
    await bob.close()


async def test_a_token_the_server_does_not_know_is_dropped_quietly(
    served: tuple[Proc, int], state_home: Path
) -> None:
    _, port = served
    store = SessionStore(state_home / "netplay")
    slot, _ = store.claim(f"127.0.0.1:{port}", "tictactoe", lambda kept: True)
    slot.save(KeptSession(f"127.0.0.1:{port}", "tictactoe", "r-0000000000000000", "quick", "x" * 32))
    slot.release()
    ann = await start(state_home, "play", "tictactoe", "--port", str(port), "--name", "Ann")
    await ann.expect(r"You are Ann, in room r-[0-9a-f]+ \(tictactoe\) as player")
    await ann.expect("Waiting for an opponent")
    assert tokens(state_home) != {"x" * 32} and len(kept_files(state_home)) == 1
    ann.process.send_signal(signal.SIGINT)
    status, output = await ann.finish()
    assert status == 130 and "error" not in output.lower() and "Traceback" not in output


async def test_ctrl_c_in_a_game_asks_and_no_keeps_playing_then_yes_forfeits(
    served: tuple[Proc, int], state_home: Path
) -> None:
    _, port = served
    ann = await start(state_home, "play", "tictactoe", "--port", str(port), "--name", "Ann")
    await ann.expect("Waiting for an opponent")
    bob = await start(state_home, "play", "tictactoe", "--port", str(port), "--name", "Bob")
    await ann.expect(r"Your move \(X")
    ann.process.send_signal(signal.SIGINT)
    await ann.expect(r"Leave and forfeit this game\? \[y/N\]")
    ann.type("n")
    await ann.expect("Staying in the game")
    await ann.expect(r"Your move \(X")
    ann.type("5")
    await bob.expect(r"Ann \(X\) played 5")
    await bob.expect(r"Your move \(O")
    bob.type("1")
    await ann.expect(r"Your move \(X")
    ann.process.send_signal(signal.SIGINT)
    await ann.expect(r"Leave and forfeit this game\? \[y/N\]")
    ann.type("y")
    await ann.expect("forfeit")
    status, output = await ann.finish()
    assert status == 130 and "Traceback" not in output
    await bob.expect("You win: your opponent left")
    status, output = await bob.finish()
    assert status == 0, output
    assert kept_files(state_home) == []  # Ann left: nothing to resume; Bob's game ended


async def test_a_second_ctrl_c_leaves_at_once(served: tuple[Proc, int], state_home: Path) -> None:
    _, port = served
    ann = await start(state_home, "play", "tictactoe", "--port", str(port), "--name", "Ann")
    await ann.expect("Waiting for an opponent")
    bob = await Client.connect("127.0.0.1", port, name="Bob")
    await bob.quick_match("tictactoe")
    await ann.expect(r"Your move \(X")
    ann.process.send_signal(signal.SIGINT)
    await ann.expect(r"Leave and forfeit this game\? \[y/N\]")
    ann.process.send_signal(signal.SIGINT)
    await ann.expect("Left the game: you forfeit it")
    status, output = await ann.finish()
    assert status == 130 and "Traceback" not in output
    final = await bob.wait_for("state", status="finished")
    assert final["outcome"]["reason"] == "forfeit" and final["outcome"]["winner"] == 1
    assert kept_files(state_home) == []
    await bob.close()


async def test_killed_between_games_the_series_goes_on_and_counts_every_game(
    served: tuple[Proc, int], state_home: Path
) -> None:
    _, port = served
    command = ["play", "tictactoe", "--port", str(port), "--name", "Ann", "--games", "2", "--json"]
    ann = await start(state_home, *command)
    room = (await ann.expect(r"in room (r-[0-9a-f]+)")).group(1)
    bob = await Client.connect("127.0.0.1", port, name="Bob")
    await bob.join(room)
    for mine, theirs in [(0, 3), (1, 4)]:  # Ann takes the top row: cells 1, 2, 3
        await ann.expect(r"Your move \(X")
        ann.type(str(mine + 1))
        await bob.wait_for("state", last={"seat": 0, "move": mine})
        await bob.move(theirs)
    await ann.expect(r"Your move \(X")
    ann.type("3")
    await ann.expect("You win!")
    await ann.expect("Rematch requested")
    ann.process.kill()
    await ann.finish()

    again = await start(state_home, *command)
    await again.expect(f"back in room {room}")
    await bob.rematch(room)
    await bob.wait_for("state", game=2)
    await bob.resign(room)
    await again.expect("You win: Bob .* resigned")
    status, output = await again.finish()
    assert status == 0, output
    assert output.count("You win") == 1  # game 1 was counted by the run that died, not again
    assert json.loads(output.splitlines()[-1]) == {"games": 2, "won": 2, "lost": 0, "drawn": 0}
    assert kept_files(state_home) == []
    await bob.close()
