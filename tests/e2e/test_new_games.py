"""The new games and match features end to end: rock-paper-scissors (simultaneous, hidden), pig (dice,
rankings), resigning, draw offers, clocks and the move timeout, by Client objects and by the
``netplay play`` / ``matches`` / ``replay`` commands."""

from __future__ import annotations

import asyncio
import json
import re
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from netplay.client import Client, NetplayError
from netplay.games import TicTacToe, builtin_games
from netplay.server import Server
from netplay.store import SqliteStore

from .test_cli import Proc

MakeServer = Callable[..., Awaitable[Server]]


async def play_until_over(client: Client, room: str, timeout: float = 15.0) -> list[dict[str, Any]]:
    """Every event ``client`` receives up to and including the state that ends the game."""
    seen = []
    async with asyncio.timeout(timeout):
        while True:
            event = await client.next_event()
            seen.append(event)
            if event["type"] == "state" and event["room"] == room and event["outcome"] is not None:
                return seen


async def pair(server: Server, game: str, **room: Any) -> tuple[Client, Client, str]:
    """Ann opens a room of ``game``, Bob joins it; both have seen the first state."""
    ann = await Client.connect("127.0.0.1", server.port, name="Ann")
    bob = await Client.connect("127.0.0.1", server.port, name="Bob")
    room_id = (await ann.create_room(game, **room))["room"]["id"]
    await bob.join(room_id)
    for client in (ann, bob):
        await client.wait_for("state", room=room_id)
    return ann, bob, room_id


def finished(tally_line: str) -> dict[str, int]:
    tally = json.loads(tally_line)
    assert set(tally) == {"games", "won", "lost", "drawn"}
    return dict(tally)


# -- rock, paper, scissors ---------------------------------------------------------------------------


async def test_rps_between_two_terminal_bots(make_server: MakeServer) -> None:
    server = await make_server()
    base = ["play", "rps", "--port", str(server.port), "--json"]
    one = await Proc.start(*base, "--bot", "random", "--seed", "1", "--name", "One")
    await one.expect("Waiting for an opponent")
    two = await Proc.start(*base, "--bot", "frequency", "--seed", "2", "--name", "Two")
    (status1, out1), (status2, out2) = await asyncio.gather(one.finish(), two.finish())
    assert status1 == status2 == 0, out1 + out2
    assert "Traceback" not in out1 + out2
    tally1, tally2 = finished(out1.splitlines()[-1]), finished(out2.splitlines()[-1])
    assert tally1["games"] == tally2["games"] == 1
    assert (tally1["won"], tally1["lost"], tally1["drawn"]) == (
        tally2["lost"],
        tally2["won"],
        tally2["drawn"],
    )
    # Both were asked at once, and each only learnt that the other had chosen, never what.
    assert "Phase: choosing." in out1 and re.search(r"Two \(player 2\) has chosen\.", out1)
    assert re.search(r"One \(player 1\) has chosen\.", out2)
    assert re.search(r"^You (win!|lose\.)$|^Draw\.$", out1, re.M)


@pytest.mark.parametrize("first", [0, 1])
async def test_rps_both_choose_against_the_same_version_and_neither_sees_the_other(
    make_server: MakeServer, first: int
) -> None:
    server = await make_server()
    ann, bob, room = await pair(server, "rps", options={"rounds": 1})
    watcher = await Client.connect("127.0.0.1", server.port, name="Eve")
    await watcher.join(room, spectate=True)
    start = await watcher.wait_for("state", room=room)
    assert start["active"] == [0, 1] and start["turn"] is None and start["phase"] == "choosing"
    version = start["version"]
    players, choices = [ann, bob], ["rock", "scissors"]  # rock beats scissors: seat 0 wins
    order = [first, 1 - first]
    for seat in order:  # both against the version both were shown, one after the other
        reply = await players[seat].request(
            {"type": "move", "room": room, "move": choices[seat], "version": version}
        )
        assert reply["type"] == "ok"
    seen = {seat: await play_until_over(players[seat], room) for seat in (0, 1)}
    seen[None] = await play_until_over(watcher, room)  # type: ignore[index]
    for viewer, events in seen.items():
        final = events[-1]
        assert final["outcome"]["winner"] == 0 and final["outcome"]["places"] == [1, 2]
        assert final["state"]["history"] == [{"choices": ["rock", "scissors"], "winner": 0}]
        before = [e for e in events[:-1] if e["type"] == "state"]
        assert before, "the state between the two choices"
        for state in before:
            assert state["state"]["history"] == [] and "pending" not in state["state"]
            text = json.dumps(state)
            for seat in (0, 1):
                if seat != viewer:  # another seat's choice: nowhere in what this viewer got
                    assert choices[seat] not in text, (viewer, state)
            assert state["state"]["mine"] == (choices[order[0]] if viewer == order[0] else None)
            last = state["last"]
            assert last["seat"] == order[0]
            assert ("move" in last) == (last["seat"] == viewer)
            assert state["active"] == [order[1]] and state["state"]["chosen"][order[0]] is True
    for client in (ann, bob, watcher):
        await client.close()


async def test_the_terminal_shows_a_hidden_choice_without_crashing(make_server: MakeServer) -> None:
    """Regression: a ``last`` without "move" (the opponent's hidden choice) crashed with KeyError."""
    server = await make_server()
    human = await Proc.start(
        "play", "rps", "--port", str(server.port), "--name", "Human", "--json", stdin=True
    )
    await human.expect("Waiting for an opponent")
    rival = await Client.connect("127.0.0.1", server.port, name="Rival")
    room = (await rival.quick_match("rps"))["room"]["id"]
    await human.expect(r"Your move \(player 1; or: resign, draw, decline\)")
    for round_number in (1, 2):  # best of three: two won rounds end it
        state = await rival.wait_for("state", room=room, active=[0, 1])
        await rival.request({"type": "move", "room": room, "move": "scissors", "version": state["version"]})
        await human.expect(r"Rival \(player 2\) has chosen\.")
        await human.expect("Your move")
        human.type("r")
        await human.expect(rf"round {round_number}: rock vs scissors, player 1 wins")
    await human.expect("You win!")
    status, output = await human.finish()
    assert status == 0 and "Traceback" not in output and "KeyError" not in output
    assert finished(output.splitlines()[-1]) == {"games": 1, "won": 1, "lost": 0, "drawn": 0}
    await rival.close()


# -- pig: three players, dice, a ranking ------------------------------------------------------------


async def test_pig_of_three_players_with_bots_ends_in_a_ranking(make_server: MakeServer) -> None:
    server = await make_server()
    ann = await Client.connect("127.0.0.1", server.port, name="Ann")
    joined = await ann.create_room("pig", options={"players": 3, "target": 20})
    room = joined["room"]["id"]
    assert joined["room"]["seats"] == 3
    await ann.add_bot("hold20")
    term = await Proc.start(
        "play", "pig", "--port", str(server.port), "--room", room, "--bot", "hold20", "--json",
        "--name", "Term", "--seed", "3",
    )  # fmt: skip
    final = None
    moved: set[int] = set()
    async with asyncio.timeout(30):
        while final is None:
            event = await ann.next_event()
            if event["type"] != "state" or event["room"] != room:
                continue
            if event["outcome"] is not None:
                final = event
            elif event["active"] == [0] and event["version"] not in moved:
                moved.add(event["version"])
                assert event["turn"] == 0 and event["phase"] is None
                view = event["state"]
                await ann.move("hold" if view["turn_total"] >= 6 else "roll", version=event["version"])
    outcome = final["outcome"]
    assert sorted(s for group in outcome["ranking"] for s in group) == [0, 1, 2]
    scores = outcome["scores"]
    assert len(outcome["places"]) == 3 and max(scores) >= 20
    for seat, place in enumerate(outcome["places"]):
        assert place == 1 + sum(other > scores[seat] for other in scores)  # ties share a place
    assert [p["name"] for p in final["players"]] == ["Ann", "hold20 bot", "Term"]
    status, output = await term.finish()
    assert status == 0 and "Traceback" not in output
    assert re.search(r"^1st .+ \d+, 2nd .+$", output, re.M), output
    assert f"You came {_ordinal(outcome['places'][2])}" in output
    tally = finished(output.splitlines()[-1])
    place, firsts = outcome["places"][2], outcome["places"].count(1)
    expected = "won" if place == 1 and firsts == 1 else "drawn" if place == 1 else "lost"
    assert tally == {"games": 1, "won": 0, "lost": 0, "drawn": 0, expected: 1}
    await ann.close()


async def test_rps_against_the_server_bot_to_the_end(make_server: MakeServer) -> None:
    server = await make_server()
    ann = await Client.connect("127.0.0.1", server.port, name="Ann")
    room = (await ann.create_room("rps", options={"rounds": 5}))["room"]["id"]
    await ann.add_bot("frequency")
    chosen: set[int] = set()
    async with asyncio.timeout(30):
        while True:
            event = await ann.next_event()
            if event["type"] != "state" or event["room"] != room:
                continue
            if event["outcome"] is not None:
                break
            view = event["state"]
            rounds = len(view["history"])
            if 0 in event["active"] and rounds not in chosen:
                chosen.add(rounds)
                await ann.move("rock", version=event["version"])  # always rock: the bot learns it
    outcome, view = event["outcome"], event["state"]
    assert outcome["reason"] == "rules" and outcome["winner"] == 1  # the frequency bot counters rock
    assert view["score"][1] == 3 and all(r["choices"][0] == "rock" for r in view["history"])
    await ann.close()


async def test_pig_between_two_clients_with_the_servers_dice(make_server: MakeServer) -> None:
    server = await make_server()
    ann, bob, room = await pair(server, "pig", options={"target": 15})
    players = {0: ann, 1: bob}
    rolls_seen: list[int] = []
    last: dict[str, Any] = {}
    async with asyncio.timeout(30):
        state = ann.states[room]
        while state["outcome"] is None:
            (seat,) = state["active"]
            move = "hold" if state["state"]["turn_total"] >= 5 else "roll"
            await players[seat].move(move, version=state["version"])
            state = await ann.wait_for("state", room=room, version=state["version"] + 1)
            last = await bob.wait_for("state", room=room, version=state["version"])
            assert last["state"] == state["state"]  # both see the same dice
            rolls_seen.extend(state["state"]["rolls"][-1:] if move == "roll" else [])
    assert max(state["outcome"]["scores"]) >= 15 and state["outcome"]["places"] in ([1, 2], [2, 1])
    assert rolls_seen and all(1 <= r <= 6 for r in rolls_seen)
    assert "seed" not in json.dumps(last)  # nothing a client receives says how the dice will fall
    await ann.close()
    await bob.close()


def _ordinal(n: int) -> str:
    return f"{n}{ {1: 'st', 2: 'nd', 3: 'rd'}.get(n, 'th') }"


# -- resigning and draws over the wire --------------------------------------------------------------


async def test_resign_and_draw_offers_over_the_wire(make_server: MakeServer) -> None:
    server = await make_server()
    ann, bob, room = await pair(server, "tictactoe")
    assert (await ann.offer_draw(room))["type"] == "ok"
    offered = await bob.wait_for("draw_offered", room=room)
    assert offered["seat"] == 0 and offered["offers"] == [0] and offered["player"] == ann.id
    assert (await ann.wait_for("draw_offered", room=room))["seat"] == 0  # the offerer hears it too
    assert (await bob.decline_draw(room))["type"] == "ok"
    declined = await ann.wait_for("draw_declined", room=room)
    assert declined == {"type": "draw_declined", "room": room, "seat": 1, "player": bob.id}
    await ann.offer_draw(room)
    await bob.wait_for("draw_offered", room=room)
    assert (await bob.offer_draw(room))["type"] == "ok"  # accepting is offering back
    agreed = await ann.wait_for("state", room=room, status="finished")
    assert agreed["outcome"]["reason"] == "agreed" and agreed["outcome"]["draw"] is True
    assert agreed["outcome"]["places"] == [1, 1] and agreed["active"] == []
    # A rematch (seats swap: Bob plays X), then Ann resigns in the middle of it.
    await ann.rematch(room)
    await bob.rematch(room)
    second = await ann.wait_for("state", room=room, game=2)
    assert second["turn"] == 0 and second["players"][1]["name"] == "Ann"
    assert (await ann.resign(room))["type"] == "ok"
    over = await bob.wait_for("state", room=room, status="finished", game=2)
    assert over["outcome"]["reason"] == "resign" and over["outcome"]["winner"] == 0
    assert over["outcome"]["places"] == [1, 2]
    with pytest.raises(NetplayError) as late:
        await bob.resign(room)
    assert late.value.code == "game_over"
    for client in (ann, bob):
        await client.close()


async def test_a_terminal_player_offers_declines_and_resigns(make_server: MakeServer) -> None:
    server = await make_server()
    human = await Proc.start(
        "play", "tictactoe", "--port", str(server.port), "--name", "Human", "--json", stdin=True
    )
    await human.expect("resign \\(give up the game\\)")  # the commands, said once at the start
    rival = await Client.connect("127.0.0.1", server.port, name="Rival")
    room = (await rival.quick_match("tictactoe"))["room"]["id"]
    await human.expect("Your move")
    human.type("draw")
    await rival.wait_for("draw_offered", room=room, seat=0)
    await human.expect("You offered a draw")
    await rival.decline_draw(room)
    await human.expect(r"Rival \(O\) declined the draw\.")
    human.type("decline")
    await human.expect("There is no draw offer to decline")
    await rival.offer_draw(room)
    await human.expect(r"Rival \(O\) offers a draw: type draw to accept, decline to refuse\.")
    human.type("decline")
    await human.expect("You declined the draw.")
    await rival.wait_for("draw_declined", room=room, seat=0)
    human.type("resign")
    await human.expect(r"^You resigned\. You lose\.$")
    status, output = await human.finish()
    assert status == 0 and "Traceback" not in output
    assert finished(output.splitlines()[-1]) == {"games": 1, "won": 0, "lost": 1, "drawn": 0}
    state = rival.states[room]
    assert state["outcome"]["reason"] == "resign" and state["outcome"]["winner"] == 1
    await rival.close()


async def test_a_draw_agreed_at_the_terminal(make_server: MakeServer) -> None:
    server = await make_server()
    human = await Proc.start("play", "tictactoe", "--port", str(server.port), "--json", stdin=True)
    await human.expect("Waiting for an opponent")
    rival = await Client.connect("127.0.0.1", server.port, name="Rival")
    room = (await rival.quick_match("tictactoe"))["room"]["id"]
    await rival.wait_for("state", room=room)
    await rival.offer_draw(room)
    await human.expect("offers a draw")
    human.type("draw")
    await human.expect("^Draw agreed.$")
    status, output = await human.finish()
    assert status == 0 and finished(output.splitlines()[-1]) == {"games": 1, "won": 0, "lost": 0, "drawn": 1}
    await rival.close()


# -- clocks and the move timeout --------------------------------------------------------------------


async def test_a_game_clock_running_out_loses_on_time(make_server: MakeServer) -> None:
    server = await make_server()
    ann, bob, room = await pair(server, "tictactoe", clock="0.5")
    start = ann.states[room]
    assert start["clock"]["control"] == "0.5+0" and start["clock"]["running"] == [0]
    assert 0 < start["clock"]["remaining"][0] <= 0.5 and start["clock"]["remaining"][1] == 0.5
    over = await bob.wait_for("state", room=room, status="finished")  # Ann never moves
    assert over["outcome"]["reason"] == "time" and over["outcome"]["winner"] == 1
    assert over["clock"]["remaining"][0] == 0 and over["clock"]["running"] == []
    for client in (ann, bob):
        await client.close()


async def test_a_limit_per_move_running_out_loses_on_time(make_server: MakeServer) -> None:
    server = await make_server()
    ann, bob, room = await pair(server, "tictactoe", clock="2/move")
    assert ann.states[room]["clock"]["control"] == "2/move"
    await ann.move(4)  # well within its 2 s
    await ann.wait_for("state", room=room, turn=1)
    over = await ann.wait_for("state", room=room, status="finished")  # Bob never answers
    assert over["outcome"]["reason"] == "time" and over["outcome"]["winner"] == 0
    assert over["outcome"]["places"] == [1, 2]
    for client in (ann, bob):
        await client.close()


async def test_the_final_state_shows_no_time_left_for_a_per_move_loser(make_server: MakeServer) -> None:
    server = await make_server()
    ann, bob, room = await pair(server, "tictactoe", clock="0.5/move")
    over = await bob.wait_for("state", room=room, status="finished")
    try:
        assert over["outcome"]["reason"] == "time"
        assert over["clock"]["remaining"][0] == 0
    finally:
        for client in (ann, bob):
            await client.close()


async def test_the_move_timeout_without_a_clock(make_server: MakeServer) -> None:
    server = await make_server(move_timeout=0.5)
    ann, bob, room = await pair(server, "tictactoe")
    assert ann.states[room]["clock"] is None
    over = await bob.wait_for("state", room=room, status="finished")
    assert over["outcome"]["reason"] == "time" and over["outcome"]["winner"] == 1
    for client in (ann, bob):
        await client.close()


async def test_quick_match_pairs_only_the_same_clock(make_server: MakeServer) -> None:
    server = await make_server()
    clients = [await Client.connect("127.0.0.1", server.port) for _ in range(3)]
    a = await clients[0].quick_match("tictactoe", clock="5m+3")
    b = await clients[1].quick_match("tictactoe")
    c = await clients[2].quick_match("tictactoe", clock="300+3")
    assert a["room"]["clock"] == "300+3" and b["room"]["clock"] is None
    assert a["room"]["id"] != b["room"]["id"] and c["room"]["id"] == a["room"]["id"]
    for client in clients:
        await client.close()


async def test_quick_match_pairs_only_the_same_options(make_server: MakeServer) -> None:
    server = await make_server()
    clients = [await Client.connect("127.0.0.1", server.port) for _ in range(4)]
    a = await clients[0].quick_match("pig", options={"target": 20})
    b = await clients[1].quick_match("pig", options={"target": 50})
    c = await clients[2].quick_match("pig", options={"target": 20})
    assert a["room"]["id"] != b["room"]["id"] and c["room"]["id"] == a["room"]["id"]
    with pytest.raises(NetplayError) as refused:
        await clients[3].quick_match("pig", options={"seed": 4})  # the server owns the dice
    assert refused.value.code == "invalid_message" and "'seed' is not an option" in refused.value.message
    for client in clients:
        await client.close()


async def test_netplay_play_with_a_clock_shows_it(make_server: MakeServer) -> None:
    server = await make_server()
    base = ["play", "tictactoe", "--port", str(server.port), "--clock", "60+1", "--json"]
    smart = await Proc.start(*base, "--bot", "minimax", "--seed", "1")
    await smart.expect("Time control: 60\\+1")
    other = await Proc.start("play", "tictactoe", "--port", str(server.port), "--bot", "random")
    await other.expect("Waiting for an opponent")  # no clock: not paired with the clocked player
    dumb = await Proc.start(*base, "--bot", "random", "--seed", "2")
    status, output = await smart.finish()
    assert status == 0 and "Traceback" not in output
    assert re.search(r"^Clock 60\+1: .+\(X\) [01]:\d\d( \(running\))?, .+\(O\) [01]:\d\d", output, re.M)
    assert finished(output.splitlines()[-1])["lost"] == 0
    assert (await dumb.finish())[0] == 0
    other.kill()
    await other.finish()


async def test_the_terminal_warns_when_time_runs_low(make_server: MakeServer) -> None:
    server = await make_server()
    # 12 s a move: the warning comes 2 s into the move.
    human = await Proc.start(
        "play", "tictactoe", "--port", str(server.port), "--clock", "12/move", "--json", stdin=True
    )
    await human.expect("Waiting for an opponent")
    rival = await Client.connect("127.0.0.1", server.port, name="Rival")
    room = (await rival.quick_match("tictactoe", clock="12/move"))["room"]["id"]
    await human.expect(r"Clock 12/move: .+ 0:1\d \(running\), Rival \(O\) 0:12\.")
    await human.expect(r"Your move \(X, 0:1\d left; ")
    await human.expect("Time is running out: 10 s left.")
    human.type("5")
    await rival.wait_for("state", room=room, turn=1)
    await human.expect("Waiting for Rival")
    await rival.close()
    await human.expect("You win: your opponent left.")
    assert (await human.finish())[0] == 0


async def test_the_terminal_reports_a_loss_on_time(make_server: MakeServer) -> None:
    server = await make_server()
    human = await Proc.start(
        "play", "tictactoe", "--port", str(server.port), "--clock", "0.5/move", "--json", stdin=True
    )
    await human.expect("Waiting for an opponent")
    rival = await Client.connect("127.0.0.1", server.port, name="Rival")
    room = (await rival.quick_match("tictactoe", clock="0.5/move"))["room"]["id"]
    over = await rival.wait_for("state", room=room, status="finished")
    assert over["outcome"]["reason"] == "time"
    await human.expect("^You lost on time. You lose.$")
    status, output = await human.finish()
    assert status == 0 and finished(output.splitlines()[-1])["lost"] == 1
    await rival.close()


async def test_serve_move_timeout_flag(tmp_path: Path) -> None:
    for bad in ("-1", "soon"):
        status, output = await (await Proc.start("serve", "--port", "0", "--move-timeout", bad)).finish()
        assert status == 2 and "--move-timeout" in output and "Traceback" not in output
    serve = await Proc.start("serve", "--port", "0", "--move-timeout", "0.5", "--no-web")
    port = int((await serve.expect(r"on 127\.0\.0\.1:(\d+)")).group(1))
    ann = await Client.connect("127.0.0.1", port, name="Ann")
    bob = await Client.connect("127.0.0.1", port, name="Bob")
    room = (await ann.quick_match("tictactoe"))["room"]["id"]
    await bob.quick_match("tictactoe")
    over = await bob.wait_for("state", room=room, status="finished")
    assert over["outcome"]["reason"] == "time" and over["outcome"]["winner"] == 1
    for client in (ann, bob):
        await client.close()
    serve.process.terminate()
    assert (await serve.finish())[0] == 0


# -- matches and replay --------------------------------------------------------------------------------


async def netplay(*args: str) -> tuple[int, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "netplay", *args,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip
    out, _ = await process.communicate()
    return await process.wait(), out.decode()


class RandomOnTimeout(TicTacToe):
    """Tic-tac-toe where a player out of time has a random move played for them."""

    name = "ttt-auto"
    timeout_policy = "random"


async def test_matches_and_replay_show_every_kind_of_action(make_server: MakeServer, tmp_path: Path) -> None:
    db = str(tmp_path / "games.db")
    server = await make_server([*builtin_games().values(), RandomOnTimeout()], db=db)
    # 1. A clocked game: an offer, a decline, two moves, a resignation.
    ann, bob, room = await pair(server, "tictactoe", clock="30/move")
    await ann.offer_draw(room)
    await bob.decline_draw(room)
    await ann.move(4)
    await bob.wait_for("state", room=room, turn=1)
    await bob.move(0)
    await bob.wait_for("state", room=room, turn=0)
    await bob.resign(room)
    await ann.wait_for("state", room=room, status="finished")
    # 2. A time loss, and 3. an agreed draw.
    ann2, bob2, room2 = await pair(server, "tictactoe", clock="0.5/move")
    await bob2.wait_for("state", room=room2, status="finished")
    ann3, bob3, room3 = await pair(server, "rps")
    await ann3.offer_draw(room3)
    await bob3.offer_draw(room3)
    await ann3.wait_for("state", room=room3, status="finished")
    # 4. Pig for three, with two server bots: a ranking.
    cy = await Client.connect("127.0.0.1", server.port, name="Cy")
    room4 = (await cy.create_room("pig", options={"players": 3, "target": 10}))["room"]["id"]
    await cy.add_bot("hold20")
    await cy.add_bot("hold20")
    async with asyncio.timeout(30):
        while True:
            state = await cy.wait_for("state", room=room4)
            if state["outcome"] is not None:
                break
            if 0 in state["active"]:
                await cy.move("hold" if state["state"]["turn_total"] >= 4 else "roll")
    # 5. Nobody moves: every move is played for the player out of time.
    ann5, bob5, room5 = await pair(server, "ttt-auto", clock="0.2/move")
    await ann5.wait_for("state", room=room5, status="finished")
    for client in (ann, bob, ann2, bob2, ann3, bob3, cy, ann5, bob5):
        await client.close()
    await server.stop()
    store = SqliteStore(db)
    ids = {m.room_id: m.id for m in store.recent()}
    store.close()

    status, listing = await netplay("matches", "--db", db)
    assert status == 0, listing
    lines = {room_id: next(line for line in listing.splitlines() if ids[room_id] in line) for room_id in ids}
    assert "Ann won (Bob resigned)" in lines[room] and "clock 30/move" in lines[room]
    assert " 2 moves" in lines[room]
    assert "Bob won (Ann lost on time)" in lines[room2] and "clock 0.5/move" in lines[room2]
    assert "draw agreed" in lines[room3]
    assert re.search(r"1st \S+( bot)? \d+, 2nd ", lines[room4]), lines[room4]

    status, replay = await netplay("replay", ids[room], "--db", db)
    assert status == 0, replay
    assert "Clock: 30/move" in replay
    steps = re.findall(r"^(\d+)\. (.+) \(at \+\d+\.\d s\)$", replay, re.M)
    assert [text for _, text in steps] == [
        "Ann (X) offers a draw",
        "Bob (O) declines the draw",
        "Ann (X) plays 5",  # the cells as people number them: the moves were 4 and 0
        "Bob (O) plays 1",
        "Bob (O) resigns",
    ]
    assert " O | 2 | 3" in replay and "Result: Ann won (Bob resigned)" in replay
    status, replay = await netplay("replay", ids[room2], "--db", db)
    assert "1. Ann (X) runs out of time (at +0.5 s)" in replay
    assert "Result: Bob won (Ann lost on time)" in replay
    status, replay = await netplay("replay", ids[room4], "--db", db)
    assert status == 0 and "Traceback" not in replay
    assert 'plays "roll"' in replay and "first to 10" in replay  # the dice replay from the seed
    assert re.search(r"^Result: 1st ", replay, re.M)
    rules = "tests.e2e.test_new_games:RandomOnTimeout"
    status, replay = await netplay("replay", ids[room5], "--db", db, "--rules", rules)
    assert status == 0, replay
    assert re.search(r"^1\. Ann \(X\) ran out of time; played for them: \d \(at \+0\.2 s\)$", replay, re.M)
    assert re.search(r"^2\. Bob \(O\) ran out of time; played for them: \d \(at \+0\.4 s\)$", replay, re.M)
