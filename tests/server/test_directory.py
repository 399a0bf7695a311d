"""The room directory holds descriptions: publish, find by id and code, quick-match's index, withdraw."""

from __future__ import annotations

from typing import Any

import pytest

from netplay.server.directory import InMemoryDirectory, RoomInfo, has_options


def info(room_id: str, *, game: str = "tictactoe", code: str | None = None, open: bool = True,
         clock: str | None = None, kind: str = "match",
         options: dict[str, Any] | None = None) -> RoomInfo:  # fmt: skip
    return RoomInfo(room_id, kind, game, code, clock, open, {"id": room_id, "game": game}, options or {})


def test_ids_and_codes_come_from_the_directory_and_never_repeat() -> None:
    directory = InMemoryDirectory()
    ids = {directory.new_room_id() for _ in range(1000)}
    assert len(ids) == 1000 and all(i.startswith("r-") and len(i) == 18 for i in ids)
    code = directory.new_code()
    directory.publish(info("r-1", code=code))
    assert directory.by_code(code.lower() + " ") == info("r-1", code=code)
    with pytest.raises(ValueError, match="code of room r-2 is taken"):
        directory.publish(info("r-2", code=code))


def test_quick_match_finds_the_oldest_open_public_room_of_its_game_and_clock() -> None:
    directory = InMemoryDirectory()
    directory.publish(info("r-1", code="SECRET"))  # private: never matched into
    directory.publish(info("r-2", clock="300+5"))
    directory.publish(info("r-3"))
    directory.publish(info("r-4"))
    directory.publish(info("r-5", game="connect4"))
    assert directory.find_open("tictactoe", "match").id == "r-3"  # type: ignore[union-attr]
    assert directory.find_open("tictactoe", "match", skip={"r-3"}).id == "r-4"  # type: ignore[union-attr]
    assert directory.find_open("tictactoe", "match", clock="300+5").id == "r-2"  # type: ignore[union-attr]
    assert directory.find_open("tictactoe", "relay") is None
    directory.publish(info("r-3", open=False))  # it filled up
    assert directory.find_open("tictactoe", "match").id == "r-4"  # type: ignore[union-attr]
    directory.publish(info("r-3"))  # a seat came free again: back in the queue, at its end
    assert directory.find_open("tictactoe", "match").id == "r-4"  # type: ignore[union-attr]
    directory.withdraw("r-4")
    assert directory.find_open("tictactoe", "match").id == "r-3"  # type: ignore[union-attr]


def test_quick_match_with_options_finds_only_rooms_made_with_them() -> None:
    assert has_options({"players": 6, "size": 40}, {"players": 6})  # the options not named: any
    assert has_options({"rules": {"a": 1, "b": 2}}, {"rules": {"b": 2, "a": 1}})  # as JSON
    assert not has_options({"players": 6}, {"players": 6.5}) and not has_options({"on": 1}, {"on": True})
    assert not has_options({}, {"players": 4})  # made with the defaults: not asked for by name
    directory = InMemoryDirectory()
    directory.publish(info("r-1", game="arena", kind="realtime", options={"players": 6, "size": 40}))
    directory.publish(info("r-2", game="arena", kind="realtime"))
    directory.publish(info("r-3", game="arena", kind="realtime", options={"players": 2}))
    find = directory.find_open
    assert find("arena", "realtime").id == "r-1"  # type: ignore[union-attr]  # none named: any room
    assert find("arena", "realtime", options={"players": 6}).id == "r-1"  # type: ignore[union-attr]
    assert find("arena", "realtime", options={"players": 2}).id == "r-3"  # type: ignore[union-attr]
    assert find("arena", "realtime", options={"players": 2}, skip={"r-3"}) is None
    assert find("arena", "realtime", options={"players": 3}) is None
    directory.withdraw("r-1")
    assert find("arena", "realtime", options={"players": 6}) is None
    assert find("arena", "realtime").id == "r-2"  # type: ignore[union-attr]


def test_listing_and_withdraw() -> None:
    directory = InMemoryDirectory()
    for room_id in ("r-1", "r-2"):
        directory.publish(info(room_id))
    directory.publish(info("r-3", game="pig", code="ABCDEF"))
    assert ids(directory.listing()) == (["r-1", "r-2", "r-3"], None)
    assert ids(directory.listing("pig")) == (["r-3"], None)
    directory.withdraw("r-3")
    directory.withdraw("r-3")  # twice is harmless
    assert directory.by_code("ABCDEF") is None and directory.get("r-3") is None and len(directory) == 2


def ids(page: tuple[list[dict[str, Any]], int | None]) -> tuple[list[str], int | None]:
    return [r["id"] for r in page[0]], page[1]


def test_the_listing_comes_in_pages_that_a_cursor_walks_through_while_rooms_come_and_go() -> None:
    directory = InMemoryDirectory()
    for n in range(7):
        directory.publish(info(f"r-{n}", game="pig" if n % 2 else "tictactoe"))
    first, after = ids(directory.listing(limit=3))
    assert first == ["r-0", "r-1", "r-2"] and after is not None
    directory.withdraw("r-3")  # gone before the next page: skipped, and nothing repeats
    directory.publish(info("r-7"))  # new since: at the end
    directory.publish(info("r-1", game="pig"))  # changed: keeps its place
    second, after = ids(directory.listing(after=after, limit=3))
    assert second == ["r-4", "r-5", "r-6"] and after is not None
    assert ids(directory.listing(after=after, limit=3)) == (["r-7"], None)
    assert ids(directory.listing("pig", limit=2)) == (["r-1", "r-5"], None)
    page, after = ids(directory.listing("pig", limit=1))
    assert page == ["r-1"] and ids(directory.listing("pig", after=after or 0)) == (["r-5"], None)
