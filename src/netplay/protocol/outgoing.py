"""A message on its way out to one or more links, with each encoding made once, when first needed."""

from __future__ import annotations

from typing import Any

from .codec import decode, encode

__all__ = ["Outgoing", "OutgoingRun"]


class Outgoing:
    """One message for one or more links: the dict, and its encodings, each made on first use.

    A broadcast builds one and hands the same object to every recipient's link. A netplay link
    takes ``out.payload or out.encode()`` (JSON, for WebSocket) or ``out.framed or out.frame()``
    (length-prefixed, for TCP): the first link to ask pays for it, the others reuse it, so a
    broadcast is encoded once however many links send it, and not at all when every recipient
    renders ``message`` itself (a 15-112 text client turns it into a line, or drops it). The
    cached forms are plain attributes, not properties, because they are read once per recipient.
    The message must not change once handed out. One made ``of_frame`` (a message another
    cluster node encoded) or ``of_payload`` decodes ``message`` only if a link asks for it.
    """

    __slots__ = ("_message", "framed", "payload")

    def __init__(self, message: dict[str, Any]) -> None:
        self._message: dict[str, Any] | None = message
        #: The message as compact UTF-8 JSON once ``encode`` has run, else None.
        self.payload: bytes | None = None
        #: ``payload`` with its 4-byte length prefix once ``frame`` has run, else None.
        self.framed: bytes | None = None

    @classmethod
    def of_frame(cls, framed: bytes) -> Outgoing:
        """A message already encoded and framed (as ``frame`` makes it): sent as those bytes."""
        out = cls.__new__(cls)
        out._message, out.payload, out.framed = None, None, framed
        return out

    @classmethod
    def of_payload(cls, payload: bytes) -> Outgoing:
        """A message already encoded (compact UTF-8 JSON, as ``encode`` makes it)."""
        out = cls.__new__(cls)
        out._message, out.payload, out.framed = None, payload, None
        return out

    @property
    def message(self) -> dict[str, Any]:
        """The message (decoded from its encoding the first time, for one made ``of_frame``)."""
        message = self._message
        if message is None:
            message = self._message = decode(self.encode())
        return message

    def encode(self) -> bytes:
        """The message as compact UTF-8 JSON, encoded on the first call and kept in ``payload``."""
        payload = self.payload
        if payload is None:
            framed = self.framed
            payload = self.payload = encode(self._message) if framed is None else framed[4:]
        return payload

    def frame(self) -> bytes:
        """The payload framed for a stream (as ``protocol.frame``): made on the first call, kept."""
        framed = self.framed
        if framed is None:  # inline, not calls to encode() and frame(): once per TCP broadcast
            payload = self.payload
            if payload is None:
                payload = self.payload = encode(self._message)
            framed = self.framed = len(payload).to_bytes(4, "big") + payload
        return framed


class OutgoingRun:
    """Messages for the same links, in order (a ``RelayRun`` passed on): encoded once, framed once.

    A netplay stream link queues ``run.framed or run.frame()``, every message's frame joined in
    one bytes object: one append per recipient for the whole run. A message link takes
    ``run.payloads or run.encode()``; a link of another protocol takes ``run.outs()``, one
    ``Outgoing`` per message. Encodings are made whole, on first use: a message that cannot be
    encoded raises before any link has queued one of them. One made ``of_payloads`` (already
    encoded) decodes its messages only if a link asks. The messages must not change.
    """

    __slots__ = ("_messages", "_outs", "count", "framed", "payloads")

    def __init__(self, messages: list[dict[str, Any]]) -> None:
        self._messages: list[dict[str, Any]] | None = messages
        #: How many messages.
        self.count = len(messages)
        #: Each message as compact UTF-8 JSON once ``encode`` has run, else None.
        self.payloads: list[bytes] | None = None
        #: Every payload with its length prefix, joined, once ``frame`` has run, else None.
        self.framed: bytes | None = None
        self._outs: list[Outgoing] | None = None

    @classmethod
    def of_payloads(cls, payloads: list[bytes]) -> OutgoingRun:
        """Messages already encoded (each compact UTF-8 JSON, as ``encode`` makes them)."""
        run = cls.__new__(cls)
        run._messages, run.payloads, run.framed, run._outs = None, payloads, None, None
        run.count = len(payloads)
        return run

    @property
    def messages(self) -> list[dict[str, Any]]:
        """The messages (decoded from their payloads the first time, for one made ``of_payloads``)."""
        messages = self._messages
        if messages is None:
            messages = self._messages = [out.message for out in self.outs()]
        return messages

    def encode(self) -> list[bytes]:
        """Every message encoded (on the first call; kept in ``payloads``)."""
        payloads = self.payloads
        if payloads is None:
            assert self._messages is not None
            payloads = self.payloads = [encode(message) for message in self._messages]
        return payloads

    def frame(self) -> bytes:
        """Every payload framed for a stream (as ``protocol.frame``), joined: made once, kept."""
        framed = self.framed
        if framed is None:
            payloads = self.payloads or self.encode()
            framed = self.framed = b"".join([len(p).to_bytes(4, "big") + p for p in payloads])
        return framed

    def outs(self) -> list[Outgoing]:
        """One ``Outgoing`` per message, the same objects for every link that asks (so a link that
        caches by message, as the 15-112 text lobby does, renders each once)."""
        outs = self._outs
        if outs is None:
            if self._messages is None:
                assert self.payloads is not None
                outs = [Outgoing.of_payload(payload) for payload in self.payloads]
            else:
                outs = [Outgoing(message) for message in self._messages]
                if self.payloads is not None:
                    for out, payload in zip(outs, self.payloads, strict=True):
                        out.payload = payload
            self._outs = outs
        return outs
