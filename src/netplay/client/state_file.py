"""The sessions ``netplay play`` keeps on disk, so that the same command run again resumes the seat.

A player whose process died (killed, crashed, its terminal closed) still has a seat on the server
for its reconnect grace; coming back needs the session token of that process. Each running
``netplay play`` keeps its session in a file of its own in the state folder,
``$XDG_STATE_HOME/netplay/`` (``~/.local/state/netplay/`` without it), made mode 0700:

    play-<8 hex digits>.json   (mode 0600)
    {"version": 1, "server": "127.0.0.1:7777", "game": "tictactoe", "room": "r-...",
     "how": "quick", "code": null, "token": "...", "tally": {...}, "counted": [[1, 9]], "saved": ...}

The file is keyed by its contents (``server`` host:port, ``game``, and ``how`` the room was found:
``quick``, ``private``, ``vs:BOT``, ``room``, ``code``), not by its name. The token is a secret:
it is never printed or logged, and ``KeptSession``'s repr leaves it out.

A process holds an ``flock`` on its file while it plays, so a second ``netplay play`` of the same
game (in another terminal, by the same user) never takes over a live session: it only takes files
nobody holds. The kernel releases the lock when the process dies, ``kill -9`` included, so the next
run finds the file free and resumes from it. Without ``fcntl`` (Windows) nothing is kept.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import sys
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

__all__ = ["FORMAT", "MAX_AGE", "SUPPORTED", "KeptSession", "SessionStore", "Slot", "state_dir"]

#: Whether sessions can be kept here: the files are locked with ``flock`` (POSIX).
SUPPORTED = fcntl is not None

#: The ``version`` field of the files this module writes; a file of another version is ignored.
FORMAT = 1
#: A kept session not saved for this long is deleted unused: no server keeps a seat that long.
MAX_AGE = 24 * 3600.0
_PREFIX, _SUFFIX = "play-", ".json"
#: The largest file read: a kept session is a few hundred bytes.
_MAX_SIZE = 64 * 1024


def state_dir(environ: Mapping[str, str] | None = None) -> Path:
    """``$XDG_STATE_HOME/netplay``, or ``~/.local/state/netplay`` (XDG: a relative value is ignored)."""
    env = os.environ if environ is None else environ
    base = env.get("XDG_STATE_HOME", "")
    if not base or not os.path.isabs(base):
        home = env.get("HOME") or os.path.expanduser("~")
        base = os.path.join(home, ".local", "state")
    return Path(base) / "netplay"


@dataclass
class KeptSession:
    """One session kept for resuming: where it plays, how the room was found, and its token."""

    server: str  # "host:port", as the command named it (several --server: sorted, comma-separated)
    game: str
    room: str
    how: str  # "quick", "private", "vs:BOT", "room" or "code"
    token: str = field(repr=False)  # the secret
    code: str | None = None  # a private room's code
    tally: dict[str, int] = field(default_factory=dict)  # games played so far by this command
    counted: list[tuple[int, int]] = field(default_factory=list)  # (game, version) of results counted
    saved: float = 0.0  # time.time() when written

    def to_json(self) -> dict[str, Any]:
        return {
            "version": FORMAT,
            "server": self.server,
            "game": self.game,
            "room": self.room,
            "how": self.how,
            "code": self.code,
            "token": self.token,
            "tally": dict(self.tally),
            "counted": [list(pair) for pair in self.counted],
            "saved": self.saved,
        }

    @classmethod
    def from_json(cls, data: Any) -> KeptSession | None:
        """The session in a decoded file, or None if it is not one this version wrote."""
        if not isinstance(data, dict) or data.get("version") != FORMAT:
            return None
        text = ("server", "game", "room", "how", "token")
        if not all(isinstance(data.get(key), str) and data[key] for key in text):
            return None
        code, tally, counted = data.get("code"), data.get("tally"), data.get("counted")
        saved: Any = data.get("saved")
        if code is not None and not isinstance(code, str):
            return None
        if not isinstance(tally, dict) or not all(
            isinstance(k, str) and type(v) is int for k, v in tally.items()
        ):
            return None
        if not isinstance(counted, list) or not all(
            isinstance(p, list) and len(p) == 2 and all(type(n) is int for n in p) for p in counted
        ):
            return None
        if type(saved) not in (int, float):
            return None
        return cls(
            server=data["server"],
            game=data["game"],
            room=data["room"],
            how=data["how"],
            token=data["token"],
            code=code,
            tally=dict(tally),
            counted=[(p[0], p[1]) for p in counted],
            saved=float(saved),
        )


class Slot:
    """A state file this process holds (locked) while it plays: it saves and forgets its session."""

    def __init__(self, path: Path, fd: int) -> None:
        self.path = path
        self._fd: int | None = fd

    def read(self) -> KeptSession | None:
        """The session in the file, or None (empty, damaged, or of another format)."""
        assert self._fd is not None
        try:
            data = os.pread(self._fd, _MAX_SIZE + 1, 0)
            if not data or len(data) > _MAX_SIZE:
                return None
            return KeptSession.from_json(json.loads(data))
        except (OSError, ValueError):
            return None

    def save(self, kept: KeptSession) -> None:
        """Write ``kept`` in place (the lock belongs to this file: it is never replaced)."""
        if self._fd is None:
            return
        kept.saved = time.time()
        data = json.dumps(kept.to_json(), separators=(",", ":")).encode()
        os.pwrite(self._fd, data, 0)
        os.ftruncate(self._fd, len(data))

    def forget(self) -> None:
        """The session is over: delete the file (emptied first, in case another process has it open)."""
        if self._fd is None:
            return
        with contextlib.suppress(OSError):
            os.ftruncate(self._fd, 0)
        with contextlib.suppress(OSError):
            if _same_file(self.path, self._fd):
                self.path.unlink()
        self._close()

    def release(self) -> None:
        """Stop holding the file and keep what it says, for a later run (an empty file is deleted)."""
        if self._fd is None:
            return
        with contextlib.suppress(OSError):
            if os.fstat(self._fd).st_size == 0 and _same_file(self.path, self._fd):
                self.path.unlink()
        self._close()

    @property
    def held(self) -> bool:
        return self._fd is not None

    def _close(self) -> None:
        fd, self._fd = self._fd, None
        if fd is not None:
            os.close(fd)  # closing the only descriptor releases the flock


class SessionStore:
    """The folder of kept sessions: find one to resume, or start a file for a new one."""

    def __init__(self, directory: Path | str | None = None) -> None:
        self.directory = Path(directory) if directory is not None else state_dir()

    def claim(
        self,
        server: str,
        game: str,
        accept: Callable[[KeptSession], bool] | None,
        *,
        now: float | None = None,
    ) -> tuple[Slot, KeptSession | None]:
        """Hold a file for a ``netplay play`` of ``game`` on ``server``: the first kept session of
        theirs that ``accept`` takes and no running process holds, or a new empty file.

        ``accept`` None (``--new``) deletes every kept session of that server and game instead.
        Files nobody holds that are damaged or older than ``MAX_AGE`` are deleted on the way.
        Raises OSError when the folder cannot be made or written.
        """
        if not SUPPORTED:  # pragma: no cover - Windows
            raise OSError("keeping sessions needs POSIX file locks")
        now = time.time() if now is None else now
        self._make_directory()
        for path in sorted(self.directory.glob(f"{_PREFIX}*{_SUFFIX}")):
            slot = _lock(path)
            if slot is None:
                continue  # a running netplay play holds it, or it is gone
            kept = slot.read()
            if kept is None or now - kept.saved > MAX_AGE:
                slot.forget()
                continue
            if kept.server != server or kept.game != game:
                slot.release()
            elif accept is None:
                slot.forget()
            elif accept(kept):
                return slot, kept
            else:
                slot.release()
        return self._new_slot(), None

    def _make_directory(self) -> None:
        self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        if sys.platform != "win32" and self.directory.stat().st_mode & 0o077:
            self.directory.chmod(0o700)

    def _new_slot(self) -> Slot:
        while True:
            path = self.directory / f"{_PREFIX}{secrets.token_hex(4)}{_SUFFIX}"
            try:
                fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600)
            except FileExistsError:
                continue
            if _try_flock(fd):
                return Slot(path, fd)
            os.close(fd)  # pragma: no cover - someone locked a file just made: try another name

    def files(self) -> Iterator[Path]:
        """Every state file in the folder (for tests and tools)."""
        if self.directory.is_dir():
            yield from sorted(self.directory.glob(f"{_PREFIX}*{_SUFFIX}"))


def _try_flock(fd: int) -> bool:
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


def _same_file(path: Path, fd: int) -> bool:
    """Whether ``path`` still names the file open as ``fd`` (not deleted, nor made anew)."""
    try:
        return os.stat(path).st_ino == os.fstat(fd).st_ino
    except OSError:
        return False


def _lock(path: Path) -> Slot | None:
    """Open and lock an existing state file; None if a running process holds it, or it went away."""
    try:
        fd = os.open(path, os.O_RDWR | getattr(os, "O_NOFOLLOW", 0))
    except OSError:
        return None
    if not _try_flock(fd) or not _same_file(path, fd):
        os.close(fd)
        return None
    with contextlib.suppress(OSError):
        os.fchmod(fd, 0o600)
    return Slot(path, fd)
