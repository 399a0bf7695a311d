"""A relay room forwards every message a member sends to every other member, tagged with the sender."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

from ...games.relaycheck import RelayCheck
from ...protocol import ErrorCode, ProtocolError, codec
from ...protocol.outgoing import OutgoingRun
from .base import Member, Room, RoomHost, member_json

log = logging.getLogger("netplay.rooms")

__all__ = ["RelayRoom"]


class RelayRoom(Room):
    """Members by id, a member cap, and the relay: no rules, and no state but its check's (if any)."""

    kind = "relay"

    def __init__(
        self,
        host: RoomHost,
        label: str,
        *,
        room_id: str,
        code: str | None = None,
        max_members: int = 64,
        check: RelayCheck | None = None,
    ) -> None:
        super().__init__(host, label, room_id=room_id, code=code)
        self.members: dict[str, Member] = {}
        self.max_members = max_members
        #: The pure check every message passes first (``games/relaycheck.py``), and its state.
        self.check = check
        self.check_state = None if check is None else check.setup()
        #: Each member's ``_heads``, made on its first run (dropped when it leaves).
        self._relay_heads: dict[str, tuple[bytes, bytes]] = {}

    def is_open(self) -> bool:
        return len(self.members) < self.max_members

    def member_ids(self) -> Iterator[str]:
        return iter(self.members)

    def has_member(self, member_id: str) -> bool:
        return member_id in self.members

    def info(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "kind": self.kind,
            "game": self.game,
            "private": self.private,
            "members": [member_json(m, "member") for m in self.members.values()],
            "max_members": self.max_members,
        }

    def join(self, member: Member, *, spectate: bool) -> dict[str, Any]:
        if len(self.members) >= self.max_members:
            raise ProtocolError(ErrorCode.ROOM_FULL, f"the room is full ({self.max_members} members)")
        self.broadcast({"type": "member_joined", "room": self.id, "member": member_json(member, "member")})
        self.members[member.id] = member
        self.host.room_changed(self)
        return self.joined(member.id)

    def leave(self, member_id: str) -> None:
        member = self.members.pop(member_id, None)
        if member is None:
            return
        self._relay_heads.pop(member_id, None)
        if self.check is not None:
            try:
                self.check_state = self.check.left(self.check_state, member_id)
            except Exception:  # the member is gone all the same; the check keeps its state
                log.exception(
                    "the relay check of %s failed in room %s", self.game, self.id,
                    extra={"event": "game_error", "room": self.id, "game": self.game},
                )  # fmt: skip
        self.broadcast({"type": "member_left", "room": self.id, "member": member_json(member, "member")})
        self.host.room_changed(self)
        self._check_empty()

    def member(self, member_id: str) -> dict[str, Any]:
        return member_json(self.members[member_id], "member")

    def relay(self, sender_id: str, data: Any) -> None:
        """Forward ``data`` to every other member: one message, encoded at most once.

        Data that cannot be encoded is refused with ``invalid_message`` and reaches nobody (the first
        recipient's link encodes it, before any link has queued it). Data from the network always
        can be: the connection refuses nesting past ``codec.MAX_DEPTH``, which a relay keeps.
        With a check, the check decides first: refused (``relay_refused``, the check's reason, to
        the sender only), rewritten, or passed on as it is.
        """
        check = self.check
        if check is not None:
            state = self.check_state
            result = self._checked(lambda: check.check(state, sender_id, data))
            self.check_state = result.state
            if result.refused is not None:
                raise ProtocolError(ErrorCode.RELAY_REFUSED, result.refused[:200])
            if result.rewritten:
                data = result.data
        try:
            self.host.deliver(
                self.members, {"type": "relay", "room": self.id, "from": sender_id, "data": data}, sender_id
            )
        except codec.ENCODE_ERRORS as exc:
            raise ProtocolError(
                ErrorCode.INVALID_MESSAGE, f"relay data cannot be sent as JSON ({exc})"
            ) from None

    def relay_run(self, sender_id: str, data: list[Any], payloads: list[bytes]) -> list[ProtocolError]:
        """``relay`` each of ``data`` in order (a ``RelayRun``); the errors for the sender, one per
        message refused.

        Without a check, the messages go to each recipient in one call, their payloads made from
        the ones received: ``{"type":"relay","room":R,"data":D}`` becomes
        ``{"type":"relay","room":R,"from":S,"data":D}`` with D's bytes as they came (valid JSON,
        checked by the connection), and only a payload written otherwise is encoded again. With a
        check, one by one, as ``relay``.
        """
        if self.check is not None:
            errors = []
            for one in data:
                try:
                    self.relay(sender_id, one)
                except ProtocolError as error:
                    errors.append(error)
            return errors
        head, from_head = self._heads(sender_id)
        cut = len(head)
        room = self.id
        try:
            out = [
                from_head + payload[cut:]
                if payload.startswith(head)
                else codec.encode({"type": "relay", "room": room, "from": sender_id, "data": one})
                for payload, one in zip(payloads, data, strict=True)
            ]
        except codec.ENCODE_ERRORS as exc:
            refusal = ProtocolError(ErrorCode.INVALID_MESSAGE, f"relay data cannot be sent as JSON ({exc})")
            return [refusal] * len(data)
        self.host.deliver_run(self.members, OutgoingRun.of_payloads(out), sender_id)
        return []

    def _heads(self, sender_id: str) -> tuple[bytes, bytes]:
        """How a relay to this room begins as clients encode it, and as it goes out from ``sender_id``."""
        heads = self._relay_heads.get(sender_id)
        if heads is None:
            room = codec.encode(self.id)
            head = b'{"type":"relay","room":' + room + b',"data":'
            from_head = (
                b'{"type":"relay","room":' + room + b',"from":' + codec.encode(sender_id) + b',"data":'
            )
            heads = self._relay_heads[sender_id] = (head, from_head)
        return heads

    def _checked(self, run: Any) -> Any:
        """Run the check; a check that fails refuses the message and keeps its state (logged)."""
        try:
            return run()
        except Exception:
            log.exception(
                "the relay check of %s failed in room %s", self.game, self.id,
                extra={"event": "game_error", "room": self.id, "game": self.game},
            )  # fmt: skip
            raise ProtocolError(ErrorCode.INTERNAL_ERROR, "the room's check failed on that message") from None
