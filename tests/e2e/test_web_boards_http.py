"""A game's own board module over HTTP: served from the game's folder at /games/NAME/board.js, with
the headers an opaque-origin module import needs, and nothing else of that folder; a board file that
is missing or points out of its folder stops ``netplay serve`` with a message."""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest

import netplay
from netplay.games import Game, builtin_games
from netplay.server import Server
from netplay.transports.websocket import game_board_path, load_game_board
from tests.browser.games.nim_game import BoardNim, Nim

from .test_cli import Proc
from .test_websocket import get, http_get

MakeServer = Callable[..., Awaitable[Server]]
BOARD = Path(__file__).resolve().parents[1] / "browser" / "games" / "board.js"


@pytest.fixture
async def served(make_server: MakeServer) -> Server:
    return await make_server([*builtin_games().values(), Nim(), BoardNim()])


async def test_a_games_board_is_served_with_module_headers(served: Server) -> None:
    status, headers, body = await http_get(served.port, get("/games/boardnim/board.js"))
    assert status == 200 and body == BOARD.read_bytes()
    assert headers["content-type"] == "text/javascript; charset=utf-8"
    assert headers["access-control-allow-origin"] == "*"  # a sandboxed frame's origin is "null"
    assert headers["x-content-type-options"] == "nosniff" and headers["etag"]
    status, _, again = await http_get(
        served.port, get("/games/boardnim/board.js", f"If-None-Match: {headers['etag']}")
    )
    assert status == 304 and again == b""


@pytest.mark.parametrize(
    "path",
    [
        "/games/boardnim/../../etc/passwd",
        "/games/boardnim/..%2f..%2f..%2fetc%2fpasswd",
        "/games/boardnim/%2e%2e/%2e%2e/pyproject.toml",
        "/games/boardnim/nim_game.py",  # the board's neighbours are not served
        "/games/boardnim/__init__.py",
        "/games/boardnim/",
        "/games/nim/board.js",  # a game without a board of its own has none
        "/games/tictactoe/board.js",
        "/games/../index.html",
        "/games/boardnim/board.js/..",
    ],
)
async def test_nothing_else_is_served_under_games(served: Server, path: str) -> None:
    status, _, body = await http_get(served.port, get(path))
    assert status == 404 and b"no such page" in body


async def test_the_web_folders_subfolders_are_served(served: Server) -> None:
    web = Path(netplay.__file__).parent / "web"
    # Not admin/: the admin page is the operator's, served only with --admin-token (test_operations).
    inside = sorted(f for f in web.glob("*/*.js") if f.is_file() and f.parent.name != "admin")
    if not inside:
        pytest.skip("no subfolder in netplay/web")
    path = "/" + inside[0].relative_to(web).as_posix()  # /boards/chess.js
    status, headers, body = await http_get(served.port, get(path))
    assert status == 200 and body == inside[0].read_bytes()
    assert headers["content-type"] == "text/javascript; charset=utf-8"
    status, _, _ = await http_get(served.port, get(path.rsplit("/", 1)[0] + "/../../cli.py"))
    assert status == 404


def test_a_board_name_with_odd_characters_gets_an_escaped_path() -> None:
    assert game_board_path("boardnim") == "/games/boardnim/board.js"
    assert game_board_path("my game/2") == "/games/my%20game%2F2/board.js"


class _Named(BoardNim):
    """BoardNim with another web_board (each test sets it)."""

    name = "named"


@pytest.mark.parametrize(
    ("web_board", "words"),
    [
        ("missing.js", "cannot read"),
        ("../browser/games/../../../board.js", "must be a file in the folder"),
        ("sub/../../board.js", "must be a file in the folder"),
        ("../../pyproject.js", "must be a file in the folder"),
        ("/etc/passwd.js", "must be a file in the folder"),
        ("nim_game.py", "the name of a .js file"),
        ("C:\\board.js", "must be a file in the folder"),
    ],
)
def test_a_board_file_outside_its_folder_or_missing_is_refused(
    monkeypatch: pytest.MonkeyPatch, web_board: str, words: str
) -> None:
    monkeypatch.setattr(_Named, "web_board", web_board)
    with pytest.raises(ValueError, match=words):
        load_game_board(_Named())


def test_a_link_out_of_the_folder_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    secret = tmp_path / "secret.js"
    secret.write_text("secret")
    (tmp_path / "game").mkdir()
    (tmp_path / "game" / "board.js").symlink_to(secret)
    module = tmp_path / "game" / "linked.py"
    module.write_text("")
    monkeypatch.setattr("inspect.getfile", lambda cls: str(module))
    with pytest.raises(ValueError, match="leads out of"):
        load_game_board(BoardNim())


def test_games_the_page_draws_itself_have_no_board_file() -> None:
    games: list[Game] = [*builtin_games().values(), Nim()]
    assert all(load_game_board(game) is None for game in games)


async def test_serve_stops_with_a_message_for_a_missing_board(tmp_path: Path) -> None:
    (tmp_path / "mine.py").write_text(
        "from netplay.games.tictactoe import TicTacToe\n\n"
        "class Mine(TicTacToe):\n    name = 'mine'\n    web_board = 'nowhere.js'\n"
    )
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "netplay", "serve", "--port", "0", "--game", "mine:Mine",
        cwd=tmp_path, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )  # fmt: skip
    status, output = await Proc(process).finish()
    assert status == 2, output
    assert "error: --game mine.Mine.web_board: cannot read" in output and "nowhere.js" in output
    assert "Traceback" not in output
