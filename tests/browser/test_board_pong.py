"""The Pong board (netplay/web/boards/pong.js) and the real-time half of netplay.js, in Chromium
against a real ``netplay serve``: two pages quick-match and play a game to one point with key
presses; a page against the server's bot sees its own paddle move on the very next animation frame
after a key press (prediction), with no correction over a whole game; a spectator watches a game to
its result; and a patch that does not fit makes the page ask for a keyframe, which puts it right.

Every wait is on a condition the page shows or holds (``wait_for_function``), with a timeout.
"""

from __future__ import annotations

import os
import re
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


# The page's paddle has stopped: no input on its way, the server's view holds no direction.
SETTLED = """() => {
  const view = netplayPage.client().view();
  return view.pending === 0 && view.view.dirs[view.seat] === 0;
}"""

# The page draws its own paddle where the server has it (the frame after the server's last word).
CONVERGED = """() => {
  const { drawn } = netplayPage.board();
  return drawn.own !== null && drawn.own === drawn.serverOwn;
}"""

# The page's own paddle, as drawn (predicted), is within reach of the top wall; or the game is over
# already (a ball can go past before a busy page gets its paddle up).
AT_TOP_OR_OVER = """() => netplayPage.client().view().status === "finished"
  || (netplayPage.board().drawn?.own ?? 1000) <= 60"""


def test_the_server_serves_the_pong_board(web_server: NetplayServer) -> None:
    for path in ("boards/pong.js", "boards/pong_rules.js", "boards/realtime.js", "delta.js"):
        status_code, kind = served(web_server.url + path)
        assert status_code == 200 and kind.startswith("text/javascript"), (path, status_code, kind)
    status_code, kind = served(web_server.url + "boards/realtime.css")
    assert status_code == 200 and kind.startswith("text/css")  # both real-time boards' stylesheet


def board(page: Any) -> dict[str, Any]:
    return realtime_board(page)


def playing(page: Any) -> None:
    page.wait_for_selector(".pong[data-status=playing]")


def finished(page: Any) -> None:
    page.wait_for_selector(".pong[data-status=finished]", timeout=GAME_TIMEOUT)


def hold_until(page: Any, key: str, condition: str) -> None:
    """Hold ``key`` down until ``condition`` holds on the page, then let go."""
    page.keyboard.down(key)
    try:
        page.wait_for_function(condition, polling="raf", timeout=20_000)
    finally:
        page.keyboard.up(key)


def with_bot(pages: Pages, url: str, name: str, points: int) -> Any:
    """A page in a public pong room to ``points`` against the server's bot, once the game is on."""
    page = open_page(pages, url, name)
    assert page.evaluate("(points) => netplayPage.createRoom('pong', { options: { points } })", points)
    expect(page.locator("#add-bot")).to_be_visible()
    page.click("#add-bot")
    playing(page)
    return page


def test_two_pages_quick_match_and_play_pong_to_one_point(
    web_server: NetplayServer, pages: Pages, screenshot: Any
) -> None:
    ann = open_page(pages, web_server.url, "Ann")
    card = ann.locator(".game-card[data-game=pong]")
    expect(card.locator(".option-pick legend")).to_have_text("First to")
    expect(card.locator(".clock-pick")).to_be_hidden()  # real time: no clock
    # Ann opens a public room to one point (quick match would make one to the default five)...
    assert ann.evaluate("() => netplayPage.createRoom('pong', { options: { points: 1 } })")
    expect(status(ann)).to_have_text("Waiting for an opponent… or play the computer.")
    # ... and Bob's quick match finds it.
    bob = open_page(pages, web_server.url, "Bob")
    expect(bob.locator(".game-card[data-game=pong] .rooms .room-row")).to_have_count(1)
    bob.click(".game-card[data-game=pong] [data-action=quick]")
    for page in (ann, bob):
        playing(page)
        expect(page.locator("#game-title")).to_have_text("Pong")
        expect(page.locator("#resign")).to_be_hidden()
        expect(page.locator("#offer-draw")).to_be_hidden()
    expect(status(ann)).to_have_text("Game on: you are left.")
    expect(status(bob)).to_have_text("Game on: you are right.")
    expect(ann.locator(".pong-side")).to_have_text(["Ann (you)", "Bob"])
    expect(bob.locator(".pong-side")).to_have_text(["Ann", "Bob (you)"])
    assert board(ann)["seat"] == 0 and board(bob)["seat"] == 1
    # Both take their paddles to the top at once, one with W, the other with the arrow: a ball goes
    # past. The ball is served a second after the start and needs about as long to reach a side, and
    # nothing here waits on the page to be quick: the game may be over before a key is let go.
    keys = ((ann, "w"), (bob, "ArrowUp"))
    for page, key in keys:
        page.keyboard.down(key)
    try:
        for page, _ in keys:
            page.wait_for_function(AT_TOP_OR_OVER, polling="raf", timeout=20_000)
        screenshot(bob, "pong-playing")
    finally:
        for page, key in keys:
            page.keyboard.up(key)
    finished(ann)
    finished(bob)
    a, b = board(ann), board(bob)
    assert a["outcome"] == b["outcome"] and a["outcome"]["winner"] in (0, 1)
    assert a["view"] == b["view"] and a["tick"] == b["tick"]  # the same final view
    # The keys moved each page's paddle on the server too: up from the centre (300), where it started.
    assert a["view"]["paddles"][0] < 300 and a["view"]["paddles"][1] < 300, a["view"]
    for page in (ann, bob):  # once the game is over the page draws the server's paddle, no guess
        page.wait_for_function(CONVERGED, polling="raf")
    winner = a["outcome"]["winner"]
    score = a["view"]["score"]
    assert score[winner] == 1 and score[1 - winner] == 0
    won, lost = (ann, bob) if winner == 0 else (bob, ann)
    expect(status(won)).to_have_text("You win!")
    expect(status(lost)).to_have_text(f"{['Ann', 'Bob'][winner]} wins.")
    expect(won.locator(".rt-caption")).to_have_text("You won 1 : 0.")
    for page in (ann, bob):
        expect(page.locator(".pong-score")).to_have_attribute("data-score", f"{score[0]}:{score[1]}")
        expect(page.locator("#rematch")).to_be_visible()
    screenshot(won, "pong-over")
    # A rematch: both ask, and a new game starts from a keyframe at tick 0.
    ann.click("#rematch")
    expect(ann.locator("#rematch")).to_have_text("Waiting for your opponent…")
    bob.click("#rematch")
    for page in (ann, bob):
        page.wait_for_selector(".pong[data-status=playing][data-game='2']")
        expect(page.locator(".pong-score")).to_have_attribute("data-score", "0:0")
        expect(page.locator("#rematch")).to_be_hidden()


def test_the_own_paddle_moves_on_the_next_frame_and_is_never_corrected(
    web_server: NetplayServer, pages: Pages
) -> None:
    page = with_bot(pages, web_server.url, "Ann", 2)
    expect(page.locator(".pong-side")).to_have_text(["Ann (you)", "The computer"])
    trials = []
    for key, sign in (
        ("ArrowUp", -1),
        ("ArrowDown", 1),
        ("w", -1),
        ("s", 1),
        ("ArrowUp", -1),
        ("ArrowDown", 1),
    ):
        page.wait_for_function(SETTLED, polling="raf")
        seq = board(page)["lastInput"]
        seq = -1 if seq is None else seq["seq"]
        page.keyboard.down(key)
        page.wait_for_function(INPUT_DRAWN, arg=seq, polling="raf")
        pressed = board(page)["lastInput"]
        page.keyboard.up(key)
        page.wait_for_function(INPUT_DRAWN, arg=pressed["seq"], polling="raf")
        assert pressed["data"] == {"dir": sign}
        before, after = pressed["drawn"], pressed["next"]
        # The frame right after the key press shows the paddle moved (predicted)...
        assert after["frame"] == pressed["frame"] + 1, pressed
        assert (after["own"] - before["own"]) * sign >= 14, pressed
        # ... while the server, which applies the input at a tick still to come, has not moved it.
        assert after["serverOwn"] == before["serverOwn"], pressed
        trials.append(pressed)
    # A patch may land between a key press and the next frame; in most trials none did, and the
    # paddle moved all the same: the movement is the page's prediction, not the server's word.
    assert any(t["next"]["tick"] == t["tick"] for t in trials), trials
    page.wait_for_function(SETTLED, polling="raf")
    hold_until(page, "w", AT_TOP_OR_OVER)  # out of the ball's way: the game ends sooner
    finished(page)
    end = board(page)
    assert end["corrections"] == 0, end
    assert end["pending"] == 0 and end["diverged"] == 0
    assert end["rtt"] < 500
    assert end["outcome"]["winner"] == 1
    expect(status(page)).to_have_text("The computer wins.")
    expect(page.locator("#rematch")).to_be_visible()


def test_a_spectator_watches_a_game_to_its_result(web_server: NetplayServer, pages: Pages) -> None:
    ann = open_page(pages, web_server.url, "Ann")
    assert ann.evaluate("() => netplayPage.createRoom('pong', { private: true, options: { points: 1 } })")
    link = ann.locator("#share-link").input_value()
    cy = open_page(pages, link.replace("#join=", "#watch="), "Cy")
    expect(status(cy)).to_have_text("Waiting for the players…")
    ann.click("#add-bot")
    playing(ann)
    playing(cy)
    expect(status(cy)).to_have_text("Watching Ann vs The computer.")
    expect(cy.locator(".pong-side")).to_have_text(["Ann", "The computer"])
    expect(cy.locator("#watching")).to_have_text("You are watching")
    assert board(cy)["seat"] is None
    # The spectator's keys send nothing; its page draws the ball as it moves.
    cy.evaluate("""() => {
      const client = netplayPage.client();
      window.inputs = [];
      const send = client.send.bind(client);
      client.send = (message) => {
        if (message.type === "input") window.inputs.push(message);
        send(message);
      };
    }""")
    cy.keyboard.press("ArrowUp")
    first = board(cy)["drawn"]["ball"]
    cy.wait_for_function(
        "(first) => netplayPage.board().drawn.ball.some((v, i) => v !== first[i])",
        arg=first,
        polling="raf",
    )
    hold_until(ann, "ArrowUp", AT_TOP_OR_OVER)
    finished(cy)
    finished(ann)
    assert cy.evaluate("() => window.inputs.length") == 0
    outcome = board(cy)["outcome"]
    assert outcome == board(ann)["outcome"]
    assert board(cy)["view"] == board(ann)["view"]
    who = "Ann (left)" if outcome["winner"] == 0 else "The computer (right)"
    expect(status(cy)).to_have_text(f"{who} wins.")
    expect(cy.locator("#rematch")).to_be_hidden()  # for players only


def test_a_page_reloaded_in_a_game_plays_on(web_server: NetplayServer, pages: Pages) -> None:
    page = with_bot(pages, web_server.url, "Ann", 5)
    hold_until(page, "s", "() => netplayPage.board().drawn?.own >= 380")
    page.wait_for_function(SETTLED, polling="raf")
    sent = board(page)["lastInput"]["seq"]
    assert sent >= 1
    page.reload()  # the session and its seat come back; the new page's view starts from a keyframe
    playing(page)
    expect(page.locator(".pong-side")).to_have_text(["Ann (you)", "The computer"])
    page.wait_for_function(CONVERGED, polling="raf")
    page.evaluate(
        "() => { window.refused = []; netplayPage.client().on('error', (e) => window.refused.push(e)); }"
    )
    # Its inputs are numbered after the ones the server has: taken, not refused as stale.
    hold_until(page, "ArrowUp", "() => netplayPage.board().drawn?.own <= 300")
    page.wait_for_function(SETTLED, polling="raf")
    page.wait_for_function(CONVERGED, polling="raf")
    after = board(page)
    assert after["lastInput"]["seq"] > sent
    assert after["view"]["paddles"][0] <= 300 + 2 * 14 and after["corrections"] == 0
    assert page.evaluate("() => window.refused") == []
    expect(page.locator("#notice")).to_be_hidden()  # no refusal was shown


# A patch made against the view the page has, with the given ops and hash, handed to the client as
# if it came from the server; the messages the client sends from then on are kept.
INJECT = """([ops, hash]) => {
  const client = netplayPage.client();
  const view = client.view();
  window.sent = [];
  if (!window.spied) {
    const send = client.send.bind(client);
    client.send = (message) => { window.sent.push(message); send(message); };
    window.spied = true;
  }
  const before = { tick: view.tick, keyframes: view.keyframes, diverged: view.diverged };
  const patch = { type: "patch", room: view.room, tick: view.tick + 1, base: view.tick, ops, hash };
  Object.assign(patch, { ack: -1, seat: view.seat });
  client._receive(JSON.stringify(patch));
  return { before, after: { tick: view.tick, diverged: view.diverged }, sent: window.sent.slice() };
}"""

# A keyframe has come since the given count, and the view matches its hash again.
RESTORED = """(keyframes) => {
  const view = netplayPage.client().view();
  return view.keyframes > keyframes;
}"""


@pytest.mark.parametrize("kind", ["malformed", "wrong hash"])
def test_a_patch_that_does_not_fit_makes_the_page_resync(
    web_server: NetplayServer, pages: Pages, kind: str
) -> None:
    page = with_bot(pages, web_server.url, "Ann", 5)
    page.wait_for_function("() => netplayPage.client().view().patches > 3", polling="raf")
    if kind == "malformed":
        ops, digest = [[["no such key", 3], 1]], "00000000"
    else:  # a patch that applies, to a view the server never had
        ops, digest = [[["paddles", 0], 123]], "00000000"
    injected = page.evaluate(INJECT, [ops, digest])
    before, after = injected["before"], injected["after"]
    assert after["diverged"] == before["diverged"] + 1
    assert after["tick"] == before["tick"]  # the view is as it was
    room = page.evaluate("() => netplayPage.client().view().room")
    assert {"type": "resync", "room": room} in injected["sent"]
    assert not any(m["type"] == "ack" for m in injected["sent"])  # views are never acknowledged
    page.wait_for_function(RESTORED, arg=before["keyframes"], polling="raf")
    page.wait_for_function(
        "(tick) => netplayPage.client().view().tick > tick && netplayPage.client().view().patches > 0",
        arg=before["tick"],
        polling="raf",
    )
    # Patches apply again: their hashes match the view the keyframe gave.
    patches = board(page)["patches"]
    page.wait_for_function("(n) => netplayPage.client().view().patches > n + 2", arg=patches, polling="raf")
    end = board(page)
    assert end["diverged"] == before["diverged"] + 1
    assert end["status"] == "playing"
    expect(page.locator(".pong")).to_have_attribute("data-status", "playing")
    assert re.fullmatch(r"\d+:\d+", page.locator(".pong-score").get_attribute("data-score") or "")


# netplay.js on its own, as docs/javascript.md shows it: a real-time room's view, its events, an
# input and its prediction.
CLIENT_SCRIPT = """
async () => {
  const { connect, RealtimeView } = await import("/netplay.js");
  const rules = await import("/boards/pong_rules.js");
  const ann = await connect({ name: "JsAnn" });
  ann.predictWith("pong", rules);
  const joined = await ann.createRoom("pong", { options: { points: 1 } });
  const view = ann.view();
  const out = {};
  out.view = [view instanceof RealtimeView, view.room === joined.room.id, view.seat, view.gameName];
  const seen = [];
  ann.on("view", (event) => seen.push([event.room === view.room, event.tick, event.keyframe]));
  await ann.addBot();
  const keyframe = await ann.waitFor("keyframe");
  out.keyframe = [keyframe.tick, keyframe.status, keyframe.seat, keyframe.tick_rate, view.status];
  await new Promise((resolve) => {
    const off = ann.on("view", (event) => event.tick >= 6 && (off(), resolve()));
  });
  const sent = ann.input({ dir: 1 });
  out.input = [sent.type, sent.room === view.room, sent.seq, sent.tick > view.serverTick(), sent.data];
  out.predicted = view.predicted().paddles[0] > view.view.paddles[0];
  out.pending = view.pending;
  await new Promise((resolve) => {
    const off = ann.on("view", () => view.pending === 0 && (off(), resolve()));
  });
  out.moved = view.view.paddles[0] > 300 && view.view.dirs[0] === 1;
  out.corrections = view.corrections;
  out.events = [seen[0][0], seen[0][2], seen.slice(1).every(([, , key]) => !key), seen.length > 5];
  out.queued = ann._queue.some((event) => event.type === "patch");
  try {
    ann.input({ dir: 0 }, "no-such-room");
  } catch (error) {
    out.refused = error.code;
  }
  ann.close();
  return out;
}
"""


def test_the_javascript_client_in_a_real_time_room(web_server: NetplayServer, pages: Pages) -> None:
    page = open_page(pages, web_server.url, "Host")
    assert page.evaluate(CLIENT_SCRIPT) == {
        "view": [True, True, 0, "pong"],
        "keyframe": [0, "playing", 0, 30, "playing"],
        "input": ["input", True, 0, True, {"dir": 1}],
        "predicted": True,
        "pending": 1,
        "moved": True,
        "corrections": 0,
        "events": [True, True, True, True],
        "queued": False,
        "refused": "not_in_room",
    }
