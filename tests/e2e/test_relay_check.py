"""A relay that checks (issue 11, item 5), end to end: the dots demo's check on a real server, with a
netplay client and an unmodified 15-112 text client in one room."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import AsyncIterator
from typing import Any

import pytest

from examples.dots.check import NoTeleports
from netplay.client import Client, NetplayError
from netplay.server import Server, ServerConfig

from .test_text_protocol import TextClient


@pytest.fixture
async def checked() -> AsyncIterator[Server]:
    """A server with a 15-112 text port whose relay rooms labelled 15-112 run the dots check."""
    server = Server(ServerConfig(port=0, text_port=0, bot_delay=0.0), relay_checks=[NoTeleports()])
    await server.start()
    yield server
    await server.stop()


def dots(instr: str, details: str) -> dict[str, Any]:
    return {"instr": instr, "details": details}


async def test_a_check_refuses_rewrites_and_passes_on_for_netplay_and_text_clients(checked: Server) -> None:
    assert checked.text_port is not None
    text = await TextClient.open(checked.text_port)
    tid = await text.greet()
    ann = await Client.connect("127.0.0.1", checked.port, name="Ann")
    room = (await ann.quick_match("15-112", kind="relay"))["room"]["id"]
    assert await text.line() == f"newPlayer {ann.id}\n".encode()

    async def relay(data: dict[str, Any]) -> None:
        await ann.request({"type": "relay", "room": room, "data": data})

    # Ann says where she is (her first position: taken), then steps right: both pass as they are.
    await relay(dots("playerTeleported", "100 100"))
    await relay(dots("playerMoved", "10 0"))
    assert await text.line() == f"playerTeleported {ann.id} 100 100\n".encode()
    assert await text.line() == f"playerMoved {ann.id} 10 0\n".encode()
    # A jump and a long stride are refused, to her, in words; nobody else sees them.
    for data, reason in [
        (dots("playerTeleported", "500 400"), "no teleporting: move one step at a time"),
        (dots("playerMoved", "90 0"), "a move is at most 10 in each direction"),
    ]:
        with pytest.raises(NetplayError) as refused:
            await relay(data)
        assert (refused.value.code, refused.value.message) == ("relay_refused", reason)
    await relay(dots("playerTeleported", "110 100"))  # where she is: fine
    assert await text.line() == f"playerTeleported {ann.id} 110 100\n".encode()  # not the refused ones

    # The text client's own lines go through the same check: its jump is dropped (its protocol has
    # no errors), its step arrives as it sent it.
    await text.send(b"playerTeleported 320 5\n")  # its first position: taken
    await text.send(b"playerTeleported 0 0\n")  # a jump: dropped
    await text.send(b"playerMoved 0 -10\n")  # off the board's top edge: clamped to it
    first = await ann.wait_for("relay")
    assert (first["from"], first["data"]["instr"], first["data"]["details"]) == (
        tid,
        "playerTeleported",
        "320 5",
    )
    second = await ann.wait_for("relay")
    assert (second["from"], second["data"]["instr"], second["data"]["details"]) == (
        tid,
        "playerMoved",
        "0 -5",
    )
    assert second["data"]["line"] == "playerMoved 0 -5"
    assert checked.text is not None and checked.text.refused == 1
    await ann.close()
    await text.close()


async def test_a_member_who_leaves_is_forgotten_by_the_check(checked: Server) -> None:
    ann = await Client.connect("127.0.0.1", checked.port, name="Ann")
    bob = await Client.connect("127.0.0.1", checked.port, name="Bob")
    room = (await ann.create_room("15-112", kind="relay"))["room"]["id"]
    await bob.join(room)
    await bob.request({"type": "relay", "room": room, "data": dots("playerTeleported", "50 50")})
    await bob.request({"type": "leave_room", "room": room})
    await bob.join(room)  # back: a new first position is taken
    await bob.request({"type": "relay", "room": room, "data": dots("playerTeleported", "400 300")})
    assert (await ann.wait_for("relay", data=dots("playerTeleported", "400 300")))["from"] == bob.id
    await ann.close()
    await bob.close()


def test_serve_refuses_a_relay_check_that_is_not_one() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "netplay", "serve", "--relay-check", "examples.dots.check:WIDTH"],
        capture_output=True, text=True, timeout=30,
    )  # fmt: skip
    assert done.returncode == 2 and "is not a netplay RelayCheck subclass" in done.stderr
