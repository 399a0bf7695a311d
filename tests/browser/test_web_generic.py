"""Every game in the browser: a game served with ``--game`` in the lobby, played through the page's
generic board (legal moves as buttons, or a move box) and through its own JavaScript board in a
sandboxed frame, in real headless Chromium against a real ``netplay serve``. No sleeps: every wait
is on something a page shows."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from typing import Any

import pytest

from .conftest import NetplayServer, Pages, start_server

try:
    from playwright.sync_api import Page, expect
except ImportError:
    if os.environ.get("CI"):
        raise
    pytest.skip("the playwright package is missing (pip install -e '.[test]')", allow_module_level=True)

expect.set_options(timeout=10_000)

GAMES = "tests.browser.games.nim_game"


@pytest.fixture(scope="module")
def nim_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[NetplayServer]:
    """A server of the built-in games and three Nims, as a user serves a game of their own."""
    server = start_server(
        tmp_path_factory.mktemp("nim") / "serve.log",
        *("--game", f"{GAMES}:Nim", "--game", f"{GAMES}:TypedNim", "--game", f"{GAMES}:BoardNim"),
    )
    yield server
    server.stop()


def online(page: Page) -> Page:
    expect(page.locator("#link-state")).to_have_attribute("data-state", "online")
    return page


def status(page: Page) -> Any:
    return page.locator("#status")


def text(page: Page) -> Any:
    return page.locator(".generic-text")


def moves(page: Page) -> Any:
    return page.locator(".generic-moves button")


def private_room(pages: Pages, url: str, game: str) -> tuple[Page, Page, str]:
    """Ann opens a private room of ``game``; Bob joins through its share link. Ann moves first."""
    ann = online(pages.open(url, name="Ann"))
    ann.click(f".game-card[data-game={game}] [data-action=private]")
    expect(ann.locator("#share")).to_be_visible()
    link = ann.locator("#share-link").input_value()
    bob = pages.open(link, name="Bob")
    expect(status(bob)).to_have_text("Ann's turn…")
    return ann, bob, link


def test_every_game_of_the_server_is_in_the_lobby(nim_server: NetplayServer, pages: Pages) -> None:
    lobby = online(pages.open(nim_server.url, name="Visitor"))
    for game in ("tictactoe", "connect4", "chess", "battleship", "crazy8", "rps", "pig", "nim", "typednim"):
        card = lobby.locator(f".game-card[data-game={game}]")
        expect(card.get_by_role("button", name="Quick match")).to_be_visible()
        expect(card.get_by_role("button", name="Private room")).to_be_visible()
    nim = lobby.locator(".game-card[data-game=nim]")
    expect(nim.locator("h2")).to_have_text("nim")
    expect(nim.locator(".card-head p")).to_have_text(re.compile("<em>of five</em>"))  # text, not markup
    expect(nim.locator("em")).to_have_count(0)
    expect(nim.get_by_role("button", name="vs Computer")).to_be_visible()
    expect(
        lobby.locator(".game-card[data-game=typednim]").get_by_role("button", name="vs Computer")
    ).to_be_hidden()
    expect(lobby.locator(".game-card[data-game=boardnim]")).to_have_attribute("data-board", "own")
    expect(lobby.locator("main")).not_to_contain_text("playable from a terminal")


def test_two_pages_play_a_served_game_by_its_legal_moves_and_a_third_watches(
    nim_server: NetplayServer, pages: Pages, screenshot: Any
) -> None:
    ann, bob, link = private_room(pages, nim_server.url, "nim")
    sam = online(pages.open(link.replace("#join=", "#watch="), name="Sam"))
    expect(status(ann)).to_have_text("Your turn (you are north).")
    expect(ann.locator("#players")).to_contain_text("Ann (north) (you)")
    expect(ann.locator("#players")).to_contain_text("Bob (south)")
    expect(ann.locator("#players")).not_to_contain_text("seat")
    expect(text(ann)).to_have_text("5 stones left\no o o o o \n<b>take 1, 2 or 3</b>")
    expect(ann.locator(".generic-text b")).to_have_count(0)  # the game's text is never HTML
    expect(moves(ann)).to_have_text(["1", "2", "3"])
    expect(moves(bob)).to_have_count(0)
    expect(status(sam)).to_have_text("Ann (north) to move.")
    expect(moves(sam)).to_have_count(0)
    screenshot(ann, "generic-nim")

    moves(ann).filter(has_text="1").click()
    expect(text(bob)).to_contain_text("4 stones left")
    expect(status(bob)).to_have_text("Your turn (you are south).")
    expect(moves(ann)).to_have_count(0)
    bob.get_by_role("button", name="3", exact=True).click()
    expect(moves(ann)).to_have_text(["1"])
    moves(ann).click()
    expect(status(ann)).to_have_text("You win!")
    expect(status(bob)).to_have_text("Ann wins.")
    expect(status(sam)).to_have_text("Ann (north) wins.")
    expect(text(sam)).to_contain_text("0 stones left")
    expect(ann.get_by_role("button", name="Rematch")).to_be_visible()


def test_a_game_without_legal_moves_is_played_through_the_move_box(
    nim_server: NetplayServer, pages: Pages
) -> None:
    ann, bob, _ = private_room(pages, nim_server.url, "typednim")
    expect(status(ann)).to_have_text("Your turn (you are player 1).")
    expect(ann.locator("#players .chip").first.locator(".mark")).to_have_text("1")
    expect(moves(ann)).to_have_count(0)
    box = ann.get_by_role("textbox", name="Your move")
    box.fill("9")  # JSON: the number 9, which the rules refuse
    box.press("Enter")
    expect(ann.locator("#notice")).to_have_text("Illegal move: take 1, 2 or 3 stones.")
    box.fill("2")
    box.press("Enter")
    expect(text(bob)).to_contain_text("3 stones left")
    expect(ann.get_by_role("textbox", name="Your move")).to_be_hidden()
    bob.get_by_role("textbox", name="Your move").fill("all")  # not JSON: sent as the string "all"
    bob.get_by_role("button", name="Play").click()
    expect(status(bob)).to_have_text("You win!")
    expect(status(ann)).to_have_text("Bob wins.")


def test_a_served_game_against_its_bot(nim_server: NetplayServer, pages: Pages) -> None:
    ann = online(pages.open(nim_server.url, name="Ann"))
    card = ann.locator(".game-card[data-game=nim]")
    card.locator(".bot-pick select").select_option("perfect")
    card.get_by_role("button", name="vs Computer").click()
    expect(ann.locator("#players")).to_contain_text("Computer (perfect) (south)")
    expect(status(ann)).to_have_text("Your turn (you are north).")
    moves(ann).filter(has_text="1").click()  # 4 left: the bot can only take 1 (it takes 1)
    expect(text(ann)).to_contain_text("3 stones left")
    expect(moves(ann)).to_have_text(["1", "2", "3"])
    moves(ann).filter(has_text="3").click()
    expect(status(ann)).to_have_text("You win!")


def test_a_games_own_board_plays_in_a_sandbox_it_cannot_leave(
    nim_server: NetplayServer, pages: Pages, screenshot: Any
) -> None:
    ann, bob, _ = private_room(pages, nim_server.url, "boardnim")
    frame = ann.locator("iframe.sandbox-board")
    expect(frame).to_have_attribute("sandbox", "allow-scripts")
    board, bobs = ann.frame_locator("iframe.sandbox-board"), bob.frame_locator("iframe.sandbox-board")
    expect(board.locator(".stones")).to_have_attribute("data-pile", "5")
    expect(board.locator(".turn")).to_have_text("Your move: take some stones.")
    expect(bobs.locator(".turn")).to_have_text("Ann is thinking.")
    expect(bobs.locator(".take button")).to_have_count(0)

    # Whatever the board tried outside its frame failed.
    probes = board.locator(".probes li")
    expect(probes).to_have_count(7)
    for item in probes.all():
        assert item.inner_text().startswith("blocked"), (item.get_attribute("data-probe"), item.inner_text())
    screenshot(ann, "own-board-nim")

    # A message that does not come from the board's frame is not a move.
    ann.evaluate("window.postMessage({ type: 'move', move: 3 }, '*')")
    board.get_by_role("button", name="Take 2").click()
    expect(bobs.locator(".stones")).to_have_attribute("data-pile", "3")
    expect(bobs.locator(".take button")).to_have_text(["Take 1", "Take 2", "Take 3"])
    expect(status(bob)).to_contain_text("Your turn")
    bobs.get_by_role("button", name="Take 3").click()
    expect(status(bob)).to_have_text("You win!")
    expect(status(ann)).to_have_text("Bob wins.")
    expect(board.locator(".turn")).to_have_text("Bob took the last stone.")
