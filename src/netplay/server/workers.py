"""``netplay serve --workers N``: N server processes on one machine, one cluster, the same ports.

Python runs one event loop per process, so one process uses one core. The workers are ordinary
nodes of the cluster at ``--redis`` (each with its own name and its own SQLite file), and they
listen on the same ports with SO_REUSEPORT: the kernel spreads new connections over them, and any
worker serves any room. This process only starts them, passes Ctrl-C and SIGTERM on, and stops
them all if one of them cannot start.
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import subprocess
import sys
import time
from types import FrameType

__all__ = ["serve_workers", "worker_command", "worker_db"]


def worker_db(db: str | None, worker: int) -> str | None:
    """Each worker keeps its matches in a file of its own: ``netplay.db`` -> ``netplay-w2.db``."""
    if db is None or db == ":memory:":
        return db
    root, ext = os.path.splitext(db)
    return f"{root}-w{worker}{ext}"


def worker_command(argv: list[str], worker: int, name: str, db: str | None) -> list[str]:
    """The command line of one worker: this one without ``--workers``, with its number, name, db."""
    kept: list[str] = []
    skip = False
    for arg in argv:
        if skip:
            skip = False
            continue
        if arg in ("--workers", "--node-name", "--db", "--worker"):
            skip = True
            continue
        if arg.startswith(("--workers=", "--node-name=", "--db=", "--worker=")):
            continue
        kept.append(arg)
    command = [sys.executable, "-m", "netplay", *kept, "--worker", str(worker), "--node-name", name]
    if db is not None:
        command += ["--db", db]
    return command


def serve_workers(args: argparse.Namespace, argv: list[str]) -> int:
    """Run ``args.workers`` workers until a signal stops them; the exit code is the first failure's."""
    base = args.node_name or f"{socket.gethostname()}-{os.getpid()}"
    children: list[subprocess.Popen[bytes]] = []
    for n in range(1, args.workers + 1):
        command = worker_command(argv, n, f"{base}-w{n}", worker_db(args.db, n))
        children.append(subprocess.Popen(command))
    stopping = False

    def stop(signum: int, frame: FrameType | None) -> None:
        nonlocal stopping
        stopping = True
        for child in children:
            if child.poll() is None:
                child.send_signal(signal.SIGTERM)

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    code = 0
    while any(child.poll() is None for child in children):
        for child in children:
            returned = child.poll()
            if returned is not None and returned != 0 and not stopping:
                code = code or returned
                stop(signal.SIGTERM, None)  # one cannot serve: none does (the others would half-serve)
        time.sleep(0.2)  # a supervisor's poll: nothing here waits on a worker's progress
    for child in children:
        if child.returncode not in (0, None, -signal.SIGTERM) and not code:
            code = child.returncode if child.returncode > 0 else 1
    if stopping and code == 0:
        print(f"netplay: {len(children)} workers stopped.", flush=True)
    return code
