"""The admin page (``/admin``, issue 13) in real headless Chromium, driving a real ``netplay serve``
with ``--admin-token``, as an operator would: signing in, watching a live room, closing it, removing
a player, sending a notice, draining, and what it must refuse.

The players are real too: pages of the game page (separate visitors) and Python clients
(``ThreadedClient``). The page polls every 2 s: every wait is on something a page shows, or on an
event a client receives, with a timeout; no sleeps. Screenshots land in test-artifacts/.
"""

from __future__ import annotations

import json
import os
import re
import threading
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
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

expect.set_options(timeout=10_000)  # a few of the page's 2 s polls, on a busy 2-core machine

TOKEN = "browser-tests-admin-token-0123"
DRAIN_NOTICE = "The server is about to restart: finish your game; no new game starts until then."
Shot = Callable[..., Path]
Players = Callable[[str], ThreadedClient]


def serve_with_admin(folder: Path) -> NetplayServer:
    """``netplay serve --admin-token`` on a free port, keeping its matches in a database of its own
    (the admin page's move list is the store's: ``--db :memory:`` keeps none)."""
    return start_server(folder / "serve.log", "--admin-token", TOKEN, "--db", str(folder / "matches.db"))


@pytest.fixture(scope="module")
def admin_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[NetplayServer]:
    """One admin-enabled server for this module's tests (each uses rooms and players of its own);
    the drain test starts one of its own, since it ends it."""
    server = serve_with_admin(tmp_path_factory.mktemp("admin-server"))
    yield server
    server.stop()


def python_players(port: int) -> tuple[Players, list[ThreadedClient]]:
    opened: list[ThreadedClient] = []

    def open_client(name: str) -> ThreadedClient:
        client = ThreadedClient("127.0.0.1", port, name=name).connect()
        opened.append(client)
        return client

    return open_client, opened


@pytest.fixture
def players(admin_server: NetplayServer) -> Iterator[Players]:
    """Python clients (the game-loop client) connected to the admin server; closed afterwards."""
    open_client, opened = python_players(admin_server.port)
    yield open_client
    for client in opened:
        client.close()


# -- helpers -------------------------------------------------------------------------------------


def online(page: Page) -> Page:
    expect(page.locator("#link-state")).to_have_attribute("data-state", "online")
    return page


def game_status(page: Page) -> Any:
    return page.locator("#status")


def banner(page: Page) -> Any:
    return page.locator("#banner-text")


def cell(page: Page, index: int) -> Any:
    return page.locator(f".ttt .cell[data-cell='{index}']")


def unique(name: str) -> str:
    """A name no other test's player has (every player of the server is in the admin's list)."""
    return f"{name}-{uuid.uuid4().hex[:6]}"


def private_room(pages: Pages, server: NetplayServer, name: str) -> tuple[Page, str]:
    """A browser player opens a private tic-tac-toe room; the page, and the room's code."""
    page = online(pages.open(server.url, name=name))
    page.click(".game-card[data-game=tictactoe] [data-action=private]")
    expect(page.locator("#share")).to_be_visible()
    link = page.locator("#share-link").input_value()
    return page, link.rsplit("#join=", 1)[1]


def join_by_code(client: ThreadedClient, code: str) -> str:
    """The Python client takes the room's second seat; the room's id."""
    client.join(code=code)
    return str(client.wait("joined")["room"]["id"])


def wait_state(client: ThreadedClient, done: Callable[[dict[str, Any]], bool]) -> dict[str, Any]:
    """The first state message the client receives (from now on, or queued) for which ``done``."""
    while True:
        message = client.wait("state")
        if done(message):
            return message


def browser_id(page: Page) -> str:
    return str(page.evaluate("netplayPage.client().id"))


class Dialogs:
    """Answers a page's dialogs (``prompt`` with the next of ``answers``, ``confirm`` with OK) and
    keeps what each asked; with no answers left, a dialog is dismissed (and still kept)."""

    def __init__(self, page: Page, *answers: str) -> None:
        self.answers = list(answers)
        self.seen: list[tuple[str, str, str]] = []
        page.on("dialog", self._answer)

    def _answer(self, dialog: Any) -> None:
        self.seen.append((dialog.type, dialog.message, dialog.default_value))
        if dialog.type == "confirm":
            dialog.accept()
        elif dialog.type == "prompt" and self.answers:
            dialog.accept(self.answers.pop(0))
        else:
            dialog.dismiss()


def sign_in(pages: Pages, server: NetplayServer, token: str = TOKEN) -> Page:
    """The admin page, signed in with ``token``."""
    admin = pages.open(server.url + "admin")
    admin.fill("#token", token)
    admin.get_by_role("button", name="Sign in").click()
    return admin


def room_row(admin: Page, room: str) -> Any:
    return admin.locator(f"#rooms tbody tr[data-room='{room}']")


def player_row(admin: Page, player: str) -> Any:
    return admin.locator(f"#players tbody tr[data-player='{player}']")


def api(server: NetplayServer, path: str) -> dict[str, Any]:
    """An admin API answer, asked as ``netplay admin`` does (no browser, so no Origin)."""
    request = urllib.request.Request(
        f"{server.url}admin/api/{path}", headers={"Authorization": f"Bearer {TOKEN}"}
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        answer: dict[str, Any] = json.loads(response.read())
        return answer


def http_status(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return int(response.status)
    except urllib.error.HTTPError as error:
        return int(error.code)


# -- 1. signing in -------------------------------------------------------------------------------

# Keeps, in the page, whether the console was ever shown (``hidden`` taken off).
SHOWN = """() => {
  const box = document.getElementById("console");
  window.consoleShown = !box.hidden;
  new MutationObserver(() => (window.consoleShown ||= !box.hidden)).observe(box, { attributes: true });
}"""


def test_the_page_asks_for_the_token_and_shows_nothing_for_a_wrong_one(
    admin_server: NetplayServer, pages: Pages
) -> None:
    admin = pages.open(admin_server.url + "admin")
    expect(admin).to_have_title("netplay admin")
    expect(admin.locator("#login")).to_be_visible()
    expect(admin.locator("#token")).to_have_attribute("type", "password")
    expect(admin.locator("#console")).to_be_hidden()

    admin.evaluate(SHOWN)
    admin.fill("#token", "not-the-admin-token-at-all")
    admin.get_by_role("button", name="Sign in").click()
    expect(admin.locator("#login-error")).to_have_text("That token is not this server's admin token.")
    expect(admin.locator("#login")).to_be_visible()
    expect(admin.locator("#console")).to_be_hidden()
    # Nothing of the server's was drawn, even hidden, and the wrong token was not kept.
    for nothing in ("#figures .figure", "#charts .chart", "#rooms tbody tr", "#players tbody tr"):
        expect(admin.locator(nothing)).to_have_count(0)
    assert admin.evaluate("sessionStorage.getItem('netplay-admin-token')") is None
    assert admin.evaluate("window.consoleShown") is False  # not even for a moment

    admin.fill("#token", TOKEN)
    admin.get_by_role("button", name="Sign in").click()
    expect(admin.locator("#console")).to_be_visible()
    expect(admin.locator("#login")).to_be_hidden()
    expect(admin.locator("#login-error")).to_have_text("")
    expect(admin.locator("#updated")).to_contain_text("Updated")
    figures = admin.locator("#figures .figure")
    expect(figures).to_have_count(9)
    expect(figures.filter(has_text="matches in progress")).to_have_count(1)
    expect(figures.filter(has_text="players connected")).to_have_count(1)
    expect(admin.locator("#charts .chart canvas")).to_have_count(6)
    expect(admin.locator("#charts .chart").first).to_contain_text("connections: ")
    expect(admin.locator("#rooms thead")).to_contain_text("Room")
    expect(admin.locator("#players thead")).to_contain_text("Name")
    expect(admin.locator("#room-count")).to_have_text(re.compile(r"^\(\d+\)$"))

    # The token is kept in this tab: a reload stays signed in; another visitor's tab does not.
    admin.reload()
    expect(admin.locator("#console")).to_be_visible()
    expect(admin.locator("#figures .figure")).to_have_count(9)
    other = pages.open(admin_server.url + "admin")
    expect(other.locator("#login")).to_be_visible()
    expect(other.locator("#console")).to_be_hidden()


# -- 2 and 3. a live room, its moves, and closing it ----------------------------------------------


def test_the_console_shows_a_live_room_and_its_moves_then_closes_it(
    admin_server: NetplayServer, pages: Pages, players: Players, screenshot: Shot
) -> None:
    ann_name, bob_name = unique("Ann"), unique("Bob")
    ann, code = private_room(pages, admin_server, ann_name)
    bob = players(bob_name)
    room = join_by_code(bob, code)
    expect(game_status(ann)).to_have_text("Your turn: you play X.")

    admin = sign_in(pages, admin_server)
    row = room_row(admin, room)
    expect(row).to_have_count(1)
    cells = row.locator("td")
    expect(cells.nth(0)).to_have_text(room)
    expect(cells.nth(1)).to_have_text("tictactoe (private)")
    expect(cells.nth(2)).to_have_text("playing")
    expect(cells.nth(3)).to_have_text(f"{ann_name}, {bob_name}")
    expect(cells.nth(4)).to_have_text("0")
    for who, name in ((browser_id(ann), ann_name), (bob.id, bob_name)):
        player = player_row(admin, who).locator("td")
        expect(player.nth(1)).to_have_text(name)
        expect(player.nth(2)).to_have_text(re.compile(r"^127\.0\.0\.1:\d+$"))
        expect(player.nth(3)).to_have_text(room)

    row.get_by_role("button", name="View").click()
    detail = admin.locator("#room-detail")
    expect(detail).to_be_visible()
    expect(admin.locator("#detail-id")).to_have_text(room)
    expect(admin.locator("#detail-state")).to_contain_text('"board"')
    moves = admin.locator("#detail-moves li")
    expect(moves).to_have_count(0)

    # The moves appear as they are played, from the page and from the Python client.
    cell(ann, 4).click()
    expect(moves).to_have_text(["seat 1: 4"])
    wait_state(bob, lambda message: message["state"]["board"][4] == "X")
    bob.move(0)
    expect(moves).to_have_text(["seat 1: 4", "seat 2: 0"])
    expect(game_status(ann)).to_have_text("Your turn: you play X.")
    state = admin.locator("#detail-state")
    expect(state).to_contain_text('"X"')
    expect(state).to_contain_text('"O"')
    expect(admin.locator("#figures .figure").filter(has_text="matches in progress")).not_to_contain_text(
        re.compile(r"^0")
    )
    screenshot(admin, "admin-console")

    # Close it, giving a reason: both players are told, and the room is gone from the list.
    reason = "Closed for a test of the admin page"
    dialogs = Dialogs(admin, reason)
    row.get_by_role("button", name="Close").click()
    expect(banner(ann)).to_have_text(f"The server closed the room: {reason}.")
    expect(ann.locator("#banner")).to_be_visible()
    expect(ann.locator("#lobby")).to_be_visible()
    expect(ann.locator("#game")).to_be_hidden()
    closed = bob.wait("room_closed")
    assert (closed["room"], closed["reason"]) == (room, reason)
    assert dialogs.seen == [
        ("prompt", f"Close room {room}? Its players are told why:", "closed by the server's operator")
    ]
    expect(admin.locator("#status")).to_have_text(f"Closed {room}.")
    expect(row).to_have_count(0)
    expect(detail).to_be_hidden()  # the room shown is gone
    expect(player_row(admin, bob.id).locator("td").nth(3)).to_have_text("")
    assert room not in [line["id"] for line in api(admin_server, "overview")["rooms"]]


# -- 4. removing a player ------------------------------------------------------------------------


def test_the_operator_removes_a_player(admin_server: NetplayServer, pages: Pages, players: Players) -> None:
    cleo_name, dan_name = unique("Cleo"), unique("Dan")
    cleo, code = private_room(pages, admin_server, cleo_name)
    dan = players(dan_name)
    room = join_by_code(dan, code)
    expect(game_status(cleo)).to_have_text("Your turn: you play X.")
    cleo_id = browser_id(cleo)

    admin = sign_in(pages, admin_server)
    row = player_row(admin, cleo_id)
    expect(row.locator("td").nth(1)).to_have_text(cleo_name)
    reason = "Please play fair"
    dialogs = Dialogs(admin, reason, "Bye for now")
    row.get_by_role("button", name="Kick").click()

    expect(banner(cleo)).to_have_text(f"The server's operator removed you: {reason}")
    expect(cleo.locator("#link-state")).to_have_attribute("data-state", "offline")
    assert dialogs.seen == [
        ("prompt", f"Remove {cleo_name}? They are told why:", "removed by the server's operator")
    ]
    expect(admin.locator("#status")).to_have_text(f"Removed {cleo_name}.")
    expect(row).to_have_count(0)  # gone from the players, not kept as away
    # Her seat was given up at once: her opponent is told, and the room lists only him.
    left = dan.wait("member_left", room=room)
    assert left["member"]["name"] == cleo_name
    expect(room_row(admin, room).locator("td").nth(3)).to_have_text(dan_name)

    # A Python client is removed the same way: the connection ends with the code ``kicked``.
    player_row(admin, dan.id).get_by_role("button", name="Kick").click()
    ended = dan.wait("closed")
    assert (ended["code"], ended["message"]) == ("kicked", "Bye for now")
    expect(player_row(admin, dan.id)).to_have_count(0)
    expect(room_row(admin, room)).to_have_count(0)  # its last member gone, the room closed


# -- 5. a notice ----------------------------------------------------------------------------------


def test_a_notice_reaches_every_player_or_one_room(
    admin_server: NetplayServer, pages: Pages, players: Players
) -> None:
    eve = online(pages.open(admin_server.url, name=unique("Eve")))  # in the lobby
    fay, gus = players(unique("Fay")), players(unique("Gus"))
    fay.create_room("tictactoe", private=True)
    room = fay.wait("joined")["room"]["id"]

    admin = sign_in(pages, admin_server)
    expect(room_row(admin, room)).to_have_count(1)

    # To one room: only its member hears it.
    admin.fill("#notice-text", "Your room is watched by the operator")
    admin.fill("#notice-room", room)
    admin.get_by_role("button", name="Send").click()
    expect(admin.locator("#status")).to_have_text(f"Told room {room}.")
    heard = fay.wait("notice")
    assert (heard["text"], heard["room"]) == ("Your room is watched by the operator", room)
    expect(admin.locator("#notice-text")).to_have_value("")

    # To everyone: the page shows it in its banner, the Python clients receive it.
    text = "The server restarts at 18:00 <b>sharp</b>"
    admin.fill("#notice-text", text)
    admin.fill("#notice-room", "")
    admin.get_by_role("button", name="Send").click()
    expect(admin.locator("#status")).to_have_text("Told every player.")
    expect(banner(eve)).to_have_text(f"Notice from the server: {text}")  # as text, never markup
    expect(eve.locator("#banner b")).to_have_count(0)
    expect(eve.locator("#banner")).to_be_visible()
    for client in (fay, gus):
        heard = client.wait("notice")  # Gus's first notice: the room's one was not for him
        assert (heard["text"], heard["room"]) == (text, None)

    # A notice to a room that is not there is refused, and the page says so.
    admin.fill("#notice-text", "Anyone?")
    admin.fill("#notice-room", "r-no-such-room")
    admin.get_by_role("button", name="Send").click()
    expect(admin.locator("#status")).to_have_text("no room 'r-no-such-room'")  # kept, not polled over
    expect(admin.locator("#status")).to_have_class("error")
    expect(admin.locator("#status")).to_have_css("color", "rgb(194, 65, 58)")  # admin.css's --bad
    updated = admin.locator("#updated").inner_text()
    expect(admin.locator("#updated")).not_to_have_text(updated)  # a poll later...
    expect(admin.locator("#status")).to_have_text("no room 'r-no-such-room'")  # ... still said
    expect(admin.locator("#notice-text")).to_have_value("Anyone?")  # kept, to send again


# -- 8. names are text ---------------------------------------------------------------------------


def test_a_player_name_is_shown_as_text_never_as_html(
    admin_server: NetplayServer, pages: Pages, players: Players
) -> None:
    name = "<img src=x onerror=alert(1)>"
    mallory = players(name)
    mallory.create_room("tictactoe", private=True)
    room = mallory.wait("joined")["room"]["id"]
    mallory.create_room("dots", kind="relay", private=True)  # a relay room lists its members too
    relay = mallory.wait("joined")["room"]["id"]

    admin = pages.open(admin_server.url + "admin")
    dialogs = Dialogs(admin)  # an alert would be kept here
    admin.fill("#token", TOKEN)
    admin.get_by_role("button", name="Sign in").click()
    expect(player_row(admin, mallory.id).locator("td").nth(1)).to_have_text(name)
    expect(room_row(admin, room).locator("td").nth(3)).to_have_text(name)
    relay_cells = room_row(admin, relay).locator("td")
    expect(relay_cells.nth(1)).to_have_text("relay: dots (private)")
    expect(relay_cells.nth(3)).to_have_text(name)
    expect(player_row(admin, mallory.id).locator("td").nth(3)).to_have_text(", ".join(sorted([room, relay])))
    room_row(admin, room).get_by_role("button", name="View").click()
    expect(admin.locator("#detail-id")).to_have_text(room)
    expect(admin.locator("#console img")).to_have_count(0)
    assert admin.evaluate("document.querySelectorAll('img').length") == 0
    # A whole poll later, still nothing was made of the name.
    expect(admin.locator("#updated")).not_to_have_text(admin.locator("#updated").inner_text())
    expect(admin.locator("#console img")).to_have_count(0)
    assert dialogs.seen == []


# -- 7. what the admin refuses ---------------------------------------------------------------------


class _EvilSite(BaseHTTPRequestHandler):
    """Another origin: a blank page, as another site's would be."""

    def do_GET(self) -> None:
        body = b"<!doctype html><title>another site</title><p>nothing to see</p>"
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def evil_site() -> Iterator[str]:
    """A tiny HTTP server on another port (so another origin); its URL."""
    site = ThreadingHTTPServer(("127.0.0.1", 0), _EvilSite)
    thread = threading.Thread(target=site.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{site.server_address[1]}/"
    site.shutdown()
    site.server_close()
    thread.join(timeout=5)


# Another site's script, even knowing the token: a CORS request (its preflight is refused), a
# "no-cors" one (sent, but without the Authorization and JSON headers, and with the site's Origin).
FETCHES = """async ([url, token]) => {
  const init = (mode) => ({
    method: "POST", mode, body: JSON.stringify({}),
    headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json" },
  });
  const out = [];
  for (const mode of ["cors", "no-cors"]) {
    try {
      const response = await fetch(url, init(mode));
      out.push(`${mode}: ${response.type} ${response.status}`);
    } catch (error) {
      out.push(`${mode}: ${error.name}`);
    }
  }
  return out;
}"""

FORM = """(url) => {
  const form = document.createElement("form");
  form.method = "POST";
  form.action = url;
  form.enctype = "text/plain";
  const field = document.createElement("input");
  field.name = '{"deadline": 1, "x": "';
  field.value = '"}';
  form.append(field);
  document.body.append(form);
  form.submit();
}"""


def refused(server: NetplayServer) -> float:
    """The server's count of refused admin requests (``netplay_admin_refused_total``)."""
    with urllib.request.urlopen(server.url + "metrics", timeout=10) as response:
        found = re.search(rb"^netplay_admin_refused_total (\S+)$", response.read(), re.MULTILINE)
    assert found is not None
    return float(found.group(1))


def test_another_origin_cannot_drive_the_admin_api(
    admin_server: NetplayServer, pages: Pages, evil_site: str
) -> None:
    drain = admin_server.url + "admin/api/drain"
    assert api(admin_server, "overview")["server"]["draining"] is False
    before = refused(admin_server)

    # The CORS request never goes past its preflight (refused: another Origin); the no-cors one is
    # sent, and refused, and the page learns nothing of the answer.
    evil = pages.open(evil_site)
    assert evil.evaluate(FETCHES, [drain, TOKEN]) == ["cors: TypeError", "no-cors: opaque 0"]
    # From an opaque origin ("null"), Chromium may not even send the no-cors one.
    blank = pages.open("about:blank")
    cors, no_cors = blank.evaluate(FETCHES, [drain, TOKEN])
    assert cors == "cors: TypeError" and no_cors in ("no-cors: opaque 0", "no-cors: TypeError")

    # A form posted from another site (the one kind of cross-site POST a browser sends with no
    # preflight) gets the refusal, and changes nothing.
    with evil.expect_navigation():
        evil.evaluate(FORM, drain)
    expect(evil.locator("body")).to_contain_text("admin requests come from this server's own page")

    assert api(admin_server, "overview")["server"]["draining"] is False
    assert admin_server.process.poll() is None
    assert refused(admin_server) >= before + 3  # the other site's preflight, no-cors fetch, form


def test_without_an_admin_token_there_is_no_admin_page(web_server: NetplayServer, pages: Pages) -> None:
    page = pages.open(web_server.url)  # the game page is served...
    response = page.goto(web_server.url + "admin")  # ... the admin page is not
    assert response is not None and response.status == 404
    expect(page.locator("body")).to_contain_text("this server has no admin")
    for path in ("admin/", "admin/admin.js", "admin/index.html", "admin/api/overview"):
        assert http_status(web_server.url + path) == 404, path
    request = urllib.request.Request(
        web_server.url + "admin/api/drain",
        data=b"{}",
        headers={"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"},
    )
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=10)
    assert refused.value.code == 404


# -- 6. draining (last: it ends a server of its own) ---------------------------------------------


def test_draining_lets_the_game_finish_then_the_server_exits(
    pages: Pages, tmp_path: Path, screenshot: Shot
) -> None:
    server = serve_with_admin(tmp_path)
    open_client, opened = python_players(server.port)
    try:
        ann, code = private_room(pages, server, "Ann")
        bob = open_client("Bob")
        room = join_by_code(bob, code)
        expect(game_status(ann)).to_have_text("Your turn: you play X.")
        cell(ann, 4).click()
        wait_state(bob, lambda message: message["state"]["board"][4] == "X")

        admin = sign_in(pages, server)
        expect(room_row(admin, room).locator("td").nth(2)).to_have_text("playing")
        dialogs = Dialogs(admin)
        admin.get_by_role("button", name="Drain the server").click()
        expect(admin.locator("#status")).to_have_text("Draining.")
        expect(admin.locator("#updated")).to_have_text(
            "Draining: no new match starts; the server exits when the last one ends."
        )
        assert [kind for kind, _, _ in dialogs.seen] == ["confirm"]
        assert dialogs.seen[0][1].startswith("Drain the server?")
        # The players are told, and no new game starts.
        expect(banner(ann)).to_have_text(f"Notice from the server: {DRAIN_NOTICE}")
        assert bob.wait("notice")["text"] == DRAIN_NOTICE
        carl = open_client("Carl")
        carl.create_room("tictactoe")
        refused = carl.wait("error")
        assert refused["code"] == "server_draining", refused
        ann_again = online(pages.open(server.url, name="Ann2"))
        ann_again.evaluate("netplayPage.quickMatch('tictactoe')")
        expect(banner(ann_again)).to_have_text(
            "Could not join: the server is about to restart: no new game starts now."
        )
        screenshot(admin, "admin-draining")
        assert server.process.poll() is None  # the game is still on

        # The game goes on to its end (Ann wins the middle column), and then the server exits.
        bob.move(0)
        expect(cell(ann, 0)).to_have_text("O")
        cell(ann, 1).click()
        wait_state(bob, lambda message: message["state"]["board"][1] == "X")
        bob.move(2)
        expect(cell(ann, 2)).to_have_text("O")
        cell(ann, 7).click()
        expect(game_status(ann)).to_have_text("You win!")
        assert server.process.wait(timeout=20) == 0
        expect(admin.locator("#updated")).to_contain_text("The server does not answer")
        expect(banner(ann)).to_contain_text("The server shut down (it may be restarting).")
        assert "drained: stopping" in server.log.read_text()
    finally:
        for client in opened:
            client.close()
        server.stop()
