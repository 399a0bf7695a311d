"""JSON encoding of messages: orjson when installed (it is a dependency), the standard library otherwise."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

try:
    import orjson as _orjson
except ImportError:  # pragma: no cover - exercised only where orjson cannot be installed
    _orjson = None  # type: ignore[assignment]

import json as _json

__all__ = ["DecodeError", "decode", "encode"]


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

    def decode(payload: bytes | str) -> Any:
        """Parse UTF-8 JSON bytes; raise DecodeError and nothing else on bad input."""
        try:
            return _json.loads(payload)
        except LOADS_ERRORS as exc:
            raise DecodeError(str(exc)) from None
