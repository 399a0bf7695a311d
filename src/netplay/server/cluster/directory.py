"""The cluster's room directory: every node's rooms, in Redis, with a mirror in each node.

Reads (``get``, ``by_code``, ``listing``, and who owns a room) come from the node's mirror, kept up
to date by the ``dir`` channel, so the lobby costs no round trip and a listing is a slice of a
sorted index, however many rooms the cluster has. Writes go to the mirror at once and to Redis
through the node's outbox, in order. A seat for a quick-match is claimed in Redis by a script
(``scripts.CLAIM``): atomic across the cluster, which a mirror could never be.
"""

from __future__ import annotations

import bisect
import itertools
import time
from collections.abc import Callable, Container, Iterable, Mapping
from typing import Any

import orjson
from redis.asyncio import Redis

from ..directory import LISTING_PAGE, RoomDirectory, RoomInfo, has_options, new_code, new_id, normal_code
from . import scripts
from .bus import Outbox, evalsha

__all__ = ["Claim", "ClusterDirectory"]

#: Rooms a claim looks at, oldest first, before it gives up and opens the caller's new room.
_CLAIM_SCAN = 64


def _canonical(value: Any) -> bytes:
    return orjson.dumps(value, option=orjson.OPT_SORT_KEYS)


def info_to_json(info: RoomInfo, owner: str, ordinal: int) -> dict[str, Any]:
    return {
        "id": info.id,
        "kind": info.kind,
        "game": info.game,
        "code": info.code,
        "clock": info.clock,
        "open": info.open,
        "free": info.free,
        "listing": info.listing,
        "options": dict(info.options),
        "owner": owner,
        "ordinal": ordinal,
    }


def info_from_json(entry: dict[str, Any]) -> tuple[RoomInfo, str, int]:
    info = RoomInfo(
        entry["id"],
        entry["kind"],
        entry["game"],
        entry["code"],
        entry["clock"],
        entry["open"],
        entry["listing"],
        entry["options"],
        entry["free"],
    )
    return info, entry["owner"], entry["ordinal"]


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


class Claim:
    """What a quick-match claim found: a seat in ``room_id`` on ``owner``, or the caller's new room."""

    __slots__ = ("new", "owner", "room_id")

    def __init__(self, room_id: str, owner: str, new: bool) -> None:
        self.room_id = room_id
        self.owner = owner
        self.new = new


class ClusterDirectory(RoomDirectory):
    """Rooms of every node: a mirror here, the truth (and the seat claims) in Redis."""

    def __init__(self, redis: Redis, outbox: Outbox, prefix: str, node: str) -> None:
        self.redis = redis
        self.outbox = outbox
        self.prefix = prefix
        self.node = node
        self._put = outbox.script(scripts.PUT)
        self._withdraw = outbox.script(scripts.WITHDRAW)
        self._release = outbox.script(scripts.RELEASE)
        self._claim = outbox.script(scripts.CLAIM)
        self._rooms: dict[str, RoomInfo] = {}
        self._owner: dict[str, str] = {}
        self._ordinal: dict[str, int] = {}
        self._codes: dict[str, str] = {}
        #: Every room's ordinal, sorted: the lobby's order (oldest first) and its cursors.
        self._order: list[int] = []
        self._at_ordinal: dict[int, str] = {}
        #: Claims that reached this node's rooms since their last publish, by room.
        self._arrived: dict[str, int] = {}
        self._count = itertools.count()
        #: Called when a dead node's room is withdrawn without its members told (a relay room).
        self.on_room_gone: Callable[[str], None] = lambda room_id: None
        #: Called when a room's owner changes (another node adopted it): room id, new owner.
        self.on_owner_change: Callable[[str, str], None] = lambda room_id, owner: None

    # -- names ---------------------------------------------------------------------------------
    def new_room_id(self) -> str:
        while (room_id := new_id("r")) in self._rooms:
            pass
        return room_id

    def new_code(self) -> str:
        # 40 bits of code: a clash between nodes is as unlikely as within one, and the owner's
        # PUT would keep the first (codes are HSET by id; a clash is logged by the mirror).
        while (code := new_code()) in self._codes:
            pass
        return code

    def new_ordinal(self) -> int:
        """A room's place in the lobby's order: its creation time in ms, then a counter (under
        2**53, so JavaScript reads the cursor exactly)."""
        return int(time.time() * 1000) * 1000 + next(self._count) % 1000

    def owner_of(self, room_id: str) -> str | None:
        """The node that hosts a room, as this node's mirror knows it."""
        return self._owner.get(room_id)

    def _key(self, name: str) -> str:
        return self.prefix + name

    def _open_key(self, kind: str, game: str, clock: str | None) -> str:
        return f"{self.prefix}open:{kind}:{game}:{clock or ''}"

    # -- the mirror ----------------------------------------------------------------------------
    def _mirror(self, info: RoomInfo, owner: str, ordinal: int) -> None:
        old = self._rooms.get(info.id)
        if old is None:
            self._ordinal[info.id] = ordinal
            bisect.insort(self._order, ordinal)
            self._at_ordinal[ordinal] = info.id
            if info.code is not None:
                self._codes[info.code] = info.id
        self._rooms[info.id] = info
        self._owner[info.id] = owner

    def _unmirror(self, room_id: str) -> None:
        info = self._rooms.pop(room_id, None)
        if info is None:
            return
        self._owner.pop(room_id, None)
        ordinal = self._ordinal.pop(room_id)
        at = bisect.bisect_left(self._order, ordinal)
        if at < len(self._order) and self._order[at] == ordinal:
            del self._order[at]
        self._at_ordinal.pop(ordinal, None)
        if info.code is not None and self._codes.get(info.code) == room_id:
            del self._codes[info.code]

    def apply(self, data: bytes) -> None:
        """An event of the ``dir`` channel (another node's change, or an echo of ours)."""
        event = orjson.loads(data)
        if "gone" in event:
            if self._owner.get(event["gone"]) == event["owner"]:
                self._unmirror(event["gone"])
                if event.get("dead"):
                    self.on_room_gone(event["gone"])
            return
        info, owner, ordinal = info_from_json(event)
        if owner != self.node:  # ours are mirrored when they are made
            before = self._owner.get(info.id)
            self._mirror(info, owner, ordinal)
            if before is not None and before != owner:
                self.on_owner_change(info.id, owner)

    async def reload(self) -> None:
        """Load the directory afresh (after an outage the channel's changes were missed): the
        other nodes' rooms as Redis has them now; this node's own are published again."""
        for room_id in [r for r, owner in self._owner.items() if owner != self.node]:
            self._unmirror(room_id)
        await self.load()

    async def load(self) -> int:
        """Fill the mirror from Redis (at start, after subscribing to the changes)."""
        entries = await self.redis.hgetall(self._key("rooms"))
        for raw in entries.values():
            info, owner, ordinal = info_from_json(orjson.loads(raw))
            if info.id not in self._rooms and owner != self.node:
                self._mirror(info, owner, ordinal)
        return len(entries)

    # -- RoomDirectory -------------------------------------------------------------------------
    def publish(self, info: RoomInfo) -> None:
        old = self._rooms.get(info.id)
        if old is not None and old.code != info.code:
            raise ValueError(f"room {info.id} cannot change its code")
        ordinal = self._ordinal.get(info.id)
        if ordinal is None:
            ordinal = self.new_ordinal()
        self._mirror(info, self.node, ordinal)
        arrived = self._arrived.pop(info.id, 0)
        entry = orjson.dumps(info_to_json(info, self.node, ordinal))
        keys = self._room_keys(info)
        args: list[Any] = [
            info.id,
            entry,
            int(info.open and info.code is None),
            info.free,
            -arrived,
            ordinal,
            info.code or "",
            self.node,
            self._key("dir"),
        ]
        if old is None:
            args.append(len(info.options))
            for name, value in info.options.items():
                args += [name, _canonical(value)]
        else:
            args.append(0)
        self.outbox.put(evalsha(self._put, keys, args))

    def withdraw(self, room_id: str) -> None:
        info = self._rooms.get(room_id)
        if info is None or self._owner.get(room_id) != self.node:
            return
        self._unmirror(room_id)
        self._arrived.pop(room_id, None)
        self._remove(info, {"gone": room_id, "owner": self.node})

    def _room_keys(self, info: RoomInfo) -> list[str]:
        """The keys the PUT and WITHDRAW scripts touch for a room."""
        return [
            self._key("rooms"),
            self._key(f"seats:{info.id}"),
            self._open_key(info.kind, info.game, info.clock),
            self._key(f"opts:{info.id}"),
            self._key("codes"),
        ]

    def _remove(self, info: RoomInfo, event: dict[str, Any]) -> None:
        """Take a room out of Redis, and tell every node's mirror with ``event``."""
        keys = self._room_keys(info)
        args = [info.id, info.code or "", self._key("dir"), orjson.dumps(event)]
        self.outbox.put(evalsha(self._withdraw, keys, args))

    def get(self, room_id: str) -> RoomInfo | None:
        return self._rooms.get(room_id)

    def by_code(self, code: str) -> RoomInfo | None:
        room_id = self._codes.get(normal_code(code))
        return None if room_id is None else self._rooms.get(room_id)

    def find_open(
        self,
        game: str,
        kind: str,
        skip: Container[str] = (),
        clock: str | None = None,
        options: Mapping[str, Any] | None = None,
    ) -> RoomInfo | None:
        """As the mirror sees it (quick-match claims in Redis instead: ``claim``)."""
        for ordinal in self._order:
            room_id = self._at_ordinal[ordinal]
            info = self._rooms[room_id]
            if (
                info.open
                and info.code is None
                and info.kind == kind
                and info.game == game
                and info.clock == clock
                and room_id not in skip
                and (not options or has_options(info.options, options))
            ):
                return info
        return None

    def listing(
        self, game: str | None = None, *, after: int = 0, limit: int = LISTING_PAGE
    ) -> tuple[list[dict[str, Any]], int | None]:
        page: list[dict[str, Any]] = []
        order = self._order
        start = bisect.bisect_right(order, after)
        page_end = after
        for ordinal in itertools.islice(order, start, None):
            info = self._rooms[self._at_ordinal[ordinal]]
            if game is not None and info.game != game:
                continue
            if len(page) == limit:
                return page, page_end
            page.append(info.listing)
            page_end = ordinal
        return page, None

    def __len__(self) -> int:
        return len(self._rooms)

    # -- seats ---------------------------------------------------------------------------------
    async def claim(
        self,
        kind: str,
        game: str,
        clock: str | None,
        options: Mapping[str, Any],
        skip: Iterable[str],
        new_room: RoomInfo | None,
        seats: int,
    ) -> Claim | None:
        """Claim a seat in the oldest open room that suits, cluster-wide; if none does, open
        ``new_room`` (this node's, not yet published) with the caller's seat claimed in it."""
        skipped = list(skip)
        args: list[Any] = [self.prefix, len(skipped), *skipped, len(options)]
        for name, value in options.items():
            args += [name, _canonical(value)]
        if new_room is None:
            args += ["", 0, 0, self.node, _CLAIM_SCAN]
        else:
            ordinal = self.new_ordinal()
            self._ordinal[new_room.id] = ordinal  # kept, so its first publish keeps the place
            args += [new_room.id, seats, ordinal, self.node, _CLAIM_SCAN]
        keys = [self._open_key(kind, game, clock)]
        got = await self.outbox.ask(evalsha(self._claim, keys, args))
        if new_room is not None and (got is None or got[2] != 1):
            self._ordinal.pop(new_room.id, None)
        if got is None:
            return None
        room_id, owner, new = got
        return Claim(_text(room_id), _text(owner), bool(new))

    async def look_up(self, room_id: str | None, code: str | None) -> str | None:
        """Who owns a room this node's mirror does not know yet, asking Redis (None: nobody)."""
        if room_id is None and code is not None:
            found = await self.redis.hget(self._key("codes"), normal_code(code))
            room_id = None if found is None else _text(found)
        if room_id is None:
            return None
        raw = await self.redis.hget(self._key("rooms"), room_id)
        if raw is None:
            return None
        info, owner, ordinal = info_from_json(orjson.loads(raw))
        if info.id not in self._rooms:
            self._mirror(info, owner, ordinal)
        return owner

    def reserve(self, room_id: str) -> None:
        """The room's first publish claims a seat for its creator, who enters once Redis has it."""
        self._arrived[room_id] = self._arrived.get(room_id, 0) - 1

    def arrived(self, room_id: str) -> None:
        """A claimed seat's newcomer reached this node's room: the next publish counts it."""
        self._arrived[room_id] = self._arrived.get(room_id, 0) + 1

    def settle(self, room_id: str) -> None:
        """After a claimed join: if it published nothing (it failed), free the claimed seat."""
        count = self._arrived.pop(room_id, 0)
        if not count:
            return
        info = self._rooms.get(room_id)
        if info is None:  # the room is gone, and its seats with it
            return
        keys = [self._key(f"seats:{room_id}"), self._open_key(info.kind, info.game, info.clock)]
        args = [room_id, -count, self._ordinal.get(room_id, 0), int(info.open and info.code is None)]
        self.outbox.put(evalsha(self._release, keys, args))

    def release_remote(self, room_id: str, owner: str) -> None:
        """A claim in a room this node does not own went unused: free it (the owner may be gone)."""
        info = self._rooms.get(room_id)
        if info is None:
            return
        keys = [self._key(f"seats:{room_id}"), self._open_key(info.kind, info.game, info.clock)]
        args = [room_id, -1, self._ordinal.get(room_id, 0), int(info.open and info.code is None)]
        self.outbox.put(evalsha(self._release, keys, args))

    def withdraw_dead(self, room_id: str, owner: str) -> None:
        """A dead node's room that no node can adopt (it kept no record: a relay room): it is gone
        from the lobby, and its members' nodes tell them."""
        info = self._rooms.get(room_id)
        if info is None or self._owner.get(room_id) != owner:
            return
        self._unmirror(room_id)
        self.on_room_gone(room_id)
        self._remove(info, {"gone": room_id, "owner": owner, "dead": True})

    def forget(self, room_id: str) -> None:
        """Drop a room from this node's mirror (a dead node's, about to be adopted here); it keeps
        its place in the lobby's order when it is published again."""
        ordinal = self._ordinal.get(room_id)
        self._unmirror(room_id)
        if ordinal is not None:
            self._ordinal[room_id] = ordinal

    def rooms_of(self, node: str) -> list[str]:
        return [room_id for room_id, owner in self._owner.items() if owner == node]
