"""The real-time room shell, without a server: a fake host with a virtual clock, and what each member
receives. Timers wait in a list until a test fires them (on time, or late); every message a member
is sent goes through JSON, and a ``Screen`` rebuilds each member's view the way a client does."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

import orjson
import pytest

from netplay.games import ticker as tk
from netplay.games.base import Outcome, State
from netplay.games.pong import Pong
from netplay.games.realtime import RealtimeGame
from netplay.games.rng import Rng
from netplay.protocol import ErrorCode, ProtocolError, delta
from netplay.server.metrics import Stats
from netplay.server.rooms import Member, RealtimeRoom
from netplay.server.rooms.realtime import CHECKPOINT_SECONDS, KEYFRAME_SECONDS, MAX_BACKLOG
from netplay.store import SavedMatch, SavedMove, SqliteStore

# -- a tiny game --------------------------------------------------------------------------------


def forward(game: RealtimeGame, view: Any, seat: int, rng: Any) -> Any:
    """A bot that always wants to go forward (the room sends it once: it sends changes only)."""
    return 1


class Glide(RealtimeGame):
    """Each seat holds a direction (-1, 0 or 1: its last input) and moves by it every tick; the first
    to ``goal`` wins. A seat that leaves stops where it is."""

    name = "glide"
    players = 2
    tick_rate = 30
    patch_rate = 20
    max_input_bytes = 8
    bots = {"forward": forward}

    def seat_count(self, options: dict[str, Any]) -> int:
        return int(options.get("seats", self.players))

    def setup(self, options: dict[str, Any], rng: Rng) -> State:
        seats = self.seat_count(options)
        return {"t": 0, "dir": [0] * seats, "pos": [0] * seats, "goal": options.get("goal", 10**6)}

    def validate_input(self, state: State, seat: int, data: Any) -> str | None:
        return None if type(data) is int and -1 <= data <= 1 else "send -1, 0 or 1"

    def tick(self, state: State, inputs: Mapping[int, Any], rng: Rng) -> State:
        dirs = list(state["dir"])
        for seat, data in inputs.items():
            dirs[seat] = data
        pos = [p + d for p, d in zip(state["pos"], dirs, strict=True)]
        return {**state, "t": state["t"] + 1, "dir": dirs, "pos": pos}

    def outcome(self, state: State) -> Outcome | None:
        for seat, pos in enumerate(state["pos"]):
            if pos >= state["goal"]:
                return Outcome.win(seat)
        return None

    def leave(self, state: State, seat: int) -> State:
        dirs = list(state["dir"])
        dirs[seat] = 0
        return {**state, "dir": dirs}


RATE = Glide.tick_rate
PERIOD = 1 / RATE

# -- the fake host ------------------------------------------------------------------------------


class Timer:
    def __init__(self, due: float, callback: Callable[[], None]) -> None:
        self.due, self.callback, self.cancelled = due, callback, False

    def cancel(self) -> None:
        self.cancelled = True


class LoggingStore(SqliteStore):
    """SQLite in memory, each write noted in ``events`` (which the host shares: one order for both)."""

    def __init__(self) -> None:
        super().__init__(":memory:")
        self.events: list[tuple[Any, ...]] = []

    def match_started(self, match: SavedMatch) -> None:
        super().match_started(match)
        self.events.append(("started", match.id))

    def move_applied(self, match_id: str, index: int, move: SavedMove) -> None:
        super().move_applied(match_id, index, move)
        self.events.append(("stored", move.move))

    def match_finished(self, match_id: str, outcome: dict[str, Any], at: float) -> None:
        super().match_finished(match_id, outcome, at)
        self.events.append(("finished", outcome))


class FakeHost:
    """A RoomHost whose clock moves only when a test fires a timer or runs it to a time."""

    def __init__(self, store: LoggingStore, *, clock: float = 1000.0) -> None:
        self.store = store
        self.events = store.events  # ("sent", member, message) among the store's writes
        self.stats = Stats()
        self.clock = clock
        self.timers: list[Timer] = []
        self.sent: dict[str, list[dict[str, Any]]] = {}
        self.away: set[str] = set()
        self.backlogs: dict[str, int] = {}
        self.matches = 0
        self.emptied: list[Any] = []

    # RoomHost
    def now(self) -> float:
        return 1.7e9 + self.clock

    def monotonic(self) -> float:
        return self.clock

    def call_later(self, delay: float, callback: Callable[[], None]) -> Timer:
        assert delay >= 0
        timer = Timer(self.clock + delay, callback)
        self.timers.append(timer)
        return timer

    def backlog(self, member_id: str) -> int:
        return self.backlogs.get(member_id, 0)

    def run_bot(self, job: Any, done: Callable[[Any, BaseException | None], None]) -> None:
        raise AssertionError("a real-time room calls its bots itself")

    def new_match(self) -> tuple[str, int]:
        self.matches += 1
        return f"m{self.matches}", 4000 + self.matches

    def deliver(self, member_ids: Iterable[str], message: dict[str, Any], exclude: str | None = None) -> None:
        for member_id in member_ids:
            if member_id != exclude:
                self.send(member_id, message)

    def send(self, member_id: str, message: dict[str, Any]) -> None:
        if self.is_connected(member_id):
            copy = orjson.loads(orjson.dumps(message))  # as the member decodes it
            self.sent.setdefault(member_id, []).append(copy)
            self.events.append(("sent", member_id, copy))

    def is_connected(self, member_id: str) -> bool:
        return member_id not in self.away

    def room_emptied(self, room: Any) -> None:
        self.emptied.append(room)

    def room_changed(self, room: Any) -> None:
        pass

    # the test's side
    def pending(self) -> list[Timer]:
        return [t for t in self.timers if not t.cancelled]

    def fire(self, late: float = 0.0) -> None:
        """Fire the next timer, ``late`` seconds after it was due."""
        (timer,) = self.pending()  # a room arms one timer at a time
        timer.cancelled = True
        self.clock = max(self.clock, timer.due + late)
        timer.callback()

    def run_until(self, at: float) -> None:
        """Fire, on time, every timer due by ``at``; then the clock is ``at``."""
        while (live := self.pending()) and min(t.due for t in live) <= at:
            self.fire()
        self.clock = max(self.clock, at)

    def got(self, member_id: str, kind: str | None = None) -> list[dict[str, Any]]:
        messages = self.sent.get(member_id, [])
        return [m for m in messages if kind is None or m["type"] == kind]


class Screen:
    """One member's client: it rebuilds each view it gets (a keyframe as it is, a patch applied to
    the view it got last, which must be the patch's ``base``) and checks the hash."""

    def __init__(self, host: FakeHost, room: RealtimeRoom, member_id: str) -> None:
        self.host, self.room, self.member_id = host, room, member_id
        self.read_up_to = 0
        self.views: dict[int, Any] = {}
        self.view: Any = None
        self.tick = -1
        self.messages: list[dict[str, Any]] = []  # keyframes and patches, in order

    def read(self) -> list[dict[str, Any]]:
        """The keyframes and patches that came since the last read, each checked."""
        inbox = self.host.got(self.member_id)
        new = []
        for message in inbox[self.read_up_to :]:
            if message["type"] == "keyframe":
                view = message["state"]
            elif message["type"] == "patch":
                assert message["base"] == self.tick, (self.member_id, message)  # the view sent before
                view = delta.apply(self.view, message["ops"])
            else:
                continue
            assert delta.state_hash(view) == message["hash"], (self.member_id, message)
            self.views[message["tick"]] = self.view = view
            self.tick = message["tick"]
            new.append(message)
        self.read_up_to = len(inbox)
        self.messages.extend(new)
        return new


@pytest.fixture
def store() -> Iterable[LoggingStore]:
    store = LoggingStore()
    yield store
    store.close()


@pytest.fixture
def host(store: LoggingStore) -> FakeHost:
    return FakeHost(store)


def join(room: RealtimeRoom, member_id: str, *, spectate: bool = False) -> None:
    """``member_id`` joins, as the hub does it: ``join``, the reply, then ``after_join``."""
    room.join(Member(member_id, member_id.upper()), spectate=spectate)
    room.after_join(member_id)


def open_room(
    host: FakeHost,
    game: RealtimeGame | None = None,
    *,
    players: Iterable[str] = ("a", "b"),
    spectators: Iterable[str] = (),
    **options: Any,
) -> RealtimeRoom:
    room = RealtimeRoom(host, game or Glide(), room_id="r1", options=options)
    for member_id in players:
        join(room, member_id)
    for member_id in spectators:
        join(room, member_id, spectate=True)
    return room


def run(host: FakeHost, room: RealtimeRoom, to_tick: int, *screens: Screen) -> None:
    """Fire the room's timer, on time, until the match has run tick ``to_tick``; each screen reads
    what it got after every wake-up."""
    assert room.match is not None
    for _ in range(10 * (to_tick - room.match.tick) + 10):
        if room.match.tick >= to_tick or room.match.over:
            return
        host.fire()
        for screen in screens:
            screen.read()
    raise AssertionError("the match does not tick")


def due_at(timer: Timer, deadline: float) -> bool:
    """Whether ``timer`` fires at ``deadline``: never before it, at most a millisecond after (an event
    loop's timers count in milliseconds; the room rounds up, so as not to wake before the tick)."""
    return deadline - 1e-9 <= timer.due <= deadline + 0.001 + 1e-9


def is_patch_tick(n: int) -> bool:
    """Whether tick ``n`` sends a view: 20 of every 30 ticks."""
    return (n * 20) // 30 != ((n - 1) * 20) // 30


def playing(room: RealtimeRoom) -> Any:
    assert room.match is not None
    return room.match


# -- keyframes -----------------------------------------------------------------------------------


def test_the_start_sends_every_member_a_keyframe_of_tick_zero(host: FakeHost) -> None:
    room = open_room(host, players=["a"], spectators=["s"])
    assert room.match is None and host.got("a", "keyframe") == [] and host.pending() == []
    join(room, "b")
    match = playing(room)
    state = match.state
    for member_id, seat in (("a", 0), ("b", 1), ("s", None)):
        (keyframe,) = host.got(member_id, "keyframe")
        assert keyframe["tick"] == 0 and keyframe["game"] == 1 and keyframe["status"] == "playing"
        assert keyframe["state"] == state and keyframe["hash"] == delta.state_hash(state)
        assert keyframe["outcome"] is None and (keyframe["tick_rate"], keyframe["patch_rate"]) == (30, 20)
        assert [p["id"] for p in keyframe["players"]] == ["a", "b"]
        assert keyframe.get("seat") == seat and ("ack" in keyframe) == (seat is not None)
    (timer,) = host.pending()
    assert due_at(timer, match.started_at + PERIOD) and match.started_at == host.clock
    assert host.stats.matches_started == 1


def test_a_member_who_joins_a_running_match_gets_a_keyframe_first(host: FakeHost) -> None:
    room = open_room(host)
    run(host, room, 17)
    with pytest.raises(ProtocolError) as seated:
        join(room, "c")
    assert seated.value.code is ErrorCode.GAME_IN_PROGRESS
    join(room, "s", spectate=True)
    first, *rest = host.got("s")
    assert rest == [] and first["type"] == "keyframe" and first["tick"] == 17
    assert first["state"] == playing(room).state and "seat" not in first and "ack" not in first
    assert host.got("a", "member_joined")[-1]["member"]["id"] == "s"


def test_patches_at_the_patch_rate_rebuild_the_view_each_from_the_one_before(host: FakeHost) -> None:
    room = open_room(host)
    a, b = Screen(host, room, "a"), Screen(host, room, "b")
    a.read(), b.read()
    room.input("a", 0, 3, 1)
    room.input("b", 0, 31, -1)  # as far ahead as it may be
    run(host, room, RATE, a, b)
    second = [m for m in a.messages if m["tick"] > 0]
    assert [m["tick"] for m in second] == [n for n in range(1, RATE + 1) if is_patch_tick(n)]
    assert len(second) == 20  # patch_rate a second
    assert all(
        m["type"] == "patch" and m["base"] == before["tick"]
        for before, m in zip(a.messages, second, strict=False)
    )
    assert a.view == playing(room).state and a.view["pos"] == [28, 0]
    # Everyone sees the same view: one patch for all, with each seat's latest applied input.
    assert a.messages[-1]["acks"] == [0, -1] and b.messages[-1] == a.messages[-1]
    assert "seat" not in a.messages[-1] and "ack" not in a.messages[-1]
    assert a.messages[0]["seat"] == 0 and a.messages[0]["ack"] == -1  # a keyframe is a member's own
    # A whole view at least every KEYFRAME_SECONDS, however well the member keeps up.
    run(host, room, 7 * RATE, a, b)
    keyframes = [m["tick"] for m in a.messages if m["type"] == "keyframe"]
    every = round(KEYFRAME_SECONDS * RATE)
    assert keyframes == [0, every, 2 * every] and b.view == a.view == playing(room).state
    assert playing(room).state["pos"] == [7 * RATE - 2, -(7 * RATE - 30)]


def test_a_member_who_reads_late_rebuilds_every_view_from_the_one_before(host: FakeHost) -> None:
    """Nothing is acknowledged: a connection delivers in order, so the view sent last is the base."""
    room = open_room(host)
    a, b = Screen(host, room, "a"), Screen(host, room, "b")
    run(host, room, RATE, a)  # b reads nothing for a second, then all of it at once
    assert b.read() == [m for m in host.got("b") if m["type"] in ("keyframe", "patch")]
    assert [m["tick"] for m in b.messages] == [m["tick"] for m in a.messages]  # seats differ, ticks not
    assert b.view == a.view == playing(room).state
    assert [m["type"] for m in b.messages].count("patch") == 20


def test_resync_sends_a_keyframe_at_once(host: FakeHost) -> None:
    room = open_room(host)
    a = Screen(host, room, "a")
    run(host, room, 10, a)
    before = len(a.messages)
    room.resync("a")
    (keyframe,) = a.read()
    assert keyframe["type"] == "keyframe" and keyframe["tick"] == 10 and len(a.messages) == before + 1
    run(host, room, 11, a)
    assert a.messages[-1]["type"] == "patch" and a.messages[-1]["base"] == 10
    with pytest.raises(ProtocolError) as outsider:
        room.resync("z")
    assert outsider.value.code is ErrorCode.NOT_IN_ROOM


def test_a_member_that_does_not_drain_gets_nothing_then_the_newest_view(host: FakeHost) -> None:
    room = open_room(host)
    a, b = Screen(host, room, "a"), Screen(host, room, "b")
    run(host, room, 6, a, b)
    host.backlogs["a"] = MAX_BACKLOG + 1
    sent = len(a.messages)
    run(host, room, 45, a, b)
    assert len(a.messages) == sent and b.messages[-1]["tick"] == 45  # b is sent views all along
    host.backlogs["a"] = MAX_BACKLOG  # at the limit is not over it
    run(host, room, 47, a, b)
    (newest,) = a.messages[sent:]  # one view, of the newest tick: no queue of the old ones
    assert newest["tick"] == 47 and newest["type"] == "patch" and newest["base"] == 6
    assert a.view == playing(room).state
    run(host, room, 60, a, b)
    assert a.view == b.view == playing(room).state


class Fog(Glide):
    """Glide where a player sees its own position only (a spectator sees everything); counts views."""

    name = "fog"

    def __init__(self) -> None:
        self.views_made = 0

    def view(self, state: State, seat: int | None) -> Any:
        self.views_made += 1
        if seat is None:
            return state
        return {"t": state["t"], "mine": state["pos"][seat]}


def test_with_hidden_information_each_member_rebuilds_its_own_view(host: FakeHost) -> None:
    game = Fog()
    room = open_room(host, game, spectators=["s", "t"])
    screens = [Screen(host, room, member_id) for member_id in ("a", "b", "s", "t")]
    room.input("a", 0, 2, 1)
    room.input("b", 0, 4, -1)
    run(host, room, 2 * RATE, *screens)
    state = playing(room).state
    assert [screen.view for screen in screens] == [
        {"t": 2 * RATE, "mine": 2 * RATE - 1},
        {"t": 2 * RATE, "mine": -(2 * RATE - 3)},
        state,
        state,
    ]
    assert all(m["type"] == "patch" for screen in screens for m in screen.messages[1:])
    made = game.views_made
    run(host, room, 2 * RATE + 2, *screens)  # one more patch: one view per seat, however many watch
    assert game.views_made - made == 3


# -- inputs ------------------------------------------------------------------------------------------


def test_refused_inputs_have_their_code_and_are_counted(host: FakeHost) -> None:
    room = open_room(host, players=["a"], spectators=["s"])

    def refused(member_id: str, seq: Any, tick: Any, data: Any) -> ProtocolError:
        before = room.match
        with pytest.raises(ProtocolError) as error:
            room.input(member_id, seq, tick, data)
        assert room.match is before
        return error.value

    assert refused("a", 0, 1, 1).code is ErrorCode.GAME_NOT_STARTED
    join(room, "b")
    run(host, room, 20)  # the next tick is 21: inputs for ticks 6 to 51 are taken
    assert refused("s", 0, 21, 1).code is ErrorCode.NOT_A_PLAYER
    assert refused("z", 0, 21, 1).code is ErrorCode.NOT_A_PLAYER
    room.input("a", 0, 21, 1)
    stale = refused("a", 0, 22, 1)
    assert stale.code is ErrorCode.STALE_INPUT and stale.extra["seq"] == 0
    assert refused("a", 1, 52, 1).code is ErrorCode.INPUT_TOO_EARLY
    assert refused("a", 1, 5, 1).code is ErrorCode.INPUT_TOO_LATE
    assert refused("a", 1, 22, 7).code is ErrorCode.INVALID_INPUT  # the game's validate_input
    assert refused("a", 1, 22, {1, 2}).code is ErrorCode.INVALID_INPUT  # not JSON
    assert refused("a", 1, "22", 1).code is ErrorCode.INVALID_INPUT  # the tick is not a number
    too_large = refused("a", 1, 22, "x" * 20)
    assert too_large.code is ErrorCode.INPUT_TOO_LARGE
    assert host.stats.inputs_refused == {
        "game_not_started": 1,
        "not_a_player": 2,
        "stale_input": 1,
        "input_too_early": 1,
        "input_too_late": 1,
        "invalid_input": 3,
        "input_too_large": 1,
    }
    assert host.stats.inputs_accepted == 1
    run(host, room, 22)
    assert playing(room).state["pos"] == [2, 0] and host.stats.inputs_late == 0


def test_a_late_input_is_applied_at_the_next_tick_and_counted(host: FakeHost) -> None:
    room = open_room(host)
    run(host, room, 20)
    room.input("a", 0, 14, 1)  # meant for tick 14: applied at tick 21
    assert host.stats.inputs_late == 1
    run(host, room, 21)
    assert playing(room).state["pos"] == [1, 0] and playing(room).acks == (0, -1)


# -- the tick timer ------------------------------------------------------------------------------------


def test_timers_fired_late_keep_the_deadlines_without_drift(host: FakeHost) -> None:
    room = open_room(host)
    start = playing(room).started_at
    for n in range(1, 301):
        host.fire(late=0.7 * PERIOD)  # each wake-up most of a period late
        assert playing(room).tick == n
        (timer,) = host.pending()
        assert due_at(timer, start + (n + 1) / RATE)  # not "now + a period"
    assert host.clock == pytest.approx(start + 10 + 0.7 * PERIOD)
    assert host.stats.ticks == 300 and host.stats.ticks_late == 0 and host.stats.ticks_skipped == 0


def test_a_wakeup_more_than_one_period_late_counts_late_ticks(host: FakeHost) -> None:
    room = open_room(host)
    run(host, room, 5)
    host.fire(late=2.5 * PERIOD)  # ticks 6, 7 and 8 run, 2.5, 1.5 and 0.5 periods late
    assert playing(room).tick == 8 and host.stats.ticks_late == 2
    host.fire(late=0.5 * PERIOD)
    assert playing(room).tick == 9 and host.stats.ticks_late == 2
    host.fire(late=10.2 * PERIOD)  # one wake-up, 11 ticks: the first 10 more than a period late
    assert playing(room).tick == 20 and host.stats.ticks_late == 12 and host.stats.ticks == 20


# -- bots ---------------------------------------------------------------------------------------------


def test_a_bot_seat_plays(host: FakeHost) -> None:
    room = open_room(host, players=[])
    room.add_bot("forward")
    assert room.match is None  # a seat is free
    join(room, "a")
    assert room.seats[0] is not None and room.seats[0].bot == "forward"
    run(host, room, RATE)
    state = playing(room).state
    assert state["dir"] == [1, 0] and state["pos"] == [RATE - 1, 0]  # its input, from tick 2 on
    with pytest.raises(ProtocolError) as busy:
        room.add_bot("forward")
    assert busy.value.code is ErrorCode.GAME_IN_PROGRESS
    room.leave("a")  # bots alone play for nobody
    assert host.pending() == [] and room.seats == [None, None] and host.emptied == [room]


def test_pong_against_its_bot_every_patch_rebuilds_the_view(host: FakeHost) -> None:
    room = open_room(host, Pong(), players=[])
    room.add_bot("simple")  # on the left, where this seed serves first
    join(room, "a")
    a = Screen(host, room, "a")
    seq = 0
    for second in range(8):
        run(host, room, (second + 1) * RATE - 10, a)
        room.input("a", seq, playing(room).tick + 2, {"dir": (-1, 1)[second % 2]})
        seq += 1
        run(host, room, (second + 1) * RATE, a)
    match = playing(room)
    assert match.tick == 8 * RATE and a.view == match.state and a.messages[-1]["hash"]
    patches = [m for m in a.messages if m["type"] == "patch"]
    keyframes = [m for m in a.messages if m["type"] == "keyframe"]
    assert len(patches) + len(keyframes) == 8 * 20 + 1 and len(keyframes) == 3
    size = [len(orjson.dumps(m)) for m in patches], [len(orjson.dumps(m)) for m in keyframes]
    assert max(size[0]) < min(size[1])  # a patch is smaller than the whole view
    assert any(v["dirs"][0] != 0 for v in a.views.values())  # the bot moved its paddle
    assert any(v["dirs"][1] != 0 for v in a.views.values())  # and so did the player
    assert host.stats.inputs_accepted == 8 and host.stats.inputs_refused == {}


# -- the store ----------------------------------------------------------------------------------------


def test_records_reach_the_store_before_the_view_of_their_tick(host: FakeHost, store: LoggingStore) -> None:
    room = open_room(host)
    a = Screen(host, room, "a")
    for tick, seq in ((2, 0), (3, 1), (9, 2), (10, 3), (11, 4)):
        room.input("a", seq, tick, (-1, 1)[seq % 2])
        room.input("b", seq, tick + 1, (-1, 1)[seq % 2])
    run(host, room, 50, a)
    assert next(e for e in store.events if e[0] != "sent") == ("started", "m1")
    stored = [(i, e[1]) for i, e in enumerate(store.events) if e[0] == "stored"]
    assert [r["tick"] for _, r in stored] == [2, 3, 4, 9, 10, 11, 12, 42]  # 42: a checkpoint
    assert stored[0][1] == {"tick": 2, "inputs": {"0": [0, -1]}}
    views = [
        (i, e[2]["tick"])
        for i, e in enumerate(store.events)
        if e[0] == "sent" and e[2]["type"] in ("keyframe", "patch")
    ]
    for at, tick in views:
        assert all(i < at for i, record in stored if record["tick"] <= tick), tick
    saved = store.get("m1")
    assert saved is not None and [m.move["tick"] for m in saved.moves] == [r["tick"] for _, r in stored]
    assert [p.id for p in saved.players] == ["a", "b"] and saved.seed == 4001


def test_a_checkpoint_is_recorded_every_second_without_inputs(host: FakeHost, store: LoggingStore) -> None:
    room = open_room(host)
    run(host, room, 3 * RATE + 20)
    every = round(CHECKPOINT_SECONDS * RATE)
    records = [e[1] for e in store.events if e[0] == "stored"]
    assert records == [{"tick": n * every, "inputs": {}} for n in (1, 2, 3)]


def test_restore_replays_the_match_and_waits_for_every_player(store: LoggingStore) -> None:
    host = FakeHost(store)
    room = open_room(host)
    room.input("a", 0, 5, 1)
    room.input("b", 0, 12, -1)
    run(host, room, 42)  # the last input at tick 12, so a checkpoint at tick 42
    live = playing(room)
    saved = store.get("m1")
    assert saved is not None and saved.moves[-1].move == {"tick": 42, "inputs": {}}

    # The server restarts: a new host, its clock elsewhere, nobody connected yet.
    later = FakeHost(store, clock=50.0)
    later.away = {"a", "b"}
    back = RealtimeRoom.restore(later, Glide(), saved)
    back.resume()
    match = playing(back)
    assert (match.tick, match.state, match.acks) == (42, live.state, live.acks)
    assert back.paused and back.status == "playing" and back.match_id == "m1"
    later.run_until(80.0)
    assert later.pending() == [] and playing(back).tick == 42 and later.sent == {}
    later.away.discard("a")
    back.member_back("a")
    assert [m["type"] for m in later.got("a")] == ["joined", "keyframe"]
    assert later.got("a", "keyframe")[0]["tick"] == 42 and later.got("a")[0]["resumed"] is True
    assert back.paused and later.pending() == []  # b is still away
    later.run_until(90.0)
    assert playing(back).tick == 42
    later.away.discard("b")
    back.member_back("b")
    assert not back.paused
    (timer,) = later.pending()
    assert due_at(timer, 90.0 + PERIOD)  # one period on: no burst of catch-up ticks
    later.run_until(90.0 + 1.5 * PERIOD)
    assert playing(back).tick == 43 and later.stats.ticks == 1 and later.stats.ticks_skipped == 0
    # It goes on where it was: the seqs it received, its records.
    with pytest.raises(ProtocolError) as stale:
        back.input("a", 0, 45, 1)
    assert stale.value.code is ErrorCode.STALE_INPUT
    back.input("a", 1, 45, -1)
    later.run_until(90.0 + 3.5 * PERIOD)
    assert playing(back).state["pos"] == [live.state["pos"][0] + 1, live.state["pos"][1] - 3]
    moves = store.get("m1").moves  # type: ignore[union-attr]
    assert moves[-1].move == {"tick": 45, "inputs": {"0": [1, -1]}} and len(moves) == len(saved.moves) + 1


# -- leaving and rematches ------------------------------------------------------------------------------


def test_a_player_leaving_a_two_player_match_forfeits_it(host: FakeHost, store: LoggingStore) -> None:
    room = open_room(host, spectators=["s"])
    run(host, room, 10)
    a_got = len(host.got("a"))
    room.leave("a")
    match = playing(room)
    assert match.outcome == Outcome.win(1, "forfeit").for_seats(2) and match.gone == {0}
    for member_id in ("b", "s"):
        left, last = host.got(member_id)[-2:]
        assert left["type"] == "member_left" and left["member"]["id"] == "a"
        assert last["type"] == "keyframe" and last["status"] == "finished" and last["tick"] == 10
        assert last["outcome"] == match.outcome.to_json() and last["outcome"]["winner"] == 1
    assert len(host.got("a")) == a_got  # it has gone: it is sent nothing
    assert host.pending() == [] and host.stats.matches_finished == 1 and room.status == "finished"
    assert [e[1] for e in store.events if e[0] != "sent"][-2:] == [
        {"tick": 10, "inputs": {}, "left": [0]},
        match.outcome.to_json(),
    ]


def test_rematch_starts_a_new_match_once_every_seat_asks(host: FakeHost) -> None:
    room = open_room(host, spectators=["s"], goal=5)
    with pytest.raises(ProtocolError) as early:
        room.rematch("a")
    assert early.value.code is ErrorCode.GAME_IN_PROGRESS
    room.input("b", 0, 1, 1)
    run(host, room, 10)
    match = playing(room)
    assert match.tick == 5 and match.outcome == Outcome.win(1).for_seats(2) and host.pending() == []
    for member_id in ("a", "b", "s"):
        last = host.got(member_id)[-1]
        assert last["type"] == "keyframe" and last["status"] == "finished" and last["tick"] == 5
        assert last["outcome"]["winner"] == 1 and last["state"]["pos"] == [0, 5]
    with pytest.raises(ProtocolError) as watching:
        room.rematch("s")
    assert watching.value.code is ErrorCode.NOT_A_PLAYER
    room.rematch("a")
    assert room.match is match and room.games_played == 1
    room.rematch("b")
    assert room.match is not match and room.match_id == "m2" and room.games_played == 2
    for member_id in ("a", "b", "s"):
        keyframe = host.got(member_id)[-1]
        assert keyframe["type"] == "keyframe" and keyframe["game"] == 2 and keyframe["tick"] == 0
        assert keyframe["status"] == "playing" and keyframe["state"]["pos"] == [0, 0]
    run(host, room, 3)
    assert playing(room).tick == 3 and host.stats.matches_started == 2


def test_views_after_a_leave_that_changes_the_state_at_the_same_tick(host: FakeHost) -> None:
    """A leave changes the state without a tick: two members may then hold different views of one tick."""
    room = open_room(host, players=["a", "b", "c"], seats=3)
    a, b = Screen(host, room, "a"), Screen(host, room, "b")
    room.input("c", 0, 1, 1)
    run(host, room, 3, a, b)  # tick 3 sends a patch: both get the view with c moving
    room.leave("c")  # c stops, still at tick 3
    room.resync("a")  # a now holds the view of tick 3 after the leave, b the one before it
    a.read()
    assert a.views[3]["dir"] == [0, 0, 0] and b.views[3]["dir"] == [0, 0, 1]
    run(host, room, 6, a, b)
    assert a.view == b.view == playing(room).state and b.view["pos"] == [0, 0, 3]


# -- a game whose view cannot be sent ---------------------------------------------------------


class Blind(Glide):
    """From tick 5 on, its view holds a set: not JSON, so it cannot be sent."""

    def view(self, state: State, seat: int | None) -> Any:
        return {**state, "seen": {1, 2}} if state["t"] >= 5 else state


def test_a_view_that_cannot_be_sent_ends_the_match_recorded_and_nobody_waits(
    host: FakeHost, store: LoggingStore, caplog: pytest.LogCaptureFixture
) -> None:
    room = open_room(host, Blind(), spectators=["s"])
    a, s = Screen(host, room, "a"), Screen(host, room, "s")
    room.input("a", 0, 2, 1)
    run(host, room, 20, a, s)
    match = playing(room)
    assert match.tick == 5 and match.outcome == Outcome.draw("error").for_seats(2)  # tick 5 sends a view
    assert host.pending() == [] and room.status == "finished"  # no timer left behind
    assert "the view for seat 0 cannot be sent" in caplog.text and "TypeError" in caplog.text
    for screen in (a, s):  # the end, with the view each had (tick 4 sent none: tick 3's)
        last = screen.messages[-1]
        assert last["type"] == "keyframe" and last["status"] == "finished" and last["tick"] == 5
        assert last["outcome"] == match.outcome.to_json() and screen.view == Glide().view(last["state"], None)
        assert screen.view["t"] == 3 and "seen" not in screen.view
    saved = store.get("m1")
    assert saved is not None and saved.outcome == match.outcome.to_json()
    assert saved.moves[-1].move == {"tick": 5, "inputs": {}, "failed": True}
    records = [tk.record_from_json(m.move) for m in saved.moves]
    back = tk.replay(Blind(), id="m1", number=1, seats=2, seed=saved.seed, options={}, records=records)
    assert (back.tick, back.state, back.outcome) == (5, match.state, match.outcome)
    room.rematch("a"), room.rematch("b")  # and the room goes on: a new match, whose view fails alike
    assert room.match is not match and room.match_id == "m2" and host.pending() != []
