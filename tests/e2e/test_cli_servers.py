"""``netplay play --server HOST:PORT``, repeatable (issue 12, item 7): the addresses are tried in
order, a dropped link moves on to the next, and a kept session is found again by the same set.

Real ``netplay play`` subprocesses against the real ``netplay serve``. A zero-latency proxy in the
test is a second address of the same server process, as another node of a cluster would be.
"""

from __future__ import annotations

import json
import re
import signal
import socket
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from netplay.client import Client
from netplay.client.state_file import SessionStore
from netplay.proxy import LagProxy, Link

from .test_cli import Proc
from .test_terminal_resume import start


def dead_port() -> int:
    """A loopback port nothing listens on (bound, read, closed)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
async def served() -> AsyncIterator[tuple[Proc, int]]:
    """``netplay serve --port 0``: the real command, on a free port read from its banner."""
    proc = await Proc.start("serve", "--port", "0", "--bot-delay", "0")
    match = await proc.expect(r"on 127\.0\.0\.1:(\d+)")
    yield proc, int(match.group(1))
    if proc.process.returncode is None:
        proc.process.send_signal(signal.SIGTERM)
        await proc.finish()


async def test_a_dead_address_first_and_the_games_are_played(served: tuple[Proc, int]) -> None:
    _, port = served
    dead = dead_port()
    base = ["play", "tictactoe", "--bot", "minimax", "--games", "2", "--json"]
    several = ["--server", f"127.0.0.1:{dead}", "--server", f"127.0.0.1:{port}"]
    ann = await Proc.start(*base, *several, "--name", "Ann", "--seed", "1")
    await ann.expect("Waiting for an opponent")
    bob = await Proc.start(*base, "--port", str(port), "--name", "Bob", "--seed", "2")
    for proc in (ann, bob):
        status, output = await proc.finish()
        assert status == 0, output
        assert json.loads(output.splitlines()[-1]) == {"games": 2, "won": 0, "lost": 0, "drawn": 2}
        assert "Traceback" not in output


@pytest.mark.parametrize(
    "address",
    [
        ["--server", "127.0.0.1:7777", "--port", "7778"],
        ["--host", "127.0.0.1", "--server", "127.0.0.1:7777"],
    ],
)
async def test_server_with_host_or_port_is_refused(address: list[str]) -> None:
    proc = await Proc.start("play", "tictactoe", *address)
    status, output = await proc.finish()
    assert status == 2
    assert "netplay play: error: --server cannot be combined with --host or --port" in output
    assert "Traceback" not in output


@pytest.mark.parametrize(
    ("value", "says"),
    [
        ("localhost", "'localhost': missing port"),
        ("localhost:99999", "'localhost:99999': port must be 1-65535"),
    ],
)
async def test_a_bad_server_address_is_refused(value: str, says: str) -> None:
    proc = await Proc.start("play", "tictactoe", "--server", value)
    status, output = await proc.finish()
    assert status == 2 and f"argument --server: {says}" in output and "Traceback" not in output


async def test_no_address_answering_names_them_all() -> None:
    first, second = dead_port(), dead_port()
    proc = await Proc.start(
        "play", "tictactoe", "--server", f"127.0.0.1:{first}", "--server", f"127.0.0.1:{second}"
    )
    status, output = await proc.finish()
    assert status == 1, output
    assert (
        f"error: cannot reach a netplay server at any of: 127.0.0.1:{first} (connection refused); "
        f"127.0.0.1:{second} (connection refused)"
    ) in output
    assert "Traceback" not in output


async def test_a_lost_address_reconnects_through_the_next(served: tuple[Proc, int]) -> None:
    _, port = served
    proxy = LagProxy(("127.0.0.1", port), Link())
    await proxy.start()
    bob = await Client.connect("127.0.0.1", port, name="Bob")
    try:
        ann = await Proc.start(
            "play",
            "tictactoe",
            "--name",
            "Ann",
            "--server",
            f"127.0.0.1:{proxy.port}",
            "--server",
            f"127.0.0.1:{port}",
            stdin=True,
        )
        await ann.expect("Waiting for an opponent")
        room = (await bob.quick_match("tictactoe"))["room"]["id"]
        await ann.expect(r"Your move \(X")
        await proxy.stop()  # the address Ann plays through goes away
        await ann.expect(r"Connection lost .*; reconnecting")
        await ann.expect(rf"Reconnected \(to 127\.0\.0\.1:{port}\)\.")
        await bob.wait_for("member_reconnected", room=room)
        await ann.expect(r"Your move \(X")
        ann.type("5")
        state = await bob.wait_for("state", room=room, last={"seat": 0, "move": 4})
        assert state["state"]["board"][4] == "X"
        await bob.close()
        await ann.expect("You win: your opponent left")
        status, output = await ann.finish()
        assert status == 0 and "Traceback" not in output
    finally:
        await bob.close()
        await proxy.stop()


async def test_a_killed_player_resumes_with_the_same_servers_in_another_order(
    served: tuple[Proc, int], tmp_path: Path
) -> None:
    _, port = served
    state_home = tmp_path / "state"
    dead, live = f"127.0.0.1:{dead_port()}", f"127.0.0.1:{port}"
    bob = await Client.connect("127.0.0.1", port, name="Bob")
    try:
        ann = await start(
            state_home, "play", "tictactoe", "--name", "Ann", "--server", dead, "--server", live
        )
        room = (await ann.expect(r"in room (r-[0-9a-f]+)")).group(1)
        await bob.quick_match("tictactoe")
        await ann.expect(r"Your move \(X")
        (kept,) = SessionStore(state_home / "netplay").files()
        assert json.loads(kept.read_text())["server"] == ",".join(sorted([dead, live]))
        ann.process.kill()  # no bye: the seat waits out the server's grace
        await ann.finish()
        await bob.wait_for("member_disconnected", room=room)

        again = await start(
            state_home, "play", "tictactoe", "--name", "Ann", "--server", live, "--server", dead
        )
        await again.expect(rf"You are Ann, back in room {re.escape(room)} \(tictactoe\) as player")
        await bob.wait_for("member_reconnected", room=room)
        await bob.close()
        await again.expect("You win: your opponent left")
        status, output = await again.finish()
        assert status == 0 and "Traceback" not in output
    finally:
        await bob.close()
