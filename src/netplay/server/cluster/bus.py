"""How nodes talk through Redis: one ordered writer, and batches to other nodes over pub/sub.

Every write a node makes to Redis (a room's description, a batch for another node, a seat claim)
goes through its ``Outbox``, in the order it was made, pipelined: one round trip for everything a
loop turn produced. So a room is in the directory before a message naming it reaches another node,
and a sender's messages reach a room's owner in the order they were sent.

A ``Bus`` gathers what it is given for each other node into one batch (one PUBLISH to that node's
channel), and the same message for several members of one node goes once, with their ids. A batch
goes after every write of the loop turn that started it (so a room is in the directory before a
message naming it arrives, and what one request does crosses in one batch), then waits up to
``delay`` seconds for more (0: not at all): a relay room's traffic crosses in a few large batches,
not many small ones. A write of a later turn sends the waiting batch first, so the delay never
lets a node's writes overtake its messages.
A batch is a JSON header (who sent it, its number, its items) followed by the messages for clients
framed exactly as the owner framed them for its own TCP clients, so the home writes them out without
decoding or encoding them again: ``[4-byte length][header]`` then each message's frame
(``[4-byte length][JSON]``), which its item in the header finds by offset and length.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import itertools
import logging
import os
from collections.abc import Callable
from typing import Any

import orjson
from redis.asyncio import Redis
from redis.exceptions import BusyLoadingError, NoScriptError, RedisError
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from ...protocol.outgoing import Outgoing
from .resp import Command, RespConnection

__all__ = ["Bus", "Outbox", "evalsha"]

log = logging.getLogger("netplay.cluster")


def evalsha(sha: str, keys: list[str], args: list[Any]) -> Command:
    """The command that runs a script the outbox has loaded (``Outbox.script``) for a write."""
    return ("EVALSHA", sha, len(keys), *keys, *args)


class Outbox:
    """Writes to Redis in the order they were queued, a loop turn's worth per round trip.

    When Redis cannot be reached, the batch is tried again (backing off to once a second) until it
    can: nothing queued is dropped or reordered, and what waits on it (a move's broadcast) waits
    too. ``down_since`` says since when Redis has been out of reach; ``on_down`` and ``on_up``
    are called as it goes and comes back.
    """

    def __init__(self, redis: Redis) -> None:
        self.redis = redis
        self._conn = RespConnection(redis)  # its own connection, to the same Redis
        self._queue: list[tuple[Command, asyncio.Future[Any] | None]] = []
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        #: Writes Redis refused (each is logged).
        self.failed = 0
        #: ``loop.time()`` since Redis has been out of reach; None while it answers.
        self.down_since: float | None = None
        self.on_down: Callable[[], None] = lambda: None
        self.on_up: Callable[[], None] = lambda: None
        #: Called before a write is queued: the bus hands over the batches it holds, first.
        self.before_write: Callable[[], None] = lambda: None
        #: The Lua scripts writes run by their SHA-1 (``EVALSHA``), loaded into Redis at the start
        #: of the first batch and of each after a broken connection (Redis may have restarted).
        self._scripts: dict[str, str] = {}
        self._load_scripts = True

    def script(self, source: str) -> str:
        """Register a Lua script for writes; its SHA-1, for ``EVALSHA``."""
        sha = hashlib.sha1(source.encode()).hexdigest()  # Redis names a script by its SHA-1
        self._scripts[sha] = source
        self._load_scripts = True
        return sha

    @property
    def down(self) -> bool:
        return self.down_since is not None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="netplay-cluster-outbox")

    def put(self, command: Command) -> None:
        """Queue a command whose answer nobody waits for."""
        self.before_write()
        self._queue.append((command, None))
        self._wake.set()

    def ask(self, command: Command) -> asyncio.Future[Any]:
        """Queue a command after every one queued before it; the future gets Redis's answer."""
        self.before_write()
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._queue.append((command, future))
        self._wake.set()
        return future

    def publish(self, channel: str, data: bytes) -> None:
        """Queue the bus's own write (``before_write`` is the bus sending what it holds)."""
        self._queue.append((("PUBLISH", channel, data), None))
        self._wake.set()

    async def flush(self) -> None:
        """Return once everything queued so far has been written."""
        await self.ask(("PING",))

    def mark_down(self, why: object) -> None:
        """Redis cannot be reached (a write failed, or the channels were lost)."""
        if self.down_since is None:
            self.down_since = asyncio.get_running_loop().time()
            log.error(
                "Redis cannot be reached (%s): writes wait until it is back", why,
                extra={"event": "cluster_down"},
            )  # fmt: skip
            self.on_down()

    def mark_up(self) -> None:
        """Redis answered again."""
        if self.down_since is not None:
            gone = asyncio.get_running_loop().time() - self.down_since
            self.down_since = None
            log.warning("Redis is back after %.1f s", gone, extra={"event": "cluster_up"})
            self.on_up()

    async def _run(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            batch, self._queue = self._queue, []
            if batch:
                await self._write(batch)

    async def _write(self, batch: list[tuple[Command, asyncio.Future[Any] | None]]) -> None:
        backoff = 0.05
        commands = [command for command, _ in batch]
        while True:
            loading = len(self._scripts) if self._load_scripts else 0
            scripts = [("SCRIPT", "LOAD", source) for source in self._scripts.values()] if loading else []
            try:  # the scripts first, in the same round trip as the writes that run them
                results = (await self._conn.execute(scripts + commands))[loading:]
                busy = next((r for r in results if isinstance(r, BusyLoadingError)), None)
                if busy is not None:  # (Redis restarted, and is loading its data: not yet)
                    raise busy
            except (RedisConnectionError, RedisTimeoutError, BusyLoadingError, OSError) as exc:
                self._load_scripts = True
                self.mark_down(exc)
                await asyncio.sleep(backoff)  # a retry's pace, not a wait for anything
                backoff = min(backoff * 2, 1.0)
                continue
            if any(isinstance(r, NoScriptError) for r in results):  # (SCRIPT FLUSH): load, again
                self._load_scripts = True
                continue
            self._load_scripts = False
            break
        self.mark_up()
        for (_, future), result in zip(batch, results, strict=True):
            error = result if isinstance(result, Exception) else None
            if error is not None:
                self.failed += 1
                log.error("Redis refused a write: %s", error, extra={"event": "cluster_error"})
            if future is not None and not future.done():
                if error is not None:
                    future.set_exception(error)
                else:
                    future.set_result(result)

    async def close(self) -> None:
        if self._task is not None:
            if self.down_since is None:
                with contextlib.suppress(RedisError, OSError):
                    async with asyncio.timeout(2.0):
                        await self.flush()
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        self.close_connection()

    def close_connection(self) -> None:
        """Drop the outbox's connection to Redis (a start that failed, or the end)."""
        self._conn.close()


class Bus:
    """Batches for other nodes: ``post`` an item, and within ``delay`` seconds (0: at the end of
    this loop turn) one batch per node goes with everything posted for it meanwhile."""

    def __init__(self, outbox: Outbox, prefix: str, node: str, delay: float = 0.0) -> None:
        self.outbox = outbox
        self.prefix = prefix
        self.node = node
        self.delay = delay
        outbox.before_write = self._before_write
        self._batches: dict[str, list[Any]] = {}
        #: For each node, the Outgoing of its batch's last "out" item (so its ids can grow).
        self._last_out: dict[str, tuple[Outgoing, list[str]]] = {}
        self._timer: asyncio.Handle | None = None
        self._fresh = False  # the batch held was started in this loop turn
        #: Batches carry this run's id and a number, so that a batch Redis got twice (sent again
        #: after a broken connection) is taken once.
        self.run = os.urandom(6).hex()
        self._numbers = itertools.count(1)
        self._seen: dict[tuple[str, str], int] = {}
        #: Batches sent and received.
        self.sent = 0
        self.received = 0

    def channel(self, node: str) -> str:
        return f"{self.prefix}node:{node}"

    def post(self, node: str, item: list[Any]) -> None:
        """Queue ``item`` for ``node``, after everything queued for it before."""
        self._batches.setdefault(node, []).append(item)
        self._last_out.pop(node, None)
        self._schedule()

    def post_out(self, node: str, out: Outgoing, member_id: str) -> None:
        """Queue a message for a member connected to ``node``; the same message for several of its
        members in a row is sent once, with their ids."""
        last = self._last_out.get(node)
        if last is not None and last[0] is out:
            last[1].append(member_id)
            return
        ids = [member_id]
        self._batches.setdefault(node, []).append(["out", ids, out])  # (encoded by flush)
        self._last_out[node] = (out, ids)
        self._schedule()

    def _schedule(self) -> None:
        if self._timer is None:
            loop = asyncio.get_running_loop()
            self._fresh = True
            if self.delay > 0:
                self._timer = loop.call_later(self.delay, self.flush)
                loop.call_soon(self._end_turn)
            else:
                self._timer = loop.call_soon(self.flush)

    def _end_turn(self) -> None:
        self._fresh = False

    def _before_write(self) -> None:
        if self._timer is not None and not self._fresh:
            self.flush()  # a later turn writes: what waits goes first

    def flush(self) -> None:
        """Hand the batches held to the outbox now (one PUBLISH per node)."""
        if self._timer is None:
            return
        self._timer.cancel()
        self._timer = None
        batches, self._batches = self._batches, {}
        self._last_out.clear()
        for node, items in batches.items():
            data = encode_batch(self.node, self.run, next(self._numbers), items)
            self.outbox.publish(self.channel(node), data)
            self.sent += 1

    def first_time(self, sender: str, run: str, number: int) -> bool:
        """Whether this batch of ``sender`` is new (not one already taken, sent again)."""
        key = (sender, run)
        if number <= self._seen.get(key, 0):
            return False
        self._seen[key] = number
        return True


def encode_batch(sender: str, run: str, number: int, items: list[Any]) -> bytes:
    """A batch for another node: its items in order, each ``out`` item's message framed as for this
    node's own TCP clients (made once, if none of them is on TCP), found by its place in the batch."""
    frames: list[bytes] = []
    at = 0
    for item in items:
        if item[0] == "out":
            framed = item[2].framed or item[2].frame()
            frames.append(framed)
            item[2] = (at, len(framed))  # the header says where its frame is, after the header
            at += len(framed)
    header = orjson.dumps({"from": sender, "run": run, "n": number, "items": items})
    return b"".join((len(header).to_bytes(4, "big"), header, *frames))


def decode_batch(data: bytes) -> tuple[str, str, int, list[Any]]:
    """A batch as ``encode_batch`` made it: the sending node, its run and number, its items in
    order (an ``out`` item with its message as an ``Outgoing``, decoded only if a link asks)."""
    size = int.from_bytes(data[:4], "big")
    batch = orjson.loads(memoryview(data)[4 : 4 + size])
    base = 4 + size
    of_frame = Outgoing.of_frame
    items = batch["items"]
    for item in items:
        if item[0] == "out":
            at, length = item[2]
            start = base + at
            item[2] = of_frame(data[start : start + length])
    return batch["from"], batch["run"], batch["n"], items
