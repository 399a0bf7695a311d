"""The server process: a hub plus its listeners, the timeout sweep, and clean shutdown on signals.

Every listener's sockets take their slots from one ``ConnectionGate`` (``max_connections``,
``max_connections_per_address``), from the moment each is accepted until it closes.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import signal
import sys
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from ..games import Game, RealtimeGame, builtin_games
from ..games.relaycheck import RelayCheck
from ..store import MatchStore, open_store
from ..transports.coalesce import WriteCoalescer
from ..transports.tcp import TcpConnection
from ..transports.text import TextConnection
from ..transports.websocket import PortSniffer, WebConnection, WebSite, load_game_boards, load_static_files
from . import operations
from .admin import ErrorLog, HealthRoutes, Operator
from .config import ServerConfig
from .directory import RoomDirectory
from .gate import ConnectionGate
from .hub import Hub

if TYPE_CHECKING:
    from .cluster import Cluster
from .text_rooms import TextLobby

__all__ = ["Server", "install_uvloop", "run"]

log = logging.getLogger("netplay.server")

#: With ``--db-sync full``: how often (seconds) a thread waiting for the GIL gets it from a busy
#: event loop, so that an fsync starts and is reported done within about this much.
FSYNC_SWITCH_INTERVAL = 0.0005
#: What players are told when a drained server stops.
DRAINED = "the server is restarting for an upgrade; your game was over, come back in a minute"


class Server:
    """A netplay server: ``await server.start()``, play, ``await server.stop()``; or ``async with``."""

    def __init__(
        self,
        config: ServerConfig | None = None,
        games: Iterable[Game | RealtimeGame] | None = None,
        directory: RoomDirectory | None = None,
        relay_checks: Iterable[RelayCheck] = (),
    ) -> None:
        self.config = config or ServerConfig()
        #: Pure checks of relay rooms' messages, by the room label each checks.
        self.relay_checks: dict[str, RelayCheck] = {c.label: c for c in relay_checks}
        chosen = list(games) if games is not None else list(builtin_games().values())
        self.games: dict[str, Game | RealtimeGame] = {g.name: g for g in chosen}
        self._directory = directory
        self.hub: Hub | None = None
        #: This node's membership of a cluster (``config.redis``), once started; None alone.
        self.cluster: Cluster | None = None
        #: The connection slots every listener's sockets take (set by ``start``).
        self.gate: ConnectionGate | None = None
        self.store: MatchStore | None = None
        #: Matches in progress brought back from the database at start.
        self.restored = 0
        #: Match rooms brought back at start: those with a match in progress, those waiting for
        #: players and those between two games of a series.
        self.restored_rooms = 0
        self._servers: list[asyncio.Server] = []
        self._sweeper: asyncio.Task[None] | None = None
        self._stopping: asyncio.Task[None] | None = None
        #: The operator's routes (``/metrics``, ``/healthz``, ``/readyz``, ``/admin``), set by ``start``.
        self.operator: Operator | None = None
        self._errors = ErrorLog()
        self._stopped = asyncio.Event()
        self.port: int = self.config.port
        #: The 15-112 text listener (config.text_port): its lobby and bound port, when it is on.
        self.text: TextLobby | None = None
        self.text_port: int | None = None
        #: The web side (config.web): static files and WebSocket sessions, and the port it is on.
        self.web: WebSite | None = None
        self.web_port: int | None = None
        #: The port of /metrics, /healthz and /readyz when they have one of their own (metrics_port).
        self.metrics_port: int | None = None

    async def start(self) -> None:
        """Bind the listeners and start serving; returns once they accept connections."""
        loop = asyncio.get_running_loop()
        # The board modules games ship are read first: a missing one stops the start (ValueError)
        # before anything is opened.
        if self.config.web:
            load_game_boards(self.games.values())
        directory = self._directory
        if self.config.redis is not None:  # before anything is opened: no Redis, no start
            from .cluster import Cluster

            self.cluster = Cluster(
                self.config.redis,
                self.config.node_name,
                lease=self.config.cluster_lease,
                batch_delay=self.config.cluster_batch_delay,
            )
            await self.cluster.start()
            directory = self.cluster.directory
        try:
            await self._start(loop, directory)
        except BaseException:
            if self.cluster is not None:  # a node that cannot serve leaves the cluster at once
                await self.cluster.stop()
            raise

    async def _start(self, loop: asyncio.AbstractEventLoop, directory: RoomDirectory | None) -> None:
        files = {**load_static_files(), **load_game_boards(self.games.values())} if self.config.web else {}
        if self.cluster is not None:  # the cluster's matches are in Redis, where any node can adopt them
            self.store = self.cluster.store
        else:
            self.store = open_store(self.config.db, durable=self.config.db_durable)
            if self.config.db_durable and sys.getswitchinterval() > FSYNC_SWITCH_INTERVAL:
                # The fsync thread needs the GIL to start an fsync and to report it done; a busy
                # event loop keeps it waiting up to the switch interval (5 ms by default) each time.
                sys.setswitchinterval(FSYNC_SWITCH_INTERVAL)
        hub = Hub(self.config, self.games, directory, loop, store=self.store, relay_checks=self.relay_checks)
        self.hub = hub
        if self.cluster is not None:
            self.cluster.attach(hub)
        self.restored_rooms, self.restored = hub.restore_rooms()
        logging.getLogger("netplay").addHandler(self._errors)
        admin_page = {path: f for path, f in files.items() if path.startswith("/admin/")}
        for path in admin_page:  # the admin page is the operator's, never a public file
            del files[path]
        self.operator = Operator(
            hub, token=self.config.admin_token, errors=self._errors, page=admin_page, ready=self._not_ready
        )
        coalescer = WriteCoalescer(loop)
        gate = self.gate = ConnectionGate(self.config)
        # -- web: on the TCP port (sniffing each connection's first bytes) or a port of its own --
        cfg = self.config
        make_tcp: Callable[[], asyncio.Protocol] = lambda: TcpConnection(hub, coalescer, gate)  # noqa: E731
        factory = make_tcp
        if cfg.web:
            web = self.web = WebSite(hub, coalescer, files, gate, routes=self.operator)
            if cfg.web_port is None:
                factory = lambda: PortSniffer(web, make_tcp)  # noqa: E731
            else:
                web_server = await loop.create_server(
                    lambda: WebConnection(web),
                    cfg.host,
                    cfg.web_port,
                    backlog=4096,
                    reuse_address=True,
                    reuse_port=cfg.reuse_port or None,
                    ssl=cfg.ssl_context(),
                )
                self._servers.append(web_server)
                self.web_port = web_server.sockets[0].getsockname()[1]
        # -- end web --
        tls = cfg.ssl_context()
        tcp = await loop.create_server(
            factory,
            self.config.host,
            self.config.port,
            backlog=4096,
            reuse_address=True,
            reuse_port=cfg.reuse_port or None,
            ssl=tls,
        )
        self._servers.append(tcp)
        self.port = tcp.sockets[0].getsockname()[1]
        if cfg.web and cfg.web_port is None:
            self.web_port = self.port
        if cfg.text_port is not None:
            # What text_rooms.serve_text does, but with the text protocol behind the gate.
            text = self.text = TextLobby(hub, cfg)
            await text.start()
            lines = TextConnection.factory(
                text,
                loop,
                max_line=text.max_line,
                max_send_buffer=text.max_send_buffer,
                counts=hub.stats.text,
            )
            text_server = await loop.create_server(
                gate.guard(lines),
                cfg.host,
                cfg.text_port,
                backlog=1024,
                reuse_address=True,
                reuse_port=cfg.reuse_port or None,
            )
            self._servers.append(text_server)
            self.text_port = text_server.sockets[0].getsockname()[1]
        if cfg.metrics_port is not None:  # plain HTTP, for a monitoring network: no game, no admin
            health = WebSite(hub, coalescer, {}, gate, routes=HealthRoutes(self.operator), websocket=False)
            metrics_server = await loop.create_server(
                lambda: WebConnection(health),
                cfg.host,
                cfg.metrics_port,
                backlog=128,
                reuse_address=True,
                reuse_port=cfg.reuse_port or None,
            )
            self._servers.append(metrics_server)
            self.metrics_port = metrics_server.sockets[0].getsockname()[1]
        self._sweeper = asyncio.create_task(self._sweep_forever(), name="netplay-sweep")

    def _not_ready(self) -> str | None:
        """Why the server cannot take players now, for ``/readyz`` (draining is said by the route)."""
        if self.hub is None or self.hub.closing:
            return "stopping"
        if getattr(self.hub.store, "failing", False):
            return "the database cannot be written"
        return None

    @property
    def address(self) -> tuple[str, int]:
        return self.config.host, self.port

    async def _sweep_forever(self) -> None:
        """Every ``sweep_interval``: timeouts, the event loop's lag (how late this very timer ran),
        and whether a draining server may stop."""
        hub = self.hub
        assert hub is not None
        loop = asyncio.get_running_loop()
        interval = self.config.sweep_interval
        while True:
            due = loop.time() + interval
            await asyncio.sleep(interval)
            hub.stats.loop_lag.observe(max(loop.time() - due, 0.0))
            try:
                hub.sweep()
            except Exception:  # the sweep must never die, or timeouts stop being enforced
                log.exception("timeout sweep failed", extra={"event": "internal_error"})
            if operations.drained(hub, hub.now()):
                log.info("drained: stopping", extra={"event": "drained"})
                self._stopping = asyncio.create_task(self.stop(DRAINED))  # stop() ends this task
                return

    async def stop(self, reason: str = "the server is shutting down", grace: float = 2.0) -> None:
        """Stop accepting, tell every client why, and wait (up to ``grace`` s) for them to go."""
        if self._stopped.is_set():
            return
        if self.cluster is not None:  # first: its players who reconnect elsewhere resume there
            await self.cluster.leaving()
        for server in self._servers:
            server.close()
        if self.text is not None:
            self.text.shutdown()
        if self.web is not None:
            self.web.shutdown()
        if self._sweeper is not None:
            self._sweeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._sweeper
        if self.hub is not None:
            self.hub.shutdown(reason)
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(grace):
                    await self.hub.wait_empty()
        for server in self._servers:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(server.wait_closed(), grace)
        if self.cluster is not None:
            await self.cluster.stop()
        if self.hub is not None:
            self.hub.bots.close()
        if self.store is not None:
            self.store.close()
        logging.getLogger("netplay").removeHandler(self._errors)
        self._stopped.set()

    async def wait_stopped(self) -> None:
        await self._stopped.wait()

    async def __aenter__(self) -> Server:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()


def install_uvloop() -> bool:
    """Use uvloop's event loop policy where it is installed; report whether it is."""
    if sys.platform == "win32":
        return False
    try:
        import uvloop
    except ImportError:
        return False
    asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())
    return True


def raise_nofile_limit() -> int | None:
    """Raise the soft open-files limit to the hard one, so a server can hold many thousand clients.

    Returns the limit now in force (None where the platform has no such limit).
    """
    try:
        import resource
    except ImportError:  # Windows
        return None
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    with contextlib.suppress(ValueError, OSError):
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
        soft = hard
    return int(soft)


def fit_connections_to_files(config: ServerConfig, open_files: int | None) -> None:
    """Keep ``max_connections`` under the open-files limit, so a full server refuses clearly
    (``server_full``) instead of failing to accept; say so when it has to be lowered."""
    if open_files is None or not 0 < open_files < 2**31:  # no limit, or RLIM_INFINITY
        return
    room = max(open_files - 100, 1)  # listeners, the database, logs...
    if config.max_connections > room:
        # Loud only when someone asked for more than this machine allows; the default adapts quietly.
        asked = config.max_connections != ServerConfig().max_connections
        log.log(
            logging.WARNING if asked else logging.DEBUG,
            "max_connections lowered from %d to %d: the open-files limit is %d",
            config.max_connections,
            room,
            open_files,
            extra={"event": "config"},
        )
        config.max_connections = room


def run(
    config: ServerConfig,
    games: Iterable[Game | RealtimeGame] | None = None,
    *,
    on_ready: Callable[[Server], Any] | None = None,
    use_uvloop: bool = True,
    relay_checks: Iterable[RelayCheck] = (),
) -> None:
    """Serve until SIGINT or SIGTERM, then shut down cleanly, telling the clients why."""
    fit_connections_to_files(config, raise_nofile_limit())
    if use_uvloop:
        install_uvloop()

    async def main() -> None:
        server = Server(config, games, relay_checks=relay_checks)
        await server.start()
        # What is alive now (modules, games, the rooms restored) lives as long as the process:
        # out of the cycle collector's sight, so that its full passes walk only what play makes.
        gc.collect()
        gc.freeze()
        loop = asyncio.get_running_loop()
        stopping: list[asyncio.Task[None]] = []  # holds the task, so it is not garbage-collected

        def on_signal(signum: signal.Signals) -> None:
            if not stopping:  # the signal's name is for the log, not for the players
                log.info("%s: shutting down", signum.name, extra={"event": "shutdown", "reason": signum.name})
                stopping.append(asyncio.create_task(server.stop("the server is shutting down")))

        for signum in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError):  # Windows: Ctrl-C raises instead
                loop.add_signal_handler(signum, on_signal, signum)
        if on_ready is not None:
            on_ready(server)
        await server.wait_stopped()

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(main())
