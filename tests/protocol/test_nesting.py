"""The nesting limit, sans I/O: the server's connection refuses messages nested past codec.MAX_DEPTH
with a non-fatal invalid_message, and whatever it accepts can be encoded again inside its replies."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from netplay.protocol import (
    ClientConnection,
    ErrorCode,
    Hello,
    Message,
    Phase,
    Rejected,
    Relay,
    Request,
    ServerConnection,
    codec,
    frame,
)

LIMIT = codec.MAX_DEPTH


def nested(levels: int, inner: Any = None) -> Any:
    """``levels`` arrays and objects, alternating, one inside the other (``inner`` at the bottom)."""
    value: Any = [] if inner is None else [inner]
    for n in range(levels - 1):
        value = {"k": value} if n % 2 else [value]
    return value


def depth(value: Any) -> int:
    """How deep ``value`` nests arrays and objects, said plainly (the reference for the walk)."""
    if isinstance(value, dict):
        return 1 + max(map(depth, value.values()), default=0)
    if isinstance(value, list):
        return 1 + max(map(depth, value), default=0)
    return 0


def wire(message: Any) -> bytes:
    return frame(json.dumps(message).encode())


def greeted() -> ServerConnection:
    conn = ServerConnection(64 * 1024)
    (event,) = conn.receive_data(wire({"type": "hello", "protocol": 1, "name": "Ann"}))
    assert isinstance(event, Hello)
    return conn


def relay(levels_of_data: int, rid: Any = 7) -> dict[str, Any]:
    """A relay whose message nests ``levels_of_data + 1`` deep (the message is a level)."""
    return {"type": "relay", "room": "r", "data": nested(levels_of_data), "id": rid}


def assert_too_deep(event: Any, re: Any) -> None:
    assert isinstance(event, Rejected), event
    assert event.error.code is ErrorCode.INVALID_MESSAGE and not event.error.fatal
    assert event.re == re
    assert event.error.message == f"arrays and objects in the message are nested deeper than {LIMIT} levels"


def test_a_message_at_the_limit_is_accepted_and_one_past_it_refused_over_a_stream() -> None:
    conn = greeted()
    ok, deep, after = conn.receive_data(
        wire(relay(LIMIT - 1)) + wire(relay(LIMIT, rid="deep")) + wire({"type": "ping", "id": 9})
    )
    assert isinstance(ok, Relay) and depth(ok.data) == LIMIT - 1
    assert_too_deep(deep, "deep")
    assert isinstance(after, Request) and conn.phase is Phase.OPEN  # the connection goes on


@pytest.mark.parametrize("as_text", [False, True], ids=["bytes", "text"])
def test_the_same_over_whole_payloads(as_text: bool) -> None:
    conn = greeted()
    for levels, accepted in ((LIMIT - 1, True), (LIMIT, False), (300, False)):
        payload: bytes | str = json.dumps(relay(levels))
        if not as_text:
            payload = payload.encode()
        event = conn.receive_payload(payload)
        if accepted:
            assert isinstance(event, Relay)
        else:
            assert_too_deep(event, 7)
    assert conn.phase is Phase.OPEN


@pytest.mark.parametrize(
    "message",
    [
        {"type": "move", "room": "r", "move": nested(300), "id": 1},
        {"type": "create_room", "game": "g", "options": {"o": nested(LIMIT - 1)}, "id": 1},
        {"type": "no_such_type", "x": nested(LIMIT), "id": 1},  # depth is checked before the table
    ],
    ids=["move", "options", "unknown type"],
)
def test_every_kind_of_message_is_held_to_it(message: dict[str, Any]) -> None:
    (event,) = greeted().receive_data(wire(message))
    assert_too_deep(event, 1)


def test_an_id_the_server_would_not_accept_is_not_echoed() -> None:
    (event,) = greeted().receive_data(wire(relay(LIMIT, rid="x" * 100)))
    assert_too_deep(event, None)


def test_before_hello_it_is_fatal_like_any_other_bad_greeting() -> None:
    conn = ServerConnection(64 * 1024)
    hello = {"type": "hello", "protocol": 1, "name": "Ann", "extra": nested(LIMIT)}
    (event,) = conn.receive_data(wire(hello))
    assert isinstance(event, Rejected) and event.error.fatal and conn.phase is Phase.CLOSED


def test_brackets_are_not_nesting() -> None:
    """Brackets in strings, and many shallow arrays, pass the cheap count and then the walk."""
    conn = greeted()
    for data in ("[{" * 5000, [[] for _ in range(5000)], [{"a": [1]} for _ in range(2000)]):
        (event,) = conn.receive_data(wire({"type": "relay", "room": "r", "data": data}))
        assert isinstance(event, Relay) and event.data == data


def test_a_client_takes_what_the_server_sends() -> None:
    """The server wraps a client's 63 levels in its own (a move inside a state): clients accept more."""
    conn = ClientConnection(64 * 1024)
    message = {"type": "state", "last": {"seat": 0, "move": nested(200)}}
    (event,) = conn.receive_data(wire(message))
    assert isinstance(event, Message) and event.message == message


def test_whatever_is_accepted_can_be_sent_on_inside_many_more_levels() -> None:
    """The point of the limit: orjson encodes 254 levels, so an accepted message has 190 to spare."""
    deepest = nested(LIMIT)
    assert codec.encode(nested(254 - LIMIT, deepest))
    assert not codec.too_deep(codec.encode(deepest), deepest)


def test_short_payloads_cannot_be_too_deep() -> None:
    """Why the receive loop only compares a length for most messages: the shortest too deep."""
    shortest = "[" * (LIMIT + 1) + "]" * (LIMIT + 1)
    assert len(shortest) == codec.SHALLOW_BELOW and codec.too_deep(shortest, json.loads(shortest))


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(alphabet="[]{}ab", max_size=5),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=2), children, max_size=3)
    ),
    max_leaves=20,
)


@given(json_values, st.integers(min_value=0, max_value=2 * LIMIT), st.booleans())
def test_the_walk_agrees_with_the_plain_definition(value: Any, levels: int, wrap_in_object: bool) -> None:
    deep = nested(levels, value) if levels else value
    if wrap_in_object:
        deep = {"a": 1, "b": deep}
    payload = json.dumps(deep)
    assert codec.too_deep(payload, json.loads(payload)) == (depth(deep) > LIMIT)
