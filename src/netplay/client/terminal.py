"""``netplay play``: a game at the terminal, for a person or a bot, against anyone on the server."""

from __future__ import annotations

import asyncio
import json
import random
import ssl
import sys
import threading
from dataclasses import dataclass, field
from typing import Any, TextIO

from ..games import Game, load_game
from .aio import Client, ConnectionClosed, NetplayError

__all__ = ["PlayOptions", "Tally", "play"]


@dataclass
class PlayOptions:
    """What ``netplay play`` was asked to do."""

    game: str
    host: str = "127.0.0.1"
    port: int = 7777
    name: str | None = None
    bot: str | None = None
    games: int = 1
    room: str | None = None
    code: str | None = None
    private: bool = False
    spectate: bool = False
    json: bool = False
    rules: str | None = None  # package.module:Class for a game not built in
    seed: int | None = None
    tls: bool = False
    tls_ca: str | None = None  # a CA file to trust, e.g. for a self-signed server certificate

    def ssl_context(self) -> ssl.SSLContext | None:
        if not self.tls:
            return None
        return ssl.create_default_context(cafile=self.tls_ca)


@dataclass
class Tally:
    games: int = 0
    won: int = 0
    lost: int = 0
    drawn: int = 0
    ended_early: str | None = field(default=None, repr=False)

    def to_json(self) -> dict[str, int]:
        return {"games": self.games, "won": self.won, "lost": self.lost, "drawn": self.drawn}


class _Generic(Game):
    """Rules unknown on this side: show the view as JSON, read moves as JSON."""

    def __init__(self, name: str) -> None:
        self._name = name


def _local_rules(options: PlayOptions) -> Game:
    """The rules to draw the board and run a bot with; ValueError if ``--rules`` cannot be loaded."""
    if options.rules:
        return load_game(options.rules)
    try:
        return load_game(options.game)
    except ValueError:
        return _Generic(options.game)  # a game only the server knows: shown and played as JSON


def _stdin_lines(loop: asyncio.AbstractEventLoop, inbox: asyncio.Queue[tuple[str, Any]]) -> None:
    """Read the terminal on a daemon thread (portable, and never blocks the event loop)."""

    def reader() -> None:
        for line in sys.stdin:
            loop.call_soon_threadsafe(inbox.put_nowait, ("line", line))
        loop.call_soon_threadsafe(inbox.put_nowait, ("eof", None))

    threading.Thread(target=reader, name="netplay-stdin", daemon=True).start()


async def play(options: PlayOptions, out: TextIO = sys.stdout) -> tuple[int, Tally]:
    """Play (or watch) ``options.games`` games; return an exit status and the tally."""

    def say(text: str = "") -> None:
        print(text, file=out, flush=True)

    try:
        rules = _local_rules(options)
    except ValueError as exc:
        say(f"error: --rules {exc}")
        return 2, Tally()
    bot = None
    if options.bot is not None:
        bot = rules.bots.get(options.bot)
        if bot is None:
            known = ", ".join(rules.bots) or "none"
            say(f"error: {options.game} has no bot {options.bot!r} (bots: {known})")
            return 2, Tally()
    rng = random.Random(options.seed)
    tally = Tally()
    try:
        client = await Client.connect(
            options.host, options.port, name=options.name, ssl=options.ssl_context()
        )
    except (OSError, TimeoutError) as exc:
        say(f"error: cannot reach a netplay server at {options.host}:{options.port} ({exc})")
        return 1, tally
    except NetplayError as exc:
        hint = "" if options.tls or exc.code != "connection_lost" else " (if the server uses TLS, add --tls)"
        say(f"error: the server refused the connection: {exc.message}{hint}")
        return 1, tally
    try:
        return await _session(client, options, rules, bot, rng, tally, say)
    finally:
        await client.close()


async def _session(
    client: Client,
    options: PlayOptions,
    rules: Game,
    bot: Any,
    rng: random.Random,
    tally: Tally,
    say: Any,
) -> tuple[int, Tally]:
    try:
        if options.room or options.code:
            joined = await client.join(options.room, code=options.code, spectate=options.spectate)
        elif options.spectate:
            say("error: --spectate needs --room ID or --code CODE (see `netplay rooms`)")
            return 2, tally
        elif options.private:
            joined = await client.create_room(options.game, private=True)
        else:
            joined = await client.quick_match(options.game)
    except NetplayError as exc:
        say(f"error: {exc.message}")
        return 1, tally
    room = joined["room"]
    say(f"You are {client.name}, in room {room['id']} ({room['game']}) as {joined['role']}.")
    if "code" in joined:
        say(f"Private room: friends join with  netplay play {room['game']} --code {joined['code']}")
    if joined["role"] == "player" and room.get("free_seats"):
        say("Waiting for an opponent...")

    loop = asyncio.get_running_loop()
    inbox: asyncio.Queue[tuple[str, Any]] = asyncio.Queue()
    if bot is None and not options.spectate:
        _stdin_lines(loop, inbox)

    async def pump() -> None:
        while True:
            try:
                inbox.put_nowait(("event", await client.next_event()))
            except ConnectionClosed as closed:
                inbox.put_nowait(("closed", closed))
                return

    pump_task = asyncio.create_task(pump())
    my_turn_version: int | None = None  # set while the player may move
    sent_version: int | None = None  # set while a move awaits the server's answer
    counted: set[tuple[int, int]] = set()
    try:
        while True:
            kind, item = await inbox.get()
            if kind == "closed":
                reason = item.message if item.code != "connection_lost" else "the server went away"
                say(f"Connection closed: {reason}.")
                tally.ended_early = "closed"
                return 1, tally
            if kind == "eof":
                say("Input ended; leaving the game.")
                return 1, tally
            if kind == "line":
                if my_turn_version is None:
                    if item.strip():
                        say("It is not your turn yet.")
                    continue
                try:
                    move = rules.parse_move(item)
                except ValueError as exc:
                    say(f"{exc}. Your move: ")
                    continue
                await client.move(move, version=my_turn_version)
                sent_version, my_turn_version = my_turn_version, None  # one move per turn
                continue
            event = item
            etype = event["type"]
            if event.get("room") not in (None, room["id"]) and etype != "error":
                continue
            if etype == "error" and event.get("fatal"):
                say(f"The server says: {event['message']}.")
            elif etype == "error":
                say(f"Refused: {event['message']}")
                if sent_version is not None and bot is None:
                    my_turn_version, sent_version = sent_version, None  # try again
                    say(f"Your move ({rules.seat_label(client.seat(room['id']) or 0)}): ")
            elif etype == "member_joined":
                member = event["member"]
                say(f"{member['name']} joined as {member.get('role', 'member')}.")
            elif etype == "member_left":
                member = event["member"]
                say(f"{member['name']} left the room.")
            elif etype == "member_disconnected":
                say(f"{event['member']['name']} lost the connection; waiting for them to come back...")
            elif etype == "member_reconnected":
                say(f"{event['member']['name']} is back.")
            elif etype == "disconnected":
                my_turn_version = sent_version = None
                say(f"Connection lost ({event['message']}); reconnecting...")
            elif etype == "reconnected":
                if not event["resumed"]:
                    say("Reconnected, but the server no longer knows this game.")
                    tally.ended_early = "lost"
                    return 1, tally
                say("Reconnected.")
            elif etype == "state":
                my_turn_version = sent_version = None
                seat = client.seat(room["id"])
                _show_state(event, rules, seat, say)
                outcome = event["outcome"]
                if outcome is not None:
                    key = (event["game"], event["version"])
                    if key not in counted:
                        counted.add(key)
                        _count(tally, outcome, seat, options.spectate)
                        say(_result_line(outcome, seat, event))
                    if outcome["reason"] in ("forfeit", "abandoned") or tally.games >= options.games:
                        return 0, tally
                    if seat is not None:
                        await client.rematch(room["id"])
                        say("Rematch requested...")
                    continue
                if seat is not None and event["turn"] == seat:
                    my_turn_version = event["version"]
                    if bot is not None:
                        view = event["state"]
                        move = await loop.run_in_executor(None, bot, rules, view, seat, rng)
                        await client.move(move, version=my_turn_version)
                    else:
                        say(f"Your move ({rules.seat_label(seat)}): ")
                elif seat is not None:
                    say("Waiting for the other player...")
    finally:
        pump_task.cancel()


def _show_state(event: dict[str, Any], rules: Game, seat: int | None, say: Any) -> None:
    players = {p["seat"]: p for p in event["players"] if p is not None}

    def who(n: int) -> str:
        name = players[n]["name"] if n in players else "(empty seat)"
        return f"{name} ({rules.seat_label(n)})"

    say()
    line = f"Game {event['game']}: " + " vs ".join(who(n) for n in sorted(players))
    last = event.get("last")
    if last is not None:
        line += f". {who(last['seat'])} played {json.dumps(last['move'])}"
    say(line + ".")
    say(rules.render(event["state"], seat))


def _count(tally: Tally, outcome: dict[str, Any], seat: int | None, spectating: bool) -> None:
    tally.games += 1
    if outcome["draw"]:
        tally.drawn += 1
    elif not spectating and outcome["winner"] == seat:
        tally.won += 1
    elif not spectating:
        tally.lost += 1


def _result_line(outcome: dict[str, Any], seat: int | None, event: dict[str, Any]) -> str:
    reason = outcome["reason"]
    if outcome["draw"]:
        return "Game abandoned: the other players left." if reason == "abandoned" else "Draw."
    winner = outcome["winner"]
    if seat is None:
        name = next((p["name"] for p in event["players"] if p and p["seat"] == winner), winner)
        return f"Seat {winner} ({name}) wins."
    if winner == seat:
        return "You win: your opponent left." if reason == "forfeit" else "You win!"
    return "You lose."


def run_play(options: PlayOptions) -> int:
    """Run ``play`` to completion and print the JSON tally if asked; return the exit status."""
    try:
        status, tally = asyncio.run(play(options))
    except KeyboardInterrupt:
        print("\nLeft the game.", flush=True)
        return 130
    if options.json:
        print(json.dumps(tally.to_json()), flush=True)
    return status
