"""The 15-112 dialect sans I/O (protocol.text112): line splitting, parsing, formatting, bridge, ids."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from netplay.protocol.text112 import (
    IdBlocks,
    IdPool,
    LineSplitter,
    data_from_line,
    greeting,
    is_token,
    line_from_data,
    my_id_line,
    new_player_line,
    parse_line,
    player_left_line,
    relay_line,
)


# -- LineSplitter ------------------------------------------------------------------------------------
def test_splitter_returns_whole_lines_without_the_newline() -> None:
    splitter = LineSplitter()
    assert splitter.feed(b"playerMoved 5 0\nplayer") == [b"playerMoved 5 0"]
    assert splitter.pending == len(b"player")
    assert splitter.feed(b"Moved -5 0\r\n\n") == [b"playerMoved -5 0\r", b""]
    assert splitter.pending == 0


def test_splitter_end_drops_the_unfinished_line() -> None:
    splitter = LineSplitter()
    assert splitter.feed(b"a 1\npart") == [b"a 1"]
    assert splitter.end() == 4 and splitter.pending == 0
    assert splitter.feed(b"b 2\n") == [b"b 2"]  # nothing of the dropped line comes back


def test_splitter_keeps_every_byte_but_the_newline() -> None:
    data = b"a  b \r\x00\xff\xfe\t\n"
    assert LineSplitter().feed(data) == [data[:-1]]


@given(
    st.lists(st.binary(max_size=30).map(lambda b: b.replace(b"\n", b"")), max_size=20),
    st.binary(max_size=10).map(lambda b: b.replace(b"\n", b"")),
    st.lists(st.integers(min_value=0, max_value=700), max_size=40),
)
def test_splitter_gives_the_same_lines_however_the_stream_is_cut(
    lines: list[bytes], tail: bytes, cuts: list[int]
) -> None:
    stream = b"".join(line + b"\n" for line in lines) + tail
    points = sorted({min(c, len(stream)) for c in cuts} | {0, len(stream)})
    splitter = LineSplitter()
    got: list[bytes] = []
    for start, end in itertools.pairwise(points):
        got.extend(splitter.feed(stream[start:end]))
    assert got == lines
    assert splitter.pending == len(tail)
    assert not splitter.failed


def test_a_line_of_exactly_the_limit_passes() -> None:
    splitter = LineSplitter(max_line=8)
    assert splitter.feed(b"12345678\n") == [b"12345678"]
    assert not splitter.failed


def test_a_longer_line_fails_after_the_lines_before_it() -> None:
    splitter = LineSplitter(max_line=8)
    assert splitter.feed(b"ok 1\n123456789\nok 2\n") == [b"ok 1"]
    assert splitter.failed
    assert splitter.feed(b"ok 3\n") == []


def test_an_endless_line_fails_once_past_the_limit_in_small_pieces() -> None:
    splitter = LineSplitter(max_line=25)
    for _ in range(2):
        assert splitter.feed(b"x" * 10) == []
        assert not splitter.failed
    assert splitter.feed(b"x" * 10) == []
    assert splitter.failed
    assert splitter.pending == 0


def test_an_unfinished_line_past_the_limit_fails_even_behind_complete_lines() -> None:
    splitter = LineSplitter(max_line=4)
    assert splitter.feed(b"a b\nxxxxx") == [b"a b"]
    assert splitter.failed


def test_the_limit_must_be_positive() -> None:
    with pytest.raises(ValueError, match="max_line must be at least 1"):
        LineSplitter(0)


# -- parsing -----------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("line", "parsed"),
    [
        (b"playerMoved 5 0", (b"playerMoved", b"5 0")),
        (b"playerMoved  5  0  ", (b"playerMoved", b" 5  0  ")),
        (b"chat hi\r", (b"chat", b"hi\r")),
        (b" lonely", (b"", b"lonely")),
        (b"a \xff\xfe", (b"a", b"\xff\xfe")),
        (b"noSpace", None),
        (b"trailing ", None),
        (b"", None),
        (b" ", None),
    ],
)
def test_parse_line_splits_at_the_first_space(line: bytes, parsed: tuple[bytes, bytes] | None) -> None:
    assert parse_line(line) == parsed


# -- formatting --------------------------------------------------------------------------------------
def test_formatted_lines_match_the_starter_code_byte_for_byte() -> None:
    assert relay_line(b"playerMoved", b"Rohan", b" 5 0 \r") == b"playerMoved Rohan  5 0 \r\n"
    assert new_player_line("Eddie") == b"newPlayer Eddie\n"
    assert my_id_line("Kim") == b"myIDis Kim \n"
    assert player_left_line("Tara") == b"playerLeft Tara\n"


def test_greeting_lists_the_others_in_join_order_then_the_id() -> None:
    assert greeting("Kim", ["Rohan", "p-1a2b3c4d"]) == (
        b"newPlayer Rohan\nnewPlayer p-1a2b3c4d\nmyIDis Kim \n"
    )
    assert greeting("Player1", []) == b"myIDis Player1 \n"


@pytest.mark.parametrize(
    ("text", "ok"),
    [
        ("Rohan", True),
        ("p-1a2b3c4d", True),
        ("Player12", True),
        ("", False),
        ("a b", False),
        ("a\n", False),
        ("tab\t", False),
        ("Zoë", False),
    ],
)
def test_is_token(text: str, ok: bool) -> None:
    assert is_token(text) is ok


# -- the bridge --------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("data", "line"),
    [
        ({"instr": "playerMoved", "details": "5 0"}, (b"playerMoved", b"5 0")),
        ({"instr": "chat", "details": " héllo "}, (b"chat", " héllo ".encode())),
        ("playerMoved 5 0", (b"playerMoved", b"5 0")),
        ("chat  two spaces", (b"chat", b" two spaces")),
        ({"instr": "playerMoved", "details": ""}, None),
        ({"instr": "two words", "details": "x"}, None),
        ({"instr": "a", "details": "x\nforged Rohan 1"}, None),
        ({"instr": "a\nforged", "details": "x"}, None),
        ({"instr": "a", "details": 5}, None),
        ({"details": "5 0"}, None),
        ("noSpace", None),
        ("trailing ", None),
        ("a b\nforged Rohan 1", None),
        (["playerMoved", "5 0"], None),
        (42, None),
        (None, None),
    ],
)
def test_line_from_data(data: object, line: tuple[bytes, bytes] | None) -> None:
    assert line_from_data(data) == line


def test_data_from_line_decodes_and_replaces_invalid_utf8() -> None:
    assert data_from_line(b"playerMoved", b"5 0") == {
        "instr": "playerMoved",
        "details": "5 0",
        "line": "playerMoved 5 0",
    }
    assert data_from_line(b"x", b"\xff ok") == {"instr": "x", "details": "\ufffd ok", "line": "x \ufffd ok"}


# -- ids ---------------------------------------------------------------------------------------------
def test_numbered_ids_are_never_reused() -> None:
    pool = IdPool()
    assert [pool.take() for _ in range(3)] == ["Player1", "Player2", "Player3"]
    pool.release("Player1")
    assert pool.take() == "Player4"


def test_names_go_in_order_and_the_list_is_the_cap() -> None:
    pool = IdPool(["Rohan", "Eddie"])
    assert pool.take() == "Rohan"
    assert pool.take() == "Eddie"
    assert pool.take() is None


def test_a_name_is_free_again_once_released_and_the_first_free_one_goes_first() -> None:
    pool = IdPool(["Rohan", "Eddie", "Kim"])
    assert [pool.take(), pool.take(), pool.take()] == ["Rohan", "Eddie", "Kim"]
    assert pool.take() is None
    pool.release("Kim")
    pool.release("Eddie")
    assert pool.held == 1
    assert [pool.take(), pool.take(), pool.take()] == ["Eddie", "Kim", None]  # list order, not release order
    pool.release("Rohan")
    pool.release("Rohan")  # twice, or a name never taken: nothing happens
    pool.release("Tara")
    assert [pool.take(), pool.take()] == ["Rohan", None]


def test_a_pool_keeps_nothing_for_holders_that_left() -> None:
    pool = IdPool(["Rohan", "Eddie"])
    for _ in range(10_000):
        name = pool.take()
        assert name == "Rohan"
        pool.release(name)
    assert pool.held == 0
    numbered = IdPool()
    for n in range(1, 1001):
        assert numbered.take() == f"Player{n}"
        numbered.release(f"Player{n}")
    assert numbered.held == 0


def test_id_blocks_give_their_numbers_in_order_then_run_out() -> None:
    blocks = IdBlocks()
    assert blocks.take() is None and blocks.left == 0
    blocks.add(1, 2)
    blocks.add(129, 3)  # another node took 3 to 128
    assert blocks.left == 5
    assert [blocks.take() for _ in range(5)] == ["Player1", "Player2", "Player129", "Player130", "Player131"]
    blocks.release("Player1")  # never given again
    assert blocks.take() is None and blocks.left == 0 and blocks.held == 0


@given(st.lists(st.integers(min_value=0, max_value=50), max_size=20))
def test_ids_from_disjoint_blocks_are_all_different(sizes: list[int]) -> None:
    blocks, first = IdBlocks(), 1
    for size in sizes:
        blocks.add(first, size)
        first += size
    taken = [blocks.take() for _ in range(sum(sizes))]
    assert len(set(taken)) == sum(sizes) and None not in taken and blocks.take() is None


@pytest.mark.parametrize("names", [["Rohan", "Rohan"], ["two words"], [""], ["Zoë"]])
def test_bad_names_are_refused(names: list[str]) -> None:
    with pytest.raises(ValueError, match=r"must be different from each other|must be printable ASCII"):
        IdPool(names)
