"""Fixtures of the cluster tests: real ``redis-server`` processes on free ports, and nodes on them."""

from __future__ import annotations

import contextlib
import select
import shutil
import socket
import subprocess
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from netplay.server import Server, ServerConfig

if shutil.which("redis-server") is None:  # .ci/run installs it; a developer's machine may lack it
    pytest.skip("redis-server is not installed (apt-get install redis-server)", allow_module_level=True)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class RedisProcess:
    """A redis-server of this test: its URL, and the process, to kill for fault tests."""

    port: int
    process: subprocess.Popen[bytes]
    folder: Path

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def kill(self) -> None:
        self.process.kill()
        self.process.wait(10)


def start_redis(folder: Path, port: int | None = None, *, aof: bool = False) -> RedisProcess:
    """Start redis-server on a free port and return once it accepts connections."""
    port = port or free_port()
    folder.mkdir(parents=True, exist_ok=True)
    command = ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--dir", str(folder)]
    command += ["--appendonly", "yes" if aof else "no", "--maxmemory-policy", "noeviction"]
    if aof:  # every write on disk before Redis answers it: a kill -9 of Redis loses no move
        command += ["--appendfsync", "always"]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    assert process.stdout is not None
    deadline = time.monotonic() + 10
    seen = b""
    while b"Ready to accept connections" not in seen:
        left = deadline - time.monotonic()
        if left <= 0 or process.poll() is not None:
            process.kill()
            raise RuntimeError(f"redis-server did not start: {seen.decode(errors='replace')[-500:]}")
        ready, _, _ = select.select([process.stdout], [], [], left)
        if ready:
            seen += process.stdout.read1(4096)  # type: ignore[attr-defined]
    return RedisProcess(port, process, folder)


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[RedisProcess]:
    """A fresh redis-server for one test, killed afterwards."""
    server = start_redis(tmp_path / "redis")
    yield server
    with contextlib.suppress(Exception):
        server.kill()


MakeNode = Callable[..., Awaitable[Server]]


@pytest.fixture
async def make_node(redis_server: RedisProcess) -> AsyncIterator[MakeNode]:
    """Start netplay nodes (in-process servers on free ports) of one cluster on ``redis_server``."""
    nodes: list[Server] = []

    async def start(**settings: Any) -> Server:
        settings.setdefault("port", 0)
        settings.setdefault("bot_delay", 0.0)
        settings.setdefault("redis", redis_server.url)
        settings.setdefault("node_name", f"node{len(nodes) + 1}")
        server = Server(ServerConfig(**settings))
        await server.start()
        nodes.append(server)
        return server

    yield start
    for node in nodes:
        await node.stop(grace=1.0)
