"""A match room: the shell around the pure match engine (netplay.games.engine).

The room owns seats and spectators (by member id), feeds the engine actions stamped with the
host's time, and carries out the effects it returns, in order: records to the store first (a move
is stored before anyone sees it), then the state to every member, announcements, the next
deadline's timer, a rematch. It decides nothing the engine decides: who may act, validation,
clocks, randomness, results, draws and rematch votes are all the engine's.

The room keeps a record of its own in the store too (``record_room``: settings, seats, games
played, rematch votes), rewritten when a seat is taken or freed, a game starts or a vote is cast,
never per move, and deleted when the room closes: with it a restart brings back a room that is
waiting for players or between two games, not only one with a match in progress (``restore``).
"""

from __future__ import annotations

import functools
import logging
import random
import secrets
from collections.abc import Callable
from typing import Any

from ...games import Game, Outcome
from ...games import engine as eng
from ...games.engine import CHANGED, Announce, Arm, Finished, Match, NextMatch, Record, Refused, Step
from ...games.rng import ALGORITHM, Rng
from ...protocol import ErrorCode, ProtocolError, codec
from ...store import SavedMatch, SavedMove, SavedPlayer, SavedRoom
from ..bots import BotJob
from ..logs import loggable, loggable_repr
from .base import Cancellable, Member, RoomHost, member_json
from .seated import Seat, SeatedRoom, player_json

__all__ = ["MatchRoom", "Seat", "saved_start"]

log = logging.getLogger("netplay.rooms")

_LEGACY_SEED_STREAM = 1 << 63  # the stream of options["seed"], for games written before the engine's rng


def _refusal(refused: Refused) -> ProtocolError:
    return ProtocolError(ErrorCode(refused.code), refused.message, **dict(refused.extra or {}))


class MatchRoom(SeatedRoom):
    """Seats, spectators and one match at a time, run by the engine; rematches rotate the seats."""

    kind = "match"

    def __init__(
        self,
        host: RoomHost,
        game: Game,
        *,
        room_id: str,
        code: str | None = None,
        options: dict[str, Any] | None = None,
        control: eng.TimeControl | None = None,
        move_limit: float | None = None,
        max_spectators: int = 64,
        bot_delay: float = 0.4,
    ) -> None:
        super().__init__(host, game.name, room_id=room_id, code=code)
        self.rules = game
        self.options = dict(options or {})
        self.control = control
        self.move_limit = move_limit
        self.seats: list[Seat | None] = [None] * game.seat_count(self.options)
        self.spectators: dict[str, Member] = {}
        self.max_spectators = max_spectators
        self.bot_delay = bot_delay
        self.match: Match | None = None
        #: The match's record id in the store, and whether its start could be recorded.
        self.match_id: str | None = None
        self.recorded = True
        self.games_played = 0
        #: When the room was made (a restored room keeps its first server's time): the order the
        #: store gives rooms back in, oldest first, as the lobby lists them.
        self.created_at = host.now()
        #: Whether the store holds a record of this room (so that closing it deletes one).
        self._room_kept = False
        self._timer: Cancellable | None = None
        self._timer_at: float | None = None
        self._thinking: set[tuple[int, int]] = set()  # (seat, version) of bots at work
        self._players_json: list[dict[str, Any] | None] | None = None
        self._rng = random.Random()
        self._phased = type(game).phase is not Game.phase
        # The web page draws every game but its built-in ones from what the server says: each
        # recipient's state message then carries the game's text and its legal moves (decided once
        # per room, so the built-in games' state messages cost nothing more).
        self._for_web = game.web_board != "builtin"
        self._shared_state = not game.has_hidden_information and not self._for_web
        self._lists_moves = type(game).legal_moves is not Game.legal_moves
        self._web_failed: set[str] = set()  # the hooks that raised here: each is logged once
        self._sides = self._seat_labels() if self._for_web else None

    # -- lobby ---------------------------------------------------------------------------------
    @property
    def status(self) -> str:
        if self.match is None:
            return "waiting"
        return "finished" if self.match.outcome is not None else "playing"

    @property
    def clock(self) -> str | None:
        return None if self.control is None else str(self.control)

    @property
    def version(self) -> int:
        return 0 if self.match is None else self.match.version

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
            "players": [p for p in self._players() if p is not None],
            "spectators": len(self.spectators),
            "clock": self.clock,
        }

    def broadcast(self, message: dict[str, Any], exclude: str | None = None) -> None:
        """Send ``message`` to every member but ``exclude``, encoded once (a list, not member_ids'
        generator: this runs for every state message)."""
        ids = [s.id for s in self.seats if s is not None and s.bot is None]
        if self.spectators:
            ids.extend(self.spectators)
        self.host.deliver(ids, message, exclude)

    def _seats_changed(self) -> None:
        self._players_json = None
        self.host.room_changed(self)

    def _players(self) -> list[dict[str, Any] | None]:
        """Every seat as the state message lists it; rebuilt only when a seat or a link changes."""
        players = self._players_json
        if players is None:
            connected = self.host.is_connected
            players = self._players_json = [
                None if s is None else player_json(i, s, connected(s.id)) for i, s in enumerate(self.seats)
            ]
        return players

    # -- membership ----------------------------------------------------------------------------
    def join(self, member: Member, *, spectate: bool) -> dict[str, Any]:
        if spectate:
            if len(self.spectators) >= self.max_spectators:
                raise ProtocolError(ErrorCode.ROOM_FULL, "no room for more spectators")
            self.spectators[member.id] = member
            self.host.room_changed(self)
            self.broadcast(_member_event("member_joined", self.id, member, "spectator", None), member.id)
            return self.joined(member.id)
        try:
            index = self.seats.index(None)
        except ValueError:
            raise ProtocolError(
                ErrorCode.ROOM_FULL, "every seat is taken; join with spectate to watch"
            ) from None
        self.seats[index] = Seat(member.id, member.name, token_hash=member.token_hash)
        self.record_room()  # before the joined reply: a seat its player was told of survives a crash
        self._seats_changed()
        self.broadcast(_member_event("member_joined", self.id, member, "player", index), member.id)
        return self.joined(member.id)

    def after_join(self, member_id: str) -> None:
        """Bring the newcomer up to date, then start the game if the seats are full.

        A player who sits down after a game has ended wants the next one: that is its rematch vote.
        """
        self.send_state_to(member_id)
        self._seated(self.seat_of(member_id))

    def _seated(self, seat: int | None) -> None:
        """A seat was taken: between games that is a vote for the next one; else maybe start."""
        match = self.match
        if match is not None and match.outcome is not None and seat is not None and seat not in match.rematch:
            self._vote(seat)
        else:
            self._maybe_start()

    def add_bot(self, bot: str, level: int | None = None) -> None:
        """Seat a server-side bot in the first free seat; ``level``, for a bot that has levels
        (``with_level``, such as chess's engine bot), is its strength. The seat's bot is then
        ``"name:level"``, which is what the store keeps."""
        if bot not in self.rules.bots:
            known = ", ".join(self.rules.bots) or "none"
            raise ProtocolError(ErrorCode.NO_SUCH_BOT, f"{self.game} has no bot {bot!r} (bots: {known})")
        name = f"{bot} bot"
        if level is not None:
            with_level = getattr(self.rules.bots[bot], "with_level", None)
            if with_level is None:
                raise ProtocolError(ErrorCode.INVALID_MESSAGE, f"the {bot} bot of {self.game} has no levels")
            try:
                with_level(level)
            except ValueError as exc:
                raise ProtocolError(ErrorCode.INVALID_MESSAGE, f"the {bot} bot's {exc}") from None
            bot, name = f"{bot}:{level}", f"{bot} bot (level {level})"
        try:
            index = self.seats.index(None)
        except ValueError:
            raise ProtocolError(ErrorCode.ROOM_FULL, "no free seat for a bot") from None
        seat = Seat(f"bot-{secrets.token_hex(4)}", name, bot=bot)
        self.seats[index] = seat
        self.record_room()
        self._seats_changed()
        self.broadcast(
            {
                "type": "member_joined",
                "room": self.id,
                "member": {"id": seat.id, "name": seat.name, "role": "player", "seat": index, "bot": bot},
            }
        )
        self._seated(index)

    def leave(self, member_id: str) -> None:
        spectator = self.spectators.pop(member_id, None)
        if spectator is not None:
            self.host.room_changed(self)
            self.broadcast(_member_event("member_left", self.id, spectator, "spectator", None))
            self._check_empty()
            return
        index = self.seat_of(member_id)
        if index is None:
            return
        seat = self.seats[index]
        assert seat is not None
        self.seats[index] = None
        if self.has_players():
            self.record_room()
        else:  # nobody left to come back to it after a restart (spectators are not kept)
            self.forget_record()
        self._seats_changed()
        self.broadcast(_member_event("member_left", self.id, Member(seat.id, seat.name), "player", index))
        if self.match is not None and self.match.outcome is None:
            self._feed(eng.Forfeit(index, self.host.now()))
        self._check_empty()

    def member_away(self, member_id: str) -> None:
        self._players_json = None
        super().member_away(member_id)

    def member_back(self, member_id: str, *, announce: bool = True) -> None:
        self._players_json = None
        super().member_back(member_id, announce=announce)
        self.send_state_to(member_id)

    def send_state_to(self, member_id: str) -> None:
        """Bring a member up to date with the current state, if a game has begun."""
        if self.match is not None:
            message = self._web_state_message if self._for_web else self._state_message
            self.host.send(member_id, message(self.seat_of(member_id), self.host.now()))

    # -- requests ------------------------------------------------------------------------------
    def move(self, member_id: str, move: Any, version: int | None) -> None:
        """A move by a member; raise ProtocolError to refuse it."""
        index = self._player_seat(member_id, "spectators cannot move")
        match = self.match
        if match is None:
            raise ProtocolError(ErrorCode.GAME_NOT_STARTED, "waiting for players to join")
        # _act written out: this is the path of every move.
        refused = self._carry_out(
            eng.step(self.rules, match, eng.Move(index, move, self.host.now(), version))
        )
        if refused is not None:
            raise _refusal(refused)

    def resign(self, member_id: str) -> None:
        self._act(eng.Resign(self._started_seat(member_id), self.host.now()))

    def offer_draw(self, member_id: str) -> None:
        self._act(eng.OfferDraw(self._started_seat(member_id), self.host.now()))

    def decline_draw(self, member_id: str) -> None:
        self._act(eng.DeclineDraw(self._started_seat(member_id), self.host.now()))

    def rematch(self, member_id: str) -> None:
        index = self._player_seat(member_id, "only players can ask for a rematch")
        if self.match is None:
            raise ProtocolError(ErrorCode.GAME_NOT_STARTED, "no game has been played here yet")
        refused = self._vote(index)
        if refused is not None:
            raise _refusal(refused)

    def _vote(self, seat: int) -> Refused | None:
        """A rematch vote. Votes are the series' state: the room's record keeps them, written
        before anyone hears of the vote (and rewritten if it starts the next game)."""
        assert self.match is not None
        result = eng.step(self.rules, self.match, eng.Rematch(seat, self.host.now()))
        if result.refused is None:
            self.record_room(votes=result.match.rematch)
        return self._carry_out(result)

    def _player_seat(self, member_id: str, spectator_words: str) -> int:
        index = self.seat_of(member_id)
        if index is None:
            if member_id in self.spectators:
                raise ProtocolError(ErrorCode.NOT_A_PLAYER, spectator_words)
            raise ProtocolError(ErrorCode.NOT_A_PLAYER, "you have no seat in this room")
        return index

    def _started_seat(self, member_id: str) -> int:
        index = self._player_seat(member_id, "only players can do that")
        if self.match is None:
            raise ProtocolError(ErrorCode.GAME_NOT_STARTED, "waiting for players to join")
        return index

    def _act(self, action: eng.Action) -> None:
        refused = self._feed(action)
        if refused is not None:
            raise _refusal(refused)

    # -- the engine's shell --------------------------------------------------------------------
    def _feed(self, action: eng.Action) -> Refused | None:
        """Step the engine and carry out what it says; return its refusal, if any."""
        assert self.match is not None
        return self._carry_out(eng.step(self.rules, self.match, action))

    def _carry_out(self, result: Step) -> Refused | None:
        refused = result.refused
        if refused is not None and refused.detail is not None:
            log.error(
                "game %s failed in room %s: %s", self.game, self.id,
                loggable_repr(refused.detail, hidden=self.rules.has_hidden_information),
                extra={"event": "game_error", "room": self.id, "match": self.match_id, "game": self.game},
            )  # fmt: skip
        effects = result.effects
        if not effects:
            if result.match is not self.match:
                self.match = result.match
            return refused
        index = 0 if self.match is None else self.match.actions - 1  # records so far in this match
        if self.recorded:
            for effect in effects:  # stored before anything is sent; a refused write changes nothing
                if type(effect) is Record:
                    if not self._record(effect, index):
                        return Refused("internal_error", "the server could not record that move")
                    index += 1
        self.match = result.match
        changed = False
        for effect in effects:
            kind = type(effect)
            if kind is Record:
                continue
            if effect is CHANGED:  # one state message per step, of the match as it now stands
                if not changed:
                    changed = True
                    self._broadcast_state()
            elif kind is Arm:
                at = effect.at  # type: ignore[union-attr]
                if at is not None and (self._timer_at is None or at < self._timer_at):
                    self._arm(at)  # else the timer set for earlier stays (see _arm)
            elif kind is Finished:
                self._finished(effect.outcome)  # type: ignore[union-attr]
            elif kind is Announce:
                message = {**effect.message, "room": self.id}  # type: ignore[union-attr]
                seat = self.seats[message["seat"]]
                message["player"] = None if seat is None else seat.id
                self.broadcast(message)
            elif kind is NextMatch:
                self._maybe_start(rematch=True)
        return refused

    def _record(self, effect: Record, index: int) -> bool:
        assert self.match_id is not None
        kind, seat, move = eng.action_to_record(effect.action)
        try:
            self.host.store.move_applied(
                self.match_id, index, SavedMove(seat, move, effect.version, effect.action.at, kind)
            )
            return True
        except Exception:
            log.exception(
                "could not record a move in room %s", self.id,
                extra={"event": "store_error", "room": self.id, "match": self.match_id, "game": self.game},
            )  # fmt: skip
            return False

    def _finished(self, outcome: Any) -> None:
        self.host.stats.matches_finished += 1
        self.host.room_changed(self)
        log.info(
            "match %s in room %s (%s) ended: %s", self.match_id, self.id, self.game, outcome,
            extra={"event": "match_end", "room": self.id, "match": self.match_id, "game": self.game,
                   "reason": outcome.reason, "outcome": outcome.to_json()},
        )  # fmt: skip
        if not self.recorded:
            return
        assert self.match_id is not None
        try:
            self.host.store.match_finished(self.match_id, outcome.to_json(), self.host.now())
        except Exception:  # the result is still sent; only the record of it is lost
            log.exception(
                "could not record the result of match %s", self.match_id,
                extra={"event": "store_error", "room": self.id, "match": self.match_id, "game": self.game},
            )  # fmt: skip

    def _arm(self, at: float | None) -> None:
        """Make sure the engine is woken by ``at``. A timer set for earlier stays: when it fires
        early the engine finds nothing due and asks again, which costs less than a new timer for
        every move (each move pushes the move limit's deadline later)."""
        timer_at = self._timer_at
        if at is None or self.closed:
            return  # a timer still set fires into a Tick that finds nothing due
        if timer_at is not None and timer_at <= at:
            return
        if self._timer is not None:
            self._timer.cancel()
        self._timer_at = at
        self._timer = self.host.call_later(max(at - self.host.now(), 0.0), self._tick)

    def _tick(self) -> None:
        self._timer = self._timer_at = None
        if self.match is not None and not self.closed:
            self._feed(eng.Tick(self.host.now()))

    def close(self) -> None:
        super().close()
        if self._timer is not None:
            self._timer.cancel()
            self._timer = self._timer_at = None

    # -- starting a match ----------------------------------------------------------------------
    def _maybe_start(self, *, rematch: bool = False) -> None:
        if self.free_seats() or self.closed:
            return
        if self.match is not None:
            if self.match.outcome is None or not rematch:
                return
            # Players swap seats each game, so the first move alternates between them.
            self.seats = self.seats[1:] + self.seats[:1]
            self._players_json = None
        match_id, seed = self.host.new_match()
        options = {**self.options, "seed": Rng(seed, _LEGACY_SEED_STREAM).getrandbits(32)}
        now = self.host.now()
        self.games_played += 1
        try:
            first = eng.start(
                self.rules,
                id=match_id,
                number=self.games_played,
                seats=len(self.seats),
                seed=seed,
                options=options,
                at=now,
                control=self.control,
                move_limit=self.move_limit,
                bots=[i for i, s in enumerate(self.seats) if s is not None and s.bot is not None],
                version=1 if self.match is None else self.match.version + 1,
            )
        except ValueError:
            log.exception(
                "room %s cannot start a game of %s", self.id, self.game,
                extra={"event": "game_error", "room": self.id, "match": match_id, "game": self.game},
            )  # fmt: skip
            self.games_played -= 1
            return
        self.match_id = match_id
        self.recorded = self.host.store.keeps and self._record_start(
            SavedMatch(
                id=match_id,
                room_id=self.id,
                room_code=self.code,
                game=self.game,
                number=self.games_played,
                options=options,
                start_version=first.match.version,
                players=[self._saved_player(i) for i in range(len(self.seats))],
                started_at=now,
                seed=seed,
                rng=ALGORITHM,
                clock=None if self.control is None else str(self.control),
                move_limit=self.move_limit,
            )
        )
        self.record_room()  # the seats as this game has them, and its number
        self.host.stats.matches_started += 1
        log.info(
            "match %s started in room %s (%s)", match_id, self.id, self.game,
            extra={"event": "match_start", "room": self.id, "match": match_id, "game": self.game},
        )  # fmt: skip
        self._carry_out(first)
        self.host.room_changed(self)  # now playing: no longer open to quick-match

    def _record_start(self, saved: SavedMatch) -> bool:
        try:
            self.host.store.match_started(saved)
            return True
        except Exception:  # the game is played; only its record is lost (and said so in the log)
            log.exception(
                "could not record the start of match %s; it is played unrecorded", saved.id,
                extra={"event": "store_error", "room": self.id, "match": saved.id, "game": self.game},
            )  # fmt: skip
            return False

    def _saved_player(self, index: int) -> SavedPlayer:
        seat = self.seats[index]
        assert seat is not None
        return SavedPlayer(index, seat.id, seat.name, seat.bot, seat.token_hash)

    # -- the room's own record -----------------------------------------------------------------
    def record_room(self, *, votes: frozenset[int] | None = None) -> None:
        """Write the room's record (settings, seats, series) to the store, as it stands now.

        Called when a seat is taken or freed, a game starts and a rematch vote is cast, never per
        move. ``votes``: the rematch votes to keep, when a vote is written before the engine's
        step that casts it is carried out (by default, those of the game that ended last). A
        failed write is logged, and the room goes on (it would not survive a restart).
        """
        store = self.host.store
        if not store.keeps or self.closed:
            return
        match = self.match
        if votes is None:  # the votes of the game that ended last (none while one is on)
            ended = match is not None and match.outcome is not None and match.id == self.match_id
            votes = match.rematch if ended and match is not None else frozenset()
        record = SavedRoom(
            id=self.id,
            code=self.code,
            game=self.game,
            options=self.options,
            clock=self.clock,
            move_limit=self.move_limit,
            seats=len(self.seats),
            players=[self._saved_player(i) for i, seat in enumerate(self.seats) if seat is not None],
            games_played=self.games_played,
            match_id=self.match_id if self.recorded else None,
            rematch=sorted(votes),
            created_at=self.created_at,
            updated_at=self.host.now(),
        )
        try:
            store.room_saved(record)
            self._room_kept = True
        except Exception:
            log.exception(
                "could not record room %s; a restart would lose it", self.id,
                extra={"event": "store_error", "room": self.id, "game": self.game},
            )  # fmt: skip

    def abandon(self) -> None:
        """The room is being closed by the server's operator: a game in progress ends here, recorded
        as closed (a draw with the reason ``closed``), so a restart does not bring it back."""
        match = self.match
        if match is None or match.outcome is not None:
            return
        if self.recorded and self.match_id is not None:
            outcome = Outcome.draw("closed").for_seats(len(self.seats))
            try:
                self.host.store.match_finished(self.match_id, outcome.to_json(), self.host.now())
            except Exception:
                log.exception(
                    "could not record that match %s was closed", self.match_id,
                    extra={"event": "store_error", "room": self.id, "match": self.match_id,
                           "game": self.game},
                )  # fmt: skip
        self.host.stats.matches_finished += 1
        log.info(
            "match %s in room %s (%s) ended: the room was closed", self.match_id, self.id, self.game,
            extra={"event": "match_end", "room": self.id, "match": self.match_id, "game": self.game,
                   "reason": "closed"},
        )  # fmt: skip

    def move_log(self) -> list[dict[str, Any]]:
        """The current match's actions as the store has them (none for a store that keeps nothing)."""
        if not self.recorded or self.match_id is None:
            return []
        saved = self.host.store.get(self.match_id)
        if saved is None:
            return []
        return [{"seat": m.seat, "move": m.move, "kind": m.kind, "at": m.at} for m in saved.moves]

    def forget_record(self) -> None:
        """The room closed for good (its last member left): its record goes too."""
        if not self._room_kept:
            return
        self._room_kept = False
        try:
            self.host.store.room_closed(self.id)
        except Exception:  # a restart would bring back an empty room, whose seats then expire
            log.exception(
                "could not delete the record of room %s", self.id,
                extra={"event": "store_error", "room": self.id, "game": self.game},
            )  # fmt: skip

    @classmethod
    def restore(
        cls,
        host: RoomHost,
        game: Game,
        saved: SavedMatch | None,
        *,
        record: SavedRoom | None = None,
        max_spectators: int = 64,
        bot_delay: float = 0.4,
    ) -> MatchRoom:
        """Rebuild a room from what the store kept of it: its own ``record`` (settings, seats,
        series: all there is of a room waiting for players or between two games) and its latest
        match, ``saved``, rebuilt by replaying its recorded actions. Either may be missing (a room
        that never played has no match; a database from before room records has only matches).

        A match in progress brings its own seats; between games the room's record has the seats
        (players may have left or come since) and the rematch votes cast. Time that passed while
        the server was down is charged to the seats whose clocks were running (the deadlines are
        data in the record, so a clock that ran out meanwhile ends the game now). Raises
        ``eng.ReplayError`` if the record and the rules disagree.
        """
        if saved is None and record is None:
            raise ValueError("nothing to restore a room from")
        if record is not None:
            room_id, code, options = record.id, record.code, dict(record.options)
            clock, move_limit = record.clock, record.move_limit
        else:
            assert saved is not None
            room_id, code = saved.room_id, saved.room_code
            options = {k: v for k, v in saved.options.items() if k != "seed"}
            clock, move_limit = saved.clock, saved.move_limit
        room = cls(
            host,
            game,
            room_id=room_id,
            code=code,
            options=options,
            control=None if clock is None else eng.TimeControl.parse(clock),
            move_limit=move_limit,
            max_spectators=max_spectators,
            bot_delay=bot_delay,
        )
        in_progress = saved is not None and not saved.finished
        if record is not None:
            room.created_at = record.created_at
            room.games_played = record.games_played
            room._room_kept = True
        if record is not None and not in_progress:
            room.seats = [None] * record.seats
            players = record.players
        else:
            assert saved is not None
            room.seats = [None] * len(saved.players)
            players = saved.players
            room.created_at = min(room.created_at, saved.started_at)
        for player in players:
            room.seats[player.seat] = Seat(player.id, player.name, player.bot, player.token_hash)
        if saved is None:
            return room
        actions = [eng.action_from_record(m.kind, m.seat, m.move, m.at) for m in saved.moves]
        room.match = eng.replay(game, Step(saved_start(game, saved)), actions)
        room.match_id = saved.id
        room.games_played = saved.number
        if room.match.outcome is None:
            return room
        if in_progress:  # the crash came between the last move and its result
            room._finished(room.match.outcome)
        elif record is not None and record.match_id == saved.id:
            votes = frozenset(seat for seat in record.rematch if 0 <= seat < len(room.seats))
            room.match = room.match.evolve(rematch=votes)
        return room

    def resume(self) -> None:
        """After a restore: enforce the clocks for the time the server was down, let bots move.

        A room whose next game should have begun (its seats full and every vote in, or, without
        the record of its last game, full) starts it now: the crash came before its start.
        """
        match = self.match
        if match is None:
            self._maybe_start()
            return
        if match.outcome is not None:
            if len(match.rematch) == len(self.seats):
                self._maybe_start(rematch=True)
            return
        if self._feed(eng.Tick(self.host.now())) is None:
            self._schedule_bots()

    # -- state messages ------------------------------------------------------------------------
    def _state_message(self, seat: int | None, now: float) -> dict[str, Any]:
        match = self.match
        assert match is not None
        rules = self.rules
        last = match.last
        active = match.active
        return {
            "type": "state",
            "room": self.id,
            "game": match.number,
            "version": match.version,
            "status": "finished" if match.outcome is not None else "playing",
            "turn": next(iter(active)) if len(active) == 1 else None,
            "active": sorted(active) if len(active) > 1 else list(active),
            "phase": rules.phase(match.state) if self._phased else None,
            "players": self._players(),
            "state": rules.view(match.state, seat),
            "last": None if last is None else rules.view_move(last[0], last[1], seat),
            "outcome": None if match.outcome is None else match.outcome.to_json(),
            "clock": None if match.control is None else eng.clock_view(match, now),
            "draw_offers": sorted(match.draw_offers),
        }

    def _broadcast_state(self) -> None:
        assert self.match is not None
        now = 0.0 if self.match.control is None else self.host.now()  # only clocks need the time
        if self._shared_state:
            self.broadcast(self._state_message(None, now))
        else:
            message = self._web_state_message if self._for_web else self._state_message
            send = self.host.send
            for i, seat in enumerate(self.seats):
                if seat is not None and seat.bot is None:
                    send(seat.id, message(i, now))
            if self.spectators:
                self.host.deliver(self.spectators, message(None, now))
        if self.match.bots:
            self._schedule_bots()

    def _web_state_message(self, seat: int | None, now: float) -> dict[str, Any]:
        """The state message of a game the page draws from text: plus ``text`` (``render`` of this
        recipient's view), ``legal`` (its legal moves, when it may act now) and ``sides``.

        A hook that raises, or returns what a message cannot carry, leaves its field out; the
        first such failure of each hook in a room is logged.
        """
        message = self._state_message(seat, now)
        match = self.match
        assert match is not None
        rules = self.rules
        text = self._web_hook("render", rules.render, message["state"], seat)
        if isinstance(text, str):
            if self._encodes("render", text):
                message["text"] = text
        elif text is not None:
            self._web_failure("render", f"returned {type(text).__name__}, not text")
        if seat is not None and self._lists_moves and match.outcome is None and seat in match.active:
            legal = self._web_hook("legal_moves", rules.legal_moves, match.state, seat)
            if isinstance(legal, list | tuple):
                if self._encodes("legal_moves", legal):
                    message["legal"] = list(legal)
            elif legal is not None:
                self._web_failure("legal_moves", f"returned {type(legal).__name__}, not a list")
        if self._sides is not None:
            message["sides"] = self._sides
        return message

    def _web_hook(self, name: str, hook: Callable[..., Any], *args: Any) -> Any:
        """Call one of the game's presentation hooks; None if it raises."""
        try:
            return hook(*args)
        except Exception as exc:
            self._web_failure(name, f"raised {exc!r}", exc)
            return None

    def _encodes(self, name: str, value: Any) -> bool:
        """Whether ``value`` can go in a message (a game may return what JSON cannot carry)."""
        try:
            codec.encode(value)
            return True
        except (TypeError, ValueError, OverflowError) as exc:
            self._web_failure(name, f"gave what JSON cannot carry ({exc})")
            return False

    def _web_failure(self, name: str, what: str, exc: BaseException | None = None) -> None:
        if name not in self._web_failed:  # once per hook and room: it would fail on every move
            self._web_failed.add(name)
            log.error(
                "%s.%s %s in room %s; its state messages go without it",
                self.game,
                name,
                loggable_repr(what, hidden=self.rules.has_hidden_information),  # it may quote a view
                self.id,
                exc_info=loggable(exc, hidden=self.rules.has_hidden_information),
                extra={"event": "game_error", "room": self.id, "match": self.match_id, "game": self.game},
            )

    def _seat_labels(self) -> list[str] | None:
        """Each seat's side as the game names it (``seat_label``), if it names them."""
        if type(self.rules).seat_label is Game.seat_label:
            return None
        count = len(self.seats)
        labels = self._web_hook("seat_label", lambda: [self.rules.seat_label(i) for i in range(count)])
        if not isinstance(labels, list) or not all(isinstance(label, str) for label in labels):
            return None
        return labels

    # -- server-side bots ----------------------------------------------------------------------
    def _schedule_bots(self) -> None:
        match = self.match
        if match is None or not match.bots or match.outcome is not None or self.closed:
            return
        for index in match.active:
            seat = self.seats[index]
            if seat is None or seat.bot is None or (index, match.version) in self._thinking:
                continue
            self._thinking.add((index, match.version))
            version = match.version
            self.host.call_later(self.bot_delay, functools.partial(self._bot_turn, index, version))

    def _bot_turn(self, index: int, version: int) -> None:
        match = self.match
        if self.closed or match is None or match.outcome is not None or index not in match.active:
            self._thinking.discard((index, version))
            return
        seat = self.seats[index]
        if seat is None or seat.bot is None:
            return
        view = self.rules.view(match.state, index)
        job = BotJob(self.game, seat.bot, view, index, self._rng.getrandbits(32))
        rng = random.Random(job.seed)  # for a random move if the bot fails

        def done(move: Any, error: BaseException | None) -> None:
            self._thinking.discard((index, version))
            current = self.match
            if self.closed or current is None or current.outcome is not None or index not in current.active:
                return
            if error is None:
                refused = self._feed(eng.Move(index, move, self.host.now(), version))
                if refused is None:
                    self.host.stats.moves_accepted += 1
                else:
                    self.host.stats.refused(refused.code)
                if refused is None or refused.code == "stale_version":
                    if refused is not None:
                        self._schedule_bots()  # the world moved on while it thought: think again
                    return
                error = _refusal(refused)
            log.error(
                "bot %s failed in room %s; playing a random legal move", seat.bot, self.id,
                exc_info=loggable(error, hidden=self.rules.has_hidden_information),
                extra={"event": "bot_failed", "room": self.id, "match": self.match_id, "game": self.game},
            )  # fmt: skip
            self._bot_fallback(index, rng)

        self.host.run_bot(job, done)

    def _bot_fallback(self, index: int, rng: random.Random) -> None:
        """A bot that fails must not stall the game: a random legal move, or else it forfeits."""
        match = self.match
        assert match is not None
        try:
            moves = self.rules.legal_moves(match.state, index)
            if self._feed(eng.Move(index, rng.choice(moves), self.host.now())) is None:
                return
        except Exception as exc:  # NotImplementedError, an empty list...
            log.error(
                "bot in room %s cannot move (%s); it forfeits", self.id,
                loggable_repr(repr(exc), hidden=self.rules.has_hidden_information),
                extra={"event": "bot_failed", "room": self.id, "match": self.match_id, "game": self.game},
            )  # fmt: skip
        if self.match is not None and self.match.outcome is None:
            self._feed(eng.Forfeit(index, self.host.now()))


def saved_start(rules: Game, saved: SavedMatch) -> Match:
    """The match a record begins with, as it began (restores and ``netplay replay`` both start here).

    Raises ValueError if the rules cannot start it (or its clock is not one).
    """
    first = eng.start(
        rules,
        id=saved.id,
        number=saved.number,
        seats=len(saved.players),
        seed=saved.seed,
        options=saved.options,
        at=saved.started_at,
        control=None if saved.clock is None else eng.TimeControl.parse(saved.clock),
        move_limit=saved.move_limit,
        bots=[p.seat for p in saved.players if p.bot is not None],
        version=saved.start_version,
    )
    return first.match


def _member_event(kind: str, room_id: str, member: Member, role: str, seat: int | None) -> dict[str, Any]:
    return {"type": kind, "room": room_id, "member": member_json(member, role, seat)}
