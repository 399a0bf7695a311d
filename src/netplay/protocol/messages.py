"""The messages a client may send, as a table: the type, then each field's accepted JSON types.

Validation happens here, once, so the server only ever sees well-formed requests. The table is the
source of truth that docs/protocol.md describes.
"""

from __future__ import annotations

from typing import Any, Final

from .errors import ErrorCode, ProtocolError

__all__ = ["CLIENT_MESSAGES", "PROTOCOL_VERSIONS", "valid_request_id", "validate_client_message"]

#: Protocol versions this implementation speaks, newest last.
PROTOCOL_VERSIONS: Final = (1,)

_ANY = object()
_JSON_TYPES: dict[object, tuple[type, ...]] = {
    "string": (str,),
    "integer": (int,),
    "boolean": (bool,),
    "object": (dict,),
    "list": (list,),
}

# field name -> (accepted kind, required?)
_Spec = dict[str, tuple[object, bool]]

CLIENT_MESSAGES: Final[dict[str, _Spec]] = {
    "hello": {"protocol": ("integer", True), "name": ("string", False), "token": ("string", False)},
    "bye": {},
    "ping": {},
    "pong": {},
    "list_games": {},
    "list_rooms": {"game": ("string", False)},
    "create_room": {
        "kind": ("string", False),
        "game": ("string", False),
        "private": ("boolean", False),
        "options": ("object", False),
        "max_members": ("integer", False),
        "spectate": ("boolean", False),
    },
    "join_room": {
        "room": ("string", False),
        "code": ("string", False),
        "spectate": ("boolean", False),
    },
    "quick_match": {"game": ("string", True), "kind": ("string", False)},
    "leave_room": {"room": ("string", True)},
    "move": {"room": ("string", True), "move": (_ANY, True), "version": ("integer", False)},
    "rematch": {"room": ("string", True)},
    "add_bot": {"room": ("string", True), "bot": ("string", False)},
    "relay": {"room": ("string", True), "data": (_ANY, True)},
}

_MAX_NAME = 32


def valid_request_id(rid: Any) -> bool:
    """A request id the server will echo back: a string of at most 64 characters, or an integer."""
    if isinstance(rid, bool):
        return False
    return (isinstance(rid, int) and abs(rid) < 2**53) or (isinstance(rid, str) and len(rid) <= 64)


def validate_client_message(message: Any) -> dict[str, Any]:
    """Return the message if it is a well-formed client request, else raise ProtocolError."""
    if not isinstance(message, dict):
        raise ProtocolError(ErrorCode.INVALID_MESSAGE, "a message must be a JSON object")
    kind = message.get("type")
    if not isinstance(kind, str):
        raise ProtocolError(ErrorCode.INVALID_MESSAGE, "a message needs a string field 'type'")
    spec = CLIENT_MESSAGES.get(kind)
    if spec is None:
        raise ProtocolError(ErrorCode.UNKNOWN_TYPE, f"unknown message type {kind[:40]!r}")
    if "id" in message and not valid_request_id(message["id"]):
        raise ProtocolError(ErrorCode.INVALID_MESSAGE, "'id' must be a string or an integer")
    for field, (accepted, required) in spec.items():
        if field not in message:
            if required:
                raise ProtocolError(ErrorCode.INVALID_MESSAGE, f"'{kind}' needs the field '{field}'")
            continue
        if accepted is _ANY:
            continue
        value = message[field]
        types = _JSON_TYPES[accepted]
        # bool is an int in Python but not in JSON.
        if not isinstance(value, types) or (accepted == "integer" and isinstance(value, bool)):
            article = "an" if str(accepted)[0] in "aeiou" else "a"
            raise ProtocolError(
                ErrorCode.INVALID_MESSAGE, f"field '{field}' of '{kind}' must be {article} {accepted}"
            )
    name = message.get("name")
    if kind == "hello" and name is not None and not 0 < len(name.strip()) <= _MAX_NAME:
        raise ProtocolError(ErrorCode.INVALID_MESSAGE, f"'name' must be 1 to {_MAX_NAME} characters")
    return message
