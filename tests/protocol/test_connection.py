"""The sans-I/O connection: handshake, validation and error events, fed bytes without any socket."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from netplay.protocol import (
    ClientConnection,
    ErrorCode,
    Hello,
    Message,
    Phase,
    ProtocolError,
    Rejected,
    Relay,
    Request,
    ServerConnection,
    frame,
    validate_client_message,
)
from netplay.protocol.framing import FrameDecoder


def wire(message: Any) -> bytes:
    return frame(json.dumps(message).encode())


def greeted(max_frame: int = 1024) -> ServerConnection:
    conn = ServerConnection(max_frame)
    (event,) = conn.receive_data(wire({"type": "hello", "protocol": 1, "name": "Ann"}))
    assert isinstance(event, Hello)
    return conn


def test_hello_opens_the_connection() -> None:
    conn = ServerConnection(1024)
    assert conn.phase is Phase.AWAITING_HELLO
    (event,) = conn.receive_data(wire({"type": "hello", "protocol": 1, "name": "Ann", "id": 7}))
    assert event == Hello(1, "Ann", None, 7)
    assert conn.phase is Phase.OPEN


def test_unsupported_version_is_fatal_and_names_the_supported_ones() -> None:
    conn = ServerConnection(1024)
    (event,) = conn.receive_data(wire({"type": "hello", "protocol": 99, "id": 1}))
    assert isinstance(event, Rejected)
    assert event.error.code is ErrorCode.UNSUPPORTED_VERSION and event.error.fatal
    message = event.error.to_message(event.re)
    assert message["supported"] == [1] and message["re"] == 1
    assert "99" in message["message"] and "1" in message["message"]
    assert conn.phase is Phase.CLOSED
    assert conn.receive_data(wire({"type": "hello", "protocol": 1})) == []


def test_anything_before_hello_is_fatal() -> None:
    conn = ServerConnection(1024)
    (event,) = conn.receive_data(wire({"type": "list_rooms"}))
    assert isinstance(event, Rejected) and event.error.code is ErrorCode.HANDSHAKE_REQUIRED
    assert event.error.fatal


def test_invalid_json_before_hello_is_fatal() -> None:
    (event,) = ServerConnection(1024).receive_data(frame(b"{nope"))
    assert isinstance(event, Rejected) and event.error.fatal


def test_invalid_json_after_hello_is_not_fatal() -> None:
    conn = greeted()
    events = conn.receive_data(frame(b"{nope") + frame(b"\xff\xfe") + wire({"type": "ping"}))
    assert [type(e) for e in events] == [Rejected, Rejected, Request]
    assert all(e.error.code is ErrorCode.INVALID_JSON for e in events[:2] if isinstance(e, Rejected))
    assert not any(e.error.fatal for e in events if isinstance(e, Rejected))
    assert conn.phase is Phase.OPEN


def test_unknown_type_and_bad_fields_name_the_problem() -> None:
    conn = greeted()
    unknown, missing, wrong, not_object, boolean = conn.receive_data(
        wire({"type": "teleport", "id": 3})
        + wire({"type": "move", "move": 4})
        + wire({"type": "join_room", "room": 5})
        + wire([1, 2])
        + wire({"type": "move", "room": "r", "move": 1, "version": True})
    )
    assert isinstance(unknown, Rejected) and unknown.error.code is ErrorCode.UNKNOWN_TYPE
    assert unknown.re == 3 and "teleport" in unknown.error.message
    assert isinstance(missing, Rejected) and "'room'" in missing.error.message
    assert isinstance(wrong, Rejected) and "must be a string" in wrong.error.message
    assert isinstance(not_object, Rejected) and "JSON object" in not_object.error.message
    assert isinstance(boolean, Rejected) and "'version'" in boolean.error.message
    assert conn.phase is Phase.OPEN


def test_second_hello_is_refused_without_closing() -> None:
    conn = greeted()
    (event,) = conn.receive_data(wire({"type": "hello", "protocol": 1}))
    assert isinstance(event, Rejected) and event.error.code is ErrorCode.ALREADY_GREETED
    assert not event.error.fatal


def test_oversized_frame_closes() -> None:
    conn = greeted(max_frame=64)
    events = conn.receive_data(
        wire({"type": "ping"}) + wire({"type": "relay", "room": "r", "data": "x" * 100})
    )
    assert isinstance(events[0], Request)
    assert isinstance(events[1], Rejected) and events[1].error.code is ErrorCode.FRAME_TOO_LARGE
    assert conn.phase is Phase.CLOSED


def test_oversized_payload_on_a_message_transport_closes() -> None:
    conn = greeted(max_frame=64)
    event = conn.receive_payload(json.dumps({"type": "relay", "room": "r", "data": "x" * 100}))
    assert isinstance(event, Rejected) and event.error.code is ErrorCode.FRAME_TOO_LARGE


def test_a_client_and_a_server_talk_in_memory() -> None:
    """Wire both ends together with no socket: hello, welcome, a request and its reply."""
    client, server = ClientConnection(1024), ServerConnection(1024)
    (hello,) = server.receive_data(client.hello(name="Bo"))
    assert isinstance(hello, Hello) and hello.name == "Bo"
    (welcome,) = client.receive_data(server.send({"type": "welcome", "id": "p-1"}))
    assert isinstance(welcome, Message) and client.phase is Phase.OPEN
    (request,) = server.receive_data(client.send({"type": "list_games", "id": 2}))
    assert isinstance(request, Request) and request.message["id"] == 2
    (fatal,) = client.receive_data(server.send({"type": "error", "code": "x", "message": "m", "fatal": True}))
    assert isinstance(fatal, Message) and client.phase is Phase.CLOSED


@settings(max_examples=300)
@given(st.lists(st.binary(max_size=80), max_size=12))
def test_random_bytes_only_ever_produce_events(chunks: list[bytes]) -> None:
    """The decoder never raises anything: garbage becomes Rejected events."""
    for conn in (ServerConnection(64), greeted(64)):
        for chunk in chunks:
            for event in conn.receive_data(chunk):
                assert isinstance(event, Hello | Request | Relay | Rejected)


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=10),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)


@settings(max_examples=300)
@given(
    st.dictionaries(
        st.sampled_from(
            ["type", "id", "room", "move", "version", "game", "code", "data", "protocol", "name"]
        ),
        json_values | st.sampled_from(["move", "relay", "hello", "join_room", "quick_match"]),
    )
)
def test_random_json_objects_are_requests_or_precise_rejections(message: dict[str, Any]) -> None:
    event = greeted(1 << 20).receive_payload(json.dumps(message))
    if isinstance(event, Rejected):
        assert event.error.code in {
            ErrorCode.INVALID_MESSAGE,
            ErrorCode.UNKNOWN_TYPE,
            ErrorCode.ALREADY_GREETED,
        }
        assert event.error.message
    else:
        assert isinstance(event, Relay) or (
            isinstance(event, Request) and isinstance(event.message["type"], str)
        )


def test_frame_helper_matches_the_decoder() -> None:
    conn = ServerConnection(1024)
    data = conn.send({"type": "pong"})
    assert FrameDecoder(1024).feed(data) == [b'{"type":"pong"}']


relay_like = st.fixed_dictionaries(
    {"type": st.just("relay")},
    optional={
        "room": json_values | st.text(max_size=12),
        "data": json_values,
        "id": json_values | st.integers() | st.text(max_size=70),
        "extra": json_values,
    },
)


@settings(max_examples=500)
@given(relay_like)
def test_the_relay_fast_path_agrees_with_the_message_table(message: dict[str, Any]) -> None:
    """A relay becomes a Relay event exactly when the table accepts it; the rest get its precise error."""
    event = greeted(1 << 20).receive_payload(json.dumps(message))
    refusal: ProtocolError | None = None
    try:
        validate_client_message(message)
    except ProtocolError as error:
        refusal = error
    if refusal is not None:
        assert isinstance(event, Rejected) and event.error.code == refusal.code
        assert event.error.message == refusal.message
        return
    assert isinstance(event, Relay)
    assert (event.room, event.data, event.id) == (message["room"], message["data"], message.get("id"))


def test_a_relay_before_hello_is_not_a_relay() -> None:
    (event,) = ServerConnection(1024).receive_data(wire({"type": "relay", "room": "r", "data": 1}))
    assert isinstance(event, Rejected) and event.error.code is ErrorCode.HANDSHAKE_REQUIRED


def test_relays_in_a_row_to_one_room_are_one_run_in_order() -> None:
    """Consecutive relays of exactly type/room/data become one RelayRun; anything else ends it."""
    from netplay.protocol import RelayRun

    conn = greeted(1 << 20)
    sent = [{"type": "relay", "room": "r", "data": i} for i in range(5)]
    chunk = b"".join(wire(m) for m in sent)
    chunk += wire({"type": "relay", "room": "r", "data": 5, "id": 1})  # an id: on its own
    chunk += wire({"type": "relay", "room": "s", "data": 6}) + wire({"type": "relay", "room": "r", "data": 7})
    run, with_id, other_room, last = conn.receive_data(chunk)
    assert isinstance(run, RelayRun) and run.room == "r" and run.data == [0, 1, 2, 3, 4]
    assert [json.loads(p) for p in run.payloads] == sent
    assert isinstance(with_id, Relay) and with_id.id == 1
    assert isinstance(other_room, Relay) and other_room.room == "s"
    assert isinstance(last, Relay) and last.data == 7


def test_a_duplicate_key_cannot_join_a_run_under_another_room_or_type() -> None:
    """JSON keeps the last of duplicate keys: the run is decided by the decoded message, not the bytes."""
    from netplay.protocol import RelayRun

    conn = greeted(1 << 20)
    first = wire({"type": "relay", "room": "r", "data": 0})
    sneaky = b'{"type":"relay","room":"r","data":1,"room":"x"}'
    spoof = b'{"type":"relay","room":"r","data":2,"type":"welcome"}'
    events = conn.receive_data(first + frame(sneaky) + frame(spoof))
    assert not any(isinstance(e, RelayRun) for e in events)
    assert isinstance(events[1], Relay) and events[1].room == "x"
    assert isinstance(events[2], Rejected)
