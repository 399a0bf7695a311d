"""A relay room, without a server: data that cannot be sent on is refused, and reaches nobody."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import pytest

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
