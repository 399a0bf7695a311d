"""JSON encoding of messages: orjson when installed (it is a dependency), the standard library otherwise.

Also the nesting limit on what the server accepts (``MAX_DEPTH``). What a client sends goes back
out inside the server's own messages (relayed data, a move in a state, options in a room's
description), and orjson parses 1024 levels of arrays and objects but encodes only 254: a message
the server accepts must be one it can send on, with levels to spare for what it wraps around it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

try:
    import orjson as _orjson
except ImportError:  # pragma: no cover - exercised only where orjson cannot be installed
    _orjson = None  # type: ignore[assignment]

import json as _json

__all__ = ["ENCODE_ERRORS", "MAX_DEPTH", "SHALLOW_BELOW", "DecodeError", "decode", "encode", "too_deep"]

#: How deep a message from a client may nest arrays and objects, the message object itself being
#: level 1: a relay's ``data`` or a ``move`` may nest 63 levels. docs/protocol.md, section 11.
MAX_DEPTH = 64

#: A payload shorter than this cannot nest deeper than ``MAX_DEPTH`` (that takes ``MAX_DEPTH + 1``
#: opening brackets and as many closing ones), so the receive loop's check for almost every
#: message is one comparison of its length.
SHALLOW_BELOW = 2 * (MAX_DEPTH + 1)


class DecodeError(ValueError):
    """The payload is not a UTF-8 JSON document."""


if _orjson is not None:
    _dumps = _orjson.dumps
    _loads = _orjson.loads
    _OrjsonError: type[Exception] = _orjson.JSONDecodeError

    #: Serialise a message to compact UTF-8 JSON bytes (orjson's own function: it is on every
    #: broadcast's path, so no wrapper around it).
    encode: Callable[[Any], bytes] = _dumps

    #: The parser itself and the errors it raises on bad input, for the one loop that calls it
    #: per message (``ServerConnection.receive_data``); everything else uses ``decode``.
    loads: Callable[[bytes | str], Any] = _loads
    LOADS_ERRORS: tuple[type[Exception], ...] = (_OrjsonError, UnicodeDecodeError, TypeError)
    #: What ``encode`` raises for a value it cannot encode (orjson's error is a TypeError).
    ENCODE_ERRORS: tuple[type[Exception], ...] = (_orjson.JSONEncodeError,)

    def decode(payload: bytes | str) -> Any:
        """Parse UTF-8 JSON bytes; raise DecodeError and nothing else on bad input."""
        try:
            return _loads(payload)
        except LOADS_ERRORS as exc:
            raise DecodeError(str(exc)) from None

else:  # pragma: no cover

    def _encode(message: Any) -> bytes:
        """Serialise a message to compact UTF-8 JSON bytes."""
        return _json.dumps(message, separators=(",", ":"), ensure_ascii=False).encode()

    encode = _encode

    loads = _json.loads
    LOADS_ERRORS = (ValueError, UnicodeDecodeError, RecursionError, TypeError)
    ENCODE_ERRORS = (TypeError, ValueError, RecursionError)

    def decode(payload: bytes | str) -> Any:
        """Parse UTF-8 JSON bytes; raise DecodeError and nothing else on bad input."""
        try:
            return _json.loads(payload)
        except LOADS_ERRORS as exc:
            raise DecodeError(str(exc)) from None


def too_deep(payload: bytes | str, value: Any) -> bool:
    """Whether ``value``, decoded from ``payload``, nests arrays and objects deeper than MAX_DEPTH.

    Cheap before exact: a payload with at most ``MAX_DEPTH`` ``[`` and ``{`` (counted in C, those
    inside strings too) cannot be too deep, and only one with more is walked.
    """
    if isinstance(payload, str):
        openers = payload.count("[") + payload.count("{")
    else:
        openers = payload.count(b"[") + payload.count(b"{")
    return openers > MAX_DEPTH and _deeper(value, MAX_DEPTH)


def _deeper(value: Any, levels: int) -> bool:
    """Whether ``value`` is more than ``levels`` arrays and objects deep (a scalar is 0 deep).

    Recursive, but never more than ``levels + 1`` calls deep: it stops at the first array or object
    below the limit, and steps over scalars without a call.
    """
    if type(value) is dict:
        value = value.values()
    elif type(value) is not list:
        return False
    if levels == 0:
        return True
    for item in value:
        if (type(item) is dict or type(item) is list) and _deeper(item, levels - 1):
            return True
    return False
