"""A batch between nodes (cluster/bus.py): items in order, and messages for clients carried as the
owner encoded them, so the home writes the same bytes out without encoding them again; what is
posted within the bus's delay crosses together, and never after a write made later."""

from __future__ import annotations

import asyncio
from typing import Any

from redis.asyncio import Redis

from netplay.protocol import codec
from netplay.protocol.outgoing import Outgoing
from netplay.server.cluster.bus import Bus, Outbox, decode_batch, encode_batch
from netplay.server.cluster.resp import Subscriber

from .conftest import RedisProcess


def test_a_batch_keeps_its_items_in_order_and_the_encoded_messages_byte_for_byte() -> None:
    state = Outgoing({"type": "state", "room": "r-1", "view": {"board": ["X", None]}, "to": "é"})
    local = state.frame()  # what this node's own TCP clients got
    relay = Outgoing({"type": "relay", "room": "r-2", "from": "p-1", "data": "x" * 70_000})
    items = [
        ["req", "p-9", "ann", None, {"type": "move", "room": "r-1", "move": 4}],
        ["out", ["p-2", "p-3"], state],
        ["in", "p-2", "r-1"],
        ["out", ["p-4"], relay],
        ["close", "p-5"],
    ]
    sender, run, number, got = decode_batch(encode_batch("n1", "abc", 7, [list(i) for i in items]))
    assert (sender, run, number) == ("n1", "abc", 7)
    assert [i[:2] for i in got] == [i[:2] for i in items]
    assert got[0] == items[0] and got[2] == items[2] and got[4] == items[4]
    assert got[1][2].frame() == local  # the same bytes, not a new encoding of a decoded copy
    assert got[3][2].encode() == codec.encode(relay.message)
    assert got[3][2].message == relay.message


async def _bus_and_listener(url: str, delay: float) -> tuple[Bus, Outbox, Subscriber]:
    outbox = Outbox(Redis.from_url(url))
    outbox.start()
    bus = Bus(outbox, "t:", "a", delay)
    listener = Subscriber(Redis.from_url(url), [bus.channel("b")])
    await listener.start()
    return bus, outbox, listener


async def _next_batch(listener: Subscriber) -> list[Any] | bytes:
    async with asyncio.timeout(5.0):
        _, data = await listener.message()
    if data.startswith(b"marker"):
        return data
    return decode_batch(data)[3]


async def test_what_is_posted_within_the_delay_crosses_in_one_batch(redis_server: RedisProcess) -> None:
    bus, outbox, listener = await _bus_and_listener(redis_server.url, 0.5)
    try:
        loop = asyncio.get_running_loop()
        bus.post("b", ["in", "p-1", "r-1"])
        loop.call_soon(bus.post, "b", ["in", "p-2", "r-1"])  # a later loop turn, within the delay
        assert await _next_batch(listener) == [["in", "p-1", "r-1"], ["in", "p-2", "r-1"]]
        assert bus.sent == 1
    finally:
        listener.close()
        await outbox.close()


async def test_without_a_delay_each_loop_turn_sends_its_own_batch(redis_server: RedisProcess) -> None:
    bus, outbox, listener = await _bus_and_listener(redis_server.url, 0.0)
    try:
        loop = asyncio.get_running_loop()
        bus.post("b", ["in", "p-1", "r-1"])
        bus.post("b", ["in", "p-3", "r-1"])
        loop.call_soon(bus.post, "b", ["in", "p-2", "r-1"])
        assert await _next_batch(listener) == [["in", "p-1", "r-1"], ["in", "p-3", "r-1"]]
        assert await _next_batch(listener) == [["in", "p-2", "r-1"]]
    finally:
        listener.close()
        await outbox.close()


async def test_a_write_of_a_later_turn_sends_the_waiting_batch_first(redis_server: RedisProcess) -> None:
    """The delay never lets a write overtake a message posted before it."""
    bus, outbox, listener = await _bus_and_listener(redis_server.url, 30.0)
    try:
        marker = ("PUBLISH", bus.channel("b"), b"marker")
        bus.post("b", ["in", "p-1", "r-1"])
        asyncio.get_running_loop().call_soon(outbox.put, marker)  # long before the 30 s are up
        assert await _next_batch(listener) == [["in", "p-1", "r-1"]]
        assert await _next_batch(listener) == b"marker"
    finally:
        listener.close()
        await outbox.close()


async def test_a_batch_goes_after_the_writes_of_its_own_turn_and_keeps_that_turn_together(
    redis_server: RedisProcess,
) -> None:
    """A room is written to the directory before the message naming it arrives elsewhere, and what
    one request posts for a node arrives in one batch even when it writes in between."""
    bus, outbox, listener = await _bus_and_listener(redis_server.url, 0.05)
    try:
        bus.post("b", ["out", ["p-1"], Outgoing({"type": "joined", "room": "r-1"})])
        outbox.put(("PUBLISH", bus.channel("b"), b"marker"))  # the room's new description
        bus.post("b", ["in", "p-1", "r-1"])
        assert await _next_batch(listener) == b"marker"
        got = await _next_batch(listener)
        assert isinstance(got, list) and [item[0] for item in got] == ["out", "in"]
    finally:
        listener.close()
        await outbox.close()
