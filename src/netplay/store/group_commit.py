"""Group commit for a WAL-mode SQLite database: its commits made durable in batches, off the event loop.

``--db-sync full`` promises that a move the server has acknowledged survives a power cut, which
takes an fsync. Doing one per move on the event loop stalls every room for as long as the disk
takes. Instead the database commits as in the default mode (``synchronous=NORMAL``: a write into
the WAL file, microseconds), and ``WalSync`` fsyncs the WAL file in a thread of its own:

- each commit calls ``wrote()``;
- ``pending()`` is a future that is done once an fsync that began after the latest commit has
  finished: what the server says after that commit waits for it (the hub holds its messages, as it
  does for the cluster's Redis log), so nobody hears of a move before it is on the disk;
- one fsync runs at a time; the commits made while it runs wait for the next one, which starts as
  soon as it ends. Under load one fsync covers many moves: the batch is whatever came meanwhile;
- checkpoints (copying the WAL into the database file, which fsyncs both) run in that thread
  too, on a connection of their own, instead of on the event loop inside some move's commit.

Without a running event loop (a command-line tool writing to the database) each commit is fsync-ed
at once, as ``synchronous=FULL`` would.
"""

from __future__ import annotations

import asyncio
import logging
import os
import queue
import sqlite3
import threading
import time
from collections.abc import Callable
from typing import Final

__all__ = ["CHECKPOINT_BYTES", "WalSync"]

log = logging.getLogger("netplay.store")

#: A checkpoint once the WAL file is this big (SQLite's own default is 1,000 pages: about 4 MB).
CHECKPOINT_BYTES: Final = 4 * 1024 * 1024


class WalSync:
    """Fsyncs the WAL of the database at ``path`` in batches, in a thread (see the module's docstring).

    ``fsync`` is what flushes a file descriptor (``os.fsync``; a test may slow it down to watch
    messages wait). Counters: ``writes`` commits so far, ``durable`` how many of them an fsync has
    covered, ``syncs`` fsyncs done, ``failures`` fsyncs that failed, ``sync_seconds`` the time of
    each of the last 1,000 fsyncs.
    """

    def __init__(self, path: str, *, fsync: Callable[[int], None] = os.fsync) -> None:
        self.path = path
        self.wal = path + "-wal"
        self._fsync = fsync
        self.writes = 0
        self.durable = 0
        self.syncs = 0
        self.failures = 0
        self.sync_seconds: list[float] = []
        #: The fsync thread, and what it is asked to do: a future to fsync for, or None to stop.
        #: (A thread of its own on a queue: a thread pool costs half as much again a hand-off.)
        self._thread: threading.Thread | None = None
        self._requests: queue.SimpleQueue[asyncio.Future[None] | None] = queue.SimpleQueue()
        self._loop: asyncio.AbstractEventLoop | None = None
        #: The fsync running now (what it covers: ``writes`` when it began), and the future it ends.
        self._running: asyncio.Future[None] | None = None
        self._covers = 0
        #: Commits made since the running fsync began wait for the next one: its future, made early.
        self._next: asyncio.Future[None] | None = None
        # Used by the fsync thread only (and by close, once that thread has stopped).
        self._fd = -1
        self._checkpointer: sqlite3.Connection | None = None
        self._lock = threading.Lock()

    # -- the loop's side ---------------------------------------------------------------------------
    def wrote(self) -> None:
        """A commit was made: it is durable once ``pending()`` (as of now) is done."""
        self.writes += 1
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # no event loop: a tool, a test's direct use; durable before returning
            self._sync_now()
            return
        if self._running is None:
            self._start(loop)
        elif self._next is None:
            self._next = loop.create_future()

    def pending(self) -> asyncio.Future[None] | None:
        """The future of the fsync that covers the latest commit; None when every commit is durable."""
        if self._next is not None:
            return self._next
        return self._running

    def _start(self, loop: asyncio.AbstractEventLoop) -> None:
        if self._thread is None:
            self._loop = loop
            self._thread = threading.Thread(
                target=self._serve, args=(loop,), name="netplay-fsync", daemon=True
            )
            self._thread.start()
        future = self._next if self._next is not None else loop.create_future()
        self._next = None
        self._running, self._covers = future, self.writes
        self._requests.put(future)

    def _finished(self, seconds: float, error: BaseException | None, future: asyncio.Future[None]) -> None:
        self._running = None
        if error is None:
            self.durable = max(self.durable, self._covers)
            self._observe(seconds)
        else:
            # The moves are in the WAL (a crash of the process keeps them) but maybe not on the
            # disk. Said loudly; what waited is sent all the same (holding it would not help).
            self.failures += 1
            log.error(
                "could not fsync %s: %s; moves since the last fsync may not survive a power cut",
                self.wal, error, extra={"event": "store_error"},
            )  # fmt: skip
        if not future.done():
            future.set_result(None)
        if self._next is not None and self._loop is not None and not self._loop.is_closed():
            self._start(self._loop)

    def _observe(self, seconds: float) -> None:
        self.syncs += 1
        times = self.sync_seconds
        times.append(seconds)
        if len(times) > 1000:
            del times[:500]

    def _sync_now(self) -> None:
        covers = self.writes
        try:
            seconds = self._sync()
        except OSError as error:
            self.failures += 1
            log.error("could not fsync %s: %s", self.wal, error, extra={"event": "store_error"})
            return
        self.durable = max(self.durable, covers)
        self._observe(seconds)

    # -- the fsync thread's side -------------------------------------------------------------------
    def _serve(self, loop: asyncio.AbstractEventLoop) -> None:
        """The fsync thread: an fsync for each request, reported back on the loop, until None."""
        while True:
            future = self._requests.get()
            if future is None:
                return
            try:
                seconds, error = self._sync(), None
            except Exception as exc:  # reported on the loop, where it is logged and counted
                seconds, error = 0.0, exc
            _call_soon(loop, self._finished, seconds, error, future)

    def _sync(self) -> float:
        """Fsync the WAL file (and its folder, the first time), then checkpoint if it has grown.

        Two system calls an fsync, the fsync and an fstat: each one lets go of the GIL, and taking
        it back from a busy event loop is what costs most here."""
        with self._lock:
            started = time.perf_counter()
            if self._fd < 0 and not self._open():
                return 0.0  # no WAL yet: nothing was ever written
            self._fsync(self._fd)
            seconds = time.perf_counter() - started
            info = os.fstat(self._fd)
            if info.st_nlink == 0:  # SQLite made a new WAL file (it never does while it is open)
                os.close(self._fd)
                self._fd = -1
                if self._open():
                    self._fsync(self._fd)
            elif info.st_size >= CHECKPOINT_BYTES:
                self._checkpoint()
            return seconds

    def _open(self) -> bool:
        """Open the WAL file and make its name durable (an fsync of its folder); False if none."""
        try:
            self._fd = os.open(self.wal, os.O_RDONLY)
        except FileNotFoundError:
            return False
        folder = os.open(os.path.dirname(os.path.abspath(self.wal)) or ".", os.O_RDONLY)
        try:
            self._fsync(folder)
        finally:
            os.close(folder)
        return True

    def _checkpoint(self) -> None:
        """Copy the WAL into the database file without waiting for the writer (PASSIVE)."""
        try:
            if self._checkpointer is None:
                self._checkpointer = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
            self._checkpointer.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
        except sqlite3.Error as error:  # the next one tries again; the WAL keeps everything meanwhile
            log.warning("checkpoint of %s failed: %s", self.path, error, extra={"event": "store_error"})

    def close(self) -> None:
        """Wait for the fsync in flight, then let go of the thread, the file and the connection."""
        if self._thread is not None:
            self._requests.put(None)
            self._thread.join()
            self._thread = None
        with self._lock:
            if self._fd >= 0:
                os.close(self._fd)
                self._fd = -1
            if self._checkpointer is not None:
                self._checkpointer.close()
                self._checkpointer = None


def _call_soon(loop: asyncio.AbstractEventLoop, callback: Callable[..., None], *args: object) -> None:
    """``callback(*args)`` on ``loop``, from another thread; nothing if the loop has closed meanwhile."""
    if not loop.is_closed():
        try:
            loop.call_soon_threadsafe(callback, *args)
        except RuntimeError:  # closed between the check and the call
            pass
