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

if TYPE_CHECKING:
    from ..hub import Hub

__all__ = ["Cluster", "ClusterDirectory", "ClusterNode", "ClusterUnavailable"]

log = logging.getLogger("netplay.cluster")

#: Every key and channel of the cluster starts with this.
PREFIX = "netplay:"
#: A node that has not said it is alive for this long is taken for dead.
ALIVE_FOR = 10.0
#: How often a node says it is alive.
HEARTBEAT = 2.0


class ClusterUnavailable(Exception):
    """Redis cannot be reached (at start: the node does not join)."""


class Cluster:
    """This process's membership of a cluster: its Redis connections, bus, directory and node."""

    def __init__(self, url: str, name: str | None = None, prefix: str = PREFIX) -> None:
        self.url = url
        self.name = name or f"{socket.gethostname()}-{os.getpid()}-{new_id('n')[2:8]}"
        self.prefix = prefix
        self.redis: Redis = Redis.from_url(url, socket_connect_timeout=3.0)
        self.outbox = Outbox(self.redis)
        self.bus = Bus(self.outbox, prefix, self.name)
        self.directory = ClusterDirectory(self.redis, self.outbox, prefix, self.name)
        self.node: ClusterNode | None = None
        self._pubsub: Any = None
        self._reader: asyncio.Task[None] | None = None
        self._heart: asyncio.Task[None] | None = None
        self.started = time.time()

    async def start(self) -> None:
        """Reach Redis, listen to this node's channel and the directory's, load the directory."""
        try:
            await self.redis.ping()
            self._pubsub = self.redis.pubsub()
            await self._pubsub.subscribe(self.bus.channel(self.name), f"{self.prefix}dir")
            self.outbox.start()
            self._reader = asyncio.create_task(self._read(), name="netplay-cluster-reader")
            rooms = await self.directory.load()
            await self._say_alive()
        except (RedisError, OSError) as exc:
            await self._close_connections()
            raise ClusterUnavailable(f"cannot reach Redis at {self.url}: {exc}") from None
        self._heart = asyncio.create_task(self._heartbeat(), name="netplay-cluster-heartbeat")
        log.info(
            "node %s joined the cluster at %s (%d rooms listed)", self.name, self.url, rooms,
            extra={"event": "cluster_join", "node": self.name},
        )  # fmt: skip

    def attach(self, hub: Hub) -> ClusterNode:
        """Serve the cluster's clients and rooms through ``hub``."""
        self.node = ClusterNode(hub, self.bus, self.directory, self.name)
        hub.cluster = self.node
        return self.node

    async def _read(self) -> None:
        directory_channel = f"{self.prefix}dir".encode()
        while True:
            message = await self._pubsub.get_message(ignore_subscribe_messages=True, timeout=None)
            if message is None or message["type"] != "message":
                continue
            try:
                if message["channel"] == directory_channel:
                    self.directory.apply(message["data"])
                elif self.node is not None:
                    sender, items = decode_batch(message["data"])
                    self.node.on_batch(sender, items)
            except Exception:  # a bad message must not stop the node hearing the next ones
                log.exception("a message from the cluster failed", extra={"event": "cluster_error"})

    async def _say_alive(self) -> None:
        entry = orjson.dumps({"name": self.name, "pid": os.getpid(), "host": socket.gethostname(),
                              "started": self.started, "seen": time.time()})  # fmt: skip
        pipe = self.redis.pipeline(transaction=False)
        pipe.hset(f"{self.prefix}nodes", self.name, entry)
        pipe.set(f"{self.prefix}alive:{self.name}", b"1", px=int(ALIVE_FOR * 1000))
        await pipe.execute()

    async def _heartbeat(self) -> None:
        while True:
            await asyncio.sleep(HEARTBEAT)
            try:
                await self._say_alive()
            except (RedisError, OSError) as exc:
                log.warning("cannot reach Redis: %s", exc, extra={"event": "cluster_error"})

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
            pipe = self.redis.pipeline(transaction=False)
            pipe.hdel(f"{self.prefix}nodes", self.name)
            pipe.delete(f"{self.prefix}alive:{self.name}")
            await pipe.execute()
        await self._close_connections()

    async def _close_connections(self) -> None:
        with contextlib.suppress(RedisError, OSError):
            if self._pubsub is not None:
                await self._pubsub.aclose()
            await self.redis.aclose()
