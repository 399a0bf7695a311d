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
_MISSING = object()
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
    "list_rooms": {"game": ("string", False), "after": ("integer", False), "limit": ("integer", False)},
    "create_room": {
        "kind": ("string", False),
        "game": ("string", False),
        "private": ("boolean", False),
        "options": ("object", False),
        "max_members": ("integer", False),
        "spectate": ("boolean", False),
        "clock": ("string", False),
    },
    "join_room": {
        "room": ("string", False),
        "code": ("string", False),
        "spectate": ("boolean", False),
    },
    "quick_match": {
        "game": ("string", True),
        "kind": ("string", False),
        "clock": ("string", False),
        "options": ("object", False),
    },
    "leave_room": {"room": ("string", True)},
    "move": {"room": ("string", True), "move": (_ANY, True), "version": ("integer", False)},
    "rematch": {"room": ("string", True)},
    "resign": {"room": ("string", True)},
    "offer_draw": {"room": ("string", True)},
    "decline_draw": {"room": ("string", True)},
    "add_bot": {"room": ("string", True), "bot": ("string", False), "level": ("integer", False)},
    "relay": {"room": ("string", True), "data": (_ANY, True)},
    "input": {
        "room": ("string", True),
        "seq": ("integer", True),
        "tick": ("integer", True),
        "data": (_ANY, True),
    },
    "resync": {"room": ("string", True)},
}

_MAX_NAME = 32
#: Every string field of a request (a game name, a relay room's label, a room id, a code, a clock,
#: a bot) is at most this long and printable: it is listed to others and shown in their terminals.
MAX_STRING: Final = 64


def valid_request_id(rid: Any) -> bool:
    """A request id the server will echo back: a string of at most 64 characters, or an integer."""
    if isinstance(rid, bool):
        return False
    return (isinstance(rid, int) and abs(rid) < 2**53) or (isinstance(rid, str) and len(rid) <= 64)


def _compile(spec: _Spec) -> tuple[tuple[str, tuple[type, ...] | None, bool, str], ...]:
    """A message's fields as (name, accepted Python types or None for any, required, kind name)."""
    return tuple(
        (field, None if kind is _ANY else _JSON_TYPES[kind], required, str(kind))
        for field, (kind, required) in spec.items()
    )


#: The table in the form the validator walks: it is on every message's path.
_COMPILED = {kind: _compile(spec) for kind, spec in CLIENT_MESSAGES.items()}


def validate_client_message(message: Any) -> dict[str, Any]:
    """Return the message if it is a well-formed client request, else raise ProtocolError."""
    if type(message) is not dict:
        raise ProtocolError(ErrorCode.INVALID_MESSAGE, "a message must be a JSON object")
    kind = message.get("type")
    fields = _COMPILED.get(kind) if type(kind) is str else None
    if fields is None:
        if not isinstance(kind, str):
            raise ProtocolError(ErrorCode.INVALID_MESSAGE, "a message needs a string field 'type'")
        raise ProtocolError(ErrorCode.UNKNOWN_TYPE, f"unknown message type {kind[:40]!r}")
    if "id" in message and not valid_request_id(message["id"]):
        raise ProtocolError(
            ErrorCode.INVALID_MESSAGE,
            "'id' must be a string of at most 64 characters, or an integer below 2^53",
        )
    for field, types, required, accepted in fields:
        value = message.get(field, _MISSING)
        if value is _MISSING:
            if required:
                raise ProtocolError(ErrorCode.INVALID_MESSAGE, f"'{kind}' needs the field '{field}'")
            continue
        # bool is an int in Python but not in JSON.
        if types is not None and (
            not isinstance(value, types) or ((value is True or value is False) and bool not in types)
        ):
            article = "an" if accepted[0] in "aeiou" else "a"
            raise ProtocolError(
                ErrorCode.INVALID_MESSAGE, f"field '{field}' of '{kind}' must be {article} {accepted}"
            )
        if accepted == "string" and (len(value) > MAX_STRING or not value.isprintable()):
            raise ProtocolError(
                ErrorCode.INVALID_MESSAGE,
                f"field '{field}' of '{kind}' must be at most {MAX_STRING} printable characters",
            )
    if kind == "hello":
        name = message.get("name")
        if name is not None and not (0 < len(name.strip()) <= _MAX_NAME and name.isprintable()):
            raise ProtocolError(
                ErrorCode.INVALID_MESSAGE, f"'name' must be 1 to {_MAX_NAME} printable characters"
            )
    return message
