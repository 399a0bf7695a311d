"""Chess, battleship and Crazy Eights end to end over real sockets: between two clients, and
against each of their server-side bots (chess's engine bot at a level, when stockfish is here)."""

from __future__ import annotations

import asyncio
import random
import shutil
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from netplay.client import Client, NetplayError
from netplay.games import Battleship, Chess, CrazyEights, Game
from netplay.server import Server

MakeServer = Callable[..., Awaitable[Server]]
STOCKFISH = shutil.which("stockfish") or (
    "/usr/games/stockfish" if Path("/usr/games/stockfish").exists() else None
)


async def seat_two(server: Server, game: str, **room: Any) -> tuple[dict[int, Client], str]:
    """Ann opens a private room of ``game``, Bob joins; both seats, by seat number."""
    ann = await Client.connect("127.0.0.1", server.port, name="Ann")
    bob = await Client.connect("127.0.0.1", server.port, name="Bob")
    joined = await ann.create_room(game, private=True, **room)
    other = await bob.join(code=joined["code"])
    return {joined["seat"]: ann, other["seat"]: bob}, joined["room"]["id"]


async def latest_state(client: Client, room: str, version: int) -> dict[str, Any]:
    """The first state of ``room`` newer than ``version`` that ``client`` receives."""
    while True:
        event = await client.next_event(timeout=20)
        if event["type"] == "state" and event["room"] == room and event["version"] > version:
            return event


async def play_out(
    rules: Game, clients: dict[int, Client], room: str, choose: Callable[[dict[str, Any], int], Any]
) -> dict[str, Any]:
    """Every seated client moves whenever it may act, with ``choose(state, seat)``, until the end.

    Each client keeps its own latest state; a move refused as stale (the other moved meanwhile) is
    simply made again from the newer state. Returns the final state as the first client saw it.
    """

    async def one(seat: int, client: Client) -> dict[str, Any]:
        state = await latest_state(client, room, 0)
        while state["outcome"] is None:
            if seat in state["active"]:
                move = choose(state, seat)
                try:
                    await client.request(
                        {"type": "move", "room": room, "move": move, "version": state["version"]}
                    )
                except NetplayError as error:
                    if error.code != "stale_version":  # the other player moved first: go on
                        raise
            state = await latest_state(client, room, state["version"])
        return state

    finals = await asyncio.wait_for(asyncio.gather(*(one(s, c) for s, c in clients.items())), 120)
    assert all(f["outcome"] == finals[0]["outcome"] for f in finals)
    return finals[0]


def legal_choice(rules: Game, seed: int = 1) -> Callable[[dict[str, Any], int], Any]:
    """A random legal move from what the seat sees (every one of these games lists its moves)."""
    rng = random.Random(seed)
    return lambda state, seat: rng.choice(rules.legal_moves(state["state"], seat))


async def versus_bot(server: Server, game: str, bot: str, **bot_options: Any) -> tuple[Client, str, int]:
    human = await Client.connect("127.0.0.1", server.port, name="Human")
    joined = await human.create_room(game, private=True)
    room = joined["room"]["id"]
    await human.request({"type": "add_bot", "room": room, "bot": bot, **bot_options})
    return human, room, joined["seat"]


# -- chess ----------------------------------------------------------------------------------------


async def test_chess_between_two_clients_in_san_and_uci(make_server: MakeServer) -> None:
    server = await make_server()
    clients, room = await seat_two(server, "chess", clock="300+3")
    white, black = clients[0], clients[1]
    state = await latest_state(white, room, 0)
    for client, move in [(white, "f3"), (black, "e7e5"), (white, "g2g4"), (black, "Qh4#")]:
        await client.request({"type": "move", "room": room, "move": move, "version": state["version"]})
        state = await latest_state(white, room, state["version"])
    assert state["outcome"]["winner"] == 1 and state["outcome"]["reason"] == "checkmate"
    assert state["state"]["san"] == ["f3", "e5", "g4", "Qh4#"]
    assert state["state"]["check"] == "e1" and state["clock"] is not None
    with pytest.raises(NetplayError) as late:
        await white.request({"type": "move", "room": room, "move": "e4", "version": state["version"]})
    assert late.value.code == "game_over"


async def test_chess_against_the_simple_bot_ends_with_the_bot_winning(make_server: MakeServer) -> None:
    server = await make_server()
    human, room, seat = await versus_bot(server, "chess", "simple")
    final = await play_out(Chess(), {seat: human}, room, legal_choice(Chess(), seed=7))
    assert final["outcome"]["winner"] == 1 - seat, final["outcome"]  # random moves lose to it


@pytest.mark.skipif(STOCKFISH is None, reason="no UCI engine here (apt-get install stockfish)")
async def test_chess_against_stockfish_at_a_level(make_server: MakeServer) -> None:
    server = await make_server()
    human, room, seat = await versus_bot(server, "chess", "stockfish", level=3)
    final = await play_out(Chess(), {seat: human}, room, legal_choice(Chess(), seed=3))
    assert final["outcome"]["winner"] == 1 - seat, final["outcome"]
    assert final["players"][1 - seat]["bot"] == "stockfish:3"  # the level is the seat's, and kept
    other = await Client.connect("127.0.0.1", server.port, name="Other")
    room2 = (await other.create_room("chess", private=True))["room"]["id"]
    with pytest.raises(NetplayError) as no_levels:
        await other.request({"type": "add_bot", "room": room2, "bot": "simple", "level": 3})
    assert no_levels.value.message == "the simple bot of chess has no levels"
    with pytest.raises(NetplayError) as too_strong:
        await other.request({"type": "add_bot", "room": room2, "bot": "stockfish", "level": 99})
    assert "from 0 to 20" in too_strong.value.message


# -- battleship -----------------------------------------------------------------------------------


def fire_in_order(state: dict[str, Any], seat: int) -> Any:
    """Place at random, then fire at the first cell not yet shot (A1, B1, ... row by row)."""
    if state["state"]["phase"] == "placement":
        return "random"
    return Battleship().legal_moves(state["state"], seat)[0]


async def test_battleship_between_two_clients(make_server: MakeServer) -> None:
    server = await make_server()
    clients, room = await seat_two(server, "battleship")
    final = await play_out(Battleship(), clients, room, fire_in_order)
    winner = final["outcome"]["winner"]
    assert winner in (0, 1) and final["outcome"]["reason"] == "all ships sunk"
    loser_board = final["state"]["boards"][1 - winner]
    assert all(ship["sunk"] for ship in loser_board["ships"]) and len(loser_board["ships"]) == 5


async def test_battleship_against_the_hunter(make_server: MakeServer) -> None:
    server = await make_server()
    human, room, seat = await versus_bot(server, "battleship", "hunter")
    final = await play_out(Battleship(), {seat: human}, room, legal_choice(Battleship(), seed=5))
    assert final["outcome"]["winner"] == 1 - seat  # random shots lose to a hunt


# -- Crazy Eights ---------------------------------------------------------------------------------


async def test_crazy_eights_between_two_clients_ends_in_a_ranking(make_server: MakeServer) -> None:
    server = await make_server()
    clients, room = await seat_two(server, "crazy8")
    final = await play_out(CrazyEights(), clients, room, legal_choice(CrazyEights(), seed=2))
    outcome = final["outcome"]
    assert sorted(outcome["places"]) in ([1, 2], [1, 1]) and len(outcome["scores"]) == 2
    assert final["state"]["hands"] is not None  # the hands are shown once it is over


async def test_crazy_eights_against_the_sensible_bot_with_three_players(make_server: MakeServer) -> None:
    server = await make_server()
    human = await Client.connect("127.0.0.1", server.port, name="Human")
    joined = await human.create_room("crazy8", private=True, options={"players": 3})
    room, seat = joined["room"]["id"], joined["seat"]
    await human.request({"type": "add_bot", "room": room, "bot": "sensible"})
    await human.request({"type": "add_bot", "room": room, "bot": "random"})
    final = await play_out(CrazyEights(), {seat: human}, room, legal_choice(CrazyEights(), seed=4))
    assert len(final["outcome"]["places"]) == 3
    assert [p["bot"] for p in final["players"] if p["bot"]] == ["sensible", "random"]


@pytest.mark.parametrize(
    ("game", "bot"),
    [(g.name, b) for g in (Chess(), Battleship(), CrazyEights()) for b in g.bots],
)
async def test_every_bot_of_each_game_plays_a_whole_game_over_the_wire(
    make_server: MakeServer, game: str, bot: str
) -> None:
    if bot == "stockfish" and STOCKFISH is None:
        pytest.skip("no UCI engine here (apt-get install stockfish)")
    server = await make_server()
    rules = {"chess": Chess(), "battleship": Battleship(), "crazy8": CrazyEights()}[game]
    human, room, seat = await versus_bot(server, game, bot)
    final = await play_out(rules, {seat: human}, room, legal_choice(rules, seed=11))
    assert final["outcome"] is not None and final["players"][1 - seat]["bot"] == bot
