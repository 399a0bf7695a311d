"""The JSON log format: one object a line, stable names, the optional fields only where given."""

from __future__ import annotations

import io
import json
import logging

from netplay.server.logs import FIELDS, JsonFormatter


def line(record: logging.LogRecord) -> dict[str, object]:
    text = JsonFormatter().format(record)
    assert "\n" not in text
    return json.loads(text)


def record(message: str, *args: object, level: int = logging.INFO, **extra: object) -> logging.LogRecord:
    logger = logging.getLogger("netplay.rooms")
    made = logger.makeRecord("netplay.rooms", level, __file__, 1, message, args, None)
    for key, value in extra.items():
        setattr(made, key, value)
    return made


def test_a_line_has_the_stable_fields_and_only_the_extras_given() -> None:
    made = record("match %s started in room %s", "m-1", "r-2", event="match_start", room="r-2", match="m-1")
    got = line(made)
    assert got["message"] == "match m-1 started in room r-2"
    assert (got["level"], got["logger"], got["event"], got["room"], got["match"]) == (
        "info", "netplay.rooms", "match_start", "r-2", "m-1",
    )  # fmt: skip
    assert str(got["time"]).endswith("+00:00")
    assert not set(got) & (set(FIELDS) - {"room", "match"})


def test_a_line_without_an_event_is_a_plain_log_line() -> None:
    assert line(record("hello"))["event"] == "log"


def test_a_traceback_is_one_field_of_one_line() -> None:
    try:
        raise ValueError("boom")
    except ValueError:
        import sys

        made = record("failed", level=logging.ERROR)
        made.exc_info = sys.exc_info()
    got = line(made)
    assert "ValueError: boom" in str(got["error"]) and got["level"] == "error"


def test_configure_writes_json_lines_to_stderr(monkeypatch: object) -> None:
    import sys

    from netplay.server import logs

    stream = io.StringIO()
    root = logging.getLogger()
    kept = list(root.handlers), root.level
    monkeypatch.setattr(sys, "stderr", stream)  # type: ignore[attr-defined]
    try:
        logs.configure("INFO", "json")
        logging.getLogger("netplay.server").info("x joined", extra={"event": "connect", "peer": "1.2.3.4"})
    finally:
        root.handlers[:] = kept[0]
        root.setLevel(kept[1])
    got = json.loads(stream.getvalue().splitlines()[-1])
    assert (got["event"], got["peer"], got["message"]) == ("connect", "1.2.3.4", "x joined")


def test_a_hidden_information_games_error_is_logged_without_its_words() -> None:
    from netplay.server.logs import Withheld, loggable, loggable_repr

    cell = "".join(["B", "7"])  # a value at run time: a traceback shows source lines, not values
    try:
        raise KeyError(cell)  # a game's error quoting a hidden cell
    except KeyError as exc:
        error = exc
    assert loggable(error, hidden=False) is error
    quiet = loggable(error, hidden=True)
    assert isinstance(quiet, Withheld) and quiet.__traceback__ is error.__traceback__
    made = record("bot failed", level=logging.ERROR)
    made.exc_info = (type(quiet), quiet, quiet.__traceback__)
    got = line(made)
    assert "B7" not in json.dumps(got), got
    assert "KeyError" in str(got["error"]) and "test_logs.py" in str(got["error"])  # what and where
    assert loggable(None, hidden=True) is None
    assert loggable_repr("KeyError('B7')", hidden=False) == "KeyError('B7')"
    assert loggable_repr("KeyError('B7')", hidden=True).startswith("KeyError (")
    assert "B7" not in loggable_repr("KeyError('B7')", hidden=True)


def test_transport_and_outcome_are_fields() -> None:
    outcome = {"winner": 0, "draw": False, "reason": "forfeit"}
    got = line(record("ended", event="match_end", transport="tcp", outcome=outcome))
    assert got["transport"] == "tcp" and got["outcome"] == outcome


def test_the_protocols_events_keep_secrets_out_of_their_reprs() -> None:
    """A ``%r`` of an event (a log line, a traceback's callback) must not show a token or a move."""
    from netplay.protocol import Hello, Request

    assert "s3cret" not in repr(Hello(1, "Ann", "s3cret", 0))
    assert Hello(1, "Ann", "s3cret", 0) != Hello(1, "Ann", "other", 0)  # still compared
    text = repr(Request({"type": "join_room", "code": "K7QP2MXA"}))
    assert "K7QP2MXA" not in text and "join_room" in text
