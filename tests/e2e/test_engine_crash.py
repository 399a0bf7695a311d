"""kill -9 in the middle of a clocked dice game: the restarted server resumes it with the right dice
and the right remaining times, and every state anyone saw is the one the record replays to."""

from __future__ import annotations

import signal
import time
from pathlib import Path
from typing import Any

from netplay.games import Pig
from netplay.games import engine as eng
from netplay.store import SqliteStore

from ..conftest import RawPeer
from .test_proofs import free_port, serve

RULES = Pig()
CONTROL = "300+5"


async def greet(port: int, name: str, token: str | None = None) -> tuple[RawPeer, dict[str, Any]]:
    peer = await RawPeer.open(port)
    hello: dict[str, Any] = {"type": "hello", "protocol": 1, "name": name, "id": 0}
    if token is not None:
        hello["token"] = token
    peer.send(hello)
    return peer, await peer.recv_type("welcome")


def choose(state: dict[str, Any]) -> str:
    """Roll until the turn is worth 6, then bank it."""
    return "hold" if state["state"]["turn_total"] >= 6 else "roll"


async def play(
    peers: list[RawPeer], room: str, state: dict[str, Any], seen: dict[int, dict[str, Any]], actions: int
) -> dict[str, Any]:
    """Play ``actions`` actions (or to the end); every peer must see every state. Returns the last."""
    for _ in range(actions):
        if state["outcome"] is not None:
            break
        (seat,) = state["active"]
        peers[seat].send(
            {"type": "move", "room": room, "move": choose(state), "version": state["version"], "id": 1}
        )
        states = [await peer.recv_type("state") for peer in peers]
        assert all(s["version"] == states[0]["version"] for s in states)
        state = states[0]
        seen[state["version"]] = state
        assert (await peers[seat].recv_type("ok"))["re"] == 1
    return state


async def test_kill_9_in_a_clocked_dice_game_resumes_with_the_right_dice_and_clocks(tmp_path: Path) -> None:
    port, db = free_port(), str(tmp_path / "dice.db")
    server = await serve(port, "--db", db)
    names = ["Ann", "Bob", "Cy"]
    greeted = [await greet(port, name) for name in names]
    peers, tokens = [p for p, _ in greeted], [w["token"] for _, w in greeted]
    peers[0].send(
        {"type": "create_room", "game": "pig", "private": True, "clock": CONTROL,
         "options": {"players": 3, "target": 30}, "id": 1}
    )  # fmt: skip
    joined = await peers[0].recv_type("joined")
    room, code = joined["room"]["id"], joined["code"]
    assert joined["room"]["clock"] == CONTROL
    for peer in peers[1:]:
        peer.send({"type": "join_room", "code": code, "id": 1})
        await peer.recv_type("joined")
    state = await peers[0].recv_type("state")
    for peer in peers[1:]:
        assert (await peer.recv_type("state"))["version"] == state["version"]
    seen: dict[int, dict[str, Any]] = {state["version"]: state}
    state = await play(peers, room, state, seen, 12)
    assert state["outcome"] is None, "the game should still be on when the server is killed"
    before, received_before = state, time.time()

    server.process.send_signal(signal.SIGKILL)
    await server.process.wait()
    server = await serve(port, "--db", db)
    try:
        resumed = [await greet(port, name, token) for name, token in zip(names, tokens, strict=True)]
        peers = [p for p, _ in resumed]
        assert all(w["resumed"] and w["rooms"] == [room] for _, w in resumed)
        after = [await peer.recv_type("state") for peer in peers][-1]
        received_after = time.time()

        # The same match, to the die: same version, same state, same seat to move.
        assert (after["version"], after["state"], after["active"]) == (
            before["version"],
            before["state"],
            before["active"],
        )
        # Clocks: seats that were not moving kept their time exactly; the mover was charged for
        # the time that passed, the downtime included (docs/games.md: downtime runs the clocks).
        (mover,) = before["active"]
        clock_before, clock_after = before["clock"], after["clock"]
        assert clock_after["control"] == CONTROL and clock_after["running"] == [mover]
        for seat in range(3):
            if seat != mover:
                assert clock_after["remaining"][seat] == clock_before["remaining"][seat]
        elapsed = received_after - received_before
        expected = clock_before["remaining"][mover] - elapsed
        assert abs(clock_after["remaining"][mover] - expected) < 0.1, (clock_before, clock_after, elapsed)

        state = await play(peers, room, after, seen, 400)
        assert state["outcome"] is not None and len(state["outcome"]["places"]) == 3
    finally:
        server.process.send_signal(signal.SIGTERM)
        await server.process.wait()

    # The record replays, through the rules, to every state the players saw, before and after the
    # crash: the dice after the restart are the ones the match's seed gave, not new ones.
    store = SqliteStore(db, readonly=True)
    (saved,) = store.recent()
    saved = store.get(saved.id)
    store.close()
    assert saved is not None and saved.outcome == state["outcome"] and saved.clock == CONTROL
    first = eng.start(
        RULES, id=saved.id, number=1, seats=3, seed=saved.seed, options=saved.options,
        at=saved.started_at, control=eng.TimeControl.parse(CONTROL),
    )  # fmt: skip
    match = first.match.evolve(version=saved.start_version)
    replayed = {match.version: match.state}
    for record in saved.moves:
        result = eng.step(
            RULES, match, eng.action_from_record(record.kind, record.seat, record.move, record.at)
        )
        assert result.refused is None
        match = result.match
        replayed[match.version] = match.state
    assert {v: s["state"] for v, s in seen.items()} == {v: replayed[v] for v in seen}
    assert match.outcome is not None and match.outcome.to_json() == state["outcome"]
