"""The ``netplay`` command: serve, play, and look around a server."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import json
import math
import os
import shlex
import ssl
import sys
from collections.abc import Callable, Coroutine, Sequence
from typing import Any

from . import __version__
from .client.admin import read_token, run_admin
from .client.aio import Client, NetplayError, parse_server
from .client.safe_text import safe_text
from .client.terminal import COMMANDS, PlayOptions, run_play
from .games import Game, RealtimeGame, builtin_games, load_game
from .games.engine import TimeControl
from .games.relaycheck import load_relay_check
from .protocol.text112 import IdPool
from .proxy import Link, parse_duration, serve_proxy
from .replay import list_matches, plural, replay_match, show_matches, show_replay
from .server import ServerConfig
from .server.app import Server, install_uvloop, run
from .server.logs import configure as configure_logs
from .store import StoreError
from .transports.websocket import load_game_board

DEFAULT_PORT = 7777
DEFAULT_DB = os.environ.get("NETPLAY_DB", "netplay.db")


def _add_address(parser: argparse.ArgumentParser, *, servers: bool = False) -> None:
    """--host, --port and the TLS options; ``servers``: also --server HOST:PORT (repeatable), the
    other way of naming the server, which cannot be mixed with --host/--port."""
    way: dict[str, Any] = {"action": _AddressWay} if servers else {}
    parser.add_argument("--host", default="127.0.0.1", help="server address (default 127.0.0.1)", **way)
    parser.add_argument(
        "--port",
        type=_port,
        default=DEFAULT_PORT,
        help=f"server port, 1 to 65535 (default {DEFAULT_PORT})",
        **way,
    )
    if servers:
        parser.add_argument(
            "--server",
            type=_server,
            action=_AddressWay,
            metavar="HOST:PORT",
            help="a server to connect to ([::1]:7777 for IPv6), instead of --host/--port; repeat it "
            "for the nodes of a cluster: they are tried in order, and the next is tried when one fails",
        )
    parser.add_argument("--tls", action="store_true", help="connect with TLS (a server run with --tls-cert)")
    parser.add_argument("--tls-ca", help="PEM file of the certificate authority to trust (implies --tls)")


class _AddressWay(argparse.Action):
    """Stores --host, --port or --server (appended): an argparse error if --server is mixed with
    either of the others, whichever comes first on the command line."""

    def __call__(
        self,
        parser: argparse.ArgumentParser,
        namespace: argparse.Namespace,
        values: Any,
        option_string: str | None = None,
    ) -> None:
        way = "--server" if self.dest == "server" else "--host/--port"
        if getattr(namespace, "address_way", way) != way:
            parser.error(
                "--server cannot be combined with --host or --port: give every server as --server HOST:PORT"
            )
        namespace.address_way = way
        if self.dest == "server":
            values = [*(getattr(namespace, self.dest, None) or []), values]
        setattr(namespace, self.dest, values)


def _server(text: str) -> tuple[str, int]:
    """An argparse type: ``HOST:PORT`` (``[::1]:7777``); the error says what is wrong with it."""
    try:
        return parse_server(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _ssl(args: argparse.Namespace) -> ssl.SSLContext | None:
    """The client's TLS context from --tls / --tls-ca, or None for plain TCP."""
    if not (args.tls or args.tls_ca):
        return None
    return ssl.create_default_context(cafile=args.tls_ca)


#: The largest port number, and the largest frame the 4-byte length prefix can announce.
_MAX_PORT = 65535
_MAX_FRAME = 2**32 - 1


def _integer(least: int, most: int | None = None, *, zero: str | None = None) -> Callable[[str], int]:
    """An argparse type: a whole number from ``least`` to ``most``; an error names the range.

    ``zero`` says what 0 means where ``least`` is 0 ("any free port").
    """
    allowed = f"use {least} to {most}" if most is not None else f"use {least} or more"
    if zero is not None:
        allowed += f" (0: {zero})"

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a whole number: {allowed}") from None
        if value < least or (most is not None and value > most):
            raise argparse.ArgumentTypeError(f"{text} is out of range: {allowed}")
        return value

    return parse


def _number(unit: str, *, zero: str | None = None) -> Callable[[str], float]:
    """An argparse type: a finite number of ``unit`` above 0 (or 0, meaning ``zero``, if given)."""
    allowed = f"use a number of {unit} above 0"
    if zero is not None:
        allowed = f"use 0 ({zero}) or a number of {unit} above 0"

    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a number: {allowed}") from None
        if not math.isfinite(value):
            raise argparse.ArgumentTypeError(f"{text} is not a finite number: {allowed}")
        if value < 0 or (value == 0 and zero is None):
            raise argparse.ArgumentTypeError(f"{text} is out of range: {allowed}")
        return value

    return parse


#: A port to connect to, and one to listen on (0: the system picks a free one).
_port = _integer(1, _MAX_PORT)
_listen_port = _integer(0, _MAX_PORT, zero="any free port")
_count = _integer(1)
_seconds = _number("seconds")


def _time_control(text: str) -> str:
    """A time control as the server spells it ("5m+3" is "300+3"); an error naming the accepted forms."""
    try:
        return str(TimeControl.parse(text))
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _text_names(text: str) -> tuple[str, ...]:
    names = tuple(name.strip() for name in text.split(","))
    try:
        IdPool(names)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return names


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="netplay", description="Multiplayer games over sockets: serve, play, watch."
    )
    parser.add_argument("--version", action="version", version=f"netplay {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    serve = sub.add_parser("serve", help="run a server (built-in games, or your own with --game)")
    serve.add_argument(
        "--host",
        default="127.0.0.1",
        help="address to listen on (default 127.0.0.1: this machine only); 0.0.0.0 lets others on "
        "your network join",
    )
    serve.add_argument(
        "--port",
        type=_listen_port,
        default=DEFAULT_PORT,
        help=f"TCP port, 0 to 65535 (default {DEFAULT_PORT}; 0 picks a free one)",
    )
    serve.add_argument(
        "--game",
        action="append",
        default=[],
        metavar="MODULE:CLASS",
        help="serve your own game (repeatable); the built-in games are served too",
    )
    serve.add_argument(
        "--relay-check",
        action="append",
        default=[],
        metavar="MODULE:CLASS",
        help="check every message of the relay rooms a RelayCheck names (its label; repeatable): "
        "accept, refuse or rewrite it (docs/games.md)",
    )
    defaults = ServerConfig()
    serve.add_argument(
        "--max-frame",
        type=_integer(1, _MAX_FRAME),
        default=defaults.max_frame,
        metavar="BYTES",
        help="largest message a client may send, in bytes (default %(default)s)",
    )
    serve.add_argument(
        "--handshake-timeout",
        type=_seconds,
        default=defaults.handshake_timeout,
        metavar="SECONDS",
        help="a client must say hello within this time of connecting (default %(default)s)",
    )
    serve.add_argument(
        "--heartbeat",
        type=_seconds,
        default=defaults.heartbeat_interval,
        metavar="SECONDS",
        help="silence after which the server pings a client (default %(default)s)",
    )
    serve.add_argument(
        "--idle-timeout",
        type=_seconds,
        default=defaults.idle_timeout,
        metavar="SECONDS",
        help="silence after which a client is disconnected (default %(default)s)",
    )
    serve.add_argument(
        "--max-send-buffer",
        type=_count,
        default=defaults.max_send_buffer,
        metavar="BYTES",
        help="bytes queued for a client that is not reading before it is cut off (default %(default)s)",
    )
    serve.add_argument(
        "--bot-delay",
        type=_number("seconds", zero="no pause"),
        default=defaults.bot_delay,
        metavar="SECONDS",
        help="seconds a server-side bot waits before moving (default %(default)s)",
    )
    serve.add_argument(
        "--bot-workers",
        type=_integer(0, 256, zero="bots think in threads of the server process"),
        default=defaults.bot_workers,
        metavar="N",
        help="worker processes server-side bots think in, off the server's core "
        "(default %(default)s here: one per core but the server's; 0: threads of the server process)",
    )
    serve.add_argument(
        "--bot-time",
        type=_number("seconds"),
        default=defaults.bot_time,
        metavar="SECONDS",
        help="seconds a server-side bot may think over a move; past them a random legal move is "
        "played for it (default %(default)s)",
    )
    serve.add_argument(
        "--move-timeout",
        type=_number("seconds", zero="no limit"),
        default=defaults.move_timeout,
        metavar="SECONDS",
        help="in rooms without a clock, a player who takes longer than this over a move loses on time "
        f"(default {defaults.move_timeout:g}; 0: no limit)",
    )
    # -- durability and limits (docs/operations.md) --
    keep = serve.add_argument_group("matches kept on disk, reconnection, limits (docs/operations.md)")
    keep.add_argument(
        "--db",
        default=DEFAULT_DB,
        help=f"SQLite file where matches are kept (default {DEFAULT_DB}; ':memory:' keeps nothing)",
    )
    keep.add_argument(
        "--db-sync",
        choices=["normal", "full"],
        default="normal",
        help="normal (the default): a move survives a crash of the server; full: also a power cut "
        "(a move is acknowledged once an fsync of it is done; fsyncs run in batches, off the event loop)",
    )
    keep.add_argument(
        "--reconnect-grace",
        type=_number("seconds", zero="seats are freed at once"),
        default=defaults.reconnect_grace,
        metavar="SECONDS",
        help="seconds a dropped player keeps its seat, waiting to reconnect (default %(default)s)",
    )
    keep.add_argument(
        "--rate-limit",
        type=_number("messages per second", zero="no limit"),
        default=defaults.rate_limit,
        metavar="PER_SECOND",
        help="messages per second a connection may send on average (default %(default)s; 0: no limit)",
    )
    keep.add_argument(
        "--rate-burst",
        type=_count,
        default=defaults.rate_burst,
        metavar="N",
        help="messages a connection may send at once (default %(default)s)",
    )
    keep.add_argument(
        "--byte-rate",
        type=_number("bytes per second", zero="no limit"),
        default=defaults.byte_rate,
        metavar="PER_SECOND",
        help="bytes per second a connection may send on average; past it the server reads it no "
        "faster, which slows the sender down (default %(default)s; 0: no limit)",
    )
    keep.add_argument(
        "--byte-burst",
        type=_count,
        default=defaults.byte_burst,
        metavar="BYTES",
        help="bytes a connection may send at once, before --byte-rate applies (default %(default)s)",
    )
    keep.add_argument(
        "--max-connections",
        type=_count,
        default=defaults.max_connections,
        metavar="N",
        help="connections at once, every socket counted; one more is refused (default %(default)s)",
    )
    keep.add_argument(
        "--max-connections-per-address",
        type=_integer(0, zero="no limit"),
        default=defaults.max_connections_per_address,
        metavar="N",
        help="connections at once from one IP address (IPv6: one /64); one more is refused "
        "(default %(default)s; 0: no limit, for a server behind a reverse proxy)",
    )
    keep.add_argument(
        "--max-rooms-per-client",
        type=_count,
        default=defaults.max_rooms_per_client,
        metavar="N",
        help="rooms one connection may be in at once (default %(default)s)",
    )
    keep.add_argument(
        "--tls-cert",
        metavar="FILE",
        help="PEM certificate: serve TLS (and wss://) instead of plain TCP (default: plain TCP)",
    )
    keep.add_argument("--tls-key", metavar="FILE", help="PEM private key for --tls-cert")
    # -- end durability and limits --
    text = serve.add_argument_group("15-112 text clients (docs/15-112.md)")
    text.add_argument(
        "--text-port",
        type=_listen_port,
        metavar="PORT",
        help="also serve the CMU 15-112 sockets starter code's line protocol on this port "
        "(0 to 65535; 0 picks a free one; default: not served)",
    )
    text.add_argument(
        "--text-names",
        type=_text_names,
        default=(),
        metavar="A,B,...",
        help="ids for text clients in join order (the list length caps the players); default Player1, ...",
    )
    text.add_argument(
        "--text-room-size",
        type=_integer(1, defaults.max_relay_members),
        metavar="N",
        help="the first N text clients share a room, the next N the next one "
        f"(1 to {defaults.max_relay_members}; default: one room of up to {defaults.max_relay_members})",
    )
    text.add_argument(
        "--text-leave-notice",
        action="store_true",
        help="send 'playerLeft ID' when someone leaves (an extension of the original protocol)",
    )
    text.add_argument(
        "--text-max-line",
        type=_count,
        default=defaults.text_max_line,
        metavar="BYTES",
        help="longest line a text client may send before it is cut off (default %(default)s)",
    )
    # -- web (docs/javascript.md) --
    web = serve.add_argument_group("browsers: the web page and WebSocket clients (docs/javascript.md)")
    web.add_argument(
        "--web-port",
        type=_listen_port,
        metavar="PORT",
        help="serve the web page and WebSocket on this port (0 to 65535; 0 picks a free one; "
        "default: on --port, with the TCP clients)",
    )
    web.add_argument("--no-web", action="store_true", help="no web page and no WebSocket: TCP clients only")
    web.add_argument(
        "--origin",
        action="append",
        metavar="URL",
        help="only pages from this origin (e.g. https://example.com; repeatable) and the server's own "
        "may open a WebSocket; default: any page",
    )
    # -- end web --
    serve.add_argument("--no-uvloop", action="store_true", help="use the standard asyncio event loop")
    serve.add_argument(
        "--log-level",
        default="INFO",
        choices=["DEBUG", "INFO", "WARNING", "ERROR"],
        help="the least important messages the server logs (default %(default)s)",
    )
    serve.add_argument(
        "--log-format",
        default="text",
        choices=["text", "json"],
        help="log lines for people (text, the default) or one JSON object a line, with stable field "
        "names, for log collectors (docs/operations.md)",
    )
    cluster = serve.add_argument_group("a cluster of nodes on Redis (docs/cluster.md)")
    cluster.add_argument(
        "--redis",
        metavar="URL",
        help="join the cluster that Redis at URL holds together (redis://HOST:PORT/DB): every node "
        "lists every room and serves any client in any room",
    )
    cluster.add_argument(
        "--workers",
        type=int,
        default=1,
        metavar="N",
        help="start N processes on this machine sharing its ports (SO_REUSEPORT), one per core; "
        "needs --redis (default 1: this process alone)",
    )
    cluster.add_argument("--node-name", help="this node's name in the cluster (default: host-pid-random)")
    cluster.add_argument(
        "--lease",
        type=float,
        default=10.0,
        metavar="SECONDS",
        help="a node silent this long is taken for dead and its rooms adopted by the others (default 10)",
    )
    cluster.add_argument(
        "--batch-delay",
        type=float,
        default=0.001,
        metavar="SECONDS",
        help="how long messages for another node wait for more to go with them: less CPU per "
        "message for that much more latency across nodes (default 0.001; 0: none)",
    )
    cluster.add_argument("--worker", type=int, default=0, help=argparse.SUPPRESS)  # set by --workers
    # -- operations (docs/operations.md) --
    ops = serve.add_argument_group("operations: metrics, health, admin (docs/operations.md)")
    ops.add_argument(
        "--admin-token-file",
        metavar="FILE",
        help="turn on /admin and `netplay admin`, with the token on this file's first line "
        "(default: no admin at all)",
    )
    ops.add_argument(
        "--admin-token",
        metavar="TOKEN",
        help="the same, with the token given here (or in $NETPLAY_ADMIN_TOKEN; other users can see "
        "a command line: prefer the file)",
    )
    ops.add_argument(
        "--metrics-port",
        type=_listen_port,
        metavar="PORT",
        help="serve /metrics, /healthz and /readyz on this port too (0 picks a free one; default: "
        "only on the web port)",
    )

    admin = sub.add_parser(
        "admin",
        help="look after a running server: its rooms and players, notices, drain (needs its admin token)",
    )
    admin.add_argument(
        "--url",
        default=f"http://127.0.0.1:{DEFAULT_PORT}",
        help=f"the server's web address (default http://127.0.0.1:{DEFAULT_PORT})",
    )
    admin.add_argument("--token-file", metavar="FILE", help="the admin token, on this file's first line")
    admin.add_argument("--token", help="the admin token (or set NETPLAY_ADMIN_TOKEN)")
    tasks = admin.add_subparsers(dest="task", required=True, metavar="TASK")
    tasks.add_parser("status", help="the server's key figures and last errors")
    tasks.add_parser("rooms", help="every room")
    tasks.add_parser("players", help="every player, connected or away")
    show = tasks.add_parser("room", help="a room: its state and its moves")
    show.add_argument("id")
    close = tasks.add_parser("close", help="close a room; its players are told why")
    close.add_argument("id")
    close.add_argument("--reason", help="what the players are told")
    kick = tasks.add_parser("kick", help="disconnect a player (its seats are given up)")
    kick.add_argument("id", help="the player id (see `netplay admin players`)")
    kick.add_argument("--reason", help="what the player is told")
    notice = tasks.add_parser("notice", help="send a notice to every player, or to one room")
    notice.add_argument("text")
    notice.add_argument("--room", help="only this room's members")
    drain = tasks.add_parser(
        "drain", help="start no new match, let the running ones finish, then stop the server"
    )
    drain.add_argument(
        "--deadline",
        type=_number("seconds"),
        metavar="SECONDS",
        help="stop then even if matches are still running (they are kept, and resume after a restart)",
    )
    drain.add_argument("--wait", action="store_true", help="wait, reporting, until the server has stopped")

    proxy = sub.add_parser(
        "proxy",
        help="forward to a server through a bad network: latency, jitter, stalls (try a game on lag)",
    )
    proxy.add_argument("--to", required=True, metavar="HOST:PORT", help="the server to forward to")
    proxy.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    proxy.add_argument(
        "--port",
        type=_listen_port,
        default=DEFAULT_PORT + 1,
        help=f"port to listen on (default {DEFAULT_PORT + 1})",
    )
    proxy.add_argument(
        "--latency", type=_duration, default=0.0, metavar="TIME",
        help="added to every round trip, half each way (e.g. 150ms; default 0)",
    )  # fmt: skip
    proxy.add_argument(
        "--jitter", type=_duration, default=0.0, metavar="TIME",
        help="each chunk's delay varies by up to this much, order kept (e.g. 30ms; default 0)",
    )  # fmt: skip
    proxy.add_argument(
        "--stall-every", type=_duration, default=0.0, metavar="TIME",
        help="stop the link this often (e.g. 10s; default never)",
    )  # fmt: skip
    proxy.add_argument(
        "--stall-for", type=_duration, default=1.0, metavar="TIME", help="for this long (default 1s)"
    )

    play = sub.add_parser(
        "play",
        help="play a game at the terminal (quick-match by default)",
        description="Play (or watch) a game at the terminal. At the move prompt, type a move or one of: "
        + "; ".join(f"{word}: {what}" for word, what in COMMANDS.items())
        + ".",
    )
    play.add_argument("game", help="the game to play, e.g. tictactoe or connect4")
    _add_address(play, servers=True)
    play.add_argument("--name", help="your name in the room (default: your login name)")
    play.add_argument(
        "--bot",
        nargs="?",
        const="",
        metavar="BOT",
        help="let a bot play this seat (e.g. minimax, random); without BOT, the game's default bot",
    )
    play.add_argument(
        "--vs",
        nargs="?",
        const="",
        metavar="BOT",
        help="play against the server's bot BOT (e.g. minimax) in a private room of your own; "
        "without BOT, the game's default bot (see `netplay games`)",
    )
    play.add_argument(
        "--games",
        type=_count,
        default=1,
        metavar="N",
        help="games to play in a row in the same room (default 1)",
    )
    play.add_argument(
        "--json",
        action="store_true",
        help='end with one JSON line {"games", "won", "lost", "drawn"}',
    )
    play.add_argument("--room", help="join this room id instead of quick-matching")
    play.add_argument("--code", help="join the private room with this code")
    play.add_argument("--private", action="store_true", help="open a private room and print its code")
    play.add_argument(
        "--spectate", action="store_true", help="watch instead of playing (with --room or --code)"
    )
    play.add_argument(
        "--rules",
        metavar="MODULE:CLASS",
        help="local copy of a custom game's rules, for drawing it",
    )
    play.add_argument("--seed", type=int, help="seed for the bot's random choices")
    play.add_argument(
        "--new",
        action="store_true",
        help="start afresh: do not take back the seat kept from an earlier run of this command "
        "(its process died), and forget it",
    )
    play.add_argument(
        "--clock",
        type=_time_control,
        metavar="CONTROL",
        help="play with a clock: 300+5 (300 s each, plus 5 s a move), 5m+3, or 30/move; quick-match "
        "pairs only players asking for the same clock",
    )
    play.add_argument(
        "--option",
        type=_option,
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="an option of the game, e.g. points=1 for pong or players=6 for arena: for the room "
        "this command opens, or to quick-match only into rooms made with it; the value is read "
        "as JSON (else taken as text); repeatable",
    )

    games = sub.add_parser("games", help="list the games a server offers")
    _add_address(games)
    matches = sub.add_parser("matches", help="list recent matches kept in a server's database")
    kept = matches.add_mutually_exclusive_group()
    kept.add_argument("--db", default=DEFAULT_DB, help=f"the server's SQLite file (default {DEFAULT_DB})")
    kept.add_argument("--redis", metavar="URL", help="a cluster's matches, in its Redis (docs/cluster.md)")
    matches.add_argument(
        "--limit", type=_count, default=20, metavar="N", help="how many matches to list (default 20)"
    )
    replay = sub.add_parser("replay", help="print a kept match move by move")
    replay.add_argument("match", help="the match id (see `netplay matches`)")
    kept = replay.add_mutually_exclusive_group()
    kept.add_argument("--db", default=DEFAULT_DB, help=f"the server's SQLite file (default {DEFAULT_DB})")
    kept.add_argument("--redis", metavar="URL", help="a cluster's matches, in its Redis (docs/cluster.md)")
    replay.add_argument("--rules", metavar="MODULE:CLASS", help="the rules of a game that is not built in")
    rooms = sub.add_parser("rooms", help="list a server's rooms")
    _add_address(rooms)
    rooms.add_argument("--game", help="only rooms of this game")
    cluster_command = sub.add_parser(
        "cluster", help="look at a cluster of nodes (netplay serve --redis) in its Redis (docs/cluster.md)"
    )
    cluster_tasks = cluster_command.add_subparsers(dest="task", required=True, metavar="TASK")
    cluster_status = cluster_tasks.add_parser(
        "status", help="every node (alive or DEAD), its rooms, players and lease; rooms waiting to be adopted"
    )
    cluster_status.add_argument(
        "--redis",
        required=True,
        metavar="URL",
        help="the cluster's Redis (redis://HOST:PORT/DB), as the nodes got it",
    )
    cluster_status.add_argument("--json", action="store_true", help="the same report as one JSON object")
    return parser


def _option(text: str) -> tuple[str, Any]:
    key, sep, value = text.partition("=")
    if not sep or not key:
        raise argparse.ArgumentTypeError(f"{text!r}: give KEY=VALUE, e.g. points=3")
    try:
        return key, json.loads(value)
    except ValueError:
        return key, value


def _login_name() -> str | None:
    """The user's login name, as a player's name people can read (None: the server picks one)."""
    try:
        name = getpass.getuser().strip()
    except Exception:  # no such user (a container's uid with no passwd entry): getpass raises
        return None
    return name[:32] if name and name.isprintable() else None


def _serve_check(args: argparse.Namespace) -> str | None:
    """What is wrong with the cluster options, in words (None: nothing)."""
    if args.workers < 1:
        return "--workers must be at least 1"
    if args.redis is not None and args.text_names:
        return "--text-names cannot be used with --redis: each node would hand out the same names"
    if not 0 <= args.batch_delay <= 1:
        return "--batch-delay must be between 0 and 1 second"
    if args.workers > 1 and args.redis is None:
        return "--workers needs --redis: the workers share their rooms and lobby through it"
    if args.workers > 1 and args.port == 0:
        return "--workers needs a port (not 0): every worker listens on the same one"
    return None


def _serve(args: argparse.Namespace) -> int:
    configure_logs(args.log_level, args.log_format)
    wrong = _serve_check(args)
    if wrong is not None:
        print(f"error: {wrong}", file=sys.stderr)
        return 2
    if args.workers != 1:
        from .server.workers import serve_workers

        return serve_workers(args, sys.argv[1:])
    try:
        admin_token = read_token(args.admin_token, args.admin_token_file)
    except OSError as exc:
        print(f"error: --admin-token-file: {exc.strerror}: {args.admin_token_file}", file=sys.stderr)
        return 2
    if admin_token is not None and len(admin_token) < 16:
        print(
            "error: the admin token must be at least 16 characters (try: openssl rand -hex 16)",
            file=sys.stderr,
        )
        return 2
    games: dict[str, Game | RealtimeGame] = builtin_games()
    custom: list[str] = []  # the user's own games: the banner suggests playing one of them
    for spec in args.game:
        try:
            game = load_game(spec)
            if not args.no_web:
                load_game_board(game)  # the board module it ships must be there: said now, in words
        except ValueError as exc:
            print(f"error: --game {exc}", file=sys.stderr)
            return 2
        games[game.name] = game
        custom.append(game.name)
    checks = []
    for spec in args.relay_check:
        try:
            checks.append(load_relay_check(spec))
        except ValueError as exc:
            print(f"error: --relay-check {exc}", file=sys.stderr)
            return 2
    config = ServerConfig(
        host=args.host,
        port=args.port,
        max_frame=args.max_frame,
        handshake_timeout=args.handshake_timeout,
        heartbeat_interval=args.heartbeat,
        idle_timeout=args.idle_timeout,
        max_send_buffer=args.max_send_buffer,
        bot_delay=args.bot_delay,
        bot_workers=args.bot_workers,
        bot_time=args.bot_time,
        move_timeout=args.move_timeout,
        db=args.db,
        db_durable=args.db_sync == "full",
        reconnect_grace=args.reconnect_grace,
        rate_limit=args.rate_limit,
        rate_burst=args.rate_burst,
        byte_rate=args.byte_rate,
        byte_burst=args.byte_burst,
        max_connections=args.max_connections,
        max_connections_per_address=args.max_connections_per_address,
        max_rooms_per_client=args.max_rooms_per_client,
        tls_cert=args.tls_cert,
        tls_key=args.tls_key,
        text_port=args.text_port,
        text_names=args.text_names,
        text_room_size=args.text_room_size,
        text_leave_notice=args.text_leave_notice,
        text_max_line=args.text_max_line,
        web=not args.no_web,
        admin_token=admin_token,
        metrics_port=args.metrics_port,
        web_port=args.web_port,
        web_origins=tuple(args.origin) if args.origin else None,
        redis=args.redis,
        node_name=args.node_name,
        cluster_lease=args.lease,
        cluster_batch_delay=args.batch_delay,
        reuse_port=args.worker > 0,
    )
    uvloop = not args.no_uvloop and install_uvloop()

    def ready(server: Server) -> None:
        host, port = server.address
        if args.worker > 1:  # worker 1 says it all for every worker of this machine
            print(
                f"netplay worker {args.worker} (node {config.node_name}) serving on {host}:{port}", flush=True
            )
            return
        shown = "127.0.0.1" if host in ("0.0.0.0", "::", "") else host
        loop_name = "uvloop" if uvloop else "asyncio"
        first = custom[-1] if custom else next(iter(games))
        print(
            f"netplay {__version__} serving {', '.join(games)} on {host}:{port} ({loop_name})",
            flush=True,
        )
        tls = " --tls" if config.tls_cert else ""
        rules = games[first]
        if isinstance(rules, RealtimeGame):  # played in a browser or a game loop; a bot at a terminal
            bot = f" --bot {next(iter(rules.bots))}" if rules.bots else ""
            joining = f"netplay play {first} --host {shown} --port {port}{tls}{bot}"
        else:
            joining = f"netplay play {first} --host {shown} --port {port}{tls}"
        print(f"Join from another terminal:  {joining}", flush=True)
        if host == "127.0.0.1":
            print("Only this machine can join; use --host 0.0.0.0 to let your network in.", flush=True)
        if server.text_port is not None:
            print(f"15-112 text clients: port {server.text_port} (rooms of game '15-112')", flush=True)
        if server.web_port is not None:
            scheme = "https" if config.tls_cert else "http"
            print(f"Play in a browser:  {scheme}://{shown}:{server.web_port}/", flush=True)
            if config.admin_token:
                print(
                    f"Admin page:  {scheme}://{shown}:{server.web_port}/admin (with the admin token)",
                    flush=True,
                )
        if server.metrics_port is not None:
            print(
                f"Metrics and health: http://{shown}:{server.metrics_port}/metrics, /healthz, /readyz",
                flush=True,
            )
        if server.cluster is not None:  # (a node's matches are the cluster's, in Redis: no SQLite file)
            shown_redis = redact(config.redis or "")
            print(f"Node {server.cluster.name} of the cluster at {shown_redis}.", flush=True)
            see = f"netplay matches --redis {shlex.quote(shown_redis)}"
            print(f"Matches are kept in the cluster's Redis (see: {see}).", flush=True)
        elif config.db and config.db != ":memory:":
            kept = os.path.abspath(config.db)  # the command works from any folder with the full path
            print(f"Matches are kept in {kept} (see: netplay matches --db {shlex.quote(kept)}).", flush=True)
        if server.restored:
            were = "match that was" if server.restored == 1 else "matches that were"
            print(f"Resumed {server.restored} {were} in progress.", flush=True)
        print("Stop with Ctrl-C.", flush=True)

    from .server.cluster import ClusterUnavailable  # redis-py is imported only by a server
    from .server.cluster.status import redact

    try:
        run(config, games.values(), on_ready=ready, use_uvloop=False, relay_checks=checks)
    except StoreError as exc:
        print(f"error: --db {exc}", file=sys.stderr)
        return 1
    except ClusterUnavailable as exc:
        print(f"error: --redis: {exc}", file=sys.stderr)
        return 1
    except OSError as exc:
        print(
            f"error: cannot listen on {args.host}:{args.port}"
            + (f" (text port {args.text_port})" if args.text_port is not None else "")
            + (f" (web port {args.web_port})" if args.web_port is not None else "")
            + f": {exc.strerror or exc}",
            file=sys.stderr,
        )
        return 1
    print("netplay server stopped.", flush=True)
    return 0


async def _ask(args: argparse.Namespace, message: dict[str, object]) -> dict[str, object]:
    async with await Client.connect(args.host, args.port, reconnect=False, ssl=_ssl(args)) as client:
        return await client.request(message)


def _query(args: argparse.Namespace, message: dict[str, object]) -> dict[str, object] | None:
    try:
        return asyncio.run(_ask(args, message))
    except (OSError, TimeoutError) as exc:
        print(
            f"error: cannot reach a netplay server at {args.host}:{args.port} ({exc})",
            file=sys.stderr,
        )
    except NetplayError as exc:
        print(safe_text(f"error: {exc.message}"), file=sys.stderr)
    return None


def _games(args: argparse.Namespace) -> int:
    reply = _query(args, {"type": "list_games"})
    if reply is None:
        return 1
    for game in reply["games"]:  # type: ignore[attr-defined]
        bots = ", ".join(game["bots"]) or "none"
        count = game["players"]
        players = plural(count, "player") if isinstance(count, int) else f"{count} players"
        line = f"{game['name']:<12} {players:<9}  bots: {bots:<16} {game['description']}"
        print(safe_text(line))
    return 0


def _duration(text: str) -> float:
    try:
        return parse_duration(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _proxy(args: argparse.Namespace) -> int:
    host, _, port_text = args.to.rpartition(":")
    if not host or not port_text.isdigit() or not 1 <= int(port_text) <= 65535:
        print(f"error: --to {args.to!r}: give HOST:PORT, e.g. 127.0.0.1:7777", file=sys.stderr)
        return 2
    link = Link(args.latency, args.jitter, args.stall_every, args.stall_for)

    async def main() -> None:
        async with serve_proxy((host, int(port_text)), link, host=args.host, port=args.port) as proxy:
            stalls = f", {link.stall_for:g} s stalls every {link.stall_every:g} s" if link.stall_every else ""
            added = f"+{link.latency * 1000:g} ms round trip, jitter {link.jitter * 1000:g} ms{stalls}"
            print(f"netplay proxy on {args.host}:{proxy.port} -> {host}:{port_text}: {added}", flush=True)
            print(
                f"Play through it:  netplay play tictactoe --port {proxy.port}   (Ctrl-C stops it)",
                flush=True,
            )
            await asyncio.Event().wait()

    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        pass
    except OSError as exc:
        print(f"error: cannot listen on {args.host}:{args.port}: {exc.strerror or exc}", file=sys.stderr)
        return 1
    return 0


def _rooms(args: argparse.Namespace) -> int:
    message: dict[str, object] = {"type": "list_rooms"}
    if args.game:
        message["game"] = args.game
    reply = _query(args, message)
    if reply is None:
        return 1
    rooms = reply["rooms"]
    if not rooms:
        print("No rooms. Start one with: netplay play tictactoe")
    elif reply.get("next") is not None:
        first = plural(len(rooms), "room")  # type: ignore[arg-type]
        print(f"The first {first} (there are more; name a game to see only its rooms):")
    for room in rooms:  # type: ignore[attr-defined]
        privacy = "private" if room["private"] else "public"
        if room["kind"] == "match":
            names = ", ".join(p["name"] or "(private)" for p in room["players"]) or "-"
            line = (
                f"{room['id']}  {room['game']:<10} {privacy:<7} {room['status']:<8} "
                f"{room['free_seats']} free of {room['seats']}  players: {names}  "
                f"spectators: {room['spectators']}"
            )
        else:
            line = (
                f"{room['id']}  {room['game']:<10} {privacy:<7} relay    "
                f"{len(room['members'])}/{room['max_members']} members"
            )
        print(safe_text(line))  # labels and names are other people's input
    return 0


def _cluster_status(args: argparse.Namespace) -> int:
    """``netplay cluster status``: what the cluster's Redis says of its nodes, rooms and players
    (read from Redis alone, so it works while nodes are dying)."""
    from .server.cluster import status  # redis-py is imported only by the commands that use it

    shown = status.redact(args.redis)
    failed, raw = _read_redis(shown, lambda: status.read(args.redis))
    if failed:
        return failed
    report = status.summarize(raw, shown)
    print(json.dumps(report) if args.json else status.format_report(report))
    return 0


def _read_redis(shown: str, read: Callable[[], Coroutine[Any, Any, Any]]) -> tuple[int, Any]:
    """Run ``read`` (a look into a cluster's Redis, at ``shown``): (0, what it read), or the exit
    status (2: not a Redis URL, 1: out of reach) once the error is said."""
    from redis.exceptions import RedisError  # redis-py is imported only by the commands that use it

    try:
        return 0, asyncio.run(read())
    except ValueError as exc:  # not a Redis URL
        print(safe_text(f"error: --redis {shown}: {exc}"), file=sys.stderr)
        return 2, None
    except (RedisError, OSError) as exc:
        print(safe_text(f"error: cannot reach Redis at {shown}: {exc}"), file=sys.stderr)
        return 1, None


def _cluster_matches(args: argparse.Namespace) -> int:
    """``netplay matches --redis`` and ``netplay replay --redis``: a cluster's matches, from Redis."""
    from redis.asyncio import Redis

    from .server.cluster import status, store

    shown = status.redact(args.redis)

    async def read() -> Any:
        redis = Redis.from_url(args.redis, socket_connect_timeout=5.0, socket_timeout=5.0)
        try:
            if args.command == "matches":
                return await store.recent_matches(redis, args.limit, status.PREFIX)
            return await store.read_match(redis, args.match, status.PREFIX)
        finally:
            await redis.aclose()

    failed, found = _read_redis(shown, read)
    if failed:
        return failed
    if args.command == "matches":
        return list_matches(found)
    if found is None:
        print(
            safe_text(
                f"error: no match {args.match!r} in the cluster at {shown} (see `netplay matches --redis`)"
            ),
            file=sys.stderr,
        )
        return 1
    return replay_match(found, args.rules)


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    # Like `python -m`, let --game and --rules import modules from the current directory.
    if "" not in sys.path and os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())
    if args.command == "serve":
        return _serve(args)
    if args.command == "play":
        return run_play(
            PlayOptions(
                game=args.game,
                host=args.host,
                port=args.port,
                servers=tuple(args.server or ()),
                name=args.name or _login_name(),
                bot=args.bot,
                vs=args.vs,
                games=args.games,
                room=args.room,
                code=args.code,
                private=args.private,
                spectate=args.spectate,
                json=args.json,
                rules=args.rules,
                seed=args.seed,
                tls=bool(args.tls or args.tls_ca),
                tls_ca=args.tls_ca,
                clock=args.clock,
                new=args.new,
                game_options=dict(args.option),
            )
        )
    if args.command == "games":
        return _games(args)
    if args.command in ("matches", "replay"):
        try:
            if args.redis is not None:
                return _cluster_matches(args)
            if args.command == "matches":
                return show_matches(args.db, args.limit)
            return show_replay(args.db, args.match, args.rules)
        except BrokenPipeError:  # `netplay replay ID | head`: the reader has all it wanted
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # no second error at exit
            return 0
    if args.command == "rooms":
        return _rooms(args)
    if args.command == "cluster":
        return _cluster_status(args)
    if args.command == "proxy":
        return _proxy(args)
    if args.command == "admin":
        try:
            token = read_token(args.token, args.token_file)
        except OSError as exc:
            print(f"error: --token-file: {exc.strerror}: {args.token_file}", file=sys.stderr)
            return 2
        return run_admin(
            args.url,
            token,
            args.task,
            getattr(args, "id", None),
            getattr(args, "text", None),
            room=getattr(args, "room", None),
            reason=getattr(args, "reason", None),
            deadline=getattr(args, "deadline", None),
            wait=getattr(args, "wait", False),
        )
    return 2  # pragma: no cover - argparse rejects unknown commands


if __name__ == "__main__":
    raise SystemExit(main())
