"""The threaded client: sends never block, poll() never blocks, and a game plays through it."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Awaitable, Callable

import pytest

from netplay.client import Client, NetplayError, ThreadedClient
from netplay.server import Server


async def in_thread(fn: Callable[[], object]) -> object:
    """Run blocking client code off the event loop that serves the test's server."""
    return await asyncio.to_thread(fn)


async def test_poll_returns_at_once_and_events_arrive(server: Server) -> None:
    net = ThreadedClient("127.0.0.1", server.port, name="Loop")
    await in_thread(net.connect)
    try:
        started = time.perf_counter()
        assert net.poll() == []
        assert time.perf_counter() - started < 0.05  # no waiting on an empty queue
        net.quick_match("tictactoe")
        joined = await in_thread(lambda: net.wait("joined", timeout=5))
        assert isinstance(joined, dict) and joined["seat"] == 0 and net.room == joined["room"]["id"]
    finally:
        await in_thread(net.close)


async def test_a_threaded_client_plays_a_whole_game_against_an_asyncio_client(server: Server) -> None:
    net = ThreadedClient("127.0.0.1", server.port, name="Threads")
    await in_thread(net.connect)
    rival = await Client.connect("127.0.0.1", server.port, name="Async")
    try:
        net.quick_match("tictactoe")
        await in_thread(lambda: net.wait("joined"))
        await rival.quick_match("tictactoe")
        outcome: dict[str, object] = {}

        def game_loop() -> None:
            """What a pygame loop does: poll once per frame, act on states, never block."""
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline:
                for event in net.poll():
                    if event["type"] == "state":
                        if event["outcome"] is not None:
                            outcome.update(event["outcome"])
                            return
                        if event["turn"] == net.seat():
                            board = event["state"]["board"]
                            net.move(board.index(None))
                time.sleep(1 / 120)  # the frame's own pacing, as in any game loop

        loop_thread = asyncio.create_task(asyncio.to_thread(game_loop))
        while not loop_thread.done():
            try:
                state = await rival.wait_for("state", timeout=5)
            except TimeoutError:
                break
            if state["outcome"] is None and state["turn"] == rival.seat():
                board = state["state"]["board"]
                await rival.move(8 - board[::-1].index(None))  # the last free cell
        await loop_thread
        assert outcome.get("reason") == "rules"
    finally:
        await rival.close()
        await in_thread(net.close)


async def test_sends_from_several_threads_are_all_delivered(
    make_server: Callable[..., Awaitable[Server]],
) -> None:
    server = await make_server(rate_limit=0)  # 800 messages at once: about threads, not rate limits
    net = ThreadedClient("127.0.0.1", server.port)
    await in_thread(net.connect)
    listener = await Client.connect("127.0.0.1", server.port)
    try:
        room = (await listener.create_room(kind="relay"))["room"]["id"]
        net.join(room)
        await in_thread(lambda: net.wait("joined"))
        await listener.wait_for("member_joined")

        def sender(tag: int) -> None:
            for i in range(200):
                net.relay([tag, i], room=room)

        threads = [threading.Thread(target=sender, args=(t,)) for t in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        got = [(await listener.wait_for("relay"))["data"] for _ in range(800)]
        for tag in range(4):
            assert [i for t, i in got if t == tag] == list(range(200))  # per-thread order kept
    finally:
        await listener.close()
        await in_thread(net.close)


async def test_the_end_of_the_connection_is_an_event(make_server: Callable[..., Awaitable[Server]]) -> None:
    server = await make_server()
    net = ThreadedClient("127.0.0.1", server.port, reconnect=False)
    await in_thread(net.connect)
    await server.stop("bye now")
    closed = await in_thread(lambda: net.wait("closed", timeout=5))
    assert isinstance(closed, dict) and closed["code"] == "server_shutdown"
    assert not net.connected
    await in_thread(net.close)


def test_connect_refused_is_an_os_error() -> None:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    net = ThreadedClient("127.0.0.1", port)
    with pytest.raises(ConnectionRefusedError):
        net.connect(timeout=2)
    net.close()


def test_using_it_before_connect_is_a_clear_error() -> None:
    net = ThreadedClient("127.0.0.1", 1)
    with pytest.raises(NetplayError) as err:
        net.move(4)
    assert err.value.code == "not_connected"


async def test_clock_draw_offers_resign_and_moves_against_a_version(server: Server) -> None:
    net = ThreadedClient("127.0.0.1", server.port, name="Threads")
    await in_thread(net.connect)
    rival = await Client.connect("127.0.0.1", server.port, name="Async")
    try:
        net.create_room("tictactoe", clock="5m+3")
        joined = await in_thread(lambda: net.wait("joined"))
        assert isinstance(joined, dict) and joined["room"]["clock"] == "300+3"
        room = joined["room"]["id"]
        net.quick_match("tictactoe", clock="300+3")  # a second room of the same clock: Async joins that
        other = await in_thread(lambda: net.wait("joined"))
        assert isinstance(other, dict) and other["room"]["id"] != room and other["room"]["clock"] == "300+3"
        await rival.join(room)
        state = await in_thread(lambda: net.wait("state", room=room))
        assert isinstance(state, dict) and state["clock"]["running"] == [0]
        net.offer_draw(room)
        assert (await rival.wait_for("draw_offered", room=room))["seat"] == 0
        net.decline_draw(room)  # withdraws its own offer
        assert (await rival.wait_for("draw_declined", room=room))["seat"] == 0
        net.move(4, room=room, version=state["version"] - 1)  # an old version: refused, said through poll
        stale = await in_thread(lambda: net.wait("error"))
        assert isinstance(stale, dict) and stale["code"] == "stale_version"
        net.move(4, room=room, version=state["version"])
        await rival.wait_for("state", room=room, last={"seat": 0, "move": 4})
        net.resign(room)
        over = await rival.wait_for("state", room=room, status="finished")
        assert over["outcome"]["reason"] == "resign" and over["outcome"]["winner"] == 1
        net.resign(room)  # too late: the refusal arrives as an event
        late = await in_thread(lambda: net.wait("error"))
        assert isinstance(late, dict) and late["code"] == "game_over"
    finally:
        await rival.close()
        await in_thread(net.close)
