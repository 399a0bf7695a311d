"""Client prediction measured over real sockets, with ``lag_proxy`` adding 150 ms of round trip.

A client predicting with Pong's rules plays a server bot with scripted inputs: each input shows in
``predicted()`` at once, before any view from the server could reflect it; with the link steady the
client's and the server's ticks agree (no input comes late), so the prediction never needs a
correction. Over a link that also jitters and stalls, some inputs come late and corrections happen,
yet the game finishes and the client's view is the server's. Run with ``-s`` to see the figures.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from netplay.client import Client
from netplay.games.pong import HEIGHT, PADDLE_HALF, Pong
from netplay.protocol import delta
from netplay.server import Server
from netplay.testing import lag_proxy

MakeServer = Callable[..., Awaitable[Server]]
PONG = Pong()
FPS = 60
#: A new direction every few frames, each one different from the one before.
SCRIPT = [1, 0, -1, 1, -1, 0]


@dataclass
class Played:
    seconds: float  # of game time
    inputs: int
    corrections: int
    late: int

    def report(self, link: str) -> str:
        per_minute = self.corrections / (self.seconds / 60) if self.seconds else 0.0
        return (
            f"\nprediction over {link}: {self.seconds:.1f} s of play, {self.inputs} inputs, "
            f"{self.late} late, {self.corrections} corrections ({per_minute:.1f} a minute)"
        )


async def play_scripted(server: Server, client: Client, room: str, *, seconds: float, every: int) -> Played:
    """A game loop at FPS frames a second: a scripted input every ``every`` frames, until the game
    ends or ``seconds`` of it have been played. Each input must be in the very next prediction."""
    loop = asyncio.get_running_loop()
    view = client.view(room)
    inputs = frame = 0
    async with asyncio.timeout(seconds + 60):
        while view.status != "finished" and view.tick < seconds * view.tick_rate:
            for event in client.poll():
                assert event["type"] != "error", event
            frame += 1
            if view.status == "playing" and view.seat is not None and frame % every == 0:
                seat, tick, theirs = view.seat, view.tick, view.view
                before = view.predicted(loop.time())
                data = {"dir": SCRIPT[inputs % len(SCRIPT)]}
                client.send_input(data, room)
                inputs += 1
                shown = view.predicted(loop.time())
                # Nothing has come from the server in between, let alone a view with this input.
                assert view.tick == tick and view.view is theirs
                if PONG.outcome(shown) is None:  # (else the last point is lost before its tick)
                    assert shown["dirs"][seat] == data["dir"], (before, shown)
                    # A paddle set moving has moved (one stopped may be shown a tick on, still).
                    inside = all(
                        PADDLE_HALF < p["paddles"][seat] < HEIGHT - PADDLE_HALF for p in (before, shown)
                    )
                    if data["dir"] != 0 and inside:
                        assert shown["paddles"][seat] != before["paddles"][seat], (before, shown)
            view.predicted(loop.time())  # what a frame draws
            await asyncio.sleep(1 / FPS)  # the frame's pacing
        while view.pending and view.status == "playing":  # the last inputs are on their way
            await client.next_view(room)
    return Played(view.tick / view.tick_rate, inputs, view.corrections, server.hub.stats.inputs_late)


async def open_game(client: Client, points: int) -> str:
    client.predict_with(PONG)
    joined = await client.create_room("pong", private=True, options={"points": points})
    room = joined["room"]["id"]
    await client.add_bot("simple", room=room)
    first = await client.wait_for("keyframe", timeout=10)
    assert first["status"] == "playing" and first["seat"] == 0
    return room


async def test_over_150_ms_each_input_shows_at_once_and_is_never_corrected(make_server: MakeServer) -> None:
    server = await make_server()
    async with lag_proxy(server.port, latency=0.15) as proxy:
        client = await Client.connect("127.0.0.1", proxy.port, name="Far", reconnect=False)
        try:
            room = await open_game(client, points=15)  # more than 20 s can see
            played = await play_scripted(server, client, room, seconds=20, every=15)
        finally:
            await client.close()
    print(played.report("150 ms"))
    assert played.inputs >= 40 and played.seconds >= 19.9  # a busy machine draws fewer frames
    assert server.hub.stats.inputs_accepted == played.inputs
    # The ticks agreed: inputs reached the server in time for the tick they were stamped for. A busy
    # machine may delay one past its margin; the client then widens the margin, so that at most a
    # couple ever come late ...
    assert played.late <= 2, played
    # ... and what the client showed of its own paddle was what the server then ran: with no late
    # input, not one correction.
    if played.late == 0:
        assert played.corrections == 0, played
    assert played.corrections <= 3 * played.late, played
    assert client.views[room].diverged == 0


async def test_over_a_jittery_stalling_link_late_inputs_are_corrected_and_the_view_converges(
    make_server: MakeServer,
) -> None:
    server = await make_server()
    async with lag_proxy(server.port, latency=0.15, jitter=0.03, stall_every=3.0, stall_for=0.4) as proxy:
        client = await Client.connect("127.0.0.1", proxy.port, name="Wifi", reconnect=False)
        try:
            room = await open_game(client, points=3)
            played = await play_scripted(server, client, room, seconds=90, every=8)
            view = client.views[room]
            assert view.status == "finished" and view.outcome is not None  # the game finished
            final = server.hub.rooms[room].match
            assert final is not None and final.outcome is not None
            # The client's copy is the server's last view of the game, hash and all.
            theirs = PONG.view(final.state, 0)
            assert view.tick == final.tick and view.view == theirs
            assert delta.state_hash(view.view) == delta.state_hash(theirs)
            assert view.predicted(asyncio.get_running_loop().time()) == theirs
        finally:
            await client.close()
    print(played.report("150 ms, 30 ms of jitter, a 0.4 s stall every 3 s"))
    assert played.late > 0  # the stalls held some inputs past their ticks
    assert view.diverged == 0
