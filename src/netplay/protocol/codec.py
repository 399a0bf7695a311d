"""JSON encoding of messages: orjson when installed (it is a dependency), the standard library otherwise."""

from __future__ import annotations

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

    def encode(message: Any) -> bytes:
        """Serialise a message to compact UTF-8 JSON bytes."""
        return _dumps(message)

    def decode(payload: bytes | str) -> Any:
        """Parse UTF-8 JSON bytes; raise DecodeError and nothing else on bad input."""
        try:
            return _loads(payload)
        except (_OrjsonError, UnicodeDecodeError, TypeError) as exc:
            raise DecodeError(str(exc)) from None

else:  # pragma: no cover

    def encode(message: Any) -> bytes:
        """Serialise a message to compact UTF-8 JSON bytes."""
        return _json.dumps(message, separators=(",", ":"), ensure_ascii=False).encode()

    def decode(payload: bytes | str) -> Any:
        """Parse UTF-8 JSON bytes; raise DecodeError and nothing else on bad input."""
        try:
            return _json.loads(payload)
        except (ValueError, UnicodeDecodeError, RecursionError) as exc:
            raise DecodeError(str(exc)) from None
