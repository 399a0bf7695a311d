"""One server per database: an ``flock`` on ``DB.lock`` beside the database, held while it is open.

Why a lock file of its own, not SQLite's locks: SQLite holds its locks only during a transaction
(``locking_mode=EXCLUSIVE`` would hold one for good, but would also shut out `netplay matches`, and a
refused server could not say who holds the file), and a second descriptor on the database file
itself would drop SQLite's own POSIX locks when closed. The kernel releases an ``flock`` when the
last descriptor of its holder is closed, so a server killed with -9 leaves no stale lock behind; the
holder writes its pid and host in the file, so that a refused server can say who holds it. The file
is left in place when the lock is released (removing it would let two processes lock two different
files of one name).
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import sys
import weakref

from .base import StoreError

__all__ = ["DbLock"]

if sys.platform != "win32":
    import fcntl

#: Locks this process holds, so that a forked child can let go of its copies (below).
_held: weakref.WeakSet[DbLock] = weakref.WeakSet()


class DbLock:
    """The lock on one database, from :meth:`acquire` until :meth:`release` (or the process ends)."""

    def __init__(self, path: str, fd: int | None) -> None:
        self.path = path
        self._fd = fd

    @classmethod
    def acquire(cls, db: str, shown: str) -> DbLock:
        """Lock ``db`` (its real path: a symlink to it is the same database), or raise StoreError
        naming the process that holds it; ``shown`` is how the database is named in that message.
        OSError if the lock file cannot be opened or created."""
        path = os.path.realpath(db) + ".lock"
        if sys.platform == "win32":  # no flock: one server per database is up to the operator
            return cls(path, None)
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _holder(fd)
            os.close(fd)
            raise StoreError(
                f"{shown} is in use by another netplay server ({holder}): stop that one first, "
                "or give this one another --db"
            ) from None
        except BaseException:
            os.close(fd)
            raise
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps({"pid": os.getpid(), "host": socket.gethostname()}).encode() + b"\n", 0)
        lock = cls(path, fd)
        _held.add(lock)
        return lock

    def release(self) -> None:
        """Let go of the lock (leaving the file, emptied: its pid is no longer the holder's)."""
        fd, self._fd = self._fd, None
        _held.discard(self)
        if fd is None:
            return
        with contextlib.suppress(OSError):
            os.ftruncate(fd, 0)
        os.close(fd)  # closing the only descriptor releases the flock

    def _forget(self) -> None:
        """In a forked child: close the inherited descriptor without unlocking, so that the lock
        lives and dies with the parent (an flock belongs to every process holding a descriptor)."""
        fd, self._fd = self._fd, None
        if fd is not None:
            with contextlib.suppress(OSError):
                os.close(fd)

    def __del__(self) -> None:  # a store dropped without close(): as sqlite3 does for its connection
        try:
            self.release()
        except Exception:  # at interpreter exit the modules may be gone, and the OS unlocks anyway
            pass


def _holder(fd: int) -> str:
    """Who holds the lock, from what it wrote in the file."""
    try:
        recorded = json.loads(os.pread(fd, 4096, 0))
        return f"pid {int(recorded['pid'])} on {recorded['host']}"
    except (OSError, ValueError, TypeError, KeyError):
        return "a process that has not written its pid yet"


def _forget_all_in_child() -> None:
    for lock in list(_held):
        lock._forget()
    _held.clear()


if sys.platform != "win32":
    os.register_at_fork(after_in_child=_forget_all_in_child)
