"""The length-prefix decoder: payloads out in order, however the bytes are split; bad sizes refused."""

from __future__ import annotations

import itertools

from hypothesis import given
from hypothesis import strategies as st

from netplay.protocol import FrameDecoder, FrameError, frame


def test_one_frame_round_trips() -> None:
    decoder = FrameDecoder(1024)
    assert decoder.feed(frame(b'{"type":"ping"}')) == [b'{"type":"ping"}']
    assert decoder.buffered == 0


def test_frames_split_byte_by_byte_and_merged() -> None:
    payloads = [b"a", b"bb" * 100, b"ccc"]
    stream = b"".join(frame(p) for p in payloads)
    decoder = FrameDecoder(1024)
    out: list[bytes | FrameError] = []
    for i in range(len(stream)):
        out += decoder.feed(stream[i : i + 1])
    assert out == payloads
    assert FrameDecoder(1024).feed(stream) == payloads


def test_oversized_frame_is_refused_before_its_body_arrives() -> None:
    decoder = FrameDecoder(100)
    out = decoder.feed((101).to_bytes(4, "big"))
    assert len(out) == 1 and isinstance(out[0], FrameError)
    assert out[0].size == 101
    assert "exceeds the limit of 100" in out[0].reason
    assert decoder.broken
    assert decoder.feed(frame(b"x")) == []  # the stream can no longer be trusted


def test_frame_of_exactly_the_limit_is_accepted() -> None:
    assert FrameDecoder(100).feed(frame(b"x" * 100)) == [b"x" * 100]


def test_empty_frame_is_an_error() -> None:
    out = FrameDecoder(100).feed(frame(b""))
    assert isinstance(out[0], FrameError) and out[0].reason == "empty frame"


def test_good_frames_before_an_error_are_kept() -> None:
    out = FrameDecoder(10).feed(frame(b"ok") + (11).to_bytes(4, "big"))
    assert out[0] == b"ok" and isinstance(out[1], FrameError)


@given(
    payloads=st.lists(st.binary(min_size=1, max_size=300), max_size=20),
    cuts=st.lists(st.integers(min_value=0, max_value=10_000), max_size=30),
)
def test_any_split_yields_the_same_payloads(payloads: list[bytes], cuts: list[int]) -> None:
    stream = b"".join(frame(p) for p in payloads)
    points = sorted({c % (len(stream) + 1) for c in cuts} | {0, len(stream)})
    decoder = FrameDecoder(300)
    out: list[bytes | FrameError] = []
    for a, b in itertools.pairwise(points):
        out += decoder.feed(stream[a:b])
    assert out == payloads


@given(st.lists(st.binary(max_size=64), max_size=20))
def test_random_bytes_never_raise_and_never_exceed_the_limit(chunks: list[bytes]) -> None:
    decoder = FrameDecoder(32)
    for chunk in chunks:
        for item in decoder.feed(chunk):
            assert isinstance(item, FrameError) or 0 < len(item) <= 32
    assert decoder.buffered <= 32 + 4 + 64
