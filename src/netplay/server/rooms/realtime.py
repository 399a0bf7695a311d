"""A real-time room: the shell around the pure tick engine (netplay.games.ticker).

The room owns seats and spectators (by member id), wakes the engine at each tick's deadline (the
engine says when, with ``Arm``; deadlines are fixed, so a late wake-up catches up without drift),
feeds it the members' inputs, and carries out its effects: each tick's inputs to the store before
anyone sees the state, then the views to every member at the game's patch rate.

What a member receives is a delta (``protocol/delta.py``) against the last view it acknowledged,
or a keyframe (the whole view): on joining, on coming back, when it asks (``resync``: its hash did
not match), every few seconds, and whenever it has acknowledged nothing the room still has. A
member whose connection has not taken what it was sent gets nothing more until it has: it then
gets the newest view, never a queue of old ones.
"""

from __future__ import annotations

import logging
import math
import random
import secrets
from time import perf_counter
from typing import Any

from ...games import Outcome
from ...games import ticker as tk
from ...games.realtime import RealtimeGame
from ...games.rng import ALGORITHM
from ...protocol import ErrorCode, ProtocolError, delta
from ...store import SavedMatch, SavedMove, SavedPlayer
from .base import Cancellable, Member, RoomHost, member_json
from .seated import Seat, SeatedRoom, player_json

__all__ = ["CHECKPOINT_SECONDS", "KEYFRAME_SECONDS", "MAX_BACKLOG", "RealtimeRoom"]

log = logging.getLogger("netplay.rooms")

#: A member gets the whole view at least this often.
KEYFRAME_SECONDS = 3.0
#: Bytes a member's connection may hold unsent before the room stops sending it views (it gets
#: the newest one once its connection has drained).
MAX_BACKLOG = 32 * 1024
#: A tick is recorded at least this often, inputs or not: a match restored after a crash goes on
#: from at most this long before it (only ticks with inputs are recorded otherwise).
CHECKPOINT_SECONDS = 1.0


#: ``_send_view``'s seat when the caller has not looked it up (seats are 0 and up, None for spectators).
_ASK = -1


class _Unviewable(Exception):
    """The game's view cannot be sent: ``view`` raised, or made something that is not JSON."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class _Viewer:
    """What the room knows of one member's copy of the game: the view it was sent last.

    Every transport delivers a connection's messages in order and loses none before the
    connection itself (a new connection gets a keyframe), so the member has that view by the
    time the next patch reaches it: each patch is made against it, and no acknowledgement is
    needed (one would cost a message a view, and patches against older views are bigger).
    """

    __slots__ = ("base", "base_tick", "keyframe_tick")

    def __init__(self) -> None:
        #: The view this member was sent last (and its tick): the next patch is made against it.
        self.base: Any = None
        self.base_tick = -1
        #: When it last got a keyframe (-inf: it needs one now).
        self.keyframe_tick = -(1 << 60)


class RealtimeRoom(SeatedRoom):
    """Seats, spectators and one real-time match at a time, run by the tick engine."""

    kind = "realtime"

    def __init__(
        self,
        host: RoomHost,
        game: RealtimeGame,
        *,
        room_id: str,
        code: str | None = None,
        options: dict[str, Any] | None = None,
        max_spectators: int = 64,
    ) -> None:
        super().__init__(host, game.name, room_id=room_id, code=code)
        self.rules = game
        self.options = dict(options or {})
        self.seats: list[Seat | None] = [None] * game.seat_count(self.options)
        self.spectators: dict[str, Member] = {}
        self.max_spectators = max_spectators
        self.match: tk.TickMatch | None = None
        self.match_id: str | None = None
        self.recorded = False
        self.games_played = 0
        self._records = 0  # records stored for this match
        self._recorded_tick = 0  # the last tick stored
        #: A restored match waits, its clock stopped, until every player is back (or gone).
        self.paused = False
        self._timer: Cancellable | None = None
        self._viewers: dict[str, _Viewer] = {}
        self._votes: set[int] = set()
        self._bot_rng = random.Random()
        self._bot_seq: dict[int, int] = {}
        self._bot_last: dict[int, Any] = {}
        rate = game.tick_rate
        self._patch_rate = max(1, min(game.patch_rate, rate))
        self._keyframe_ticks = max(1, round(KEYFRAME_SECONDS * rate))
        self._checkpoint_ticks = max(1, round(CHECKPOINT_SECONDS * rate))
        self._shared = not game.has_hidden_information

    # -- lobby ---------------------------------------------------------------------------------
    @property
    def status(self) -> str:
        if self.match is None:
            return "waiting"
        return "finished" if self.match.outcome is not None else "playing"

    def is_open(self) -> bool:
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
            "clock": None,
            "tick_rate": self.rules.tick_rate,
            "patch_rate": self._patch_rate,
        }

    def _players(self) -> list[dict[str, Any] | None]:
        connected = self.host.is_connected
        return [None if s is None else player_json(i, s, connected(s.id)) for i, s in enumerate(self.seats)]

    # -- membership ----------------------------------------------------------------------------
    def join(self, member: Member, *, spectate: bool) -> dict[str, Any]:
        if spectate:
            if len(self.spectators) >= self.max_spectators:
                raise ProtocolError(ErrorCode.ROOM_FULL, "no room for more spectators")
            self.spectators[member.id] = member
            role, index = "spectator", None
        else:
            if self.match is not None and self.match.outcome is None:
                raise ProtocolError(
                    ErrorCode.GAME_IN_PROGRESS, "a game is being played here; join with spectate to watch"
                )
            try:
                index = self.seats.index(None)
            except ValueError:
                raise ProtocolError(
                    ErrorCode.ROOM_FULL, "every seat is taken; join with spectate to watch"
                ) from None
            self.seats[index] = Seat(member.id, member.name, token_hash=member.token_hash)
            role = "player"
        self.host.room_changed(self)
        self.broadcast(
            {"type": "member_joined", "room": self.id, "member": member_json(member, role, index)}, member.id
        )
        return self.joined(member.id)

    def after_join(self, member_id: str) -> None:
        self._viewers[member_id] = _Viewer()
        seat = self.seat_of(member_id)
        self._show(member_id)
        if seat is not None:
            self._want_next(seat)

    def add_bot(self, bot: str, level: int | None = None) -> None:
        """Seat a server-side bot (a pure function called every tick) in the first free seat."""
        if bot not in self.rules.bots:
            known = ", ".join(self.rules.bots) or "none"
            raise ProtocolError(ErrorCode.NO_SUCH_BOT, f"{self.game} has no bot {bot!r} (bots: {known})")
        if level is not None:
            raise ProtocolError(ErrorCode.INVALID_MESSAGE, f"the {bot} bot of {self.game} has no levels")
        if self.match is not None and self.match.outcome is None:
            raise ProtocolError(ErrorCode.GAME_IN_PROGRESS, "a game is being played here")
        try:
            index = self.seats.index(None)
        except ValueError:
            raise ProtocolError(ErrorCode.ROOM_FULL, "no free seat for a bot") from None
        seat = Seat(f"bot-{secrets.token_hex(4)}", f"{bot} bot", bot=bot)
        self.seats[index] = seat
        self.host.room_changed(self)
        self.broadcast(
            {
                "type": "member_joined",
                "room": self.id,
                "member": {"id": seat.id, "name": seat.name, "role": "player", "seat": index, "bot": bot},
            }
        )
        self._want_next(index)

    def leave(self, member_id: str) -> None:
        self._viewers.pop(member_id, None)
        spectator = self.spectators.pop(member_id, None)
        if spectator is not None:
            self.host.room_changed(self)
            self.broadcast(
                {"type": "member_left", "room": self.id, "member": member_json(spectator, "spectator")}
            )
            self._check_empty()
            return
        index = self.seat_of(member_id)
        if index is None:
            return
        seat = self.seats[index]
        assert seat is not None
        self.seats[index] = None
        self._votes.discard(index)
        self.host.room_changed(self)
        self.broadcast(
            {
                "type": "member_left",
                "room": self.id,
                "member": member_json(Member(seat.id, seat.name), "player", index),
            }
        )
        match = self.match
        if match is not None and match.outcome is None and index not in match.gone:
            self._carry_out(tk.step(self.rules, match, tk.Leave(index, self._clock())))
        self._maybe_unpause()
        if not any(s is not None and s.bot is None for s in self.seats):
            self._stop()  # bots alone play for nobody
            match = self.match
            if match is not None and match.outcome is None and self.recorded and self.match_id is not None:
                try:  # ended, as the store must know: else every restart would try to bring it back
                    outcome = Outcome.draw("abandoned").for_seats(len(self.seats))
                    self.host.store.match_finished(self.match_id, outcome.to_json(), self.host.now())
                except Exception:
                    log.exception(
                        "could not record the end of match %s",
                        self.match_id,
                        extra=self._fields("store_error"),
                    )
            for i, s in enumerate(self.seats):
                if s is not None:
                    self.seats[i] = None
        self._check_empty()

    def member_away(self, member_id: str) -> None:
        viewer = self._viewers.get(member_id)
        if viewer is not None:
            self._viewers[member_id] = _Viewer()  # what it has is unknown once it is back
        super().member_away(member_id)

    def member_back(self, member_id: str, *, announce: bool = True) -> None:
        super().member_back(member_id, announce=announce)
        self._viewers[member_id] = _Viewer()
        self._show(member_id)
        self._maybe_unpause()

    # -- after a restart -----------------------------------------------------------------------
    @classmethod
    def restore(
        cls, host: RoomHost, game: RealtimeGame, saved: SavedMatch, *, max_spectators: int = 64
    ) -> RealtimeRoom:
        """Rebuild a room from its match in the store: the match replayed from its recorded ticks,
        paused until its players are back. Raises ReplayError (or ValueError) if it cannot be."""
        room = cls(host, game, room_id=saved.room_id, code=saved.room_code, options=saved.options,
                   max_spectators=max_spectators)  # fmt: skip
        for player in saved.players:
            room.seats[player.seat] = Seat(player.id, player.name, player.bot, player.token_hash)
        records = [tk.record_from_json(move.move) for move in saved.moves if move.kind == "tick"]
        room.match = tk.replay(
            game, id=saved.id, number=saved.number, seats=len(room.seats), seed=saved.seed,
            options=saved.options, records=records, at=host.monotonic(),
        )  # fmt: skip
        room.match_id, room.games_played, room.recorded = saved.id, saved.number, host.store.keeps
        room._records = len(saved.moves)
        room._recorded_tick = room.match.tick
        for index, seat in enumerate(room.seats):  # bots go on from what they last sent
            if seat is not None and seat.bot is not None:
                room._bot_seq[index] = room.match.received[index]
        room.paused = True
        return room

    def record_room(self) -> None:
        """Real-time rooms keep no record of their own: only their matches are stored."""

    def forget_record(self) -> None:
        """Nothing to forget (see ``record_room``)."""

    def resume(self) -> None:
        """Go on after a restore: at once if nobody needs to come back, else when they are."""
        self._maybe_unpause()

    def _maybe_unpause(self) -> None:
        match = self.match
        if not self.paused or match is None:
            return
        connected = self.host.is_connected
        if any(s is not None and s.bot is None and not connected(s.id) for s in self.seats):
            return
        self.paused = False
        if match.outcome is None:
            log.info(
                "match %s in room %s goes on from tick %d", self.match_id, self.id, match.tick,
                extra=self._fields("match_resumed"),
            )  # fmt: skip
            self.match = tk.rebase(match, self._clock())
            self._arm(tk.next_due(self.match))

    # -- requests ------------------------------------------------------------------------------
    def input(self, member_id: str, seq: int, tick: int, data: Any) -> None:
        """An input from a member for ``tick``; raise ProtocolError to refuse it."""
        index = self.seat_of(member_id)
        if index is None:
            self._count_refused(ErrorCode.NOT_A_PLAYER.value)
            words = (
                "spectators cannot send inputs" if member_id in self.spectators else "you have no seat here"
            )
            raise ProtocolError(ErrorCode.NOT_A_PLAYER, words)
        match = self.match
        if match is None:
            self._count_refused(ErrorCode.GAME_NOT_STARTED.value)
            raise ProtocolError(ErrorCode.GAME_NOT_STARTED, "waiting for players to join")
        result = tk.step(self.rules, match, tk.Input(index, seq, tick, data))
        refused = result.refused
        if refused is not None:
            self._count_refused(refused.code)
            if refused.detail is not None:
                log.error(
                    "game %s failed on an input in room %s: %s", self.game, self.id, refused.detail,
                    extra=self._fields("game_error"),
                )  # fmt: skip
            # With the room (a client may be in several: seqs are a room's) and what the engine says
            # of it: the next tick for one too early or too late, the limit, the last seq received.
            extra = dict(refused.extra or {})
            raise ProtocolError(ErrorCode(refused.code), refused.message, seq=seq, room=self.id, **extra)
        self.host.stats.inputs_accepted += 1
        self._carry_out(result)

    def _count_refused(self, code: str) -> None:
        """One more input refused with ``code`` (every refusal counts, the room's own ones too)."""
        counts = self.host.stats.inputs_refused
        counts[code] = counts.get(code, 0) + 1

    def resync(self, member_id: str) -> None:
        """The member's copy went wrong (its hash did not match): it gets a keyframe now."""
        if member_id not in self._viewers:
            raise ProtocolError(ErrorCode.NOT_IN_ROOM, "you are not in this room")
        self._viewers[member_id] = _Viewer()
        self._show(member_id)

    def rematch(self, member_id: str) -> None:
        index = self.seat_of(member_id)
        if index is None:
            raise ProtocolError(ErrorCode.NOT_A_PLAYER, "only players can ask for a rematch")
        if self.match is None:
            raise ProtocolError(ErrorCode.GAME_NOT_STARTED, "no game has been played here yet")
        if self.match.outcome is None:
            raise ProtocolError(ErrorCode.GAME_IN_PROGRESS, "the game is still being played")
        if index not in self._votes:  # as in match rooms: the others may offer to play again too
            self.broadcast({"type": "rematch_requested", "room": self.id, "seat": index, "player": member_id})
        self._want_next(index)

    # -- the engine's shell --------------------------------------------------------------------
    def _fields(self, event: str) -> dict[str, Any]:
        """The structured fields of a log line about this room's match."""
        return {"event": event, "room": self.id, "match": self.match_id, "game": self.game}

    def _clock(self) -> float:
        return self.host.monotonic()

    def _want_next(self, seat: int) -> None:
        """``seat`` is ready for a game: start one once every seat is (bots always are)."""
        self._votes.add(seat)
        if self.closed or self.free_seats():
            return
        if self.match is not None and self.match.outcome is None:
            return
        bots = {i for i, s in enumerate(self.seats) if s is not None and s.bot is not None}
        if self._votes | bots >= set(range(len(self.seats))):
            self._start()

    def _start(self) -> None:
        match_id, seed = self.host.new_match()
        self.games_played += 1
        try:
            first = tk.start(
                self.rules,
                id=match_id,
                number=self.games_played,
                seats=len(self.seats),
                seed=seed,
                options=self.options,
                at=self._clock(),
            )
        except ValueError:
            log.exception(
                "room %s cannot start a game of %s", self.id, self.game,
                extra={"event": "game_error", "room": self.id, "match": match_id, "game": self.game},
            )  # fmt: skip
            self.games_played -= 1
            return
        self._votes.clear()
        self._bot_seq.clear()
        self._bot_last.clear()
        self.match_id, self._records = match_id, 0
        self.recorded = self.host.store.keeps and self._record_start(match_id, seed)
        self.host.stats.matches_started += 1
        log.info(
            "match %s started in room %s (%s)", match_id, self.id, self.game,
            extra={"event": "match_start", "room": self.id, "match": match_id, "game": self.game},
        )  # fmt: skip
        for member_id in self._viewers:
            self._viewers[member_id] = _Viewer()
        self._carry_out(first)
        self._send_views(first.match, force=True)
        self.host.room_changed(self)

    def _record_start(self, match_id: str, seed: int) -> bool:
        players = []
        for i, seat in enumerate(self.seats):
            assert seat is not None
            players.append(SavedPlayer(i, seat.id, seat.name, seat.bot, seat.token_hash))
        try:
            self.host.store.match_started(
                SavedMatch(
                    id=match_id,
                    room_id=self.id,
                    room_code=self.code,
                    game=self.game,
                    number=self.games_played,
                    options=self.options,
                    start_version=0,
                    players=players,
                    started_at=self.host.now(),
                    seed=seed,
                    rng=ALGORITHM,
                )
            )
            return True
        except Exception:
            log.exception(
                "could not record the start of match %s; it is played unrecorded", match_id,
                extra={"event": "store_error", "room": self.id, "match": match_id, "game": self.game},
            )  # fmt: skip
            return False

    def _wake(self) -> None:
        self._timer = None
        match = self.match
        if match is None or match.outcome is not None or self.closed or self.paused:
            return
        started = perf_counter()
        self._carry_out(tk.step(self.rules, match, tk.Advance(self._clock())))
        self.host.stats.tick_seconds.observe(perf_counter() - started)

    def _carry_out(self, result: tk.TickStep) -> None:
        effects = result.effects
        stats = self.host.stats
        if self.recorded:
            for effect in effects:  # each tick's inputs are stored before anyone sees its state
                if type(effect) is tk.Record:
                    self._record(effect)
        self.match = match = result.match
        for effect in effects:
            if isinstance(effect, tk.Ticked):
                ran = effect.last - effect.first + 1
                stats.ticks += ran
                stats.tick_lateness.observe(effect.late)
                # The k-th tick of a catch-up ran (late - k periods) after its deadline.
                behind = effect.late * self.rules.tick_rate
                if behind > 1.0:
                    stats.ticks_late += min(ran, math.ceil(behind - 1.0))
                if (
                    self.recorded
                    and match.outcome is None
                    and (match.tick - self._recorded_tick >= self._checkpoint_ticks)
                ):
                    self._record(tk.Record(match.tick, {}))  # a checkpoint: no inputs this second
                if match.outcome is None:
                    self._run_bots(match)
                    if self._patch_due(effect.first - 1, effect.last):
                        self._send_views(self.match)
            elif isinstance(effect, tk.Arm):
                self._arm(effect.at)
            elif isinstance(effect, tk.Finished):
                self._finished(effect.outcome)
            elif isinstance(effect, tk.Late):
                stats.inputs_late += 1
            elif isinstance(effect, tk.Dropped):
                stats.inputs_dropped[effect.reason] = stats.inputs_dropped.get(effect.reason, 0) + 1
            elif isinstance(effect, tk.Skipped):
                stats.ticks_skipped += effect.count
                log.warning(
                    "room %s fell %d ticks behind; they were skipped", self.id, effect.count,
                    extra=self._fields("ticks_skipped"),
                )  # fmt: skip
            elif isinstance(effect, tk.Failed):
                log.error(
                    "game %s failed in room %s: %s", self.game, self.id, effect.detail,
                    extra=self._fields("game_error"),
                )  # fmt: skip

    def _patch_due(self, before: int, after: int) -> bool:
        """Whether a patch falls between ticks ``before`` and ``after`` (patch_rate per second)."""
        rate, patches = self.rules.tick_rate, self._patch_rate
        return (after * patches) // rate != (before * patches) // rate

    def _record(self, effect: tk.Record) -> None:
        assert self.match_id is not None
        try:
            self.host.store.move_applied(
                self.match_id,
                self._records,
                SavedMove(-1, tk.record_to_json(effect), effect.tick, self.host.now(), "tick"),
            )
            self._records += 1
            self._recorded_tick = effect.tick
        except Exception:
            log.exception(
                "could not record tick %d in room %s", effect.tick, self.id,
                extra=self._fields("store_error"),
            )  # fmt: skip

    def _run_bots(self, match: tk.TickMatch) -> None:
        """Each bot seat picks its input for the next tick from what it sees (changes only)."""
        for index, seat in enumerate(self.seats):
            if seat is None or seat.bot is None or index in match.gone:
                continue
            bot = self.rules.bots.get(seat.bot)
            if bot is None:
                continue
            try:
                data = bot(self.rules, self.rules.view(match.state, index), index, self._bot_rng)
            except Exception:
                log.exception(
                    "bot %s failed in room %s", seat.bot, self.id,
                    extra=self._fields("game_error"),
                )  # fmt: skip
                continue
            if data is None or data == self._bot_last.get(index):
                continue
            seq = self._bot_seq.get(index, -1) + 1
            result = tk.step(self.rules, match, tk.Input(index, seq, match.tick + 1, data))
            if result.refused is None:
                self._bot_seq[index], self._bot_last[index] = seq, data
                self.match = match = result.match

    def _arm(self, at: float | None) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if at is None or self.closed or self.match is None or self.match.outcome is not None:
            return  # (a match that failed while its tick's effects were carried out: over)
        # Up to the next whole millisecond: an event loop's timers (uvloop's, libuv's) count in
        # milliseconds, and one rounded down would wake the room before its tick is due.
        delay = math.ceil(max(at - self._clock(), 0.0) * 1000.0) / 1000.0
        self._timer = self.host.call_later(delay, self._wake)

    def _stop(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _finished(self, outcome: Any) -> None:
        self._stop()
        self.host.stats.matches_finished += 1
        self.host.room_changed(self)
        log.info(
            "match %s in room %s (%s) ended: %s", self.match_id, self.id, self.game, outcome,
            extra={"event": "match_end", "room": self.id, "match": self.match_id, "game": self.game,
                   "reason": outcome.reason, "outcome": outcome.to_json()},
        )  # fmt: skip
        assert self.match is not None
        self._send_views(self.match, force=True)
        if self.recorded:
            assert self.match_id is not None
            try:
                self.host.store.match_finished(self.match_id, outcome.to_json(), self.host.now())
            except Exception:
                log.exception(
                    "could not record the result of match %s", self.match_id,
                    extra=self._fields("store_error"),
                )  # fmt: skip

    # -- views to members ----------------------------------------------------------------------
    def _send_views(self, match: tk.TickMatch, *, force: bool = False) -> None:
        views: dict[int | None, tuple[Any, str]] = {}  # by seat: members alike get the very same view
        # (id of the base, seat) -> patch: members that were sent the very same view share one.
        # Not by the base's tick: a leave changes the state without a tick, so two members may
        # hold different views of one tick.
        made: dict[tuple[int, int], Any] = {}
        seats = {s.id: i for i, s in enumerate(self.seats) if s is not None and s.bot is None}
        try:
            shared = self._view(match, None) if self._shared else None
            if shared is not None and not force and match.outcome is None:
                self._send_shared_patches(match, shared, seats)
                return
            for member_id in list(self._viewers):
                seat = seats.get(member_id)
                self._send_view(
                    member_id, match, force=force, shared=shared, views=views, made=made, seat=seat
                )
        except _Unviewable as failure:
            self._unviewable(match, failure)

    def _send_shared_patches(
        self, match: tk.TickMatch, shared: tuple[Any, str], seats: dict[str, int]
    ) -> None:
        """Everyone sees the same view: those that hold the same base get one patch, the very same
        message (encoded once), with every seat's latest applied input in ``acks``; a member due a
        keyframe gets its own, as ``_send_view`` makes it."""
        view, digest = shared
        tick = match.tick
        host = self.host
        groups: dict[int, tuple[_Viewer, list[str]]] = {}
        for member_id, viewer in list(self._viewers.items()):
            if not host.is_connected(member_id) or host.backlog(member_id) > MAX_BACKLOG:
                continue
            if viewer.base_tick < 0 or tick - viewer.keyframe_tick >= self._keyframe_ticks:
                self._send_view(member_id, match, shared=shared, seat=seats.get(member_id))
                continue
            group = groups.get(id(viewer.base))
            if group is None:
                groups[id(viewer.base)] = (viewer, [member_id])
            else:
                group[1].append(member_id)
        for first, members in groups.values():
            message = {
                "type": "patch",
                "room": self.id,
                "tick": tick,
                "base": first.base_tick,
                "ops": delta.diff(first.base, view),
                "hash": digest,
                "acks": list(match.acks),
            }
            for member_id in members:
                viewer = self._viewers[member_id]
                viewer.base, viewer.base_tick = view, tick
            host.deliver(members, message)

    def _show(self, member_id: str) -> None:
        """A keyframe for one member, now (it joined, came back, or asked)."""
        match = self.match
        if match is None:
            return
        try:
            self._send_view(member_id, match, force=True)
        except _Unviewable as failure:
            self._unviewable(match, failure)

    def _view(self, match: tk.TickMatch, seat: int | None) -> tuple[Any, str]:
        try:
            view = self.rules.view(match.state, seat)
            return view, delta.state_hash(view)  # the hash encodes it: not JSON raises here
        except Exception as exc:
            whose = "spectators" if seat is None else f"seat {seat}"
            raise _Unviewable(f"the view for {whose} cannot be sent: {exc!r}") from exc

    def _unviewable(self, match: tk.TickMatch, failure: _Unviewable) -> None:
        """A view that cannot be sent ends the match, as the game's own failure would; the end
        goes out with the view each member has (what it was sent last)."""
        if match.outcome is None:
            self._carry_out(tk.step(self.rules, match, tk.Fail(failure.detail)))
            return
        for member_id, viewer in list(self._viewers.items()):
            base = viewer.base
            self._send_view(member_id, match, force=True, shared=(base, delta.state_hash(base)))

    def _send_view(
        self,
        member_id: str,
        match: tk.TickMatch,
        *,
        force: bool = False,
        shared: tuple[Any, str] | None = None,
        views: dict[int | None, tuple[Any, str]] | None = None,
        made: dict[tuple[int, int], Any] | None = None,
        seat: int | None = _ASK,
    ) -> None:
        viewer = self._viewers.get(member_id)
        if viewer is None or not self.host.is_connected(member_id):
            return
        if not force and self.host.backlog(member_id) > MAX_BACKLOG:
            return  # it has not taken the last ones: it gets the newest once it has
        if seat == _ASK:
            seat = self.seat_of(member_id)
        if shared is None and views is not None:
            shared = views.get(seat)
            if shared is None:
                shared = views[seat] = self._view(match, seat)
        view, digest = shared if shared is not None else self._view(match, seat)
        tick = match.tick
        message: dict[str, Any]
        finished = match.outcome is not None
        keyframe = (
            force or finished or viewer.base_tick < 0 or tick - viewer.keyframe_tick >= self._keyframe_ticks
        )
        if keyframe:
            message = {
                "type": "keyframe",
                "room": self.id,
                "game": match.number,
                "tick": tick,
                "state": view,
                "hash": digest,
                "status": "finished" if finished else "playing",
                "players": self._players(),
                "outcome": None if match.outcome is None else match.outcome.to_json(),
                "tick_rate": self.rules.tick_rate,
                "patch_rate": self._patch_rate,
            }
            viewer.keyframe_tick = tick
        else:
            key = (id(viewer.base), -1 if self._shared or seat is None else seat)
            ops = None if made is None else made.get(key)
            if ops is None:
                ops = delta.diff(viewer.base, view)
                if made is not None:
                    made[key] = ops
            message = {
                "type": "patch",
                "room": self.id,
                "tick": tick,
                "base": viewer.base_tick,
                "ops": ops,
                "hash": digest,
            }
        if seat is not None:
            message["ack"] = match.acks[seat]
            message["seat"] = seat
        viewer.base, viewer.base_tick = view, tick
        self.host.send(member_id, message)

    def close(self) -> None:
        super().close()
        self._stop()
