"""Error codes carried by ``error`` messages, and the exception the protocol core reports them with.

Codes are stable strings: clients in any language switch on them, so they never change meaning.
"""

from __future__ import annotations

from enum import StrEnum


class ErrorCode(StrEnum):
    """Every error code netplay sends. docs/protocol.md describes each one."""

    # Framing and decoding: the peer broke the wire format.
    FRAME_TOO_LARGE = "frame_too_large"
    INVALID_FRAME = "invalid_frame"
    INVALID_JSON = "invalid_json"
    INVALID_MESSAGE = "invalid_message"
    UNKNOWN_TYPE = "unknown_type"
    # Handshake and connection lifecycle.
    HANDSHAKE_REQUIRED = "handshake_required"
    HANDSHAKE_TIMEOUT = "handshake_timeout"
    ALREADY_GREETED = "already_greeted"
    UNSUPPORTED_VERSION = "unsupported_version"
    IDLE_TIMEOUT = "idle_timeout"
    SERVER_SHUTDOWN = "server_shutdown"
    SERVER_FULL = "server_full"
    RATE_LIMITED = "rate_limited"
    SESSION_REPLACED = "session_replaced"
    SERVER_DRAINING = "server_draining"
    KICKED = "kicked"
    #: A cluster-wide request that could not be answered now (Redis, or the node asked, is out of reach).
    UNAVAILABLE = "unavailable"
    # Lobby and rooms.
    NO_SUCH_GAME = "no_such_game"
    NO_SUCH_ROOM = "no_such_room"
    NO_SUCH_BOT = "no_such_bot"
    WRONG_CODE = "wrong_code"
    ROOM_FULL = "room_full"
    TOO_MANY_ROOMS = "too_many_rooms"
    NOT_IN_ROOM = "not_in_room"
    ALREADY_IN_ROOM = "already_in_room"
    WRONG_ROOM_KIND = "wrong_room_kind"
    RELAY_REFUSED = "relay_refused"
    # Moves in a match.
    NOT_A_PLAYER = "not_a_player"
    NOT_YOUR_TURN = "not_your_turn"
    INVALID_MOVE = "invalid_move"
    STALE_VERSION = "stale_version"
    GAME_NOT_STARTED = "game_not_started"
    GAME_OVER = "game_over"
    GAME_IN_PROGRESS = "game_in_progress"
    INTERNAL_ERROR = "internal_error"
    # Inputs in a real-time match.
    INVALID_INPUT = "invalid_input"
    INPUT_TOO_LARGE = "input_too_large"
    STALE_INPUT = "stale_input"
    INPUT_TOO_EARLY = "input_too_early"
    INPUT_TOO_LATE = "input_too_late"


class ProtocolError(Exception):
    """A request or a byte stream that netplay refuses, with the code and text sent back to the peer."""

    def __init__(self, code: ErrorCode, message: str, *, fatal: bool = False, **extra: object) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.fatal = fatal
        self.extra = extra

    def to_message(self, re: object = None) -> dict[str, object]:
        """The ``error`` message that tells the peer about this error."""
        msg: dict[str, object] = {"type": "error", "code": str(self.code), "message": self.message}
        if self.fatal:
            msg["fatal"] = True
        if re is not None:
            msg["re"] = re
        msg.update(self.extra)
        return msg
