"""``netplay play``: a game at the terminal, for a person or a bot, against anyone on the server."""

from __future__ import annotations

import asyncio
import json
import math
import random
import signal
import ssl
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TextIO

from ..games import Game, RealtimeGame, load_game
from .aio import Address, Client, ConnectionClosed, NetplayError, ServersUnreachable, format_server
from .safe_text import safe_text
from .state_file import KeptSession, SessionStore, Slot

__all__ = ["PlayOptions", "Tally", "play"]


@dataclass
class PlayOptions:
    """What ``netplay play`` was asked to do."""

    game: str
    host: str = "127.0.0.1"
    port: int = 7777
    name: str | None = None
    bot: str | None = None
    vs: str | None = None  # a server-side bot to play against ("": the game's default bot)
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
    clock: str | None = None  # a time control for the room this player opens or quick-matches into
    new: bool = False  # start afresh: ignore (and delete) the session kept from an earlier run
    #: The game's options for a room this command opens (--private, --vs): ``--option KEY=VALUE``.
    game_options: dict[str, Any] = field(default_factory=dict)
    #: ``--server HOST:PORT``, repeatable: the addresses to try in order, instead of host and port.
    servers: tuple[Address, ...] = ()

    @property
    def addresses(self) -> tuple[Address, ...]:
        """The servers this command connects to, in the order it tries them."""
        return self.servers or ((self.host, self.port),)

    @property
    def server(self) -> str:
        """The server as ``host:port``: with the game, the key of the session kept for it.

        Several servers: their addresses sorted and joined with commas, so the same set, in any
        order, finds the session again (the nodes of a cluster all resume it).
        """
        return ",".join(sorted({format_server(*address) for address in self.addresses}))

    @property
    def where(self) -> str:
        """The servers as a person reads them: ``host:port``, or several, in the order given."""
        return ", ".join(format_server(*address) for address in self.addresses)

    @property
    def how(self) -> str:
        """How this command finds its room: a kept session is resumed only by the same kind of run."""
        if self.room:
            return "room"
        if self.code:
            return "code"
        if self.vs is not None:
            return f"vs:{self.vs}"
        return "private" if self.private else "quick"

    def resumes(self, kept: KeptSession) -> bool:
        """Whether this command, run again, takes back the seat ``kept`` holds."""
        if self.room:
            return kept.room == self.room  # `--room ID` of the room it was in, however it got there
        if self.code:
            return kept.code is not None and kept.code.upper() == self.code.upper()
        return kept.how == self.how

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


def _realtime_rules(options: PlayOptions) -> RealtimeGame | None:
    """The rules of a real-time game this command plays, or None for a turn-based one."""
    try:
        rules = load_game(options.rules or options.game)
    except ValueError:
        return None
    return rules if isinstance(rules, RealtimeGame) else None


def _local_rules(options: PlayOptions) -> Game:
    """The rules to draw the board and run a bot with; ValueError if ``--rules`` cannot be loaded."""
    if options.rules:
        rules = load_game(options.rules)
    else:
        try:
            rules = load_game(options.game)
        except ValueError:
            return _Generic(options.game)  # a game only the server knows: shown and played as JSON
    if isinstance(rules, RealtimeGame):  # run_play sends those to realtime_play
        raise ValueError(f"{rules.name} is a real-time game")
    return rules


def _stdin_lines(loop: asyncio.AbstractEventLoop, inbox: asyncio.Queue[tuple[str, Any]]) -> None:
    """Read the terminal on a daemon thread (portable, and never blocks the event loop)."""

    def reader() -> None:
        for line in sys.stdin:
            loop.call_soon_threadsafe(inbox.put_nowait, ("line", line))
        loop.call_soon_threadsafe(inbox.put_nowait, ("eof", None))

    threading.Thread(target=reader, name="netplay-stdin", daemon=True).start()


async def play(
    options: PlayOptions,
    out: TextIO = sys.stdout,
    *,
    sessions: SessionStore | None = None,
    interrupts: bool = False,
) -> tuple[int, Tally]:
    """Play (or watch) ``options.games`` games; return an exit status and the tally.

    ``sessions``: where a player's session is kept while it plays, so that the same command run
    again after this process died resumes the seat (None: nothing is kept). ``interrupts``: Ctrl-C
    (SIGINT) asks before forfeiting a game in progress, instead of raising KeyboardInterrupt.
    """

    def say(text: str = "", *, multiline: bool = False) -> None:
        """Print one line (or, ``multiline``, a board): everything shown passes ``safe_text``, since
        names, labels, messages and the states a board is drawn from all come from the network."""
        print(safe_text(text, multiline=multiline), file=out, flush=True)

    try:
        rules = _local_rules(options)
    except ValueError as exc:
        say(f"error: --rules {exc}")
        return 2, Tally()
    bot = None
    if options.bot is not None:
        bot = rules.bots.get(options.bot or next(iter(rules.bots), ""))  # --bot alone: the default
        if bot is None:
            known = ", ".join(rules.bots) or "none"
            say(f"error: {options.game} has no bot {options.bot!r} (bots: {known})")
            return 2, Tally()
    rng = random.Random(options.seed)
    tally = Tally()
    slot, kept = _claim(options, sessions, say)
    client: Client | None = None
    status: int | None = None
    try:
        try:
            client = await Client.connect(
                servers=options.addresses,
                name=options.name,
                ssl=options.ssl_context(),
                token=None if kept is None else kept.token,
            )
        except ServersUnreachable as exc:
            lost = any(isinstance(why, ConnectionClosed) for _, why in exc.failures)
            hint = " (if the servers use TLS, add --tls)" if lost and not options.tls else ""
            say(f"error: {exc}{hint}")
            return 1, tally
        except (OSError, TimeoutError) as exc:
            say(f"error: cannot reach a netplay server at {options.where} ({exc})")
            return 1, tally
        except NetplayError as exc:
            tls = not options.tls and exc.code == "connection_lost"
            hint = " (if the server uses TLS, add --tls)" if tls else ""
            say(f"error: the server refused the connection: {exc.message}{hint}")
            return 1, tally
        session = _Session(client, options, rules, bot, rng, tally, say, slot=slot, kept=kept)
        status, tally = await session.run(interrupts=interrupts)
        return status, tally
    finally:
        if slot is not None and slot.held:
            # Closing says bye: the server ends the session and its token stops working. Keep the
            # token only when this run could not say so (the link was down), for a later run to try.
            if status in (0, 130) or (client is not None and client.connected):
                slot.forget()
            else:
                slot.release()
        if client is not None:
            await client.close()


def _claim(
    options: PlayOptions, sessions: SessionStore | None, say: Callable[..., None]
) -> tuple[Slot | None, KeptSession | None]:
    """The state file this run keeps its session in, and the session kept there to resume (if any)."""
    if sessions is None or options.spectate:  # a spectator has no seat to get back
        return None, None
    try:
        return sessions.claim(options.server, options.game, None if options.new else options.resumes)
    except OSError as exc:
        say(
            f"Note: cannot keep this session in {sessions.directory} ({exc.strerror or exc}); "
            "if this process dies, running it again cannot resume the seat."
        )
        return None, None


#: Words typed at the move prompt that are commands rather than moves, with what they do.
COMMANDS = {
    "resign": "give up the game",
    "draw": "offer a draw, or accept the one offered",
    "decline": "decline the draw offered (or withdraw your own offer)",
}
_HINT = "or: " + ", ".join(COMMANDS)
#: Seconds left on a player's running clock when the terminal warns them.
WARN_AT = 10.0
_ORDINALS = {1: "st", 2: "nd", 3: "rd"}


def _ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else _ORDINALS.get(n % 10, "th")
    return f"{n}{suffix}"


def clock_text(seconds: float) -> str:
    """``m:ss`` (``h:mm:ss`` from an hour; tenths under 10 s, so a short clock shows it moving)."""
    seconds = max(seconds, 0.0)
    if seconds < 10 and seconds != int(seconds):
        return f"0:{math.floor(seconds * 10) / 10:04.1f}"
    hours, rest = divmod(int(seconds), 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def _active(event: dict[str, Any]) -> list[int]:
    """The seats that may act in a state message (``active``; ``turn`` from older servers)."""
    active = event.get("active")
    if active is not None:
        return [int(s) for s in active]
    return [] if event.get("turn") is None else [int(event["turn"])]


def _namer(event: dict[str, Any] | None, rules: Game) -> Callable[[int], str]:
    """A function naming a seat as "Ann (X)": the player's name and the game's label for the seat."""
    players = {} if event is None else {p["seat"]: p for p in event["players"] if p is not None}

    def who(seat: int) -> str:
        name = players[seat]["name"] if seat in players else "(empty seat)"
        return f"{name} ({rules.seat_label(seat)})"

    return who


class _Session:
    """One ``netplay play`` run in its room: reads the server's events and the terminal, in order."""

    def __init__(
        self,
        client: Client,
        options: PlayOptions,
        rules: Game,
        bot: Any,
        rng: random.Random,
        tally: Tally,
        say: Any,
        *,
        slot: Slot | None = None,
        kept: KeptSession | None = None,
    ) -> None:
        self.client = client
        self.options = options
        self.rules = rules
        self.bot = bot
        self.rng = rng
        self.tally = tally
        self.say = say
        self.loop = asyncio.get_running_loop()
        self.inbox: asyncio.Queue[tuple[str, Any]] = asyncio.Queue()
        self.room_id = ""
        self.latest: dict[str, Any] | None = None  # the room's latest state message
        self.received = 0.0  # when it arrived (loop time): the clocks in it are as of then
        self.my_version: int | None = None  # set while this player may type a move
        self.in_flight = False  # a move awaits the server's answer
        self.offers: set[int] = set()  # seats offering a draw
        self.counted: set[tuple[int, int]] = set()
        self.warning: asyncio.TimerHandle | None = None
        self.tasks: set[asyncio.Task[None]] = set()
        self.slot = slot  # the state file this session is kept in (None: not kept)
        self.kept = kept  # what it holds: the session of an earlier run, until this one saves its own
        self.resumed = False  # this run took back the seat of an earlier one
        self.rejoined = False  # ... and has not seen the room's state since
        self.reading = False  # the terminal is read (a person plays, or Ctrl-C asked a question)
        self.asking = False  # Ctrl-C asked whether to leave and forfeit; the next line answers

    # -- the room --------------------------------------------------------------------------------
    async def enter(self) -> dict[str, Any] | int:
        """Join, create or quick-match into the room (or take back the seat kept from an earlier
        run); the ``joined`` reply, or an exit status."""
        client, options, say = self.client, self.options, self.say
        if options.vs is not None and (options.room or options.code or options.spectate):
            say("error: --vs opens a room of its own; leave out --room, --code and --spectate")
            return 2
        if options.spectate and not (options.room or options.code):
            say("error: --spectate needs --room ID or --code CODE (see `netplay rooms`)")
            return 2
        rejoined = await self._rejoin()
        if rejoined is not None:
            return rejoined
        if options.vs is not None:
            return await self._versus()
        try:
            if options.room or options.code:
                if options.clock:
                    say("Note: --clock is ignored when joining a room; the room's own clock applies.")
                return await client.join(options.room, code=options.code, spectate=options.spectate)
            if options.private:
                return await client.create_room(
                    options.game, private=True, clock=options.clock, options=options.game_options
                )
            return await client.quick_match(
                options.game, clock=options.clock, options=options.game_options or None
            )
        except NetplayError as exc:
            say(f"error: {exc.message}")
            return 1

    async def _rejoin(self) -> dict[str, Any] | None:
        """The room of the kept session, if the hello resumed it and it is still a seat in a room
        of this game: the server sends its ``joined`` (``resumed``) and then its state. Else None,
        and this run starts as if nothing was kept (a token the server forgot is dropped quietly)."""
        kept, welcome = self.kept, self.client.welcome
        if kept is None or not welcome.get("resumed") or kept.room not in (welcome.get("rooms") or ()):
            return None
        try:
            async with asyncio.timeout(10.0):
                while True:
                    event = await self.client.next_event()
                    if event["type"] == "joined" and event["room"]["id"] == kept.room:
                        break
        except (TimeoutError, ConnectionClosed):
            return None
        if event["room"].get("game") != self.options.game or event.get("role") != "player":
            return None
        self.resumed = self.rejoined = True
        for name in ("games", "won", "lost", "drawn"):
            setattr(self.tally, name, int(kept.tally.get(name, 0)))
        self.counted = {(int(game), int(version)) for game, version in kept.counted}
        return event

    def _keep(self, joined: dict[str, Any]) -> None:
        """Write this session to its state file, token and all, to be resumed if this process dies."""
        token = self.client.welcome.get("token")
        if self.slot is None or joined.get("role") != "player" or not token:
            return
        earlier = self.kept.code if self.kept is not None and self.resumed else None
        self.kept = KeptSession(
            server=self.options.server,
            game=self.options.game,
            room=self.room_id,
            how=self.options.how,
            token=str(token),
            code=joined.get("code") or self.options.code or earlier,
        )
        self._save()

    def _save(self) -> None:
        if self.slot is None or self.kept is None:
            return
        self.kept.tally = self.tally.to_json()
        self.kept.counted = sorted(self.counted)
        try:
            self.slot.save(self.kept)
        except OSError as exc:
            self.say(
                f"Note: cannot keep this session in {self.slot.path} ({exc.strerror or exc}); "
                "if this process dies, running it again cannot resume the seat."
            )
            self.slot.release()
            self.slot = None

    async def _versus(self) -> dict[str, Any] | int:
        """Open a private room and seat the server's bot opposite: the ``joined`` reply, or a status."""
        client, options, say = self.client, self.options, self.say
        try:
            joined = await client.create_room(
                options.game, private=True, clock=options.clock, options=options.game_options
            )
        except NetplayError as exc:
            say(f"error: {exc.message}")
            return 1
        request: dict[str, Any] = {"type": "add_bot", "room": joined["room"]["id"]}
        if options.vs:
            request["bot"] = options.vs
        try:
            for _ in range(max(int(joined["room"].get("free_seats") or 1), 1)):  # every other seat
                await client.request(request)
        except NetplayError as exc:
            if exc.code != "no_such_bot":
                say(f"error: {exc.message}")
                return 1
            bots = await self._server_bots()
            if not bots:
                say(f"error: {options.game} has no bots on this server (see `netplay games`)")
            else:
                say(f"error: {exc.message}")
                example = f"netplay play {options.game} --vs {bots[0]}"
                say(f"The bots of {options.game} here: {', '.join(bots)} (for example: {example})")
            return 2
        return joined

    async def _server_bots(self) -> list[str]:
        """The server-side bots of this game, as the server lists them (empty if it cannot say)."""
        try:
            games = await self.client.list_games()
        except (NetplayError, TimeoutError):
            return []
        for game in games:
            if game.get("name") == self.options.game:
                return [str(bot) for bot in game.get("bots") or ()]
        return []

    async def run(self, *, interrupts: bool = False) -> tuple[int, Tally]:
        joined = await self.enter()
        if isinstance(joined, int):
            return joined, self.tally
        self.room_id = joined["room"]["id"]
        self._keep(joined)
        previous = self._catch_interrupts() if interrupts else None
        try:
            return await self._play(joined)
        finally:
            if previous is not None:
                self.loop.remove_signal_handler(signal.SIGINT)
                signal.signal(signal.SIGINT, previous)  # asyncio.run's own: Ctrl-C while closing

    def _catch_interrupts(self) -> Any:
        """Ctrl-C becomes an item of the inbox, so it can ask first; returns the handler it replaced
        (None where signals cannot be caught like this: Windows, or not the main thread; Ctrl-C then
        leaves at once, as KeyboardInterrupt)."""
        previous = signal.getsignal(signal.SIGINT)
        try:
            self.loop.add_signal_handler(signal.SIGINT, self.inbox.put_nowait, ("interrupt", None))
        except (NotImplementedError, RuntimeError, ValueError):
            return None
        return previous if previous is not None else signal.SIG_DFL

    def _read_terminal(self) -> None:
        if not self.reading:
            self.reading = True
            _stdin_lines(self.loop, self.inbox)

    async def _play(self, joined: dict[str, Any]) -> tuple[int, Tally]:
        say = self.say
        room = joined["room"]
        if room.get("kind") == "realtime":  # a game only the server knows, played in real time
            say(
                f"{room['game']} is a real-time game: play it in the browser, or give this command its "
                "rules (--rules MODULE:CLASS) and a bot (--bot NAME) to play it here."
            )
            await self.client.leave(room["id"])
            return 2, self.tally
        where = "back in room" if self.resumed else "in room"
        say(f"You are {self.client.name}, {where} {room['id']} ({room['game']}) as {joined['role']}.")
        if room.get("clock"):
            say(f"Time control: {room['clock']} (each player's clock runs only while they may move).")
        if self.options.vs is None:  # else the bot has the other seat: no code to share, no one to wait for
            if "code" in joined:
                say(f"Private room: friends join with  netplay play {room['game']} --code {joined['code']}")
            if joined["role"] == "player" and room.get("free_seats"):
                say("Waiting for an opponent...")
        if self.bot is None and not self.options.spectate:
            self._read_terminal()
            say(f"At the move prompt you may also type: {_commands_help()}.")
        pump = asyncio.create_task(self._pump())
        try:
            while True:
                kind, item = await self.inbox.get()
                done = await self._handle(kind, item)
                if done is not None:
                    return done, self.tally
        finally:
            pump.cancel()
            for task in list(self.tasks):
                task.cancel()
            self._cancel_warning()

    async def _pump(self) -> None:
        while True:
            try:
                self.inbox.put_nowait(("event", await self.client.next_event()))
            except ConnectionClosed as closed:
                self.inbox.put_nowait(("closed", closed))
                return

    @property
    def seat(self) -> int | None:
        return self.client.seat(self.room_id)

    def who(self, seat: int) -> str:
        return _namer(self.latest, self.rules)(seat)

    async def _handle(self, kind: str, item: Any) -> int | None:
        """Act on one thing from the inbox; an exit status once the session is over."""
        say = self.say
        if kind == "closed":
            reason = item.message if item.code != "connection_lost" else "the server went away"
            say(f"Connection closed: {reason}.")
            self.tally.ended_early = "closed"
            return 1
        if kind == "interrupt":
            return self._on_interrupt()
        if kind == "eof":
            if self.asking:  # no answer will come: Ctrl-C, then the end of the input
                return self._on_answer("y")
            if self.bot is not None:
                return None  # a bot needs no input: the terminal was only read to answer Ctrl-C
            say("Input ended; leaving the game.")
            return 1
        if kind == "line":
            if self.asking:
                return self._on_answer(item)
            if self.bot is None:
                await self._on_line(item)
        elif kind == "moved":
            await self._on_moved(item)
        elif kind == "warn":
            left = self._time_left(self.seat)
            if self.my_version == item and not self.in_flight and left is not None:
                say(f"Time is running out: {max(round(left), 0)} s left.")
        elif kind == "event":
            return await self._on_event(item)
        return None

    # -- the terminal ----------------------------------------------------------------------------
    def _in_game(self) -> bool:
        """Whether this player has a seat in a game in progress (leaving now forfeits it)."""
        return self.latest is not None and self.latest["outcome"] is None and self.seat is not None

    def _on_interrupt(self) -> int | None:
        """Ctrl-C: in a game in progress, ask first; else (waiting, between games, watching), or at
        a second Ctrl-C, leave at once."""
        if self.asking or not self._in_game():
            self.say("Left the game: you forfeit it." if self._in_game() else "Left the room.")
            self.tally.ended_early = "left"
            return 130
        self.asking = True
        self._read_terminal()
        self.say("Leave and forfeit this game? [y/N] ")
        return None

    def _on_answer(self, text: str) -> int | None:
        self.asking = False
        if text.strip().lower() in ("y", "yes"):
            self.say("Left the game: you forfeit it." if self._in_game() else "Left the room.")
            self.tally.ended_early = "left"
            return 130
        self.say("Staying in the game.")
        if self.my_version is not None and not self.in_flight and self.bot is None:
            self._prompt()
        return None

    async def _on_line(self, text: str) -> None:
        word = text.strip().lower()
        if word in COMMANDS:
            await self._command(word)
            return
        if self.my_version is None:
            if text.strip():
                self.say("It is not your turn yet.")
            return
        try:
            move = self.rules.parse_move(text)
        except ValueError as exc:
            self.say(f"{exc}. Your move: ")
            return
        self._send_move(move)

    async def _command(self, word: str) -> None:
        """``resign``, ``draw`` or ``decline``, typed at the prompt."""
        say = self.say
        event = self.latest
        seat = self.seat
        if seat is None:
            say("Only players can do that.")
            return
        if event is None or event["outcome"] is not None:
            say("No game in progress.")
            return
        if word == "decline" and not self.offers:
            say("There is no draw offer to decline.")
            return
        requests = {
            "resign": self.client.resign,
            "draw": self.client.offer_draw,
            "decline": self.client.decline_draw,
        }
        try:
            await requests[word](self.room_id)
        except NetplayError as exc:
            say(f"Refused: {exc.message}")
            return
        except TimeoutError:
            say("The server did not answer; try again.")
            return
        if word == "resign":
            self.my_version = None
            self._cancel_warning()

    def _send_move(self, move: Any) -> None:
        version, self.my_version = self.my_version, None  # one move per turn
        self.in_flight = True
        self._cancel_warning()
        task = asyncio.create_task(self._move(move, version))
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def _move(self, move: Any, version: int | None) -> None:
        """Send a move and wait for its answer: the states it made arrive before it."""
        message: dict[str, Any] = {"type": "move", "room": self.room_id, "move": move}
        if version is not None:
            message["version"] = version
        try:
            await self.client.request(message)
        except (NetplayError, TimeoutError) as exc:
            self.inbox.put_nowait(("moved", exc))
        else:
            self.inbox.put_nowait(("moved", None))

    async def _on_moved(self, error: BaseException | None) -> None:
        self.in_flight = False
        if isinstance(error, ConnectionClosed):
            return  # the state that comes with the reconnect tells whether it counted
        if isinstance(error, NetplayError):
            self.say(f"Refused: {error.message}")
            if self.bot is not None and error.code != "stale_version":
                return  # a bot would only make the same mistake again
        elif error is not None:
            self.say("The server did not answer that move.")
        await self._maybe_act()

    # -- the server ------------------------------------------------------------------------------
    async def _on_event(self, event: dict[str, Any]) -> int | None:
        say = self.say
        etype = event["type"]
        if event.get("room") not in (None, self.room_id) and etype != "error":
            return None
        if etype == "error" and event.get("fatal"):
            say(f"The server says: {event['message']}.")
        elif etype == "error":
            say(f"Refused: {event['message']}")
        elif etype == "notice":
            say(f"Notice from the server: {event['text']}")
        elif etype == "room_closed":
            say(f"The server closed the room: {str(event['reason']).rstrip('.!?')}.")
            self.tally.ended_early = "closed"
            return 1
        elif etype == "member_joined":
            member = event["member"]
            say(f"{member['name']} joined as {member.get('role', 'member')}.")
        elif etype == "member_left":
            say(f"{event['member']['name']} left the room.")
        elif etype == "member_disconnected":
            say(f"{event['member']['name']} lost the connection; waiting for them to come back...")
        elif etype == "member_reconnected":
            say(f"{event['member']['name']} is back.")
        elif etype == "disconnected":
            self.my_version = None
            self._cancel_warning()
            say(f"Connection lost ({event['message']}); reconnecting...")
        elif etype == "reconnected":
            if not event["resumed"]:
                say("Reconnected, but the server no longer knows this game.")
                self.tally.ended_early = "lost"
                return 1
            if len(self.options.addresses) > 1:  # say which one: it may be another than before
                say(f"Reconnected (to {format_server(*self.client.server)}).")
            else:
                say("Reconnected.")
            # The room's state comes next. If it shows the game that ended, ask for the rematch
            # again: the one asked for may have been lost with the server (a repeated vote counts once).
            self.rejoined = True
        elif etype == "draw_offered":
            self._on_draw_offered(event)
        elif etype == "draw_declined":
            mine = event["seat"] == self.seat
            if mine:
                withdrew = self.offers == {event["seat"]}
                say("You withdrew your draw offer." if withdrew else "You declined the draw.")
            else:
                say(f"{self.who(event['seat'])} declined the draw.")
            self.offers.clear()
        elif etype == "state":
            return await self._on_state(event)
        return None

    def _on_draw_offered(self, event: dict[str, Any]) -> None:
        self.offers = set(event.get("offers") or [event["seat"]])
        seat = self.seat
        if event["seat"] == seat:
            self.say("You offered a draw; it is agreed once everyone has (they may type draw).")
        elif seat is not None and self.bot is None and seat not in self.offers:
            self.say(f"{self.who(event['seat'])} offers a draw: type draw to accept, decline to refuse.")
        else:
            self.say(f"{self.who(event['seat'])} offers a draw.")

    async def _on_state(self, event: dict[str, Any]) -> int | None:
        rejoined, self.rejoined = self.rejoined, False
        self.latest = event
        self.received = self.loop.time()
        self.my_version = None
        self._cancel_warning()
        self.offers = set(event.get("draw_offers") or ())
        seat = self.seat
        _show_state(event, self.rules, seat, self.say)
        outcome = event["outcome"]
        if outcome is None:
            if not self.in_flight:  # else the answer to the move in flight says what comes next
                await self._maybe_act()
            return None
        key = (event["game"], event["version"])
        fresh = key not in self.counted
        if fresh:
            self.counted.add(key)
            _count(self.tally, outcome, seat, self.options.spectate)
            self.say(_result_line(outcome, seat, event, self.rules))
            self._save()
        elif not rejoined:
            return None  # the same result again, after a reconnection: already acted on
        if outcome["reason"] in ("forfeit", "abandoned") or self.tally.games >= self.options.games:
            return 0
        if seat is not None:
            # Asked again after taking the seat back: the run that died may not have asked (a vote
            # the server already has counts once).
            await self.client.rematch(self.room_id)
            if fresh:
                self.say("Rematch requested...")
        return None

    async def _maybe_act(self) -> None:
        """Prompt (or let the bot move) if this player may act in the latest state; else say who may."""
        event, seat = self.latest, self.seat
        if event is None or event["outcome"] is not None or seat is None:
            return
        active = _active(event)
        if seat not in active:
            others = [s for s in active if s != seat]
            if others:
                self.say(f"Waiting for {' and '.join(self.who(s) for s in others)}...")
            return
        self.my_version = event["version"]
        if self.bot is not None:
            view = event["state"]
            move = await self.loop.run_in_executor(None, self.bot, self.rules, view, seat, self.rng)
            self._send_move(move)
            return
        left = self._time_left(seat)
        if not self.asking:  # the question of Ctrl-C is answered first; then the prompt comes again
            self._prompt()
        running = (event.get("clock") or {}).get("running") or []
        if left is not None and seat in running and left > WARN_AT:
            version = event["version"]
            self.warning = self.loop.call_later(left - WARN_AT, self.inbox.put_nowait, ("warn", version))

    def _prompt(self) -> None:
        seat = self.seat
        if seat is None:
            return
        left = self._time_left(seat)
        timing = "" if left is None else f", {clock_text(left)} left"
        self.say(f"Your move ({self.rules.seat_label(seat)}{timing}; {_HINT}): ")

    def _time_left(self, seat: int | None) -> float | None:
        """Seconds left on ``seat``'s clock now, from the latest state (None: no clock)."""
        clock = None if self.latest is None else self.latest.get("clock")
        if clock is None or seat is None:
            return None
        left = float(clock["remaining"][seat])
        if seat in clock.get("running", ()):
            left -= self.loop.time() - self.received
        return max(left, 0.0)

    def _cancel_warning(self) -> None:
        if self.warning is not None:
            self.warning.cancel()
            self.warning = None


def _commands_help() -> str:
    return "; ".join(f"{word} ({what})" for word, what in COMMANDS.items())


def _show_state(event: dict[str, Any], rules: Game, seat: int | None, say: Any) -> None:
    """The board, with who plays whom, the last move, the phase, the clocks and any draw offer."""
    players = {p["seat"]: p for p in event["players"] if p is not None}
    who = _namer(event, rules)
    say()
    line = f"Game {event['game']}: " + " vs ".join(who(n) for n in sorted(players))
    last = event.get("last")
    if last is not None:
        if "move" in last:
            line += f". {who(last['seat'])} played {rules.move_text(last['move'])}"
        else:  # a game that hides moves: the others only learn that this seat has moved
            line += f". {who(last['seat'])} has chosen"
    say(line + ".")
    if event.get("phase"):
        say(f"Phase: {event['phase']}.")
    say(rules.render(event["state"], seat), multiline=True)
    clock = event.get("clock")
    if clock:
        running = set(clock.get("running") or ())
        times = ", ".join(
            f"{who(n)} {clock_text(left)}" + (" (running)" if n in running else "")
            for n, left in enumerate(clock["remaining"])
        )
        say(f"Clock {clock['control']}: {times}.")
    offers = event.get("draw_offers") or []
    if offers and event["outcome"] is None:
        say("Draw offered by " + " and ".join(who(n) for n in offers) + ".")


def _count(tally: Tally, outcome: dict[str, Any], seat: int | None, spectating: bool) -> None:
    """Add a result: first place alone is a win, a shared first place a draw, any other place a loss."""
    tally.games += 1
    places = outcome.get("places")
    if outcome["draw"]:
        tally.drawn += 1
    elif spectating or seat is None:
        return
    elif places is not None and seat < len(places):
        if places[seat] != 1:
            tally.lost += 1
        elif places.count(1) > 1:
            tally.drawn += 1
        else:
            tally.won += 1
    elif outcome["winner"] == seat:
        tally.won += 1
    else:
        tally.lost += 1


def ranking_text(
    ranking: list[list[int]], who: Callable[[int], str], scores: list[float] | None = None
) -> str:
    """``1st Ann (X), 2nd Bob (O) and Cy (+) (tied), 4th Dee (#)``, with scores when there are any."""

    def one(seat: int) -> str:
        text = who(seat)
        if scores is not None and seat < len(scores):
            text += f" {scores[seat]:g}"
        return text

    parts = []
    place = 1
    for group in ranking:
        text = f"{_ordinal(place)} " + " and ".join(one(s) for s in group)
        if len(group) > 1:
            text += " (tied)"
        parts.append(text)
        place += len(group)
    return ", ".join(parts)


def _result_line(outcome: dict[str, Any], seat: int | None, event: dict[str, Any], rules: Game) -> str:
    """The result in words, for this player (or a spectator, ``seat`` None)."""
    who = _namer(event, rules)
    reason = outcome["reason"]
    if outcome["draw"]:
        if reason == "abandoned":
            return "Game abandoned: the other players left."
        return "Draw agreed." if reason == "agreed" else "Draw."
    ranking = outcome.get("ranking")
    loser = None  # the seat whose resignation, time or leaving ended it
    if ranking and len(ranking[-1]) == 1 and reason in ("resign", "time", "forfeit"):
        loser = ranking[-1][0]
    cause = None
    if loser is not None:
        verb = {"resign": "resigned", "time": "lost on time", "forfeit": "left"}[reason]
        cause = f"{'You' if loser == seat else who(loser)} {verb}"
    seats = len(event["players"])
    if ranking and (seats > 2 or len(ranking) > 2):
        line = ranking_text(ranking, who, outcome.get("scores"))
        if cause is not None:
            line = f"{cause}. {line}"
        places = outcome.get("places")
        if seat is not None and places is not None and seat < len(places):
            tied = places.count(places[seat]) > 1
            line += f". You came {_ordinal(places[seat])}" + (" (tied)" if tied else "")
        return line + "."
    winner = outcome["winner"]
    if seat is None:
        return (f"{cause}; " if cause else "") + f"{who(winner)} wins."
    if winner == seat:
        if reason == "forfeit":
            return "You win: your opponent left."
        return f"You win: {cause}." if cause else "You win!"
    return f"{cause}. You lose." if cause and loser == seat else "You lose."


def run_play(options: PlayOptions) -> int:
    """Run ``play`` to completion and print the JSON tally if asked; return the exit status."""
    realtime = _realtime_rules(options)
    try:
        if realtime is not None:
            from .realtime_play import play_realtime

            status, tally = asyncio.run(
                play_realtime(options, realtime, lambda text: print(text, flush=True))
            )
        else:
            status, tally = asyncio.run(play(options, sessions=SessionStore(), interrupts=True))
    except KeyboardInterrupt:
        print("\nLeft the game.", flush=True)
        return 130
    if options.json:
        print(json.dumps(tally.to_json()), flush=True)
    return status
