"""A page keeps its seat: reloads, tabs, leaving on purpose, and what a page says while its link is
down (issue 9, items 16 and the web parts of 23), in real headless Chromium against a real
``netplay serve``.

Every wait is on something a page shows, with a timeout: no sleeps.
"""

from __future__ import annotations

import os
import re
import signal
from pathlib import Path
from typing import Any

from .conftest import NetplayServer, Pages, start_server
from .test_web_client import Page, cell, expect, online, private_pair, record_texts, recorded, status


def chip(page: Page, seat: int) -> Any:
    return page.locator(".chip").nth(seat)


def session(page: Page) -> dict[str, Any]:
    """What the page knows of itself: its player id, token and room, and where it keeps them."""
    return dict(
        page.evaluate(
            """() => {
                const client = window.netplayPage.client();
                const tab = Object.values(sessionStorage), shared = Object.values(localStorage);
                return {
                    id: client.id,
                    token: client.token,
                    room: client.room,
                    tokenInTab: tab.includes(client.token),  // sessionStorage: this tab's own
                    tokenShared: shared.includes(client.token),  // localStorage: every tab's
                    kept: tab,
                };
            }"""
        )
    )


def reload(page: Page) -> None:
    """Reload the tab, and wait until it is connected again."""
    page.reload()
    online(page)


def no_result(texts: list[str]) -> None:
    assert not [t for t in texts if re.search(r"win|wins|left|resigned|draw|over", t)], texts


# -- item 16: a reload resumes the seat --------------------------------------------------------------


def test_a_reload_in_the_middle_of_a_game_resumes_the_seat_and_the_game_goes_on(
    web_server: NetplayServer, pages: Pages, screenshot: Any
) -> None:
    ann, bob, link = private_pair(pages, web_server.url)
    code = link.rsplit("=", 1)[1]
    cell(ann, 4).click()
    expect(status(bob)).to_have_text("Your turn: you play O.")
    before = session(ann)
    record_texts(bob, "#notice")
    record_texts(bob, "#status")

    reload(ann)  # mid-game, on Bob's turn

    # The same game, the same seat: no lobby in between, and no forfeit.
    expect(ann.locator("#game")).to_be_visible()
    expect(ann.locator("#lobby")).to_be_hidden()
    expect(status(ann)).to_have_text("Bob's turn…")
    expect(cell(ann, 4)).to_have_text("X")
    expect(chip(ann, 0)).to_have_text("XAnn (you)")
    expect(ann.locator("#share-code")).to_have_text(code)  # the server gives the code back
    after = session(ann)
    assert after["id"] == before["id"] and after["token"] == before["token"]
    assert after["tokenInTab"] and not after["tokenShared"]  # kept for this tab, never for every tab
    # Bob was told Ann dropped and came back, and never saw a result.
    expect(bob.locator("#notice")).to_have_text("Ann is back.")
    expect(chip(bob, 0)).to_have_text("XAnn")
    assert any("Ann lost the connection" in text for text in recorded(bob, "#notice"))
    no_result(recorded(bob, "#status"))
    expect(status(bob)).to_have_attribute("data-result", "")
    screenshot(ann, "reload-resumed")

    # The game goes on to a win: Ann takes the diagonal 2-4-6.
    for page, index, other in [(bob, 0, ann), (ann, 2, bob), (bob, 1, ann), (ann, 6, bob)]:
        cell(page, index).click()
        if index != 6:
            expect(status(other)).to_contain_text("Your turn")
    expect(status(ann)).to_have_text("You win!")
    expect(status(bob)).to_have_text("Ann wins.")


def test_two_tabs_of_one_browser_are_two_players_and_each_reload_keeps_its_own_seat(
    web_server: NetplayServer, pages: Pages
) -> None:
    first = online(pages.open(web_server.url, name="Ann"))
    first.click(".game-card[data-game=tictactoe] [data-action=private]")
    expect(first.locator("#share")).to_be_visible()
    code = first.locator("#share-code").inner_text()
    # A second tab of the same browser (same context: the same localStorage, cookies and name).
    second = first.context.new_page()
    second.on("pageerror", lambda error: pages.errors.append(f"second tab: {error}"))
    second.goto(web_server.url)
    online(second)
    second.fill("#name", "Bob")
    second.locator("#name").press("Enter")  # a new name: a new session under it
    expect(second.locator("#link-state")).to_have_attribute("data-state", "online")
    second.fill("#code", code)
    second.get_by_role("button", name="Join", exact=True).click()
    expect(status(first)).to_have_text("Your turn: you play X.")
    expect(status(second)).to_have_text("Ann's turn…")
    expect(chip(second, 1)).to_have_text("OBob (you)")
    one, two = session(first), session(second)
    assert one["id"] != two["id"] and one["token"] != two["token"]  # two players

    reload(second)  # the second tab comes back as Bob, and the first one is still Ann
    expect(chip(second, 1)).to_have_text("OBob (you)")
    expect(status(second)).to_have_text("Ann's turn…")
    expect(first.locator("#notice")).to_have_text("Bob is back.")
    expect(first.locator("#banner")).to_be_hidden()  # not taken over by the other tab
    expect(first.locator("#link-state")).to_have_attribute("data-state", "online")
    assert session(second)["id"] == two["id"] and session(second)["tokenInTab"]
    cell(first, 4).click()
    expect(status(second)).to_have_text("Your turn: you play O.")

    reload(first)
    expect(chip(first, 0)).to_have_text("XAnn (you)")
    expect(status(first)).to_have_text("Bob's turn…")
    expect(second.locator("#notice")).to_have_text("Ann is back.")
    assert session(first)["id"] == one["id"] and session(first)["tokenInTab"]
    assert not session(first)["tokenShared"] and not session(second)["tokenShared"]
    cell(second, 0).click()
    expect(status(first)).to_have_text("Your turn: you play X.")


def test_a_deliberate_leave_still_leaves_at_once_even_after_a_reload(
    web_server: NetplayServer, pages: Pages
) -> None:
    ann, bob, _ = private_pair(pages, web_server.url)
    cell(ann, 4).click()
    expect(status(bob)).to_have_text("Your turn: you play O.")
    reload(ann)
    expect(status(ann)).to_have_text("Bob's turn…")
    expect(bob.locator("#notice")).to_have_text("Ann is back.")
    record_texts(bob, "#notice")
    # During a game the way out says what it does; it leaves at once, not after the grace.
    room = session(ann)["room"]
    back = ann.locator("#back")
    expect(back).to_have_text("← Leave game")
    back.click()
    expect(ann.locator("#lobby")).to_be_visible()
    expect(bob.locator("#notice")).to_have_text("Ann left the game.")
    expect(status(bob)).to_have_text("You win: your opponent left.")
    assert not any("lost the connection" in text for text in recorded(bob, "#notice"))
    assert room not in session(ann)["kept"]  # the tab keeps no room now...
    reload(ann)  # ...and a reload keeps it there
    expect(ann.locator("#lobby")).to_be_visible()
    expect(ann.locator("#game")).to_be_hidden()
    expect(ann.locator("#banner")).to_be_hidden()
    expect(bob.locator("#back")).to_have_text("← Lobby")  # the game is over: nothing to leave


# -- item 23, the page's words -------------------------------------------------------------------


def test_no_your_turn_while_the_browser_is_offline_and_a_leave_while_offline_still_counts(
    web_server: NetplayServer, pages: Pages
) -> None:
    ann, bob, _ = private_pair(pages, web_server.url)
    record_texts(ann, "#link-state, #status")
    record_texts(bob, "#notice")
    ann.context.set_offline(True)  # the network goes (the connection itself is not closed)
    expect(ann.locator("#link-state")).to_have_attribute("data-state", "offline")
    expect(status(ann)).to_have_text("You are offline: reconnecting to the game…")
    expect(ann.locator("#banner")).to_contain_text("Reconnecting")
    ann.context.set_offline(False)
    online(ann)
    expect(status(ann)).to_have_text("Your turn: you play X.")  # the same seat, and still her turn
    texts = recorded(ann, "#link-state, #status")
    shown = list(zip(texts[::2], texts[1::2], strict=False))
    assert not [pair for pair in shown if pair[0] != "online" and pair[1].startswith("Your turn")], shown
    expect(bob.locator("#notice")).to_have_text("Ann is back.")
    assert any("Ann lost the connection" in text for text in recorded(bob, "#notice"))
    cell(ann, 4).click()
    expect(status(bob)).to_have_text("Your turn: you play O.")

    # Offline again, Ann leaves the game: she is in the lobby at once, and gone as soon as she is back.
    ann.context.set_offline(True)
    expect(ann.locator("#link-state")).to_have_attribute("data-state", "offline")
    ann.locator("#back").click()
    expect(ann.locator("#lobby")).to_be_visible()
    ann.context.set_offline(False)
    online(ann)
    expect(ann.locator("#lobby")).to_be_visible()
    expect(status(bob)).to_have_text("You win: your opponent left.")


def test_a_page_whose_server_goes_silent_says_it_is_offline(pages: Pages, tmp_path: Path) -> None:
    """No browser event this time: the server stops answering (SIGSTOP), and netplay.js notices."""
    server = start_server(tmp_path / "serve.log", "--heartbeat", "1", "--idle-timeout", "3")
    try:
        ann, bob, _ = private_pair(pages, server.url)
        record_texts(ann, "#link-state, #status")
        os.kill(server.process.pid, signal.SIGSTOP)
        try:
            expect(ann.locator("#link-state")).not_to_have_attribute("data-state", "online")
            expect(status(ann)).to_have_text("You are offline: reconnecting to the game…")
        finally:
            os.kill(server.process.pid, signal.SIGCONT)
        online(ann)
        online(bob)
        expect(status(ann)).to_have_text("Your turn: you play X.")
        texts = recorded(ann, "#link-state, #status")
        shown = list(zip(texts[::2], texts[1::2], strict=False))
        assert not [pair for pair in shown if pair[0] != "online" and pair[1].startswith("Your turn")], shown
        cell(ann, 4).click()
        expect(status(bob)).to_have_text("Your turn: you play O.")
    finally:
        server.stop(signal.SIGKILL)


def test_a_server_shutdown_is_said_for_people_and_a_restart_gives_the_game_back(
    pages: Pages, tmp_path: Path
) -> None:
    database = str(tmp_path / "games.db")
    server = start_server(tmp_path / "serve.log", "--db", database)
    try:
        ann, bob, _ = private_pair(pages, server.url)
        cell(ann, 4).click()
        expect(status(bob)).to_have_text("Your turn: you play O.")
        for page in (ann, bob):
            record_texts(page, "#banner, #notice, #status")
        server.stop(signal.SIGINT)  # Ctrl-C in the server's terminal
        for page in (ann, bob):
            expect(page.locator("#banner")).to_contain_text("The server shut down (it may be restarting).")
            expect(page.locator("#banner")).to_contain_text("Reconnecting")
        expect(status(bob)).to_have_text("You are offline: reconnecting to the game…")
        server = start_server(tmp_path / "again.log", "--db", database, port=server.port)
        for page in (ann, bob):
            online(page)
            expect(page.locator("#banner")).to_be_hidden()
        expect(status(bob)).to_have_text("Your turn: you play O.")  # the game came back with the server
        expect(cell(ann, 4)).to_have_text("X")
        for page in (ann, bob):
            said = recorded(page, "#banner, #notice, #status")
            assert not [text for text in said if re.search(r"SIG|signal", text)], said
        cell(bob, 0).click()
        expect(status(ann)).to_have_text("Your turn: you play X.")
    finally:
        server.stop(signal.SIGKILL)


def test_spectators_are_labelled_and_never_see_the_share_box(web_server: NetplayServer, pages: Pages) -> None:
    ann = online(pages.open(web_server.url, name="Ann"))
    ann.click(".game-card[data-game=tictactoe] [data-action=private]")
    expect(ann.locator("#share")).to_be_visible()
    code = ann.locator("#share-code").inner_text()
    link = ann.locator("#share-link").input_value()
    expect(ann.locator("#watching")).to_be_hidden()  # nobody watches yet
    # A spectator comes through a watch link before the game: told it watches, and no share box.
    watcher = online(pages.open(f"{web_server.url}#watch={code}", name="Watcher"))
    expect(watcher.locator("#game")).to_be_visible()
    expect(watcher.locator("#watching")).to_have_text("You are watching")
    expect(status(watcher)).to_have_text("Waiting for the players…")
    expect(watcher.locator("#share")).to_be_hidden()
    expect(ann.locator("#watching")).to_have_text("1 watching")
    bob = pages.open(link, name="Bob")
    expect(status(bob)).to_have_text("Ann's turn…")
    expect(bob.locator("#watching")).to_have_text("1 watching")
    expect(status(watcher)).to_have_text("Ann (X) to move.")
    for number, (page, index) in enumerate([(ann, 0), (bob, 3), (ann, 1), (bob, 4), (ann, 2)], start=1):
        cell(page, index).click()
        expect(watcher.locator(".ttt .cell:not([data-mark=''])")).to_have_count(number)
    expect(status(watcher)).to_have_text("Ann (X) wins.")
    expect(watcher.locator("#share")).to_be_hidden()  # after the game too
    expect(watcher.locator("#watching")).to_have_text("You are watching")
    expect(watcher.locator("#rematch")).to_be_hidden()
    watcher.locator("#back").click()  # the spectator goes: the players see it
    expect(ann.locator("#watching")).to_be_hidden()


def test_a_notice_never_covers_a_button_nor_moves_the_board(pages: Pages, web_server: NetplayServer) -> None:
    ann = online(pages.open(web_server.url, name="Ann"))
    ann.click(".game-card[data-game=tictactoe] [data-action=private]")
    expect(ann.locator("#share")).to_be_visible()
    bob = pages.open(ann.locator("#share-link").input_value(), name="Bob", width=375, height=600)
    expect(status(bob)).to_have_text("Ann's turn…")
    expect(bob.locator("#resign")).to_be_visible()
    top = "(element) => element.getBoundingClientRect().top + window.scrollY"  # on the page, not the screen
    board = bob.locator("#board").evaluate(top)
    cell(bob, 8).click()  # out of turn: a notice
    expect(bob.locator("#notice")).to_have_text("Not your turn: wait for Ann.")
    expect(bob.locator("#notice")).to_be_visible()
    assert bob.locator("#board").evaluate(top) == board  # the board did not move
    # A short phone screen scrolled down to the game's buttons: nothing there is under the notice.
    bob.locator("#resign").evaluate("(button) => button.scrollIntoView({ block: 'end' })")
    covered = bob.evaluate(
        """() => {
            const notice = document.getElementById("notice").getBoundingClientRect();
            const controls = document.querySelectorAll("button, input, select, textarea, a[href]");
            return [...controls]
                .filter((e) => e.checkVisibility({ visibilityProperty: true, opacityProperty: true }))
                .filter((e) => {
                    const r = e.getBoundingClientRect();
                    return r.left < notice.right && notice.left < r.right
                        && r.top < notice.bottom && notice.top < r.bottom;
                })
                .map((e) => e.id || e.getAttribute("aria-label") || e.textContent.trim());
        }"""
    )
    assert covered == [], f"the notice covers {covered}"
    expect(bob.locator("#notice")).to_be_visible()  # (still up while it was measured)


def test_a_duplicated_tab_is_the_same_player_and_the_older_tab_says_so(
    web_server: NetplayServer, pages: Pages
) -> None:
    ann, bob, _ = private_pair(pages, web_server.url)
    # "Duplicate tab" copies the tab's sessionStorage into the new one: the same token, the same room.
    kept = ann.evaluate("JSON.stringify(Object.entries(sessionStorage))")
    copy = ann.context.new_page()
    copy.on("pageerror", lambda error: pages.errors.append(f"copy: {error}"))
    copy.add_init_script(f"for (const [k, v] of JSON.parse({kept!r})) sessionStorage.setItem(k, v)")
    copy.goto(web_server.url)
    online(copy)
    expect(status(copy)).to_have_text("Your turn: you play X.")  # the newer tab has the seat
    expect(chip(copy, 0)).to_have_text("XAnn (you)")
    banner = ann.locator("#banner")
    expect(banner).to_contain_text("This game is open in another tab or window now.")
    expect(status(ann)).to_have_text("You are playing this game in another tab.")  # no "Your turn"
    expect(ann.locator("#banner-action")).to_have_text("Play here")
    cell(copy, 4).click()
    expect(status(bob)).to_have_text("Your turn: you play O.")
    ann.locator("#banner-action").click()  # and back to the first tab
    online(ann)
    expect(status(ann)).to_have_text("Bob's turn…")
    expect(copy.locator("#banner")).to_contain_text("This game is open in another tab or window now.")
