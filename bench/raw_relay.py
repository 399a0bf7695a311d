"""The ceiling: a minimal newline-framed relay on uvloop that netplay's relay rooms are measured against.

A client's first line is ``JOIN <room>`` (answered ``OK``); every later line it sends is written, unparsed,
to each other member of the room: one ``transport.write`` per recipient per ``data_received``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import resource
import signal
import sys

_MAX_LINE = 64 * 1024


def raise_nofile_limit() -> int:
    """Raise the soft open-files limit to the hard limit; return the new soft limit."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != hard:
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


class RelayClient(asyncio.Protocol):
    """One connection: waits for its JOIN line, then forwards whole lines to the other room members."""

    __slots__ = ("_buf", "_rooms", "members", "transport")

    def __init__(self, rooms: dict[bytes, list[RelayClient]]) -> None:
        self._rooms = rooms
        self._buf = b""
        self.members: list[RelayClient] | None = None
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        if self._buf:
            data = self._buf + data
            self._buf = b""
        if self.members is None:
            end = data.find(b"\n")
            if end < 0:
                self._hold(data)
                return
            name = data[:end].removeprefix(b"JOIN ").strip()
            self.members = self._rooms.setdefault(name, [])
            self.members.append(self)
            assert self.transport is not None
            self.transport.write(b"OK\n")
            data = data[end + 1 :]
            if not data:
                return
        last = data.rfind(b"\n")
        if last < 0:
            self._hold(data)
            return
        if last + 1 < len(data):
            self._buf = data[last + 1 :]
            data = data[: last + 1]
        for member in self.members:
            if member is not self and member.transport is not None:
                member.transport.write(data)

    def _hold(self, data: bytes) -> None:
        if len(data) > _MAX_LINE:
            assert self.transport is not None
            self.transport.abort()
            return
        self._buf = data

    def connection_lost(self, exc: Exception | None) -> None:
        if self.members is not None:
            self.members.remove(self)
            if not self.members:
                for name, members in list(self._rooms.items()):
                    if members is self.members:
                        del self._rooms[name]
        self.transport = None


async def serve(host: str, port: int) -> None:
    """Listen until SIGINT or SIGTERM."""
    loop = asyncio.get_running_loop()
    rooms: dict[bytes, list[RelayClient]] = {}
    server = await loop.create_server(
        lambda: RelayClient(rooms), host, port, backlog=4096, reuse_address=True
    )
    stop = asyncio.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    bound = server.sockets[0].getsockname()[1]
    print(f"raw relay listening on {host}:{bound} (uvloop)", flush=True)
    await stop.wait()
    server.close()
    for members in list(rooms.values()):
        for member in list(members):
            if member.transport is not None:
                member.transport.abort()
    await server.wait_closed()


def main(argv: list[str] | None = None) -> int:
    """Command line: ``python bench/raw_relay.py --port P``."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=7778)
    args = parser.parse_args(argv)
    raise_nofile_limit()
    import uvloop

    uvloop.run(serve(args.host, args.port))
    return 0


if __name__ == "__main__":
    sys.exit(main())
