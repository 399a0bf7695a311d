"""The CMU 15-112 "Sockets" text dialect, sans I/O: line splitting, parsing, formatting, the bridge, ids.

The protocol, as the starter-code clients expect it (docs/15-112.md):

    server -> new client K       newPlayer E1\\n ... newPlayer En\\n myIDis K \\n   (E1..En: members)
    server -> each member Ei     newPlayer K\\n
    client S -> server           INSTR DETAILS\\n    split at the first space; no space or empty
                                                    DETAILS: the line is dropped silently
    server -> every other one    INSTR S DETAILS\\n  DETAILS byte for byte
    opt-in extension             playerLeft K\\n

The server speaks first, never echoes, never checks instructions, and sends nothing else.

Nothing here touches a socket, a clock or an event loop: ``netplay.transports.text`` feeds bytes in
and writes lines out, and ``netplay.server.text_rooms`` seats the clients in relay rooms.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import Any

__all__ = [
    "DEFAULT_MAX_LINE",
    "TEXT_GAME",
    "IdBlocks",
    "IdPool",
    "LineSplitter",
    "data_from_line",
    "greeting",
    "is_token",
    "line_from_data",
    "my_id_line",
    "new_player_line",
    "parse_line",
    "player_left_line",
    "relay_line",
]

#: The game label of the relay rooms that text clients are put in (for ``join_room``/``quick_match``).
TEXT_GAME = "15-112"
#: Longest line a text client may send by default (a student's whole board fits many times over).
DEFAULT_MAX_LINE = 64 * 1024

_TOKEN = re.compile(r"[!-~]+")  # printable ASCII, no space


def is_token(text: str) -> bool:
    """Whether ``text`` can be an id in a text line: one or more printable ASCII characters, no space."""
    return _TOKEN.fullmatch(text) is not None


# -- incoming lines --------------------------------------------------------------------------------
class LineSplitter:
    """Splits a byte stream at ``\\n`` into lines (the ``\\n`` removed, every other byte kept).

    ``feed`` returns the lines that ``data`` completes, however the stream was fragmented. A line
    longer than ``max_line`` bytes (without its ``\\n``) sets ``failed``: ``feed`` then returns only
    the complete lines before it, and nothing ever again.
    """

    __slots__ = ("_pending", "failed", "max_line")

    def __init__(self, max_line: int = DEFAULT_MAX_LINE) -> None:
        if max_line < 1:
            raise ValueError("max_line must be at least 1")
        self.max_line = max_line
        self.failed = False
        self._pending = bytearray()

    @property
    def pending(self) -> int:
        """Bytes of an unfinished line held back."""
        return len(self._pending)

    def feed(self, data: bytes) -> list[bytes]:
        if self.failed:
            return []
        pending = self._pending
        if b"\n" not in data:
            pending += data
            if len(pending) > self.max_line:
                self._fail()
            return []
        lines = data.split(b"\n")
        if pending:
            lines[0] = bytes(pending) + lines[0]
            pending.clear()
        rest = lines.pop()
        limit = self.max_line
        for i, line in enumerate(lines):
            if len(line) > limit:
                self._fail()
                return lines[:i]
        if len(rest) > limit:
            self._fail()
        else:
            pending += rest
        return lines

    def end(self) -> int:
        """The stream ended: drop the unfinished line (only complete lines count); its length."""
        dropped = len(self._pending)
        self._pending = bytearray()
        return dropped

    def _fail(self) -> None:
        self.failed = True
        self._pending = bytearray()


def parse_line(line: bytes) -> tuple[bytes, bytes] | None:
    """``(instr, details)`` of a line from a client, or None if the protocol drops it.

    instr is the text before the first space, details everything after it, byte for byte. A line
    without a space, or with nothing after the first space, is dropped.
    """
    space = line.find(b" ")
    if space < 0 or space == len(line) - 1:
        return None
    return line[:space], line[space + 1 :]


# -- outgoing lines --------------------------------------------------------------------------------
def relay_line(instr: bytes, sender: bytes, details: bytes) -> bytes:
    """The line every other client receives for ``instr details`` from ``sender``."""
    return b"".join((instr, b" ", sender, b" ", details, b"\n"))


def new_player_line(player: str) -> bytes:
    return b"newPlayer " + player.encode("ascii") + b"\n"


def my_id_line(player: str) -> bytes:
    return b"myIDis " + player.encode("ascii") + b" \n"  # the space before \n is the original's


def player_left_line(player: str) -> bytes:
    return b"playerLeft " + player.encode("ascii") + b"\n"


def greeting(player: str, others: Iterable[str]) -> bytes:
    """What a new client receives first: ``newPlayer`` for each member already there (in join
    order), then its own id."""
    return b"".join([*(new_player_line(other) for other in others), my_id_line(player)])


# -- the bridge to netplay's own protocol ----------------------------------------------------------
def line_from_data(data: Any) -> tuple[bytes, bytes] | None:
    """``(instr, details)`` that a netplay member's relay ``data`` becomes for text members, or None.

    Two forms map: ``{"instr": "playerMoved", "details": "5 0"}`` (instr without spaces, details not
    empty) and the string ``"playerMoved 5 0"`` (split like a text line). Neither may contain a
    newline: that would forge a second line. Anything else is not delivered to text members.
    """
    if isinstance(data, str):
        if "\n" in data:
            return None
        return parse_line(data.encode("utf-8", "replace"))
    if isinstance(data, dict):
        instr, details = data.get("instr"), data.get("details")
        if not isinstance(instr, str) or not isinstance(details, str) or not details:
            return None
        if " " in instr or "\n" in instr or "\n" in details:
            return None
        return instr.encode("utf-8", "replace"), details.encode("utf-8", "replace")
    return None


def data_from_line(instr: bytes, details: bytes) -> dict[str, str]:
    """The relay ``data`` netplay members receive for a text client's line ``instr details``.

    Bytes that are not UTF-8 become U+FFFD; text members still get the original bytes.
    """
    instr_text = instr.decode("utf-8", "replace")
    details_text = details.decode("utf-8", "replace")
    return {"instr": instr_text, "details": details_text, "line": f"{instr_text} {details_text}"}


# -- ids -------------------------------------------------------------------------------------------
class IdPool:
    """Hands out text-client ids: ``names`` in order, or ``Player1``, ``Player2``, ... without them.

    ``take`` gives the first name of the list that nobody holds; ``release`` frees it the moment its
    holder has left. Reusing a name confuses no one: a client hears of every member of its room with
    ``newPlayer`` before any of that member's lines, so a new holder of a name is announced like any
    newcomer. With ``names``, a ``take`` while every name is held returns None: the list is the
    player cap. Numbered ids are never reused (there is no cap to come back under). Nothing is kept
    for a holder that left, so the pool's size is the names' (or one counter).
    """

    __slots__ = ("_counter", "_held", "_names")

    def __init__(self, names: Sequence[str] = ()) -> None:
        for name in names:
            if not is_token(name):
                raise ValueError(f"text player name {name!r} must be printable ASCII without spaces")
        if len(set(names)) != len(names):
            raise ValueError("text player names must be different from each other")
        self._names = tuple(names)
        self._counter = 0
        self._held: set[str] = set()

    @property
    def held(self) -> int:
        """How many ids are out (numbered ones are not counted: they are never given back)."""
        return len(self._held)

    def take(self) -> str | None:
        if not self._names:
            self._counter += 1
            return f"Player{self._counter}"
        held = self._held
        for name in self._names:
            if name not in held:
                held.add(name)
                return name
        return None

    def release(self, player: str) -> None:
        """``player``'s holder has left: the name is free again (a numbered id is simply dropped)."""
        self._held.discard(player)


class IdBlocks:
    """Numbered text-client ids (``Player1``, ``Player2``, ...) from blocks of numbers reserved
    elsewhere: a cluster's nodes each reserve blocks in Redis, so that no two clients of the cluster
    hold one id, without a round trip per client. Numbers are never given back (like ``IdPool``'s)."""

    __slots__ = ("_blocks",)

    def __init__(self) -> None:
        self._blocks: list[list[int]] = []  # [next, last] of each block, oldest first

    def add(self, first: int, count: int) -> None:
        """Numbers ``first`` to ``first + count - 1`` are this pool's to give."""
        if count > 0:
            self._blocks.append([first, first + count - 1])

    @property
    def left(self) -> int:
        """How many ids can still be taken before another block is needed."""
        return sum(last - at + 1 for at, last in self._blocks)

    @property
    def held(self) -> int:
        """Numbered ids are not counted: they are never given back."""
        return 0

    def take(self) -> str | None:
        """The next id; None when every block is used up."""
        blocks = self._blocks
        while blocks:
            block = blocks[0]
            number = block[0]
            if number <= block[1]:
                block[0] = number + 1
                return f"Player{number}"
            blocks.pop(0)
        return None

    def release(self, player: str) -> None:
        """A numbered id is simply dropped."""
