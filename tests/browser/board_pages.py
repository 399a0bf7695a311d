"""What the browser tests of the game boards in ``netplay/web/boards/`` share: opening a room of a
game in one page and joining it from others through its share link, waiting for every page to show
the same state, and reading what a page shows.

Every wait is on something the page shows (a board's ``data-version``: the version of the state it
drew last), with a timeout: no sleeps.
"""

from __future__ import annotations

import urllib.error
import urllib.request
from typing import Any

from .conftest import Pages

try:
    from playwright.sync_api import Page
except ImportError:  # the test modules skip themselves
    Page = Any  # type: ignore[misc,assignment]


def open_page(pages: Pages, url: str, name: str, *, width: int = 1100, height: int = 900) -> Page:
    """A page of a new visitor called ``name`` (``Pages.open``), once it is online."""
    page = pages.open(url, name=name, width=width, height=height)
    page.wait_for_selector("#link-state[data-state=online]")
    return page


def served(url: str) -> tuple[int, str]:
    """The HTTP status and content type the server answers for ``url``."""
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return int(response.status), response.headers.get("Content-Type", "")
    except urllib.error.HTTPError as error:
        return int(error.code), ""


def check_served(server_url: str, game: str) -> None:
    """The server serves a board's module, its stylesheet and the boards' shared helpers, with the
    content types a browser takes a module and a stylesheet in (from ``netplay/web/boards/``)."""
    for path, kind in (
        (f"boards/{game}.js", "text/javascript"),
        (f"boards/{game}.css", "text/css"),
        ("boards/common.js", "text/javascript"),
    ):
        status, content_type = served(server_url + path)
        assert status == 200, f"/{path}: HTTP {status} (the server must serve netplay/web's subfolders)"
        assert content_type.startswith(kind), f"/{path}: {content_type}"


def open_room(
    pages: Pages, url: str, game: str, names: list[str], options: dict[str, Any] | None = None
) -> tuple[list[Page], str]:
    """The first of ``names`` opens a private room of ``game`` (the lobby's button, or with
    ``options`` through ``netplayPage.createRoom``); the others join through its share link.
    Returns the pages, in seat order of the first game, and the link."""
    host = open_page(pages, url, names[0])
    if options is None:
        host.click(f".game-card[data-game={game}] [data-action=private]")
    else:
        assert host.evaluate(
            "([game, options]) => netplayPage.createRoom(game, { private: true, options })", [game, options]
        )
    host.wait_for_selector("#share:not([hidden])")
    link = host.locator("#share-link").input_value()
    everyone = [host]
    for name in names[1:]:  # one at a time: seats are taken in this order
        guest = open_page(pages, link, name)
        guest.wait_for_selector("#game:not([hidden])")
        everyone.append(guest)
    for page in everyone:  # the game has started on every page
        page.wait_for_selector("#board [data-version]:not([data-version=''])")
    return everyone, link


def version(page: Page) -> int:
    """The version of the state the page's board drew last."""
    return int(page.locator("#board [data-version]").get_attribute("data-version") or 0)


_NEWER = """(before) => {
  const board = document.querySelector("#board [data-version]");
  return board && board.dataset.version !== "" && Number(board.dataset.version) > before;
}"""


def synced(pages: list[Page], before: int) -> int:
    """Wait until every page's board has drawn a state newer than ``before``, the same one (a move
    makes one new state); its version. Polled every animation frame: quicker than ``expect``."""
    for page in pages:
        page.wait_for_function(_NEWER, arg=before, polling="raf")
    versions = [version(page) for page in pages]
    now = max(versions)
    for page, seen in zip(pages, versions, strict=True):
        if seen != now:
            page.wait_for_function(_NEWER, arg=now - 1, polling="raf")
    return now


def status(page: Page) -> Any:
    return page.locator("#status")


# -- real-time boards (pong, arena) ---------------------------------------------------------------

#: A game to one or two points lasts seconds; a slow, busy machine gets a minute and a half.
GAME_TIMEOUT = 90_000

# A real-time board's page: what its board and its room's view hold now.
REALTIME_BOARD = """() => {
  const board = netplayPage.board();
  const view = netplayPage.client().view();
  return {
    seat: view.seat, tick: view.tick, status: view.status, outcome: view.outcome, view: view.view,
    corrections: view.corrections, pending: view.pending, patches: view.patches,
    keyframes: view.keyframes, diverged: view.diverged, rtt: view.rtt,
    drawn: board.drawn, lastInput: board.lastInput, frames: board.frames,
  };
}"""

# The last input the board sent has a frame drawn after it (`seq` newer than the given one).
INPUT_DRAWN = """(seq) => {
  const input = netplayPage.board()?.lastInput;
  return Boolean(input && input.seq > seq && input.next);
}"""


def realtime_board(page: Any) -> dict[str, Any]:
    """What a real-time board's page holds now (``REALTIME_BOARD``)."""
    return dict(page.evaluate(REALTIME_BOARD))
