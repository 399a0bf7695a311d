"""What an operator can do to a running server: close a room, remove a player, send a notice, drain.

The admin API (``server/admin.py``) and ``netplay admin`` call these; they act on the hub the way
its own handlers do, so every player affected is told in the protocol, in words:

- a closed room's members get ``{"type": "room_closed", "room": ID, "reason": TEXT}`` and are out of
  it (a game in progress ends there, recorded with the reason ``closed``, never resumed);
- a removed player gets the fatal error ``kicked`` (with the reason) and is disconnected, its seats
  given up at once (a game in progress is forfeited), however it connects back;
- a notice is ``{"type": "notice", "text": TEXT, "room": ID or null}``;
- while the server drains, no new game starts (``server_draining``); the server stops when the last
  match in progress has ended, or at the deadline (the matches left are kept, to resume after a
  restart). docs/operations.md says how to use it for upgrades.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from .rooms import MatchRoom

if TYPE_CHECKING:
    from .hub import Hub

__all__ = ["close_room", "drain", "drained", "kick", "matches_in_progress", "notice"]

log = logging.getLogger("netplay.server")

DRAIN_NOTICE = "The server is about to restart: finish your game; no new game starts until then."


def matches_in_progress(hub: Hub) -> int:
    return sum(1 for room in hub.rooms.values() if isinstance(room, MatchRoom) and room.status == "playing")


def close_room(hub: Hub, room_id: str, reason: str) -> bool:
    """Close a room, telling its members why; False if there is no such room."""
    room = hub.rooms.get(room_id)
    if room is None:
        return False
    members = list(room.member_ids())
    if isinstance(room, MatchRoom):
        room.abandon()
    hub.deliver(members, {"type": "room_closed", "room": room.id, "reason": reason})
    for member_id in members:
        session = hub.sessions.get(member_id) or hub.away.get(member_id)
        if session is not None:
            session.rooms.pop(room.id, None)
    log.info(
        "room %s closed by the operator: %s", room.id, reason, extra={"event": "room_closed", "room": room.id}
    )
    hub.room_emptied(room)
    return True


def kick(hub: Hub, player_id: str, reason: str) -> bool:
    """Disconnect a player and give up its seats; False if there is no such player."""
    session = hub.sessions.get(player_id) or hub.away.get(player_id)
    if session is None or not session.greeted:
        return False
    log.info(
        "%s (%r) removed by the operator: %s", session.id, session.name, reason,
        extra={"event": "kick", "player": session.id},
    )  # fmt: skip
    hub.remove(session, reason)
    return True


def notice(hub: Hub, text: str, room_id: str | None) -> int | None:
    """Send a notice to every player, or to one room's members; how many got it (None: no room)."""
    message = {"type": "notice", "text": text, "room": room_id}
    if room_id is None:
        targets = [s.id for s in hub.sessions.values() if s.greeted and s.link is not None]
    else:
        room = hub.rooms.get(room_id)
        if room is None:
            return None
        targets = [m for m in room.member_ids() if hub.is_connected(m)]
    hub.deliver(targets, message)
    log.info("notice to %s: %s", room_id or "everyone", text, extra={"event": "notice", "room": room_id})
    return len(targets)


def drain(hub: Hub, deadline: float | None, now: float) -> None:
    """Start no new game from now on; stop once the running ones are over (or ``deadline`` s on)."""
    if not hub.draining:
        hub.draining = True
        notice(hub, DRAIN_NOTICE, None)
    hub.drain_until = None if deadline is None else now + deadline
    log.info(
        "draining: %d matches in progress%s", matches_in_progress(hub),
        "" if deadline is None else f"; stopping in {deadline:g} s at most", extra={"event": "drain"},
    )  # fmt: skip


def drained(hub: Hub, now: float) -> bool:
    """Whether a draining server may stop now: no match in progress, or the deadline has passed."""
    if not hub.draining:
        return False
    if hub.drain_until is not None and now >= hub.drain_until:
        return True
    return matches_in_progress(hub) == 0
