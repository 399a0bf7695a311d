"""The ``netplay`` command as a user runs it: serve, play with bots and by hand, games, rooms, signals."""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import sys
from collections.abc import AsyncIterator
from typing import Any

import pytest

from netplay.client import Client

NETPLAY = [sys.executable, "-m", "netplay"]


class Proc:
    """A running ``netplay`` subprocess whose output is read line by line, with timeouts.

    A task drains the output all the time, so a chatty process never blocks on a full pipe.
    """

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process
        self.lines: list[str] = []
        self._seen = 0  # lines already looked at by expect()
        self._more = asyncio.Condition()
        self._eof = False
        self._reader = asyncio.create_task(self._drain())

    async def _drain(self) -> None:
        assert self.process.stdout is not None
        while raw := await self.process.stdout.readline():
            async with self._more:
                self.lines.append(raw.decode(errors="replace").rstrip("\n"))
                self._more.notify_all()
        async with self._more:
            self._eof = True
            self._more.notify_all()

    @classmethod
    async def start(cls, *args: str, stdin: bool = False) -> Proc:
        process = await asyncio.create_subprocess_exec(
            *NETPLAY,
            *args,
            stdin=asyncio.subprocess.PIPE if stdin else asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        return cls(process)

    async def expect(self, pattern: str, timeout: float = 15.0) -> re.Match[str]:
        """Wait for the next line (after those already matched) that matches ``pattern``."""
        regex = re.compile(pattern)
        try:
            async with asyncio.timeout(timeout), self._more:
                while True:
                    while self._seen < len(self.lines):
                        line = self.lines[self._seen]
                        self._seen += 1
                        match = regex.search(line)
                        if match:
                            return match
                    if self._eof:
                        raise AssertionError(f"exited before {pattern!r}:\n" + "\n".join(self.lines))
                    await self._more.wait()
        except TimeoutError:
            raise AssertionError(f"no {pattern!r} within {timeout} s:\n" + "\n".join(self.lines)) from None

    def type(self, text: str) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(text.encode() + b"\n")

    async def finish(self, timeout: float = 30.0) -> tuple[int, str]:
        """Wait for the exit; return the status and all output."""
        async with asyncio.timeout(timeout):
            status = await self.process.wait()
            await self._reader
        return status, "\n".join(self.lines)

    def kill(self) -> None:
        if self.process.returncode is None:
            self.process.kill()


@pytest.fixture
async def served() -> AsyncIterator[tuple[Proc, int]]:
    """``netplay serve --port 0``: the real command, on a free port read from its banner."""
    proc = await Proc.start("serve", "--port", "0", "--bot-delay", "0")
    match = await proc.expect(r"on 127\.0\.0\.1:(\d+)")
    yield proc, int(match.group(1))
    if proc.process.returncode is None:
        proc.process.send_signal(signal.SIGTERM)
        await proc.finish()


async def test_serve_says_where_it_listens_and_how_to_join(served: tuple[Proc, int]) -> None:
    proc, port = served
    line = await proc.expect(r"netplay play")
    assert f"--port {port}" in line.string
    await proc.expect(r"Ctrl-C")


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
async def test_signals_shut_down_cleanly_and_tell_the_clients(served: tuple[Proc, int], sig: int) -> None:
    proc, port = served
    client = await Client.connect("127.0.0.1", port)
    proc.process.send_signal(sig)
    notice = await client.wait_for("error")
    assert notice["code"] == "server_shutdown" and notice["message"] == "the server is shutting down"
    status, output = await proc.finish()
    assert status == 0 and "stopped" in output and "Traceback" not in output
    await client.close()


async def test_two_minimax_bots_always_draw(served: tuple[Proc, int]) -> None:
    _, port = served
    args = ["play", "tictactoe", "--port", str(port), "--bot", "minimax", "--games", "4", "--json"]
    a = await Proc.start(*args, "--name", "A", "--seed", "1")
    await a.expect("Waiting for an opponent")
    b = await Proc.start(*args, "--name", "B", "--seed", "2")
    for proc in (a, b):
        status, output = await proc.finish()
        assert status == 0, output
        assert json.loads(output.splitlines()[-1]) == {"games": 4, "won": 0, "lost": 0, "drawn": 4}


async def test_minimax_never_loses_to_random(served: tuple[Proc, int]) -> None:
    _, port = served
    base = ["play", "tictactoe", "--port", str(port), "--games", "6", "--json"]
    smart = await Proc.start(*base, "--bot", "minimax", "--seed", "3")
    await smart.expect("Waiting for an opponent")
    dumb = await Proc.start(*base, "--bot", "random", "--seed", "4")
    status, output = await smart.finish()
    tally = json.loads(output.splitlines()[-1])
    assert status == 0 and tally["games"] == 6 and tally["lost"] == 0 and tally["won"] >= 1
    status, output = await dumb.finish()
    other = json.loads(output.splitlines()[-1])
    assert other["won"] == 0 and other["lost"] == tally["won"]


async def test_connect_four_bots_play_a_match(served: tuple[Proc, int]) -> None:
    _, port = served
    base = ["play", "connect4", "--port", str(port), "--json"]
    smart = await Proc.start(*base, "--bot", "negamax", "--seed", "5")
    await smart.expect("Waiting for an opponent")
    dumb = await Proc.start(*base, "--bot", "random", "--seed", "6")
    status, output = await smart.finish(timeout=60)
    assert status == 0 and json.loads(output.splitlines()[-1]) == {
        "games": 1,
        "won": 1,
        "lost": 0,
        "drawn": 0,
    }
    assert (await dumb.finish())[0] == 0


async def test_a_person_plays_at_the_terminal(served: tuple[Proc, int]) -> None:
    _, port = served
    human = await Proc.start(
        "play", "tictactoe", "--port", str(port), "--name", "Human", "--json", stdin=True
    )
    await human.expect("Waiting for an opponent")
    rival = await Client.connect("127.0.0.1", port, name="Rival")
    await rival.quick_match("tictactoe")
    await human.expect("Rival joined")
    await human.expect("Your move")
    human.type("middle")
    await human.expect("type a cell number from 1 to 9")
    human.type("5")  # people number the cells 1-9; the move on the wire is 4
    await human.expect(r"Human \(X\) played 5")
    state = await rival.wait_for("state", last={"seat": 0, "move": 4})
    assert state["state"]["board"][4] == "X"
    await rival.move(0)
    await human.expect("Your move")
    human.type("1")
    await human.expect("Refused: the top left cell is already taken")
    await human.expect("Your move")
    human.type("2")
    human.type("3")  # typed ahead, before the server answered: not this player's turn any more
    await human.expect("It is not your turn yet")
    await rival.wait_for("state", last={"seat": 0, "move": 1})
    await rival.move(3)
    await human.expect(r"Rival \(O\) played 4")
    await human.expect("Your move")
    human.type("8")  # X holds 4, 1, 7: the middle column
    await human.expect("You win!")
    status, output = await human.finish()
    assert status == 0 and json.loads(output.splitlines()[-1])["won"] == 1
    assert "Traceback" not in output
    await rival.close()


async def test_the_opponent_leaving_is_a_clear_win(served: tuple[Proc, int]) -> None:
    _, port = served
    human = await Proc.start("play", "tictactoe", "--port", str(port), stdin=True)
    await human.expect("Waiting for an opponent")
    rival = await Client.connect("127.0.0.1", port, name="Quitter")
    await rival.quick_match("tictactoe")
    await human.expect("Your move")
    await rival.close()
    await human.expect("Quitter left the room")
    await human.expect("You win: your opponent left")
    status, output = await human.finish()
    assert status == 0 and "Traceback" not in output


async def test_the_server_going_away_is_told_and_the_player_reconnects(served: tuple[Proc, int]) -> None:
    server, port = served
    human = await Proc.start("play", "tictactoe", "--port", str(port), stdin=True)
    await human.expect("Waiting for an opponent")
    server.process.send_signal(signal.SIGTERM)
    await human.expect(r"The server says: the server is shutting down\.")  # no signal names
    await human.expect("reconnecting")
    assert (await server.finish())[0] == 0
    # A new server on the same port, without the old one's database: the game is gone, and the
    # player is told so plainly.
    again = await Proc.start("serve", "--port", str(port), "--db", ":memory:")
    await again.expect(r"on 127\.0\.0\.1:\d+")
    await human.expect("Reconnected, but the server no longer knows this game")
    status, output = await human.finish()
    assert status == 1 and "Traceback" not in output
    again.process.send_signal(signal.SIGTERM)
    await again.finish()


async def test_no_server_is_a_clear_error(unused_tcp_port: int) -> None:
    proc = await Proc.start("play", "tictactoe", "--port", str(unused_tcp_port))
    status, output = await proc.finish()
    assert status == 1 and "cannot reach a netplay server" in output and "Traceback" not in output


async def test_private_room_by_code_and_a_spectator(served: tuple[Proc, int]) -> None:
    _, port = served
    host = await Proc.start(
        "play", "tictactoe", "--port", str(port), "--private", "--bot", "minimax", "--json"
    )
    code = (await host.expect(r"--code ([A-Z0-9]{8})")).group(1)
    room = await Proc.start("rooms", "--port", str(port))
    status, listing = await room.finish()
    room_id = re.search(r"(r-[0-9a-f]{16})\s+tictactoe\s+private", listing)
    assert status == 0 and room_id, listing
    watcher = await Proc.start(
        "play", "tictactoe", "--port", str(port), "--room", room_id.group(1), "--spectate"
    )
    status, output = await watcher.finish()
    assert status == 1 and "this room is private" in output  # no code, no entry
    watcher = await Proc.start("play", "tictactoe", "--port", str(port), "--code", code, "--spectate")
    await watcher.expect("as spectator")
    guest = await Proc.start(
        "play", "tictactoe", "--port", str(port), "--code", code, "--bot", "minimax", "--json"
    )
    assert json.loads((await guest.finish())[1].splitlines()[-1])["drawn"] == 1
    assert json.loads((await host.finish())[1].splitlines()[-1])["drawn"] == 1
    await watcher.expect("Draw.")
    assert (await watcher.finish())[0] == 0


async def test_games_lists_what_the_server_offers(served: tuple[Proc, int]) -> None:
    _, port = served
    status, output = await (await Proc.start("games", "--port", str(port))).finish()
    assert status == 0
    assert re.search(r"^tictactoe\s+2 players\s+bots: minimax, random", output, re.M)
    assert re.search(r"^connect4\s+2 players\s+bots: negamax, random", output, re.M)


async def test_serve_refuses_a_game_it_cannot_load() -> None:
    status, output = await (await Proc.start("serve", "--port", "0", "--game", "nowhere.mod:Game")).finish()
    assert status == 2 and "cannot import 'nowhere.mod'" in output


async def test_version() -> None:
    status, output = await (await Proc.start("--version")).finish()
    assert status == 0 and re.fullmatch(r"netplay \d+\.\d+\.\d+", output.strip())


async def test_serve_imports_a_game_from_the_current_directory(tmp_path: Any) -> None:
    (tmp_path / "mygame.py").write_text(
        "from netplay.games.tictactoe import TicTacToe\n\nclass Mine(TicTacToe):\n    name = 'mine'\n"
    )
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-c", "import sys; from netplay.cli import main; sys.exit(main())",
        "serve", "--port", "0", "--game", "mygame:Mine",
        cwd=tmp_path, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
        env={**os.environ, "PYTHONUNBUFFERED": "1", "PYTHONSAFEPATH": "1"},
    )  # fmt: skip
    proc = Proc(process)
    line = await proc.expect(r"netplay play")
    assert "netplay play mine" in line.string  # the banner suggests the user's own game
    process.send_signal(signal.SIGTERM)
    assert (await proc.finish())[0] == 0


async def test_play_with_rules_that_cannot_load_is_an_error() -> None:
    proc = await Proc.start("play", "nim", "--rules", "nowhere:Nim", "--port", "1")
    status, output = await proc.finish()
    assert status == 2 and "--rules cannot import 'nowhere'" in output
