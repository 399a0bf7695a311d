"""Per-connection protocol state, sans I/O: bytes or payloads in, events out, bytes to send back.

A ``ServerConnection`` walks AWAITING_HELLO -> OPEN -> CLOSED:

    AWAITING_HELLO  hello, supported version  -> OPEN        (event Hello)
    AWAITING_HELLO  hello, other version      -> CLOSED      (Rejected unsupported_version, fatal)
    AWAITING_HELLO  anything else             -> CLOSED      (Rejected handshake_required, fatal)
    OPEN            valid request             -> OPEN        (event Request)
    OPEN            invalid JSON / message    -> OPEN        (Rejected, not fatal: framing is intact)
    OPEN            nested past MAX_DEPTH     -> OPEN        (Rejected invalid_message, not fatal)
    any             broken framing            -> CLOSED      (Rejected, fatal: the stream is lost)

It never touches a socket, a clock or an event loop; the transport feeds it and acts on the events.
Stream transports (TCP) call ``receive_data``; message transports (WebSocket) ``receive_payload``.
Only the server refuses deep nesting: a client takes what the server sends, which wraps a client's
63 levels in a few of its own.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from . import codec
from .errors import ErrorCode, ProtocolError
from .framing import FrameDecoder, FrameError, frame
from .messages import MAX_STRING, PROTOCOL_VERSIONS, valid_request_id, validate_client_message

__all__ = [
    "ClientConnection",
    "Event",
    "Hello",
    "Message",
    "Phase",
    "Rejected",
    "Relay",
    "RelayRun",
    "Request",
    "ServerConnection",
]

DEFAULT_MAX_FRAME = 64 * 1024


class Phase(Enum):
    AWAITING_HELLO = "awaiting_hello"
    OPEN = "open"
    CLOSED = "closed"


@dataclass(slots=True)
class Hello:
    """A client greeted the server with a protocol version it speaks."""

    version: int
    name: str | None
    #: A session token is a secret: never in a repr, so never in a log line or a traceback.
    token: str | None = field(repr=False)
    id: Any


@dataclass(slots=True)
class Request:
    """A well-formed request from an open client (already checked against the message table)."""

    message: dict[str, Any]

    def __repr__(self) -> str:
        # Only the type: a request may carry a private room's code or a hidden-information move.
        return f"Request(type={self.message.get('type')!r})"


@dataclass(slots=True)
class Relay:
    """A well-formed ``relay`` request from an open client: the hottest message, given its own event.

    It is exactly what the message table accepts for ``relay`` (``room`` a string, ``data`` present,
    ``id`` valid if given); anything else about a relay goes the general way, as a Request or a
    Rejected with the precise error. tests/protocol checks the two never disagree.
    """

    room: str
    data: Any
    id: Any


@dataclass(slots=True)
class RelayRun:
    """Relays one after another in one read, to the same room, each of exactly the keys ``type``,
    ``room`` and ``data`` (so without ids): handled as one.

    A busy client's read holds several (``ServerConnection.receive_data`` gathers them), and the
    server passes them on together: one call per recipient instead of one per message, the same
    messages in the same order. ``data[i]`` is the i-th relay's, as a ``Relay`` would carry it, and
    ``payloads[i]`` its payload as received (valid JSON, within the nesting limit): a relay room
    passes most of those bytes on as they are instead of encoding ``data`` again.
    """

    room: str
    data: list[Any]
    payloads: list[bytes] = field(repr=False)


@dataclass(slots=True)
class Message:
    """A message from the server, seen by a client."""

    message: dict[str, Any]


@dataclass(slots=True)
class Rejected:
    """Input the peer should be told about; ``error.fatal`` means the connection must close."""

    error: ProtocolError
    re: Any = None


Event = Hello | Request | Relay | RelayRun | Message | Rejected


class _Base:
    __slots__ = ("_decoder", "max_frame_size", "phase")

    #: Payloads this long or longer may nest too deep and are checked (``codec.too_deep``); the
    #: client's "never" makes that one comparison always false.
    _check_depth_from = sys.maxsize

    def __init__(self, max_frame_size: int) -> None:
        self.max_frame_size = max_frame_size
        self._decoder = FrameDecoder(max_frame_size)
        self.phase = Phase.AWAITING_HELLO

    def receive_data(self, data: bytes) -> list[Event]:
        """Feed bytes from a stream transport; return the events they complete (relays in a row to
        one room, without ids, as one ``RelayRun``)."""
        if self.phase is Phase.CLOSED:
            return []
        events: list[Event] = []
        handle = self._handle
        loads, errors = codec.loads, codec.LOADS_ERRORS
        check_depth_from = self._check_depth_from
        run_room: str | None = None  # the room of the last event, if it is a relay that may start a run
        run_start = b""  # (and its payload)
        for item in self._decoder.feed(data):
            # The hot path: every message of every TCP client comes through here.
            if type(item) is bytes:  # the decoder already enforced the size limit
                try:
                    message = loads(item)
                except errors:
                    events.append(
                        self._reject(ProtocolError(ErrorCode.INVALID_JSON, "payload is not UTF-8 JSON"))
                    )
                    run_room = None
                    continue
                if len(item) >= check_depth_from and codec.too_deep(item, message):
                    events.append(self._too_deep(message))
                    run_room = None
                    continue
                if (  # the next of a run: a relay of the three keys, to the room of the one before
                    run_room is not None
                    and type(message) is dict
                    and len(message) == 3
                    and message.get("room") == run_room  # (already checked: a valid room)
                    and message.get("type") == "relay"
                    and "data" in message
                ):
                    run = events[-1]
                    if type(run) is Relay:
                        run = events[-1] = RelayRun(run_room, [run.data], [run_start])
                    run.data.append(message["data"])  # type: ignore[union-attr]
                    run.payloads.append(item)  # type: ignore[union-attr]
                    continue
                event = handle(message)
                events.append(event)
                if type(event) is Relay and len(message) == 3:  # (so: without id) it may start a run
                    run_room, run_start = event.room, item
                else:
                    run_room = None
                if self.phase is Phase.CLOSED:  # type: ignore[comparison-overlap]  # handle() may close
                    break
                continue
            assert isinstance(item, FrameError)
            code = ErrorCode.FRAME_TOO_LARGE if item.size > self.max_frame_size else ErrorCode.INVALID_FRAME
            self.phase = Phase.CLOSED
            events.append(Rejected(ProtocolError(code, item.reason, fatal=True)))
            break
        return events

    def receive_payload(self, payload: bytes | str) -> Event:
        """Handle one whole payload (from a message transport, or unframed from a stream)."""
        if len(payload) > self.max_frame_size:
            self.phase = Phase.CLOSED
            return Rejected(
                ProtocolError(
                    ErrorCode.FRAME_TOO_LARGE,
                    f"message of {len(payload)} bytes exceeds the limit of {self.max_frame_size}",
                    fatal=True,
                )
            )
        try:
            message = codec.decode(payload)
        except codec.DecodeError:
            return self._reject(ProtocolError(ErrorCode.INVALID_JSON, "payload is not UTF-8 JSON"))
        if len(payload) >= self._check_depth_from and codec.too_deep(payload, message):
            return self._too_deep(message)
        return self._handle(message)

    def _reject(self, error: ProtocolError, re: Any = None) -> Rejected:
        if error.fatal:
            self.phase = Phase.CLOSED
        return Rejected(error, re)

    def _too_deep(self, message: Any) -> Rejected:
        """Refuse a message nested past ``codec.MAX_DEPTH``: it could not be sent on (module doc)."""
        return self._reject(
            ProtocolError(
                ErrorCode.INVALID_MESSAGE,
                f"arrays and objects in the message are nested deeper than {codec.MAX_DEPTH} levels",
            ),
            _request_id(message),
        )

    def _handle(self, message: Any) -> Event:  # pragma: no cover - overridden
        raise NotImplementedError

    def send(self, message: dict[str, Any]) -> bytes:
        """Encode and frame a message for a stream transport."""
        return frame(codec.encode(message))

    def close(self) -> None:
        """Mark the connection closed; later input is ignored."""
        self.phase = Phase.CLOSED


class ServerConnection(_Base):
    """The server's view of one client connection."""

    __slots__ = ()
    _check_depth_from = codec.SHALLOW_BELOW

    def _reject(self, error: ProtocolError, re: Any = None) -> Rejected:
        if self.phase is Phase.AWAITING_HELLO:
            error.fatal = True  # a peer that cannot even greet us is not speaking netplay
        return super()._reject(error, re)

    def _handle(self, message: Any) -> Event:
        if type(message) is dict and message.get("type") == "relay" and self.phase is Phase.OPEN:
            room = message.get("room")
            # the table's rule for every string field (MAX_STRING printable characters), inline
            if type(room) is str and "data" in message and len(room) <= MAX_STRING and room.isprintable():
                rid = message.get("id")
                if (rid is None and "id" not in message) or valid_request_id(rid):
                    return Relay(room, message["data"], rid)
        try:
            validate_client_message(message)
        except ProtocolError as error:
            return self._reject(error, _request_id(message))
        kind = message["type"]
        if self.phase is Phase.OPEN:
            if kind == "hello":
                return self._reject(
                    ProtocolError(ErrorCode.ALREADY_GREETED, "already greeted"), message.get("id")
                )
            return Request(message)
        re = message.get("id")
        if kind != "hello":
            return self._reject(
                ProtocolError(ErrorCode.HANDSHAKE_REQUIRED, "the first message must be 'hello'", fatal=True),
                re,
            )
        version = message["protocol"]
        if version not in PROTOCOL_VERSIONS:
            return self._reject(
                ProtocolError(
                    ErrorCode.UNSUPPORTED_VERSION,
                    f"protocol version {version} is not supported; this server speaks "
                    + ", ".join(map(str, PROTOCOL_VERSIONS)),
                    fatal=True,
                    supported=list(PROTOCOL_VERSIONS),
                ),
                re,
            )
        self.phase = Phase.OPEN
        return Hello(version, message.get("name"), message.get("token"), re)


def _request_id(message: Any) -> Any:
    """The id to echo in an error about ``message``: only one the server would accept."""
    re = message.get("id") if isinstance(message, dict) else None
    return re if valid_request_id(re) else None


class ClientConnection(_Base):
    """A client's view of its connection to a server."""

    __slots__ = ()

    def hello(self, name: str | None = None, token: str | None = None) -> bytes:
        """The bytes of the opening handshake."""
        message: dict[str, Any] = {"type": "hello", "protocol": PROTOCOL_VERSIONS[-1]}
        if name is not None:
            message["name"] = name
        if token is not None:
            message["token"] = token
        return self.send(message)

    def _handle(self, message: Any) -> Event:
        if not isinstance(message, dict) or not isinstance(message.get("type"), str):
            return self._reject(
                ProtocolError(ErrorCode.INVALID_MESSAGE, "server sent a message without a type")
            )
        if message["type"] == "welcome":
            self.phase = Phase.OPEN
        elif message["type"] == "error" and message.get("fatal"):
            self.phase = Phase.CLOSED
        return Message(message)
