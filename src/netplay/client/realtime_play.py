"""``netplay play`` for a real-time game: a bot plays (``--bot``), or the terminal watches.

A real-time game is not typed move by move, so a person plays it in the browser or in a pygame
window (``examples/pong_pygame.py``). At the terminal, ``--bot NAME`` lets one of the game's bots
play this seat: it quick-matches (or joins, or opens a room), plays ``--games`` games through the
same client a program would use (inputs stamped with ticks, its own movement predicted), and with
``--json`` ends with the same line as the turn-based games: ``{"games", "won", "lost", "drawn"}``.
Bots run this way fill rooms and load-test a server.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable
from typing import Any

from ..games.realtime import RealtimeGame
from .aio import Client, ConnectionClosed, NetplayError, ServersUnreachable
from .realtime import RealtimeView
from .safe_text import safe_text
from .terminal import PlayOptions, Tally, _count, ranking_text

__all__ = ["play_realtime"]


async def play_realtime(
    options: PlayOptions, rules: RealtimeGame, say: Callable[[str], None]
) -> tuple[int, Tally]:
    """Play (or watch) ``options.games`` games of a real-time game; the exit status and the tally."""
    tally = Tally()
    if options.bot is None and not options.spectate:
        bots = ", ".join(rules.bots) or "none"
        say(
            f"{rules.name} is played in real time: play it in the browser (netplay serve's page), or "
            f"let a bot play this seat with --bot NAME (bots: {bots}), or watch with --spectate."
        )
        return 2, tally
    bot = None
    if options.bot is not None:
        bot = rules.bots.get(options.bot or next(iter(rules.bots), ""))  # --bot alone: the default
        if bot is None:
            say(f"error: {rules.name} has no bot {options.bot!r} (bots: {', '.join(rules.bots) or 'none'})")
            return 2, tally
    try:
        client = await Client.connect(servers=options.addresses, name=options.name, ssl=options.ssl_context())
    except ServersUnreachable as exc:  # it names every address tried
        say(f"error: {exc}")
        return 1, tally
    except (NetplayError, OSError) as exc:
        say(f"error: cannot reach {options.where}: {exc}")
        return 1, tally
    try:
        client.predict_with(rules)
        joined = await _enter(client, options, say)
        if isinstance(joined, int):
            return joined, tally
        room = joined["room"]["id"]
        if options.private and joined.get("code"):
            say(f"Private room: share the code {joined['code']}")
        say(f"In room {room} ({rules.name}); waiting for the game to start.")
        rng = random.Random(options.seed)
        status = await _games(client, room, rules, bot, rng, options, tally, say)
        return status, tally
    except ConnectionClosed as exc:
        say(f"The connection ended: {exc.message}")
        return 1, tally
    finally:
        await client.close()


async def _enter(client: Client, options: PlayOptions, say: Callable[[str], None]) -> dict[str, Any] | int:
    try:
        if options.room or options.code:
            return await client.join(options.room, code=options.code, spectate=options.spectate)
        if options.spectate:
            say("error: --spectate needs --room ID or --code CODE (see `netplay rooms`)")
            return 2
        if options.vs is not None:
            joined = await client.create_room(options.game, private=True, options=options.game_options)
            request: dict[str, Any] = {"type": "add_bot", "room": joined["room"]["id"]}
            if options.vs:
                request["bot"] = options.vs
            for _ in range(max(int(joined["room"].get("free_seats") or 1), 1)):
                await client.request(request)
            return joined
        if options.private:
            return await client.create_room(options.game, private=True, options=options.game_options)
        return await client.quick_match(options.game, options=options.game_options or None)
    except NetplayError as exc:
        say(f"error: {exc.message}")
        return 1


async def _games(
    client: Client,
    room: str,
    rules: RealtimeGame,
    bot: Any,
    rng: random.Random,
    options: PlayOptions,
    tally: Tally,
    say: Callable[[str], None],
) -> int:
    """Play until ``options.games`` games have ended; the bot acts once a tick on the predicted view."""
    loop = asyncio.get_running_loop()
    view: RealtimeView = client.views[room]
    played_game = 0  # the number of the last game counted
    last_input: Any = None
    while True:
        period = 1.0 / max(view.tick_rate, 1)
        try:
            event = await client.next_event(timeout=period)
        except TimeoutError:
            event = None
        if event is not None:
            if event["type"] == "error":
                if event.get("fatal"):
                    say(f"error: {safe_text(str(event.get('message')))}")
                    return 1
                last_input = None  # a refused input (too late, say): send the next one anyway
                continue
            if event["type"] == "member_left" and options.spectate:
                continue
        if view.status == "finished" and view.game != played_game and view.outcome is not None:
            played_game = view.game
            spectating = view.seat is None
            _count(tally, view.outcome, view.seat, spectating)
            say(_result(view, rules))
            if tally.games >= options.games:
                return 0
            if not spectating:
                await client.rematch(room)
            last_input = None
            continue
        if bot is None or view.seat is None or view.status != "playing" or view.view is None:
            continue
        seen = view.predicted(loop.time())
        try:
            data = bot(rules, seen, view.seat, rng)
        except Exception as exc:  # a broken bot ends this run, with the reason
            say(f"error: the {options.bot or next(iter(rules.bots))} bot failed: {exc!r}")
            return 1
        if data is not None and data != last_input:
            client.send_input(data, room)
            last_input = data


def _result(view: RealtimeView, rules: RealtimeGame) -> str:
    """One line on how a game ended, from this player's point of view."""
    outcome = view.outcome or {}
    reason = outcome.get("reason", "rules")

    def who(seat: int) -> str:
        names = {p["seat"]: p["name"] for p in view.players if p is not None}
        you = " (you)" if seat == view.seat else ""
        return safe_text(f"{names.get(seat, '?')} ({rules.seat_label(seat)}){you}")

    if outcome.get("draw"):
        return f"Game {view.game}: a draw ({reason})."
    ranking = outcome.get("ranking")
    if ranking and (len(ranking) > 2 or any(len(group) > 1 for group in ranking)):
        return f"Game {view.game}: {ranking_text(ranking, who, outcome.get('scores'))} ({reason})."
    winner = outcome.get("winner")
    if view.seat is not None and winner is not None:
        words = "you won" if winner == view.seat else "you lost"
        return f"Game {view.game}: {words}; {who(winner)} won ({reason})."
    return f"Game {view.game}: {who(winner) if winner is not None else 'nobody'} won ({reason})."
