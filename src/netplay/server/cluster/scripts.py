"""The Lua scripts the cluster runs inside Redis, each one atomic: Redis runs one at a time.

What Redis keeps (every key under the cluster's prefix, ``netplay:`` by default):

    rooms             hash   room id -> the room's entry (JSON: description, owner node, order)
    seats:ROOM        hash   free (seats its owner last counted), inflight (claimed, not arrived)
    open:KIND:GAME:CLOCK
                      zset   the public rooms quick-match may seat someone in, oldest first
    opts:ROOM         hash   option name -> its value as canonical JSON (quick-match filters)
    codes             hash   private code -> room id
    tokens            hash   SHA-256 of a session token -> the node the player is connected to
    dir               channel  every change of the rooms hash, for the nodes' mirrors
    node:NODE         channel  batches for one node (requests, deliveries)

A seat is claimed in Redis (``CLAIM``), not in the room: two nodes quick-matching at the same
moment can never both take the last seat of a room, whatever their mirrors of the directory say.
The owner counts the claim as arrived when the newcomer's join reaches the room (``PUT`` with
``claims_done``), so the seats left are always ``free - inflight``.
"""

from __future__ import annotations

__all__ = ["CLAIM", "FORGET_TOKEN", "PUT", "RELEASE", "WITHDRAW"]

#: A player is gone for good: its token no longer resumes anything, unless another node has it
#: now. KEYS: tokens. ARGV: token hash, this node.
FORGET_TOKEN = """
if redis.call('HGET', KEYS[1], ARGV[1]) == ARGV[2] then
  return redis.call('HDEL', KEYS[1], ARGV[1])
end
return 0
"""

#: Publish a room's description. KEYS: rooms, seats:ROOM, open:KEY, opts:ROOM, codes.
#: ARGV: id, entry JSON, open (0/1), free, minus the claims arrived since, ordinal, code (or ""),
#: owner, the dir channel, options count, then name and canonical JSON of each option.
PUT = """
local id = ARGV[1]
redis.call('HSET', KEYS[1], id, ARGV[2])
local inflight = redis.call('HINCRBY', KEYS[2], 'inflight', ARGV[5])
if inflight < 0 then
  redis.call('HSET', KEYS[2], 'inflight', 0)
  inflight = 0
end
local free = tonumber(ARGV[4])
redis.call('HSET', KEYS[2], 'free', free, 'owner', ARGV[8])
if ARGV[3] == '1' and free - inflight > 0 then
  redis.call('ZADD', KEYS[3], ARGV[6], id)
else
  redis.call('ZREM', KEYS[3], id)
end
if ARGV[7] ~= '' then
  redis.call('HSET', KEYS[5], ARGV[7], id)
end
local n = tonumber(ARGV[10])
for i = 1, n do
  redis.call('HSET', KEYS[4], ARGV[9 + 2 * i], ARGV[10 + 2 * i])
end
redis.call('PUBLISH', ARGV[9], ARGV[2])
return inflight
"""

#: A room is gone. KEYS: rooms, seats:ROOM, open:KEY, opts:ROOM, codes.
#: ARGV: id, code (or ""), the dir channel, the event.
WITHDRAW = """
redis.call('HDEL', KEYS[1], ARGV[1])
redis.call('DEL', KEYS[2], KEYS[4])
redis.call('ZREM', KEYS[3], ARGV[1])
if ARGV[2] ~= '' then
  redis.call('HDEL', KEYS[5], ARGV[2])
end
redis.call('PUBLISH', ARGV[3], ARGV[4])
return 1
"""

#: A claim that did not become a join (the room had started, or was gone): its seat is free again.
#: KEYS: seats:ROOM, open:KEY. ARGV: id, minus the claims released, ordinal, open (0/1).
RELEASE = """
if redis.call('EXISTS', KEYS[1]) == 0 then
  return -1
end
local inflight = redis.call('HINCRBY', KEYS[1], 'inflight', ARGV[2])
if inflight < 0 then
  redis.call('HSET', KEYS[1], 'inflight', 0)
  inflight = 0
end
local free = tonumber(redis.call('HGET', KEYS[1], 'free') or '0')
if ARGV[4] == '1' and free - inflight > 0 then
  redis.call('ZADD', KEYS[2], ARGV[3], ARGV[1])
end
return inflight
"""

#: Claim a seat in the oldest open room of a kind, game and clock that is not skipped and was made
#: with the options asked for; if there is none, register the caller's new room as open, with the
#: caller's own seat claimed. KEYS: open:KEY. ARGV: prefix, skip count, skipped ids, options
#: count, name and canonical JSON of each, then the new room's id ("" for none), its seats, its
#: ordinal, its owner, and the most rooms to look at.
#: Returns {room id, owner node, 1 if it is the caller's new room else 0} or nil.
CLAIM = """
local prefix = ARGV[1]
local at = 2
local skips = tonumber(ARGV[at])
local skip = {}
for i = 1, skips do skip[ARGV[at + i]] = true end
at = at + skips + 1
local wants = tonumber(ARGV[at])
local wanted = {}
for i = 1, wants do
  wanted[i] = {ARGV[at + 2 * i - 1], ARGV[at + 2 * i]}
end
at = at + 2 * wants + 1
local new_id, new_seats, new_ordinal, owner, most =
  ARGV[at], tonumber(ARGV[at + 1]), ARGV[at + 2], ARGV[at + 3], tonumber(ARGV[at + 4])
local ids = redis.call('ZRANGE', KEYS[1], 0, most - 1)
for _, id in ipairs(ids) do
  if not skip[id] then
    local seats = prefix .. 'seats:' .. id
    local got = redis.call('HMGET', seats, 'free', 'inflight', 'owner')
    local free, inflight = tonumber(got[1] or '0'), tonumber(got[2] or '0')
    if free - inflight > 0 then
      local fits = true
      for _, pair in ipairs(wanted) do
        if redis.call('HGET', prefix .. 'opts:' .. id, pair[1]) ~= pair[2] then
          fits = false
          break
        end
      end
      if fits then
        redis.call('HINCRBY', seats, 'inflight', 1)
        if free - inflight - 1 <= 0 then redis.call('ZREM', KEYS[1], id) end
        return {id, got[3], 0}
      end
    elseif got[1] == false then
      redis.call('ZREM', KEYS[1], id)  -- a room withdrawn behind the index's back
    end
  end
end
if new_id == '' then return nil end
redis.call('HSET', prefix .. 'seats:' .. new_id, 'free', new_seats, 'inflight', 1, 'owner', owner)
for _, pair in ipairs(wanted) do
  redis.call('HSET', prefix .. 'opts:' .. new_id, pair[1], pair[2])
end
if new_seats - 1 > 0 then redis.call('ZADD', KEYS[1], new_ordinal, new_id) end
return {new_id, owner, 1}
"""
