"""The server's log lines for people (text) or for log collectors (``--log-format json``).

A JSON line is one object with stable field names, so that a collector can filter without parsing
sentences: ``time`` (UTC, ISO 8601), ``level``, ``logger``, ``event`` (what happened, a short name
such as ``connect``, ``match_start``; ``log`` for a line that names none), ``message`` (the sentence
the text format prints), and, where they apply, ``room``, ``match``, ``player`` (a player id),
``peer`` (an address), ``game``, ``code`` (a protocol error code), ``reason`` and ``error`` (a
traceback). The server's code passes them with ``extra={...}``; it never passes a session token,
a private room's code or a hidden-information game's moves.
"""

from __future__ import annotations

import logging
import sys
from datetime import UTC, datetime
from typing import Any, Literal

import orjson

__all__ = ["FIELDS", "TEXT_FORMAT", "JsonFormatter", "configure"]

#: The optional fields a line may carry, in the order they are written.
FIELDS = ("room", "match", "player", "peer", "game", "code", "reason", "seats", "connections")
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


class JsonFormatter(logging.Formatter):
    """One JSON object per record."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "event": getattr(record, "event", "log"),
            "message": record.getMessage(),
        }
        for field in FIELDS:
            value = getattr(record, field, None)
            if value is not None:
                line[field] = value
        if record.exc_info:
            line["error"] = self.formatException(record.exc_info)
        return orjson.dumps(line, default=str).decode()


def configure(level: str | int = "INFO", log_format: Literal["text", "json"] = "text") -> None:
    """Send the server's log to stderr, as text for people or as JSON lines."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if log_format == "json" else logging.Formatter(TEXT_FORMAT))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
