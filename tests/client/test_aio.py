"""The asyncio client: handshake, requests and replies, events, errors, closing."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import pytest

from netplay.client import Client, ConnectionClosed, NetplayError
from netplay.server import Server

Connect = Callable[..., Awaitable[Client]]


async def test_welcome_gives_an_id_and_the_name(connect: Connect) -> None:
    client = await connect("Ann")
    assert client.id.startswith("p-") and client.name == "Ann"
    assert client.welcome["protocol"] == 1 and client.welcome["heartbeat"] > 0


async def test_async_for_yields_events_until_the_server_goes(
    make_server: Callable[..., Awaitable[Server]],
) -> None:
    server = await make_server()
    a = await Client.connect("127.0.0.1", server.port, reconnect=False)
    b = await Client.connect("127.0.0.1", server.port, reconnect=False)
    await a.quick_match("tictactoe")
    await b.quick_match("tictactoe")
    seen = []
    async for event in a:
        seen.append(event["type"])
        if event["type"] == "state":
            await server.stop()
    assert seen[-1] == "error" and "state" in seen  # the shutdown notice, then the loop ends
    with pytest.raises(ConnectionClosed) as closed:
        await a.next_event()
    assert closed.value.code == "server_shutdown"
    with pytest.raises(ConnectionClosed):
        await a.list_rooms()
    await a.close()
    await b.close()


async def test_refusals_raise_with_the_code(connect: Connect) -> None:
    client = await connect()
    with pytest.raises(NetplayError) as err:
        await client.join("r-nothere")
    assert err.value.code == "no_such_room" and err.value.reply["type"] == "error"
    with pytest.raises(NetplayError) as no_room:
        await client.move(4)
    assert no_room.value.code == "not_in_room"


async def test_move_errors_come_back_as_events(connect: Connect) -> None:
    a, b = await connect(), await connect()
    await a.quick_match("tictactoe")
    await b.quick_match("tictactoe")
    await b.wait_for("state")
    await b.move(4)  # seat 1 moves first: refused
    error = await b.wait_for("error")
    assert error["code"] == "not_your_turn"


async def test_a_server_that_is_not_there(unused_tcp_port: int) -> None:
    with pytest.raises(ConnectionRefusedError):
        await Client.connect("127.0.0.1", unused_tcp_port, timeout=2)


async def test_clocks_draw_offers_and_resigning(connect: Connect) -> None:
    a, b, watcher = await connect("Ann"), await connect("Bob"), await connect("Eve")
    joined = await a.create_room("connect4", clock="30/move")
    room = joined["room"]["id"]
    assert joined["room"]["clock"] == "30/move"
    assert (await b.quick_match("connect4", clock="30/move"))["room"]["id"] == room
    await watcher.join(room, spectate=True)
    state = await watcher.wait_for("state", room=room)
    clock = state["clock"]  # seat 0's move has been running since the game began: a little is gone
    assert (clock["control"], clock["running"], clock["remaining"][1]) == ("30/move", [0], 30.0)
    assert 25.0 < clock["remaining"][0] <= 30.0
    assert state["active"] == [0] and state["draw_offers"] == [] and state["phase"] is None
    assert (await b.offer_draw(room))["type"] == "ok"
    assert (await a.wait_for("draw_offered", room=room))["offers"] == [1]
    assert (await a.decline_draw(room))["type"] == "ok"
    with pytest.raises(NetplayError) as spectator:
        await watcher.resign(room)
    assert spectator.value.code == "not_a_player"
    assert (await b.resign())["type"] == "ok"  # the room defaults to the one last joined
    over = await a.wait_for("state", room=room, status="finished")
    assert over["outcome"]["reason"] == "resign" and over["outcome"]["winner"] == 0
    with pytest.raises(NetplayError) as bad:
        await a.create_room("connect4", clock="soon")
    assert bad.value.code == "invalid_message" and "30/move" in bad.value.message
