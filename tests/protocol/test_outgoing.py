"""Outgoing: one message for many links, encoded and framed at most once each."""

from __future__ import annotations

from netplay.protocol import codec, frame
from netplay.protocol.outgoing import Outgoing


def test_nothing_is_encoded_until_a_link_asks() -> None:
    out = Outgoing({"type": "relay", "data": "x"})
    assert out.payload is None and out.framed is None


def test_the_payload_is_the_codec_encoding_made_once() -> None:
    message = {"type": "relay", "room": "r-1", "data": {"instr": "a", "details": "é"}}
    out = Outgoing(message)
    payload = out.encode()
    assert payload == codec.encode(message)
    assert out.payload is payload and out.encode() is payload


def test_the_frame_is_the_stream_framing_of_the_payload_made_once() -> None:
    out = Outgoing({"type": "ping"})
    framed = out.frame()
    assert framed == frame(codec.encode({"type": "ping"}))
    assert out.framed is framed and out.frame() is framed
    assert out.payload == framed[4:]  # framing encoded it, once, for the WebSocket links too


def test_one_made_of_a_frame_sends_those_bytes_and_decodes_only_when_asked() -> None:
    message = {"type": "state", "room": "r-1", "view": {"board": [None, "X"]}, "name": "é"}
    framed = frame(codec.encode(message))
    out = Outgoing.of_frame(framed)
    assert out.frame() is framed and out.encode() == codec.encode(message)
    assert out.message == message  # (a 15-112 text link renders the message itself)
    assert out.message is out.message  # decoded once
