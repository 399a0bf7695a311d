"""What the server counts, and ``/metrics`` in the Prometheus text format (``prometheus_client``).

The server's paths bump plain integers in one ``Stats`` (an attribute or dict add: nothing on a hot
path takes a lock or builds an object); ``ServerCollector`` turns them, and what the hub holds
(sessions, rooms), into metric families when Prometheus scrapes. Names follow Prometheus's rules:
``netplay_`` first, the unit in the name (``_seconds``, ``_bytes``), ``_total`` for counters. Every
label has a bounded set of values (a transport, a room kind, a game the server offers, an error
code, a disconnect reason): never a room, a player or anything else a client chooses.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Callable, Iterator, Sequence
from time import perf_counter
from typing import TYPE_CHECKING, Any

from prometheus_client import (
    CollectorRegistry,
    GCCollector,
    PlatformCollector,
    ProcessCollector,
)
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.exposition import choose_encoder

from ..store import MatchStore, SavedMatch, SavedMove, SavedRoom
from ..transports.counts import TransportCounts
from .rooms import MatchRoom

if TYPE_CHECKING:
    from .hub import Hub

__all__ = [
    "DISCONNECT_REASONS",
    "TRANSPORTS",
    "Buckets",
    "ServerCollector",
    "Stats",
    "TimedStore",
    "metrics_registry",
    "render",
]

#: What a client connects with: netplay frames over TCP, WebSocket (the browser), 15-112 text lines.
TRANSPORTS = ("tcp", "websocket", "text")
#: Why a connection ended. ``closed``: the client closed it or the network dropped it.
DISCONNECT_REASONS = (
    "bye",
    "closed",
    "timeout",
    "send_buffer_full",
    "rate_limited",
    "protocol_error",
    "replaced",
    "kicked",
    "shutdown",
    "unavailable",
)
#: Histogram buckets, in seconds: from a fast move (100 us) to a stalled disk or loop (10 s).
LATENCY_BUCKETS = (
    0.0001,
    0.00025,
    0.0005,
    0.001,
    0.0025,
    0.005,
    0.01,
    0.025,
    0.05,
    0.1,
    0.25,
    0.5,
    1.0,
    2.5,
    10.0,
)
#: A bot's think time: from a table lookup to the budget's worth.
THINK_BUCKETS = (0.001, 0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


class Buckets:
    """A histogram's counts, cheap to bump on a hot path (a bisect and two adds)."""

    __slots__ = ("bounds", "counts", "sum")

    def __init__(self, bounds: Sequence[float] = LATENCY_BUCKETS) -> None:
        self.bounds = tuple(bounds)
        self.counts = [0] * (len(self.bounds) + 1)  # the last one: above every bound (+Inf)
        self.sum = 0.0

    def observe(self, value: float) -> None:
        self.counts[bisect_left(self.bounds, value)] += 1
        self.sum += value

    @property
    def count(self) -> int:
        return sum(self.counts)

    def cumulative(self) -> list[tuple[str, float]]:
        """``(le, count of observations <= le)`` pairs, as Prometheus wants them, ``+Inf`` last."""
        pairs, running = [], 0
        for bound, count in zip((*self.bounds, float("inf")), self.counts, strict=True):
            running += count
            pairs.append(("+Inf" if bound == float("inf") else repr(bound), float(running)))
        return pairs


class Stats:
    """Every count the server keeps for ``/metrics``: plain numbers its paths bump."""

    def __init__(self) -> None:
        self.tcp = TransportCounts()
        self.websocket = TransportCounts()
        self.text = TransportCounts()
        self.http_requests = 0
        self.moves_accepted = 0
        #: Moves refused, by error code (``not_your_turn``, ``invalid_move``, ...).
        self.moves_refused: dict[str, int] = {}
        self.relay_messages = 0
        self.matches_started = 0
        self.matches_finished = 0
        self.disconnects = dict.fromkeys(DISCONNECT_REASONS, 0)
        #: Admin requests refused for their token (none, or a wrong one).
        self.admin_refused = 0
        self.store_write = Buckets()
        self.move_to_broadcast = Buckets()
        self.loop_lag = Buckets()
        self.bot_think = Buckets(THINK_BUCKETS)
        # Real-time rooms.
        self.ticks = 0
        #: Ticks run more than one tick period after their deadline, and ticks skipped outright
        #: (a room more than a second behind skips to now).
        self.ticks_late = 0
        self.ticks_skipped = 0
        #: How late each wake-up ran its first due tick, and how long a wake-up's ticks took.
        self.tick_lateness = Buckets()
        self.tick_seconds = Buckets()
        self.inputs_accepted = 0
        #: Inputs refused, by error code (``input_too_late``, ``invalid_input``, ...).
        self.inputs_refused: dict[str, int] = {}
        #: Inputs applied a tick or more after the tick they were meant for.
        self.inputs_late = 0
        #: Inputs accepted and then not applied, by reason ("replaced": a newer one for that tick).
        self.inputs_dropped: dict[str, int] = {}

    def refused(self, code: str) -> None:
        self.moves_refused[code] = self.moves_refused.get(code, 0) + 1

    def disconnected(self, reason: str) -> None:
        self.disconnects[reason if reason in self.disconnects else "closed"] += 1

    def by_transport(self, field: str) -> dict[str, int]:
        return {name: getattr(getattr(self, name), field) for name in TRANSPORTS}


class TimedStore(MatchStore):
    """A store whose every write is timed into ``buckets`` (``netplay_store_write_seconds``)."""

    keeps = True  # only a store that keeps something is worth timing

    def __init__(self, store: MatchStore, buckets: Buckets) -> None:
        self.inner = store
        self.buckets = buckets
        #: The last write failed (``/readyz`` says the server is not ready).
        self.failing = False

    def _timed(self, write: Callable[..., None], *args: Any) -> None:
        started = perf_counter()
        try:
            write(*args)
        except Exception:
            self.failing = True
            raise
        else:
            self.failing = False
        finally:
            self.buckets.observe(perf_counter() - started)

    def match_started(self, match: SavedMatch) -> None:
        self._timed(self.inner.match_started, match)

    def move_applied(self, match_id: str, index: int, move: SavedMove) -> None:
        self._timed(self.inner.move_applied, match_id, index, move)

    def match_finished(self, match_id: str, outcome: dict[str, Any], at: float) -> None:
        self._timed(self.inner.match_finished, match_id, outcome, at)

    def room_saved(self, room: SavedRoom) -> None:
        self._timed(self.inner.room_saved, room)

    def room_closed(self, room_id: str) -> None:
        self._timed(self.inner.room_closed, room_id)

    def unfinished(self) -> list[SavedMatch]:
        return self.inner.unfinished()

    def rooms(self) -> list[SavedRoom]:
        return self.inner.rooms()

    def recent(self, limit: int = 20) -> list[SavedMatch]:
        return self.inner.recent(limit)

    def get(self, match_id: str) -> SavedMatch | None:
        return self.inner.get(match_id)

    def close(self) -> None:
        self.inner.close()


def connections(hub: Hub) -> dict[str, int]:
    """Open player connections by transport: counted at a scrape, so always exact."""
    counts = dict.fromkeys(TRANSPORTS, 0)
    for session in hub.sessions.values():
        link = session.link
        if link is not None:
            counts[link.kind] = counts.get(link.kind, 0) + 1
    return counts


def _counter(name: str, doc: str, label: str | None, values: dict[str, int] | int) -> Metric:
    """A counter family from one number, or from a number per value of ``label``."""
    if label is None:
        assert isinstance(values, int)
        return CounterMetricFamily(name, doc, value=values)
    assert isinstance(values, dict)
    family = CounterMetricFamily(name, doc, labels=[label])
    for value, count in sorted(values.items()):
        family.add_metric([value], count)
    return family


def _histogram(name: str, doc: str, buckets: Buckets) -> Metric:
    family = HistogramMetricFamily(name, doc)
    family.add_metric([], buckets.cumulative(), buckets.sum)
    return family


class ServerCollector:
    """Reads a hub's ``Stats``, sessions and rooms into metric families at each scrape."""

    def __init__(self, hub: Hub) -> None:
        self.hub = hub

    def describe(self) -> list[Metric]:
        return []  # so that registering does not call collect() (the hub may not be ready)

    def collect(self) -> Iterator[Metric]:
        hub, stats = self.hub, self.hub.stats
        family = GaugeMetricFamily(
            "netplay_connections", "Open connections of players, by transport", labels=["transport"]
        )
        for transport, count in connections(hub).items():
            family.add_metric([transport], count)
        yield family
        sessions = GaugeMetricFamily(
            "netplay_sessions",
            "Player sessions: connected, or away within the reconnect grace",
            labels=["state"],
        )
        sessions.add_metric(["connected"], sum(1 for s in hub.sessions.values() if s.greeted))
        sessions.add_metric(["away"], len(hub.away))
        yield sessions
        yield self._rooms()
        yield _counter(
            "netplay_messages_received_total",
            "Messages received, by transport",
            "transport",
            stats.by_transport("messages_in"),
        )
        yield _counter(
            "netplay_messages_sent_total",
            "Messages sent, by transport",
            "transport",
            stats.by_transport("messages_out"),
        )
        yield _counter(
            "netplay_received_bytes_total",
            "Bytes received, by transport",
            "transport",
            stats.by_transport("bytes_in"),
        )
        yield _counter(
            "netplay_sent_bytes_total",
            "Bytes sent, by transport",
            "transport",
            stats.by_transport("bytes_out"),
        )
        yield _counter("netplay_http_requests_total", "HTTP requests answered", None, stats.http_requests)
        yield _counter("netplay_moves_accepted_total", "Moves the rules accepted", None, stats.moves_accepted)
        yield _counter(
            "netplay_moves_refused_total", "Moves refused, by error code", "code", stats.moves_refused
        )
        yield _counter(
            "netplay_relay_messages_total", "Messages relayed in relay rooms", None, stats.relay_messages
        )
        yield _counter("netplay_matches_started_total", "Matches started", None, stats.matches_started)
        yield _counter("netplay_matches_finished_total", "Matches finished", None, stats.matches_finished)
        yield _counter(
            "netplay_disconnects_total", "Connections that ended, by reason", "reason", stats.disconnects
        )
        yield _counter(
            "netplay_admin_refused_total", "Admin requests refused for a missing or wrong token", None,
            stats.admin_refused,
        )  # fmt: skip
        yield _histogram(
            "netplay_store_write_seconds", "Time to write a record to the store", stats.store_write
        )
        yield _histogram(
            "netplay_move_broadcast_seconds",
            "From a move's arrival to its new state queued for every player",
            stats.move_to_broadcast,
        )
        yield _histogram(
            "netplay_event_loop_lag_seconds", "How late the event loop ran a timer", stats.loop_lag
        )
        yield _histogram(
            "netplay_bot_think_seconds", "A server-side bot's time over one move", stats.bot_think
        )
        yield _counter("netplay_ticks_total", "Ticks run by real-time rooms", None, stats.ticks)
        yield _counter(
            "netplay_ticks_late_total", "Ticks run more than one tick period late", None, stats.ticks_late
        )
        yield _counter(
            "netplay_ticks_skipped_total", "Ticks skipped by rooms more than a second behind", None,
            stats.ticks_skipped,
        )  # fmt: skip
        yield _histogram(
            "netplay_tick_lateness_seconds", "How late a real-time room's wake-up ran its first due tick",
            stats.tick_lateness,
        )  # fmt: skip
        yield _histogram(
            "netplay_tick_seconds", "Time a real-time room's wake-up spent on its ticks", stats.tick_seconds
        )
        yield _counter(
            "netplay_inputs_accepted_total", "Real-time inputs accepted", None, stats.inputs_accepted
        )
        yield _counter(
            "netplay_inputs_refused_total", "Real-time inputs refused, by error code", "code",
            stats.inputs_refused,
        )  # fmt: skip
        yield _counter(
            "netplay_inputs_late_total", "Inputs applied after the tick they were meant for", None,
            stats.inputs_late,
        )  # fmt: skip
        yield _counter(
            "netplay_inputs_dropped_total", "Inputs accepted but not applied, by reason", "reason",
            stats.inputs_dropped,
        )  # fmt: skip
        draining = GaugeMetricFamily("netplay_draining", "1 while the server drains, else 0")
        draining.add_metric([], 1.0 if hub.draining else 0.0)
        yield draining

    def _rooms(self) -> Metric:
        counts: dict[tuple[str, str, str], int] = {}
        for game in self.hub.games:
            for status in ("waiting", "playing", "finished"):
                counts[("match", game, status)] = 0
        relay = 0
        for room in self.hub.rooms.values():
            if not isinstance(room, MatchRoom):  # a relay room: its "game" is its creator's label
                relay += 1
                continue
            key = ("match", room.game, room.status)
            counts[key] = counts.get(key, 0) + 1
        family = GaugeMetricFamily(
            "netplay_rooms", "Rooms, by kind, game and status", labels=["kind", "game", "status"]
        )
        for (kind, game, status), count in sorted(counts.items()):
            family.add_metric([kind, game, status], count)
        family.add_metric(["relay", "", "open"], relay)
        return family


def metrics_registry(hub: Hub) -> CollectorRegistry:
    """A registry of the hub's metrics and the process's (CPU, memory, open files, GC)."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(ServerCollector(hub))
    ProcessCollector(registry=registry)
    PlatformCollector(registry=registry)
    GCCollector(registry=registry)
    return registry


def render(registry: CollectorRegistry, accept: str = "") -> tuple[bytes, str]:
    """A scrape's body and its content type, in the format the scraper's ``Accept`` asks for (the
    Prometheus text format 0.0.4 by default; OpenMetrics if asked)."""
    encode, content_type = choose_encoder(accept)
    return encode(registry), content_type
