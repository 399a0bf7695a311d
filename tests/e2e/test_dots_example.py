"""examples/dots: two headless instances (SDL's dummy video driver); a move in one shows in the other.

A text client on the server's 15-112 port shares the room and sees the same moves as lines.
"""

from __future__ import annotations

import asyncio
import os
import re
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest

from netplay.server import Server

from .test_text_protocol import TextClient

pytest.importorskip("pygame")
pytestmark = pytest.mark.timeout(90)

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "dots" / "dots.py"
OTHERS = (210, 60, 50)  # the colour dots.py draws other players' dots in


class Dots:
    """One running instance of the example, read line by line."""

    def __init__(self, process: asyncio.subprocess.Process, log: Path) -> None:
        self.process = process
        self.log = log

    @classmethod
    async def start(cls, port: int, log: Path, *args: str) -> Dots:
        env = {**os.environ, "SDL_VIDEODRIVER": "dummy", "SDL_AUDIODRIVER": "dummy"}
        with log.open("wb") as errors:
            process = await asyncio.create_subprocess_exec(
                sys.executable,
                str(EXAMPLE),
                "--port",
                str(port),
                "--trace",
                "--seconds",
                "60",
                *args,
                stdout=asyncio.subprocess.PIPE,
                stderr=errors,
                env=env,
            )
        return cls(process, log)

    async def wait_line(self, pattern: str, timeout: float = 30.0) -> re.Match[str]:
        """Skip output until a line matching ``pattern``; fail (showing stderr) if it never comes."""
        assert self.process.stdout is not None
        try:
            async with asyncio.timeout(timeout):
                while True:
                    line = (await self.process.stdout.readline()).decode()
                    if not line:
                        raise EOFError("the example exited")
                    match = re.fullmatch(pattern, line.rstrip("\n"))
                    if match:
                        return match
        except (TimeoutError, EOFError) as exc:
            pytest.fail(f"no line matching {pattern!r} ({exc!r}); stderr:\n{self.log.read_text()}")

    async def stop(self) -> None:
        if self.process.returncode is None:
            self.process.terminate()
        async with asyncio.timeout(10):
            await self.process.wait()


async def test_a_move_in_one_window_shows_up_in_the_other(
    make_server: Callable[..., Awaitable[Server]], tmp_path: Path
) -> None:
    server = await make_server(text_port=0)
    assert server.text_port is not None
    text = await TextClient.open(server.text_port)
    await text.greet()  # opens the 15-112 room the two windows quick-match into
    instances: list[Dots] = []
    try:
        b = await Dots.start(server.port, tmp_path / "b.log", "--start", "100,100")
        instances.append(b)
        b_id = (await b.wait_line(r"me (\S+) room \S+")).group(1)
        await text.expect(f"newPlayer {b_id}\n".encode(), f"playerTeleported {b_id} 100 100\n".encode())

        a = await Dots.start(
            server.port, tmp_path / "a.log", "--start", "400,300", "--press", "right,right,right,down"
        )
        instances.append(a)
        a_id = (await a.wait_line(r"me (\S+) room \S+")).group(1)

        # B draws A's dot where A's keys took it: three steps right, one down, in the others' colour.
        seen = await b.wait_line(rf"dot {re.escape(a_id)} 430 310 (\d+) (\d+) (\d+)")
        assert tuple(int(c) for c in seen.groups()) == OTHERS

        # The text client got A's moves as 15-112 lines, in order.
        from_a = []
        while len(from_a) < 5:
            line = await text.line(timeout=30)
            if line.split(b" ")[1:2] == [a_id.encode()]:
                from_a.append(line)
        assert from_a == [
            f"playerTeleported {a_id} 400 300\n".encode(),
            *[f"playerMoved {a_id} 10 0\n".encode()] * 3,
            f"playerMoved {a_id} 0 10\n".encode(),
        ]
    finally:
        for instance in instances:
            await instance.stop()
        await text.close()
