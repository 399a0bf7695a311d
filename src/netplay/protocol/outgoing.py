"""A message on its way out to one or more links, with each encoding made once, when first needed."""

from __future__ import annotations

from typing import Any

from .codec import decode, encode

__all__ = ["Outgoing"]


class Outgoing:
    """One message for one or more links: the dict, and its encodings, each made on first use.

    A broadcast builds one and hands the same object to every recipient's link. A netplay link
    takes ``out.payload or out.encode()`` (JSON, for WebSocket) or ``out.framed or out.frame()``
    (length-prefixed, for TCP): the first link to ask pays for it, the others reuse it, so a
    broadcast is encoded once however many links send it, and not at all when every recipient
    renders ``message`` itself (a 15-112 text client turns it into a line, or drops it). The
    cached forms are plain attributes, not properties, because they are read once per recipient.
    The message must not change once handed out. One made ``of_frame`` (a message another
    cluster node encoded) decodes ``message`` only if a link asks for it.
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
