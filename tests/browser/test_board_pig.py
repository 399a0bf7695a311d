"""The Pig board (netplay/web/boards/pig.js), played in Chromium against a real ``netplay serve``:
two pages to a target of 20 (the room's ``target`` option), by clicks and by the keys R and H, then
three pages to 10. Each page rolls until its turn total reaches a few points, then holds."""

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


def test_the_server_serves_the_pig_board(web_server: NetplayServer) -> None:
    check_served(web_server.url, "pig")


def scores(page: Any) -> list[int]:
    rows = page.locator(".pig-player")
    return [int(rows.nth(i).get_attribute("data-score") or 0) for i in range(rows.count())]


def turn_total(page: Any) -> int:
    text = page.locator(".pig-total").text_content() or ""
    found = re.fullmatch(r"Turn total: (\d+)", text)
    assert found, text
    return int(found.group(1))


def play_to_the_end(pages: list[Any], names: list[str], target: int, hold_at: int, *, keys: bool) -> int:
    """Every page plays its turns (roll until the turn total reaches ``hold_at``, then hold) until the
    game ends; every state is checked on every page. Returns the winner's seat."""
    now = version(pages[0])
    banked = [0] * len(pages)
    seen_one = seen_hold = False
    for _ in range(400):
        if pages[0].locator(".pig").get_attribute("data-turn") == "":
            break  # over
        seat = int(pages[0].locator(".pig").get_attribute("data-turn") or 0)
        page = pages[seat]
        expect(page.locator(".pig")).to_have_class(re.compile(r"\bmy-turn\b"))
        for other in pages:
            if other is not page:
                expect(other.locator(".pig-prompt")).to_have_text(f"{names[seat]}'s turn.")
                expect(other.locator(".pig-roll")).to_be_disabled()
        total = turn_total(page)
        before = page.locator(".pig-dice .pig-die").count()
        move = "hold" if total >= hold_at or banked[seat] + total >= target else "roll"
        if keys and seat == 0:
            page.keyboard.press("r" if move == "roll" else "h")
        else:
            page.locator(f".pig-{move}").click()
        now = synced(pages, now)
        last = pages[(seat + 1) % len(pages)].locator(".pig-last")
        if move == "hold":
            banked[seat] += total
            seen_hold = True
            expect(last).to_contain_text(f"{names[seat]} held and banked {total} (")
            expect(page.locator(".pig-last")).to_contain_text(f"You held and banked {total} (")
        elif page.locator(".pig-dice .pig-die").count() == before + 1:  # rolled 2-6: the turn goes on
            dice = page.locator(".pig-dice .pig-die")
            values = [int(dice.nth(i).get_attribute("data-value") or 0) for i in range(dice.count())]
            assert 1 not in values
            expect(page.locator(".pig-total")).to_have_text(f"Turn total: {sum(values)}")
            for other in pages:
                expect(other.locator(".pig-dice .pig-die")).to_have_count(len(values))
                expect(other.locator(f".pig-player[data-seat='{seat}'] .pig-stake")).to_have_text(
                    f" +{sum(values)}"
                )
        else:  # a 1: the turn total is lost and the turn passes
            seen_one = True
            lost = f"rolled a 1 and lost {total} (" if total else "rolled a 1 first: nothing to bank."
            expect(last).to_contain_text(f"{names[seat]} {lost}")
            expect(page.locator(".pig-last")).to_contain_text(f"You {lost}")
        for other in pages:
            assert scores(other) == banked, (scores(other), banked)
    else:
        raise AssertionError("the game did not end")
    winner = max(range(len(pages)), key=lambda s: banked[s])
    assert banked[winner] >= target
    assert seen_hold
    del seen_one  # a 1 comes when it comes; the words for it are checked when it does
    return winner


def test_two_pages_play_pig_to_twenty(web_server: NetplayServer, pages: Pages, screenshot: Any) -> None:
    names = ["Ann", "Bob"]
    (ann, bob), _ = open_room(pages, web_server.url, "pig", names, {"target": 20})
    for page in (ann, bob):
        expect(page.locator(".pig-target")).to_have_text("First to 20 wins.")
        expect(page.locator(".pig-player .pig-name")).to_have_text(
            ["Ann (you)", "Bob"] if page is ann else ["Ann", "Bob (you)"]
        )
    expect(ann.locator(".pig-prompt")).to_have_text("Your turn: roll, or hold to bank your turn total.")
    expect(ann.locator(".pig-hold")).to_be_disabled()  # nothing to bank yet
    expect(ann.locator("#game-title")).to_have_text("Pig")
    ann.locator(".pig-roll").focus()
    winner = play_to_the_end([ann, bob], names, 20, 6, keys=True)
    screenshot(ann, "pig-over")
    won, lost = (ann, bob) if winner == 0 else (bob, ann)
    expect(status(won)).to_have_text("You win!")
    expect(status(lost)).to_have_text(f"{names[winner]} wins.")
    for page in (ann, bob):
        expect(page.locator(f".pig-player[data-seat='{winner}']")).to_have_class(re.compile(r"\bwinner\b"))
        expect(page.locator(".pig-actions")).to_be_hidden()
        who = "You" if page is won else names[winner]
        expect(page.locator(".pig-prompt")).to_have_text(
            re.compile(rf"^{who} reached (2\d|3\d): game over\.$")
        )


def test_three_pages_play_pig_to_ten(web_server: NetplayServer, pages: Pages, screenshot: Any) -> None:
    names = ["Ann", "Bob", "Cy"]
    everyone, link = open_room(pages, web_server.url, "pig", names, {"players": 3, "target": 10})
    dee = open_page(pages, link.replace("#join=", "#watch="), "Dee", width=375, height=812)  # a phone
    expect(dee.locator(".pig-player .pig-name")).to_have_text(names)
    expect(dee.locator(".pig-actions")).to_be_hidden()
    expect(everyone[2].locator(".pig-player .pig-name")).to_have_text(["Ann", "Bob", "Cy (you)"])
    winner = play_to_the_end(everyone, names, 10, 4, keys=False)
    screenshot(everyone[2], "pig-three-players")
    expect(status(dee)).to_have_text(re.compile(rf"^{names[winner]} \(.+\) wins\.$"))
    assert dee.evaluate("document.documentElement.scrollWidth") <= 375  # nothing sticks out
    screenshot(dee, "pig-three-players-phone")
    for seat, page in enumerate(everyone):
        expect(status(page)).to_have_text("You win!" if seat == winner else f"{names[winner]} wins.")
