"""Text from the network made safe for a terminal: control characters become visible escapes.

Room labels, player names, error messages and a game's rendering of a state all reach a terminal
from other people's input. Written raw, an escape sequence in them could clear the screen, retitle
the window or forge output; ``safe_text`` shows each such character as a visible escape instead.
"""

from __future__ import annotations

__all__ = ["safe_text"]

#: Characters kept as they are in multi-line text (a board drawn over several lines).
_LAYOUT = frozenset("\n\t")
#: Code points whose result is remembered: enough for any alphabet, bounded whatever arrives.
_CACHE_LIMIT = 4096


#: The escapes people know by name.
_NAMED = {0x09: "\\t", 0x0A: "\\n", 0x0D: "\\r"}


def _escape(code: int) -> str:
    """A visible escape in Python's spelling: ``\\n``, ``\\x1b``, ``\\u202e``, ``\\U000e0001``."""
    if code in _NAMED:
        return _NAMED[code]
    if code < 0x100:
        return f"\\x{code:02x}"
    if code < 0x10000:
        return f"\\u{code:04x}"
    return f"\\U{code:08x}"


class _Table(dict[int, str]):
    """A ``str.translate`` table that works out each code point's replacement the first time."""

    def __init__(self, keep: frozenset[str]) -> None:
        super().__init__()
        self._keep = keep

    def __missing__(self, code: int) -> str:
        char = chr(code)
        shown = char if char.isprintable() or char in self._keep else _escape(code)
        if len(self) < _CACHE_LIMIT:
            self[code] = shown
        return shown


_ONE_LINE = _Table(frozenset())
_MULTI_LINE = _Table(_LAYOUT)


def safe_text(value: object, *, multiline: bool = False) -> str:
    """``value`` as text that a terminal shows as it is, with no effect on the terminal.

    Every character that is not printable becomes a visible escape (``ESC`` is ``\\x1b``): the C0
    controls, DEL, the C1 controls (``\\x9b`` starts a sequence on some terminals), and the other
    characters Python does not count as printable (bidirectional overrides, line and paragraph
    separators, surrogates). An escape sequence is thus shown as text (``\\x1b[2J``) and never
    acted on. With ``multiline``, newlines and tabs are kept, for a game's rendering of a board;
    without it they are escaped too, so a name or a label cannot start a line of its own.
    Backslashes are left alone: the result is for people to read, not to parse back.
    """
    text = value if isinstance(value, str) else str(value)
    if text.isprintable():
        return text
    return text.translate(_MULTI_LINE if multiline else _ONE_LINE)
