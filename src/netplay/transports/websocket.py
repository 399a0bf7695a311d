"""netplay's protocol over WebSocket, the web client's static files over HTTP, and the shared port.

Three small asyncio protocols, all thin: the ``websockets`` library's Sans-I/O layer does the HTTP
parsing, the WebSocket handshake and the framing; the protocol core does the rest.

- ``WebConnection``: one HTTP connection. ``GET /ws`` with an upgrade becomes a WebSocket whose text
  messages are netplay messages (the same JSON as a TCP frame's payload), fed to
  ``ServerConnection.receive_payload``; the connection is then a session ``Link``. Any other ``GET``
  is answered from the static files of ``netplay/web`` and the connection closes.
- ``PortSniffer``: the shared port's first protocol. A netplay frame starts with its 4-byte length
  (0x00 first for any frame under 16 MiB), HTTP with a method such as ``GET``: the sniffer looks
  once, at the first bytes, then hands the transport to a ``TcpConnection`` or a ``WebConnection``
  and is gone, so the TCP hot path is the plain ``TcpConnection``.
- ``WebSite``: what every web connection of one server shares: the hub, the files, the origin rule,
  the write coalescer (the TCP connections'), and the connections not yet handed to the hub (closed
  on shutdown).

The limits are TCP's: ``max_frame`` caps a message (the library refuses a larger one with close
code 1009), ``max_send_buffer`` cuts off a client that does not read, and the hub's handshake,
heartbeat (``{"type": "ping"}``) and idle timeouts apply to WebSocket sessions as to any other.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from http import HTTPStatus
from importlib import resources
from typing import TYPE_CHECKING, cast
from urllib.parse import unquote

from websockets.datastructures import Headers
from websockets.frames import Frame, Opcode
from websockets.http11 import Request, Response
from websockets.protocol import State
from websockets.server import ServerProtocol
from websockets.typing import Origin

from ..protocol import ErrorCode, ProtocolError, ServerConnection, codec
from ..protocol.outgoing import Outgoing
from .coalesce import WriteCoalescer, write_bounded

if TYPE_CHECKING:
    from ..server.hub import Hub
    from ..server.session import Session

__all__ = ["WS_PATH", "PortSniffer", "StaticFile", "WebConnection", "WebSite", "load_static_files"]

log = logging.getLogger("netplay.websocket")
# The library logs every connection opened and closed at INFO: too chatty for a server log.
_library_log = logging.getLogger("netplay.websocket.protocol")
_library_log.setLevel(logging.WARNING)

#: The WebSocket endpoint; every other path is a static file.
WS_PATH = "/ws"
#: How long a closing WebSocket waits for the client's close frame before dropping the connection.
CLOSE_TIMEOUT = 2.0

_CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".mjs": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".ico": "image/x-icon",
    ".json": "application/json",
    ".txt": "text/plain; charset=utf-8",
    ".webmanifest": "application/manifest+json",
}
# WebSocket close codes for the fatal errors the hub closes a connection with.
_CLOSE_CODES: dict[str, int] = {
    ErrorCode.SERVER_SHUTDOWN: 1001,  # going away
    ErrorCode.FRAME_TOO_LARGE: 1009,  # message too big
    ErrorCode.INTERNAL_ERROR: 1011,
}
_POLICY_VIOLATION = 1008
# The first four bytes of an HTTP request: a method (and, for GET, its space).
_HTTP_STARTS = (b"GET ", b"HEAD", b"POST", b"PUT ", b"DELE", b"OPTI", b"PATC", b"CONN", b"TRAC")


# -- static files ---------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class StaticFile:
    body: bytes
    content_type: str
    etag: str


def load_static_files(package: str = "netplay", folder: str = "web") -> dict[str, StaticFile]:
    """Every file of the package's web folder, by URL path ("/" is index.html). Read once, at start.

    Only the names found here are ever served, so no request path can reach outside the folder.
    """
    files: dict[str, StaticFile] = {}
    root = resources.files(package).joinpath(folder)
    if not root.is_dir():
        return files
    for entry in root.iterdir():
        name = entry.name
        suffix = name[name.rfind(".") :] if "." in name else ""
        if not entry.is_file() or name.startswith(".") or suffix not in _CONTENT_TYPES:
            continue
        body = entry.read_bytes()
        etag = '"' + hashlib.sha256(body).hexdigest()[:20] + '"'
        files["/" + name] = StaticFile(body, _CONTENT_TYPES[suffix], etag)
    if "/index.html" in files:
        files["/"] = files["/index.html"]
    return files


def _header(request: Request, name: str) -> str | None:
    """A request header given exactly once, else None (repeating one must not raise)."""
    values = request.headers.get_all(name)
    return values[0] if len(values) == 1 else None


def _response(status: HTTPStatus, headers: Headers, body: bytes = b"") -> Response:
    headers["Connection"] = "close"
    headers.setdefault("Content-Length", str(len(body)))
    return Response(status.value, status.phrase, headers, body)


def _text_response(status: HTTPStatus, text: str) -> Response:
    headers = Headers({"Content-Type": "text/plain; charset=utf-8"})
    return _response(status, headers, text.encode())


# -- what the web connections of one server share --------------------------------------------------
class WebSite:
    """The hub, the static files and the rules every web connection of one server uses."""

    def __init__(
        self,
        hub: Hub,
        coalescer: WriteCoalescer | None = None,
        files: dict[str, StaticFile] | None = None,
    ) -> None:
        self.hub = hub
        self.config = hub.config
        self.loop = hub.loop
        self.files = load_static_files() if files is None else files
        origins = self.config.web_origins
        self.origins: tuple[str, ...] | None = None if origins is None else tuple(origins)
        #: Connections not (yet) sessions of the hub: sniffing, or speaking plain HTTP.
        self.pending: set[asyncio.BaseProtocol] = set()
        #: Writes queued during one loop turn go out together, as on TCP (shared with it).
        self.coalescer = coalescer or WriteCoalescer(self.loop)

    def respond(self, request: Request) -> Response:
        """The answer to a plain HTTP request for a static file."""
        if request.method not in ("GET", "HEAD"):
            response = _text_response(HTTPStatus.METHOD_NOT_ALLOWED, "only GET and HEAD\n")
            response.headers["Allow"] = "GET, HEAD"
            return response
        path = unquote(request.path.partition("?")[0].partition("#")[0])
        found = self.files.get(path)
        if found is None:
            return _text_response(HTTPStatus.NOT_FOUND, f"no such page: {path[:200]}\n")
        headers = Headers(
            {
                "Content-Type": found.content_type,
                "Cache-Control": "no-cache",  # revalidate: the ETag makes that a cheap 304
                "ETag": found.etag,
                "X-Content-Type-Options": "nosniff",
                # Pages served elsewhere may import netplay.js from this server.
                "Access-Control-Allow-Origin": "*",
            }
        )
        if _header(request, "If-None-Match") == found.etag:
            return _response(HTTPStatus.NOT_MODIFIED, headers)
        headers["Content-Length"] = str(len(found.body))
        return _response(HTTPStatus.OK, headers, b"" if request.method == "HEAD" else found.body)

    def allowed_origins(self, request: Request) -> list[str | None] | None:
        """The Origin values a WebSocket handshake may carry; None: any.

        With ``web_origins`` set, a browser page may connect only if this server served it (same
        host) or its origin is listed. A client without an Origin header is not a browser, and the
        origin check protects browsers' users, so it is let in.
        """
        if self.origins is None:
            return None
        allowed: list[str | None] = [None, *(o for o in self.origins if o != "self")]
        host = _header(request, "Host")
        if host:
            allowed += [f"http://{host}", f"https://{host}"]
        return allowed

    def shutdown(self) -> None:
        """Close every connection that the hub does not know (the hub closes its own sessions)."""
        for protocol in list(self.pending):
            transport = getattr(protocol, "transport", None)
            if transport is not None:
                transport.close()
        self.pending.clear()


# -- one HTTP / WebSocket connection ---------------------------------------------------------------
class WebConnection(asyncio.Protocol):
    """An HTTP client of static files, or (after ``GET /ws``) a WebSocket session's ``Link``."""

    __slots__ = (
        "_closing",
        "_fatal",
        "_fragments",
        "_out",
        "_site",
        "_timer",
        "conn",
        "peer",
        "session",
        "transport",
        "ws",
    )

    def __init__(self, site: WebSite, started: float | None = None) -> None:
        self._site = site
        self._out: list[bytes] = []
        self._fragments: list[bytes | bytearray | memoryview] | None = None
        self._closing = False
        self._fatal: bytes | None = None  # the last fatal error sent, for the close frame
        config = site.config
        self.ws = ServerProtocol(max_size=config.max_frame, logger=_library_log)
        self.conn = ServerConnection(config.max_frame)
        self.peer = "?"
        self.transport: asyncio.Transport | None = None
        self.session: Session | None = None
        # Until it is a WebSocket (or has its answer), an HTTP client has the handshake timeout.
        wait = config.handshake_timeout
        if started is not None:
            wait = max(0.0, wait - (site.loop.time() - started))
        self._timer: asyncio.TimerHandle | None = site.loop.call_later(wait, self._too_slow)

    # -- asyncio.Protocol ----------------------------------------------------------------------
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)
        peername = self.transport.get_extra_info("peername")
        self.peer = f"{peername[0]}:{peername[1]}" if peername else "?"
        if self._site.hub.closing:
            self._cancel_timer()
            self.transport.abort()
            return
        self._site.pending.add(self)

    def data_received(self, data: bytes) -> None:
        ws = self.ws
        ws.receive_data(data)
        for event in ws.events_received():
            if isinstance(event, Frame):
                if not self._closing:
                    self._on_frame(event)
            elif isinstance(event, Request):
                self._on_request(event)
        self._write_protocol_output()

    def eof_received(self) -> bool:
        self.ws.receive_eof()
        self._write_protocol_output()
        return False  # close our side too

    def connection_lost(self, exc: Exception | None) -> None:
        self._closing = True
        self._out.clear()
        self._cancel_timer()
        self.conn.close()
        self._site.pending.discard(self)
        if self.session is not None:
            self._site.hub.disconnect(self.session, self)

    # -- HTTP ----------------------------------------------------------------------------------
    def _on_request(self, request: Request) -> None:
        site = self._site
        if request.path.partition("?")[0] != WS_PATH:
            self.ws.send_response(site.respond(request))
            return
        if site.hub.closing:
            self.ws.send_response(_text_response(HTTPStatus.SERVICE_UNAVAILABLE, "shutting down\n"))
            return
        self.ws.origins = cast("list[Origin | None] | None", site.allowed_origins(request))
        response = self.ws.accept(request)
        self.ws.send_response(response)
        if response.status_code != 101:
            log.info("refused a WebSocket from %s: %s", self.peer, response.body.decode(errors="replace"))
            return
        self._cancel_timer()
        site.pending.discard(self)
        self.session = site.hub.connect(self)

    def _too_slow(self) -> None:
        self._timer = None
        if self.session is None and self.transport is not None:
            log.info("closing %s: no complete HTTP request in time", self.peer)
            self.transport.abort()

    def _cancel_timer(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    # -- WebSocket messages --------------------------------------------------------------------
    def _on_frame(self, frame: Frame) -> None:
        opcode = frame.opcode
        if opcode is Opcode.TEXT or opcode is Opcode.BINARY:
            if not frame.fin:  # the first of a fragmented message; the library caps the total
                self._fragments = [frame.data]
                return
            payload = bytes(frame.data)  # already bytes: no copy
        elif opcode is Opcode.CONT and self._fragments is not None:
            self._fragments.append(frame.data)
            if not frame.fin:
                return
            payload = b"".join(self._fragments)
            self._fragments = None
        else:
            return  # ping, pong and close: the library answers them
        session = self.session
        if session is not None:
            event = self.conn.receive_payload(payload)
            hub = self._site.hub
            hub.heard_from(session)
            hub.receive(session, event)

    def _write_protocol_output(self) -> None:
        """Send what the library queued (handshake replies, pongs, close frames); close on EOF."""
        transport = self.transport
        if transport is None:
            return
        end = False
        for data in self.ws.data_to_send():
            if data:
                transport.write(data)
            else:
                end = True
        if end:
            self._closing = True
            self._cancel_timer()
            transport.close()

    # -- Link ----------------------------------------------------------------------------------
    def rebind(self, session: Session | None) -> None:
        """The hub moved this connection to a resumed session (or to none)."""
        self.session = session

    def send(self, out: Outgoing) -> None:
        if self._closing:
            return
        payload = out.payload or out.encode()  # encoded once for every link of a broadcast
        queued = self._out
        if not queued:
            self._site.coalescer.mark(self)
        queued.append(payload)
        if payload.startswith(b'{"type":"error"') and b'"fatal":true' in payload:
            self._fatal = payload  # the hub sends a fatal error, then closes: the close code says why

    def flush(self) -> None:
        out = self._out
        transport = self.transport
        if not out:
            return
        self._out = []
        if transport is None or transport.is_closing() or self.ws.state is not State.OPEN:
            return
        send_text = self.ws.send_text
        for payload in out:
            send_text(payload)  # already UTF-8 JSON: sent as it is
        if not write_bounded(transport, b"".join(self.ws.data_to_send()), self._site.config.max_send_buffer):
            log.info("disconnecting %s: it is not reading (send buffer full)", self.peer)
            self.abort()

    def close(self, error: ProtocolError | None = None) -> None:
        if self._closing:
            return
        if error is not None:
            self.send(Outgoing(error.to_message()))
        self.flush()
        self._closing = True
        self.conn.close()
        transport = self.transport
        if transport is None:
            return
        if self.ws.state is State.OPEN:
            code, reason = self._close_code(error)
            self.ws.send_close(code, reason)
            self._write_protocol_output()
            # The client answers with its close frame and the library then ends the stream; a
            # client that never does is dropped.
            self._timer = self._site.loop.call_later(CLOSE_TIMEOUT, self.abort)
        else:  # the client's close frame came first: send the library's answer to it, then go
            self._write_protocol_output()
            transport.close()

    def _close_code(self, error: ProtocolError | None) -> tuple[int, str]:
        """The close frame's code and reason: the fatal error's code, if one was sent."""
        name = str(error.code) if error is not None else None
        if name is None and self._fatal is not None:
            try:
                name = str(codec.decode(self._fatal).get("code", ""))
            except (codec.DecodeError, AttributeError):
                name = ""
        if not name:
            return 1000, ""
        return _CLOSE_CODES.get(name, _POLICY_VIOLATION), name[:120]

    def abort(self) -> None:
        self._closing = True
        self._out.clear()
        self._cancel_timer()
        if self.transport is not None:
            self.transport.abort()


# -- the shared port -------------------------------------------------------------------------------
def looks_like_http(start: bytes) -> bool:
    """Whether a connection's first four bytes are an HTTP request's method."""
    return start[:4] in _HTTP_STARTS


class PortSniffer(asyncio.Protocol):
    """The shared port's first protocol: hands each connection to netplay's TCP framing or to HTTP.

    It looks only at the first bytes of a connection. A connection that stays silent is handed to
    TCP when the handshake timeout has passed, so the hub closes it exactly as before.
    """

    __slots__ = ("_buffer", "_make_tcp", "_site", "_started", "_timer", "transport")

    def __init__(self, site: WebSite, make_tcp: Callable[[], asyncio.Protocol]) -> None:
        self._site = site
        self._make_tcp = make_tcp
        self._buffer = b""
        self._started = site.loop.time()
        self._timer: asyncio.TimerHandle | None = None
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)
        site = self._site
        if site.hub.closing:
            self.transport.abort()
            return
        site.pending.add(self)
        self._timer = site.loop.call_later(site.config.handshake_timeout, self._silent)

    def data_received(self, data: bytes) -> None:
        data = self._buffer + data if self._buffer else data
        if data[0] == 0:  # a netplay frame: the common case, decided at once
            self._hand_over(self._make_tcp(), data)
        elif len(data) < 4:
            self._buffer = data  # wait for enough bytes to tell
        elif looks_like_http(data):
            self._hand_over(WebConnection(self._site, self._started), data)
        else:
            self._hand_over(self._make_tcp(), data)  # TCP's own errors explain what is wrong

    def eof_received(self) -> bool:
        if self._buffer:
            self._hand_over(self._make_tcp(), self._buffer)
        return False

    def connection_lost(self, exc: Exception | None) -> None:
        self._stop()

    def _silent(self) -> None:
        self._timer = None
        self._hand_over(self._make_tcp(), b"")

    def _stop(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self._site.pending.discard(self)

    def _hand_over(self, protocol: asyncio.Protocol, data: bytes) -> None:
        self._stop()
        self._buffer = b""
        transport = self.transport
        if transport is None or transport.is_closing():
            return
        transport.set_protocol(protocol)
        protocol.connection_made(transport)
        # The handshake timeout counts from the connection, not from the first byte.
        session = getattr(protocol, "session", None)
        if session is not None:
            session.connected_at = min(session.connected_at, self._started)
        if data:
            protocol.data_received(data)
