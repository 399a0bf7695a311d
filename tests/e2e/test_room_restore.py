"""Rooms survive a restart (issue 9, item 6): a room waiting for an opponent and a room between two
games of a series come back after ``kill -9`` with their ids, codes, settings, seats and series, so
that the players' clients resume into them and play on to the end.

The first tests run the real ``netplay serve`` and ``netplay play`` as subprocesses, killed with
SIGKILL and restarted on the same port and database; the last ones stop an in-process server
cleanly and start another on its database, to look at the restored rooms closely.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import sqlite3
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from netplay.client import Client
from netplay.server import Server
from netplay.store import SqliteStore

from ..conftest import RawPeer
from .test_cli import NETPLAY, Proc
from .test_proofs import free_port

MakeServer = Callable[..., Awaitable[Server]]


class Procs:
    """The subprocesses of one test: servers and players; whatever still runs at the end is killed."""

    def __init__(self, tmp_path: Path) -> None:
        self.tmp_path = tmp_path
        self.running: list[asyncio.subprocess.Process] = []

    async def serve(self, port: int, db: Path) -> Proc:
        """``netplay serve`` on ``port`` and ``db``, once it accepts connections."""
        proc = await Proc.start("serve", "--port", str(port), "--db", str(db), "--bot-delay", "0", "--no-web")
        self.running.append(proc.process)
        await proc.expect("Stop with Ctrl-C", timeout=30)
        return proc

    async def spawn(self, name: str, port: int, *args: str) -> asyncio.subprocess.Process:
        """``netplay play tictactoe`` for a random bot named ``name``, with ``--json``; each player
        keeps its session in a state folder of its own."""
        process = await asyncio.create_subprocess_exec(
            *NETPLAY, "play", "tictactoe", "--port", str(port), "--name", name, "--bot", "random", "--json",
            *args,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
            env={**os.environ, "PYTHONUNBUFFERED": "1", "XDG_STATE_HOME": str(self.tmp_path / name)},
        )  # fmt: skip
        self.running.append(process)
        return process

    async def play(self, name: str, port: int, *args: str) -> Proc:
        return Proc(await self.spawn(name, port, *args))


@pytest.fixture
async def procs(tmp_path: Path) -> AsyncIterator[Procs]:
    running = Procs(tmp_path)
    yield running
    for process in running.running:
        if process.returncode is None:
            process.kill()
        await process.wait()


async def kill_9(server: Proc) -> None:
    server.process.send_signal(signal.SIGKILL)
    assert await server.process.wait() == -signal.SIGKILL


def tally(output: str) -> dict[str, int]:
    """The JSON line ``--json`` prints last."""
    result = json.loads(output.strip().splitlines()[-1])
    assert isinstance(result, dict)
    return result


async def test_a_player_waiting_alone_is_back_in_the_room_after_kill_9_and_a_newcomer_joins_it(
    tmp_path: Path, procs: Procs
) -> None:
    port, db = free_port(), tmp_path / "netplay.db"
    server = await procs.serve(port, db)
    ann = await procs.play("Ann", port, "--seed", "1")
    room = (await ann.expect(r"in room (r-[0-9a-f]+)")).group(1)
    await ann.expect("Waiting for an opponent")

    await kill_9(server)
    await ann.expect("reconnecting")
    await procs.serve(port, db)
    await ann.expect(r"^Reconnected\.$")  # not "... the server no longer knows this game"
    # The room is in the lobby again, as it was: waiting, one seat free, Ann back in hers.
    looking = await Client.connect("127.0.0.1", port, name="Eve")
    listed = [r for r in await looking.list_rooms("tictactoe") if r["id"] == room]
    await looking.close()
    assert len(listed) == 1, listed
    assert (listed[0]["status"], listed[0]["free_seats"], listed[0]["private"]) == ("waiting", 1, False)
    assert [(p["name"], p["seat"], p["connected"]) for p in listed[0]["players"]] == [("Ann", 0, True)]

    bob = await procs.play("Bob", port, "--seed", "2")  # quick-match: into Ann's restored room
    await bob.expect(rf"in room {room} ")
    await ann.expect("Bob joined")
    for player in (ann, bob):
        status, output = await player.finish()
        assert status == 0, output
        assert tally(output)["games"] == 1 and "Traceback" not in output


async def test_restarted_right_after_a_game_ends_the_series_goes_on_to_its_end(
    tmp_path: Path, procs: Procs
) -> None:
    port, db = free_port(), tmp_path / "netplay.db"
    server = await procs.serve(port, db)
    ann = await procs.play("Ann", port, "--games", "3", "--seed", "3")
    room = (await ann.expect(r"in room (r-[0-9a-f]+)")).group(1)
    bob = await Client.connect("127.0.0.1", port, name="Bob")  # the test plays Bob, and waits to vote
    await bob.join(room)

    async def play_out(game: int, state: dict[str, Any] | None = None) -> dict[str, Any]:
        """Bob's moves (the first free cell) until game ``game`` ends, from ``state`` if given."""
        while True:
            if state is None:
                state = await bob.wait_for("state", timeout=30, game=game)
            if state["outcome"] is not None:
                return state
            if state["turn"] == bob.seat(room):
                await bob.move(state["state"]["board"].index(None), room=room, version=state["version"])
            state = None

    first = await play_out(1)
    ann_id = next(p["id"] for p in first["players"] if p["name"] == "Ann")
    await bob.wait_for("rematch_requested", player=ann_id)  # the server has Ann's vote; Bob's is not in
    await kill_9(server)
    await procs.serve(port, db)
    back = await bob.wait_for("reconnected", timeout=30)
    assert back["resumed"] is True
    snapshot = await bob.wait_for("state", timeout=30)  # the room as it was: game 1, over
    assert snapshot["game"] == 1 and snapshot["version"] == first["version"]
    assert snapshot["outcome"] == first["outcome"]
    await bob.rematch(room)
    second = await bob.wait_for("state", timeout=30, game=2)
    assert second["outcome"] is None and second["version"] == first["version"] + 1  # versions go on
    seat = {p["name"]: p["seat"] for p in first["players"]}
    assert {p["name"]: p["seat"] for p in second["players"]} == {"Ann": seat["Bob"], "Bob": seat["Ann"]}
    await play_out(2, second)
    await bob.rematch(room)
    await play_out(3)
    status, output = await ann.finish()
    assert status == 0, output
    assert tally(output)["games"] == 3 and "no longer knows" not in output
    await bob.close()


# -- the figure ----------------------------------------------------------------------------

CLIENTS = 20
GAMES = 5
KILLS = 10
_SHOWN = re.compile(r"^Game \d+: ")  # a state drawn by `netplay play`: one per state received
_RESULT = re.compile(r"^(You win|You lose|Draw)")  # one per game and player, never repeated


class Crowd:
    """Many ``netplay play`` processes whose output is read line by line, with counts, across all of
    them, of the states they drew and the results they printed: how far the run has got."""

    def __init__(self) -> None:
        self.lines: list[list[str]] = []
        self.shown = 0
        self.results = 0
        self.ended: list[bool] = []  # whether each output has been read to its end
        self.changed = asyncio.Condition()
        self.readers: list[asyncio.Task[None]] = []

    def add(self, process: asyncio.subprocess.Process) -> None:
        self.lines.append([])
        self.ended.append(False)
        self.readers.append(asyncio.create_task(self._read(process, len(self.lines) - 1)))

    async def _read(self, process: asyncio.subprocess.Process, index: int) -> None:
        lines = self.lines[index]
        assert process.stdout is not None
        while raw := await process.stdout.readline():
            line = raw.decode(errors="replace").rstrip("\n")
            async with self.changed:
                lines.append(line)
                self.shown += bool(_SHOWN.match(line))
                self.results += bool(_RESULT.match(line))
                self.changed.notify_all()
        async with self.changed:
            self.ended[index] = True
            self.changed.notify_all()

    @property
    def over(self) -> bool:
        return all(self.ended)

    async def wait_until(self, what: Callable[[], bool], timeout: float, why: str) -> None:
        """Wait until ``what()`` (or until every output has ended)."""
        try:
            async with asyncio.timeout(timeout), self.changed:
                await self.changed.wait_for(lambda: what() or self.over)
        except TimeoutError:
            raise AssertionError(f"no {why} within {timeout} s:\n{self.report()}") from None

    def count(self, pattern: str) -> int:
        """How many of the outputs have a line matching ``pattern``."""
        regex = re.compile(pattern)
        return sum(any(regex.search(line) for line in lines) for lines in self.lines)

    def report(self) -> str:
        return "\n".join(f"client {i}: {lines[-3:]}" for i, lines in enumerate(self.lines))


async def test_kill_9_ten_times_while_20_clients_play_5_games_each_and_all_20_finish(
    tmp_path: Path, procs: Procs
) -> None:
    """The issue's figure: 10 pairs quick-matching tic-tac-toe for 5 games each, the server killed
    with SIGKILL 10 times at points spread over the run and restarted each time on the same port and
    database. Every one of the 20 clients must finish its 5 games and print its tally."""
    began = time.monotonic()
    port, db = free_port(), tmp_path / "netplay.db"
    server = await procs.serve(port, db)
    crowd = Crowd()
    processes = [
        await procs.spawn(f"p{i}", port, "--games", str(GAMES), "--seed", str(i)) for i in range(CLIENTS)
    ]
    for process in processes:
        crowd.add(process)
    # The kills begin once every client is in its room (a client that has not reached the server yet
    # has nothing to resume). Kill k comes when the results printed reach k/11 of the 100 to come, and
    # then 0 to 15 states later: right after a game ends, between two games, or in the middle of one.
    await crowd.wait_until(lambda: crowd.count(r"in room r-") == CLIENTS, 60, "room for every client")
    total = CLIENTS * GAMES
    kills = 0
    restored: list[tuple[int, int]] = []  # after each restart: rooms, and those with a game on
    for kill in range(1, KILLS + 1):
        results = total * kill // (KILLS + 1)
        await crowd.wait_until(lambda r=results: crowd.results >= r, 20, f"{results} results")  # type: ignore[misc]
        shown = crowd.shown + 5 * (kill % 4)
        await crowd.wait_until(lambda s=shown: crowd.shown >= s, 20, f"{shown} states")  # type: ignore[misc]
        if crowd.over:
            break
        await kill_9(server)
        kills += 1
        server = await procs.serve(port, db)
        found = [re.search(r"restored (\d+) rooms? .*\((\d+) with a match", line) for line in server.lines]
        restored.extend((int(m.group(1)), int(m.group(2))) for m in found if m)
    try:  # every client ends by itself: with its tally, or with an error (exit status 1)
        await crowd.wait_until(lambda: False, 40, "end of every client")
    except AssertionError:
        pass  # a client that hangs does not finish: it is counted so below
    for process, ended in zip(processes, crowd.ended, strict=True):
        if not ended:
            process.kill()
    statuses = [await process.wait() for process in processes]
    await asyncio.gather(*crowd.readers)
    finished = sum(
        status == 0 and bool(lines) and lines[-1].startswith("{") and json.loads(lines[-1])["games"] == GAMES
        for status, lines in zip(statuses, crowd.lines, strict=True)
    )
    elapsed = time.monotonic() - began
    between = [rooms - playing for rooms, playing in restored]
    print(
        f"\n{finished} of {CLIENTS} clients finished {GAMES} games; {kills} kills; {elapsed:.1f} s;"
        f" rooms restored after each kill (with a game on, between games): {restored}, {between}"
    )
    assert kills == KILLS, f"the games ended after {kills} kills:\n{crowd.report()}"
    assert finished == CLIENTS, f"{finished} of {CLIENTS} finished (statuses {statuses}):\n{crowd.report()}"
    everything = [line for lines in crowd.lines for line in lines]
    assert not any("no longer knows" in line or "Traceback" in line for line in everything)


# -- a closer look, in process ----------------------------------------------------------------------


async def greet(port: int, name: str, token: str | None = None) -> tuple[RawPeer, dict[str, Any]]:
    peer = await RawPeer.open(port)
    hello: dict[str, Any] = {"type": "hello", "protocol": 1, "name": name, "id": 0}
    if token is not None:
        hello["token"] = token
    peer.send(hello)
    return peer, await peer.recv_type("welcome")


async def play_ann_wins(peers: list[RawPeer], room: str) -> dict[str, Any]:
    """Ann (seat 0, X) takes the top row while Bob plays below it; the final state."""
    for seat, cell in [(0, 0), (1, 3), (0, 1), (1, 4), (0, 2)]:
        peers[seat].send({"type": "move", "room": room, "move": cell})
        states = [await peer.recv_type("state") for peer in peers]
    assert states[0]["outcome"]["winner"] == 0
    return states[0]


async def resume_both(port: int, *welcomes: dict[str, Any]) -> list[RawPeer]:
    """Ann and Bob back with the tokens of their first welcomes; their peers."""
    peers = []
    for name, welcome in zip(["Ann", "Bob"], welcomes, strict=True):
        peer, resumed = await greet(port, name, welcome["token"])
        assert resumed["resumed"] is True, resumed
        peers.append(peer)
    return peers


def kept_rooms(db: Path) -> list[Any]:
    """The room records in the database, read as `netplay matches` reads it (no lock, no writes)."""
    store = SqliteStore(db, readonly=True)
    try:
        return store.rooms()
    finally:
        store.close()


async def test_a_waiting_private_room_comes_back_with_its_code_settings_and_seats(
    make_server: MakeServer, tmp_path: Path
) -> None:
    db = tmp_path / "netplay.db"
    first = await make_server(db=str(db))
    ann, welcome = await greet(first.port, "Ann")
    ann.send(
        {"type": "create_room", "game": "pig", "private": True, "clock": "300+5",
         "options": {"players": 3, "target": 20}, "id": 1}
    )  # fmt: skip
    joined = await ann.recv_type("joined")
    room, code = joined["room"]["id"], joined["code"]
    ann.send({"type": "add_bot", "room": room, "id": 2})
    await ann.recv_type("ok")
    await first.stop()
    await ann.close()

    second = await make_server(db=str(db))
    assert (second.restored_rooms, second.restored) == (1, 0)
    eve, _ = await greet(second.port, "Eve")
    eve.send({"type": "list_rooms", "id": 1})
    (listed,) = (await eve.recv_type("rooms"))["rooms"]
    assert listed["id"] == room and listed["private"] is True and "code" not in listed
    assert (listed["status"], listed["seats"], listed["free_seats"]) == ("waiting", 3, 1)
    assert listed["clock"] == "300+5"
    assert [(p["name"], p["bot"], p["connected"]) for p in listed["players"]] == [
        (None, None, False),  # away until she comes back (and, the room being private, not named)
        (None, "hold20", True),
    ]
    back, resumed = await greet(second.port, "Ann", welcome["token"])
    assert resumed["resumed"] is True and resumed["rooms"] == [room]
    assert resumed["player"] == welcome["player"]
    again = await back.recv_type("joined")
    assert again["resumed"] is True and again["code"] == code and again["seat"] == 0
    eve.send({"type": "join_room", "room": room, "id": 2})  # still private
    assert (await eve.recv_type("error"))["code"] == "wrong_code"
    eve.send({"type": "join_room", "code": code, "id": 3})
    assert (await eve.recv_type("joined"))["seat"] == 2  # seats 0 and 1: Ann and the bot, as they were
    state = await eve.recv_type("state")  # the last seat is taken: the game the room was set up for
    assert state["game"] == 1 and state["state"]["target"] == 20 and len(state["players"]) == 3
    assert state["clock"]["control"] == "300+5"
    for peer in (back, eve):
        await peer.close()


async def test_between_games_the_rematch_votes_cast_are_kept(make_server: MakeServer, tmp_path: Path) -> None:
    db = tmp_path / "netplay.db"
    first = await make_server(db=str(db))
    (ann, wa), (bob, wb) = await greet(first.port, "Ann"), await greet(first.port, "Bob")
    ann.send({"type": "create_room", "game": "tictactoe", "id": 1})
    room = (await ann.recv_type("joined"))["room"]["id"]
    bob.send({"type": "join_room", "room": room, "id": 1})
    await bob.recv_type("joined")
    await ann.recv_type("state")
    await bob.recv_type("state")
    final = await play_ann_wins([ann, bob], room)
    ann.send({"type": "rematch", "room": room, "id": 5})
    await ann.recv_type("ok")
    (record,) = kept_rooms(db)
    assert (record.games_played, record.rematch, record.match_id is not None) == (1, [0], True)
    await first.stop()

    second = await make_server(db=str(db))
    assert (second.restored_rooms, second.restored) == (1, 0)
    ann, bob = await resume_both(second.port, wa, wb)
    for peer in (ann, bob):
        snapshot = await peer.recv_type("state")
        assert snapshot["game"] == 1 and snapshot["version"] == final["version"]
        assert snapshot["outcome"] == final["outcome"]
    bob.send({"type": "rematch", "room": room, "id": 6})  # Bob only: Ann's vote is the kept one
    fresh = await bob.recv_type("state")
    assert (fresh["game"], fresh["outcome"], fresh["version"]) == (2, None, final["version"] + 1)
    assert [p["name"] for p in fresh["players"]] == ["Bob", "Ann"]  # seats rotate, as without a restart
    assert (await ann.recv_type("state"))["game"] == 2
    (record,) = kept_rooms(db)
    assert (record.games_played, record.rematch, [p.name for p in record.players]) == (2, [], ["Bob", "Ann"])
    for peer in (ann, bob):
        await peer.close()


async def test_a_room_with_a_game_on_and_a_record_is_restored_once(
    make_server: MakeServer, tmp_path: Path
) -> None:
    db = tmp_path / "netplay.db"
    first = await make_server(db=str(db))
    (ann, wa), (bob, wb) = await greet(first.port, "Ann"), await greet(first.port, "Bob")
    ann.send({"type": "quick_match", "game": "tictactoe", "id": 1})
    room = (await ann.recv_type("joined"))["room"]["id"]
    bob.send({"type": "quick_match", "game": "tictactoe", "id": 1})
    await ann.recv_type("state")
    ann.send({"type": "move", "room": room, "move": 4})
    await ann.recv_type("state")
    await first.stop()
    store = SqliteStore(db, readonly=True)
    assert [m.room_id for m in store.unfinished()] == [room] and [r.id for r in store.rooms()] == [room]
    store.close()

    second = await make_server(db=str(db))
    assert (second.restored_rooms, second.restored) == (1, 1)
    assert second.hub is not None and list(second.hub.rooms) == [room] and len(second.hub.directory) == 1
    ann, bob = await resume_both(second.port, wa, wb)
    state = await bob.recv_type("state")
    assert state["state"]["board"][4] == "X" and state["turn"] == 1
    await ann.recv_type("state")
    for peer in (ann, bob):
        await peer.close()


async def test_a_match_restored_without_a_room_record_gets_one(
    make_server: MakeServer, tmp_path: Path
) -> None:
    """A match in progress in a database from before room records (here: its record deleted) comes
    back as today, and its room is recorded from then on, so it survives the next restart between games."""
    db = tmp_path / "netplay.db"
    first = await make_server(db=str(db))
    (ann, wa), (bob, wb) = await greet(first.port, "Ann"), await greet(first.port, "Bob")
    ann.send({"type": "quick_match", "game": "tictactoe", "id": 1})
    room = (await ann.recv_type("joined"))["room"]["id"]
    bob.send({"type": "quick_match", "game": "tictactoe", "id": 1})
    await ann.recv_type("state")
    await bob.recv_type("state")
    await first.stop()
    with sqlite3.connect(db) as connection:
        connection.execute("DELETE FROM rooms")
    connection.close()

    second = await make_server(db=str(db))
    assert (second.restored_rooms, second.restored) == (1, 1)
    assert [r.id for r in kept_rooms(db)] == [room]
    ann, bob = await resume_both(second.port, wa, wb)
    await ann.recv_type("state")
    await bob.recv_type("state")
    final = await play_ann_wins([ann, bob], room)
    await second.stop()  # between games now

    third = await make_server(db=str(db))
    assert (third.restored_rooms, third.restored) == (1, 0)
    ann, _ = await greet(third.port, "Ann", wa["token"])
    assert (await ann.recv_type("state"))["version"] == final["version"]
    await ann.close()


async def test_a_restored_player_who_does_not_come_back_leaves_and_a_closed_room_is_forgotten(
    make_server: MakeServer, tmp_path: Path
) -> None:
    db = tmp_path / "netplay.db"
    first = await make_server(db=str(db))
    (ann, _), (bob, wb) = await greet(first.port, "Ann"), await greet(first.port, "Bob")
    ann.send({"type": "create_room", "game": "pig", "options": {"players": 3}, "id": 1})
    room = (await ann.recv_type("joined"))["room"]["id"]
    bob.send({"type": "join_room", "room": room, "id": 1})
    await bob.recv_type("joined")
    await first.stop()

    second = await make_server(db=str(db), reconnect_grace=0.5)
    bob, resumed = await greet(second.port, "Bob", wb["token"])
    assert resumed["resumed"] is True
    gone = await bob.recv_type("member_left")  # Ann's seat was kept for the grace, as for anyone away
    assert gone["member"]["name"] == "Ann"
    assert [[p.name for p in r.players] for r in kept_rooms(db)] == [["Bob"]]
    bob.send({"type": "leave_room", "room": room, "id": 2})
    assert (await bob.recv_type("left"))["room"] == room
    assert kept_rooms(db) == []  # the room closed: its record is gone
    assert second.hub is not None and second.hub.rooms == {}
    await bob.close()
    await second.stop()
    third = await make_server(db=str(db))
    assert (third.restored_rooms, third.restored) == (0, 0)


async def test_a_room_left_to_bots_and_spectators_is_not_kept(
    make_server: MakeServer, tmp_path: Path
) -> None:
    """Nobody could come back to it after a restart (spectators are not kept), nor ever close it."""
    db = tmp_path / "netplay.db"
    first = await make_server(db=str(db))
    (ann, _), (eve, _) = await greet(first.port, "Ann"), await greet(first.port, "Eve")
    ann.send({"type": "create_room", "game": "tictactoe", "id": 1})
    room = (await ann.recv_type("joined"))["room"]["id"]
    eve.send({"type": "join_room", "room": room, "spectate": True, "id": 1})
    await eve.recv_type("joined")
    assert [r.id for r in kept_rooms(db)] == [room]  # a spectator changes nothing in the record
    ann.send({"type": "add_bot", "room": room, "id": 2})
    await ann.recv_type("ok")
    ann.send({"type": "leave_room", "room": room, "id": 3})
    await ann.recv_type("left")
    assert kept_rooms(db) == []
    assert first.hub is not None and room in first.hub.rooms  # Eve still watches, in memory only
    await first.stop()
    second = await make_server(db=str(db))
    assert (second.restored_rooms, second.restored) == (0, 0)
