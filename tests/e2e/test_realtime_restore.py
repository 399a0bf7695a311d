"""kill -9 in the middle of a Pong game: the restarted server replays the recorded ticks, waits for
the player to come back, goes on from where the record ends (at most a checkpoint's second before
the crash), and the stored match replays to the result everyone saw; ``netplay play pong --bot``
runs the same game from the command line."""

from __future__ import annotations

import asyncio
import json
import random
import signal
from pathlib import Path

from netplay.client import Client
from netplay.games import ticker
from netplay.games.pong import Pong
from netplay.server.rooms.realtime import CHECKPOINT_SECONDS
from netplay.store import SqliteStore

from .test_cli import Proc
from .test_proofs import free_port, serve

PONG = Pong()


async def test_kill_9_in_mid_game_resumes_from_the_record_and_replays_to_the_result(tmp_path: Path) -> None:
    port, db = free_port(), str(tmp_path / "pong.db")
    server = await serve(port, "--db", db)
    ann = await Client.connect("127.0.0.1", port, name="Ann")
    try:
        ann.predict_with(PONG)
        joined = await ann.create_room("pong", private=True, options={"points": 2})
        room = joined["room"]["id"]
        await ann.add_bot("simple", room=room)
        rng, bot, last = random.Random(5), PONG.bots["simple"], None
        view = ann.view(room)
        while view.tick < 4 * PONG.tick_rate:  # four seconds of play, Ann's bot steering
            view = await ann.next_view(room)
            data = bot(PONG, view.view, view.seat, rng)
            if data is not None and data != last:
                ann.send_input(data, room)
                last = data
        assert view.status == "playing"
        before = view.tick
        server.process.send_signal(signal.SIGKILL)
        await server.process.wait()

        server = await serve(port, "--db", db)  # Ann's client reconnects on its own, with its token
        assert (await ann.wait_for("reconnected", timeout=30))["resumed"] is True
        resumed = await ann.wait_for("keyframe")
        restored = resumed["tick"]
        assert before - CHECKPOINT_SECONDS * PONG.tick_rate - 1 <= restored <= before
        assert resumed["status"] == "playing" and resumed["seat"] == 0
        view = ann.view(room)
        last = None
        while view.status != "finished":
            view = await ann.next_view(room, timeout=60)
            if view.status == "playing":
                data = bot(PONG, view.view, view.seat, rng)
                if data is not None and data != last:
                    ann.send_input(data, room)
                    last = data
        final = view
    finally:
        await ann.close()
        server.process.send_signal(signal.SIGTERM)
        await server.process.wait()

    # The record alone rebuilds the match, through the crash, to the state and result Ann saw last.
    store = SqliteStore(db, readonly=True)
    (saved,) = [m for m in store.recent() if m.game == "pong"]
    saved = store.get(saved.id)
    store.close()
    assert saved is not None and saved.outcome == final.outcome
    records = [ticker.record_from_json(m.move) for m in saved.moves if m.kind == "tick"]
    replayed = ticker.replay(
        PONG,
        id=saved.id,
        number=saved.number,
        seats=2,
        seed=saved.seed,
        options=saved.options,
        records=records,
    )
    assert replayed.outcome is not None and replayed.outcome.to_json() == final.outcome
    assert replayed.tick == final.tick and replayed.state == final.view

    shown = await Proc.start("replay", saved.id, "--db", db)
    await shown.expect(r"The replay reaches the same result\.")
    assert await shown.process.wait() == 0


async def test_netplay_play_pong_with_a_bot_prints_the_tally(tmp_path: Path) -> None:
    port = free_port()
    server = await serve(port)
    try:
        host = await Proc.start(
            "play",
            "pong",
            "--port",
            str(port),
            "--private",
            "--option",
            "points=1",
            "--bot",
            "simple",
            "--json",
        )
        code = (await host.expect(r"share the code (\w+)")).group(1)
        guest = await Proc.start(
            "play", "pong", "--port", str(port), "--code", code, "--bot", "simple", "--json"
        )
        tallies = []
        for proc in (host, guest):
            line = (await proc.expect(r"(\{.*\})", timeout=90)).group(1)
            tallies.append(json.loads(line))
            assert await asyncio.wait_for(proc.process.wait(), 10) == 0
        assert all(t["games"] == 1 and t["drawn"] == 0 for t in tallies)
        assert sorted(t["won"] for t in tallies) == [0, 1]
        watcher = await Proc.start("play", "pong", "--port", str(port))
        await watcher.expect(r"is played in real time: play it in the browser")
        assert await watcher.process.wait() == 2
    finally:
        server.process.send_signal(signal.SIGTERM)
        await server.process.wait()
