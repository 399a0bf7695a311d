"""The Crazy Eights board (netplay/web/boards/crazy8.js), played in Chromium against a real
``netplay serve``: two pages play whole games by clicks (a highlighted card when there is one, an 8
through the suit chooser, else Draw or Pass), checking on every turn that the highlighted cards are
exactly the playable ones and that both pages show the same pile, counts and stock; then three
pages play a game."""

from __future__ import annotations

import os
import re
from typing import Any

import pytest

from .board_pages import check_served, open_page, open_room, status, synced, version
from .conftest import NetplayServer, Pages

try:
    from playwright.sync_api import expect
except ImportError:
    if os.environ.get("CI"):
        raise
    pytest.skip("the playwright package is missing (pip install -e '.[test]')", allow_module_level=True)

expect.set_options(timeout=10_000)

SYMBOL = {"C": "♣", "D": "♦", "H": "♥", "S": "♠"}
SUIT_NAME = {"C": "clubs", "D": "diamonds", "H": "hearts", "S": "spades"}


def test_the_server_serves_the_crazy8_board(web_server: NetplayServer) -> None:
    check_served(web_server.url, "crazy8")


def text(card: str) -> str:
    return ("10" if card[0] == "T" else card[0]) + SYMBOL[card[1]]


SNAPSHOT = """() => {
  const board = document.querySelector("#board .c8");
  const cards = (selector) => [...board.querySelectorAll(selector)].map((card) => card.dataset.card);
  const text = (selector) => board.querySelector(selector)?.textContent ?? null;
  const shown = (selector) => Boolean(board.querySelector(selector)?.checkVisibility());
  return {
    turn: board.dataset.turn,
    mine: board.classList.contains("my-turn"),
    hand: cards(".c8-hand .c8-card"),
    playable: cards(".c8-hand .playable"),
    drawn: cards(".c8-hand .drawn"),
    top: board.querySelector(".c8-top .c8-card")?.dataset.card,
    suit: board.querySelector(".c8-follow")?.dataset.suit,
    follow: text(".c8-follow"),
    stock: text(".c8-stock .c8-count"),
    prompt: text(".c8-prompt"),
    last: text(".c8-last"),
    handShown: shown(".c8-hand-area"),
    draw: shown(".c8-draw"),
    pass: shown(".c8-pass"),
    players: [...board.querySelectorAll(".c8-player")].map((item) => ({
      seat: Number(item.dataset.seat),
      cards: item.querySelector(".c8-cards").textContent,
      turn: item.classList.contains("turn"),
    })),
  };
}"""


def look(page: Any) -> dict[str, Any]:
    """What the page's board shows now, read at once."""
    return dict(page.evaluate(SNAPSHOT))


def card_key(card: str) -> tuple[int, int]:
    return ("CDHS".index(card[1]), "A23456789TJQK".index(card[0]))


def count(n: int) -> str:
    return f"{n} card" if n == 1 else f"{n} cards"


def play_game(pages: list[Any], names: list[str]) -> tuple[int, int]:
    """Every page plays its turns until the game ends, every page checked after every move.
    Returns (moves made, 8s played through the suit chooser)."""
    now = version(pages[0])
    eights = moves = 0
    for _ in range(600):
        views = [look(page) for page in pages]
        if views[0]["turn"] == "":
            return moves, eights
        seat = int(views[0]["turn"])
        page, me = pages[seat], views[seat]
        assert me["mine"], me
        cards = me["hand"]
        assert cards == sorted(cards, key=card_key), cards
        top, suit = me["top"], me["suit"]
        rule = [c for c in cards if c[0] == "8" or c[1] == suit or c[0] == top[0]]
        assert me["playable"] == (me["drawn"] or rule), me
        for other, view in enumerate(views):  # the same table for everyone; my card count as they see it
            assert (view["top"], view["suit"], view["stock"]) == (top, suit, me["stock"]), (view, me)
            assert SUIT_NAME[suit] in view["follow"]
            if other != seat:
                assert not view["mine"] and view["handShown"] and names[seat] in view["prompt"], view
                them = next(p for p in view["players"] if p["seat"] == seat)
                assert them == {"seat": seat, "cards": count(len(cards)), "turn": True}, them
        nxt = pages[(seat + 1) % len(pages)]
        if me["playable"]:
            eight = next((c for c in me["playable"] if c[0] == "8"), None)
            card = eight or me["playable"][0]
            page.locator(f".c8-hand .c8-card[data-card='{card}']").click()
            if eight:
                chooser = page.locator(".c8-chooser")
                expect(chooser).to_be_visible()
                expect(chooser).to_contain_text(f"You play {text(card)}: name the suit to follow.")
                held = [c[1] for c in cards if c != card and c[0] != "8"]
                named = max("CDHS", key=held.count) if held else "S"
                chooser.locator(f".c8-suit-pick[data-suit={named}]").click()
                eights += 1
            now = synced(pages, now)
            after, theirs = look(page), look(nxt)
            assert card not in after["hand"] and theirs["top"] == card, (after, theirs)
            if eight:
                assert theirs["suit"] == named and f"{SUIT_NAME[named]} (named)" in theirs["follow"], theirs
                assert theirs["last"] == f"{names[seat]} played {text(card)} and named {SUIT_NAME[named]}."
            else:
                assert theirs["last"] == f"{names[seat]} played {text(card)}.", theirs
            assert after["last"].startswith(f"You played {text(card)}"), after
        elif me["draw"]:
            assert not me["pass"], me  # no passing before drawing
            assert me["prompt"] == "Your turn: nothing to play, so draw a card.", me
            if moves % 2:
                page.keyboard.press("d")
            else:
                page.locator(".c8-draw").click()
            now = synced(pages, now)
            assert look(nxt)["last"].startswith(f"{names[seat]} drew a card"), look(nxt)
            assert re.match(r"^You drew (10|[A2-9JQK])[♣♦♥♠]", look(page)["last"]), look(page)
        else:
            assert me["pass"], me
            if moves % 2:
                page.keyboard.press("p")
            else:
                page.locator(".c8-pass").click()
            now = synced(pages, now)
            assert look(nxt)["last"] == f"{names[seat]} passed.", look(nxt)
        moves += 1
    raise AssertionError("the game did not end")


def check_results(pages: list[Any], names: list[str]) -> None:
    """The ranking with penalty points, the same on every page; the one who went out wins."""
    rows = pages[0].locator(".c8-ranking tbody tr")
    expect(rows).to_have_count(len(pages))
    points = [int(rows.nth(i).locator(".c8-points").text_content() or -1) for i in range(len(pages))]
    assert points == sorted(points)
    winner = int(rows.nth(0).get_attribute("data-seat") or 0)
    for seat, page in enumerate(pages):
        expect(page.locator(".c8-results")).to_be_visible()
        expect(page.locator(".c8-hand-area")).to_be_hidden()
        expect(page.locator(".c8-ranking tbody tr .c8-points")).to_have_text([str(p) for p in points])
        expect(page.locator(".c8-ranking tbody tr").first.locator(".c8-place")).to_have_text("1st")
        if points[0] == 0:
            expect(page.locator(".c8-prompt")).to_have_text(
                "Game over: you went out." if seat == winner else f"Game over: {names[winner]} went out."
            )
        if points[0] < points[1]:
            expect(status(page)).to_have_text("You win!" if seat == winner else f"{names[winner]} wins.")


def test_two_pages_play_crazy_eights(web_server: NetplayServer, pages: Pages, screenshot: Any) -> None:
    names = ["Ann", "Bob"]
    (ann, bob), link = open_room(pages, web_server.url, "crazy8", names)
    cy = open_page(pages, link.replace("#join=", "#watch="), "Cy", width=375, height=812)  # a phone
    expect(cy.locator(".c8-player .c8-name")).to_have_text(["Ann", "Bob"])
    expect(cy.locator(".c8-player .c8-cards")).to_have_text(["7 cards", "7 cards"])
    expect(cy.locator(".c8-hand-area")).to_be_hidden()  # a spectator holds no cards, and sees none
    expect(cy.locator(".c8-prompt")).to_have_text("Ann's turn.")
    expect(ann.locator("#game-title")).to_have_text("Crazy Eights")
    for page, other in ((ann, "Bob"), (bob, "Ann")):
        expect(page.locator(".c8-hand .c8-card")).to_have_count(7)
        expect(page.locator(".c8-hand-title")).to_have_text("Your hand: 7 cards")
        expect(page.locator(".c8-player .c8-name")).to_have_text([other])
        expect(page.locator(".c8-player .c8-cards")).to_have_text(["7 cards"])
        expect(page.locator(".c8-stock .c8-count")).to_have_text("Stock: 37 cards")
        expect(page.locator(".c8-pile .c8-count")).to_have_text("Pile: 1 card")
    expect(ann.locator(".c8-prompt")).to_have_text(
        re.compile(r"^Your turn: (play a highlighted card|nothing to play, so draw a card)\.$")
    )
    expect(bob.locator(".c8-prompt")).to_have_text("Ann's turn.")
    screenshot(ann, "crazy8-start")

    # Whole games, until one of them has had an 8 played through the suit chooser (most games do).
    eights = 0
    for game in range(4):
        if game:
            names.reverse()  # a rematch: the seats swap
            ann.click("#rematch")
            bob.click("#rematch")
            ann, bob = bob, ann
            for page in (ann, bob):
                expect(page.locator(".c8-results")).to_be_hidden()
        _, played = play_game([ann, bob], names)
        eights += played
        check_results([ann, bob], names)
        if eights:
            break
    assert eights, "no 8 was played in four games"
    expect(cy.locator(".c8-ranking tbody tr")).to_have_count(2)
    assert cy.evaluate("document.documentElement.scrollWidth") <= 375  # nothing sticks out
    screenshot(cy, "crazy8-over-phone")
    screenshot(ann, "crazy8-over")


def test_three_pages_play_crazy_eights(web_server: NetplayServer, pages: Pages, screenshot: Any) -> None:
    names = ["Ann", "Bob", "Cy"]
    everyone, _ = open_room(pages, web_server.url, "crazy8", names, {"players": 3})
    for seat, page in enumerate(everyone):
        expect(page.locator(".c8-hand .c8-card")).to_have_count(5)
        expect(page.locator(".c8-player .c8-name")).to_have_text(
            [n for s, n in enumerate(names) if s != seat]
        )
        expect(page.locator(".c8-stock .c8-count")).to_have_text("Stock: 36 cards")
    play_game(everyone, names)
    check_results(everyone, names)
    screenshot(everyone[1], "crazy8-three-players")
