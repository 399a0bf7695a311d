"""The hub: every session and room of one server, and the handler for each request type.

Transports hand the hub protocol events; the hub answers through each session's link. It holds no
sockets itself, so TCP and WebSocket clients meet the same rules. 15-112 text clients are sessions
here too (they count against ``max_connections``), but their lines reach their rooms through the text
lobby (``netplay.server.text_rooms``), which applies the same rate limit by backpressure.
"""

from __future__ import annotations

import asyncio
import collections
import hashlib
import logging
import secrets
import time
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from .. import __version__
from ..games import Game, engine, ticker
from ..games.engine import ReplayError, TimeControl
from ..games.realtime import RealtimeGame
from ..games.relaycheck import RelayCheck
from ..protocol import (
    PROTOCOL_VERSIONS,
    ErrorCode,
    Event,
    Hello,
    ProtocolError,
    Rejected,
    Relay,
    RelayRun,
    Request,
    codec,
)
from ..protocol.outgoing import Outgoing, OutgoingRun
from ..store import MatchStore, NullStore, SavedMatch, SavedRoom
from ..transports.websocket import game_board_path
from .bots import BotJob, BotWorkers
from .config import ServerConfig
from .directory import (
    LISTING_PAGE,
    InMemoryDirectory,
    RoomDirectory,
    RoomInfo,
    new_id,
    normal_code,
)
from .guesses import CodeGuesses
from .lifecycle import SessionState
from .logs import loggable
from .metrics import Stats, TimedStore
from .operations import DRAIN_NOTICE
from .rooms import MatchRoom, Member, RealtimeRoom, RelayRoom, Room
from .session import Link, Session
from .unguessable import Unguessable

if TYPE_CHECKING:
    from .cluster.node import ClusterNode

__all__ = ["Hub"]

log = logging.getLogger("netplay.server")

_Handler = Callable[[Session, dict[str, Any]], None]


class Hub:
    """Sessions, rooms and request handling for one server process."""

    def __init__(
        self,
        config: ServerConfig,
        games: dict[str, Game | RealtimeGame],
        directory: RoomDirectory | None = None,
        loop: asyncio.AbstractEventLoop | None = None,
        store: MatchStore | None = None,
        relay_checks: dict[str, RelayCheck] | None = None,
    ) -> None:
        self.config = config
        self.games = games
        #: The pure checks of relay rooms, by the label they check (``games/relaycheck.py``).
        self.relay_checks = relay_checks or {}
        #: Descriptions of rooms, for the lobby and matchmaking; the rooms themselves are in ``rooms``.
        self.directory = directory if directory is not None else InMemoryDirectory()
        #: The rooms this process hosts, by id.
        self.rooms: dict[str, Room] = {}
        self.loop = loop or asyncio.get_running_loop()
        #: Connected sessions (greeted or not), by player id.
        self.sessions: dict[str, Session] = {}
        #: Sessions whose link dropped, kept for the reconnect grace period, by player id.
        self.away: dict[str, Session] = {}
        #: Every greeted session (connected or away) by the SHA-256 of its token.
        self.tokens: dict[str, Session] = {}
        self.connections = 0
        #: What ``/metrics`` reports: plain counters the paths below bump.
        self.stats = Stats()
        store = store if store is not None else NullStore()
        #: A store whose writes complete later (the cluster's Redis, ``--db-sync full``): what rooms
        #: send waits for the write before it (``_held``), so that nobody sees a move not stored yet.
        self._durable: MatchStore | None = store if store.holds_messages else None
        self._held: collections.deque[tuple[asyncio.Future[Any], list[tuple[Any, ...]]]] = collections.deque()
        #: The match store, timed (``netplay_store_write_seconds``) where it keeps anything.
        self.store: MatchStore = TimedStore(store, self.stats.store_write) if store.keeps else store
        self.closing = False
        self._empty = asyncio.Event()
        self._time = self.loop.time
        #: Where matches get their random seeds. Tests may replace it to replay a known match; no
        #: request, option or flag can (a client choosing the seed would choose the dice).
        #: 63 bits: SQLite's INTEGER is a signed 64-bit number.
        self._unguessable = Unguessable()
        #: Wrong private codes per client, limited (public: a cluster node checks before it asks Redis).
        self.guesses = CodeGuesses()
        #: No new match may start (``drain``): the server stops once the running ones are over.
        self.draining = False
        #: While draining with a deadline: the wall-clock time (``now()``) to stop at.
        self.drain_until: float | None = None
        #: Where server-side bots think: worker processes, each move within ``bot_time``.
        self.bots = BotWorkers(
            games,
            workers=config.bot_workers,
            budget=config.bot_time,
            loop=self.loop,
            timed=self.stats.bot_think,
        )
        self._rate_limited = bool(config.rate_limit)
        #: In a cluster (``serve --redis``): the node that forwards requests for other nodes' rooms
        #: and hosts their clients as guests (``cluster/node.py``); None for one process alone.
        self.cluster: ClusterNode | None = None
        self._handlers: dict[str, _Handler] = {
            "bye": self._on_bye,
            "ping": self._on_ping,
            "pong": self._on_pong,
            "list_games": self._on_list_games,
            "list_rooms": self._on_list_rooms,
            "create_room": self._on_create_room,
            "join_room": self._on_join_room,
            "quick_match": self._on_quick_match,
            "leave_room": self._on_leave_room,
            "move": self._on_move,
            "rematch": self._on_rematch,
            "resign": self._on_resign,
            "offer_draw": self._on_offer_draw,
            "decline_draw": self._on_decline_draw,
            "add_bot": self._on_add_bot,
            "relay": self._on_relay,
            "input": self._on_input,
            "resync": self._on_resync,
        }

    # -- connection lifecycle (called by transports) --------------------------------------------
    def connect(self, link: Link) -> Session:
        """Register a new connection; it must say hello within the handshake timeout.

        Past ``max_connections`` the connection is told ``server_full`` and closed at once.
        """
        session = Session(new_id("p"), link, self.loop.time())
        if self.connections >= self.config.max_connections:
            log.warning(
                "refusing %s: %d connections is the limit", link.peer, self.config.max_connections,
                extra={"event": "refused", "peer": link.peer, "transport": link.kind,
                       "reason": "max_connections", "code": "server_full"},
            )  # fmt: skip
            session.send(
                ProtocolError(
                    ErrorCode.SERVER_FULL, "the server is full; try again later", fatal=True
                ).to_message()
            )
            link.rebind(None)
            link.close()
            return session  # never registered: its disconnect is a no-op
        while session.id in self.sessions or session.id in self.away:
            session.id = new_id("p")
        self.admit(session)
        return session

    def admit(self, session: Session) -> bool:
        """Register a connected session that a transport made with an id of its own (a text client's).

        False, and nothing registered, when the server is at ``max_connections`` or the id is taken.
        """
        if self.connections >= self.config.max_connections:
            return False
        if session.id in self.sessions or session.id in self.away:
            return False
        session.allowance = float(self.config.rate_burst)
        self.sessions[session.id] = session
        self.connections += 1
        self._empty.clear()
        link = session.link
        if link is not None:
            log.info(
                "%s connected over %s", link.peer, link.kind,
                extra={"event": "connect", "peer": link.peer, "transport": link.kind},
            )  # fmt: skip
        return True

    def heard_from(self, session: Session) -> None:
        """The client sent something: it is alive. Transports call it once per read, before
        ``receive`` for the events of that read (not once per message: it is on the hot path)."""
        session.last_seen = self._time()
        session.pinged = False

    def receive(self, session: Session, event: Event) -> None:
        """Act on one protocol event from a session's connection (see ``heard_from``)."""
        now = session.last_seen
        if type(event) is RelayRun:  # the hottest path: a busy relay room's traffic
            self._relay_run(session, now, event)
        elif type(event) is Relay:
            if self._rate_limited and not self._within_rate(session, now, event.id):
                return
            self._relay(session, event.room, event.data, event.id)
        elif type(event) is Request:
            message = event.message
            if self._rate_limited and not self._within_rate(session, now, message.get("id")):
                return
            self.handle_request(session, message)
        elif isinstance(event, Hello):
            self._on_hello(session, event)
        elif isinstance(event, Rejected):
            # Malformed messages count against the rate too: junk must not be a way around it.
            if self._rate_limited and session.greeted and not self._within_rate(session, now, event.re):
                return
            session.send(event.error.to_message(event.re))
            if event.error.fatal and session.link is not None:
                # The code only: the error's words may quote what the client sent.
                log.info(
                    "closing %s: protocol error %s", session.link.peer, event.error.code,
                    extra={"event": "refused", "player": session.id, "peer": session.link.peer,
                           "reason": "protocol_error", "code": str(event.error.code)},
                )  # fmt: skip
                session.ending = "protocol_error"
                session.link.close()

    def _relay(self, session: Session, room_id: str, data: Any, rid: Any) -> None:
        """One well-formed relay, within the rate: to its room, else the request's error."""
        room = session.rooms.get(room_id)
        if type(room) is RelayRoom:
            self.stats.relay_messages += 1
            try:  # free in 3.11 unless raised: data the room cannot pass on is refused, not fatal
                room.relay(session.id, data)
            except ProtocolError as error:
                session.send(error.to_message(rid))
                return
            if rid is not None:
                session.send({"type": "ok", "re": rid})
            return
        message = {"type": "relay", "room": room_id, "data": data}
        if rid is not None:
            message["id"] = rid
        self.handle_request(session, message)  # not in that room, or not a relay room: its error

    def _relay_run(self, session: Session, now: float, run: RelayRun) -> None:
        """Relays in a row to one room, without ids: what the rate admits, passed on together."""
        data, payloads = run.data, run.payloads
        if self._rate_limited:
            admitted = 0  # a prefix: within one read the bucket only empties
            for _ in data:
                if self._within_rate(session, now, None):
                    admitted += 1
                elif session.ending is not None:  # each refused one counted, until it is cut off
                    break
            if admitted < len(data):
                data, payloads = data[:admitted], payloads[:admitted]
        room = session.rooms.get(run.room)
        if type(room) is not RelayRoom:
            for one in data:
                self._relay(session, run.room, one, None)  # the same error for each
            return
        self.stats.relay_messages += len(data)
        for error in room.relay_run(session.id, data, payloads):
            session.send(error.to_message())

    def handle_request(self, session: Session, message: dict[str, Any]) -> None:
        """Run a request's handler; a refusal or a failure becomes its one error reply."""
        try:
            if self.cluster is not None and self.cluster.intercept(session, message):
                return  # another node's room: forwarded to its owner, which answers
            self._handlers[message["type"]](session, message)
        except ProtocolError as error:
            session.send(error.to_message(message.get("id")))
        except Exception as exc:  # in a room of a game that hides information, its words may too
            room = self.rooms.get(message.get("room", ""))
            hidden = isinstance(room, MatchRoom) and room.rules.has_hidden_information
            log.error(
                "request %s from %r failed", message.get("type"), session,
                exc_info=loggable(exc, hidden=hidden),
                extra={"event": "internal_error", "player": session.id, "room": message.get("room"),
                       "code": "internal_error"},
            )  # fmt: skip
            session.send(
                ProtocolError(ErrorCode.INTERNAL_ERROR, "the server failed on that request").to_message(
                    message.get("id")
                )
            )

    def _within_rate(self, session: Session, now: float, rid: Any) -> bool:
        """Token bucket: refuse past the rate; cut off a client that keeps going a burst beyond it.

        A refused request with an id is answered (every id gets one reply); others are warned once.
        """
        cfg = self.config
        allowance = session.allowance + (now - session.rate_checked) * cfg.rate_limit
        session.rate_checked = now
        if allowance >= 1.0:  # the usual case, kept short: it runs for every message
            session.allowance = (allowance if allowance < cfg.rate_burst else cfg.rate_burst) - 1.0
            if session.rate_warned:
                session.rate_warned = False
            return True
        session.allowance = allowance = allowance - 1.0
        if allowance <= -cfg.rate_burst and session.link is not None:
            log.info(
                "disconnecting %s: it kept sending past the rate limit", session.link.peer,
                extra={"event": "refused", "player": session.id, "peer": session.link.peer,
                       "reason": "rate_limited", "code": "rate_limited"},
            )  # fmt: skip
            session.ending = "rate_limited"
            session.send(
                ProtocolError(
                    ErrorCode.RATE_LIMITED, "too many messages: disconnected", fatal=True
                ).to_message(rid)
            )
            session.link.close()
        elif rid is not None or not session.rate_warned:
            session.rate_warned = True
            session.send(
                ProtocolError(
                    ErrorCode.RATE_LIMITED,
                    f"more than {cfg.rate_limit:g} messages per second: slow down",
                ).to_message(rid)
            )
        return False

    def disconnect(self, session: Session, link: Link | None = None) -> None:
        """A connection is gone. A player with rooms is kept for the grace period; others forgotten."""
        if link is not None and session.link is not link:
            return  # an old connection of a session that has moved to a new one
        if self.sessions.get(session.id) is not session:
            return  # never registered (refused when full), or already gone
        del self.sessions[session.id]
        self.connections -= 1
        peer = session.link.peer if session.link is not None else "?"
        session.link = None
        reason = session.ending or "closed"
        log.info(
            "%s (%r) at %s disconnected: %s", session.id, session.name, peer, reason,
            extra={"event": "disconnect", "player": session.id, "peer": peer, "reason": reason},
        )  # fmt: skip
        self.stats.disconnected(reason)
        session.ending = None
        if self.closing:  # the server is stopping: games stay as they stand, kept for a restart
            session.advance("lost")
        elif (
            (session.rooms or session.remote)
            and session.state is SessionState.GREETED
            and session.token_hash is not None  # only a token can come back (never a text client)
            and self.config.reconnect_grace > 0
        ):
            session.advance("lost_with_seats")
            self._go_away(session)
        else:
            session.advance("lost")
            self._forget(session)
        if not self.sessions:
            self._empty.set()

    def _go_away(self, session: Session) -> None:
        """Keep an absent player's seats and tell its rooms; give up after the grace period."""
        self.away[session.id] = session
        grace = self.config.reconnect_grace
        log.info(
            "%s (%r) is away; its seats are kept for %g s", session.id, session.name, grace,
            extra={"event": "away", "player": session.id},
        )  # fmt: skip
        session.expiry = self.loop.call_later(self.config.reconnect_grace, self._expire, session)
        for room in list(session.rooms.values()):
            room.member_away(session.id)
        if self.cluster is not None and session.remote:
            self.cluster.session_event(session, "away")

    def _expire(self, session: Session) -> None:
        """The grace period is over: the player leaves its rooms (a game in progress is forfeited)."""
        if self.away.get(session.id) is session:
            del self.away[session.id]
            session.advance("expired")
            log.info(
                "%s (%r) did not come back; it leaves its rooms", session.id, session.name,
                extra={"event": "expired", "player": session.id},
            )  # fmt: skip
            self._forget(session)

    def remove(self, session: Session, reason: str) -> None:
        """Take a player off the server now (the operator's kick): told why, its seats given up, its
        token forgotten (it can only come back as a new player)."""
        if self.away.get(session.id) is session:
            del self.away[session.id]
            if session.expiry is not None:
                session.expiry.cancel()
                session.expiry = None
            session.advance("expired")
            self._forget(session)
            return
        self._forget(session)  # its rooms are told it left, a game in progress is forfeited
        if session.link is not None:
            session.send(ProtocolError(ErrorCode.KICKED, reason, fatal=True).to_message())
            session.ending = "kicked"
            session.link.close()

    def _forget(self, session: Session) -> None:
        self.forget_rooms(session)
        if self.cluster is not None:
            if session.remote:
                self.cluster.session_event(session, "gone")
            if session.token_hash is not None:
                self.cluster.forget_token(session.token_hash)
        if session.token_hash is not None and self.tokens.get(session.token_hash) is session:
            del self.tokens[session.token_hash]

    def forget_rooms(self, session: Session) -> None:
        """The session leaves every room of this process it is in."""
        for room in list(session.rooms.values()):
            room.leave(session.id)
        session.rooms.clear()

    def adopt(self, session: Session) -> None:
        """Take in a session restored from the store: away until its player comes back."""
        session.advance("restored")
        if session.token_hash is not None:
            self.tokens[session.token_hash] = session
        self._go_away(session)

    def lose_room(self, room_id: str) -> Room | None:
        """In a cluster: another node owns this room now (this one lost its lease while paused).
        It is closed here without a word to the store; its members here become its new owner's
        guests when the directory says who that is."""
        room = self.rooms.pop(room_id, None)
        if room is None:
            return None
        for member_id in list(room.member_ids()):
            session = self.sessions.get(member_id) or self.away.get(member_id)
            if session is not None and session.rooms.pop(room_id, None) is not None:
                session.remote[room_id] = ""  # its owner: unknown until the directory says
        room.close()
        return room

    def restore_rooms(self) -> tuple[int, int]:
        """Bring back the match rooms the store kept; return how many, and how many of them had a
        match in progress.

        A room comes back once, from its room record (waiting for players, between two games, or
        playing) and its latest match, or, for a match in progress whose room has no record (a
        database from before room records), from the match alone. Its players are away until
        they reconnect with their session tokens (the grace period starts now). A room of a game
        this server no longer offers, or whose match no longer replays, is skipped with a log
        line and left in the store as it was, to be tried again at the next start.
        """
        playing: dict[str, SavedMatch] = {}
        for saved in self.store.unfinished():
            earlier = playing.get(saved.room_id)
            if earlier is not None:  # a match whose result could not be written: the later one counts
                stale, saved = (earlier, saved) if earlier.number < saved.number else (saved, earlier)
                log.warning(
                    "match %s: room %s has a later match, %s; it is left as it was",
                    stale.id,
                    stale.room_id,
                    saved.id,
                    extra={"event": "restore_skipped", "room": stale.room_id, "match": stale.id,
                           "game": stale.game},
                )  # fmt: skip
            playing[saved.room_id] = saved
        rooms = matches = 0
        for record in self.store.rooms():
            latest = playing.pop(record.id, None)
            if latest is not None and latest.number < record.games_played:
                log.warning(
                    "match %s: room %s has played on since; it is left as it was", latest.id, record.id,
                    extra={"event": "restore_skipped", "room": record.id, "match": latest.id,
                           "game": record.game},
                )  # fmt: skip
                latest = None
            if latest is None and record.match_id is not None:
                latest = self.store.get(record.match_id)  # the game that ended last
                if latest is None:
                    log.warning(
                        "room %s: its last match %s is not in the database; the room waits for its next game",
                        record.id,
                        record.match_id,
                        extra={"event": "restore_skipped", "room": record.id, "match": record.match_id,
                               "game": record.game},
                    )  # fmt: skip
            if self._restore_room(record.game, latest, record) is not None:
                rooms += 1
                matches += latest is not None and not latest.finished
        for saved in playing.values():
            if self._restore_room(saved.game, saved, None) is not None:
                rooms += 1
                matches += 1
        if rooms:
            were = "room" if rooms == 1 else "rooms"
            log.info(
                "restored %d %s from the database (%d with a match in progress)", rooms, were, matches,
                extra={"event": "restored"},
            )  # fmt: skip
        return rooms, matches

    def _restore_room(
        self, game_name: str, saved: SavedMatch | None, record: SavedRoom | None
    ) -> Room | None:
        """Host one room rebuilt from the store, its players away; None if it cannot be."""
        what = f"match {saved.id}" if saved is not None else f"room {record.id if record else '?'}"
        fields = {
            "event": "restore_skipped",
            "room": record.id if record is not None else saved.room_id if saved is not None else None,
            "match": saved.id if saved is not None else None,
            "game": game_name,
        }
        game = self.games.get(game_name)
        if game is None:
            log.warning("%s is of game %r, which this server does not offer", what, game_name, extra=fields)
            return None
        try:
            room: MatchRoom | RealtimeRoom
            if isinstance(game, RealtimeGame):
                if saved is None:
                    return None  # a real-time room is kept only while a match is played in it
                room = RealtimeRoom.restore(self, game, saved, max_spectators=self.config.max_spectators)
            else:
                room = MatchRoom.restore(
                    self,
                    game,
                    saved,
                    record=record,
                    max_spectators=self.config.max_spectators,
                    bot_delay=self.config.bot_delay,
                )
        except (ReplayError, ValueError, KeyError, TypeError) as exc:  # its words may quote a move
            log.error(
                "%s could not be replayed; it is left as it was", what,
                exc_info=loggable(exc, hidden=game.has_hidden_information), extra=fields,
            )  # fmt: skip
            return None
        if room.id in self.rooms or (room.code is not None and self.directory.by_code(room.code)):
            log.warning("%s: room %s (or its code) is already restored; skipped", what, room.id, extra=fields)
            return None
        if not room.has_players():  # no one could ever come back to it, or leave it
            room.forget_record()
            return None
        self.host_room(room)
        for seat in room.seats:
            if seat is None or seat.bot is not None:
                continue
            session = self.away.get(seat.id)
            if session is None:
                session = Session(seat.id, None, self.loop.time())
                session.name = seat.name
                session.token_hash = seat.token_hash
                session.rooms[room.id] = room
                self.adopt(session)
            else:
                session.rooms[room.id] = room
        room.record_room()  # as restored: a room known only by its match gets its record now
        room.resume()
        return room

    def sweep(self) -> None:
        """Enforce the handshake and idle timeouts, and ping quiet clients."""
        cfg = self.config
        now = self.loop.time()
        for session in list(self.sessions.values()):
            link = session.link
            if link is None or not session.heartbeat:
                continue
            if not session.greeted:
                if now - session.connected_at > cfg.handshake_timeout:
                    session.send(
                        ProtocolError(
                            ErrorCode.HANDSHAKE_TIMEOUT,
                            f"no hello within {cfg.handshake_timeout:g} s",
                            fatal=True,
                        ).to_message()
                    )
                    session.ending = "timeout"
                    link.close()
                continue
            quiet = now - session.last_seen
            if quiet > cfg.idle_timeout:
                session.send(
                    ProtocolError(
                        ErrorCode.IDLE_TIMEOUT, f"nothing received for {cfg.idle_timeout:g} s", fatal=True
                    ).to_message()
                )
                session.ending = "timeout"
                link.close()
            elif quiet > cfg.heartbeat_interval and not session.pinged:
                session.pinged = True
                session.send({"type": "ping"})

    def shutdown(self, reason: str = "the server is shutting down") -> None:
        """Tell every client why, then close every connection."""
        self.closing = True
        notice = ProtocolError(ErrorCode.SERVER_SHUTDOWN, reason, fatal=True).to_message()
        for session in list(self.sessions.values()):
            session.send(notice)
            if session.link is not None:
                session.ending = "shutdown"
                session.link.close()
        for session in self.away.values():
            if session.expiry is not None:
                session.expiry.cancel()
        for room in self.rooms.values():  # no clock may fire into a stopped server's store
            room.close()

    async def wait_empty(self) -> None:
        """Return once no connection is left (used by a clean shutdown)."""
        if self.sessions:
            await self._empty.wait()

    # -- RoomHost -------------------------------------------------------------------------------
    def now(self) -> float:
        return time.time()

    def new_match(self) -> tuple[str, int]:
        return self._unguessable.match()

    def monotonic(self) -> float:
        return self.loop.time()

    def call_later(self, delay: float, callback: Callable[[], None]) -> asyncio.TimerHandle:
        return self.loop.call_later(delay, callback)

    def backlog(self, member_id: str) -> int:
        session = self.sessions.get(member_id) or self._guest(member_id)
        link = None if session is None else session.link
        return 0 if link is None else link.backlog()

    def deliver(self, member_ids: Iterable[str], message: dict[str, Any], exclude: str | None = None) -> None:
        """Queue ``message`` for every connected member but ``exclude`` (away: dropped), as one
        ``Outgoing``: encoded once, on the first netplay link that sends it."""
        self._deliver(member_ids, message, None, exclude)

    def deliver_run(self, member_ids: Iterable[str], run: OutgoingRun, exclude: str) -> None:
        """``deliver`` each message of ``run``, in order, to the same members: one call per
        recipient's link (see ``RoomHost.deliver_run``)."""
        self._deliver(member_ids, None, run, exclude)

    def _deliver(
        self,
        member_ids: Iterable[str],
        message: dict[str, Any] | None,
        run: OutgoingRun | None,
        exclude: str | None,
    ) -> None:
        durable = self._durable
        if durable is not None and (self._held or durable.pending() is not None):
            # (a list: a generator would be spent by the time it is sent)
            self._hold((self._deliver_now, list(member_ids), message, run, exclude))
            return
        self._deliver_now(member_ids, message, run, exclude)

    def _hold(self, call: tuple[Any, ...]) -> bool:
        """Keep ``call`` (a send) until the store has the write before it; False: nothing to wait for."""
        assert self._durable is not None
        pending = self._durable.pending()
        held = self._held
        if pending is None and not held:
            return False
        if pending is not None and (not held or held[-1][0] is not pending):
            held.append((pending, []))
            pending.add_done_callback(self._release_held)
        held[-1][1].append(call)
        return True

    def _release_held(self, _: object) -> None:
        """Send what waited for writes the store has now taken, in the order it was sent."""
        held = self._held
        while held and held[0][0].done():
            write, calls = held.popleft()
            if not write.cancelled() and write.exception() is not None:
                continue  # the write was refused (another node owns the room now): so is what it said
            for call in calls:
                call[0](*call[1:])

    def _deliver_now(
        self,
        member_ids: Iterable[str],
        message: dict[str, Any] | None,
        run: OutgoingRun | None,
        exclude: str | None,
    ) -> None:
        """Hand ``run`` (else ``message``, as one ``Outgoing`` made for the first link) to each link."""
        out = None
        sessions = self.sessions
        for member_id in member_ids:
            if member_id == exclude:
                continue
            session = sessions.get(member_id)
            if session is None:
                session = self._guest(member_id)  # in a cluster, a client of another node
                if session is None:
                    continue
            link = session.link
            if link is not None:
                if run is not None:
                    link.send_run(run)
                    continue
                if out is None:
                    assert message is not None
                    out = Outgoing(message)
                link.send(out)

    def send(self, member_id: str, message: dict[str, Any]) -> None:
        durable = self._durable
        if durable is not None and (self._held or durable.pending() is not None):
            self._hold((self._send_now, member_id, message))
            return
        self._send_now(member_id, message)

    def _send_now(self, member_id: str, message: dict[str, Any]) -> None:
        session = self.sessions.get(member_id) or self._guest(member_id)
        if session is not None:
            session.send(message)

    def is_connected(self, member_id: str) -> bool:
        session = self.sessions.get(member_id) or self._guest(member_id)
        return session is not None and session.link is not None

    def _guest(self, member_id: str) -> Session | None:
        """A member connected to another node of the cluster (None: not one, or no cluster)."""
        return None if self.cluster is None else self.cluster.guests.get(member_id)

    def run_bot(self, job: BotJob, done: Callable[[Any, BaseException | None], None]) -> None:
        self.bots.run(job, done)

    def room_emptied(self, room: Room) -> None:
        if self.rooms.get(room.id) is room:
            del self.rooms[room.id]
            self.directory.withdraw(room.id)
            if isinstance(room, MatchRoom):
                room.forget_record()  # closed for good (a shutdown closes rooms, keeping them)
        room.close()

    def room_changed(self, room: Room) -> None:
        """Publish the room's new description (members, status) to the directory."""
        if self.rooms.get(room.id) is room:
            self.directory.publish(_describe(room))

    def host_room(self, room: Room) -> None:
        """Start hosting a room made here: it is listed and can be found from now on."""
        self.rooms[room.id] = room
        self.directory.publish(_describe(room))

    def describe(self, room: Room) -> RoomInfo:
        """What the directory says of a room."""
        return _describe(room)

    @staticmethod
    def open_seats(room: Room) -> int:
        """Seats (relay: members) a room could still take, whether or not it is open."""
        return _free(room)

    # -- handlers -------------------------------------------------------------------------------
    def _on_hello(self, session: Session, hello: Hello) -> None:
        resumed = None
        token_hash = None
        if hello.token is not None:
            token_hash = _hash_token(hello.token)
            resumed = self.tokens.get(token_hash)
        if resumed is not None and resumed is not session:
            self._resume(resumed, session, hello)
            return
        if self.cluster is not None and token_hash is not None and resumed is None:
            self.cluster.resume_elsewhere(session, hello, token_hash)  # or greet() it as new
            return
        self.greet(session, hello)

    def greet(self, session: Session, hello: Hello) -> None:
        """Welcome a new player: a new identity and token."""
        session.advance("hello")
        if hello.name:
            session.name = hello.name.strip()
        token = secrets.token_urlsafe(24)  # 192 bits; never logged, only its hash is kept
        session.token_hash = _hash_token(token)
        self.tokens[session.token_hash] = session
        peer = session.link.peer if session.link else "?"
        log.debug(
            "%s joined as %s (%r)", peer, session.id, session.name,
            extra={"event": "hello", "player": session.id, "peer": peer},
        )  # fmt: skip
        messages = [self._welcome(session, hello, token, resumed=False)]
        if self.draining:  # a newcomer is told at once, not only when its first game is refused
            messages.append({"type": "notice", "text": DRAIN_NOTICE, "room": None})
        if self.cluster is not None:  # once Redis has the token: any node can resume it
            self.cluster.welcome(session, messages)
        else:
            for message in messages:
                session.send(message)

    def take_over(self, fresh: Session, hello: Hello, player: dict[str, Any], home: str) -> None:
        """In a cluster: the connection ``fresh`` resumes a player that node ``home`` handed over
        (its id, name, and rooms, all of other nodes now)."""
        assert hello.token is not None and self.cluster is not None
        self.sessions.pop(fresh.id, None)  # the placeholder made when the connection opened
        fresh.id = player["id"]
        self.sessions[fresh.id] = fresh
        fresh.advance("hello")
        fresh.name = player["name"]
        fresh.token_hash = player["token_hash"]
        self.tokens[player["token_hash"]] = fresh
        fresh.remote = {room_id: home for room_id in player["rooms"]} | player["remote"]
        link = fresh.link
        peer = link.peer if link is not None else "?"
        log.info(
            "%s resumed %s (%r) of node %s, in %d rooms", peer, fresh.id, fresh.name, home,
            len(fresh.remote),
            extra={"event": "resume", "player": fresh.id, "peer": peer},
        )  # fmt: skip
        fresh.send(self._welcome(fresh, hello, hello.token, resumed=True))  # before its rooms' news

    def hand_over(self, session: Session) -> bool:
        """In a cluster: a player of this node resumes on another one. It is no longer this node's
        client (a connection it still had here is told it was replaced); True if it was away."""
        was_away = session.link is None
        if was_away:
            self.away.pop(session.id, None)
            if session.expiry is not None:
                session.expiry.cancel()
                session.expiry = None
            session.advance("resumed")
        else:
            old_link = session.link
            assert old_link is not None
            session.advance("replaced")
            session.send(
                ProtocolError(
                    ErrorCode.SESSION_REPLACED, "this session was resumed on another connection", fatal=True
                ).to_message()
            )
            old_link.rebind(None)
            old_link.close()
            self.sessions.pop(session.id, None)
            self.connections -= 1
            self.stats.disconnected("replaced")
            if not self.sessions:
                self._empty.set()
        if session.token_hash is not None and self.tokens.get(session.token_hash) is session:
            del self.tokens[session.token_hash]
        session.link = None
        return was_away

    def _welcome(self, session: Session, hello: Hello, token: str, *, resumed: bool) -> dict[str, Any]:
        welcome: dict[str, Any] = {
            "type": "welcome",
            "protocol": hello.version,
            "protocols": list(PROTOCOL_VERSIONS),
            "player": session.id,
            "name": session.name,
            "token": token,
            "resumed": resumed,
            "rooms": sorted([*session.rooms, *session.remote]),
            "server": f"netplay {__version__}",
            "games": sorted(self.games),
            "heartbeat": self.config.heartbeat_interval,
            "idle_timeout": self.config.idle_timeout,
            "reconnect_grace": self.config.reconnect_grace,
            "max_frame": self.config.max_frame,
            "move_timeout": self.config.move_timeout or None,
        }
        if self.cluster is not None:  # which node of the cluster answers (for operators' eyes)
            welcome["node"] = self.cluster.name
        if hello.id is not None:
            welcome["re"] = hello.id
        return welcome

    def _resume(self, session: Session, fresh: Session, hello: Hello) -> None:
        """A client came back with its token: its new connection takes over the old session."""
        link = fresh.link
        assert link is not None
        self.sessions.pop(fresh.id, None)  # the placeholder made when the connection opened
        fresh.advance("resume")
        old_link = session.link
        session.advance("replaced" if old_link is not None else "resumed")
        if old_link is not None:  # still connected (a half-open link): the newer connection wins
            session.send(
                ProtocolError(
                    ErrorCode.SESSION_REPLACED, "this session was resumed on another connection", fatal=True
                ).to_message()
            )
            old_link.rebind(None)  # so its close reports nothing: count it gone now
            old_link.close()
            self.connections -= 1
            log.info(
                "%s (%r) at %s disconnected: %s", session.id, session.name, old_link.peer, "replaced",
                extra={"event": "disconnect", "player": session.id, "peer": old_link.peer,
                       "reason": "replaced"},
            )  # fmt: skip
            self.stats.disconnected("replaced")
        else:
            self.away.pop(session.id, None)
            if session.expiry is not None:
                session.expiry.cancel()
                session.expiry = None
            self.sessions[session.id] = session
        session.link = link
        link.rebind(session)
        session.connected_at = fresh.connected_at
        session.last_seen = self.loop.time()
        session.pinged = False
        session.allowance = fresh.allowance
        assert hello.token is not None
        log.info(
            "%s resumed %s (%r) with %d rooms", link.peer, session.id, session.name, len(session.rooms),
            extra={"event": "resume", "player": session.id, "peer": link.peer},
        )  # fmt: skip
        session.send(self._welcome(session, hello, hello.token, resumed=True))
        for room in list(session.rooms.values()):
            room.member_back(session.id, announce=old_link is None)  # a takeover was never away
        if self.cluster is not None and session.remote:  # (a takeover too: its rooms send it the state)
            self.cluster.session_event(session, "back")

    def _on_bye(self, session: Session, message: dict[str, Any]) -> None:
        """A client leaving on purpose: no grace period, its rooms are left at once."""
        session.advance("bye")
        self._forget(session)
        _ok(session, message)
        if session.link is not None:
            session.ending = "bye"
            session.link.close()

    def _on_ping(self, session: Session, message: dict[str, Any]) -> None:
        session.send(_reply(message, {"type": "pong"}))

    def _on_pong(self, session: Session, message: dict[str, Any]) -> None:
        _ok(session, message)  # receiving it refreshed last_seen; an id still gets its one reply

    def _on_list_games(self, session: Session, message: dict[str, Any]) -> None:
        games = [
            {
                "name": g.name,
                "description": g.description,
                "players": g.players,
                "bots": list(g.bots),
                "web_board": _web_board(g),
                "realtime": isinstance(g, RealtimeGame),
                "tick_rate": g.tick_rate if isinstance(g, RealtimeGame) else None,
                **({"keys": g.keys, "idle": g.idle} if isinstance(g, RealtimeGame) and g.keys else {}),
            }
            for g in self.games.values()
        ]
        session.send(_reply(message, {"type": "games", "games": games}))

    def _on_list_rooms(self, session: Session, message: dict[str, Any]) -> None:
        """A page of the lobby: at most ``limit`` rooms (default and most: LISTING_PAGE) after the
        cursor ``after``; ``next`` is the cursor of the next page, or None."""
        limit = message.get("limit", LISTING_PAGE)
        if not 1 <= limit <= LISTING_PAGE:
            raise ProtocolError(ErrorCode.INVALID_MESSAGE, f"'limit' must be from 1 to {LISTING_PAGE}")
        rooms, following = self.directory.listing(
            message.get("game"), after=max(message.get("after", 0), 0), limit=limit
        )
        session.send(_reply(message, {"type": "rooms", "rooms": rooms, "next": following}))

    def _game(self, name: str | None) -> Game | RealtimeGame:
        if name is None:
            raise ProtocolError(ErrorCode.INVALID_MESSAGE, "a match room needs 'game'")
        game = self.games.get(name)
        if game is None:
            offered = ", ".join(sorted(self.games))
            raise ProtocolError(ErrorCode.NO_SUCH_GAME, f"no game {name!r} on this server (games: {offered})")
        return game

    def new_room(
        self,
        kind: str,
        game: str | None,
        *,
        private: bool = False,
        message: dict[str, Any],
        host: bool = True,
    ) -> Room:
        """Make a room (``host``: and host it, listed from now on); refuse settings it cannot have."""
        cfg = self.config
        room: Room
        room_id = self.directory.new_room_id()
        code = self.directory.new_code() if private else None
        if kind in ("match", "realtime"):
            rules = self._game(game)
            options = message.get("options") or {}
            if isinstance(rules, RealtimeGame):
                if message.get("clock") is not None:
                    raise ProtocolError(
                        ErrorCode.INVALID_MESSAGE, f"{rules.name} is played in real time: no clock"
                    )
                _check_realtime_options(rules, options)
                room = RealtimeRoom(
                    self,
                    rules,
                    room_id=room_id,
                    code=code,
                    options=options,
                    max_spectators=cfg.max_spectators,
                )
                if host:
                    self.host_room(room)
                return room
            if kind == "realtime":
                raise ProtocolError(
                    ErrorCode.WRONG_ROOM_KIND, f"{rules.name} is a turn-based game: kind 'match'"
                )
            control = _time_control(message.get("clock"))
            _check_options(rules, options)
            room = MatchRoom(
                self,
                rules,
                room_id=room_id,
                code=code,
                options=options,
                control=control,
                move_limit=cfg.move_timeout or None,
                max_spectators=cfg.max_spectators,
                bot_delay=cfg.bot_delay,
            )
        elif kind == "relay":
            wanted = message.get("max_members", cfg.max_relay_members)
            if not 2 <= wanted <= cfg.max_relay_members:
                raise ProtocolError(
                    ErrorCode.INVALID_MESSAGE,
                    f"max_members must be from 2 to {cfg.max_relay_members}",
                )
            label = game or "relay"
            room = RelayRoom(
                self,
                label,
                room_id=room_id,
                code=code,
                max_members=wanted,
                check=self.relay_checks.get(label),
            )
        else:
            raise ProtocolError(ErrorCode.INVALID_MESSAGE, "kind must be 'match', 'realtime' or 'relay'")
        if host:
            self.host_room(room)
        return room

    def check_room_quota(self, session: Session) -> None:
        """Refuse a client already in as many rooms as it may be (on every node of a cluster)."""
        if len(session.rooms) + len(session.remote) >= self.config.max_rooms_per_client:
            raise ProtocolError(
                ErrorCode.TOO_MANY_ROOMS,
                f"a client may be in at most {self.config.max_rooms_per_client} rooms at once",
            )

    def enter(self, session: Session, room: Room, message: dict[str, Any], *, spectate: bool) -> None:
        if room.has_member(session.id):
            raise ProtocolError(ErrorCode.ALREADY_IN_ROOM, f"you are already in room {room.id}")
        reply = room.join(Member(session.id, session.name, session.token_hash), spectate=spectate)
        session.rooms[room.id] = room
        session.send(_reply(message, reply))
        try:
            room.after_join(session.id)
        except Exception as exc:  # the request has had its one reply: this is the room's problem, logged
            hidden = isinstance(room, MatchRoom) and room.rules.has_hidden_information
            log.error(
                "room %s failed to start its game", room.id, exc_info=loggable(exc, hidden=hidden),
                extra={"event": "game_error", "room": room.id, "game": room.game},
            )  # fmt: skip

    def _refuse_while_draining(self) -> None:
        if self.draining:
            raise ProtocolError(
                ErrorCode.SERVER_DRAINING, "the server is about to restart: no new game starts now"
            )

    def _on_create_room(self, session: Session, message: dict[str, Any]) -> None:
        self._refuse_while_draining()
        self.check_room_quota(session)
        kind = message.get("kind", "match")
        if self.cluster is not None:  # entered once Redis has it, so that every node finds it
            self.cluster.check_available()
            room = self.new_room(
                kind, message.get("game"), private=bool(message.get("private")), message=message, host=False
            )
            self.cluster.directory.reserve(room.id)
            self.host_room(room)
            self.cluster.create_room(session, room, message)
            return
        room = self.new_room(kind, message.get("game"), private=bool(message.get("private")), message=message)
        try:
            self.enter(session, room, message, spectate=bool(message.get("spectate")))
        except ProtocolError:
            self.room_emptied(room)
            raise

    def _on_join_room(self, session: Session, message: dict[str, Any]) -> None:
        self.check_room_quota(session)
        room_id, code = message.get("room"), message.get("code")
        if room_id is None and code is None:
            raise ProtocolError(ErrorCode.INVALID_MESSAGE, "'join_room' needs 'room' or 'code'")
        if code is not None:
            self.guesses.check(session, self.loop.time())
        if room_id is not None:
            info = self.directory.get(room_id)
            if info is None:
                raise ProtocolError(ErrorCode.NO_SUCH_ROOM, f"no room {room_id!r}")
            if info.code is not None and (code is None or normal_code(code) != info.code):
                if code is not None:
                    self.guesses.failed(session, self.loop.time())
                raise ProtocolError(ErrorCode.WRONG_CODE, "this room is private: its code is needed")
        else:
            assert code is not None
            found = self.directory.by_code(code)
            if found is None:
                self.guesses.failed(session, self.loop.time())
                raise ProtocolError(ErrorCode.WRONG_CODE, f"no room has the code {code!r}")
            info = found
        spectate = bool(message.get("spectate"))
        if not spectate and info.kind in ("match", "realtime"):
            self._refuse_while_draining()  # a player would start a game; watching is fine
        self.enter(session, self._hosted(info), message, spectate=spectate)

    def _on_quick_match(self, session: Session, message: dict[str, Any]) -> None:
        self._refuse_while_draining()
        self.check_room_quota(session)
        game = message["game"]
        kind = message.get("kind", "match")
        clock = None  # relay and real-time rooms have no clocks
        options = message.get("options") or {}
        if kind in ("match", "realtime"):
            rules = self._game(game)
            if isinstance(rules, RealtimeGame):
                if message.get("clock") is not None:
                    raise ProtocolError(ErrorCode.INVALID_MESSAGE, f"{game} is played in real time: no clock")
                kind = "realtime"
                if options:  # refused now, whether a room is found or made
                    _check_realtime_options(rules, options)
            elif kind == "realtime":
                raise ProtocolError(ErrorCode.WRONG_ROOM_KIND, f"{game} is a turn-based game: kind 'match'")
            else:
                clock = message.get("clock")
                clock = None if clock is None else str(_time_control(clock))
                if options:
                    _check_options(rules, options)
        elif options:
            raise ProtocolError(ErrorCode.INVALID_MESSAGE, "a relay room has no game options")
        if self.cluster is not None:  # a seat claimed in Redis: atomic across every node
            self.cluster.quick_match(session, message, kind, game, clock, options)
            return
        # Options named narrow the rooms to those made with them; none named: any open room.
        found = self.directory.find_open(game, kind, skip=session.rooms, clock=clock, options=options)
        if found is None:
            room = self.new_room(kind, game, private=False, message={"clock": clock, "options": options})
        else:
            room = self._hosted(found)
        self.enter(session, room, message, spectate=False)

    def _hosted(self, info: RoomInfo) -> Room:
        """The room a directory entry describes (one process: always one of ours)."""
        room = self.rooms.get(info.id)
        if room is None:  # listed but gone: the directory is behind
            raise ProtocolError(ErrorCode.NO_SUCH_ROOM, f"room {info.id!r} is gone")
        return room

    def _member_room(self, session: Session, message: dict[str, Any]) -> Room:
        room = session.rooms.get(message["room"])
        if room is None:
            raise ProtocolError(ErrorCode.NOT_IN_ROOM, f"you are not in room {message['room']!r}")
        return room

    def _match_room(self, session: Session, message: dict[str, Any]) -> MatchRoom:
        room = self._member_room(session, message)
        if not isinstance(room, MatchRoom):
            raise ProtocolError(ErrorCode.WRONG_ROOM_KIND, f"{message['type']!r} needs a match room")
        return room

    def _on_leave_room(self, session: Session, message: dict[str, Any]) -> None:
        room = self._member_room(session, message)
        del session.rooms[room.id]
        room.leave(session.id)
        session.send(_reply(message, {"type": "left", "room": room.id}))

    def _on_move(self, session: Session, message: dict[str, Any]) -> None:
        try:
            self._match_room(session, message).move(session.id, message["move"], message.get("version"))
        except ProtocolError as error:
            self.stats.refused(error.code)
            raise
        self.stats.moves_accepted += 1
        # From the read that brought the move to its new state queued for every player.
        self.stats.move_to_broadcast.observe(self._time() - session.last_seen)
        if self._durable is not None and "id" in message:  # acknowledged once it is stored, too
            self.send(session.id, {"type": "ok", "re": message["id"]})
        else:
            _ok(session, message)

    def _on_rematch(self, session: Session, message: dict[str, Any]) -> None:
        self._refuse_while_draining()
        room = self._member_room(session, message)
        if isinstance(room, RealtimeRoom):
            room.rematch(session.id)
        else:
            self._match_room(session, message).rematch(session.id)
        _ok(session, message)

    def _realtime_room(self, session: Session, message: dict[str, Any]) -> RealtimeRoom:
        room = session.rooms.get(message["room"])
        if type(room) is not RealtimeRoom:
            room = self._member_room(session, message)
            if not isinstance(room, RealtimeRoom):
                raise ProtocolError(ErrorCode.WRONG_ROOM_KIND, f"{message['type']!r} needs a real-time room")
        return room

    def _on_input(self, session: Session, message: dict[str, Any]) -> None:
        room = self._realtime_room(session, message)
        room.input(session.id, message["seq"], message["tick"], message["data"])
        _ok(session, message)

    def _on_resync(self, session: Session, message: dict[str, Any]) -> None:
        self._realtime_room(session, message).resync(session.id)
        _ok(session, message)

    def _on_resign(self, session: Session, message: dict[str, Any]) -> None:
        self._match_room(session, message).resign(session.id)
        _ok(session, message)

    def _on_offer_draw(self, session: Session, message: dict[str, Any]) -> None:
        self._match_room(session, message).offer_draw(session.id)
        _ok(session, message)

    def _on_decline_draw(self, session: Session, message: dict[str, Any]) -> None:
        self._match_room(session, message).decline_draw(session.id)
        _ok(session, message)

    def _on_add_bot(self, session: Session, message: dict[str, Any]) -> None:
        room: MatchRoom | RealtimeRoom
        room = self._member_room(session, message)  # type: ignore[assignment]
        if not isinstance(room, RealtimeRoom):
            room = self._match_room(session, message)
        if room.seat_of(session.id) is None:
            raise ProtocolError(ErrorCode.NOT_A_PLAYER, "only a seated player can add a bot")
        bot = message.get("bot") or next(iter(room.rules.bots), "")
        room.add_bot(bot, message.get("level"))
        _ok(session, message)

    def _on_relay(self, session: Session, message: dict[str, Any]) -> None:
        room = session.rooms.get(message["room"])
        if type(room) is not RelayRoom:  # the hot path checks the exact type; errors take the long way
            room = self._member_room(session, message)
            if not isinstance(room, RelayRoom):
                raise ProtocolError(ErrorCode.WRONG_ROOM_KIND, "'relay' needs a relay room")
        room.relay(session.id, message["data"])
        if "id" in message:
            _ok(session, message)


def _check_options(rules: Game, options: dict[str, Any]) -> None:
    """Refuse options the game cannot start with, now, rather than when the last seat fills."""
    if "seed" in options:
        raise ProtocolError(
            ErrorCode.INVALID_MESSAGE, "'seed' is not an option: the server owns every match's randomness"
        )
    try:
        seats = rules.seat_count(options)
        trial = engine.start(  # with the seed 0.1-era games read from their options
            rules, id="check", number=0, seats=seats, seed=0, options={**options, "seed": 0}, at=0.0
        )
        codec.encode(trial.match.state)
    except Exception as exc:
        words = str(exc)  # the engine's ValueError already says what cannot start
        if not words.startswith(f"{rules.name} cannot start"):
            words = f"{rules.name} cannot start with those options ({exc})"
        raise ProtocolError(ErrorCode.INVALID_MESSAGE, words) from None


def _check_realtime_options(rules: RealtimeGame, options: dict[str, Any]) -> None:
    """Refuse options a real-time game cannot start with, now rather than when the seats fill."""
    if "seed" in options:
        raise ProtocolError(
            ErrorCode.INVALID_MESSAGE, "'seed' is not an option: the server owns every match's randomness"
        )
    try:
        seats = rules.seat_count(options)
        trial = ticker.start(rules, id="check", number=0, seats=seats, seed=0, options=options, at=0.0)
        codec.encode(trial.match.state)
    except Exception as exc:
        raise ProtocolError(
            ErrorCode.INVALID_MESSAGE, f"{rules.name} cannot start with those options ({exc})"
        ) from None


def _time_control(text: str | None) -> TimeControl | None:
    """The ``clock`` of a create_room or quick_match, parsed; a precise error if it is not one."""
    if text is None:
        return None
    try:
        return TimeControl.parse(text)
    except ValueError as exc:
        raise ProtocolError(ErrorCode.INVALID_MESSAGE, str(exc)) from None


def _describe(room: Room) -> RoomInfo:
    listing = room.info()
    if room.private:  # the lobby shows strangers that a private room has players, not who they are
        for field in ("players", "members"):
            if field in listing:
                listing[field] = [{**p, "id": None, "name": None} for p in listing[field]]
    options = getattr(room, "options", None) or {}
    return RoomInfo(
        room.id, room.kind, room.game, room.code, room.clock, room.is_open(), listing, options, _free(room)
    )


def _free(room: Room) -> int:
    if isinstance(room, RelayRoom):
        return room.max_members - len(room.members)
    return room.free_seats() if isinstance(room, (MatchRoom, RealtimeRoom)) else 0


def _web_board(game: Game | RealtimeGame) -> str:
    """How the web page draws ``game``: "builtin", "generic", or the URL of the game's own board."""
    if game.web_board == "builtin":
        return "builtin"
    return "generic" if game.web_board is None else game_board_path(game.name)


def _hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _ok(session: Session, request: dict[str, Any]) -> None:
    """Acknowledge a request that has no other reply, if it carries an id (every id gets one reply)."""
    rid = request.get("id")
    if rid is not None:
        session.send({"type": "ok", "re": rid})


def _reply(request: dict[str, Any], message: dict[str, Any]) -> dict[str, Any]:
    """Stamp a reply with the request's id, so the client can match them."""
    rid = request.get("id")
    if rid is not None:
        message["re"] = rid
    return message
