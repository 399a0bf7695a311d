"""The rock-paper-scissors board (netplay/web/boards/rps.js), played between two pages in Chromium
against a real ``netplay serve``: a best of three with a tie, by clicks and by keys, and a page's
choice hidden from the other page (and from a spectator) until both have chosen."""

from __future__ import annotations

import os
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


def test_the_server_serves_the_rps_board(web_server: NetplayServer) -> None:
    check_served(web_server.url, "rps")


def pick(page: Any, choice: str) -> Any:
    return page.locator(f".rps-pick[data-choice={choice}]")


def test_a_best_of_three_with_a_tie_and_hidden_choices(
    web_server: NetplayServer, pages: Pages, screenshot: Any
) -> None:
    (ann, bob), link = open_room(pages, web_server.url, "rps", ["Ann", "Bob"])
    cy = open_page(pages, link.replace("#join=", "#watch="), "Cy")  # a spectator
    everyone = [ann, bob, cy]
    expect(ann.locator(".rps-score")).to_have_attribute("aria-label", "Ann (you) 0, Bob 0")
    expect(bob.locator(".rps-score")).to_have_attribute("aria-label", "Bob (you) 0, Ann 0")
    expect(cy.locator(".rps-score")).to_contain_text("best of 3: first to 2")
    expect(ann.locator(".rps-prompt")).to_have_text("Choose rock, paper or scissors.")
    expect(cy.locator(".rps-picks")).to_be_hidden()
    expect(ann.locator("#game-title")).to_have_text("Rock, paper, scissors")

    # Round 1: Ann picks paper. Her page says so; Bob's and Cy's only that she has chosen.
    now = version(ann)
    pick(ann, "paper").click()
    now = synced(everyone, now)
    expect(ann.locator(".rps-prompt")).to_have_text("You chose paper, waiting for Bob.")
    expect(pick(ann, "paper")).to_have_attribute("aria-pressed", "true")
    expect(pick(ann, "rock")).to_be_disabled()
    expect(bob.locator(".rps-prompt")).to_have_text("Ann has chosen: your choice.")
    expect(cy.locator(".rps-prompt")).to_have_text("Ann has chosen; Bob is choosing.")
    for page in (bob, cy):
        expect(page.locator(".rps-pick[aria-pressed=true]")).to_have_count(0)
        expect(page.locator(".rps")).not_to_contain_text(
            "paper"
        )  # the buttons say "Paper"; nothing says hers
        assert page.evaluate("Object.values(netplayPage.client().states).at(-1).state.mine") is None
    screenshot(ann, "rps-chosen")
    screenshot(bob, "rps-waiting-for-me")

    # Bob answers with the key P: a tie, and nobody scores.
    bob.keyboard.press("p")
    now = synced(everyone, now)
    for page in everyone:
        expect(page.locator(".rps-last")).to_have_text("Round 1: paper and paper, a tie.")
        expect(page.locator(".rps-rounds tbody tr")).to_have_count(1)
    expect(ann.locator(".rps-score")).to_have_attribute("aria-label", "Ann (you) 0, Bob 0")
    expect(ann.locator(".rps-prompt")).to_have_text("Choose rock, paper or scissors.")

    # Rounds 2 and 3: rock (key R on Ann's page) against scissors (a click on Bob's).
    for number in (2, 3):
        ann.keyboard.press("r")
        now = synced(everyone, now)
        expect(ann.locator(".rps-prompt")).to_have_text("You chose rock, waiting for Bob.")
        pick(bob, "scissors").click()
        now = synced(everyone, now)
        expect(ann.locator(".rps-last")).to_have_text(
            f"Round {number}: your rock blunts Bob's scissors: you win the round."
        )
        expect(bob.locator(".rps-last")).to_have_text(
            f"Round {number}: Ann's rock blunts your scissors: Ann wins the round."
        )
        expect(cy.locator(".rps-last")).to_have_text(
            f"Round {number}: Ann's rock blunts Bob's scissors: Ann wins the round."
        )

    expect(status(ann)).to_have_text("You win!")
    expect(status(bob)).to_have_text("Ann wins.")
    expect(ann.locator(".rps-score")).to_have_attribute("aria-label", "Ann (you) 2, Bob 0")
    expect(bob.locator(".rps-score")).to_have_attribute("aria-label", "Bob (you) 0, Ann 2")
    expect(ann.locator(".rps-prompt")).to_have_text("Final score 2\N{EN DASH}0.")
    rows = bob.locator(".rps-rounds tbody tr")
    expect(rows).to_have_count(3)
    expect(rows.nth(0)).to_contain_text("Rock")  # the latest round first
    expect(rows.nth(0).locator(".rps-winner")).to_have_text("Ann")
    expect(rows.nth(2).locator(".rps-winner")).to_have_text("Tie")
    for choice in ("rock", "paper", "scissors"):
        expect(pick(ann, choice)).to_be_disabled()
    screenshot(ann, "rps-won")
