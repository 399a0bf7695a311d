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
