"""The web page, played in real headless Chromium against a real ``netplay serve``.

Two pages are two visitors (separate browser contexts). Every wait is on something the page shows,
with a timeout: no sleeps. Screenshots land in test-artifacts/.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from netplay.client import ThreadedClient

from .conftest import NetplayServer, Pages, start_server

try:
    from playwright.sync_api import Page, expect
except ImportError:  # the test extra has it; under CI a missing package is a failure
    if os.environ.get("CI"):
        raise
    pytest.skip("the playwright package is missing (pip install -e '.[test]')", allow_module_level=True)

expect.set_options(timeout=10_000)  # generous on a busy 2-core machine; a pass is usually instant

Shot = Callable[..., Path]


def online(page: Page) -> Page:
    expect(page.locator("#link-state")).to_have_attribute("data-state", "online")
    return page


def cell(page: Page, index: int) -> Any:
    return page.locator(f".ttt .cell[data-cell='{index}']")


def status(page: Page) -> Any:
    return page.locator("#status")


def private_pair(pages: Pages, url: str, game: str = "tictactoe") -> tuple[Page, Page, str]:
    """Ann opens a private room; Bob joins through its share link. Ann plays first (X)."""
    ann = online(pages.open(url, name="Ann"))
    ann.click(f".game-card[data-game={game}] [data-action=private]")
    expect(ann.locator("#share")).to_be_visible()
    link = ann.locator("#share-link").input_value()
    bob = pages.open(link, name="Bob")
    expect(status(ann)).to_have_text("Your turn: you play X.")
    expect(status(bob)).to_have_text("Ann's turn…")
    return ann, bob, link


@pytest.fixture
def threaded(web_server: NetplayServer) -> Iterator[Callable[[str], ThreadedClient]]:
    """Python clients (the game-loop client) connected to the web server; closed afterwards."""
    opened: list[ThreadedClient] = []

    def open_client(name: str) -> ThreadedClient:
        client = ThreadedClient("127.0.0.1", web_server.port, name=name).connect()
        opened.append(client)
        return client

    yield open_client
    for client in opened:
        client.close()


def my_seat(state: dict[str, Any], name: str) -> int:
    return next(p["seat"] for p in state["players"] if p and p["name"] == name)


# -- the lobby -----------------------------------------------------------------------------------


def test_the_lobby_lists_rooms_and_a_visitor_can_watch(
    web_server: NetplayServer, pages: Pages, threaded: Callable[[str], ThreadedClient], screenshot: Shot
) -> None:
    grace = threaded("Grace")
    grace.create_room("tictactoe")
    grace.wait("joined")
    alan, ada = threaded("Alan"), threaded("Ada")
    alan.create_room("connect4")
    room = alan.wait("joined")["room"]["id"]
    ada.join(room)
    ada.wait("joined")
    state = alan.wait("state")
    if state["turn"] == my_seat(state, "Alan"):
        alan.move(3)
    else:
        ada.move(3)

    lobby = online(pages.open(web_server.url, name="Visitor"))
    tictactoe = lobby.locator("[data-rooms=tictactoe]")
    expect(tictactoe).to_contain_text("Grace vs …")
    expect(tictactoe.locator(".badge")).to_have_text("waiting")
    connect4 = lobby.locator("[data-rooms=connect4]")
    expect(connect4).to_contain_text("Alan vs Ada")
    expect(connect4.locator(".badge")).to_have_text("playing")
    screenshot(lobby, "lobby")

    phone = online(pages.open(web_server.url, name="Phone", width=375, height=812))
    expect(phone.locator("[data-rooms=connect4]")).to_contain_text("Alan vs Ada")
    assert phone.evaluate("document.documentElement.scrollWidth") <= 375  # nothing sticks out
    screenshot(phone, "lobby-phone")

    connect4.get_by_role("button", name="Watch").click()
    expect(lobby.locator("#game")).to_be_visible()
    expect(lobby.locator(".c4 .column span[data-mark=X]")).to_have_count(1)
    expect(status(lobby)).to_contain_text("to move.")
    lobby.locator(".c4 .column").nth(0).click()  # a spectator's click is not a move
    expect(lobby.locator("#notice")).to_have_text("You are watching: spectators cannot move.")


# -- whole games between two pages ---------------------------------------------------------------


def test_two_pages_play_tictactoe_to_a_win_then_a_rematch_to_a_draw(
    web_server: NetplayServer, pages: Pages, screenshot: Shot
) -> None:
    ann, bob, _ = private_pair(pages, web_server.url)
    for page, index in [(ann, 0), (bob, 3), (ann, 1), (bob, 4)]:
        cell(page, index).click()
        other = bob if page is ann else ann
        expect(status(other)).to_contain_text("Your turn")
    cell(ann, 2).click()  # the top row
    expect(status(ann)).to_have_text("You win!")
    expect(status(bob)).to_have_text("Ann wins.")
    expect(ann.locator(".ttt .cell.win")).to_have_count(3)
    screenshot(ann, "tictactoe-won")
    screenshot(bob, "tictactoe-lost")

    # A rematch: both ask; seats swap, so Bob plays X. This time by keyboard, to a draw.
    ann.click("#rematch")
    expect(ann.locator("#rematch")).to_have_text("Waiting for your opponent…")
    expect(bob.locator("#rematch")).to_have_text("Accept rematch")
    bob.click("#rematch")
    expect(status(bob)).to_have_text("Your turn: you play X.")
    expect(ann.locator(".ttt .cell[data-mark='']")).to_have_count(9)
    moves = [(bob, 0), (ann, 1), (bob, 2), (ann, 4), (bob, 3), (ann, 5), (bob, 7), (ann, 6), (bob, 8)]
    for number, (page, index) in enumerate(moves, start=1):
        cell(page, 4).focus()
        page.keyboard.press(str(index + 1))  # keys 1-9 are the squares, row by row
        expect(ann.locator(".ttt .cell:not([data-mark=''])")).to_have_count(number)
    expect(status(ann)).to_have_text("It's a draw.")
    expect(status(bob)).to_have_text("It's a draw.")
    screenshot(bob, "tictactoe-draw")


def test_connect_four_by_keyboard_at_phone_width(
    web_server: NetplayServer, pages: Pages, screenshot: Shot
) -> None:
    ann = online(pages.open(web_server.url, name="Ann", width=375, height=812))
    ann.click(".game-card[data-game=connect4] [data-action=private]")
    expect(ann.locator("#share")).to_be_visible()
    bob = pages.open(ann.locator("#share-link").input_value(), name="Bob")
    expect(status(ann)).to_have_text("Your turn: you play X.")
    columns = ann.locator(".c4 .column")
    columns.nth(3).focus()  # the board takes the focus in the middle
    for _ in range(3):
        ann.keyboard.press("ArrowLeft")
    expect(columns.nth(0)).to_be_focused()
    for turn in range(4):
        ann.keyboard.press("Enter")  # drop in the focused column (0)
        expect(ann.locator(".c4 span[data-mark=X]")).to_have_count(turn + 1)
        if turn < 3:
            expect(status(bob)).to_contain_text("Your turn")
            bob.locator(".c4 .column").nth(1).click()
            expect(status(ann)).to_contain_text("Your turn")
    expect(status(ann)).to_have_text("You win!")
    expect(status(bob)).to_have_text("Ann wins.")
    expect(ann.locator(".c4 span.win")).to_have_count(4)
    assert ann.evaluate("document.documentElement.scrollWidth") <= 375
    screenshot(ann, "connect4-won-phone")
    screenshot(bob, "connect4-lost")


def test_an_illegal_click_is_refused_with_a_visible_message(
    web_server: NetplayServer, pages: Pages, screenshot: Shot
) -> None:
    ann, bob, _ = private_pair(pages, web_server.url)
    cell(ann, 4).click()
    expect(status(bob)).to_have_text("Your turn: you play O.")
    cell(bob, 4).click()  # taken
    notice = bob.locator("#notice")
    expect(notice).to_have_text("Illegal move: the centre cell is already taken.")
    expect(notice).to_be_visible()
    expect(cell(bob, 4)).to_have_text("X")
    screenshot(bob, "illegal-move")
    cell(ann, 0).click()  # not Ann's turn
    expect(ann.locator("#notice")).to_have_text("Not your turn: wait for Bob.")
    expect(ann.locator(".ttt .cell:not([data-mark=''])")).to_have_count(1)


def test_a_private_room_is_joined_through_its_share_link(web_server: NetplayServer, pages: Pages) -> None:
    ann, bob, link = private_pair(pages, web_server.url)
    code = ann.locator("#share-code").inner_text()
    assert link.endswith(f"#join={code}") and len(code) >= 4
    assert bob.url.rstrip("/").endswith(str(web_server.port))  # the page forgot the code once used
    expect(bob.locator(".chip").nth(1)).to_have_text("OBob (you)")
    # Strangers see a private room in the lobby, not who plays in it, and cannot join it from there.
    stranger = online(pages.open(web_server.url, name="Stranger"))
    row = stranger.locator("[data-rooms=tictactoe] .room-row", has_text="a player vs a player")
    expect(row.locator(".badge")).to_have_text("private")
    expect(row.get_by_role("button")).to_have_count(0)
    # The code typed in the lobby works too (to watch, as the seats are taken).
    stranger.fill("#code", code.lower())
    stranger.get_by_role("button", name="Watch", exact=True).click()
    expect(status(stranger)).to_have_text("Ann (X) to move.")


# -- a browser and Python clients ----------------------------------------------------------------


def test_a_browser_plays_a_python_client(
    web_server: NetplayServer, pages: Pages, threaded: Callable[[str], ThreadedClient], screenshot: Shot
) -> None:
    ann = online(pages.open(web_server.url, name="Ann"))
    ann.click(".game-card[data-game=connect4] [data-action=private]")
    expect(ann.locator("#share")).to_be_visible()
    code = ann.locator("#share-code").inner_text()
    python = threaded("Py")
    python.join(code=code)
    assert python.wait("joined")["seat"] == 1
    expect(ann.locator(".chip").nth(1)).to_have_text("OPy")
    for turn in range(4):
        expect(status(ann)).to_have_text("Your turn: you play X.")
        ann.locator(".c4 .column").nth(3).click()
        state = python.wait("state", version=2 + 2 * turn)
        if turn < 3:
            assert state["turn"] == 1
            python.move(4)
    assert state["outcome"] == {
        "winner": 0,
        "draw": False,
        "reason": "rules",
        "ranking": [[0], [1]],
        "places": [1, 2],
    }
    expect(status(ann)).to_have_text("You win!")
    screenshot(ann, "connect4-won")


def test_a_browser_a_terminal_player_and_a_server_bot_in_one_room(
    web_server: NetplayServer, pages: Pages
) -> None:
    ann = online(pages.open(web_server.url, name="Ann"))
    ann.click(".game-card[data-game=tictactoe] [data-action=private]")
    expect(ann.locator("#share")).to_be_visible()
    code = ann.locator("#share-code").inner_text()
    # `netplay play` joins with the code; its own bot makes its moves.
    command = [sys.executable, "-m", "netplay", "play", "tictactoe", "--port", str(web_server.port)]
    command += ["--code", code, "--name", "Term", "--bot", "random", "--seed", "1", "--json"]
    terminal = subprocess.Popen(
        command,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        expect(ann.locator(".chip").nth(1)).to_have_text("OTerm")
        play_until_over(ann)
        output, _ = terminal.communicate(timeout=30)
    finally:
        if terminal.poll() is None:
            terminal.kill()
    tally = json.loads(output.strip().splitlines()[-1])
    assert tally["games"] == 1 and tally["won"] + tally["lost"] + tally["drawn"] == 1
    # The terminal player has gone: the computer takes the free seat, and a rematch starts.
    expect(ann.locator("#add-bot")).to_be_visible()
    ann.click("#add-bot")
    expect(ann.locator(".chip").nth(1)).to_contain_text("Computer (")
    ann.click("#rematch")
    expect(ann.locator(".ttt .cell[data-mark='']")).not_to_have_count(0)
    play_until_over(ann)


def play_until_over(page: Page) -> None:
    """Play the first free square whenever it is this page's turn, until the game ends."""
    for _ in range(9):
        expect(status(page)).to_have_text(
            re.compile(r"Your turn|You win|wins\.|draw|abandoned"), timeout=15_000
        )
        if not status(page).inner_text().startswith("Your turn"):
            return
        free = page.locator(".ttt .cell[data-mark='']")
        count = free.count()
        free.first.click()
        expect(page.locator(".ttt .cell[data-mark='']")).not_to_have_count(count)
    raise AssertionError("the game did not end")


def record_texts(page: Page, selector: str) -> None:
    """Start recording every text the elements matching ``selector`` show, however briefly."""
    page.evaluate(
        """(selector) => {
            const seen = (window.__seen ??= {});
            const log = (seen[selector] = []);
            const note = () =>
                document.querySelectorAll(selector).forEach((e) => log.push(e.textContent.trim()));
            const everything = { subtree: true, childList: true, characterData: true, attributes: true };
            new MutationObserver(note).observe(document.body, everything);
            note();
        }""",
        selector,
    )


def recorded(page: Page, selector: str) -> list[str]:
    return list(page.evaluate("(selector) => window.__seen[selector]", selector))


# -- people leaving, connections failing ---------------------------------------------------------


def test_an_opponent_who_leaves_and_a_lost_connection_are_explained(pages: Pages, tmp_path: Path) -> None:
    server = start_server(tmp_path / "serve.log")
    try:
        ann, bob, _ = private_pair(pages, server.url)
        bob.click("#back")  # Bob leaves on purpose (closing the page keeps his seat for the grace)
        expect(ann.locator("#notice")).to_have_text("Bob left the game.")
        expect(status(ann)).to_have_text("You win: your opponent left.")
        server.stop(signal.SIGKILL)  # no goodbye: the connection just drops
        banner = ann.locator("#banner")
        expect(banner).to_contain_text("Connection lost")
        expect(banner).to_contain_text("Reconnecting")  # it keeps trying on its own...
        expect(ann.locator("#link-state")).not_to_have_attribute("data-state", "online")
        expect(ann.locator("#banner-action")).to_have_text("Reconnect now")  # ...or on a click
        server = start_server(tmp_path / "again.log", port=server.port)
        online(ann)  # back without a click, once the server is
        expect(ann.locator("#lobby")).to_be_visible()
        expect(banner).to_contain_text("Your game is no longer on the server")  # it kept no games
        server.stop(signal.SIGTERM)  # a clean shutdown says so
        expect(banner).to_contain_text("The server shut down")
    finally:
        server.stop(signal.SIGKILL)


def test_a_dropped_connection_resumes_its_seat_with_reconnect(
    web_server: NetplayServer, pages: Pages
) -> None:
    ann, bob, link = private_pair(pages, web_server.url)
    code = link.rsplit("=", 1)[1]
    cell(ann, 4).click()
    expect(status(bob)).to_have_text("Your turn: you play O.")
    record_texts(ann, "#banner")
    record_texts(bob, "#notice")
    record_texts(bob, ".chip")
    # The network drops, no goodbye (the page's client is kept, to see it replaced).
    ann.evaluate("(window.dropped = window.netplayPage.client()).socket.close()")
    # It reconnects on its own (a new client object), and the session token takes the seat back.
    ann.wait_for_function("() => window.netplayPage.client() !== window.dropped")
    online(ann)
    expect(ann.locator("#banner")).to_be_hidden()
    expect(status(ann)).to_have_text("Bob's turn…")
    expect(cell(ann, 4)).to_have_text("X")
    expect(ann.locator("#share-code")).to_have_text(code)  # still knows its private room's code
    expect(bob.locator("#notice")).to_have_text("Ann is back.")
    expect(bob.locator(".chip").nth(0)).to_have_text("XAnn")
    # What each page showed on the way, however briefly:
    assert any("Connection lost" in text for text in recorded(ann, "#banner"))
    assert any("Ann lost the connection" in text for text in recorded(bob, "#notice"))
    assert "XAnn (away)" in recorded(bob, ".chip")
    cell(bob, 0).click()
    expect(status(ann)).to_have_text("Your turn: you play X.")


# -- the relay demo --------------------------------------------------------------------------------


def test_the_relay_page_shows_another_pages_dot_moving(
    web_server: NetplayServer, pages: Pages, screenshot: Shot
) -> None:
    url = f"{web_server.url}dots.html?room=dots-{uuid.uuid4().hex[:8]}"
    ann = online(pages.open(url, name="Ann"))
    bob = online(pages.open(url, name="Bob", width=375, height=812))
    other = ann.locator(".dot:not(.me)")
    expect(other).to_have_count(1)
    expect(other).to_contain_text("Bob")
    mine_on_bob = bob.locator(".dot.me")
    x, y = int(mine_on_bob.get_attribute("data-x") or 0), int(mine_on_bob.get_attribute("data-y") or 0)
    expect(other).to_have_attribute("data-x", str(x))  # Ann knows where Bob is
    for _ in range(3):
        bob.keyboard.press("ArrowRight")
    expect(other).to_have_attribute("data-x", str(x + 30))
    bob.get_by_role("button", name="Down").click()  # the on-screen pad, for phones
    expect(other).to_have_attribute("data-y", str(y + 10))
    expect(bob.locator(".dot:not(.me)")).to_contain_text("Ann")
    screenshot(ann, "dots")
    screenshot(bob, "dots-phone")
    bob.goto("about:blank")  # Bob closes the page: his dot goes at once
    expect(other).to_have_count(0)


# -- netplay.js on its own -----------------------------------------------------------------------

CLIENT_SCRIPT = """
async () => {
  const { connect, NetplayError, ConnectionClosed } = await import("/netplay.js");
  const ann = await connect({ name: "JsAnn" });
  const bob = await connect({ name: "JsBob" });
  const out = { ids: [ann.id.length > 0, ann.name, bob.name] };
  out.games = (await ann.listGames()).map((g) => g.name).sort();
  const created = await ann.createRoom("tictactoe", { private: true });
  out.code = typeof created.code === "string";
  const joined = await bob.join(null, { code: created.code });
  out.sameRoom = joined.room.id === created.room.id && bob.room === ann.room;
  const first = await ann.waitFor("state");
  await bob.waitFor("state");
  out.seats = [ann.seat(), bob.seat()];
  try {
    await bob.move(4);
  } catch (error) {
    out.refused = [error instanceof NetplayError, error.code];
  }
  out.accepted = (await ann.move(4)).type;
  const seen = await bob.waitFor("state", { version: first.version + 1 });
  out.board = seen.state.board[4];
  const relay = await ann.createRoom("js-relay", { kind: "relay" });
  await bob.join(relay.room.id);
  const heard = new Promise((resolve) => bob.on("relay", resolve));
  ann.relay({ x: 3, y: 4 }, relay.room.id);
  const message = await heard;
  out.relay = [message.from === ann.id, message.data];
  const ended = new Promise((resolve) => bob.on("close", resolve));
  const left = bob.waitFor("member_left");
  ann.close();
  out.left = (await left).member.name;
  bob.close();
  out.closed = [(await ended).code, bob.closed];
  try {
    await bob.listRooms();
  } catch (error) {
    out.afterClose = error instanceof ConnectionClosed;
  }
  return out;
}
"""


def test_the_javascript_client_module_as_documented(web_server: NetplayServer, pages: Pages) -> None:
    page = online(pages.open(web_server.url, name="Host"))
    result = page.evaluate(CLIENT_SCRIPT)
    assert result == {
        "ids": [True, "JsAnn", "JsBob"],
        "games": ["arena", "battleship", "chess", "connect4", "crazy8", "pig", "pong", "rps", "tictactoe"],
        "code": True,
        "sameRoom": True,
        "seats": [0, 1],
        "refused": [True, "not_your_turn"],
        "accepted": "ok",
        "board": "X",
        "relay": [True, {"x": 3, "y": 4}],
        "left": "JsAnn",
        "closed": ["closed", True],
        "afterClose": True,
    }
