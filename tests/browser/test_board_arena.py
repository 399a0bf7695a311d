"""The Arena board (netplay/web/boards/arena.js) in Chromium against a real ``netplay serve``: from
the lobby's card (two players, "vs Computer"), a page plays light cycles against the server's bot to
the end, turning with key presses (each turn drawn on the very next animation frame), and the result
is shown; a page picking three players gets a bot in each free seat.

Every wait is on a condition the page shows or holds (``wait_for_function``), with a timeout.
"""

from __future__ import annotations

import itertools
import os
from typing import Any

import pytest

from .board_pages import GAME_TIMEOUT, INPUT_DRAWN, open_page, realtime_board, served, status
from .conftest import NetplayServer, Pages

try:
    from playwright.sync_api import expect
except ImportError:
    if os.environ.get("CI"):
        raise
    pytest.skip("the playwright package is missing (pip install -e '.[test]')", allow_module_level=True)

expect.set_options(timeout=10_000)


# The server's view of the page's cycle is at least `cells` long.
GROWN = """(cells) => {
  const view = netplayPage.client().view();
  return view.view.cycles[view.seat].trail.length >= cells;
}"""


# The page's own cycle, as it predicts it, has made its last move to the left (or is out).
MOVED_LEFT = """() => {
  const view = netplayPage.client().view();
  const cycle = view.predicted().cycles[view.seat];
  const trail = cycle.trail;
  return Boolean(cycle.out) || (trail.length >= 2 && trail.at(-1)[0] < trail.at(-2)[0]);
}"""


def test_the_server_serves_the_arena_board(web_server: NetplayServer) -> None:
    for path in ("boards/arena.js", "boards/arena_rules.js"):
        code, kind = served(web_server.url + path)
        assert code == 200 and kind.startswith("text/javascript"), (path, code, kind)


def board(page: Any) -> dict[str, Any]:
    return realtime_board(page)


def turn(page: Any, key: str, direction: int) -> dict[str, Any]:
    """Press ``key``; the input it sent, with what was drawn before it and on the next frame."""
    last = board(page)["lastInput"]
    page.keyboard.press(key)
    page.wait_for_function(INPUT_DRAWN, arg=-1 if last is None else last["seq"], polling="raf")
    pressed = board(page)["lastInput"]
    assert pressed["next"]["frame"] == pressed["frame"] + 1, pressed
    assert pressed["next"]["own"]["dir"] == direction, pressed  # predicted: turned at once
    return pressed


def test_a_page_plays_arena_against_the_bot_to_the_end(
    web_server: NetplayServer, pages: Pages, screenshot: Any
) -> None:
    page = open_page(pages, web_server.url, "Ann")
    card = page.locator(".game-card[data-game=arena]")
    expect(card.locator(".option-pick legend")).to_have_text("Players")
    card.locator(".option-pick").get_by_label("Players 2").check()
    card.get_by_role("button", name="vs Computer").click()
    page.wait_for_selector(".arena[data-status=playing]")
    expect(page.locator("#game-title")).to_have_text("Arena")
    expect(page.locator(".arena-player .arena-name")).to_have_text(["Ann (you)", "The computer"])
    expect(status(page)).to_have_text("Game on: you are red.")
    start = board(page)
    assert start["seat"] == 0 and len(start["view"]["cycles"]) == 2 and start["view"]["size"] == 24
    assert start["view"]["cycles"][0]["trail"] == [[3, 12]] and start["view"]["cycles"][0]["dir"] == 0
    # Right before the first move, then down, then left: into the west wall.
    right = turn(page, "ArrowRight", 1)
    assert right["drawn"]["own"]["dir"] == 0
    page.wait_for_function(GROWN, arg=4, polling="raf", timeout=20_000)
    turn(page, "s", 2)
    page.wait_for_function(GROWN, arg=6, polling="raf", timeout=20_000)
    screenshot(page, "arena-playing")
    left = turn(page, "a", 3)
    # Once the page's cycle has moved left (as it predicts it: what the key is judged against),
    # the opposite key would reverse it into its own trail. Before that move it would not.
    page.wait_for_function(MOVED_LEFT, polling="raf", timeout=20_000)
    page.keyboard.press("d")  # a reverse into its own trail: the page sends nothing
    assert board(page)["lastInput"]["seq"] == left["seq"]
    page.wait_for_selector(".arena[data-status=finished]", timeout=GAME_TIMEOUT)
    end = board(page)
    mine = end["view"]["cycles"][0]
    assert mine["out"] > 0
    trail = mine["trail"]
    # Right first, then down, then left to the end: which cell each turn came at depends on when the
    # keys were pressed (a move every 4 ticks), not on anything the page decides.
    steps = [(b[0] - a[0], b[1] - a[1]) for a, b in itertools.pairwise(trail)]
    assert steps[:3] == [(1, 0)] * 3
    down = steps.index((0, 1))
    assert set(steps[:down]) == {(1, 0)} and steps[-1] == (-1, 0)  # went left, into the wall
    assert set(steps[down : steps.index((-1, 0))]) == {(0, 1)}
    assert end["outcome"]["winner"] == 1 and end["outcome"]["places"] == [2, 1]
    assert end["pending"] == 0 and end["diverged"] == 0
    expect(status(page)).to_have_text("The computer wins.")
    expect(page.locator(".rt-caption")).to_have_text("The computer rode longest.")
    expect(page.locator(".arena-player .arena-state")).to_have_text(["place 2", "place 1"])
    expect(page.locator("#rematch")).to_be_visible()
    screenshot(page, "arena-over")
    # A rematch against the bot starts at once.
    page.click("#rematch")
    page.wait_for_selector(".arena[data-status=playing][data-game='2']")
    assert board(page)["view"]["cycles"][0]["trail"] == [[3, 12]]


def test_the_computer_takes_every_free_seat(web_server: NetplayServer, pages: Pages) -> None:
    page = open_page(pages, web_server.url, "Ann")
    card = page.locator(".game-card[data-game=arena]")
    card.locator(".option-pick").get_by_label("Players 3").check()
    card.get_by_role("button", name="vs Computer").click()
    page.wait_for_selector(".arena[data-status=playing]")
    expect(page.locator(".arena-player .arena-name")).to_have_text(["Ann (you)", "Computer 2", "Computer 3"])
    assert len(board(page)["view"]["cycles"]) == 3
