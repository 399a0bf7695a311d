"""The ``netplay`` command: serve, play, and look around a server."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from collections.abc import Sequence

from . import __version__
from .client.aio import Client, NetplayError
from .client.terminal import PlayOptions, run_play
from .games import Game, builtin_games, load_game
from .server import ServerConfig
from .server.app import Server, install_uvloop, run

DEFAULT_PORT = 7777


def _add_address(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", default="127.0.0.1", help="server address (default 127.0.0.1)")
    parser.add_argument(
        "--port", type=int, default=DEFAULT_PORT, help=f"server port (default {DEFAULT_PORT})"
    )


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
        help="address to listen on; 0.0.0.0 lets others on your network join",
    )
    serve.add_argument(
        "--port",
        type=int,
        default=DEFAULT_PORT,
        help=f"TCP port (default {DEFAULT_PORT}; 0 picks a free one)",
    )
    serve.add_argument(
        "--game",
        action="append",
        default=[],
        metavar="MODULE:CLASS",
        help="serve your own game (repeatable); the built-in games are served too",
    )
    defaults = ServerConfig()
    serve.add_argument("--max-frame", type=int, default=defaults.max_frame, help="largest message in bytes")
    serve.add_argument("--handshake-timeout", type=float, default=defaults.handshake_timeout)
    serve.add_argument(
        "--heartbeat",
        type=float,
        default=defaults.heartbeat_interval,
        help="seconds between pings to a quiet client",
    )
    serve.add_argument("--idle-timeout", type=float, default=defaults.idle_timeout)
    serve.add_argument(
        "--max-send-buffer",
        type=int,
        default=defaults.max_send_buffer,
        help="bytes queued for a slow client before it is cut off",
    )
    serve.add_argument(
        "--bot-delay",
        type=float,
        default=defaults.bot_delay,
        help="seconds a server-side bot waits before moving",
    )
    serve.add_argument("--no-uvloop", action="store_true", help="use the standard asyncio event loop")
    serve.add_argument("--log-level", default="INFO", choices=["DEBUG", "INFO", "WARNING", "ERROR"])

    play = sub.add_parser("play", help="play a game at the terminal (quick-match by default)")
    play.add_argument("game", help="the game to play, e.g. tictactoe or connect4")
    _add_address(play)
    play.add_argument("--name", help="your name in the room")
    play.add_argument("--bot", help="let a bot play this seat (e.g. minimax, random)")
    play.add_argument("--games", type=int, default=1, help="games to play in a row in the same room")
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

    games = sub.add_parser("games", help="list the games a server offers")
    _add_address(games)
    rooms = sub.add_parser("rooms", help="list a server's rooms")
    _add_address(rooms)
    rooms.add_argument("--game", help="only rooms of this game")
    return parser


def _serve(args: argparse.Namespace) -> int:
    logging.basicConfig(level=args.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    games: dict[str, Game] = builtin_games()
    for spec in args.game:
        try:
            game = load_game(spec)
        except ValueError as exc:
            print(f"error: --game {exc}", file=sys.stderr)
            return 2
        games[game.name] = game
    config = ServerConfig(
        host=args.host,
        port=args.port,
        max_frame=args.max_frame,
        handshake_timeout=args.handshake_timeout,
        heartbeat_interval=args.heartbeat,
        idle_timeout=args.idle_timeout,
        max_send_buffer=args.max_send_buffer,
        bot_delay=args.bot_delay,
    )
    uvloop = not args.no_uvloop and install_uvloop()

    def ready(server: Server) -> None:
        host, port = server.address
        shown = "127.0.0.1" if host in ("0.0.0.0", "::", "") else host
        loop_name = "uvloop" if uvloop else "asyncio"
        first = next(iter(games))
        print(
            f"netplay {__version__} serving {', '.join(games)} on {host}:{port} ({loop_name})",
            flush=True,
        )
        print(
            f"Join from another terminal:  netplay play {first} --host {shown} --port {port}",
            flush=True,
        )
        if host == "127.0.0.1":
            print("Only this machine can join; use --host 0.0.0.0 to let your network in.", flush=True)
        print("Stop with Ctrl-C.", flush=True)

    try:
        run(config, games.values(), on_ready=ready, use_uvloop=False)
    except OSError as exc:
        print(
            f"error: cannot listen on {args.host}:{args.port}: {exc.strerror or exc}",
            file=sys.stderr,
        )
        return 1
    print("netplay server stopped.", flush=True)
    return 0


async def _ask(host: str, port: int, message: dict[str, object]) -> dict[str, object]:
    async with await Client.connect(host, port) as client:
        return await client.request(message)


def _query(args: argparse.Namespace, message: dict[str, object]) -> dict[str, object] | None:
    try:
        return asyncio.run(_ask(args.host, args.port, message))
    except (OSError, TimeoutError) as exc:
        print(
            f"error: cannot reach a netplay server at {args.host}:{args.port} ({exc})",
            file=sys.stderr,
        )
    except NetplayError as exc:
        print(f"error: {exc.message}", file=sys.stderr)
    return None


def _games(args: argparse.Namespace) -> int:
    reply = _query(args, {"type": "list_games"})
    if reply is None:
        return 1
    for game in reply["games"]:  # type: ignore[attr-defined]
        bots = ", ".join(game["bots"]) or "none"
        print(f"{game['name']:<12} {game['players']} players  bots: {bots:<16} {game['description']}")
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
    for room in rooms:  # type: ignore[attr-defined]
        privacy = "private" if room["private"] else "public"
        if room["kind"] == "match":
            names = ", ".join(p["name"] for p in room["players"]) or "-"
            print(
                f"{room['id']}  {room['game']:<10} {privacy:<7} {room['status']:<8} "
                f"{room['free_seats']} free of {room['seats']}  players: {names}  spectators: {room['spectators']}"
            )
        else:
            print(
                f"{room['id']}  {room['game']:<10} {privacy:<7} relay    "
                f"{len(room['members'])}/{room['max_members']} members"
            )
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "serve":
        return _serve(args)
    if args.command == "play":
        if args.games < 1:
            print("error: --games must be at least 1", file=sys.stderr)
            return 2
        return run_play(
            PlayOptions(
                game=args.game,
                host=args.host,
                port=args.port,
                name=args.name,
                bot=args.bot,
                games=args.games,
                room=args.room,
                code=args.code,
                private=args.private,
                spectate=args.spectate,
                json=args.json,
                rules=args.rules,
                seed=args.seed,
            )
        )
    if args.command == "games":
        return _games(args)
    if args.command == "rooms":
        return _rooms(args)
    return 2  # pragma: no cover - argparse rejects unknown commands


if __name__ == "__main__":
    raise SystemExit(main())
