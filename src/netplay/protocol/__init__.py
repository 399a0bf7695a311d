"""netplay's wire protocol, sans I/O: framing, the JSON codec, the message table and connection state."""

from .connection import (
    DEFAULT_MAX_FRAME,
    ClientConnection,
    Event,
    Hello,
    Message,
    Phase,
    Rejected,
    Relay,
    RelayRun,
    Request,
    ServerConnection,
)
from .errors import ErrorCode, ProtocolError
from .framing import FrameDecoder, FrameError, frame
from .messages import CLIENT_MESSAGES, PROTOCOL_VERSIONS, validate_client_message

__all__ = [
    "CLIENT_MESSAGES",
    "DEFAULT_MAX_FRAME",
    "PROTOCOL_VERSIONS",
    "ClientConnection",
    "ErrorCode",
    "Event",
    "FrameDecoder",
    "FrameError",
    "Hello",
    "Message",
    "Phase",
    "ProtocolError",
    "Rejected",
    "Relay",
    "RelayRun",
    "Request",
    "ServerConnection",
    "frame",
    "validate_client_message",
]
