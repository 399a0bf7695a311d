"""Where server-side bots think: worker processes, off the event loop's core and GIL.

A bot is a pure function of the rules, a seat's view, the seat and a random source, so its move can
be worked out anywhere. The server sends each move to be thought in a ``BotJob`` of plain data (the
game's name, the bot, the view, the seat, a seed) to a pool of worker processes (``pebble``), and
gets the move back on the event loop: players' messages never wait behind a bot's search, however
many bots think at once. The workers run at a lower CPU priority than the server, so that on a busy
machine the players' messages come first.

Every move has a time budget (``bot_time``): a bot that takes longer, or whose worker dies, gets a
``BotTimeout`` (or the worker's error), and the room plays a random legal move for it instead; the
stuck worker is killed and replaced. That holds for users' bots too.

Games whose class a worker cannot import (one defined in the script being run, its ``__main__``, or
one that cannot be pickled) keep their bots in threads of the server process, with the same time
budget (past it the room moves on; the thread's late answer is dropped), and the server says so in
its log. So do all games with ``bot_workers=0``.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import multiprocessing
import os
import pickle
import random
import signal
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..games import Game
from ..games.realtime import RealtimeGame

if TYPE_CHECKING:
    from .metrics import Buckets

__all__ = ["BotJob", "BotTimeout", "BotWorkers", "default_bot_workers"]

log = logging.getLogger("netplay.server")

Done = Callable[[Any, BaseException | None], None]

#: How much lower than the server's the workers' CPU priority is (``os.nice``).
WORKER_NICENESS = 10


@dataclass(frozen=True, slots=True)
class BotJob:
    """One move to think: everything a worker needs, as plain data."""

    game: str
    #: The bot's name in ``Game.bots``, with ``:LEVEL`` for a bot that has levels.
    bot: str
    view: Any
    seat: int
    #: Seeds the bot's ``random.Random`` (drawn from the room's generator, never the match's seed).
    seed: int


class BotTimeout(Exception):
    """A bot did not answer within its time budget."""


def default_bot_workers() -> int:
    """One worker per core but the server's own (at least one)."""
    return max(1, (os.cpu_count() or 2) - 1)


def think(rules: Game, job: BotJob) -> Any:
    """The bot's move for ``job`` (where it runs: in a worker or a thread)."""
    name, _, level = job.bot.partition(":")
    bot = rules.bots[name]
    if level:
        bot = bot.with_level(int(level))  # type: ignore[attr-defined]
    return bot(rules, job.view, job.seat, random.Random(job.seed))


class BotWorkers:
    """Runs bots' moves in worker processes (started at the first move), each within ``budget``."""

    def __init__(
        self,
        games: Mapping[str, Game | RealtimeGame],
        *,
        workers: int,
        budget: float,
        loop: asyncio.AbstractEventLoop,
        timed: Buckets | None = None,
    ) -> None:
        self.loop = loop
        #: Where each move's think time goes (``netplay_bot_think_seconds``), queueing included.
        self.timed = timed
        self.budget = budget
        # Real-time games' bots are pure functions the room calls every tick, on the loop.
        self.games = {name: game for name, game in games.items() if isinstance(game, Game)}
        self._workers = workers
        self._pool: Any = None  # pebble.ProcessPool, made at the first move a worker thinks
        #: The games a worker can load, pickled once (a worker unpickles them when it starts).
        self._portable: dict[str, bytes] = {}
        if workers:
            self._portable = _portable(self.games.values())

    def run(self, job: BotJob, done: Done) -> None:
        """Think ``job``, then call ``done(move, None)`` or ``done(None, error)`` on the loop."""
        if self.timed is not None:
            done = _timing(done, self.timed, self.loop)
        if job.game in self._portable:
            self._in_worker(job, done)
        else:
            self._in_thread(job, done)

    def close(self) -> None:
        """Stop the workers (a move being thought is dropped: the server is stopping)."""
        pool, self._pool = self._pool, None
        if pool is not None:
            pool.stop()
            pool.join()

    def _in_worker(self, job: BotJob, done: Done) -> None:
        if self._pool is None:
            import pebble  # here, so that a server without bots never loads it

            context = multiprocessing.get_context("forkserver")
            context.set_forkserver_preload([])  # never import the script being run (its __main__)
            self._pool = pebble.ProcessPool(
                max_workers=self._workers,
                initializer=_start_worker,
                initargs=(self._portable,),
                context=context,
            )
        future = self._pool.schedule(_think_in_worker, args=(job,), timeout=self.budget)
        loop, budget = self.loop, self.budget

        def finished(f: concurrent.futures.Future[Any]) -> None:  # in one of pebble's threads
            try:
                loop.call_soon_threadsafe(_report, f, done, budget)
            except RuntimeError:  # the loop is closed: the server has stopped
                pass

        future.add_done_callback(finished)

    def _in_thread(self, job: BotJob, done: Done) -> None:
        rules = self.games[job.game]
        answered = False

        def answer(move: Any, error: BaseException | None) -> None:
            nonlocal answered
            if not answered:
                answered = True
                timer.cancel()
                done(move, error)

        def finished(f: asyncio.Future[Any]) -> None:
            if not f.cancelled():
                error = f.exception()
                answer(None if error else f.result(), error)

        timer = self.loop.call_later(
            self.budget, lambda: answer(None, BotTimeout(f"no move within {self.budget:g} s"))
        )
        self.loop.run_in_executor(None, think, rules, job).add_done_callback(finished)


def _timing(done: Done, timed: Buckets, loop: asyncio.AbstractEventLoop) -> Done:
    started = loop.time()

    def timed_done(move: Any, error: BaseException | None) -> None:
        timed.observe(loop.time() - started)
        done(move, error)

    return timed_done


def _report(future: concurrent.futures.Future[Any], done: Done, budget: float) -> None:
    """A worker's answer, on the loop: its move, or why there is none."""
    if future.cancelled():
        return
    error = future.exception()
    if isinstance(error, concurrent.futures.TimeoutError):
        error = BotTimeout(f"no move within {budget:g} s (its worker was stopped)")
    done(None if error else future.result(), error)


def _portable(games: Iterable[Game]) -> dict[str, bytes]:
    """The games a worker process can load, pickled; the others' bots will think in threads."""
    portable = {}
    for game in games:
        if not game.bots:
            continue
        module = type(game).__module__
        try:
            if module == "__main__":
                raise TypeError("it is defined in the script being run")
            blob = pickle.dumps(game)
            pickle.loads(blob)
        except Exception as exc:
            log.warning(
                "the bots of %s think in threads of the server process, not in worker processes: "
                "%s (define the game in a module of its own to give its bots workers)",
                game.name,
                exc,
                extra={"event": "config", "game": game.name},
            )
            continue
        portable[game.name] = blob
    return portable


# -- in the worker process ---------------------------------------------------------------------
_GAMES: dict[str, Game] = {}
_BROKEN: dict[str, str] = {}


def _start_worker(portable: dict[str, bytes]) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the server's to handle
    try:
        os.nice(WORKER_NICENESS)
    except OSError:  # not allowed here: think at the server's priority
        pass
    for name, blob in portable.items():
        try:
            _GAMES[name] = pickle.loads(blob)  # the server's own pickles of its own games
        except Exception as exc:
            _BROKEN[name] = f"{type(exc).__name__}: {exc}"


def _think_in_worker(job: BotJob) -> Any:
    rules = _GAMES.get(job.game)
    if rules is None:
        raise RuntimeError(f"a bot worker could not load {job.game}: {_BROKEN.get(job.game, 'unknown game')}")
    return think(rules, job)
