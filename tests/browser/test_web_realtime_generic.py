"""A real-time game of your own in the browser, with no board of its own: the page's generic
real-time board shows its view as text and sends its inputs from the keys the game names
(examples/tag.py) or typed as JSON (a game that names none). Real headless Chromium against a
real ``netplay serve``; every wait is on something a page shows or holds."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator

import pytest

from .board_pages import open_page
from .conftest import NetplayServer, Pages, start_server

try:
    from playwright.sync_api import Page, expect
except ImportError:
    if os.environ.get("CI"):
        raise
    pytest.skip("the playwright package is missing (pip install -e '.[test]')", allow_module_level=True)

expect.set_options(timeout=10_000)

# The page's copy of its room: the newest view, its seat, and how many inputs it has sent.
VIEW = """() => {
  const v = netplayPage.client().view();
  return v && { view: v.view, seat: v.seat, sent: v._seq + 1 };
}"""


@pytest.fixture(scope="module")
def own_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[NetplayServer]:
    """A server of the built-in games, tag (examples/tag.py) and tally, as a user serves games."""
    server = start_server(
        tmp_path_factory.mktemp("own-realtime") / "serve.log",
        *("--game", "examples.tag:Tag", "--game", "tests.browser.games.realtime_game:Tally"),
    )
    yield server
    server.stop()


def view_of(page: Page) -> dict:
    return page.evaluate(VIEW)


def test_tag_against_its_bot_steered_with_the_keys_it_names(own_server: NetplayServer, pages: Pages) -> None:
    ann = open_page(pages, own_server.url, "Ann")
    card = ann.locator(".game-card[data-game=tag]")
    expect(card.get_by_role("button", name="vs Computer")).to_be_visible()
    card.get_by_role("button", name="vs Computer").click()
    board = ann.locator(".rt-generic")
    expect(board).to_have_attribute("data-status", "playing")
    expect(board.locator(".rt-keys")).to_contain_text("ArrowRight")
    expect(board.locator(".rt-view")).to_contain_text('"pos"')
    seat = view_of(ann)["seat"]
    start = view_of(ann)["view"]["pos"][seat][0]
    ann.keyboard.down("ArrowRight")  # held: the game's input for it, [1, 0], sent once
    try:
        ann.wait_for_function(
            f"(x) => {{ const v = netplayPage.client().view().view; return v.pos[{seat}][0] > x + 50; }}",
            arg=start,
            polling="raf",
        )
        moved = view_of(ann)
        assert moved["view"]["vel"][seat] == [1, 0]
        assert moved["sent"] == 1  # held for many frames: one input, not one a frame
        shown = json.loads(board.locator(".rt-view").inner_text())  # the text is the view, as JSON
        assert shown["vel"][seat] == [1, 0] and shown["pos"][seat][0] > start
    finally:
        ann.keyboard.up("ArrowRight")  # let go: the game's idle input, [0, 0]
    ann.wait_for_function(
        f"() => netplayPage.client().view().view.vel[{seat}].every((v) => v === 0)", polling="raf"
    )
    assert view_of(ann)["sent"] == 2
    expect(board.locator(".rt-caption")).to_contain_text(f"You are seat {seat + 1}")


def test_a_game_without_keys_takes_inputs_typed_as_json(own_server: NetplayServer, pages: Pages) -> None:
    ann = open_page(pages, own_server.url, "Ann")
    ann.locator(".game-card[data-game=tally] [data-action=private]").click()
    expect(ann.locator("#share")).to_be_visible()
    bob = open_page(pages, ann.locator("#share-link").input_value(), "Bob")
    for page in (ann, bob):
        expect(page.locator(".rt-generic")).to_have_attribute("data-status", "playing")
    field = ann.get_by_role("textbox", name="Your input, as JSON")
    expect(ann.locator(".rt-keys")).to_have_count(0)
    field.fill("6")
    field.press("Enter")
    ann.wait_for_function("() => netplayPage.client().view().view.totals[0] === 6", polling="raf")
    bob.wait_for_function("() => netplayPage.client().view().view.totals[0] === 6", polling="raf")
    field.fill("7")
    field.press("Enter")
    for page, words in ((ann, "You win!"), (bob, "Seat 1 wins.")):
        board = page.locator(".rt-generic")
        expect(board).to_have_attribute("data-status", "finished")
        expect(board.locator(".rt-caption")).to_have_text(words)
        assert json.loads(board.locator(".rt-view").inner_text())["totals"] == [13, 0]
