"""A relay room, without a server: data that cannot be sent on is refused, and reaches nobody."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import pytest

from netplay.games.relaycheck import Checked, RelayCheck
from netplay.protocol import ErrorCode, ProtocolError, codec
from netplay.server.rooms import RelayRoom
from netplay.server.rooms.base import Member


class EncodingHost:
    """Delivers the way the hub does for its first netplay link: encode, then queue."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, bytes]] = []

    def deliver(self, member_ids: Iterable[str], message: dict[str, Any], exclude: str | None = None) -> None:
        payload = None
        for member_id in member_ids:
            if member_id != exclude:
                payload = payload or codec.encode(message)
                self.sent.append((member_id, payload))

    def room_changed(self, room: Any) -> None:
        pass


def deep(levels: int) -> Any:
    value: Any = []
    for _ in range(levels - 1):
        value = [value]
    return value


@pytest.mark.parametrize("data", [{1, 2}, deep(300)], ids=["a set", "300 deep"])
def test_data_that_cannot_be_encoded_is_an_error_and_reaches_nobody(data: Any) -> None:
    host = EncodingHost()
    room = RelayRoom(host, "dots", room_id="r")  # type: ignore[arg-type]
    for name in ("a", "b", "c"):
        room.join(Member(name, name), spectate=False)
    host.sent.clear()
    with pytest.raises(ProtocolError) as refused:
        room.relay("a", data)
    assert refused.value.code is ErrorCode.INVALID_MESSAGE and not refused.value.fatal
    assert host.sent == []
    room.relay("a", deep(63))
    assert [member for member, _ in host.sent] == ["b", "c"]


class Counting(RelayCheck):
    """Counts each sender's messages; refuses a fourth, doubles numbers, breaks on "boom"."""

    label = "dots"

    def setup(self) -> dict[str, int]:
        return {}

    def check(self, state: dict[str, int], sender: str, data: Any) -> Checked:
        if data == "boom":
            raise RuntimeError("a bug in the check")
        sent = state.get(sender, 0) + 1
        after = {**state, sender: sent}
        if sent > 3:
            return Checked.refuse(after, "three messages each")
        return Checked.rewrite(after, data * 2) if isinstance(data, int) else Checked.accept(after)

    def left(self, state: dict[str, int], member: str) -> dict[str, int]:
        return {k: v for k, v in state.items() if k != member}


def checked_room() -> tuple[EncodingHost, RelayRoom]:
    host = EncodingHost()
    room = RelayRoom(host, "dots", room_id="r", check=Counting())  # type: ignore[arg-type]
    for name in ("a", "b"):
        room.join(Member(name, name), spectate=False)
    host.sent.clear()
    return host, room


def test_a_check_passes_on_rewrites_and_refuses_with_its_state() -> None:
    host, room = checked_room()
    room.relay("a", "hi")
    room.relay("a", 21)
    room.relay("b", "yo")
    assert [codec.decode(payload)["data"] for _, payload in host.sent] == ["hi", 42, "yo"]
    room.relay("a", "third")
    with pytest.raises(ProtocolError) as refused:
        room.relay("a", "fourth")
    assert (refused.value.code, refused.value.message) == (ErrorCode.RELAY_REFUSED, "three messages each")
    assert len(host.sent) == 4  # the refused one reached nobody
    room.leave("a")
    assert room.check_state == {"b": 1}


def test_a_check_that_fails_refuses_the_message_and_keeps_its_state(caplog: pytest.LogCaptureFixture) -> None:
    host, room = checked_room()
    room.relay("a", "one")
    with pytest.raises(ProtocolError) as refused:
        room.relay("a", "boom")
    assert refused.value.code is ErrorCode.INTERNAL_ERROR and not refused.value.fatal
    assert room.check_state == {"a": 1} and len(host.sent) == 1
    assert "the relay check of dots failed in room r" in caplog.text
