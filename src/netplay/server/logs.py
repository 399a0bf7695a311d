"""The server's log lines for people (text) or for log collectors (``--log-format json``).

A JSON line is one object with stable field names, so that a collector can filter without parsing
sentences: ``time`` (UTC, ISO 8601), ``level``, ``logger``, ``event`` (what happened, a short name
such as ``connect``, ``match_start``; ``log`` for a line that names none), ``message`` (the sentence
the text format prints), and, where they apply, ``room``, ``match``, ``player`` (a player id),
``peer`` (an address), ``transport`` ("tcp", "websocket", "text"), ``game``, ``code`` (a protocol
error code), ``reason``, ``outcome`` (a finished match's result, as ``game_over`` has it) and
``error`` (a traceback). The server's code passes them with ``extra={...}``; it never passes a
session token, a private room's code or a hidden-information game's moves. docs/operations.md §7
lists the events.
"""

from __future__ import annotations

import logging
import sys
from datetime import UTC, datetime
from typing import Any, Literal

import orjson

__all__ = ["FIELDS", "TEXT_FORMAT", "JsonFormatter", "Withheld", "configure", "loggable", "loggable_repr"]

#: The optional fields a line may carry, in the order they are written.
FIELDS = (
    "room", "match", "player", "peer", "transport", "game",
    "code", "reason", "outcome", "seats", "connections",
)  # fmt: skip
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


class Withheld(Exception):
    """Logged in place of an exception whose words may show a hidden-information game's secrets (a
    hand, a fleet, a choice not yet revealed): its type and where it was raised, not its message."""


def loggable(error: BaseException | None, *, hidden: bool) -> BaseException | None:
    """What to log (``exc_info=``) for ``error`` raised in a game's rules, a bot or a replay: the
    error itself, or for a game with hidden information (``hidden``) a ``Withheld`` with its traceback."""
    if error is None or not hidden:
        return error
    return Withheld(f"{type(error).__name__} (its words are not logged: hidden information)").with_traceback(
        error.__traceback__
    )


def loggable_repr(words: str, *, hidden: bool) -> str:
    """An exception's ``repr`` for a log line: as it is, or only its type for a game with hidden
    information (``KeyError('B7')`` becomes ``KeyError``)."""
    return words.partition("(")[0] + " (its words are not logged: hidden information)" if hidden else words


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
