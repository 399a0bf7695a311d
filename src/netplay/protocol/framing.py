"""Length-prefixed framing for stream transports (TCP): a 4-byte big-endian length, then the payload.

The decoder is incremental and never raises: bytes go in, payloads (or one FrameError) come out.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

__all__ = ["HEADER_SIZE", "FrameDecoder", "FrameError", "frame"]

HEADER_SIZE = 4


def frame(payload: bytes) -> bytes:
    """Prefix a payload with its length, ready to write to a stream."""
    return len(payload).to_bytes(4, "big") + payload


@dataclass(frozen=True, slots=True)
class FrameError:
    """The stream broke the framing rules and can no longer be trusted."""

    reason: str
    size: int


class FrameDecoder:
    """Splits a byte stream into payloads, refusing frames larger than ``max_frame_size``.

    After an error the decoder stays broken: every later ``feed`` returns nothing, because the
    frame boundaries in the rest of the stream are unknown.
    """

    __slots__ = ("_buffer", "broken", "max_frame_size")

    def __init__(self, max_frame_size: int) -> None:
        self.max_frame_size = max_frame_size
        self._buffer = bytearray()
        self.broken = False

    @property
    def buffered(self) -> int:
        """Bytes held while waiting for the rest of a frame."""
        return len(self._buffer)

    def feed(self, data: bytes) -> list[bytes | FrameError]:
        """Add received bytes; return every complete payload, in order, and at most one error last."""
        if self.broken:
            return []
        # Parse straight out of ``data`` when nothing is waiting (the common case: a read holds
        # whole frames), so each payload is copied once; else out of the buffer.
        buf: bytes | bytearray
        if self._buffer:
            self._buffer += data
            buf = self._buffer
        else:
            buf = data
        out: list[bytes | FrameError] = []
        pos = 0
        end = len(buf)
        limit = self.max_frame_size
        while end - pos >= HEADER_SIZE:
            (size,) = _unpack_length(buf, pos)
            if size > limit or size == 0:
                reason = "empty frame" if size == 0 else f"frame of {size} bytes exceeds the limit of {limit}"
                out.append(FrameError(reason, size))
                self.broken = True
                self._buffer.clear()
                return out
            stop = pos + HEADER_SIZE + size
            if stop > end:
                break
            payload = buf[pos + HEADER_SIZE : stop]
            out.append(payload if type(payload) is bytes else bytes(payload))
            pos = stop
        if buf is self._buffer:
            del self._buffer[:pos]
        elif pos < end:
            self._buffer += data[pos:]
        return out


_unpack_length = struct.Struct(">I").unpack_from
