"""``safe_text``: what reaches a terminal from the network shows control characters as escapes."""

from __future__ import annotations

import unicodedata

from hypothesis import given
from hypothesis import strategies as st

from netplay.client.safe_text import safe_text

ATTACK = "\x1b[2J\x1b]0;pwned\x07"


def test_printable_text_is_unchanged() -> None:
    for text in ("Ann", "r-0123456789abcdef  tictactoe", "Zoë 🎲 東京", "C:\\games\\nim", ""):
        assert safe_text(text) == text


def test_an_escape_sequence_is_shown_not_acted_on() -> None:
    assert safe_text(f"lobby{ATTACK}") == "lobby\\x1b[2J\\x1b]0;pwned\\x07"


def test_every_c0_control_del_and_c1_control_is_escaped() -> None:
    controls = [chr(c) for c in (*range(0x20), 0x7F, *range(0x80, 0xA0))]
    for char in controls:
        shown = safe_text(f"a{char}b")
        assert shown.startswith("a\\") and shown.endswith("b") and char not in shown, repr(char)
    assert safe_text("\x9b31m") == "\\x9b31m"  # a single-byte CSI on some terminals
    assert safe_text("\x00\x7f") == "\\x00\\x7f"


def test_newlines_and_tabs_are_escaped_in_one_line_and_kept_in_many() -> None:
    assert safe_text("Bob\nYou win!\t") == "Bob\\nYou win!\\t"
    board = " X | O | 2\n---+---+---\n\t3"
    assert safe_text(board, multiline=True) == board
    assert safe_text(f"a\r{ATTACK}\n", multiline=True) == "a\\r\\x1b[2J\\x1b]0;pwned\\x07\n"


def test_invisible_formatting_and_separators_are_escaped() -> None:
    assert safe_text("abc\u202edcba") == "abc\\u202edcba"  # right-to-left override
    assert safe_text("a\u2028b\u2029c") == "a\\u2028b\\u2029c"  # line and paragraph separators
    assert safe_text("tag\U000e0041") == "tag\\U000e0041"
    assert safe_text("\ud800") == "\\ud800"  # a lone surrogate would not even encode


def test_anything_is_shown_as_its_text() -> None:
    assert safe_text(42) == "42"
    assert safe_text(None) == "None"
    assert safe_text(["\x1b"]) == "['\\x1b']"


@given(st.text())
def test_the_result_is_always_printable_and_stable(text: str) -> None:
    one = safe_text(text)
    assert one.isprintable()
    assert safe_text(one) == one
    many = safe_text(text, multiline=True)
    assert all(c in "\n\t" or c.isprintable() for c in many)
    assert safe_text(many, multiline=True) == many
    for char in text:  # every control or formatting character is gone from what is shown
        if unicodedata.category(char) in ("Cc", "Cf") and char not in "\n\t":
            assert char not in many
