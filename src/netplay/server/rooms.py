"""Rooms: a match room runs a game authoritatively; a relay room forwards messages between members.

Rooms hold no sockets. They receive sessions, call their ``send``/``send_payload``, and ask the hub
(through the small ``RoomHost`` interface) for a clock, timers and bot execution.
"""

from __future__ import annotations

import logging
import random
import secrets
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, ClassVar, Protocol

from ..games import Game, Outcome
from ..protocol import ErrorCode, ProtocolError, codec
from ..store import MatchStore, SavedMatch, SavedMove, SavedPlayer
from .registry import new_code, new_id
from .session import Session

__all__ = ["MatchRoom", "RelayRoom", "Room", "RoomHost"]

log = logging.getLogger("netplay.rooms")


class RoomHost(Protocol):
    """What a room needs from the server around it."""

    store: MatchStore

    def call_later(self, delay: float, callback: Callable[[], None]) -> Any: ...

    def run_bot(self, job: Callable[[], Any], done: Callable[[Any, BaseException | None], None]) -> None:
        """Run ``job`` off the event loop, then ``done(result, error)`` back on it."""

    def room_emptied(self, room: Room) -> None: ...


class Room:
    """Members, privacy and the lobby description shared by every kind of room."""

    kind: ClassVar[str] = ""

    def __init__(self, host: RoomHost, game: str, *, private: bool) -> None:
        self.host = host
        self.id = new_id("r")
        self.game = game
        self.code: str | None = new_code() if private else None
        self.created_at = time.time()
        self.closed = False

    @property
    def private(self) -> bool:
        return self.code is not None

    def is_open(self) -> bool:
        """Whether quick-match may put a new player here."""
        raise NotImplementedError

    def sessions(self) -> Iterator[Session]:
        """Every connected member, players and spectators."""
        raise NotImplementedError

    def has_member(self, session: Session) -> bool:
        raise NotImplementedError

    def join(self, session: Session, *, spectate: bool) -> dict[str, Any]:
        """Add a member and return the ``joined`` reply; raise ProtocolError to refuse."""
        raise NotImplementedError

    def after_join(self) -> None:
        """Called once the joined reply has been sent: a room may start its game here."""

    def leave(self, session: Session) -> None:
        raise NotImplementedError

    def member(self, session: Session) -> dict[str, Any]:
        """How ``session`` appears in member events: id, name, role, seat, bot."""
        raise NotImplementedError

    def member_away(self, session: Session) -> None:
        """A member's connection dropped; it may come back within the grace period."""
        self.broadcast({"type": "member_disconnected", "room": self.id, "member": self.member(session)})

    def member_back(self, session: Session, *, announce: bool = True) -> None:
        """A member came back: bring it up to date, then (if it had been away) tell the others."""
        info = self.member(session)
        joined = {"type": "joined", "room": self.info(), "role": info["role"], "seat": info["seat"]}
        if self.code is not None:
            joined["code"] = self.code
        joined["resumed"] = True
        session.send(joined)
        if announce:
            self.broadcast({"type": "member_reconnected", "room": self.id, "member": info}, session)

    def info(self) -> dict[str, Any]:
        """The room as the lobby lists it (never the private code)."""
        raise NotImplementedError

    def broadcast(self, message: dict[str, Any], exclude: Session | None = None) -> None:
        """Encode once, send the same bytes to every member but ``exclude``."""
        payload = codec.encode(message)
        for member in self.sessions():
            link = member.link
            if link is not None and member is not exclude:
                link.send_payload(payload)

    def close(self) -> None:
        self.closed = True

    def _check_empty(self) -> None:
        if not any(True for _ in self.sessions()):
            self.host.room_emptied(self)


@dataclass(slots=True)
class Seat:
    """A seat at a match: a connected player or a server-side bot."""

    id: str
    name: str
    session: Session | None = None
    bot: str | None = None
    rematch: bool = False

    def describe(self, index: int) -> dict[str, Any]:
        connected = self.session is None or self.session.link is not None  # a bot is always there
        return {"seat": index, "id": self.id, "name": self.name, "bot": self.bot, "connected": connected}


@dataclass(slots=True)
class _Match:
    """The authoritative state of the game in progress (or just finished)."""

    id: str
    state: Any
    turn: int
    number: int
    outcome: Outcome | None = None
    last: dict[str, Any] | None = None
    moves: list[dict[str, Any]] = field(default_factory=list)
    #: False when the store refused the match's start: its moves are then not written either.
    recorded: bool = True


class MatchRoom(Room):
    """Runs one game definition: seats, turns, validation, versioned state, spectators, rematches."""

    kind = "match"

    def __init__(
        self,
        host: RoomHost,
        game: Game,
        *,
        private: bool = False,
        options: dict[str, Any] | None = None,
        max_spectators: int = 64,
        bot_delay: float = 0.4,
    ) -> None:
        super().__init__(host, game.name, private=private)
        self.rules = game
        self.options = dict(options or {})
        self.seats: list[Seat | None] = [None] * game.players
        self.spectators: dict[str, Session] = {}
        self.max_spectators = max_spectators
        self.bot_delay = bot_delay
        self.version = 0
        self.match: _Match | None = None
        self.games_played = 0
        self._rng = random.Random()

    # -- lobby ---------------------------------------------------------------------------------
    @property
    def status(self) -> str:
        if self.match is None:
            return "waiting"
        return "finished" if self.match.outcome is not None else "playing"

    def free_seats(self) -> int:
        return sum(seat is None for seat in self.seats)

    def is_open(self) -> bool:
        # Only rooms waiting for their first game: a newcomer must not land in a finished one.
        return self.free_seats() > 0 and self.match is None

    def info(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "kind": self.kind,
            "game": self.game,
            "private": self.private,
            "status": self.status,
            "seats": len(self.seats),
            "free_seats": self.free_seats(),
            "players": [s.describe(i) for i, s in enumerate(self.seats) if s is not None],
            "spectators": len(self.spectators),
        }

    def sessions(self) -> Iterator[Session]:
        for seat in self.seats:
            if seat is not None and seat.session is not None:
                yield seat.session
        yield from self.spectators.values()

    def has_member(self, session: Session) -> bool:
        return session.id in self.spectators or self.seat_of(session) is not None

    def seat_of(self, session: Session) -> int | None:
        for i, seat in enumerate(self.seats):
            if seat is not None and seat.session is session:
                return i
        return None

    # -- membership ----------------------------------------------------------------------------
    def join(self, session: Session, *, spectate: bool) -> dict[str, Any]:
        if spectate:
            if len(self.spectators) >= self.max_spectators:
                raise ProtocolError(ErrorCode.ROOM_FULL, "no room for more spectators")
            self.spectators[session.id] = session
            reply = self._joined(session, "spectator", None)
            self.broadcast(self._member_event("member_joined", session, "spectator", None), session)
            return reply
        try:
            index = self.seats.index(None)
        except ValueError:
            raise ProtocolError(
                ErrorCode.ROOM_FULL, "every seat is taken; join with spectate to watch"
            ) from None
        self.seats[index] = Seat(session.id, session.name, session=session, rematch=True)
        reply = self._joined(session, "player", index)
        self.broadcast(self._member_event("member_joined", session, "player", index), session)
        return reply

    def add_bot(self, bot: str) -> None:
        """Seat a server-side bot in the first free seat."""
        if bot not in self.rules.bots:
            known = ", ".join(self.rules.bots) or "none"
            raise ProtocolError(ErrorCode.NO_SUCH_BOT, f"{self.game} has no bot {bot!r} (bots: {known})")
        try:
            index = self.seats.index(None)
        except ValueError:
            raise ProtocolError(ErrorCode.ROOM_FULL, "no free seat for a bot") from None
        seat = Seat(new_id("bot"), f"{bot} bot", bot=bot, rematch=True)
        self.seats[index] = seat
        self.broadcast(
            {
                "type": "member_joined",
                "room": self.id,
                "member": {"id": seat.id, "name": seat.name, "role": "player", "seat": index, "bot": bot},
            }
        )
        self._maybe_start()

    def after_join(self) -> None:
        """Start the game when the seats are full (called once the joined reply has been sent)."""
        self._maybe_start()

    def leave(self, session: Session) -> None:
        if self.spectators.pop(session.id, None) is not None:
            self.broadcast(self._member_event("member_left", session, "spectator", None))
            self._check_empty()
            return
        index = self.seat_of(session)
        if index is None:
            return
        self.seats[index] = None
        self.broadcast(self._member_event("member_left", session, "player", index))
        if self.match is not None and self.match.outcome is None:
            self._forfeit(index)
        self._check_empty()

    def _joined(self, session: Session, role: str, seat: int | None) -> dict[str, Any]:
        return {"type": "joined", "room": self.info(), "role": role, "seat": seat}

    def member(self, session: Session) -> dict[str, Any]:
        seat = self.seat_of(session)
        role = "spectator" if seat is None else "player"
        return {"id": session.id, "name": session.name, "role": role, "seat": seat, "bot": None}

    def member_back(self, session: Session, *, announce: bool = True) -> None:
        super().member_back(session, announce=announce)
        self.send_state_to(session)

    def _member_event(self, kind: str, session: Session, role: str, seat: int | None) -> dict[str, Any]:
        return {
            "type": kind,
            "room": self.id,
            "member": {"id": session.id, "name": session.name, "role": role, "seat": seat, "bot": None},
        }

    def send_state_to(self, session: Session) -> None:
        """Bring a late joiner up to date with the current state, if a game has begun."""
        if self.match is not None:
            session.send(self._state_message(self.seat_of(session)))

    # -- the game ------------------------------------------------------------------------------
    def _maybe_start(self) -> None:
        if self.free_seats() or self.closed:
            return
        if self.match is not None:
            if self.match.outcome is None:
                return
            if not all(seat is not None and seat.rematch for seat in self.seats):
                return
            # Players swap seats each game, so the first move alternates between them.
            self.seats = self.seats[1:] + self.seats[:1]
        for seat in self.seats:
            assert seat is not None
            seat.rematch = seat.bot is not None
        options = {"seed": self._rng.getrandbits(32), **self.options}
        state = self.rules.setup(options)
        self.games_played += 1
        self.version += 1
        match = _Match(f"m-{secrets.token_hex(8)}", state, self.rules.first_player(state), self.games_played)
        match.recorded = self._record_start(
            SavedMatch(
                id=match.id,
                room_id=self.id,
                room_code=self.code,
                game=self.game,
                number=match.number,
                options=options,
                start_version=self.version,
                players=[self._saved_player(i) for i in range(len(self.seats))],
                started_at=time.time(),
            )
        )
        self.match = match
        self._broadcast_state()

    def rematch(self, session: Session) -> None:
        index = self.seat_of(session)
        if index is None:
            raise ProtocolError(ErrorCode.NOT_A_PLAYER, "only players can ask for a rematch")
        if self.match is None:
            raise ProtocolError(ErrorCode.GAME_NOT_STARTED, "no game has been played here yet")
        if self.match.outcome is None:
            raise ProtocolError(ErrorCode.GAME_IN_PROGRESS, "the game is not over yet")
        seat = self.seats[index]
        assert seat is not None
        seat.rematch = True
        self.broadcast({"type": "rematch_requested", "room": self.id, "seat": index, "player": session.id})
        self._maybe_start()

    def move(self, session: Session, move: Any, version: int | None) -> None:
        """Validate and apply a move from a connected player; raise ProtocolError to refuse it."""
        index = self.seat_of(session)
        if index is None:
            if session.id in self.spectators:
                raise ProtocolError(ErrorCode.NOT_A_PLAYER, "spectators cannot move")
            raise ProtocolError(ErrorCode.NOT_A_PLAYER, "you have no seat in this room")
        self._play(index, move, version)

    def _play(self, index: int, move: Any, version: int | None) -> None:
        match = self.match
        if match is None:
            raise ProtocolError(ErrorCode.GAME_NOT_STARTED, "waiting for players to join")
        if match.outcome is not None:
            raise ProtocolError(ErrorCode.GAME_OVER, "the game is over; ask for a rematch")
        if version is not None and version != self.version:
            raise ProtocolError(
                ErrorCode.STALE_VERSION,
                f"move made against version {version}; the current version is {self.version}",
                version=self.version,
            )
        if index != match.turn:
            raise ProtocolError(ErrorCode.NOT_YOUR_TURN, f"it is seat {match.turn}'s turn")
        rules = self.rules
        try:
            reason = rules.validate(match.state, index, move)
            if reason is None:
                state = rules.apply(match.state, index, move)
                codec.encode(state)  # states are sent and stored as JSON: check before committing
                outcome = rules.outcome(state)
                turn = match.turn if outcome is not None else rules.next_player(state, index)
        except Exception:
            log.exception("game %s raised on a move in room %s", self.game, self.id)
            raise ProtocolError(ErrorCode.INTERNAL_ERROR, "the game's rules failed on that move") from None
        if reason is not None:
            raise ProtocolError(ErrorCode.INVALID_MOVE, reason)
        try:
            if match.recorded:
                self.host.store.move_applied(
                    match.id, len(match.moves), SavedMove(index, move, self.version + 1, time.time())
                )
        except Exception:
            log.exception("could not record a move in room %s", self.id)
            raise ProtocolError(ErrorCode.INTERNAL_ERROR, "the server could not record that move") from None
        match.state = state
        match.turn = turn
        match.last = {"seat": index, "move": move}
        match.moves.append(match.last)
        self.version += 1
        if outcome is not None:
            self._finish(outcome)
        self._broadcast_state()

    def _finish(self, outcome: Outcome) -> None:
        assert self.match is not None
        self.match.outcome = outcome
        if not self.match.recorded:
            return
        try:
            self.host.store.match_finished(self.match.id, outcome.to_json(), time.time())
        except Exception:  # the result is still sent; only the record of it is lost
            log.exception("could not record the result of match %s", self.match.id)

    def _record_start(self, saved: SavedMatch) -> bool:
        try:
            self.host.store.match_started(saved)
            return True
        except Exception:  # the game is played; only its record is lost (and said so in the log)
            log.exception("could not record the start of match %s; it is played unrecorded", saved.id)
            return False

    def _saved_player(self, index: int) -> SavedPlayer:
        seat = self.seats[index]
        assert seat is not None
        token_hash = seat.session.token_hash if seat.session is not None else None
        return SavedPlayer(index, seat.id, seat.name, seat.bot, token_hash)

    @classmethod
    def restore(
        cls,
        host: RoomHost,
        game: Game,
        saved: SavedMatch,
        players: list[Session | None],
        *,
        max_spectators: int = 64,
        bot_delay: float = 0.4,
    ) -> MatchRoom:
        """Rebuild a room whose match was in progress: replay the stored moves on the rules.

        ``players`` are the sessions (away, until their owners reconnect) for the human seats.
        """
        room = cls(host, game, private=False, max_spectators=max_spectators, bot_delay=bot_delay)
        room.id, room.code = saved.room_id, saved.room_code
        for player, session in zip(saved.players, players, strict=True):
            room.seats[player.seat] = Seat(
                player.id, player.name, session=session, bot=player.bot, rematch=player.bot is not None
            )
            if session is not None:
                session.rooms[room.id] = room
        state = game.setup(saved.options)
        match = _Match(saved.id, state, game.first_player(state), saved.number)
        for move in saved.moves:
            match.state = game.apply(match.state, move.seat, move.move)
            match.turn = game.next_player(match.state, move.seat)
            match.last = {"seat": move.seat, "move": move.move}
            match.moves.append(match.last)
        room.match = match
        room.games_played = saved.number
        room.version = saved.start_version + len(saved.moves)
        outcome = game.outcome(match.state)
        if outcome is not None:  # the crash came between the last move and the record of the result
            room._finish(outcome)
        return room

    def resume_bots(self) -> None:
        """After a restore: if it is a bot's turn, let it move."""
        self._schedule_bot()

    def _state_message(self, seat: int | None) -> dict[str, Any]:
        match = self.match
        assert match is not None
        rules = self.rules
        return {
            "type": "state",
            "room": self.id,
            "game": match.number,
            "version": self.version,
            "status": self.status,
            "turn": None if match.outcome is not None else match.turn,
            "players": [s.describe(i) if s is not None else None for i, s in enumerate(self.seats)],
            "state": self.rules.view(match.state, seat),
            "last": None
            if match.last is None
            else rules.view_move(match.last["seat"], match.last["move"], seat),
            "outcome": None if match.outcome is None else match.outcome.to_json(),
        }

    def _broadcast_state(self) -> None:
        if not self.rules.has_hidden_information:
            self.broadcast(self._state_message(None))
        else:
            for i, seat in enumerate(self.seats):
                if seat is not None and seat.session is not None:
                    seat.session.send(self._state_message(i))
            if self.spectators:
                payload = codec.encode(self._state_message(None))
                for spectator in self.spectators.values():
                    spectator.send_payload(payload)
        self._schedule_bot()

    # -- server-side bots ----------------------------------------------------------------------
    def _schedule_bot(self) -> None:
        match = self.match
        if match is None or match.outcome is not None or self.closed:
            return
        seat = self.seats[match.turn]
        if seat is None or seat.bot is None:
            return
        version = self.version
        self.host.call_later(self.bot_delay, lambda: self._bot_turn(version))

    def _bot_turn(self, version: int) -> None:
        match = self.match
        if self.closed or match is None or version != self.version or match.outcome is not None:
            return
        index = match.turn
        seat = self.seats[index]
        if seat is None or seat.bot is None:
            return
        bot = self.rules.bots[seat.bot]
        view = self.rules.view(match.state, index)
        rng = random.Random(self._rng.getrandbits(32))

        def done(move: Any, error: BaseException | None) -> None:
            if self.closed or version != self.version:
                return
            if error is None:
                try:
                    self._play(index, move, version)
                    return
                except ProtocolError as exc:
                    error = exc
            log.error(
                "bot %s failed in room %s; playing a random legal move", seat.bot, self.id, exc_info=error
            )
            self._bot_fallback(index, version, rng)

        self.host.run_bot(lambda: bot(self.rules, view, index, rng), done)

    def _bot_fallback(self, index: int, version: int, rng: random.Random) -> None:
        """A bot that fails must not stall the game: a random legal move, or else it forfeits."""
        match = self.match
        assert match is not None
        try:
            self._play(index, rng.choice(self.rules.legal_moves(match.state, index)), version)
            return
        except Exception as exc:  # NotImplementedError, an empty list, a refused move...
            log.error("bot in room %s cannot move (%r); it forfeits", self.id, exc)
        self._forfeit(index)

    def _forfeit(self, leaver: int) -> None:
        """End the game in progress because ``leaver`` abandoned it, by the game's forfeit policy."""
        match = self.match
        assert match is not None and match.outcome is None
        remaining = [i for i, s in enumerate(self.seats) if s is not None and i != leaver]
        self._finish(self.rules.forfeit(match.state, leaver, remaining))
        self.version += 1
        self._broadcast_state()


class RelayRoom(Room):
    """Forwards every message a member sends to every other member, tagged with the sender's id."""

    kind = "relay"

    def __init__(self, host: RoomHost, label: str, *, private: bool = False, max_members: int = 64) -> None:
        super().__init__(host, label, private=private)
        self.members: dict[str, Session] = {}
        self.max_members = max_members
        #: Members that take room events as message dicts instead of encoded bytes, by id: the
        #: 15-112 text clients, which turn them into lines (netplay.server.text_rooms).
        self.hooks: dict[str, Callable[[dict[str, Any]], None]] = {}

    def is_open(self) -> bool:
        return len(self.members) < self.max_members

    def sessions(self) -> Iterator[Session]:
        return iter(self.members.values())

    def has_member(self, session: Session) -> bool:
        return session.id in self.members

    def info(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "kind": self.kind,
            "game": self.game,
            "private": self.private,
            "members": [_relay_member(s) for s in self.members.values()],
            "max_members": self.max_members,
        }

    def join(self, session: Session, *, spectate: bool) -> dict[str, Any]:
        if len(self.members) >= self.max_members:
            raise ProtocolError(ErrorCode.ROOM_FULL, f"the room is full ({self.max_members} members)")
        self.broadcast({"type": "member_joined", "room": self.id, "member": _relay_member(session)})
        self.members[session.id] = session
        return {"type": "joined", "room": self.info(), "role": "member", "seat": None}

    def leave(self, session: Session) -> None:
        if self.members.pop(session.id, None) is None:
            return
        self.hooks.pop(session.id, None)
        self.broadcast({"type": "member_left", "room": self.id, "member": _relay_member(session)})
        self._check_empty()

    def member(self, session: Session) -> dict[str, Any]:
        return _relay_member(session)

    def relay(self, sender: Session, data: Any) -> None:
        """Forward ``data`` to every other member, encoded once."""
        message = {"type": "relay", "room": self.id, "from": sender.id, "data": data}
        if self.hooks:
            self.broadcast(message, sender)
            return
        payload = codec.encode(message)  # the hot path of every relay room: kept flat on purpose
        for member in self.members.values():
            link = member.link
            if link is not None and member is not sender:
                link.send_payload(payload)

    def broadcast(self, message: dict[str, Any], exclude: Session | None = None) -> None:
        """Encode once for netplay members; hand the message itself to each hooked member."""
        hooks = self.hooks
        payload = None if hooks else codec.encode(message)
        for member in self.members.values():
            link = member.link
            if link is None or member is exclude:
                continue
            if hooks:
                hook = hooks.get(member.id)
                if hook is not None:
                    hook(message)
                    continue
            if payload is None:
                payload = codec.encode(message)
            link.send_payload(payload)


def _relay_member(session: Session) -> dict[str, Any]:
    """A relay room member, with the same keys as a match room's members."""
    return {"id": session.id, "name": session.name, "role": "member", "seat": None, "bot": None}
