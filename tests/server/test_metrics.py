"""The metrics' names and labels, read from a real hub's registry in the Prometheus text format."""

from __future__ import annotations

import re

from prometheus_client.parser import text_string_to_metric_families

from netplay.games import builtin_games
from netplay.server.config import ServerConfig
from netplay.server.hub import Hub
from netplay.server.metrics import DISCONNECT_REASONS, TRANSPORTS, Buckets, metrics_registry, render

#: Label values come from these sets only (bounded cardinality): never a room or a player.
ALLOWED_LABELS = {"transport", "state", "kind", "game", "status", "code", "reason", "le"}
UNITS = ("_seconds", "_bytes", "_total")


async def scrape(hub: Hub) -> list:  # type: ignore[type-arg]
    return list(text_string_to_metric_families(render(metrics_registry(hub))[0].decode()))


async def test_every_netplay_metric_follows_the_naming_rules() -> None:
    hub = Hub(ServerConfig(), builtin_games())
    families = [f for f in await scrape(hub) if f.name.startswith("netplay_")]
    assert len(families) >= 20
    for family in families:
        assert re.fullmatch(r"netplay_[a-z][a-z0-9_]*", family.name), family.name
        if family.type == "counter":  # the parser drops the _total; the samples keep it
            assert all(s.name.endswith(("_total", "_created")) for s in family.samples), family.name
        if family.type == "histogram":
            assert family.name.endswith("_seconds"), family.name
        for sample in family.samples:
            assert set(sample.labels) <= ALLOWED_LABELS, (family.name, sample.labels)
            assert "room" not in sample.labels and "player" not in sample.labels


async def test_label_values_are_the_bounded_sets() -> None:
    hub = Hub(ServerConfig(), builtin_games())
    hub.stats.disconnected("not a reason")  # anything unknown is counted as "closed", not a new label
    families = {f.name: f for f in await scrape(hub)}
    reasons = {s.labels["reason"] for s in families["netplay_disconnects"].samples}
    assert reasons == set(DISCONNECT_REASONS)
    closed = next(s for s in families["netplay_disconnects"].samples if s.labels["reason"] == "closed")
    assert closed.value == 1
    transports = {s.labels["transport"] for s in families["netplay_connections"].samples}
    assert transports == set(TRANSPORTS)
    games = {s.labels["game"] for s in families["netplay_rooms"].samples if s.labels["kind"] == "match"}
    assert games == set(builtin_games())


def test_buckets_are_cumulative_with_an_infinite_last() -> None:
    buckets = Buckets((0.001, 0.01))
    for value in (0.0005, 0.001, 0.005, 5.0):
        buckets.observe(value)
    assert buckets.cumulative() == [("0.001", 2.0), ("0.01", 3.0), ("+Inf", 4.0)]
    assert buckets.count == 4 and abs(buckets.sum - 5.0065) < 1e-9


async def test_process_metrics_are_there_for_operators() -> None:
    names = {f.name for f in await scrape(Hub(ServerConfig(), builtin_games()))}
    assert {"process_resident_memory_bytes", "process_open_fds", "python_gc_collections"} <= names
