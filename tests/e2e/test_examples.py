"""End-to-end tests of examples/ and of the commands the docs show, on 127.0.0.1 with free ports.

Servers run in-process (``Server(ServerConfig(port=0))`` in the test's event loop) or as a
``netplay serve --port 0`` subprocess whose "serving" line gives the port. Nothing sleeps: every wait
is on a process's output or a protocol event, under a timeout, and every process is killed at the end.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import random
import re
import shutil
import signal
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from netplay.client import Client
from netplay.games import Rng, TicTacToe
from netplay.server import Server, ServerConfig

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "examples"
DOCS = REPO / "docs"
RESULT = re.compile(r"^result: (win|loss|draw)\b", re.MULTILINE)

if str(REPO) not in sys.path:  # so that ``examples.nim`` imports here as it does for the server
    sys.path.insert(0, str(REPO))
from examples.nim import Nim, perfect_bot  # noqa: E402
from examples.tag import Tag, chase  # noqa: E402


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO), env.get("PYTHONPATH")) if p)
    env["PYTHONUNBUFFERED"] = "1"
    env["SDL_VIDEODRIVER"] = "dummy"  # pygame without a display
    env["SDL_AUDIODRIVER"] = "dummy"
    return env


def _netplay() -> list[str]:
    """The ``netplay`` console script of this interpreter (what the docs tell users to run)."""
    found = shutil.which("netplay", path=str(Path(sys.executable).parent)) or shutil.which("netplay")
    return [found] if found else [sys.executable, "-m", "netplay"]


@contextlib.asynccontextmanager
async def spawn(
    *cmd: str, stderr: Any = asyncio.subprocess.PIPE
) -> AsyncIterator[asyncio.subprocess.Process]:
    """Start a process in the repository root; kill it on the way out if it is still running."""
    proc = await asyncio.create_subprocess_exec(
        *cmd, cwd=REPO, env=_env(), stdout=asyncio.subprocess.PIPE, stderr=stderr
    )
    try:
        yield proc
    finally:
        if proc.returncode is None:
            proc.kill()
        await proc.wait()


async def finish(proc: asyncio.subprocess.Process, timeout: float = 60) -> tuple[int, str]:
    """Wait for a process to exit on its own; return its status and its output (stderr appended)."""
    async with asyncio.timeout(timeout):
        out, err = await proc.communicate()
    text = out.decode()
    if err:
        text += "\n--- stderr ---\n" + err.decode()
    assert proc.returncode is not None
    return proc.returncode, text


async def read_until(proc: asyncio.subprocess.Process, needle: str, timeout: float = 30) -> str:
    """Read stdout lines until one contains ``needle``; return that line."""
    assert proc.stdout is not None
    async with asyncio.timeout(timeout):
        while True:
            line = (await proc.stdout.readline()).decode()
            if not line:
                raise AssertionError(f"the process ended before printing {needle!r}")
            if needle in line:
                return line


@pytest.fixture
async def server() -> AsyncIterator[Server]:
    async with Server(ServerConfig(port=0, bot_delay=0)) as srv:
        yield srv


async def play_minimax(client: Client) -> dict[str, Any]:
    """Play the client's tic-tac-toe game with the perfect bot; return the final outcome."""
    rules, rng = TicTacToe(), random.Random(0)
    while True:
        event = await client.wait_for("state", timeout=30)
        if event["outcome"] is not None:
            return dict(event["outcome"])
        seat = client.seat()
        if event["turn"] == seat:
            await client.move(rules.bots["minimax"](rules, event["state"], seat, rng))


def verdict(outcome: dict[str, Any], seat: int | None) -> str:
    if outcome["draw"]:
        return "draw"
    return "win" if outcome["winner"] == seat else "loss"


# -- examples/async_bot.py ------------------------------------------------------------------------


async def test_async_bot_plays_a_whole_game(server: Server) -> None:
    async with await Client.connect("127.0.0.1", server.port, name="perfect") as ann:
        await ann.quick_match("tictactoe")  # the open room the example's quick_match will find
        async with spawn(
            sys.executable, str(EXAMPLES / "async_bot.py"), "--port", str(server.port), "--seed", "7"
        ) as proc:
            outcome = await play_minimax(ann)
            status, output = await finish(proc)
        mine = verdict(outcome, ann.seat())
    assert status == 0, output
    found = RESULT.search(output)
    assert found, output
    assert found.group(1) == {"win": "loss", "loss": "win", "draw": "draw"}[mine], output
    assert found.group(1) != "win", "random moves never beat minimax"


async def test_two_async_bots_agree_on_the_result(server: Server) -> None:
    cmd = [sys.executable, str(EXAMPLES / "async_bot.py"), "--port", str(server.port)]
    async with (
        spawn(*cmd, "--name", "one", "--seed", "1") as one,
        spawn(*cmd, "--name", "two", "--seed", "2") as two,
    ):
        (status1, out1), (status2, out2) = await asyncio.gather(finish(one), finish(two))
    assert status1 == status2 == 0, out1 + out2
    results = {RESULT.search(out1).group(1), RESULT.search(out2).group(1)}  # type: ignore[union-attr]
    assert results in ({"win", "loss"}, {"draw"}), out1 + out2


# -- examples/raw_client.py -----------------------------------------------------------------------


async def test_raw_socket_client_plays_a_whole_game(server: Server) -> None:
    async with await Client.connect("127.0.0.1", server.port) as ann:
        await ann.quick_match("tictactoe")
        async with spawn(
            sys.executable, str(EXAMPLES / "raw_client.py"), "127.0.0.1", str(server.port)
        ) as proc:
            outcome = await play_minimax(ann)
            status, output = await finish(proc)
    assert status == 0, output
    assert f"result: {{'winner': {outcome['winner']}, 'draw': {outcome['draw']}" in output, output


def test_protocol_doc_shows_the_raw_client_verbatim() -> None:
    assert (EXAMPLES / "raw_client.py").read_text() in (DOCS / "protocol.md").read_text()


# -- examples/threaded_loop.py --------------------------------------------------------------------


@pytest.mark.parametrize("bot", ["minimax", "random"])
async def test_threaded_loop_runs_headless_to_the_end(server: Server, bot: str) -> None:
    pytest.importorskip("pygame")
    async with spawn(
        sys.executable,
        str(EXAMPLES / "threaded_loop.py"),
        "--port",
        str(server.port),
        "--auto",
        "--bot",
        bot,
        "--seed",
        "3",
        "--linger",
        "0",
        "--frames-max",
        "3000",
    ) as proc:
        status, output = await finish(proc)
    assert status == 0, output
    lines = [line for line in output.splitlines() if line.startswith("result: ")]
    assert len(lines) == 1 and RESULT.match(lines[0]), output
    if bot == "minimax":
        assert lines[0] != "result: win", "random moves never beat minimax"


# -- examples/nim.py ------------------------------------------------------------------------------


def test_nim_rules_with_plain_calls() -> None:
    """The unit tests docs/games.md shows: the rules are plain functions, no server needed."""
    nim = Nim()
    state = nim.setup({"pile": 5}, Rng(0))
    assert state == {"pile": 5, "last": None}
    assert nim.validate(state, 0, 2) is None
    assert nim.validate(state, 0, 4) == "take 1, 2 or 3 stones"
    assert nim.validate(state, 0, True) == "take 1, 2 or 3 stones"
    assert nim.validate({"pile": 1, "last": 1}, 0, 2) == "only 1 stones are left"
    after = nim.apply(state, 0, 2)
    assert after == {"pile": 3, "last": 0} and state == {"pile": 5, "last": None}
    assert nim.outcome(after) is None
    final = nim.apply(after, 1, 3)
    outcome = nim.outcome(final)
    assert outcome is not None and outcome.winner == 1
    assert nim.setup({}, Rng(42)) == nim.setup({}, Rng(42))  # the server's rng makes setup repeatable
    assert 10 <= nim.setup({}, Rng(7))["pile"] <= 20
    assert perfect_bot(nim, {"pile": 7, "last": None}, 0, random.Random(0)) == 3
    json.dumps(final)  # states must be JSON


def test_games_doc_shows_nim_verbatim() -> None:
    assert (EXAMPLES / "nim.py").read_text() in (DOCS / "games.md").read_text()


async def test_nim_served_by_the_cli_and_played_by_two_terminal_bots(tmp_path: Path) -> None:
    log = (tmp_path / "serve.log").open("w")
    serve = [*_netplay(), "serve", "--game", "examples.nim:Nim", "--port", "0", "--bot-delay", "0"]
    async with spawn(*serve, stderr=log) as server:
        line = await read_until(server, "serving")
        assert "nim" in line, line
        port = re.search(r" on [^ ]+:(\d+) ", line).group(1)  # type: ignore[union-attr]
        play = [*_netplay(), "play", "nim", "--port", port, "--rules", "examples.nim:Nim", "--games", "3"]
        async with (
            spawn(*play, "--bot", "perfect", "--seed", "1", "--json") as one,
            spawn(*play, "--bot", "random", "--seed", "2", "--json") as two,
        ):
            (status1, out1), (status2, out2) = await asyncio.gather(finish(one), finish(two))
        assert status1 == status2 == 0, out1 + out2
        tally1 = json.loads(out1.strip().splitlines()[-1])
        tally2 = json.loads(out2.strip().splitlines()[-1])
        assert tally1["games"] == tally2["games"] == 3
        assert tally1["won"] == tally2["lost"] and tally1["lost"] == tally2["won"]
        assert tally1["drawn"] == tally2["drawn"] == 0
        assert tally1["won"] + tally1["lost"] == 3
        server.send_signal(signal.SIGTERM)  # a clean stop, as Ctrl-C would
        status, output = await finish(server, timeout=15)
    log.close()
    assert status == 0, output
    assert "netplay server stopped." in output


# -- examples/tag.py ------------------------------------------------------------------------------


def test_games_doc_shows_tag_verbatim_and_its_engine_run_prints_what_the_doc_says() -> None:
    """docs/games.md shows tag.py's game and a run of it through the tick engine, with its output."""
    doc = (DOCS / "games.md").read_text()
    source = (EXAMPLES / "tag.py").read_text()
    game_code = source[source.index("from typing import Any") :]
    assert game_code.strip() in doc
    from netplay.games import ticker

    game = Tag()
    match = ticker.start(game, id="t", number=1, seats=2, seed=1, options={}, at=0.0).match
    for n in range(1, 600):
        for seat in (0, 1):
            match = ticker.step(
                game, match, ticker.Input(seat, n, n + 1, chase(game, match.state, seat, None))
            ).match
        match = ticker.step(game, match, ticker.Advance(n / game.tick_rate)).match
        if match.outcome is not None:
            break
    assert f"# {match.tick} {match.outcome}" in doc
    assert match.outcome is not None and match.outcome.reason == "caught"


async def test_tag_served_by_the_cli_and_played_by_two_terminal_bots(tmp_path: Path) -> None:
    log = (tmp_path / "serve.log").open("w")
    serve = [*_netplay(), "serve", "--game", "examples.tag:Tag", "--port", "0", "--db", ":memory:"]
    async with spawn(*serve, stderr=log) as server:
        line = await read_until(server, "serving")
        port = re.search(r" on [^ ]+:(\d+) ", line).group(1)  # type: ignore[union-attr]
        assert "--bot chase" in await read_until(server, "Join from another terminal")
        play = [*_netplay(), "play", "tag", "--port", port, "--rules", "examples.tag:Tag", "--bot", "chase"]
        async with spawn(*play, "--private", "--json", "--name", "Ann") as host:
            code = re.search(r"share the code (\w+)", await read_until(host, "share the code")).group(1)  # type: ignore[union-attr]
            async with spawn(*play, "--code", code, "--json") as guest:
                (status1, out1), (status2, out2) = await asyncio.gather(finish(host), finish(guest))
        assert status1 == status2 == 0, out1 + out2
        tallies = [json.loads(out.strip().splitlines()[-1]) for out in (out1, out2)]
        assert sorted(t["won"] for t in tallies) == [0, 1] and all(t["games"] == 1 for t in tallies)
        assert "Ann (chaser) (you) won (caught)" in out1
        server.send_signal(signal.SIGTERM)
        status, output = await finish(server, timeout=15)
    log.close()
    assert status == 0, output
