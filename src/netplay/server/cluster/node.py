"""One node of a cluster: requests for other nodes' rooms go to their owners, and back.

A client talks to its *home* node, the one it is connected to. A room lives on its *owner* node.
When a client asks something of a room another node owns (a move, a relay, leaving it) or joins
one, its home forwards the request, as it came, to the owner. There the client is a *guest*: an
ordinary ``Session`` of the owner's hub whose link (``GuestLink``) posts everything the hub sends
it back to the home node, which writes it to the client. So the owner's hub answers a guest with
the same code, messages and errors as a client of its own; the home only routes.

The items of a batch (``bus.Bus``), by direction:

    home -> owner   ["req", id, name, token hash, request]     a request for one of its rooms
                    ["claim", id, name, token hash, request, room]   quick-match: a claimed seat
                    ["away", id] ["back", id] ["gone", id]    the client dropped, came back (to
                                                               the sender: its home now), left
    node -> home    ["handover", token hash]                  the player resumes on the sender
    home -> node    ["handed", token hash, player or null]    its id, name, rooms (null: no such)
    owner -> home   ["out", [ids], message]                   for those of the home's clients (the
                                                               message as encoded: see bus.py)
                    ["in", id, room] ["left", id, room]       a guest entered or left a room
                    ["retry", id, room]                        the claimed seat was gone: claim again
                    ["close", id]                              close the client's connection

Per room, a client's requests are handled in the order it sent them (one channel, in order, each
way). Across rooms of different nodes, replies may come back in another order.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

import orjson

from ...protocol import ErrorCode, Hello, ProtocolError
from ...protocol.outgoing import Outgoing, OutgoingRun
from ..session import Session
from . import scripts
from .bus import Bus, evalsha
from .directory import ClusterDirectory

if TYPE_CHECKING:
    from ..hub import Hub
    from ..rooms import Room

__all__ = ["ClusterNode", "GuestLink"]

log = logging.getLogger("netplay.cluster")

#: Times a quick-match claims again when the seat it claimed was taken by the time it got there.
_CLAIM_TRIES = 5
#: Seconds a quick-match waits for another node to seat its client before it gives up.
_CLAIM_WAIT = 10.0
#: Seconds a resume waits for the player's node to hand it over; then the client is a new player.
_HANDOVER_WAIT = 5.0
#: What clients are told while Redis cannot be reached, and when it is back.
PAUSED = "the server has lost its database for a moment: games wait (nothing is lost) until it is back"
RESUMED = "the server has its database back: games go on"


async def _adopt_nothing(node: str) -> int:
    return 0


class GuestLink:
    """The link of a guest: what the owner's hub sends the guest goes to its home node."""

    __slots__ = ("bus", "home", "member_id", "peer")
    kind = "cluster"

    def __init__(self, bus: Bus, home: str, member_id: str) -> None:
        self.bus = bus
        self.home = home
        self.member_id = member_id
        self.peer = f"node {home}"

    def rebind(self, session: Session | None) -> None:
        pass

    def send(self, out: Outgoing) -> None:
        self.bus.post_out(self.home, out, self.member_id)

    def send_run(self, run: OutgoingRun) -> None:
        post_out, home, member_id = self.bus.post_out, self.home, self.member_id
        for out in run.outs():
            post_out(home, out, member_id)

    def close(self, error: ProtocolError | None = None) -> None:
        if error is not None:
            self.send(Outgoing(error.to_message()))
        self.bus.post(self.home, ["close", self.member_id])

    def abort(self) -> None:
        self.close()

    def backlog(self) -> int:
        return 0  # the home node's link knows; a real-time room sends a guest every view


class ClusterNode:
    """The hub's side of the cluster: forwarding, guests, and cluster-wide quick-match."""

    def __init__(self, hub: Hub, bus: Bus, directory: ClusterDirectory, name: str) -> None:
        self.hub = hub
        self.bus = bus
        self.directory = directory
        self.name = name
        #: Clients of other nodes in this node's rooms, by id; and each one's home node.
        self.guests: dict[str, Session] = {}
        self.homes: dict[str, str] = {}
        #: Quick-matches waiting for another node to seat their client, by client id.
        self._seating: dict[str, asyncio.Future[bool]] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        #: Adopt a dead node's rooms now (``Cluster.adopt``), when a player of it comes back first.
        self.adopt: Callable[[str], Awaitable[int]] = _adopt_nothing
        #: Resumes waiting for the player's node to hand it over, by token hash.
        self._handovers: dict[str, tuple[Session, Hello, asyncio.TimerHandle]] = {}
        self._tokens = f"{directory.prefix}tokens"
        self._text_ids = f"{directory.prefix}text-ids"
        self._forget_token = directory.outbox.script(scripts.FORGET_TOKEN)
        self._handlers: dict[str, Callable[[str, list[Any]], None]] = {
            "req": self._on_req,
            "claim": self._on_claim,
            "away": self._on_away,
            "back": self._on_back,
            "gone": self._on_gone,
            "out": self._on_out,
            "in": self._on_in,
            "left": self._on_left,
            "retry": self._on_retry,
            "close": self._on_close,
            "handover": self._on_handover,
            "resync": self._on_resync,
            "handed": self._on_handed,
        }

    # -- the home's side -----------------------------------------------------------------------
    def intercept(self, session: Session, message: dict[str, Any]) -> bool:
        """Take a request that is another node's to answer (or that must wait); False: the hub's."""
        if session.waiting is not None:  # a quick-match is being seated: requests wait their turn
            session.waiting.append(message)
            return True
        if self.guests.get(session.id) is session:
            return False  # a guest's requests are this node's: they were forwarded here
        room_id = message.get("room")
        if room_id is not None:
            owner = session.remote.get(room_id)
            if owner is not None:
                self.check_available()
                self._forward(session, owner or self.directory.owner_of(room_id) or "", message)
                return True
        if message["type"] == "join_room" and "_looked_up" not in message:
            code = message.get("code")
            if room_id is not None:
                info = self.directory.get(room_id)
            elif code is not None:
                info = self.directory.by_code(code)
            else:
                return False
            if info is None:  # not in this node's mirror yet: Redis knows (see create_room)
                self.check_available()
                self.hub.check_room_quota(session)
                if code is not None:  # a guesser is stopped before it costs Redis anything
                    self.hub.guesses.check(session, self.hub.loop.time())
                self._hold(session, self._look_up_and_join(session, message))
                return True
            owner = self.directory.owner_of(info.id)
            if owner is not None and owner != self.name:
                self.check_available()
                self.hub.check_room_quota(session)
                self._forward(session, owner, message)
                return True
        return False

    @property
    def busy(self) -> int:
        """Requests this node is working on for its clients (quick-matches, look-ups) right now."""
        return len(self._tasks)

    def _hold(self, session: Session, work: Any) -> None:
        """Run ``work`` (a coroutine), holding the client's next requests until it releases them
        (``_release_waiting``; a hold within a hold keeps the requests held so far)."""
        if session.waiting is None:
            session.waiting = []
        task = asyncio.create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _look_up_and_join(self, session: Session, message: dict[str, Any]) -> None:
        try:
            owner = await self.directory.look_up(message.get("room"), message.get("code"))
            if owner is not None and owner != self.name:
                self._forward(session, owner, message)
            else:  # unknown anywhere (the hub's error), or ours after all
                self.hub.handle_request(session, {**message, "_looked_up": True})
        except Exception:
            log.exception("a room look-up failed", extra={"event": "cluster_error", "player": session.id})
            error = ProtocolError(ErrorCode.UNAVAILABLE, "the cluster cannot be reached now; try again")
            session.send(error.to_message(message.get("id")))
        finally:
            self._release_waiting(session)

    def create_room(self, session: Session, room: Room, message: dict[str, Any]) -> None:
        """A room made here is entered once Redis has it: a client told its id or code by the
        reply can be sure that every node finds it."""
        if self.directory.outbox.down:
            self.hub.room_emptied(room)
            self.check_available()

        async def enter() -> None:
            try:
                await self.outbox_flushed()
                self.directory.arrived(room.id)  # the creator's seat, reserved when it was made
                try:
                    self.hub.enter(session, room, message, spectate=bool(message.get("spectate")))
                finally:
                    self.directory.settle(room.id)
            except ProtocolError as error:
                self.hub.room_emptied(room)
                session.send(error.to_message(message.get("id")))
            except Exception:
                log.exception("a room could not be made", extra={"event": "cluster_error"})
                self.hub.room_emptied(room)
                unreachable = ProtocolError(
                    ErrorCode.UNAVAILABLE, "the cluster cannot be reached now; try again"
                )
                session.send(unreachable.to_message(message.get("id")))
            finally:
                self._release_waiting(session)

        self._hold(session, enter())

    async def outbox_flushed(self) -> None:
        await self.directory.outbox.flush()

    def check_available(self) -> None:
        """Refuse a request that needs Redis while it cannot be reached (``unavailable``)."""
        if self.directory.outbox.down:
            raise ProtocolError(
                ErrorCode.UNAVAILABLE, "the cluster's database cannot be reached now; try again in a moment"
            )

    def _forward(self, session: Session, owner: str, message: dict[str, Any]) -> None:
        self.bus.post(owner, ["req", session.id, session.name, session.token_hash, message])

    # -- sessions across the cluster -----------------------------------------------------------
    def welcome(self, session: Session, messages: list[dict[str, Any]]) -> None:
        """Send a welcome once Redis knows which node the player's token belongs to (this one), so
        that a reconnect through any node resumes it."""
        assert session.token_hash is not None
        self.claim_token(session)

        async def send() -> None:
            try:
                await self.directory.outbox.flush()
            finally:
                for message in messages:
                    session.send(message)
                self._release_waiting(session)

        self._hold(session, send())

    def claim_token(self, session: Session) -> None:
        """Write down who holds this player's token: this node, and the player as another node
        would need it to take the player over if this one died (id, name, rooms elsewhere)."""
        token_hash = session.token_hash
        if token_hash is None:
            return
        entry = orjson.dumps(
            {"node": self.name, "id": session.id, "name": session.name, "remote": session.remote}
        )
        self.directory.outbox.put(("HSET", self._tokens, token_hash, entry))

    def forget_token(self, token_hash: str) -> None:
        """The player is gone from this node for good: its token resumes nothing here any more."""
        keys, args = [self._tokens], [token_hash, self.name]
        self.directory.outbox.put(evalsha(self._forget_token, keys, args))

    def resume_elsewhere(self, session: Session, hello: Hello, token_hash: str) -> None:
        """A token this node does not know: if another node's player holds it, that node hands the
        player over, and this connection resumes it here; else it is a new player."""

        async def ask() -> None:
            try:
                entry = await self._token(token_hash)
                node = None if entry is None else entry["node"]
                if node is not None and node != self.name and not await self._alive(node):
                    await self.adopt(node)  # its node is gone: its rooms (and players) come here
                    entry = await self._token(token_hash)
                    node = None if entry is None else entry["node"]
                alive = node is not None and await self._alive(node)
            except Exception:
                log.exception("cannot look a token up", extra={"event": "cluster_error"})
                self._unavailable(session, hello)
                return
            if node == self.name and token_hash in self.hub.tokens:  # adopted here just now
                self._release_waiting(session)
                self.hub.receive(session, hello)
                return
            if entry is None or node == self.name:
                self.hub.greet(session, hello)  # its welcome releases the requests held meanwhile
                return
            assert node is not None
            if not alive:  # its node is gone, its rooms all elsewhere: this node takes it over
                player = {**entry, "token_hash": token_hash, "rooms": []}
                self._take_over(session, hello, player, node)
                return
            timer = self.hub.loop.call_later(_HANDOVER_WAIT, self._handover_late, token_hash)
            self._handovers[token_hash] = (session, hello, timer)
            self.bus.post(node, ["handover", token_hash])

        self._hold(session, ask())

    async def _token(self, token_hash: str) -> dict[str, Any] | None:
        """Who holds a token, as ``claim_token`` wrote it (None: nobody)."""
        raw = await self.directory.redis.hget(self._tokens, token_hash)
        return None if raw is None else dict(orjson.loads(raw))

    async def _alive(self, node: str) -> bool:
        return bool(await self.directory.redis.exists(f"{self.directory.prefix}alive:{node}"))

    def _unavailable(self, session: Session, hello: Hello) -> None:
        """A resume that cannot be answered now: the client is told to come back in a moment."""
        self._release_waiting(session)
        error = ProtocolError(
            ErrorCode.UNAVAILABLE,
            "your game's server is being replaced by another; reconnect in a few seconds",
            fatal=True,
        )
        session.send(error.to_message(hello.id))
        if session.link is not None:
            session.ending = "unavailable"
            session.link.close()

    def _handover_late(self, token_hash: str) -> None:
        waiting = self._handovers.pop(token_hash, None)
        if waiting is not None:  # its node is stuck, or dead with its lease not yet lapsed: the
            session, hello, _ = waiting  # client comes back once its rooms are adopted
            log.warning("no node handed over a resumed player", extra={"event": "cluster_error"})
            self._unavailable(session, hello)

    def _on_handover(self, node: str, item: list[Any]) -> None:
        token_hash = item[1]
        session = self.hub.tokens.get(token_hash)
        if session is None or self.guests.get(session.id) is session:
            self.bus.post(node, ["handed", token_hash, None])
            return
        was_away = self.hub.hand_over(session)
        player = {
            "id": session.id,
            "name": session.name,
            "token_hash": token_hash,
            "rooms": sorted(session.rooms),
            "remote": dict(session.remote),
        }
        self.bus.post(node, ["handed", token_hash, player])
        session.remote = {}
        if session.rooms:  # its rooms here stay here: it is the new home's guest now
            session.link = GuestLink(self.bus, node, session.id)
            self.guests[session.id] = session
            self.homes[session.id] = node
            for room in list(session.rooms.values()):
                room.member_back(session.id, announce=was_away)

    def _on_handed(self, node: str, item: list[Any]) -> None:
        waiting = self._handovers.pop(item[1], None)
        if waiting is None:
            if item[2] is not None:  # handed too late: this node greeted it afresh meanwhile
                self.bus.post(node, ["gone", item[2]["id"]])
            return
        session, hello, timer = waiting
        timer.cancel()
        player = item[2]
        if player is None:
            self.hub.greet(session, hello)
        else:
            self._take_over(session, hello, player, node)

    def _take_over(self, session: Session, hello: Hello, player: dict[str, Any], node: str) -> None:
        """Resume ``player`` (of node ``node``, which handed it over or is dead) on this node."""
        self.hub.take_over(session, hello, player, node)
        guest = self.guests.pop(session.id, None)
        if guest is not None:  # it was a guest in rooms of this node: they are its own now
            del self.homes[session.id]
            if guest.expiry is not None:
                guest.expiry.cancel()
            for room_id, room in guest.rooms.items():
                session.remote.pop(room_id, None)
                session.rooms[room_id] = room
                room.member_back(session.id, announce=guest.link is None)
        for owner in set(session.remote.values()) - {node}:
            self.bus.post(owner, ["back", session.id])  # its other rooms: here is its home now
        self.claim_token(session)
        self._release_waiting(session)  # (greet's welcome releases them itself, once stored)

    def session_event(self, session: Session, event: str) -> None:
        """Tell the owners of a client's rooms elsewhere that it is "away", "back" or "gone"."""
        for owner in set(session.remote.values()):
            self.bus.post(owner, [event, session.id])
        if event == "gone":
            session.remote.clear()

    async def reserve_text_ids(self, count: int) -> int:
        """Reserve ``count`` numbers for 15-112 text ids, unique across the cluster; the first."""
        last = await self.directory.outbox.ask(("INCRBY", self._text_ids, count))
        return int(last) - count + 1

    def quick_match(
        self,
        session: Session,
        message: dict[str, Any],
        kind: str,
        game: str,
        clock: str | None,
        options: dict[str, Any],
    ) -> None:
        """Seat a client in the oldest open room that suits, on any node, or in a new one here."""
        self.check_available()
        self._hold(session, self._quick_match(session, message, kind, game, clock, options))

    async def _quick_match(
        self,
        session: Session,
        message: dict[str, Any],
        kind: str,
        game: str,
        clock: str | None,
        options: dict[str, Any],
    ) -> None:
        hub = self.hub
        skip = [*session.rooms, *session.remote]
        try:
            for _ in range(_CLAIM_TRIES):
                made = {"clock": clock, "options": options}
                if "max_members" in message:  # (the text lobby's rooms: text_room_size)
                    made["max_members"] = message["max_members"]
                room = hub.new_room(kind, game, message=made, host=False)
                claim = await self.directory.claim(
                    kind, game, clock, options, skip, hub.describe(room), hub.open_seats(room)
                )
                if claim is None or claim.new:
                    if claim is None:  # cannot be: a claim with a new room always gets a room
                        raise ProtocolError(ErrorCode.INTERNAL_ERROR, "the server could not find a room")
                    hub.host_room(room)
                    if self._enter_claimed(session, room, message):
                        return
                    skip.append(room.id)
                    continue
                room.close()  # made in case no room suited: never listed, never seen
                if claim.owner == self.name:
                    found = hub.rooms.get(claim.room_id)
                    if found is not None and self._enter_claimed(session, found, message):
                        return
                    if found is None:
                        self.directory.release_remote(claim.room_id, claim.owner)
                    skip.append(claim.room_id)
                    continue
                seated = asyncio.get_running_loop().create_future()
                self._seating[session.id] = seated
                self.bus.post(
                    claim.owner,
                    ["claim", session.id, session.name, session.token_hash, message, claim.room_id],
                )
                try:
                    async with asyncio.timeout(_CLAIM_WAIT):
                        if await seated:
                            return
                except TimeoutError:
                    raise ProtocolError(
                        ErrorCode.UNAVAILABLE, "the node hosting the room found did not answer; try again"
                    ) from None
                finally:
                    self._seating.pop(session.id, None)
                skip.append(claim.room_id)
            raise ProtocolError(ErrorCode.INTERNAL_ERROR, "no seat could be found for you; try again")
        except ProtocolError as error:
            session.send(error.to_message(message.get("id")))
        except Exception as exc:
            log.exception("quick-match failed", extra={"event": "internal_error", "player": session.id})
            failed = ProtocolError(
                ErrorCode.INTERNAL_ERROR, f"the server failed on that request ({type(exc).__name__})"
            )
            session.send(failed.to_message(message.get("id")))
        finally:
            self._release_waiting(session)

    def _enter_claimed(self, session: Session, room: Room, message: dict[str, Any]) -> bool:
        """Seat a client in a room of this node whose seat it claimed; False if it cannot be."""
        if self.guests.get(session.id) is not session and self.hub.sessions.get(session.id) is not session:
            self.directory.arrived(room.id)  # it left while its seat was claimed: the seat is free
            self.directory.settle(room.id)
            if next(room.member_ids(), None) is None:
                self.hub.room_emptied(room)  # (a room made for it)
            return True  # nothing more to find for it
        if not room.is_open() or room.has_member(session.id):
            self.directory.arrived(room.id)
            self.directory.settle(room.id)
            return False
        self.directory.arrived(room.id)
        try:
            self.hub.enter(session, room, message, spectate=False)
        except ProtocolError:
            return False
        finally:
            self.directory.settle(room.id)
        return True

    def _release_waiting(self, session: Session) -> None:
        """The quick-match has its answer: the requests that waited for it run now, in order."""
        waiting, session.waiting = session.waiting, None
        for message in waiting or ():
            self.hub.handle_request(session, message)

    # -- the owner's side ----------------------------------------------------------------------
    def on_batch(self, node: str, items: list[Any]) -> None:
        """A batch from another node: each item in order."""
        self.bus.received += 1
        for item in items:
            try:
                self._handlers[item[0]](node, item)
            except Exception:  # one bad item must not cost the others
                log.exception("a batch item from node %s failed", node, extra={"event": "cluster_error"})

    def _guest(self, home: str, member_id: str, name: str, token_hash: str | None) -> Session:
        guest = self.guests.get(member_id)
        if guest is None:
            guest = Session(member_id, GuestLink(self.bus, home, member_id), self.hub.loop.time())
            guest.advance("hello")
            guest.heartbeat = False
            guest.name = name
            guest.token_hash = token_hash
            self.guests[member_id] = guest
            self.homes[member_id] = home
        return guest

    def _report(self, home: str, guest: Session, before: set[str]) -> None:
        """Tell the home which rooms its client entered or left here; forget a guest with none."""
        after = set(guest.rooms)
        for room_id in after - before:
            self.bus.post(home, ["in", guest.id, room_id])
        for room_id in before - after:
            self.bus.post(home, ["left", guest.id, room_id])
        if not guest.rooms and self.guests.get(guest.id) is guest:
            del self.guests[guest.id]
            del self.homes[guest.id]

    def _on_req(self, node: str, item: list[Any]) -> None:
        _, member_id, name, token_hash, message = item
        guest = self._guest(node, member_id, name, token_hash)
        before = set(guest.rooms)
        self.hub.handle_request(guest, message)
        self._report(node, guest, before)

    def _on_claim(self, node: str, item: list[Any]) -> None:
        _, member_id, name, token_hash, message, room_id = item
        guest = self._guest(node, member_id, name, token_hash)
        before = set(guest.rooms)
        room = self.hub.rooms.get(room_id)
        if room is None or not self._enter_claimed(guest, room, message):
            if room is None:
                self.directory.release_remote(room_id, self.name)
            self.bus.post(node, ["retry", member_id, room_id])
        self._report(node, guest, before)

    def _on_away(self, node: str, item: list[Any]) -> None:
        guest = self.guests.get(item[1])
        if guest is not None and guest.link is not None:
            guest.link = None
            for room in list(guest.rooms.values()):
                room.member_away(guest.id)

    def _on_back(self, node: str, item: list[Any]) -> None:
        guest = self.guests.get(item[1])
        if guest is None and len(item) > 2:  # a room adopted here: its player was restored away
            guest = self._restored_guest(node, item[1], connected=item[2])
            if guest is None or guest.link is None:
                return
            for room in list(guest.rooms.values()):
                room.member_back(guest.id, announce=True)
            return
        if guest is not None:  # the sender is its home now (it may have resumed on another node)
            if guest.expiry is not None:  # (its home had died: it came back through the sender)
                guest.expiry.cancel()
                guest.expiry = None
            was_away = guest.link is None
            guest.link = GuestLink(self.bus, node, guest.id)
            self.homes[guest.id] = node
            for room in list(guest.rooms.values()):
                room.member_back(guest.id, announce=was_away)

    def _restored_guest(self, home: str, member_id: str, *, connected: bool) -> Session | None:
        """A player that rooms adopted from a dead node brought back away here, whose home node
        is alive: it is that node's client, and a guest here (its link down if it is away)."""
        session = self.hub.away.pop(member_id, None)
        if session is None:
            return None
        if session.expiry is not None:  # its home keeps the grace period
            session.expiry.cancel()
            session.expiry = None
        session.advance("resumed")
        if session.token_hash is not None and self.hub.tokens.get(session.token_hash) is session:
            del self.hub.tokens[session.token_hash]  # the token is its home's
        session.heartbeat = False
        session.link = GuestLink(self.bus, home, member_id) if connected else None
        self.guests[member_id] = session
        self.homes[member_id] = home
        return session

    def adopted_here(self, room: Room) -> None:
        """A dead node's room, restored here: this node's own clients in it (guests of the dead
        node until now) are its members as they were, the restored stand-ins for them dropped."""
        hub = self.hub
        for member_id in list(room.member_ids()):
            live = hub.sessions.get(member_id)
            if live is None:
                away = hub.away.get(member_id)
                if away is not None:
                    away.remote.pop(room.id, None)  # restored into the session it already had
                continue
            # Connected here: a guest of the dead node, or one of its players that resumed here
            # before its rooms were adopted (it did not know this room then).
            stand_in = hub.away.pop(member_id, None)
            if stand_in is not None and stand_in is not live:
                if stand_in.expiry is not None:
                    stand_in.expiry.cancel()
                if stand_in.token_hash is not None and hub.tokens.get(stand_in.token_hash) is stand_in:
                    hub.tokens[stand_in.token_hash] = live
            live.remote.pop(room.id, None)
            live.rooms[room.id] = room
            room.member_back(member_id, announce=True)

    def resumed_first_elsewhere(self, member_id: str, home: str) -> None:
        """A player of rooms adopted here resumed on the live node ``home`` before they were (so
        that node does not know it is in them): it is that node's guest here, and ``home`` is
        told of each room ("in"), which the player is brought up to date in."""
        guest = self._restored_guest(home, member_id, connected=True)  # ("in" says if it is not)
        if guest is None:
            return
        for room_id, room in list(guest.rooms.items()):
            self.bus.post(home, ["in", member_id, room_id])
            room.member_back(member_id, announce=True)

    # -- Redis in trouble ----------------------------------------------------------------------
    def paused(self) -> None:
        """Redis cannot be reached: every client here is told that games wait (moves are held,
        not lost: each goes out once Redis has it)."""
        notice = {"type": "notice", "text": PAUSED, "room": None}
        for session in list(self.hub.sessions.values()):
            if session.greeted:
                session.send(notice)

    def resumed(self) -> None:
        """Redis answers again: clients are told, and what Redis may have lost (a restart without
        its append-only file) is written again: this node's rooms and its players' tokens."""
        notice = {"type": "notice", "text": RESUMED, "room": None}
        for session in list(self.hub.sessions.values()):
            if session.greeted:
                session.send(notice)
            if session.token_hash is not None:
                self.claim_token(session)
        for room in list(self.hub.rooms.values()):
            self.hub.room_changed(room)

    def healed(self) -> None:
        """This node hears the cluster again: messages between nodes may have been lost
        meanwhile, so every member of its match rooms gets the current state again, and the
        owners of its clients' rooms elsewhere are asked for theirs."""
        for room in list(self.hub.rooms.values()):
            for member_id in list(room.member_ids()):
                self._resend(room, member_id)
        for session in [*self.hub.sessions.values(), *self.hub.away.values()]:
            for owner in set(session.remote.values()):
                if owner:
                    self.bus.post(owner, ["resync", session.id])

    @staticmethod
    def _resend(room: Room, member_id: str) -> None:
        send_state_to = getattr(room, "send_state_to", None)
        if send_state_to is not None:
            send_state_to(member_id)

    def _on_resync(self, node: str, item: list[Any]) -> None:
        guest = self.guests.get(item[1])
        if guest is not None:
            for room in list(guest.rooms.values()):
                self._resend(room, guest.id)

    def room_gone(self, room_id: str) -> None:
        """A room of another node is gone without its members being told (its node died, and a
        relay room has nothing to adopt): this node's clients in it are told it closed."""
        for session in [*self.hub.sessions.values(), *self.hub.away.values()]:
            if session.remote.pop(room_id, None) is not None:
                session.send({"type": "room_closed", "room": room_id, "reason": "its server stopped"})

    def home_died(self, node: str) -> None:
        """A node is dead: its clients that are guests here are away, for the reconnect grace
        period (they may resume through another node), then they leave their rooms here."""
        for member_id, guest in list(self.guests.items()):
            if self.homes.get(member_id) != node or guest.link is None:
                continue
            guest.link = None
            for room in list(guest.rooms.values()):
                room.member_away(member_id)
            guest.expiry = self.hub.loop.call_later(
                self.hub.config.reconnect_grace, self._on_gone, node, ["gone", member_id]
            )

    def owner_changed(self, room_id: str, owner: str) -> None:
        """The directory says another node owns a room now (it adopted a dead node's): this
        node's clients in it are that node's guests from now on."""
        for session in [*self.hub.sessions.values(), *self.hub.away.values()]:
            if room_id in session.remote and session.remote[room_id] != owner:
                session.remote[room_id] = owner
                self.bus.post(owner, ["back", session.id, session.link is not None])

    def lost(self, room_id: str) -> None:
        """Another node owns this room now: let it go here (``Hub.lose_room``)."""
        room = self.hub.lose_room(room_id)
        if room is None:
            return
        for member_id, guest in list(self.guests.items()):
            if guest.rooms.pop(room_id, None) is not None and not guest.rooms:
                del self.guests[member_id]
                del self.homes[member_id]

    def _on_gone(self, node: str, item: list[Any]) -> None:
        guest = self.guests.pop(item[1], None)
        if guest is not None:
            if guest.expiry is not None:
                guest.expiry.cancel()
                guest.expiry = None
            del self.homes[guest.id]
            self.hub.forget_rooms(guest)

    # -- the home's side, answered -------------------------------------------------------------
    def _client(self, member_id: str) -> Session | None:
        return self.hub.sessions.get(member_id) or self.hub.away.get(member_id)

    def _on_out(self, node: str, item: list[Any]) -> None:
        out, sessions = item[2], self.hub.sessions  # (an Outgoing: decode_batch made it)
        for member_id in item[1]:
            session = sessions.get(member_id)
            if session is not None and session.link is not None:
                session.link.send(out)

    def _on_in(self, node: str, item: list[Any]) -> None:
        seating = self._seating.get(item[1])
        if seating is not None and not seating.done():
            seating.set_result(True)  # its quick-match is over, whether or not it is still here
        session = self._client(item[1])
        if session is None:  # it left this node meanwhile: the owner must let it go too
            self.bus.post(node, ["gone", item[1]])
            return
        session.remote[item[2]] = node
        self.claim_token(session)  # its rooms elsewhere, for a node that may take it over
        if session.link is None:  # it dropped while its join was on the way: the owner must know
            self.bus.post(node, ["away", session.id])

    def _on_left(self, node: str, item: list[Any]) -> None:
        session = self._client(item[1])
        if session is not None and session.remote.get(item[2]) == node:
            del session.remote[item[2]]
            self.claim_token(session)

    def _on_retry(self, node: str, item: list[Any]) -> None:
        seating = self._seating.get(item[1])
        if seating is not None and not seating.done():
            seating.set_result(False)

    def _on_close(self, node: str, item: list[Any]) -> None:
        session = self.hub.sessions.get(item[1])
        if session is not None and session.link is not None:
            session.link.close()

    # -- stopping ------------------------------------------------------------------------------
    def shutdown(self) -> None:
        """This node stops: its guests' homes hear that they left its rooms."""
        for member_id, guest in list(self.guests.items()):
            home = self.homes[member_id]
            for room_id in guest.rooms:
                self.bus.post(home, ["left", member_id, room_id])
        self.guests.clear()
        self.homes.clear()
        for task in self._tasks:
            task.cancel()
