"""The chess board of the web page (boards/chess.js), in real headless Chromium against ``netplay serve``.

Two pages are two visitors. Every wait is on something a page shows, with a timeout: no sleeps.
Moves a page sends are recorded by wrapping its client's ``move`` (what the board asked the page to
send), so "nothing was sent" is checked, not assumed. Screenshots land in test-artifacts/.
"""

from __future__ import annotations

import contextlib
import io
from typing import Any

import chess
import chess.pgn

from .conftest import NetplayServer, Pages
from .test_web_client import Page, Shot, expect, online, status
from .test_web_clocks import expect_counting_down, expect_running

# Wrap the page's client's move(): every move the page sends lands in window.sentMoves.
RECORD_MOVES = """() => {
  const client = window.netplayPage.client();
  const move = client.move.bind(client);
  window.sentMoves = [];
  client.move = (value, options) => { window.sentMoves.push(value); return move(value, options); };
}"""

MARKED = """([kind, want]) => JSON.stringify(
  [...document.querySelectorAll(`.chess-board .sq.${kind}`)].map((s) => s.dataset.square).sort()
) === JSON.stringify(want)"""

# The squares drawn at the board's bottom-left and top-right corners, by where they are on screen.
CORNERS = """() => {
  const squares = [...document.querySelectorAll(".chess-board .sq")]
    .map((s) => [s, s.getBoundingClientRect()]);
  const pick = (better) => squares.reduce((a, b) => (better(b[1], a[1]) ? b : a))[0].dataset.square;
  return [
    pick((r, s) => r.bottom > s.bottom + 1 || (Math.abs(r.bottom - s.bottom) <= 1 && r.left < s.left)),
    pick((r, s) => r.top < s.top - 1 || (Math.abs(r.top - s.top) <= 1 && r.right > s.right)),
  ];
}"""


def square(page: Page, name: str) -> Any:
    return page.locator(f".chess-board .sq[data-square='{name}']")


def marked(page: Page, kind: str) -> list[str]:
    return sorted(
        page.locator(f".chess-board .sq.{kind}").evaluate_all("s => s.map((e) => e.dataset.square)")
    )


def expect_marked(page: Page, kind: str, squares: list[str]) -> None:
    """The squares with class ``kind`` (target, selected, last, check) become exactly ``squares``."""
    want = sorted(squares)
    with contextlib.suppress(Exception):  # a timeout: then the assertion says what is marked instead
        page.wait_for_function(MARKED, arg=[kind, want], timeout=10_000)
    assert marked(page, kind) == want


def sent(page: Page) -> list[str]:
    return page.evaluate("window.sentMoves")


def moves_text(page: Page) -> Any:
    return page.locator(".chess-moves")


def chess_room(pages: Pages, url: str, bob_width: int = 1100, **options: object) -> tuple[Page, Page, str]:
    """Ann opens a private chess room from the page's console API; Bob joins by its share link."""
    ann = online(pages.open(url, name="Ann"))
    ann.evaluate("(options) => window.netplayPage.createRoom('chess', options)", {"private": True, **options})
    expect(ann.locator("#share")).to_be_visible()
    link = ann.locator("#share-link").input_value()
    code = ann.locator("#share-code").inner_text()
    bob = pages.open(link, name="Bob", width=bob_width, height=900 if bob_width > 600 else 812)
    expect(status(ann)).to_have_text("Your turn: you play White.")  # a side, never X or "seat 0"
    expect(status(bob)).to_contain_text("Ann")
    for page in (ann, bob):
        expect(page.locator(".chess-board .sq")).to_have_count(64)
        page.evaluate(RECORD_MOVES)
    return ann, bob, code


def click_move(mover: Page, other: Page, start: str, end: str, targets: list[str]) -> None:
    """``mover`` clicks a piece (its targets are marked), then a target; both pages show the move."""
    square(mover, start).click()
    expect_marked(mover, "selected", [start])
    expect_marked(mover, "target", targets)
    square(mover, end).click()
    for page in (mover, other):
        expect_marked(page, "last", [start, end])
    expect_marked(mover, "target", [])


# -- a whole game by clicks, with a clock ----------------------------------------------------------


def test_fools_mate_by_clicks_with_a_clock_and_the_pgn(
    web_server: NetplayServer, pages: Pages, screenshot: Shot
) -> None:
    ann, bob, _ = chess_room(pages, web_server.url, clock="300+3")
    expect(ann.locator("#game-clock")).to_have_text("5+3")

    # White at the bottom for Ann; Bob, black, sees his side: h8 bottom left, a1 top right.
    assert ann.evaluate(CORNERS) == ["a1", "h8"]
    assert bob.evaluate(CORNERS) == ["h8", "a1"]
    expect(square(ann, "g1")).to_have_attribute("aria-label", "white knight on g1")
    expect(square(bob, "e8")).to_have_attribute("aria-label", "black king on e8")

    # Both clocks, white's running.
    for page in (ann, bob):
        expect(page.locator("#players .clock")).to_have_count(2)
        expect_running(page, running=0, stopped=1)
    expect_counting_down(bob, 0)

    # Clicks that are no move send nothing: Bob out of turn, Ann on an opponent's piece, on a
    # square her piece cannot reach (which drops the piece).
    square(bob, "e7").click()
    expect_marked(bob, "selected", [])
    square(ann, "d7").click()
    expect_marked(ann, "selected", [])
    square(ann, "e2").click()
    expect_marked(ann, "target", ["e3", "e4"])
    square(ann, "e5").click()
    expect_marked(ann, "selected", [])
    expect_marked(ann, "target", [])
    assert sent(ann) == [] and sent(bob) == []
    expect(ann.locator("#notice")).to_be_hidden()

    # 1. f3: the targets of the pawn are marked, then the move is shown on both boards.
    square(ann, "f2").click()
    expect_marked(ann, "target", ["f3", "f4"])
    expect(square(ann, "f3")).to_have_attribute("aria-label", "f3, empty, can move here")
    screenshot(ann, "chess-selected")
    square(ann, "f3").click()
    for page in (ann, bob):
        expect_marked(page, "last", ["f2", "f3"])
        expect(square(page, "f3")).to_have_attribute("aria-label", "white pawn on f3, last move")
    expect(status(bob)).to_have_text("Your turn: you play Black.")
    for page in (ann, bob):
        expect_running(page, running=1, stopped=0)
    expect_counting_down(ann, 1)

    click_move(bob, ann, "e7", "e5", ["e5", "e6"])
    click_move(ann, bob, "g2", "g4", ["g3", "g4"])
    screenshot(bob, "chess-black-to-mate")
    click_move(bob, ann, "d8", "h4", ["e7", "f6", "g5", "h4"])  # Qh4#

    for page in (ann, bob):
        expect_marked(page, "check", ["e1"])
        expect(moves_text(page)).to_have_text("1. f3 e5 2. g4 Qh4# 0-1")
        expect(page.locator("#players .clock[data-running]")).to_have_count(0)  # both stopped
        expect(page.locator(".chess-pgn")).to_be_visible()
    expect(square(ann, "e1")).to_have_attribute("aria-label", "white king on e1, in check")
    expect(status(bob)).to_have_attribute("data-result", "won")
    expect(status(ann)).to_have_attribute("data-result", "lost")
    expect(status(bob)).to_contain_text("You win")
    expect(status(ann)).to_contain_text("Bob wins")
    assert sent(ann) == ["f2f3", "g2g4"] and sent(bob) == ["e7e5", "d8h4"]
    screenshot(ann, "chess-mated")
    screenshot(bob, "chess-mate-won")

    # The PGN: a download, which python-chess reads back as this game.
    with bob.expect_download() as download:
        bob.locator(".chess-pgn").click()
    assert download.value.suggested_filename.endswith(".pgn")
    text = open(download.value.path(), encoding="utf-8").read()
    assert "1. f3 e5 2. g4 Qh4# 0-1" in text
    assert '[Result "0-1"]' in text and '[White "Ann"]' in text and '[Black "Bob"]' in text
    assert '[TimeControl "300+3"]' in text and "[SetUp" not in text
    game = chess.pgn.read_game(io.StringIO(text))
    assert game is not None and not game.errors
    assert [move.uci() for move in game.mainline_moves()] == ["f2f3", "e7e5", "g2g4", "d8h4"]
    assert game.end().board().is_checkmate()
    assert game.headers["Result"] == "0-1"


# -- drag and drop, the keyboard, and a promotion --------------------------------------------------


def test_drag_and_drop_the_keyboard_and_a_promotion_through_the_chooser(
    web_server: NetplayServer, pages: Pages, screenshot: Shot
) -> None:
    start = "4k3/1P6/8/8/8/8/4P3/4K3 w - - 0 1"
    ann, bob, _ = chess_room(pages, web_server.url, bob_width=375, options={"fen": start})  # Bob on a phone
    assert bob.evaluate("document.documentElement.scrollWidth") <= 375  # nothing sticks out
    expect(square(ann, "b7")).to_have_attribute("aria-label", "white pawn on b7")

    # A drop where the piece cannot go sends nothing; the piece stays picked up, its targets shown.
    square(ann, "e1").drag_to(square(ann, "e3"))
    expect_marked(ann, "selected", ["e1"])
    expect_marked(ann, "target", ["d1", "d2", "f1", "f2"])
    expect(square(ann, "e1")).to_have_attribute("aria-label", "white king on e1, selected")
    assert sent(ann) == []
    # Dragged where it can go: moved.
    square(ann, "e2").drag_to(square(ann, "e4"))
    for page in (ann, bob):
        expect_marked(page, "last", ["e2", "e4"])
        expect(square(page, "e4")).to_have_attribute("aria-label", "white pawn on e4, last move")
        expect(moves_text(page)).to_have_text("1. e4")
    assert sent(ann) == ["e2e4"]

    # Bob, by keyboard on his flipped board: Enter picks up the king; left and up (as he sees the
    # board: towards the h-file and rank 1) reach f7; Enter puts it down.
    square(bob, "e8").focus()
    bob.keyboard.press("Enter")
    expect_marked(bob, "target", ["d7", "d8", "e7", "f7", "f8"])
    bob.keyboard.press("ArrowLeft")
    expect(square(bob, "f8")).to_be_focused()
    bob.keyboard.press("ArrowUp")
    expect(square(bob, "f7")).to_be_focused()
    expect(square(bob, "f7")).to_have_attribute("tabindex", "0")  # the board's one Tab stop
    bob.keyboard.press("Enter")
    expect_marked(ann, "last", ["e8", "f7"])
    assert sent(bob) == ["e8f7"]
    screenshot(bob, "chess-keyboard-phone")

    # b7-b8 asks what the pawn becomes; Escape asks no more and sends nothing.
    chooser = ann.locator(".chess-promotion")
    square(ann, "b7").click()
    expect_marked(ann, "target", ["b8"])
    square(ann, "b8").click()
    expect(chooser).to_be_visible()
    expect(chooser.locator(".chess-choice")).to_have_count(4)
    expect(chooser.get_by_role("button", name="Queen", exact=True)).to_be_focused()
    screenshot(ann, "chess-promotion")
    ann.keyboard.press("Escape")
    expect(chooser).to_be_hidden()
    assert sent(ann) == ["e2e4"]
    # Again, by dragging, and a knight.
    square(ann, "b7").drag_to(square(ann, "b8"))
    expect(chooser).to_be_visible()
    chooser.get_by_role("button", name="Knight", exact=True).click()
    expect(chooser).to_be_hidden()
    for page in (ann, bob):
        expect(square(page, "b8")).to_have_attribute("aria-label", "white knight on b8, last move")
        expect(moves_text(page)).to_have_text("1. e4 Kf7 2. b8=N")
    assert sent(ann) == ["e2e4", "b7b8n"]


# -- refusals and spectators -----------------------------------------------------------------------


def test_a_refused_move_shows_the_servers_reason_and_a_spectator_cannot_move(
    web_server: NetplayServer, pages: Pages, screenshot: Shot
) -> None:
    ann, bob, code = chess_room(pages, web_server.url)
    cy = online(pages.open(f"{web_server.url}#watch={code}", name="Cy"))
    expect(cy.locator(".chess-board .sq")).to_have_count(64)
    assert cy.evaluate(CORNERS) == ["a1", "h8"]  # a spectator sees white's side
    square(cy, "e2").click()
    expect_marked(cy, "selected", [])

    # Ann's page is made to believe e2-e5 is legal (as a page out of step with the server might):
    # the board offers it, sends it, and the server's refusal is shown; the pawn goes back.
    ann.evaluate(
        """() => {
          const client = window.netplayPage.client();
          const id = client.room;
          const state = client.states[id];
          const fake = { ...state, state: { ...state.state, legal: [...state.state.legal, "e2e5"] } };
          client.states[id] = fake;
          client._emit("state", fake);
        }"""
    )
    square(ann, "e2").click()
    expect_marked(ann, "target", ["e3", "e4", "e5"])
    square(ann, "e5").click()
    expect(ann.locator("#notice")).to_have_text("Illegal move: e2e5 is not a legal move in this position.")
    expect(square(ann, "e2")).to_have_attribute("aria-label", "white pawn on e2")
    expect(square(ann, "e5")).to_have_attribute("aria-label", "e5, empty")
    assert sent(ann) == ["e2e5"]
    expect(status(ann)).to_contain_text("Your turn")
    screenshot(ann, "chess-refused")
    # A real move goes through, and the spectator sees it.
    click_move(ann, bob, "e2", "e4", ["e3", "e4", "e5"])
    expect_marked(cy, "last", ["e2", "e4"])
    assert sent(ann) == ["e2e5", "e2e4"]
