"""Matches kept in the cluster's Redis: a node can die and another replays its rooms' moves.

A match's moves are a Redis Stream, one entry per move whose id is its index (``0-1``, ``0-2``, ...):
a move written twice is refused by Redis itself, so none is ever doubled. Every write for a room
carries the room's *epoch*, and a script (``FENCED``) refuses it unless this node owns the room at
that epoch: a node that was paused past its lease and wakes up cannot write into a room another
node has adopted. Writes go through the node's outbox, in order; ``pending`` tells the hub which
write its messages must wait for, so nothing is sent before its move is in Redis.

    match:MATCH        hash    meta (the match without its moves), outcome, finished_at
    moves:MATCH        stream  0-N -> {"m": the N-th action, JSON}
    room:ROOM          string  the room's record (JSON)
    owner:ROOM         hash    owner (a node), epoch
    noderooms:NODE     set     rooms with a record, owned by NODE
    nodematches:NODE   set     matches in progress in NODE's rooms

Reads (``rooms``, ``unfinished``, ``get``) answer from a snapshot loaded before a restore: the
node's own records at start, a dead node's when adopting its rooms.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import Callable
from typing import Any

import orjson
from redis.asyncio import Redis
from redis.exceptions import ResponseError

from ...store import MatchStore, SavedMatch, SavedMove, SavedPlayer, SavedRoom
from .bus import Outbox, evalsha

__all__ = ["ADOPT", "FENCED", "RedisStore", "Snapshot", "StaleOwner", "read_match", "recent_matches"]

log = logging.getLogger("netplay.cluster")

#: Run the commands given if this node owns the room at this epoch (a room never written to is
#: claimed by its first write). KEYS: owner:ROOM. ARGV: node, epoch, then for each command its
#: argument count and arguments. A duplicate stream id (a move already written) is not an error.
FENCED = """
local owner = redis.call('HMGET', KEYS[1], 'owner', 'epoch')
if owner[1] == false then
  redis.call('HSET', KEYS[1], 'owner', ARGV[1], 'epoch', ARGV[2])
elseif owner[1] ~= ARGV[1] or owner[2] ~= ARGV[2] then
  return redis.error_reply('STALE room owned by ' .. owner[1] .. ' at epoch ' .. owner[2])
end
local at = 3
while at <= #ARGV do
  local n = tonumber(ARGV[at])
  local command = {}
  for i = 1, n do command[i] = ARGV[at + i] end
  local ok, err = pcall(redis.call, unpack(command))
  if not ok and not string.find(tostring(err.err or err), 'equal or smaller') then
    return redis.error_reply(tostring(err.err or err))
  end
  at = at + n + 1
end
return 1
"""

#: Take a dead node's room: if its node is still dead and still owns it, it is this node's at the
#: next epoch. KEYS: owner:ROOM, alive:DEAD, noderooms:DEAD, noderooms:ME, nodematches:DEAD,
#: nodematches:ME. ARGV: room, dead node, this node, then the room's matches in progress.
#: Returns the new epoch, or 0 (the node is back, or another node took the room first).
ADOPT = """
if redis.call('EXISTS', KEYS[2]) == 1 then return 0 end
local owner = redis.call('HGET', KEYS[1], 'owner')
if owner ~= false and owner ~= ARGV[2] then return 0 end
local epoch = redis.call('HINCRBY', KEYS[1], 'epoch', 1)
redis.call('HSET', KEYS[1], 'owner', ARGV[3])
if redis.call('SMOVE', KEYS[3], KEYS[4], ARGV[1]) == 0 then
  redis.call('SREM', KEYS[3], ARGV[1])
end
for i = 4, #ARGV do
  redis.call('SMOVE', KEYS[5], KEYS[6], ARGV[i])
end
return epoch
"""


class StaleOwner(Exception):
    """Redis refused a write: another node owns the room now (this one lost its lease)."""


def _player(player: SavedPlayer) -> dict[str, Any]:
    return {"seat": player.seat, "id": player.id, "name": player.name, "bot": player.bot,
            "token_hash": player.token_hash}  # fmt: skip


def _match_json(match: SavedMatch) -> bytes:
    """A match without its moves (they are its stream). Written out, not ``dataclasses.asdict``:
    a deep copy by reflection costs several times as much, once a game."""
    return orjson.dumps(
        {
            "id": match.id,
            "room_id": match.room_id,
            "room_code": match.room_code,
            "game": match.game,
            "number": match.number,
            "options": match.options,
            "start_version": match.start_version,
            "players": [_player(p) for p in match.players],
            "started_at": match.started_at,
            "outcome": match.outcome,
            "finished_at": match.finished_at,
            "seed": match.seed,
            "rng": match.rng,
            "clock": match.clock,
            "move_limit": match.move_limit,
        }
    )


def _room_json(room: SavedRoom) -> bytes:
    return orjson.dumps(
        {
            "id": room.id,
            "code": room.code,
            "game": room.game,
            "options": room.options,
            "clock": room.clock,
            "move_limit": room.move_limit,
            "seats": room.seats,
            "players": [_player(p) for p in room.players],
            "games_played": room.games_played,
            "match_id": room.match_id,
            "rematch": room.rematch,
            "created_at": room.created_at,
            "updated_at": room.updated_at,
        }
    )


def _match_from(meta: bytes, moves: list[SavedMove], outcome: bytes | None, at: bytes | None) -> SavedMatch:
    data = orjson.loads(meta)
    data["players"] = [SavedPlayer(**p) for p in data["players"]]
    data["moves"] = moves
    if outcome is not None:
        data["outcome"] = orjson.loads(outcome)
    if at is not None:
        data["finished_at"] = float(at)
    return SavedMatch(**data)


def _room_from(raw: bytes) -> SavedRoom:
    data = orjson.loads(raw)
    data["players"] = [SavedPlayer(**p) for p in data["players"]]
    return SavedRoom(**data)


@dataclasses.dataclass
class Snapshot:
    """A node's records as Redis held them: room records, and matches by id (with their moves)."""

    rooms: list[SavedRoom]
    matches: dict[str, SavedMatch]
    #: The matches in progress, and the room each belongs to.
    unfinished: list[str]


class RedisStore(MatchStore):
    """The cluster's match store: every write fenced by the room's epoch, in the node's order."""

    holds_messages = True  # a write is in Redis only once its reply is back

    def __init__(self, redis: Redis, outbox: Outbox, prefix: str, node: str) -> None:
        self.redis = redis
        self.outbox = outbox
        self.prefix = prefix
        self.node = node
        self._fenced = outbox.script(FENCED)
        self.adopt_script = redis.register_script(ADOPT)
        #: Each room's epoch as this node owns it, and the room of each match written here.
        self.epochs: dict[str, int] = {}
        self.room_of: dict[str, str] = {}
        self._last: asyncio.Future[Any] | None = None
        #: Called with a room id when Redis says another node owns it now.
        self.on_stale: Callable[[str], None] = lambda room_id: None
        self.snapshot = Snapshot([], {}, [])
        #: Writes refused (stale) or failed.
        self.refused = 0

    def _key(self, name: str) -> str:
        return self.prefix + name

    def pending(self) -> asyncio.Future[Any] | None:
        """The latest write, if Redis has not taken it yet: what a message sent now must wait for."""
        last = self._last
        return last if last is not None and not last.done() else None

    def _write(self, room_id: str, *commands: list[Any]) -> None:
        epoch = self.epochs.setdefault(room_id, 1)
        args: list[Any] = [self.node, epoch]
        for command in commands:
            args += [len(command), *command]
        keys = [self._key(f"owner:{room_id}")]
        future = self.outbox.ask(evalsha(self._fenced, keys, args))
        future.add_done_callback(lambda f: self._written(f, room_id))
        self._last = future

    def _written(self, future: asyncio.Future[Any], room_id: str) -> None:
        error = None if future.cancelled() else future.exception()
        if error is None:
            return
        self.refused += 1
        if isinstance(error, ResponseError) and str(error).startswith("STALE"):
            log.error(
                "room %s: %s; this node lets it go", room_id, error,
                extra={"event": "cluster_stale", "room": room_id},
            )  # fmt: skip
            self.on_stale(room_id)
        else:
            log.error("a write for room %s failed: %s", room_id, error, extra={"event": "store_error"})

    # -- MatchStore ----------------------------------------------------------------------------
    def match_started(self, match: SavedMatch) -> None:
        self.room_of[match.id] = match.room_id
        key = self._key(f"match:{match.id}")
        self._write(
            match.room_id,
            ["HSET", key, "meta", _match_json(match)],
            ["SADD", self._key(f"nodematches:{self.node}"), match.id],
            ["ZADD", self._key("matches"), repr(match.started_at), match.id],  # (netplay matches)
        )

    def move_applied(self, match_id: str, index: int, move: SavedMove) -> None:
        entry = orjson.dumps(
            {"seat": move.seat, "move": move.move, "version": move.version, "at": move.at, "kind": move.kind}
        )
        self._write(
            self.room_of[match_id], ["XADD", self._key(f"moves:{match_id}"), f"0-{index + 1}", "m", entry]
        )

    def match_finished(self, match_id: str, outcome: dict[str, Any], at: float) -> None:
        key = self._key(f"match:{match_id}")
        self._write(
            self.room_of[match_id],
            ["HSET", key, "outcome", orjson.dumps(outcome), "finished_at", repr(at)],
            ["SREM", self._key(f"nodematches:{self.node}"), match_id],
        )

    def room_saved(self, room: SavedRoom) -> None:
        self._write(
            room.id,
            ["SET", self._key(f"room:{room.id}"), _room_json(room)],
            ["SADD", self._key(f"noderooms:{self.node}"), room.id],
        )

    def room_closed(self, room_id: str) -> None:
        if room_id not in self.epochs:
            return  # never written here
        self._write(
            room_id,
            ["DEL", self._key(f"room:{room_id}")],
            ["SREM", self._key(f"noderooms:{self.node}"), room_id],
        )

    def unfinished(self) -> list[SavedMatch]:
        return [self.snapshot.matches[m] for m in self.snapshot.unfinished if m in self.snapshot.matches]

    def recent(self, limit: int = 20) -> list[SavedMatch]:
        return []  # ``netplay matches`` reads a node's SQLite file; the cluster's are in Redis

    def get(self, match_id: str) -> SavedMatch | None:
        return self.snapshot.matches.get(match_id)

    def rooms(self) -> list[SavedRoom]:
        return sorted(self.snapshot.rooms, key=lambda r: r.created_at)

    # -- snapshots -----------------------------------------------------------------------------
    async def load(self, node: str) -> Snapshot:
        """Every record of ``node``'s rooms: room records, their latest matches, matches in
        progress, each with its moves."""
        redis: Any = self.redis  # (redis-py's types say bytes or str; without decode_responses: bytes)
        room_ids = [_text(r) for r in await redis.smembers(self._key(f"noderooms:{node}"))]
        unfinished = [_text(m) for m in await redis.smembers(self._key(f"nodematches:{node}"))]
        rooms = []
        for room_id in room_ids:
            raw = await redis.get(self._key(f"room:{room_id}"))
            if raw is not None:
                rooms.append(_room_from(raw))
        wanted = set(unfinished) | {r.match_id for r in rooms if r.match_id is not None}
        matches = {}
        for match_id in wanted:
            match = await read_match(redis, match_id, self.prefix)
            if match is not None:
                matches[match_id] = match
        return Snapshot(rooms, matches, unfinished)

    def use(self, snapshot: Snapshot, epochs: dict[str, int]) -> None:
        """Restore from ``snapshot`` next (its rooms at these epochs are this node's now)."""
        self.snapshot = snapshot
        self.epochs.update(epochs)
        for match in snapshot.matches.values():
            if match.room_id in epochs:
                self.room_of[match.id] = match.room_id


async def read_match(redis: Redis, match_id: str, prefix: str) -> SavedMatch | None:
    """A match of the cluster with its moves, as Redis has it (None: no such match)."""
    r: Any = redis  # (redis-py's types say bytes or str; without decode_responses: bytes)
    async with r.pipeline(transaction=False) as pipe:
        pipe.hmget(f"{prefix}match:{match_id}", "meta", "outcome", "finished_at")
        pipe.xrange(f"{prefix}moves:{match_id}")
        fields, entries = await pipe.execute()
    if fields[0] is None:
        return None
    moves = [SavedMove(**orjson.loads(data[b"m"])) for _, data in entries]
    return _match_from(fields[0], moves, fields[1], fields[2])


async def recent_matches(redis: Redis, limit: int, prefix: str) -> list[SavedMatch]:
    """The cluster's ``limit`` latest matches (by start), newest first, with their moves."""
    r: Any = redis
    ids = [_text(m) for m in await r.zrevrange(f"{prefix}matches", 0, limit - 1)]
    found = [await read_match(redis, match_id, prefix) for match_id in ids]
    return [match for match in found if match is not None]


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value
