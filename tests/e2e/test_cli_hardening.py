"""The ``netplay`` command against what a new user and an attacker do to it (issue 9, items 12, 18, 20).

Real ``netplay`` subprocesses, against the real server (``netplay serve --port 0``) or, to send what
no honest server sends, a hostile one on 127.0.0.1 that speaks the wire format by hand.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import signal
import struct
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from netplay.cli import build_parser
from netplay.client import Client, NetplayError
from netplay.store import SavedMatch, SavedMove, SavedPlayer, SqliteStore

from .test_cli import Proc

ATTACK = "\x1b[2J\x1b]0;pwned\x07"
SHOWN = "\\x1b[2J\\x1b]0;pwned\\x07"  # how the terminal must show it: visibly, as text


@pytest.fixture
async def served() -> AsyncIterator[int]:
    """``netplay serve --port 0``: the real command; its port, read from its banner."""
    proc = await Proc.start("serve", "--port", "0", "--bot-delay", "0")
    port = int((await proc.expect(r"on 127\.0\.0\.1:(\d+)")).group(1))
    yield port
    if proc.process.returncode is None:
        proc.process.send_signal(signal.SIGTERM)
        await proc.finish()


def assert_safe(output: str) -> None:
    """Nothing the terminal would act on: no ESC, BEL, CSI or other control but newlines."""
    assert "\x1b" not in output and "\x07" not in output, output
    assert all(c == "\n" or c.isprintable() for c in output), repr(output)
    assert SHOWN in output, output


# -- item 12: what came from the network reaches the terminal as visible text ---------------------


Reply = Callable[[dict[str, Any]], list[dict[str, Any]]]


class HostileServer:
    """A server on 127.0.0.1 that puts escape sequences in every text it sends.

    ``replies`` maps a request type to a function of the request that returns the messages to
    send (the reply itself carries ``re``); ``welcome`` is always answered.
    """

    def __init__(self, replies: dict[str, Reply]) -> None:
        self.replies = replies
        self.server: asyncio.Server | None = None

    @property
    def port(self) -> int:
        assert self.server is not None
        return int(self.server.sockets[0].getsockname()[1])

    async def start(self) -> HostileServer:
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        return self

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(asyncio.IncompleteReadError, ConnectionError):
            while True:
                (size,) = struct.unpack(">I", await reader.readexactly(4))
                request = json.loads(await reader.readexactly(size))
                for message in self._answer(request):
                    payload = json.dumps(message).encode()
                    writer.write(struct.pack(">I", len(payload)) + payload)
                await writer.drain()
        writer.close()

    def _answer(self, request: dict[str, Any]) -> list[dict[str, Any]]:
        kind = request["type"]
        if kind == "hello":
            return [
                {
                    "type": "welcome",
                    "re": request.get("id"),
                    "protocol": 1,
                    "player": "p-me",
                    "name": f"me{ATTACK}",
                    "token": "t",
                    "resumed": False,
                    "rooms": [],
                    "heartbeat": 15,
                    "idle_timeout": 45,
                    "reconnect_grace": 1,
                }
            ]
        if kind in self.replies:
            return self.replies[kind](request)
        return [{"type": "ok", "re": request.get("id")}] if "id" in request else []

    async def close(self) -> None:
        if self.server is not None:
            self.server.close()
            await self.server.wait_closed()


@pytest.fixture
async def hostile() -> AsyncIterator[Callable[[dict[str, Reply]], Awaitable[HostileServer]]]:
    servers: list[HostileServer] = []

    async def start(replies: dict[str, Reply]) -> HostileServer:
        server = await HostileServer(replies).start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        await server.close()


async def test_rooms_shows_a_relay_label_escaped(served: int) -> None:
    """The attack as found: a client labels a relay room with escape sequences."""
    attacker = await Client.connect("127.0.0.1", served, name="attacker")
    try:
        joined = await attacker.create_room(f"lobby{ATTACK}", kind="relay")
    except NetplayError as refused:  # a server that refuses such labels stops the attack earlier
        await attacker.close()
        pytest.skip(f"the server refuses the label ({refused.code}): nothing to show")
    status, output = await (await Proc.start("rooms", "--port", str(served))).finish()
    assert status == 0 and joined["room"]["id"] in output, output
    assert_safe(output)
    # The terminal client shows the room's label too, when it joins the room.
    player = await Proc.start("play", "tictactoe", "--port", str(served), "--room", joined["room"]["id"])
    await player.expect(r"in room r-")
    status, output = await player.finish()
    assert_safe(output)
    await attacker.close()


def _rooms_reply(request: dict[str, Any]) -> list[dict[str, Any]]:
    match = {
        "id": f"r-1{ATTACK}",
        "kind": "match",
        "game": f"tictactoe{ATTACK}",
        "private": False,
        "status": f"waiting{ATTACK}",
        "seats": 2,
        "free_seats": 1,
        "players": [{"seat": 0, "id": "p-1", "name": f"Ann\n{ATTACK}"}],
        "spectators": 0,
    }
    relay = {
        "id": "r-2",
        "kind": "relay",
        "game": f"dots{ATTACK}",
        "private": False,
        "members": [],
        "max_members": 64,
    }
    return [{"type": "rooms", "re": request["id"], "rooms": [match, relay]}]


async def test_rooms_and_games_show_every_field_escaped(hostile: Any) -> None:
    games = {
        "name": f"nim{ATTACK}",
        "description": f"take stones{ATTACK}",
        "players": 2,
        "bots": [f"perfect{ATTACK}"],
    }
    server = await hostile(
        {
            "list_rooms": _rooms_reply,
            "list_games": lambda r: [{"type": "games", "re": r["id"], "games": [games]}],
        }
    )
    status, output = await (await Proc.start("rooms", "--port", str(server.port))).finish()
    assert status == 0
    assert_safe(output)
    assert "players: Ann\\n" in output  # a name cannot start a line of its own
    assert len(output.splitlines()) == 2  # one line per room
    status, output = await (await Proc.start("games", "--port", str(server.port))).finish()
    assert status == 0 and output.count(SHOWN) == 3
    assert_safe(output)


async def test_an_error_from_the_server_is_shown_escaped(hostile: Any) -> None:
    def refuse(request: dict[str, Any]) -> list[dict[str, Any]]:
        return [{"type": "error", "re": request["id"], "code": "invalid_message", "message": ATTACK}]

    server = await hostile({"list_rooms": refuse})
    status, output = await (await Proc.start("rooms", "--port", str(server.port))).finish()
    assert status == 1 and output.startswith("error: ")
    assert_safe(output)


def _join_reply(request: dict[str, Any]) -> list[dict[str, Any]]:
    """A room whose opponent, board, phase and messages all carry escape sequences."""
    evil = f"Eve{ATTACK}"
    room = {"id": "r-evil", "kind": "match", "game": "tictactoe", "seats": 2, "free_seats": 0}
    players = [{"seat": 0, "id": "p-me", "name": "me"}, {"seat": 1, "id": "p-eve", "name": evil}]
    return [
        {"type": "joined", "re": request["id"], "room": room, "role": "player"},
        {
            "type": "member_joined",
            "room": "r-evil",
            "member": {"id": "p-eve", "name": evil, "role": "player"},
        },
        {"type": "error", "code": "invalid_move", "message": f"nope{ATTACK}"},
        {
            "type": "state",
            "room": "r-evil",
            "game": 1,
            "version": 2,
            "players": players,
            "state": {"board": ["X", ATTACK, None, None, None, None, None, None, None]},
            "active": [],
            "turn": None,
            "phase": f"end{ATTACK}",
            "last": {"seat": 1, "move": 1},
            "outcome": {"draw": False, "winner": 1, "reason": "rules", "ranking": [[1], [0]]},
        },
    ]


async def test_the_terminal_client_shows_names_boards_and_messages_escaped(hostile: Any) -> None:
    server = await hostile({"join_room": _join_reply})
    player = await Proc.start("play", "tictactoe", "--port", str(server.port), "--room", "r-evil", stdin=True)
    status, output = await player.finish()
    assert status == 0, output
    assert_safe(output)
    assert f"You are me{SHOWN}" in output  # the name the server gave this player
    assert f"Eve{SHOWN} joined" in output  # a player's name
    assert f"Refused: nope{SHOWN}" in output  # an error message
    assert f" X | {SHOWN} | 3" in output  # the board, drawn by the game from the network's state
    assert "---+---+---" in output  # a board keeps its lines
    assert f"Eve{SHOWN} (O) played 2" in output and f"Phase: end{SHOWN}." in output


async def test_matches_and_replay_show_stored_names_escaped(tmp_path: Path) -> None:
    """Names and labels kept in the database came from players too."""
    db = tmp_path / "kept.db"
    store = SqliteStore(db)
    players = [SavedPlayer(0, "p-eve", f"Eve{ATTACK}"), SavedPlayer(1, "p-bob", "Bob")]
    for match_id, game, clock in (("m-ttt", "tictactoe", "30/move"), ("m-odd", f"nim{ATTACK}", ATTACK)):
        store.match_started(
            SavedMatch(
                id=match_id, room_id=f"r-1{ATTACK}", room_code=None, game=game, number=1,
                options={}, start_version=0, players=players, started_at=100.0, clock=clock,
            )
        )  # fmt: skip
    store.move_applied("m-ttt", 0, SavedMove(0, 4, 1, 101.0))
    store.match_finished("m-ttt", {"draw": False, "winner": 0, "reason": ATTACK}, 102.0)
    store.close()
    status, output = await (await Proc.start("matches", "--db", str(db))).finish()
    assert status == 0 and f"Eve{SHOWN} vs Bob" in output and f"clock {SHOWN}" in output, output
    assert_safe(output)
    status, output = await (await Proc.start("replay", "m-ttt", "--db", str(db))).finish()
    assert status == 0 and f"Eve{SHOWN} (X)" in output and f"room r-1{SHOWN}" in output, output
    assert " 4 | X | 6" in output  # the board keeps its lines
    assert_safe(output)
    status, output = await (await Proc.start("replay", "m-odd", "--db", str(db))).finish()
    assert status == 0 and "without positions" in output  # a game not built in: its stored moves
    assert_safe(output)


# -- item 20: every port and number on the command line is checked -------------------------------


@pytest.mark.parametrize(
    ("args", "flag", "allowed"),
    [
        (["serve", "--port", "99999"], "--port", "0 to 65535"),
        (["serve", "--port", "-1"], "--port", "0 to 65535"),
        (["serve", "--port", "0", "--text-port", "70000"], "--text-port", "0 to 65535"),
        (["serve", "--port", "0", "--web-port", "65536"], "--web-port", "0 to 65535"),
        (["serve", "--port", "0", "--max-connections", "0"], "--max-connections", "1 or more"),
        (["serve", "--port", "0", "--rate-burst", "-5"], "--rate-burst", "1 or more"),
        (["serve", "--port", "0", "--heartbeat", "0"], "--heartbeat", "above 0"),
        (["serve", "--port", "0", "--idle-timeout", "nan"], "--idle-timeout", "above 0"),
        (["serve", "--port", "0", "--reconnect-grace", "-1"], "--reconnect-grace", "above 0"),
        (["play", "tictactoe", "--port", "0"], "--port", "1 to 65535"),
        (["play", "tictactoe", "--port", "1", "--games", "-2"], "--games", "1 or more"),
        (["rooms", "--port", "65536"], "--port", "1 to 65535"),
        (["matches", "--limit", "0"], "--limit", "1 or more"),
    ],
)
async def test_a_number_out_of_range_is_refused_with_the_range(
    args: list[str], flag: str, allowed: str
) -> None:
    proc = await Proc.start(*args)
    try:
        status, output = await proc.finish(timeout=20)
    finally:
        proc.kill()  # today's code may be serving on some port instead
    value = args[args.index(flag) + 1]
    assert status == 2, output
    assert re.search(rf"error: argument {flag}: .*{re.escape(value)}.*{allowed}", output), output
    assert "serving" not in output and "Traceback" not in output


@pytest.mark.parametrize(
    ("command", "flag", "edges", "outside"),
    [
        (["serve"], "--port", ["0", "65535"], ["-1", "65536", "http"]),
        (["serve"], "--text-port", ["0", "65535"], ["-1", "65536"]),
        (["serve"], "--web-port", ["0", "65535"], ["-1", "65536"]),
        (["serve"], "--max-frame", ["1", str(2**32 - 1)], ["0", str(2**32)]),
        (["serve"], "--max-send-buffer", ["1"], ["0", "lots"]),
        (["serve"], "--handshake-timeout", ["0.001"], ["0", "-1", "inf", "nan"]),
        (["serve"], "--heartbeat", ["0.5"], ["0", "inf"]),
        (["serve"], "--idle-timeout", ["1"], ["0", "nan"]),
        (["serve"], "--bot-delay", ["0", "0.5"], ["-0.1", "inf"]),
        (["serve"], "--reconnect-grace", ["0", "600"], ["-1", "inf"]),
        (["serve"], "--rate-limit", ["0", "0.5"], ["-1", "nan"]),
        (["serve"], "--rate-burst", ["1"], ["0"]),
        (["serve"], "--max-connections", ["1"], ["0", "-5"]),
        (["serve"], "--max-rooms-per-client", ["1"], ["0"]),
        (["serve"], "--text-room-size", ["1", "64"], ["0", "65"]),
        (["serve"], "--text-max-line", ["1"], ["0"]),
        (["play", "tictactoe"], "--port", ["1", "65535"], ["0", "65536"]),
        (["play", "tictactoe"], "--games", ["1"], ["0", "-1"]),
        (["games"], "--port", ["1", "65535"], ["0", "70000"]),
        (["rooms"], "--port", ["1", "65535"], ["0", "70000"]),
        (["matches"], "--limit", ["1"], ["0", "-1"]),
    ],
)
def test_each_number_is_checked_at_the_edges_of_its_range(
    command: list[str], flag: str, edges: list[str], outside: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    parser = build_parser()
    for value in edges:
        parser.parse_args([*command, flag, value])
    for value in outside:
        with pytest.raises(SystemExit) as exited:
            parser.parse_args([*command, flag, value])
        assert exited.value.code == 2, value
        error = capsys.readouterr().err.splitlines()[-1]
        assert f"argument {flag}: " in error and value in error and ": use " in error, error


# -- item 18: playing the computer from a terminal -----------------------------------------------


def _free_cells(lines: list[str]) -> list[int]:
    """The free cells of the last tic-tac-toe board printed (they show their numbers)."""
    rows = [line for line in lines if re.fullmatch(r" . \| . \| .", line)][-3:]
    return [int(c) for row in rows for c in row.split("|") if c.strip().isdigit()]


async def test_a_person_plays_the_servers_bot_to_the_end(served: int) -> None:
    human = await Proc.start(
        "play", "tictactoe", "--port", str(served), "--vs", "minimax", "--json", stdin=True
    )
    await human.expect(r"minimax bot joined")
    while True:
        line = (await human.expect(r"^Your move|^You win|^You lose|^Draw")).string
        if not line.startswith("Your move"):
            break
        human.type(str(_free_cells(human.lines)[0]))
    status, output = await human.finish()
    assert status == 0, output
    assert json.loads(output.splitlines()[-1])["games"] == 1
    assert "Waiting for an opponent" not in output and "--code" not in output
    assert "Traceback" not in output


async def test_the_default_bot_and_bots_on_both_sides(served: int) -> None:
    """``--vs`` alone plays the game's first bot; with ``--bot`` too, the README's bot-against-bot line."""
    proc = await Proc.start(
        "play", "tictactoe", "--port", str(served), "--bot", "minimax", "--vs", "--games", "2", "--json"
    )
    status, output = await proc.finish()
    assert status == 0, output
    assert "minimax bot joined" in output
    assert json.loads(output.splitlines()[-1]) == {"games": 2, "won": 0, "lost": 0, "drawn": 2}
    readme = (Path(__file__).parents[2] / "README.md").read_text()
    line = re.search(r"^netplay play (\S+ --bot \S+ --vs .*?)\s+#", readme, re.M)
    assert line, "the README shows a bot playing the server's bot"
    proc = await Proc.start("play", *line.group(1).split(), "--port", str(served))
    status, output = await proc.finish(timeout=60)
    assert status == 0 and json.loads(output.splitlines()[-1])["games"] == 3, output


async def test_a_wrong_bot_is_the_servers_error_with_the_games_bots(served: int) -> None:
    proc = await Proc.start("play", "tictactoe", "--port", str(served), "--vs", "nobody")
    status, output = await proc.finish()
    assert status == 2, output
    assert "error: tictactoe has no bot 'nobody'" in output
    assert re.search(r"bots of tictactoe here: minimax, random", output), output
    assert "Traceback" not in output


async def test_vs_cannot_join_someone_elses_room(served: int) -> None:
    proc = await Proc.start("play", "tictactoe", "--port", str(served), "--vs", "--code", "ABCDEF")
    status, output = await proc.finish()
    assert status == 2 and "--vs opens a room of its own" in output, output
