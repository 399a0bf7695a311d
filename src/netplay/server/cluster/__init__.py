"""Several netplay processes as one server, held together by Redis (``netplay serve --redis URL``).

Each node hosts the rooms made on it and serves any client in any room: a request for another
node's room goes to that node (``node.py``), the lobby lists every node's rooms (``directory.py``),
and quick-match claims seats atomically in Redis (``scripts.py``). Without ``--redis`` none of this
runs: one process, no outside service. docs/cluster.md explains it for operators.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import time
from typing import TYPE_CHECKING, Any

import orjson
from redis.asyncio import Redis
from redis.exceptions import RedisError

from ..directory import new_id
from .bus import Bus, Outbox, decode_batch
from .directory import ClusterDirectory
from .node import ClusterNode
from .resp import Subscriber
from .status import redact
from .store import RedisStore, Snapshot, _text

if TYPE_CHECKING:
    from ..hub import Hub

__all__ = ["Cluster", "ClusterDirectory", "ClusterNode", "ClusterUnavailable"]

log = logging.getLogger("netplay.cluster")

#: Every key and channel of the cluster starts with this.
PREFIX = "netplay:"
#: A node that has not said it is alive for this long is taken for dead, and its rooms adopted.
LEASE = 10.0
#: Seconds a batch for another node waits for more before it goes (0: to the end of a loop turn).
BATCH_DELAY = 0.001


class ClusterUnavailable(Exception):
    """Redis cannot be reached (at start: the node does not join)."""


class Cluster:
    """This process's membership of a cluster: its Redis connections, bus, directory and node."""

    def __init__(
        self,
        url: str,
        name: str | None = None,
        prefix: str = PREFIX,
        lease: float = LEASE,
        batch_delay: float = BATCH_DELAY,
    ) -> None:
        self.url = url
        #: Seconds this node's lease lasts: it says it is alive five times as often, and looks for
        #: dead nodes ten times as often.
        self.lease = lease
        self.name = name or f"{socket.gethostname()}-{os.getpid()}-{new_id('n')[2:8]}"
        self.prefix = prefix
        self.redis: Redis = Redis.from_url(url, socket_connect_timeout=3.0)
        self.outbox = Outbox(self.redis)
        self.bus = Bus(self.outbox, prefix, self.name, batch_delay)
        self.directory = ClusterDirectory(self.redis, self.outbox, prefix, self.name)
        self.store = RedisStore(self.redis, self.outbox, prefix, self.name)
        self.node: ClusterNode | None = None
        #: Rooms adopted from dead nodes, and when the latest adoption was done (for reports).
        self.adopted = 0
        self.adopted_at: float | None = None
        self._subscriber: Subscriber | None = None
        self._reader: asyncio.Task[None] | None = None
        self._heart: asyncio.Task[None] | None = None
        self.started = time.time()
        #: Since when (``time.monotonic``) this node has heard Redis without a break: a node adopts
        #: others' rooms only after a whole lease of it (after an outage every lease looks lapsed).
        self.healthy_since = time.monotonic()
        self._adopting = asyncio.Lock()

    async def start(self) -> None:
        """Reach Redis, listen to this node's channel and the directory's, load the directory."""
        try:
            await self.redis.ping()
            await self._subscribe()
            self.outbox.start()
            self._reader = asyncio.create_task(self._read(), name="netplay-cluster-reader")
            rooms = await self.directory.load()
            own = await self.store.load(self.name)  # a restarted node (same name) restores its own
            self.store.use(own, await self._epochs(own))
            await self._say_alive()
        except (RedisError, OSError) as exc:
            await self._close_connections()
            raise ClusterUnavailable(f"cannot reach Redis at {redact(self.url)}: {exc}") from None
        self._heart = asyncio.create_task(self._heartbeat(), name="netplay-cluster-heartbeat")
        log.info(
            "node %s joined the cluster at %s (%d rooms listed)", self.name, redact(self.url), rooms,
            extra={"event": "cluster_join", "node": self.name},
        )  # fmt: skip

    def attach(self, hub: Hub) -> ClusterNode:
        """Serve the cluster's clients and rooms through ``hub``."""
        self.node = ClusterNode(hub, self.bus, self.directory, self.name)
        hub.cluster = self.node
        self.directory.on_owner_change = self.node.owner_changed
        self.directory.on_room_gone = self.node.room_gone
        self.node.adopt = self.adopt
        self.outbox.on_down = self.node.paused
        self.outbox.on_up = self._outbox_up
        self.store.on_stale = self.node.lost
        self._hub = hub
        return self.node

    async def _read(self) -> None:
        """Hear the node's channel and the directory's; when the connection breaks, subscribe
        again (backing off to once a second) and reload the directory, which changed meanwhile."""
        directory_channel = f"{self.prefix}dir".encode()
        while True:
            try:
                assert self._subscriber is not None
                channel, data = await self._subscriber.message()
            except (RedisError, OSError) as exc:
                self.outbox.mark_down(f"lost the cluster's channels: {exc}")
                await self._subscribe_again()
                continue
            try:
                if channel == directory_channel:
                    self.directory.apply(data)
                elif self.node is not None:
                    sender, run, number, items = decode_batch(data)
                    if self.bus.first_time(sender, run, number):
                        self.node.on_batch(sender, items)
            except Exception:  # a bad message must not stop the node hearing the next ones
                log.exception("a message from the cluster failed", extra={"event": "cluster_error"})

    async def _subscribe(self) -> None:
        """Hear this node's channel and the directory's, on a connection of their own."""
        if self._subscriber is not None:
            self._subscriber.close()
        self._subscriber = Subscriber(self.redis, [self.bus.channel(self.name), f"{self.prefix}dir"])
        await self._subscriber.start()

    async def _subscribe_again(self) -> None:
        backoff = 0.05
        while True:
            await asyncio.sleep(backoff)  # a retry's pace, not a wait for anything
            backoff = min(backoff * 2, 1.0)
            try:
                await self._subscribe()
                await self.directory.reload()
                break
            except (RedisError, OSError):
                continue
        self.healthy_since = time.monotonic()
        self.outbox.mark_up()
        if self.node is not None:
            self.node.healed()

    async def _say_alive(self) -> None:
        entry: dict[str, Any] = {"name": self.name, "pid": os.getpid(), "host": socket.gethostname(),
                                 "started": self.started, "seen": time.time()}  # fmt: skip
        hub = getattr(self, "_hub", None)
        if hub is not None:  # for ``netplay cluster status``: as of this heartbeat
            entry["connections"] = hub.connections
            entry["away"] = len(hub.away)
        pipe = self.redis.pipeline(transaction=False)
        pipe.hset(f"{self.prefix}nodes", self.name, orjson.dumps(entry))
        pipe.set(f"{self.prefix}alive:{self.name}", b"1", px=int(self.lease * 1000))
        await pipe.execute()

    async def _heartbeat(self) -> None:
        """Say this node is alive, and look for nodes that are not: their rooms are adopted here."""
        said = 0.0
        while True:
            await asyncio.sleep(self.lease / 10)
            try:
                if time.monotonic() - said >= self.lease / 5:
                    await self._say_alive()
                    said = time.monotonic()
                if self.node is not None:
                    await self._adopt_the_dead()
            except (RedisError, OSError) as exc:
                self.outbox.mark_down(exc)  # (said once an outage, not every beat)
            except Exception:
                log.exception("looking after the cluster failed", extra={"event": "cluster_error"})

    async def _take_token(self, session: Any, dead: str) -> None:
        """A player of an adopted room, brought back away here: its token resumes here now, with
        its rooms on other nodes (as the dead node last wrote them) still its own."""
        raw = await self.redis.hget(f"{self.prefix}tokens", session.token_hash)
        entry = {} if raw is None else orjson.loads(raw)
        holder = entry.get("node") if entry else None
        if holder is not None and holder != dead:
            assert self.node is not None
            member_id: str = session.id
            if holder != self.name and self._hub.away.get(member_id) is session:
                # A live node holds it: it may have resumed there first, as a player of the dead
                # node, in rooms that node cannot know of; so this node makes it that node's guest
                # in them and tells it. (A guest of the dead node's rooms all along is re-routed by
                # its home too, once the directory says who owns them: twice does no harm.)
                self.node.resumed_first_elsewhere(member_id, holder)
            return
        for room_id, owner in entry.get("remote", {}).items():
            if room_id not in session.rooms:
                session.remote[room_id] = owner
        assert self.node is not None
        self.node.claim_token(session)

    def _outbox_up(self) -> None:
        self.healthy_since = time.monotonic()
        if self.node is not None:
            self.node.resumed()

    async def _epochs(self, snapshot: Snapshot) -> dict[str, int]:
        """The epochs at which this node owns the rooms of ``snapshot`` (at a restart: its own)."""
        epochs = {}
        room_ids = {r.id for r in snapshot.rooms} | {m.room_id for m in snapshot.matches.values()}
        for room_id in room_ids:
            owner, epoch = await self.redis.hmget(f"{self.prefix}owner:{room_id}", "owner", "epoch")
            if owner is not None and _text(owner) == self.name and epoch is not None:
                epochs[room_id] = int(epoch)
        return epochs

    async def _adopt_the_dead(self) -> None:
        if self.outbox.down or time.monotonic() - self.healthy_since < self.lease:
            return  # just back from an outage: the others have not said they are alive yet
        nodes = await self.redis.hkeys(f"{self.prefix}nodes")
        for raw in nodes:
            node = _text(raw)
            if node == self.name or await self.redis.exists(f"{self.prefix}alive:{node}"):
                continue
            assert self.node is not None
            self.node.home_died(node)  # its clients that are guests here are away now
            await self.adopt(node)

    async def adopt(self, dead: str) -> int:
        """Take over the rooms of a dead node that no other node has taken yet: replay each one's
        moves here, and make its players' tokens resume here. Returns how many were adopted."""
        async with self._adopting:  # one at a time: a resume and the watcher may both ask
            return await self._adopt(dead)

    async def _adopt(self, dead: str) -> int:
        started = time.monotonic()
        snapshot = await self.store.load(dead)
        by_room: dict[str, list[str]] = {}
        for record in snapshot.rooms:
            by_room.setdefault(record.id, [])
        for match_id in snapshot.unfinished:
            match = snapshot.matches.get(match_id)
            if match is not None:
                by_room.setdefault(match.room_id, []).append(match_id)
        p = self.prefix
        epochs: dict[str, int] = {}
        for room_id, matches in by_room.items():
            me = self.name
            keys = [f"{p}owner:{room_id}", f"{p}alive:{dead}", f"{p}noderooms:{dead}", f"{p}noderooms:{me}",
                    f"{p}nodematches:{dead}", f"{p}nodematches:{me}"]  # fmt: skip
            epoch = await self.store.adopt_script(keys=keys, args=[room_id, dead, self.name, *matches])
            if epoch:
                epochs[room_id] = int(epoch)
        if not by_room or not await self.redis.scard(f"{p}noderooms:{dead}"):
            if not await self.redis.scard(f"{p}nodematches:{dead}"):
                # Nothing of it is left to adopt: what it still lists kept no record (relay rooms)
                # and is gone with it.
                for room_id in self.directory.rooms_of(dead):
                    if room_id not in by_room:
                        self.directory.withdraw_dead(room_id, dead)
                await self.redis.hdel(f"{p}nodes", dead)
        if not epochs:
            return 0
        mine = Snapshot(
            [r for r in snapshot.rooms if r.id in epochs],
            {m.id: m for m in snapshot.matches.values() if m.room_id in epochs},
            [
                m
                for m in snapshot.unfinished
                if snapshot.matches.get(m) and snapshot.matches[m].room_id in epochs
            ],
        )
        for room_id in epochs:
            self.directory.forget(room_id)
        self.store.use(mine, epochs)
        rooms, _ = self._hub.restore_rooms()
        self.store.use(Snapshot([], {}, []), {})
        assert self.node is not None
        for room_id in epochs:
            room = self._hub.rooms.get(room_id)
            if room is None:
                continue
            self.node.adopted_here(room)
            for member_id in list(room.member_ids()):
                session = self._hub.away.get(member_id)
                if session is not None and session.token_hash is not None:
                    await self._take_token(session, dead)
        self.adopted += rooms
        self.adopted_at = time.time()
        log.warning(
            "node %s is gone: %d of its rooms adopted here in %.0f ms", dead, rooms,
            (time.monotonic() - started) * 1000, extra={"event": "cluster_adopt", "node": dead},
        )  # fmt: skip
        return rooms

    async def leaving(self) -> None:
        """This node is about to stop: its lease ends now, so that the others adopt its rooms and
        take over its players as they reconnect, without waiting for the lease to lapse."""
        if self._heart is not None:
            self._heart.cancel()
        with contextlib.suppress(RedisError, OSError):
            async with asyncio.timeout(2.0):
                await self.redis.delete(f"{self.prefix}alive:{self.name}")

    async def stop(self) -> None:
        """Leave the cluster: this node's rooms are withdrawn, its guests' homes told."""
        if self.node is not None:
            self.node.shutdown()
            for room_id in self.directory.rooms_of(self.name):
                self.directory.withdraw(room_id)
            self.bus.flush()
        for task in (self._heart, self._reader):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        with contextlib.suppress(RedisError, OSError):
            await self.outbox.close()
            # Its lease ends now: the other nodes adopt its rooms (kept in Redis) at once, and a
            # player of it who reconnects through another node resumes there.
            await self.redis.delete(f"{self.prefix}alive:{self.name}")
        await self._close_connections()

    async def _close_connections(self) -> None:
        if self._subscriber is not None:
            self._subscriber.close()
        self.outbox.close_connection()
        with contextlib.suppress(RedisError, OSError):
            await self.redis.aclose()
