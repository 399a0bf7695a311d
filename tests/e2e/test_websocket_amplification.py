"""A WebSocket client that asks for replies it never reads (issue 9, item 1, over WebSocket).

The TCP attack of ``test_reply_amplification``, by a WebSocket client: the handshake and nothing
else by the book (the ``websockets`` library's Sans-I/O client), then hello and hundreds of
``list_rooms`` in one write, on a blocking socket in a thread of its own that never reads. The
server must hold the requests unread while the replies it built are not read (as on TCP), so its
memory stays flat, two honest players meanwhile notice nothing, and the attacker is not cut off:
nothing it asked for is dropped.

Measured here (a 2-core box; the players' p99 medians over five rounds, and the largest RSS
growth): with read backpressure 0.4 to 1.4 ms under attack (0.2 ms without one) and at most
0.6 MiB, never cut off. Without it, on loopback, 0.2 to 1.2 ms and up to 7 MiB, inside the
issue's bounds too: the kernel's socket buffer (about 4 MiB here) took most of the replies and
the rest passed max_send_buffer, so the server built every reply it could at once and then cut
the attacker off, every round. That cut-off is what fails without the fix; over a real network,
where the kernel holds far less, it comes after 1 MiB and a turn's worth of replies built at once.
"""

from __future__ import annotations

import asyncio
import json
import logging
import socket
from collections.abc import Awaitable, Callable

import pytest
from websockets.client import ClientProtocol
from websockets.frames import Frame, Opcode
from websockets.http11 import Response
from websockets.protocol import State
from websockets.uri import parse_uri

from netplay.server import Server

from .test_reply_amplification import REQUESTS, Rounds, fill_the_lobby
from .test_websocket_flood import MiB

MakeServer = Callable[..., Awaitable[Server]]

#: The issue's bound on the server's RSS growth during an attack.
RSS_BOUND = 50 * MiB


def text_frame(message: object) -> bytes:
    """One masked text frame, as a client sends it."""
    return Frame(Opcode.TEXT, json.dumps(message).encode()).serialize(mask=True, extensions=[])


#: Hello, then the requests, in one write (framed here, once: the attacker's thread must only do
#: socket calls, which release the GIL, or it would slow the server down itself).
BURST = text_frame({"type": "hello", "protocol": 1, "name": "hoarder"}) + b"".join(
    text_frame({"type": "list_rooms", "id": n}) for n in range(REQUESTS)
)


def attack(port: int, done: asyncio.Event, loop: asyncio.AbstractEventLoop) -> int:
    """Handshake, then hello and ``REQUESTS`` list_rooms in one write, then never read until
    ``done``; returns how many bytes of replies were waiting in the socket when it finally read."""
    ws = ClientProtocol(parse_uri(f"ws://127.0.0.1:{port}/ws"))
    ws.send_request(ws.connect())
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        sock.sendall(b"".join(ws.data_to_send()))
        while ws.state is State.CONNECTING:
            ws.receive_data(sock.recv(4096))
        response = ws.events_received()[0]
        assert isinstance(response, Response) and response.status_code == 101, response
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)  # read nothing, hold little
        sock.sendall(BURST)
        asyncio.run_coroutine_threadsafe(done.wait(), loop).result(timeout=60)
        sock.setblocking(False)
        waiting = 0
        try:
            while chunk := sock.recv(1 << 20):
                waiting += len(chunk)
        except (BlockingIOError, ConnectionError):
            pass
        return waiting


@pytest.mark.parametrize(
    "limits",
    [{}, {"rate_limit": 0}],
    ids=["default-limits", "no-rate-limit"],
)
async def test_replies_a_websocket_never_reads_are_not_built_and_other_players_do_not_notice(
    make_server: MakeServer, limits: dict[str, float], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="netplay")
    # Default limits: 1 MiB send buffer, a burst of 400. Without a rate limit every request is
    # answered, not refused: then only read backpressure keeps the replies from piling up.
    server = await make_server(**limits)
    owners = await fill_the_lobby(server.port)  # 320 rooms: 7 pages of the lobby
    cut: list[int] = []

    def count_cut_offs() -> None:
        # Cut off or not: the server's log says (the kernel still holds the replies and the end of
        # the stream behind them, which the attacker never gets to, so it cannot tell).
        cut.append(sum(r.getMessage().startswith("disconnecting") for r in caplog.records))
        caplog.clear()

    rounds = await Rounds.run(server.port, attack, count_cut_offs)
    # Its requests were held, not answered at once: it was not cut off as a client whose unread
    # replies passed max_send_buffer is, and it got replies to read, never all of them at once.
    assert not any(cut), f"cut off: {cut} 'disconnecting' lines in the log, round by round"
    assert all(0 < w < REQUESTS * 12_000 for w in rounds.results), rounds.results
    rounds.assert_players_did_not_notice(RSS_BOUND)
    for owner in owners:
        await owner.close()
