"""The Battleship board (netplay/web/boards/battleship.js), played in Chromium against a real
``netplay serve``: Ann places her fleet by hand (refusals first: the server's reasons are shown),
Bob takes a random fleet, then they fire in turn until Ann has sunk every ship of Bob's, checking
every shot on both pages; a rematch, with random fleets on both sides, starts afresh."""

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

COLUMNS = "ABCDEFGHIJ"
# Ann's fleet, as she places it below.
ANN_FLEET = {
    "carrier": ["A1", "B1", "C1", "D1", "E1"],
    "battleship": ["J1", "J2", "J3", "J4"],
    "cruiser": ["A3", "A4", "A5"],
    "submarine": ["C7", "D7", "E7"],
    "destroyer": ["H9", "I9"],
}


def test_the_server_serves_the_battleship_board(web_server: NetplayServer) -> None:
    check_served(web_server.url, "battleship")


def cells(page: Any, sea: str, state: str) -> list[str]:
    found = page.locator(f".bs-{sea} .bs-cell[data-state={state}]")
    return [c or "" for c in found.evaluate_all("cs => cs.map(c => c.dataset.cell)")]


LOOK = """(cell) => {
  const board = document.querySelector("#board .bs");
  const at = (sea) => board.querySelector(`.bs-${sea} .bs-cell[data-cell="${cell}"]`);
  return {
    own: at("own").dataset.state,
    target: at("target").dataset.state,
    last_cell: ["own", "target"].find((sea) => at(sea).classList.contains("last")) ?? null,
    last: board.querySelector(".bs-last").textContent,
    prompt: board.querySelector(".bs-prompt").textContent,
    aiming: board.querySelector(".bs-target").classList.contains("aiming"),
    own_sunk: [...board.querySelectorAll(".bs-own .bs-ships li.sunk")].map((item) => item.dataset.ship),
    target_afloat: board.querySelector(".bs-target .bs-afloat").textContent,
  };
}"""


def look(page: Any, cell: str) -> dict[str, Any]:
    """What the page's board shows now, read at once: the cell in both seas, the words."""
    return dict(page.evaluate(LOOK, cell))


def own(page: Any, cell: str) -> Any:
    return page.locator(f".bs-own .bs-cell[data-cell={cell}]")


def target(page: Any, cell: str) -> Any:
    return page.locator(f".bs-target .bs-cell[data-cell={cell}]")


def notice(page: Any) -> Any:
    return page.locator("#notice")


def test_a_placed_fleet_against_a_random_one_to_the_last_ship(
    web_server: NetplayServer, pages: Pages, screenshot: Any
) -> None:
    (ann, bob), link = open_room(pages, web_server.url, "battleship", ["Ann", "Bob"])
    cy = open_page(pages, link.replace("#join=", "#watch="), "Cy", width=375, height=812)  # a phone
    expect(cy.locator(".bs-prompt")).to_have_text("Ann is placing their fleet; Bob is placing their fleet.")
    expect(cy.locator(".bs-placer")).to_be_hidden()
    expect(ann.locator("#game-title")).to_have_text("Battleship")
    for page in (ann, bob):
        expect(page.locator(".bs")).to_have_attribute("data-phase", "placement")
        expect(page.locator(".bs-placer")).to_be_visible()
        expect(page.locator(".bs-target")).to_be_hidden()
        expect(page.locator(".bs-own .bs-column")).to_have_text(list(COLUMNS))
        expect(page.locator(".bs-own .bs-row")).to_have_text([str(n) for n in range(1, 11)])
    expect(ann.locator(".bs-prompt")).to_contain_text("Place your fleet")
    expect(ann.locator(".bs-prompt")).to_contain_text("Bob is placing theirs.")
    expect(ann.locator(".bs-placed")).to_have_text("0 of 5 ships placed.")

    # Ready with nothing placed: the server says what is missing.
    ann.locator(".bs-ready").click()
    expect(notice(ann)).to_contain_text("Illegal move: the fleet is missing the carrier, the battleship")

    # The carrier (picked first) across from A1; the battleship, turned with R, down from J1; the
    # cruiser down from A3; the submarine down from A4, on the cruiser; the destroyer, turned back
    # with R, across from H9.
    expect(ann.locator(".bs-pick[data-ship=carrier]")).to_have_attribute("aria-pressed", "true")
    expect(ann.locator(".bs-rotate")).to_have_text("Rotate (R): across →")
    own(ann, "A1").click()
    expect(ann.locator(".bs-pick[data-ship=battleship]")).to_have_attribute("aria-pressed", "true")
    ann.keyboard.press("r")
    expect(ann.locator(".bs-rotate")).to_have_text("Rotate (R): down ↓")
    own(ann, "J1").click()
    own(ann, "A3").click()
    own(ann, "A4").click()
    expect(ann.locator(".bs-own .bs-cell.clash")).to_have_count(2)  # A4 and A5
    ann.keyboard.press("R")
    own(ann, "H9").click()
    expect(ann.locator(".bs-placed")).to_have_text("5 of 5 ships placed.")
    ann.locator(".bs-ready").click()
    expect(notice(ann)).to_contain_text("Illegal move: the cruiser and the submarine overlap at A4")
    screenshot(ann, "battleship-placing")

    # Pick the submarine up, turn it across (it turns where it is: still on the cruiser), and put
    # it down at C7.
    ann.locator(".bs-pick[data-ship=submarine]").click()
    expect(ann.locator(".bs-rotate")).to_have_text("Rotate (R): down ↓")
    ann.locator(".bs-rotate").click()
    expect(ann.locator(".bs-rotate")).to_have_text("Rotate (R): across →")
    expect(ann.locator(".bs-own .bs-cell.clash")).to_have_count(1)  # A4
    own(ann, "C7").click()
    expect(ann.locator(".bs-own .bs-cell.clash")).to_have_count(0)
    expect(ann.locator(".bs-pick[aria-pressed=true]")).to_have_count(0)
    assert sorted(cells(ann, "own", "ship")) == sorted(c for ship in ANN_FLEET.values() for c in ship)
    now = version(ann)
    ann.locator(".bs-ready").click()
    now = synced([ann, bob], now)
    expect(ann.locator(".bs-placer")).to_be_hidden()
    expect(ann.locator(".bs-prompt")).to_have_text("Your fleet is placed: waiting for Bob to place theirs.")
    expect(bob.locator(".bs-prompt")).to_contain_text("Ann has placed theirs.")
    expect(ann.locator(".bs-own .bs-cell[data-state=ship]")).to_have_count(17)  # as the server has it

    # Bob takes a random fleet: the firing starts.
    bob.locator(".bs-random").click()
    now = synced([ann, bob], now)
    bob_fleet = cells(bob, "own", "ship")
    assert len(bob_fleet) == 17
    for page in (ann, bob):
        expect(page.locator(".bs")).to_have_attribute("data-phase", "firing")
        expect(page.locator(".bs-target")).to_be_visible()
        expect(page.locator(".bs-afloat")).to_have_text(["5 of 5 ships afloat", "5 of 5 ships afloat"])
    expect(ann.locator(".bs-target .bs-sea-title")).to_have_text("Bob's fleet")
    expect(bob.locator(".bs-target .bs-sea-title")).to_have_text("Ann's fleet")
    expect(ann.locator(".bs-prompt")).to_have_text("Your turn: fire at a cell of Bob's fleet.")
    expect(bob.locator(".bs-prompt")).to_have_text("Ann is firing at your fleet…")
    assert cells(ann, "target", "ship") == [] and cells(bob, "target", "ship") == []  # hidden
    expect(cy.locator(".bs-sea-title")).to_have_text(["Ann's fleet", "Bob's fleet"])
    expect(cy.locator(".bs-prompt")).to_have_text("Ann to fire.")
    assert cells(cy, "own", "ship") == [] and cells(cy, "target", "ship") == []  # hidden from a spectator
    assert cy.evaluate("document.documentElement.scrollWidth") <= 375  # nothing sticks out
    screenshot(cy, "battleship-spectator-phone")

    # Ann fires at Bob's ships (read off Bob's page), Bob at every cell from A1 in order. Each page
    # is read at once after each shot (quicker than a wait per detail).
    bob_shots = iter(f"{c}{r}" for r in range(1, 11) for c in COLUMNS)
    sunk = {"Ann": 0, "Bob": 0}
    seen = set()
    for turn in range(200):
        ann_turn = turn % 2 == 0
        shooter, victim = (ann, bob) if ann_turn else (bob, ann)
        who, whom = ("Ann", "Bob") if ann_turn else ("Bob", "Ann")
        cell = bob_fleet.pop(0) if ann_turn else next(bob_shots)
        assert look(shooter, cell)["aiming"]
        if turn == 0:  # by keyboard: from A1, arrows to the cell, then Enter
            target(shooter, "A1").focus()
            for _ in range(COLUMNS.index(cell[0])):
                shooter.keyboard.press("ArrowRight")
            for _ in range(int(cell[1:]) - 1):
                shooter.keyboard.press("ArrowDown")
            expect(target(shooter, cell)).to_be_focused()
            shooter.keyboard.press("Enter")
        else:
            target(shooter, cell).click()
        now = synced([ann, bob, cy], now)
        mine, theirs, watching = look(shooter, cell), look(victim, cell), look(cy, cell)
        result = mine["target"]
        assert result in ("miss", "hit", "sunk"), mine
        seen.add(result)
        assert theirs["own"] == result and mine["last_cell"] == "target" and theirs["last_cell"] == "own"
        assert (watching["own"] if who == "Bob" else watching["target"]) == result, watching
        if result == "sunk":
            sunk[who] += 1
            ship = mine["last"].rsplit(" ", 1)[-1].rstrip(".")
            assert mine["last"] == f"You fired at {cell}: hit and sunk the {ship}.", mine
            assert theirs["last"] == f"{who} fired at {cell}: hit and sunk your {ship}.", theirs
            assert watching["last"] == f"{who} fired at {cell}: hit and sunk the {ship}.", watching
            assert ship in theirs["own_sunk"], theirs
            assert mine["target_afloat"] == f"{5 - sunk[who]} of 5 ships afloat", mine
        else:
            assert mine["last"] == f"You fired at {cell}: {result}.", mine
            assert theirs["last"] == f"{who} fired at {cell}: {result}.", theirs
        if sunk["Ann"] == 5:
            break
        assert theirs["prompt"] == f"Your turn: fire at a cell of {who}'s fleet." and theirs["aiming"], theirs
        assert mine["prompt"] == f"{whom} is firing at your fleet…" and not mine["aiming"], mine
        assert watching["prompt"] == f"{whom} to fire.", watching
    assert seen == {"miss", "hit", "sunk"}, seen
    assert sunk == {"Ann": 5, "Bob": 1}, sunk  # Bob's first five shots sank the carrier on row 1

    expect(status(ann)).to_have_text("You win!")
    expect(status(bob)).to_have_text("Ann wins.")
    expect(cy.locator(".bs-prompt")).to_have_text("Ann sank Bob's whole fleet. Both fleets are shown.")
    expect(cy.locator(".bs-last")).to_contain_text("Ann fired at ")
    expect(ann.locator(".bs-prompt")).to_have_text("You sank Bob's whole fleet. Both fleets are shown.")
    expect(bob.locator(".bs-prompt")).to_have_text("Ann sank your whole fleet. Both fleets are shown.")
    # Both fleets at the end: Bob's page now shows Ann's ships that were never hit.
    unhit = [c for ship, where in ANN_FLEET.items() if ship != "carrier" for c in where]
    shown = cells(bob, "target", "ship")
    assert set(shown) == set(unhit) - set(cells(bob, "target", "hit")), shown
    expect(ann.locator(".bs-target .bs-afloat")).to_have_text("0 of 5 ships afloat")
    expect(ann.locator(".bs-own .bs-afloat")).to_have_text("4 of 5 ships afloat")
    screenshot(ann, "battleship-won")
    screenshot(bob, "battleship-lost")

    # A rematch: a new placement for both, each with a random fleet this time.
    ann.click("#rematch")
    bob.click("#rematch")
    for page in (ann, bob):
        expect(page.locator(".bs")).to_have_attribute("data-phase", "placement")
        expect(page.locator(".bs-placed")).to_have_text("0 of 5 ships placed.")
    now = version(ann)
    ann.locator(".bs-random").click()
    now = synced([ann, bob], now)
    bob.locator(".bs-random").click()
    synced([ann, bob], now)
    for page in (ann, bob):
        expect(page.locator(".bs")).to_have_attribute("data-phase", "firing")
        expect(page.locator(".bs-own .bs-cell[data-state=ship]")).to_have_count(17)
        expect(page.locator(".bs-last")).to_be_hidden()
    expect(bob.locator(".bs-prompt")).to_have_text(
        "Your turn: fire at a cell of Ann's fleet."
    )  # seats swapped
