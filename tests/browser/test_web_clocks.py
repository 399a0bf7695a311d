"""Clocks, resignation and draw offers on the web page, in real headless Chromium.

Two pages are two visitors. Every wait is on something a page shows, with a timeout: no sleeps (a
clock is seen to run by waiting for its text to change). Screenshots land in test-artifacts/.
"""

from __future__ import annotations

import re
from typing import Any

from .conftest import NetplayServer, Pages
from .test_web_client import Page, Shot, cell, expect, online, record_texts, recorded, status


def clock(page: Page, seat: int) -> Any:
    return page.locator(f"#players .clock[data-seat='{seat}']")


def seconds(text: str) -> float:
    """A clock's text as seconds: 1:00, 0:59, 0:09.4, 1:02:03."""
    total = 0.0
    for part in text.strip().split(":"):
        total = total * 60 + float(part)
    return total


def pick_clock(page: Page, game: str, title: str) -> None:
    """Choose a time control on a game's card in the lobby (by its spoken name, e.g. "1 minute...")."""
    page.locator(f".game-card[data-game={game}] .clock-pick").get_by_label(title).check()


def expect_running(page: Page, running: int, stopped: int) -> None:
    expect(clock(page, running)).to_have_attribute("data-running", "")
    expect(clock(page, stopped)).not_to_have_attribute("data-running", "")


def expect_counting_down(page: Page, seat: int) -> None:
    """The seat's clock shows less time a moment later (its text changes, and goes down)."""
    before = clock(page, seat).inner_text()
    expect(clock(page, seat)).not_to_have_text(before)
    assert seconds(clock(page, seat).inner_text()) < seconds(before)


def fits_a_phone(page: Page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= 375  # nothing sticks out


# -- a game with a clock ---------------------------------------------------------------------------


def test_a_clocked_game_runs_the_movers_clock_then_ends_by_resignation(
    web_server: NetplayServer, pages: Pages, screenshot: Shot
) -> None:
    ann = online(pages.open(web_server.url, name="Ann"))
    pick_clock(ann, "tictactoe", "1 minute each, no increment")
    ann.click(".game-card[data-game=tictactoe] [data-action=private]")
    expect(ann.locator("#share")).to_be_visible()
    expect(ann.locator("#game-clock")).to_have_text("1+0")
    expect(ann.locator("#players .clock")).to_have_text(["1:00", "1:00"])  # before the game: full time
    bob = pages.open(ann.locator("#share-link").input_value(), name="Bob", width=375, height=812)
    expect(status(ann)).to_have_text("Your turn: you play X.")
    expect(status(bob)).to_have_text("Ann's turn…")

    # Ann's clock runs, on both pages; Bob's waits, full.
    for page in (ann, bob):
        expect(page.locator("#players .clock")).to_have_count(2)
        expect_running(page, running=0, stopped=1)
        expect(clock(page, 1)).to_have_text("1:00")
    expect_counting_down(bob, 0)
    expect(bob.locator(".chip").nth(0)).to_contain_text("Ann")
    screenshot(bob, "clock-running-phone")
    fits_a_phone(bob)

    # Ann moves: her clock stops (where it was), Bob's runs.
    cell(ann, 4).click()
    expect(status(bob)).to_have_text("Your turn: you play O.")
    for page in (ann, bob):
        expect_running(page, running=1, stopped=0)
    stopped_at = clock(ann, 0).inner_text()
    assert seconds(stopped_at) < 60
    expect_counting_down(ann, 1)
    expect(clock(ann, 0)).to_have_text(stopped_at)
    screenshot(ann, "clock-running")

    # Bob resigns: a question first (Escape, or "Keep playing", keeps the game going).
    bob.click("#resign")
    confirm = bob.locator("#resign-confirm")
    expect(confirm).to_be_visible()
    expect(confirm).to_contain_text("Resign this game?")
    expect(bob.locator("#resign-no")).to_be_focused()  # the safe answer has the focus
    screenshot(bob, "resign-confirm-phone")
    fits_a_phone(bob)
    bob.keyboard.press("Escape")
    expect(confirm).to_be_hidden()
    expect(bob.locator("#resign")).to_be_focused()
    expect(status(ann)).to_have_text("Bob's turn…")  # nothing was sent
    bob.keyboard.press("Enter")  # the Resign button again, by keyboard
    expect(confirm).to_be_visible()
    bob.click("#resign-yes")

    expect(status(ann)).to_have_text("Bob resigned. You win!")
    expect(status(bob)).to_have_text("You resigned: Ann wins.")
    expect(status(ann)).to_have_attribute("data-result", "won")
    for page in (ann, bob):
        expect(page.locator("#players .clock[data-running]")).to_have_count(0)  # both stopped
        expect(page.locator("#resign")).to_be_hidden()
        expect(page.locator("#offer-draw")).to_be_hidden()
        expect(page.locator("#rematch")).to_be_visible()
    expect(clock(ann, 0)).to_have_text(stopped_at)
    screenshot(ann, "resign-won")
    screenshot(bob, "resign-lost-phone")


def test_no_your_turn_while_offline_and_the_clocks_go_on_after_a_reconnect(
    web_server: NetplayServer, pages: Pages
) -> None:
    ann = online(pages.open(web_server.url, name="Ann"))
    pick_clock(ann, "tictactoe", "10 minutes each, plus 5 seconds a move")
    ann.click(".game-card[data-game=tictactoe] [data-action=private]")
    expect(ann.locator("#share")).to_be_visible()
    bob = pages.open(ann.locator("#share-link").input_value(), name="Bob")
    expect(status(ann)).to_have_text("Your turn: you play X.")
    expect(status(bob)).to_have_text("Ann's turn…")
    record_texts(ann, "#link-state, #status")  # both, at every change: (link, status) pairs
    record_texts(ann, "#players .clock[data-seat='0']")
    # The network drops, on Ann's turn (the page's client is kept, to see it replaced).
    ann.evaluate("(window.dropped = window.netplayPage.client()).socket.close()")
    ann.wait_for_function("() => window.netplayPage.client() !== window.dropped")
    online(ann)
    expect(status(ann)).to_have_text("Your turn: you play X.")  # her seat, and her turn, are back
    expect(ann.locator("#resign")).to_be_enabled()
    texts = recorded(ann, "#link-state, #status")
    shown = list(zip(texts[::2], texts[1::2], strict=False))  # a last odd text has no pair yet
    assert ("offline", "You are offline: reconnecting to the game…") in shown
    assert not [pair for pair in shown if pair[0] != "online" and pair[1].startswith("Your turn")], shown
    # Her clock ran all along (the server's), and the page shows it running again, never reset.
    assert "10:00" not in recorded(ann, "#players .clock[data-seat='0']")[1:]
    expect_running(ann, running=0, stopped=1)
    expect_counting_down(ann, 0)
    cell(ann, 4).click()
    expect(status(bob)).to_have_text("Your turn: you play O.")


def test_quick_match_with_a_clock_and_a_draw_offered_declined_then_agreed(
    web_server: NetplayServer, pages: Pages, screenshot: Shot
) -> None:
    three_two = "3 minutes each, plus 2 seconds a move"
    ann = online(pages.open(web_server.url, name="Ann"))
    pick_clock(ann, "tictactoe", three_two)
    ann.click(".game-card[data-game=tictactoe] [data-action=quick]")
    expect(status(ann)).to_have_text("Waiting for an opponent… or play the computer.")
    expect(ann.locator("#game-clock")).to_have_text("3+2")

    bob = online(pages.open(web_server.url, name="Bob"))
    row = bob.locator("[data-rooms=tictactoe] .room-row", has_text="Ann vs …").filter(has_text="3+2")
    expect(row.locator(".clock-badge")).to_have_text("3+2")  # the lobby says each room's clock
    # The choice is remembered in the browser: Ann's next visit has 3+2 picked.
    assert ann.evaluate("localStorage.getItem('netplay.clock.tictactoe')") == "180+2"
    # Bob picks by keyboard: the segments are radio buttons, and arrows move between them.
    bob.locator(".game-card[data-game=tictactoe] .clock-pick").get_by_label("No clock").focus()
    bob.keyboard.press("ArrowRight")
    bob.keyboard.press("ArrowRight")
    expect(bob.locator(".game-card[data-game=tictactoe] .clock-pick").get_by_label(three_two)).to_be_checked()
    screenshot(bob, "lobby-clock-picked", full_page=False)
    bob.click(".game-card[data-game=tictactoe] [data-action=quick]")  # the same clock: Ann's room
    expect(status(ann)).to_have_text("Your turn: you play X.")
    expect(status(bob)).to_have_text("Ann's turn…")
    expect(bob.locator("#players .clock")).to_have_count(2)
    expect(clock(bob, 1)).to_have_text("3:00")

    # Bob offers a draw (whoever's turn it is); Ann is asked, and declines.
    bob.click("#offer-draw")
    expect(bob.locator("#offer-draw")).to_have_text("Draw offered")
    expect(bob.locator("#offer-draw")).to_have_attribute("aria-disabled", "true")
    offer = ann.locator("#draw-offer")
    expect(offer).to_be_visible()
    expect(offer).to_contain_text("Bob offers a draw.")
    expect(ann.locator("#offer-draw")).to_be_hidden()  # Accept is the answer now
    screenshot(ann, "draw-offered")
    ann.get_by_role("button", name="Decline").click()
    expect(offer).to_be_hidden()
    expect(bob.locator("#notice")).to_have_text("Ann declined the draw.")
    expect(bob.locator("#offer-draw")).to_have_text("Offer draw")
    expect(bob.locator("#offer-draw")).to_have_attribute("aria-disabled", "false")

    # A move, then Ann offers; Bob accepts, by keyboard: the game is drawn by agreement.
    cell(ann, 0).click()
    expect(status(bob)).to_have_text("Your turn: you play O.")
    ann.click("#offer-draw")
    accept = bob.get_by_role("button", name="Accept draw")
    expect(bob.locator("#draw-offer")).to_contain_text("Ann offers a draw.")
    accept.focus()
    bob.keyboard.press("Enter")
    for page in (ann, bob):
        expect(status(page)).to_have_text("Draw agreed.")
        expect(status(page)).to_have_attribute("data-result", "draw")
        expect(page.locator("#draw-offer")).to_be_hidden()
        expect(page.locator("#players .clock[data-running]")).to_have_count(0)
    screenshot(bob, "draw-agreed")


def test_a_per_move_clock_runs_out_and_the_page_says_who_lost_on_time(
    web_server: NetplayServer, pages: Pages, screenshot: Shot
) -> None:
    ann = online(pages.open(web_server.url, name="Ann", width=375, height=812))
    # A clock the lobby does not offer, through the page's own entry point (as the console can).
    assert ann.evaluate("netplayPage.createRoom('tictactoe', { private: true, clock: '1/move' })")
    expect(ann.locator("#share")).to_be_visible()
    expect(ann.locator("#game-clock")).to_have_text("1 s/move")
    record_texts(ann, "#players .clock[data-seat='0']")
    record_texts(ann, "#status")
    bob = pages.open(ann.locator("#share-link").input_value(), name="Bob")
    # Ann does not move: after a second the server says her time ran out.
    expect(status(ann)).to_have_text("You lost on time.")
    expect(status(bob)).to_have_text("Ann lost on time. You win!")
    expect(status(ann)).to_have_attribute("data-result", "lost")
    for page in (ann, bob):
        expect(clock(page, 0)).to_have_text("0:00.0")
        expect(clock(page, 0)).to_have_class(re.compile(r"\bflagged\b"))
        expect(page.locator("#players .clock[data-running]")).to_have_count(0)
    shown = recorded(ann, "#players .clock[data-seat='0']")
    assert any(re.fullmatch(r"0:00\.[1-9]", text) for text in shown), shown  # tenths, counting down
    assert "Your turn: you play X." in recorded(ann, "#status")
    screenshot(ann, "time-lost-phone")
    screenshot(bob, "time-won")
    fits_a_phone(ann)


def test_a_clocked_game_against_the_computer(
    web_server: NetplayServer, pages: Pages, screenshot: Shot
) -> None:
    ann = online(pages.open(web_server.url, name="Ann", width=375, height=812))
    card = ann.locator(".game-card[data-game=connect4]")
    pick_clock(ann, "connect4", "5 minutes each, plus 3 seconds a move")
    card.locator("select").select_option("random")
    card.locator("[data-action=bot]").click()
    expect(status(ann)).to_have_text("Your turn: you play X.")  # the room's maker plays first
    expect(ann.locator("#players .clock")).to_have_count(2)
    expect(ann.locator("#offer-draw")).to_be_hidden()  # a computer never agrees to a draw
    expect(ann.locator("#resign")).to_be_visible()
    ann.locator(".c4 .column").nth(3).click()
    # The computer answers within its delay: its clock ran, got the increment, and stopped.
    expect(ann.locator(".c4 span:not([data-mark=''])")).to_have_count(2)
    expect(status(ann)).to_have_text("Your turn: you play X.")
    expect_running(ann, running=0, stopped=1)
    assert 300 <= seconds(clock(ann, 1).inner_text()) <= 303
    screenshot(ann, "clock-vs-computer-phone")
    fits_a_phone(ann)


# -- netplay.js on its own -----------------------------------------------------------------------

CLOCK_SCRIPT = """
async () => {
  const { connect, NetplayError } = await import("/netplay.js");
  const [ann, bob, eve] = await Promise.all(
    ["JsAnn", "JsBob", "JsEve"].map((name) => connect({ name })),
  );
  const out = {};
  // quickMatch pairs only rooms with the same clock.
  const clock = `${40 + Math.floor(Math.random() * 1000)}+1`;
  const first = await ann.quickMatch("tictactoe", { clock });
  const other = await eve.quickMatch("tictactoe", { clock: "30/move" });
  const second = await bob.quickMatch("tictactoe", { clock });
  out.paired = [first.room.id === second.room.id, other.room.id !== first.room.id];
  out.roomClock = first.room.clock === clock;
  const state = await ann.waitFor("state");
  out.clock = [state.clock.control === clock, state.clock.running, state.active, state.draw_offers];
  // A draw offered and declined: both are events, with the seat.
  const offered = bob.waitFor("draw_offered");
  out.offer = (await ann.offerDraw()).type;
  const seen = await offered;
  out.offered = [seen.seat, seen.offers, seen.player === ann.id];
  const declined = ann.waitFor("draw_declined");
  out.decline = (await bob.declineDraw()).type;
  out.declined = (await declined).seat;
  // Resigning ends the game: the other seat wins.
  const over = bob.waitFor("state", { status: "finished" });
  out.resign = (await ann.resign()).type;
  const outcome = (await over).outcome;
  out.outcome = [outcome.winner, outcome.reason, outcome.places];
  try {
    await ann.offerDraw();
  } catch (error) {
    out.afterEnd = [error instanceof NetplayError, error.code];
  }
  try {
    await eve.createRoom("tictactoe", { clock: "soon" });
  } catch (error) {
    out.badClock = error.code;
  }
  for (const client of [ann, bob, eve]) client.close();
  return out;
}
"""


def test_the_javascript_client_clock_resign_and_draw_requests(
    web_server: NetplayServer, pages: Pages
) -> None:
    page = online(pages.open(web_server.url, name="Host"))
    assert page.evaluate(CLOCK_SCRIPT) == {
        "paired": [True, True],
        "roomClock": True,
        "clock": [True, [0], [0], []],
        "offer": "ok",
        "offered": [0, [0], True],
        "decline": "ok",
        "declined": 1,
        "resign": "ok",
        "outcome": [1, "resign", [2, 1]],
        "afterEnd": [True, "game_over"],
        "badClock": "invalid_message",
    }
