"""Reconnection: a dropped player keeps its seat for the grace period and resumes with its token."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from netplay.client import Client
from netplay.server import Server

from ..conftest import RawPeer

MakeServer = Callable[..., Awaitable[Server]]


async def greet(port: int, name: str, token: str | None = None) -> tuple[RawPeer, dict[str, Any]]:
    peer = await RawPeer.open(port)
    hello: dict[str, Any] = {"type": "hello", "protocol": 1, "name": name, "id": 0}
    if token is not None:
        hello["token"] = token
    peer.send(hello)
    welcome = await peer.recv()
    assert welcome["type"] == "welcome", welcome
    return peer, welcome


async def game(port: int) -> tuple[RawPeer, dict[str, Any], RawPeer, dict[str, Any], str, dict[str, Any]]:
    a, wa = await greet(port, "Ann")
    b, wb = await greet(port, "Bob")
    a.send({"type": "quick_match", "game": "tictactoe", "id": 1})
    room = (await a.recv_type("joined"))["room"]["id"]
    b.send({"type": "quick_match", "game": "tictactoe", "id": 1})
    await b.recv_type("joined")
    state = await a.recv_type("state")
    await b.recv_type("state")
    return a, wa, b, wb, room, state


async def test_welcome_gives_an_unguessable_token(server: Server) -> None:
    _, first = await greet(server.port, "A")
    _, second = await greet(server.port, "B")
    assert first["resumed"] is False and first["rooms"] == []
    assert len(first["token"]) >= 22 and first["token"] != second["token"]  # 192 random bits
    assert first["reconnect_grace"] == 60.0


async def test_a_dropped_player_resumes_its_seat_and_sees_the_current_state(server: Server) -> None:
    a, _, b, wb, room, state = await game(server.port)
    a.send({"type": "move", "room": room, "move": 4, "version": state["version"]})
    await a.recv_type("state")
    await b.close()  # the link drops: no goodbye
    away = await a.recv_type("member_disconnected")
    assert away["member"]["name"] == "Bob" and away["member"]["seat"] == 1
    a.send({"type": "list_rooms", "id": 9})
    listed = next(r for r in (await a.recv_type("rooms"))["rooms"] if r["id"] == room)
    assert [p["connected"] for p in listed["players"]] == [True, False]

    b2, welcome = await greet(server.port, "ignored", token=wb["token"])
    assert welcome["resumed"] is True and welcome["player"] == wb["player"] and welcome["name"] == "Bob"
    assert welcome["rooms"] == [room] and welcome["token"] == wb["token"]
    joined = await b2.recv()
    assert joined["type"] == "joined" and joined["resumed"] is True and joined["seat"] == 1
    current = await b2.recv()
    assert current["type"] == "state" and current["state"]["board"][4] == "X" and current["turn"] == 1
    back = await a.recv_type("member_reconnected")
    assert back["member"]["name"] == "Bob"
    b2.send({"type": "move", "room": room, "move": 0, "version": current["version"]})
    assert (await a.recv_type("state"))["state"]["board"][0] == "O"


async def test_after_the_grace_period_the_game_is_forfeited(make_server: MakeServer) -> None:
    server = await make_server(reconnect_grace=0.3)
    a, _, b, wb, _, _ = await game(server.port)
    await b.close()
    await a.recv_type("member_disconnected")
    left = await a.recv_type("member_left", timeout=5)
    assert left["member"]["name"] == "Bob"
    final = await a.recv_type("state")
    assert final["outcome"] == {
        "winner": 0,
        "draw": False,
        "reason": "forfeit",
        "ranking": [[0], [1]],
        "places": [1, 2],
    }
    # Too late: the token no longer resumes anything.
    _, welcome = await greet(server.port, "Bob", token=wb["token"])
    assert welcome["resumed"] is False and welcome["player"] != wb["player"]


async def test_an_unknown_token_gets_a_fresh_session(server: Server) -> None:
    _, welcome = await greet(server.port, "Eve", token="x" * 32)
    assert welcome["resumed"] is False and welcome["token"] != "x" * 32


async def test_a_second_connection_with_the_token_takes_over(server: Server) -> None:
    a, _, b, wb, room, state = await game(server.port)
    b2, welcome = await greet(server.port, "Bob", token=wb["token"])  # b's link is still open
    assert welcome["resumed"] is True
    replaced = await b.recv_type("error")
    assert replaced["code"] == "session_replaced" and replaced["fatal"] is True
    assert await b.closed()
    await b2.recv_type("state")
    a.send({"type": "move", "room": room, "move": 4, "version": state["version"]})
    assert (await b2.recv_type("state"))["state"]["board"][4] == "X"
    # Bob was never away, so nobody is told he left or came back.
    presence = ("member_left", "member_disconnected", "member_reconnected")
    assert [m for m in await a.sync() if m["type"] in presence] == []


async def test_a_move_resent_after_a_reconnect_is_applied_once(server: Server) -> None:
    a, _, b, wb, room, state = await game(server.port)
    a.send({"type": "move", "room": room, "move": 4, "version": state["version"]})
    await a.recv_type("state")
    moved = await b.recv_type("state")
    b.send({"type": "move", "room": room, "move": 0, "version": moved["version"], "id": 1})
    await b.close()  # did the move arrive? b cannot know
    b2, _ = await greet(server.port, "Bob", token=wb["token"])
    current = await b2.recv_type("state")
    b2.send({"type": "move", "room": room, "move": 0, "version": moved["version"], "id": 2})
    if current["version"] == moved["version"]:  # it had not arrived: applied now, once
        assert (await b2.recv_type("state"))["state"]["board"][0] == "O"
    else:  # it had arrived: the resend is refused as stale
        assert (await b2.recv_type("error"))["code"] == "stale_version"
    states = [m for m in await a.sync() if m["type"] == "state"]
    assert len(states) == 1 and states[0]["state"]["board"].count("O") == 1  # applied exactly once


async def test_the_asyncio_client_reconnects_on_its_own(server: Server) -> None:
    a = await Client.connect("127.0.0.1", server.port, name="Ann")
    b = await Client.connect("127.0.0.1", server.port, name="Bob")
    await a.quick_match("tictactoe")
    await b.quick_match("tictactoe")
    state = await b.wait_for("state")
    assert b._writer is not None
    b._writer.transport.abort()  # the network drops under the client
    assert (await b.wait_for("disconnected"))["code"] == "connection_lost"
    assert (await b.wait_for("reconnected"))["resumed"] is True
    assert (await b.wait_for("state"))["version"] == state["version"]  # the current state again
    await a.move(4)
    assert (await b.wait_for("state", version=state["version"] + 1))["state"]["board"][4] == "X"
    await a.close()
    await b.close()


async def test_a_move_made_while_the_link_is_down_goes_out_after_the_reconnect(server: Server) -> None:
    a = await Client.connect("127.0.0.1", server.port, name="Ann")
    b = await Client.connect("127.0.0.1", server.port, name="Bob")
    await a.quick_match("tictactoe")
    await b.quick_match("tictactoe")
    await a.wait_for("state")
    assert a._writer is not None
    a._writer.transport.abort()
    await a.wait_for("disconnected")
    await a.move(4)  # queued, not lost, while reconnecting
    seen = await b.wait_for("state", last={"seat": 0, "move": 4})
    assert seen["state"]["board"].count("X") == 1
    await a.close()
    await b.close()


async def test_a_stalled_link_is_noticed_and_replaced(make_server: MakeServer) -> None:
    """A proxy that stops forwarding: no error, no close. The heartbeat finds it and the client moves on."""
    server = await make_server(heartbeat_interval=0.2, idle_timeout=0.6)
    stalled = asyncio.Event()

    async def pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while data := await reader.read(65536):
            if stalled.is_set():
                await asyncio.Event().wait()  # swallow everything from now on, keep the socket open
            writer.write(data)

    async def proxy(client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter) -> None:
        server_r, server_w = await asyncio.open_connection("127.0.0.1", server.port)
        await asyncio.gather(pipe(client_r, server_w), pipe(server_r, client_w), return_exceptions=True)

    relay = await asyncio.start_server(proxy, "127.0.0.1", 0)
    port = relay.sockets[0].getsockname()[1]
    try:
        a = await Client.connect("127.0.0.1", server.port, name="Ann")
        b = await Client.connect("127.0.0.1", port, name="Bob")  # through the proxy
        await a.quick_match("tictactoe")
        await b.quick_match("tictactoe")
        await b.wait_for("state")
        stalled.set()
        # The client retries through the same proxy; a fresh connection passes until it stalls too,
        # so let the second attempt go straight through by lifting the stall once it is noticed.
        assert (await b.wait_for("disconnected", timeout=10))["code"] == "connection_lost"
        stalled.clear()
        assert (await b.wait_for("reconnected", timeout=10))["resumed"] is True
        await a.move(4)
        assert (await b.wait_for("state", last={"seat": 0, "move": 4}))["state"]["board"][4] == "X"
        await a.close()
        await b.close()
    finally:
        relay.close()


async def test_tokens_never_appear_in_the_logs(server: Server, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    a, _, b, wb, _, _ = await game(server.port)
    await b.close()
    await a.recv_type("member_disconnected")
    await greet(server.port, "Bob", token=wb["token"])
    await a.recv_type("member_reconnected")
    assert caplog.records  # the server did log things...
    assert wb["token"] not in caplog.text  # ...but never the token


async def test_a_request_in_the_same_packet_as_the_resuming_hello_counts_for_the_resumed_seat(
    server: Server,
) -> None:
    a, _, b, wb, room, state = await game(server.port)
    a.send({"type": "move", "room": room, "move": 4, "version": state["version"]})
    moved = await b.recv_type("state")
    await b.close()
    await a.recv_type("member_disconnected")
    b2 = await RawPeer.open(server.port)
    packet = b""
    for message in (
        {"type": "hello", "protocol": 1, "token": wb["token"], "id": 0},
        {"type": "move", "room": room, "move": 0, "version": moved["version"], "id": 1},
    ):
        body = json.dumps(message).encode()
        packet += len(body).to_bytes(4, "big") + body
    b2.send_bytes(packet)  # both in one write: the move must be Bob's, not a stranger's
    assert (await b2.recv_type("ok"))["re"] == 1
    after = await a.recv_type("state")
    assert after["state"]["board"][0] == "O" and after["last"] == {"seat": 1, "move": 0}


async def test_resuming_a_private_room_gives_back_its_code(server: Server) -> None:
    a, wa = await greet(server.port, "Ann")
    a.send({"type": "create_room", "game": "tictactoe", "private": True, "id": 1})
    code = (await a.recv_type("joined"))["code"]
    await a.close()
    again, _ = await greet(server.port, "Ann", token=wa["token"])
    joined = await again.recv_type("joined")
    assert joined["resumed"] is True and joined["code"] == code
