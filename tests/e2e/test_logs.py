"""The server's log over a whole run of ``netplay serve`` (issue 13, item 4): JSON lines with stable
fields and event names, and no secret in it at any level, in either format: no session token, no
private room's code (nor a wrong one tried), no hidden move of battleship or rock-paper-scissors."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import re
import signal
import sys
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from websockets.asyncio.client import connect as ws_connect

from netplay.client import Client, NetplayError
from netplay.games.battleship import Battleship
from netplay.server import Server
from netplay.server.logs import JsonFormatter
from netplay.server.metrics import DISCONNECT_REASONS

from ..conftest import RawPeer

NETPLAY = [sys.executable, "-m", "netplay"]

# Hidden moves, as the clients send them: cells and words no log line has any other reason to hold.
ANN_FLEET = {
    "ships": [
        {"ship": "carrier", "cells": ["F3", "G3", "H3", "I3", "J3"]},
        {"ship": "battleship", "cells": ["C5", "C6", "C7", "C8"]},
        {"ship": "cruiser", "cells": ["H6", "H7", "H8"]},
        {"ship": "submarine", "cells": ["E9", "F9", "G9"]},
        {"ship": "destroyer", "cells": ["A10", "B10"]},
    ]
}
BOB_FLEET = {
    "ships": [
        {"ship": "carrier", "at": "B2", "dir": "v"},
        {"ship": "battleship", "at": "D4", "dir": "h"},
        {"ship": "cruiser", "at": "G7", "dir": "v"},
        {"ship": "submarine", "at": "E10", "dir": "h"},
        {"ship": "destroyer", "at": "I1", "dir": "h"},
    ]
}
#: Ways a placement could reach a line: the ship names, and cells of one ship side by side in any
#: rendering (JSON, a Python repr, words), or a ship with its "at" and "dir".
HIDDEN_PATTERNS = [
    r"carrier",
    r"cruiser",
    r"submarine",
    r"destroyer",
    r"F3\W{1,8}G3\W{1,8}H3",
    r"C5\W{1,8}C6\W{1,8}C7",
    r"E9\W{1,8}F9",
    r"B2\W{1,8}\W*dir",
    r"\bat\W{1,8}(B2|D4|G7|E10|I1)\b",
    r"\brock\b",
    r"\bpaper\b",
    r"\bscissors\b",
]
TEXT_LINE = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} (DEBUG|INFO|WARNING|ERROR|CRITICAL) [\w.]+: ")


class Served:
    """A running ``netplay serve``: its standard output and standard error, each read line by line."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process
        self.out: list[str] = []
        self.err: list[str] = []
        self._more = asyncio.Condition()
        assert process.stdout is not None and process.stderr is not None
        self._readers = [
            asyncio.create_task(self._drain(process.stdout, self.out)),
            asyncio.create_task(self._drain(process.stderr, self.err)),
        ]

    async def _drain(self, stream: asyncio.StreamReader, into: list[str]) -> None:
        while raw := await stream.readline():
            async with self._more:
                into.append(raw.decode(errors="replace").rstrip("\n"))
                self._more.notify_all()

    @classmethod
    async def start(cls, db: Path, log_format: str) -> tuple[Served, int]:
        process = await asyncio.create_subprocess_exec(
            *NETPLAY,
            "serve",
            "--port", "0",
            "--log-level", "DEBUG",
            "--log-format", log_format,
            "--bot-delay", "0",
            "--db", str(db),
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )  # fmt: skip
        served = cls(process)
        banner = await served.wait(lambda: _port(served.out), "the banner")
        return served, banner

    async def wait(self, found: Any, what: str, timeout: float = 15.0) -> Any:
        """Wait until ``found()`` returns something (it looks at the lines read so far)."""
        try:
            async with asyncio.timeout(timeout), self._more:
                while (result := found()) is None:
                    if self.process.returncode is not None and all(r.done() for r in self._readers):
                        raise AssertionError(f"exited before {what}:\n{self.output()}")
                    await self._more.wait()
                return result
        except TimeoutError:
            raise AssertionError(f"no {what} within {timeout} s:\n{self.output()}") from None

    async def stop(self) -> int:
        """SIGTERM, as systemd stops it; wait for the exit and the end of both streams."""
        self.process.send_signal(signal.SIGTERM)
        async with asyncio.timeout(30):
            status = await self.process.wait()
            await asyncio.gather(*self._readers)
        return status

    def output(self) -> str:
        return "\n".join(self.out + self.err)


def _port(lines: list[str]) -> int | None:
    for line in lines:
        match = re.search(r"on 127\.0\.0\.1:(\d+)", line)
        if match:
            return int(match.group(1))
    return None


@dataclass
class Session:
    """What the clients of one run learnt: the secrets to look for, and the ids to expect."""

    secrets: list[str] = field(default_factory=list)
    players: dict[str, str] = field(default_factory=dict)  # name -> player id
    rooms: dict[str, str] = field(default_factory=dict)  # game -> room id
    #: Connections left open, to be cut off by the server's shutdown.
    open: list[RawPeer] = field(default_factory=list)


async def state_where(client: Client, room: str, test: Any) -> dict[str, Any]:
    """The first state of ``room`` that ``client`` receives for which ``test(state)`` holds."""
    async with asyncio.timeout(20):
        while True:
            event = await client.wait_for("state", room=room)
            if test(event):
                return event


async def play_a_session(port: int) -> Session:
    """A realistic run: a private battleship game (a wrong code first, a dropped link resumed with
    its token, a player leaving), rock-paper-scissors over WebSocket against a server bot, and a
    code guesser that runs out of guesses and stays connected until the server stops."""
    got = Session()
    ann = await Client.connect("127.0.0.1", port, name="Ann")
    bob = await Client.connect("127.0.0.1", port, name="Bob")
    got.secrets += [ann.welcome["token"], bob.welcome["token"]]
    got.players.update(Ann=ann.id, Bob=bob.id)
    joined = await ann.create_room("battleship", private=True)
    code, room = joined["code"], joined["room"]["id"]
    got.secrets.append(code)
    got.rooms["battleship"] = room
    wrong = "ZXQV0001"
    got.secrets.append(wrong)
    with pytest.raises(NetplayError) as refused:
        await bob.join(code=wrong)
    assert refused.value.code == "wrong_code"
    assert (await bob.join(code=code))["seat"] == 1
    await state_where(ann, room, lambda s: s["state"]["phase"] == "placement")
    await ann.move(ANN_FLEET, room=room)
    await state_where(bob, room, lambda s: s["state"]["placed"][0])
    await bob.move(BOB_FLEET, room=room)
    await state_where(ann, room, lambda s: s["state"]["phase"] == "firing" and s["state"]["turn"] == 0)
    await ann.move("A1", room=room)  # shots are public: these may be anywhere
    await state_where(bob, room, lambda s: s["state"]["turn"] == 1)
    await bob.move("J10", room=room)
    await state_where(ann, room, lambda s: s["state"]["turn"] == 0)
    # Bob's network drops; his client comes back on its own with its token.
    assert bob._writer is not None
    bob._writer.transport.abort()
    await ann.wait_for("member_disconnected", room=room)
    await ann.wait_for("member_reconnected", room=room)
    assert (await bob.wait_for("reconnected"))["resumed"] is True
    await ann.move("B5", room=room)
    await state_where(bob, room, lambda s: s["state"]["turn"] == 1)
    await bob.leave(room)  # a game in progress: Bob forfeits it
    await state_where(ann, room, lambda s: s["outcome"] is not None)
    await ann.close()
    await bob.close()

    # Rock-paper-scissors over WebSocket, against the server's bot: both choices are hidden.
    async with ws_connect(f"ws://127.0.0.1:{port}/ws", proxy=None, open_timeout=5) as ws:

        async def send(message: dict[str, Any]) -> None:
            await ws.send(json.dumps(message))

        async def recv(kind: str) -> dict[str, Any]:
            async with asyncio.timeout(20):
                while True:
                    message = json.loads(await ws.recv())
                    if message["type"] == kind:
                        return message

        await send({"type": "hello", "protocol": 1, "name": "Web", "id": 0})
        welcome = await recv("welcome")
        got.secrets.append(welcome["token"])
        got.players["Web"] = welcome["player"]
        await send({"type": "create_room", "game": "rps", "options": {"rounds": 1}, "id": 1})
        rps = (await recv("joined"))["room"]["id"]
        got.rooms["rps"] = rps
        await send({"type": "add_bot", "room": rps, "bot": "random", "id": 2})
        choices = iter(["scissors", "paper", "rock"] * 10)  # a tied round is played again
        while True:
            state = await recv("state")
            if state["outcome"] is not None:
                break
            if 0 in state["active"]:
                move = {"type": "move", "room": rps, "move": next(choices), "version": state["version"]}
                await send(move)
        await send({"type": "bye", "id": 3})
        await recv("ok")

    # A guesser that runs out of wrong codes (the address shares Bob's one), then stays connected.
    guesser = await RawPeer.open(port)
    got.open.append(guesser)
    hello = await guesser.hello("Guesser")
    got.secrets.append(hello["token"])
    got.players["Guesser"] = hello["player"]
    for n in range(2, 20):
        guess = f"ZXQV{n:04d}"
        got.secrets.append(guess)
        guesser.send({"type": "join_room", "code": guess, "id": n})
        if (await guesser.recv_type("error"))["code"] == "rate_limited":
            break
    else:
        raise AssertionError("wrong codes were never limited")
    return got


def assert_no_secret(output: str, session: Session) -> None:
    for secret in session.secrets:
        assert secret not in output, f"{secret!r} is in the server's output"
    for pattern in HIDDEN_PATTERNS:
        found = re.search(pattern, output)
        assert found is None, f"a hidden move ({pattern!r}) is in the server's output: {found}"


async def run(tmp_path: Path, log_format: str) -> tuple[Served, Session, int]:
    served, port = await Served.start(tmp_path / "netplay.db", log_format)
    try:
        session = await play_a_session(port)
        status = await served.stop()
        for peer in session.open:
            await peer.close()
    finally:
        if served.process.returncode is None:
            served.process.kill()
    return served, session, status


async def test_a_whole_run_logs_json_lines_with_stable_fields_and_no_secret(tmp_path: Path) -> None:
    served, session, status = await run(tmp_path, "json")
    assert status == 0, served.output()
    assert served.err, "the server logged nothing"
    lines = []
    for text in served.err:  # standard error is the log: every line one JSON object
        line = json.loads(text)
        assert isinstance(line, dict), text
        assert {"time", "level", "logger", "event", "message"} <= set(line), text
        assert line["level"] in ("debug", "info", "warning", "error", "critical"), text
        lines.append(line)
    assert not any(TEXT_LINE.match(text) or text.startswith("{") for text in served.out), served.out
    assert_no_secret(served.output(), session)
    assert [line for line in lines if line["level"] in ("error", "critical")] == []

    def events(name: str, **fields: Any) -> list[dict[str, Any]]:
        return [
            line
            for line in lines
            if line["event"] == name and all(line.get(k) == v for k, v in fields.items())
        ]

    players, rooms = session.players, session.rooms
    # One connect per connection: Ann, Bob, Bob again, the WebSocket, the guesser.
    connects = events("connect")
    assert Counter(line["transport"] for line in connects) == {"tcp": 4, "websocket": 1}, connects
    assert all(re.fullmatch(r"127\.0\.0\.1:\d+", line["peer"]) for line in connects), connects
    assert {line["player"] for line in events("hello")} == set(players.values())
    for game in ("battleship", "rps"):
        (start,) = events("match_start", room=rooms[game], game=game)
        assert start["match"] and start["level"] == "info"
        (end,) = events("match_end", room=rooms[game], match=start["match"], game=game)
        assert end["reason"] == end["outcome"]["reason"]
    assert events("match_end", room=rooms["battleship"])[0]["reason"] == "forfeit"
    assert events("match_end", room=rooms["rps"])[0]["reason"] == "rules"
    assert events("away", player=players["Bob"]) and events("resume", player=players["Bob"])
    ended = {(line["player"], line["reason"]) for line in events("disconnect")}
    assert all(reason in DISCONNECT_REASONS for _, reason in ended), ended
    assert {
        (players["Ann"], "bye"),
        (players["Bob"], "closed"),  # the dropped link
        (players["Bob"], "bye"),
        (players["Web"], "bye"),
        (players["Guesser"], "shutdown"),
    } <= ended, ended
    assert len(events("disconnect")) == len(connects), events("disconnect")
    guessing = events("refused", player=players["Guesser"], reason="wrong_codes")  # its address's, or
    assert guessing, "no line for the wrong codes"  # also its connection's on a slow machine
    assert all(line["code"] == "rate_limited" and line["peer"].startswith("127.0.0.1:") for line in guessing)
    (shutdown,) = events("shutdown")
    assert shutdown["reason"] == "SIGTERM"


async def test_the_text_log_of_a_whole_run_holds_no_secret_either(tmp_path: Path) -> None:
    served, session, status = await run(tmp_path, "text")
    assert status == 0, served.output()
    assert served.err and all(TEXT_LINE.match(line) for line in served.err), served.err
    assert any(f"resumed {session.players['Bob']}" in line for line in served.err)
    assert any("match" in line and "started in room" in line for line in served.err)
    assert_no_secret(served.output(), session)


class ChangedBattleship(Battleship):
    """Battleship whose rules changed since its matches were recorded: no ship may stand upright any
    more, so a stored match with one no longer replays."""

    def validate(self, state: Any, seat: int, move: Any) -> str | None:
        if isinstance(move, dict) and any(ship.get("dir") == "v" for ship in move.get("ships", [])):
            return "no ship may stand upright"
        return super().validate(state, seat, move)


async def test_a_match_that_no_longer_replays_is_logged_without_its_hidden_moves(
    make_server: Callable[..., Awaitable[Server]], tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """The replay's error quotes the move it refused: of a hidden-information game, the log has
    only its type and traceback (it used to show the fleet)."""
    caplog.set_level(logging.DEBUG)
    db = str(tmp_path / "netplay.db")
    first = await make_server(db=db)
    ann, bob = await RawPeer.open(first.port), await RawPeer.open(first.port)
    await ann.hello("Ann")
    await bob.hello("Bob")
    ann.send({"type": "create_room", "game": "battleship", "private": True, "id": 1})
    joined = await ann.recv_type("joined")
    room, code = joined["room"]["id"], joined["code"]
    bob.send({"type": "join_room", "code": code, "id": 1})
    await bob.recv_type("joined")
    for peer, fleet in ((ann, ANN_FLEET), (bob, BOB_FLEET)):  # both place at once, on version 1
        peer.send({"type": "move", "room": room, "move": fleet, "version": 1, "id": 2})
        assert (await peer.recv_type("ok"))["re"] == 2
    await first.stop()
    await ann.close()
    await bob.close()

    second = await make_server([ChangedBattleship()], db=db)
    assert second.restored_rooms == 0
    skipped = [r for r in caplog.records if getattr(r, "event", None) == "restore_skipped"]
    assert skipped and skipped[0].levelname == "ERROR" and skipped[0].exc_info, caplog.text
    assert getattr(skipped[0], "room", None) == room and getattr(skipped[0], "game", None) == "battleship"
    as_json = "\n".join(JsonFormatter().format(r) for r in caplog.records)
    assert "ReplayError" in caplog.text and "ReplayError" in as_json  # what failed, and where
    assert_no_secret(caplog.text + as_json, Session(secrets=[code]))
