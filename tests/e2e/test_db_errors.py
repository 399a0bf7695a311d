"""`netplay serve` on a database it cannot use: one line on stderr that names the file, what is
wrong and what to do, and a non-zero exit, never a traceback and never a server that starts anyway."""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from netplay.store import SavedMatch, SavedPlayer, SqliteStore

NETPLAY = [sys.executable, "-m", "netplay"]


@dataclass
class Refusal:
    status: int
    stdout: str
    stderr: str

    @property
    def line(self) -> str:
        """The one line on stderr (asserting that there is exactly one, and no traceback)."""
        lines = self.stderr.strip().splitlines()
        assert len(lines) == 1 and "Traceback" not in self.stderr, self.stderr
        return lines[0]


async def refused(db: str | Path, timeout: float = 30.0) -> Refusal:
    """Run ``netplay serve --db DB --port 0`` and wait for it to exit; fail if it starts serving."""
    process = await asyncio.create_subprocess_exec(
        *NETPLAY, "serve", "--db", str(db), "--port", "0", "--no-web",
        stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )  # fmt: skip
    assert process.stdout is not None and process.stderr is not None
    errors = asyncio.create_task(process.stderr.read())
    out: list[str] = []
    try:
        async with asyncio.timeout(timeout):
            while line := (await process.stdout.readline()).decode():
                out.append(line)
                if "Stop with Ctrl-C" in line:  # it is serving: the database was not refused
                    process.kill()
                    await process.wait()
                    pytest.fail(f"netplay serve started on {db}:\n{''.join(out)}{await errors}")
            status = await process.wait()
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    return Refusal(status, "".join(out), (await errors).decode())


def assert_refused(result: Refusal, db: str | Path, *words: str) -> str:
    line = result.line
    assert result.status == 1, result
    assert str(db) in line and line.startswith("error: --db"), line
    for word in words:
        assert word in line, line
    assert "serving" not in result.stdout
    return line


def make_store(path: Path, *, unfinished: int = 0) -> None:
    """A database as a stopped server leaves it, with ``unfinished`` matches in progress."""
    store = SqliteStore(path)
    for i in range(unfinished):
        store.match_started(
            SavedMatch(
                id=f"m-{i}", room_id=f"r-{i}", room_code=None, game="tictactoe", number=1, options={},
                start_version=1, players=[SavedPlayer(0, "p-a", "Ann"), SavedPlayer(1, "p-b", "Bob")],
                started_at=1.0 + i,
            )
        )  # fmt: skip
    store.close()


def immutable(path: Path) -> bool:
    """``chattr +i``: what stops root from writing to a file, or from creating files in a folder."""
    return subprocess.run(["chattr", "+i", path], capture_output=True).returncode == 0


@contextlib.contextmanager
def read_only(path: Path) -> Iterator[None]:
    """Make a file or a folder really read-only for this process, or skip saying why it cannot be.

    File permissions do not stop root, so as root the file is made immutable (``chattr +i``). Either
    way the test first checks that a write is now refused.
    """
    mode = path.stat().st_mode
    undo: list[str] = []
    if os.geteuid() != 0:
        path.chmod(mode & ~0o222)
    elif (
        shutil.which("chattr") and subprocess.run(["chattr", "+i", path], capture_output=True).returncode == 0
    ):
        undo = ["chattr", "-i", str(path)]
    else:
        pytest.skip(
            "running as root, where file permissions do not stop writes, and chattr +i is not available "
            "here; test_a_path_under_a_regular_file covers a folder that cannot be written, as root too"
        )
    try:
        try:  # is it really read-only?
            if path.is_dir():
                (path / "probe").touch()
                (path / "probe").unlink()
            else:
                with path.open("r+b"):
                    pass
        except OSError:
            pass
        else:
            pytest.skip(f"{path} could not be made read-only here")
        yield
    finally:
        if undo:
            subprocess.run(undo, check=True)
        else:
            path.chmod(mode)


async def test_a_file_that_is_not_a_database(tmp_path: Path) -> None:
    db = tmp_path / "netplay.db"
    db.write_bytes(os.urandom(8192))
    before = db.read_bytes()
    assert_refused(await refused(db), db, "not an SQLite database")
    assert db.read_bytes() == before  # left as it was


async def test_a_damaged_database(tmp_path: Path) -> None:
    db = tmp_path / "netplay.db"
    make_store(db, unfinished=3)
    data = db.read_bytes()
    page = int.from_bytes(data[16:18], "big")
    db.write_bytes(data[:page] + os.urandom(len(data) - page))  # the header is fine, the tables are not
    assert_refused(await refused(db), db, "damaged", "backup")


async def test_a_database_from_a_newer_netplay(tmp_path: Path) -> None:
    db = tmp_path / "netplay.db"
    make_store(db)
    with contextlib.closing(sqlite3.connect(db)) as connection:
        connection.execute("PRAGMA user_version = 99")
        connection.commit()
    assert_refused(await refused(db), db, "newer netplay", "upgrade netplay")


async def test_a_folder_that_does_not_exist(tmp_path: Path) -> None:
    db = tmp_path / "nowhere" / "netplay.db"
    line = assert_refused(await refused(db), db, "does not exist", str(tmp_path / "nowhere"))
    assert "mkdir" in line
    assert not (tmp_path / "nowhere").exists()  # refused, not created


async def test_a_path_under_a_regular_file(tmp_path: Path) -> None:
    """A folder nobody can create a file in, root included: the database's folder is a file."""
    (tmp_path / "notes.txt").write_text("not a folder\n")
    db = tmp_path / "notes.txt" / "netplay.db"
    assert_refused(await refused(db), db, "is a file, not a folder", str(tmp_path / "notes.txt"))


async def test_a_folder_given_as_the_database(tmp_path: Path) -> None:
    assert_refused(await refused(tmp_path), tmp_path, "is a folder")


async def test_a_read_only_database_file(tmp_path: Path) -> None:
    db = tmp_path / "netplay.db"
    make_store(db, unfinished=1)
    with read_only(db):
        assert_refused(await refused(db), db, "read-only", "writable")


@pytest.mark.parametrize("existing", [False, True], ids=["new-database", "existing-database"])
async def test_a_read_only_folder(tmp_path: Path, existing: bool) -> None:
    """A new database cannot be created; an existing one cannot get its journal (-wal, -shm)."""
    folder = tmp_path / "data"
    folder.mkdir()
    db = folder / "netplay.db"
    if existing:
        make_store(db, unfinished=1)
    with read_only(folder):
        assert_refused(await refused(db), db, str(folder), "writable")
