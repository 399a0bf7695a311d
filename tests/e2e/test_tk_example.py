"""examples/tk_tictactoe.py in real tkinter windows on a virtual X display (Xvfb)."""

from __future__ import annotations

import asyncio
import os
import select
import shutil
import subprocess
import sys
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path

import pytest

from netplay.server import Server

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "tk_tictactoe.py"


@pytest.fixture
def display() -> Iterator[str]:
    """A fresh Xvfb server; it picks a free display number and tells us on a pipe."""
    if shutil.which("Xvfb") is None:
        if os.environ.get("CI"):
            pytest.fail("Xvfb is missing: .ci/run installs it (apt-get install xvfb)")
        pytest.skip("Xvfb is not installed (apt-get install xvfb)")
    read_fd, write_fd = os.pipe()
    xvfb = subprocess.Popen(
        ["Xvfb", "-displayfd", str(write_fd), "-screen", "0", "640x480x24", "-nolisten", "tcp"],
        pass_fds=(write_fd,),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    os.close(write_fd)
    try:
        ready, _, _ = select.select([read_fd], [], [], 10)  # Xvfb writes its number once it is up
        assert ready, "Xvfb did not start within 10 s"
        yield f":{os.read(read_fd, 16).decode().strip()}"
    finally:
        os.close(read_fd)
        xvfb.terminate()
        xvfb.wait(timeout=10)


async def run_example(port: int, screen: str, *args: str) -> tuple[int, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable, str(EXAMPLE), "--port", str(port), "--auto", *args,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
        env={**os.environ, "DISPLAY": screen},
    )  # fmt: skip
    async with asyncio.timeout(60):
        out, _ = await process.communicate()
    return process.returncode or 0, out.decode()


async def test_two_tk_windows_play_each_other(
    make_server: Callable[..., Awaitable[Server]], display: str
) -> None:
    server = await make_server()
    (status_a, out_a), (status_b, out_b) = await asyncio.gather(
        run_example(server.port, display, "--name", "A"),
        run_example(server.port, display, "--name", "B"),
    )
    assert status_a == 0 and status_b == 0, out_a + out_b
    results = {out_a.strip().splitlines()[-1], out_b.strip().splitlines()[-1]}
    assert results in ({"result: win", "result: loss"}, {"result: draw"})


async def test_a_tk_window_against_the_unbeatable_bot(
    make_server: Callable[..., Awaitable[Server]], display: str
) -> None:
    server = await make_server()
    status, out = await run_example(server.port, display, "--vs-bot", "minimax")
    assert status == 0, out
    assert out.strip().splitlines()[-1] in ("result: loss", "result: draw")  # minimax never loses
