"""netplay's protocol over WebSocket, the web client's static files over HTTP, and the shared port.

Three small asyncio protocols, all thin over Sans-I/O cores: ``transports.http`` (h11) parses
HTTP/1.1, the ``websockets`` library does the WebSocket handshake and the framing, and the protocol
core does the rest.

- ``WebConnection``: one HTTP/1.1 connection, kept alive: its requests are answered in order, the
  pipelined ones too (``GET`` and ``HEAD`` from the static files of ``netplay/web`` through
  ``WebSite.respond``; another method 405; a body over ``http.MAX_BODY`` 413; a malformed request
  400; each of the last two then closes). ``GET /ws`` (first on the connection or after other
  requests) hands the exact bytes of that request, and all that follows, to the library: an upgrade
  becomes a WebSocket whose text messages are netplay messages (the same JSON as a TCP frame's
  payload), fed to ``ServerConnection.receive_payload``; the connection is then a session ``Link``.
  The library answers anything else (a plain ``GET /ws``: 426; a refused origin: 403) and closes.
  After its last answer (``Connection: close``, HTTP/1.0, an error) a connection closes; one
  whose client may still be sending (a refused body) closes its side first, and reads and drops
  what comes until the client closes too, so that no reset loses the answer.
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
Until it is a WebSocket, a connection has the handshake timeout for each request (from the end of
the last answer): a half-sent request is dropped then, and an idle keep-alive connection closed.
Read backpressure is TCP's too (``tcp._REPLY_BUDGET``): while a connection's unsent output is over
64 KiB (or half ``max_send_buffer``), its next message (or pipelined HTTP request) waits, unread,
and the socket is not read, until the client has read; so a client that sends hundreds of
``list_rooms`` in one write and never reads gets what the kernel's socket buffer takes plus 64 KiB
of replies built, a few per loop turn, and is neither answered all at once nor cut off.
The control frames the library answers count too: pongs and the close reply go through the same
bounded write as messages, and each ping frame takes a token of the session's message rate limit
(past the rate it gets no pong; a burst beyond it, and the client is cut off, as for messages).
A big read is parsed a slice per loop turn, so that a flood of small frames never holds the loop.
The byte rate is TCP's too (``byte_rate``, ``byte_burst``: past it the socket is not read until
the client is back within it), and so are the connection slots: every socket, HTTP or WebSocket,
holds one of the server's (``server.gate``) from the moment it is accepted, and one over a limit is
closed at once, told why in its own protocol when it says which it speaks in time (a netplay frame:
``server_full``; HTTP: 503).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import inspect
import logging
from collections.abc import Callable, Iterable
from http import HTTPStatus
from importlib import resources
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import TYPE_CHECKING, Protocol, cast
from urllib.parse import quote, unquote

from websockets.frames import Frame, Opcode
from websockets.http11 import Request
from websockets.protocol import Event, State
from websockets.server import ServerProtocol
from websockets.typing import Origin

from ..protocol import ErrorCode, ProtocolError, ServerConnection, codec
from ..protocol.outgoing import Outgoing, OutgoingRun
from .coalesce import WriteCoalescer, write_bounded
from .http import HttpRequest, HttpResponse, HttpServerConnection, StaticFile, Upgrade, serve_files
from .pacing import ByteBudget, ReadPacer
from .tcp import _REPLY_BUDGET, SERVER_FULL

if TYPE_CHECKING:
    from ..games import Game, RealtimeGame
    from ..server.gate import ConnectionGate
    from ..server.hub import Hub
    from ..server.session import Session

__all__ = [
    "REFUSAL_WAIT",
    "WS_PATH",
    "PortSniffer",
    "Routes",
    "StaticFile",
    "WebConnection",
    "WebSite",
    "game_board_path",
    "load_game_board",
    "load_game_boards",
    "load_static_files",
]

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
#: A read is parsed this much per loop turn: 256 KiB of small frames take ~9 ms to parse, 8 KiB
#: under half a millisecond, so a flood of them never holds the loop (the other clients) for long.
_PARSE_SLICE = 8 * 1024
# The frames that carry messages: the ones held while the client does not read its replies.
_MESSAGE_FRAMES = (Opcode.TEXT, Opcode.BINARY, Opcode.CONT)
_NOTHING = memoryview(b"")
# The first four bytes of an HTTP request: a method (and, for GET, its space).
_HTTP_STARTS = (b"GET ", b"HEAD", b"POST", b"PUT ", b"DELE", b"OPTI", b"PATC", b"CONN", b"TRAC")
#: On the shared port a socket over a connection limit may wait this long for its first bytes,
#: to be refused in its own protocol (clients send them at once); then it is closed without a word.
REFUSAL_WAIT = 1.0
#: What an HTTP client over a connection limit is told before it is closed.
_FULL_TEXT = b"the server is full; try again later\n"
_HTTP_FULL = (
    b"HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain; charset=utf-8\r\n"
    b"Retry-After: 10\r\nConnection: close\r\nContent-Length: %d\r\n\r\n%s" % (len(_FULL_TEXT), _FULL_TEXT)
)


# -- static files ---------------------------------------------------------------------------------
def load_static_files(package: str = "netplay", folder: str = "web") -> dict[str, StaticFile]:
    """Every file of the package's web folder and its subfolders (``boards/``), by URL path ("/"
    is index.html). Read once, at start.

    Only the names found here are ever served, so no request path can reach outside the folder.
    """
    files: dict[str, StaticFile] = {}
    root = resources.files(package).joinpath(folder)
    if not root.is_dir():
        return files
    folders = [("/", root)]
    while folders:
        prefix, where = folders.pop()
        for entry in where.iterdir():
            name = entry.name
            suffix = name[name.rfind(".") :] if "." in name else ""
            if name.startswith(".") or name == "__pycache__":
                continue
            if entry.is_dir():
                folders.append((f"{prefix}{name}/", entry))
            elif entry.is_file() and suffix in _CONTENT_TYPES:
                files[prefix + name] = _static_file(entry.read_bytes(), _CONTENT_TYPES[suffix])
    if "/index.html" in files:
        files["/"] = files["/index.html"]
    return files


def _static_file(body: bytes, content_type: str) -> StaticFile:
    return StaticFile(body, content_type, '"' + hashlib.sha256(body).hexdigest()[:20] + '"')


def game_board_path(name: str) -> str:
    """The URL path at which a game's own board module is served (``Game.web_board``)."""
    return f"/games/{quote(name, safe='')}/board.js"


def load_game_board(game: Game | RealtimeGame) -> StaticFile | None:
    """The JavaScript board module ``game`` ships, read from the folder of its class's module.

    None for a game the page draws itself (``web_board`` None or "builtin"). Raises ValueError,
    in words for the game's author, when the file is not a ``.js`` or ``.mjs`` file inside that
    folder (no "..", no absolute path, no link out of it) or cannot be read.
    """
    name = game.web_board
    if name is None or name == "builtin":
        return None
    cls = type(game)
    where = f"{cls.__module__}.{cls.__qualname__}.web_board"
    if not isinstance(name, str) or not name.endswith((".js", ".mjs")):
        raise ValueError(f'{where} must be "builtin", None or the name of a .js file, not {name!r}')
    parts = PurePosixPath(name).parts
    if PurePosixPath(name).is_absolute() or PureWindowsPath(name).drive or "\\" in name or ".." in parts:
        raise ValueError(f"{where} {name!r} must be a file in the folder of {cls.__module__}")
    try:
        folder = Path(inspect.getfile(cls)).resolve().parent
    except (TypeError, OSError):
        raise ValueError(f"{where}: cannot tell which folder {cls.__qualname__} comes from") from None
    path = (folder / name).resolve()
    if not path.is_relative_to(folder):
        raise ValueError(f"{where} {name!r} leads out of {folder}")
    try:
        body = path.read_bytes()
    except OSError as exc:
        raise ValueError(f"{where}: cannot read {path}: {exc.strerror or exc}") from None
    return _static_file(body, _CONTENT_TYPES[".js"])


def load_game_boards(games: Iterable[Game | RealtimeGame]) -> dict[str, StaticFile]:
    """The board module of every game that ships one, by URL path. Read once, at start."""
    boards: dict[str, StaticFile] = {}
    for game in games:
        board = load_game_board(game)
        if board is not None:
            boards[unquote(game_board_path(game.name))] = board  # requests are looked up unquoted
    return boards


def _header(request: Request, name: str) -> str | None:
    """A request header given exactly once, else None (repeating one must not raise)."""
    values = request.headers.get_all(name)
    return values[0] if len(values) == 1 else None


# -- what the web connections of one server share --------------------------------------------------
class Routes(Protocol):
    """HTTP routes of their own, for ``WebSite.respond``: sans-I/O, a request in, a response out."""

    def handles(self, path: str) -> bool:
        """Whether ``path`` (decoded, without its query) is one of these routes."""

    def respond(self, request: HttpRequest) -> HttpResponse:
        """The answer to a request for one of these routes."""


class WebSite:
    """The hub, the static files and the rules every web connection of one server uses."""

    def __init__(
        self,
        hub: Hub,
        coalescer: WriteCoalescer | None = None,
        files: dict[str, StaticFile] | None = None,
        gate: ConnectionGate | None = None,
        *,
        routes: Routes | None = None,
        websocket: bool = True,
    ) -> None:
        self.hub = hub
        #: Whether ``GET /ws`` opens a WebSocket here (not on the metrics port: plain HTTP only).
        self.upgrade_path = WS_PATH if websocket else None
        #: The server's connection slots (None: not counted here, as for a bare hub in tests).
        self.gate = gate
        #: Routes answered before the static files (the operator's), or None.
        self.routes = routes
        self.config = hub.config
        self.loop = hub.loop
        self.files = load_static_files() if files is None else files
        origins = self.config.web_origins
        self.origins: tuple[str, ...] | None = None if origins is None else tuple(origins)
        #: Connections not (yet) sessions of the hub: sniffing, or speaking plain HTTP.
        self.pending: set[asyncio.BaseProtocol] = set()
        #: Writes queued during one loop turn go out together, as on TCP (shared with it).
        self.coalescer = coalescer or WriteCoalescer(self.loop)

    def respond(self, request: HttpRequest) -> HttpResponse:
        """The answer to a plain HTTP request: a plain function of it (no I/O, no state).

        Every route is here: ``routes`` for the paths it ``handles``, then the static files and
        the games' boards (``GET /ws`` never comes here: the library answers it). A request's body
        (at most ``http.MAX_BODY``) is in ``request.body`` for the routes that take one.
        """
        routes = self.routes
        if routes is not None and routes.handles(request.path):
            return routes.respond(request)
        return serve_files(self.files, request)

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
class _ServerProtocol(ServerProtocol):
    """The library's server protocol, except that it leaves pings to the connection to answer.

    The library answers every ping at once with a pong, whatever the rate and however much output
    is waiting unread; the connection answers them itself, within the message rate limit.
    """

    def recv_frame(self, frame: Frame) -> None:
        if frame.opcode is Opcode.PING:
            self.events.append(frame)  # everything the library does with a ping, but the pong
            return
        super().recv_frame(frame)


class WebConnection(asyncio.Protocol):
    """An HTTP/1.1 connection (``transports.http`` does the HTTP), or (after ``GET /ws``) a WebSocket
    session's ``Link``."""

    __slots__ = (
        "_allowance",
        "_backed_up",
        "_closing",
        "_fatal",
        "_fragments",
        "_held",
        "_http",
        "_out",
        "_pacer",
        "_queued",
        "_reply_limit",
        "_site",
        "_stalled",
        "_timer",
        "_unparsed",
        "_unsent",
        "conn",
        "peer",
        "session",
        "transport",
        "ws",
    )
    #: The transport's name (``Link.kind``: the server's counters are kept by it).
    kind = "websocket"

    def __init__(self, site: WebSite, started: float | None = None) -> None:
        self._site = site
        self._out: list[bytes] = []
        self._fragments: list[bytes | bytearray | memoryview] | None = None
        self._closing = False
        self._fatal: bytes | None = None  # the last fatal error sent, for the close frame
        self._unparsed = _NOTHING  # the rest of a big read, parsed a slice per loop turn
        config = site.config
        # The byte rate, as on TCP: the allowance left (inline), and the pacer.
        self._allowance = ByteBudget.initial(config.byte_rate, config.byte_burst)
        self._pacer: ReadPacer | None = None  # made when the first allowance runs out
        #: The HTTP side, until the connection is handed to the WebSocket library (then None).
        self._http: HttpServerConnection | None = HttpServerConnection(site.upgrade_path)
        self.ws = _ServerProtocol(max_size=config.max_frame, logger=_library_log)
        self.conn = ServerConnection(config.max_frame)
        # Read backpressure, as on TCP: bytes of messages queued this turn, whether the transport's
        # buffer is over the limit (pause_writing), and the input that waits meanwhile: WebSocket
        # events parsed but not handled (``_held``), or HTTP requests h11 has buffered.
        self._queued = 0
        self._reply_limit = min(config.max_send_buffer // 2, _REPLY_BUDGET)
        self._backed_up = False
        self._stalled = False
        self._held: list[Event] = []
        self.peer = "?"
        self.transport: asyncio.Transport | None = None
        self.session: Session | None = None
        # Until it is a WebSocket, an HTTP client has the handshake timeout for each request; the
        # unsent output when the timer was armed tells a client still reading an answer.
        self._unsent = 0
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
        gate = self._site.gate
        if gate is not None and not gate.admit(self.transport):  # on a web port of its own
            self._closing = True
            self._cancel_timer()
            self.transport.write(_HTTP_FULL)
            self.transport.close()
            return
        self._site.pending.add(self)
        # pause_writing past the reply limit, resume_writing once the client has read half of it.
        # (A transport without limits of its own, as the tests' in-memory one, has only _queued.)
        with contextlib.suppress(NotImplementedError):
            self.transport.set_write_buffer_limits(high=self._reply_limit, low=self._reply_limit // 2)

    def data_received(self, data: bytes) -> None:
        self._allowance -= len(data)
        if self._allowance < 0:  # past the byte rate: this read is parsed, the next ones wait
            self._overdrawn()
        if self._closing and self._http is not None:
            return  # after the last HTTP answer: read and dropped
        if self._unparsed or self._stalled:  # a big read is still being parsed, or input waits
            self._unparsed = memoryview(bytes(self._unparsed) + data)  # (reading is paused: hardly ever)
        elif len(data) <= _PARSE_SLICE:
            self._receive(data)  # the usual case: a read of a few messages
        else:
            self._unparsed = memoryview(data)
            self._parse_a_slice()

    def _parse_a_slice(self) -> None:
        """Parse the next slice of a big read; not reading meanwhile, continue on the next loop turn.

        Other clients' reads run between two slices, and a client cut off in the middle of a read
        (for its rate, or for not reading) costs no more parsing.
        """
        transport = self.transport
        if transport is None or transport.is_closing():
            self._unparsed = _NOTHING
            return
        if self._stalled:
            return  # resume_writing goes on with it
        view = self._unparsed
        if not view:  # nothing left (the end of the stream took it): b"" would mean that end
            if not self._paused():
                transport.resume_reading()
            return
        self._unparsed = view[_PARSE_SLICE:]
        self._receive(bytes(view[:_PARSE_SLICE]))
        if transport.is_closing():
            self._unparsed = _NOTHING
        elif self._stalled:
            pass  # not reading, until the client has read
        elif self._unparsed:
            if transport.is_reading():
                transport.pause_reading()
            self._site.loop.call_soon(self._parse_a_slice)
        elif not self._paused() and not transport.is_reading():
            transport.resume_reading()

    def _overdrawn(self) -> None:
        """The read allowance ran out: the next one, or a pause (``pacing.ReadPacer``)."""
        pacer = self._pacer
        if pacer is None:
            config = self._site.config
            pacer = self._pacer = ReadPacer(
                self._site.loop, config.byte_rate, config.byte_burst, self._unpace
            )
        self._allowance = pacer.overdrawn(self._allowance, self.transport)

    def _paused(self) -> bool:
        return self._pacer is not None and self._pacer.paused

    def _unpace(self) -> None:
        """The pause for the byte rate is over: read again (unless a big read is still parsed)."""
        transport = self.transport
        if transport is None or transport.is_closing():
            return
        self._overdrawn()
        if not self._paused() and not self._unparsed and not self._stalled:
            transport.resume_reading()

    def _receive(self, data: bytes) -> None:
        http = self._http
        if http is not None:
            http.receive_data(data)
            self._serve()
            return
        ws = self.ws
        ws.receive_data(data)
        events = ws.events_received()
        if self._held:  # still waiting for the client to read: these wait behind the others
            self._held += events
        elif events:
            self._handle(events, 0)
        self._write_protocol_output()

    def _handle(self, events: list[Event], start: int) -> None:
        """Act on ``events[start:]`` in order; hold the rest from the first message on that comes
        while the output is backed up (pings and close frames are the library's and ours)."""
        limit = self._reply_limit
        for n in range(start, len(events)):
            event = events[n]
            if isinstance(event, Frame):
                if self._closing:
                    continue
                if (self._backed_up or self._queued > limit) and event.opcode in _MESSAGE_FRAMES:
                    self._held = events[n:]  # its replies are not read: make no more
                    self._stall()
                    return
                self._on_frame(event)
            elif isinstance(event, Request):
                self._on_request(event)

    def _stall(self) -> None:
        """Input waits until the client has read (``resume_writing``): stop reading meanwhile."""
        self._stalled = True
        if self.transport is not None:
            self.transport.pause_reading()

    def pause_writing(self) -> None:
        """The transport's buffer passed the reply limit (``set_write_buffer_limits``)."""
        self._backed_up = True

    def resume_writing(self) -> None:
        """The client has read: go on with the input that waited."""
        self._backed_up = False
        self._resume_input()

    def _resume_input(self) -> None:
        if not self._stalled:
            return
        self._stalled = False
        transport = self.transport
        if transport is None or transport.is_closing():
            self._held = []
            return
        if self._http is not None:
            if not self._closing:
                self._serve()
        else:
            held, self._held = self._held, []
            self._handle(held, 0)
            self._write_protocol_output()
        if self._stalled or transport.is_closing():
            return
        if self._unparsed:
            self._site.loop.call_soon(self._parse_a_slice)
        elif not self._paused():
            transport.resume_reading()

    def eof_received(self) -> bool:
        if self._closing and self._http is not None:
            return False  # the client closes after our last answer: close too
        if self._unparsed:  # the end of the stream comes after the rest of the read
            rest, self._unparsed = bytes(self._unparsed), _NOTHING
            self._receive(rest)
        http = self._http
        if http is not None:  # requests complete before the end are answered (what waits is not)
            http.receive_data(b"")
            self._serve()
            return False
        self.ws.receive_eof()
        self._write_protocol_output()
        return False  # close our side too

    def connection_lost(self, exc: Exception | None) -> None:
        self._closing = True
        self._unparsed = _NOTHING
        self._held = []
        self._out.clear()
        self._cancel_timer()
        if self._pacer is not None:
            self._pacer.cancel()
        self.conn.close()
        self._site.pending.discard(self)
        if self._site.gate is not None and self.transport is not None:
            self._site.gate.release(self.transport)
        if self.session is not None:
            self._site.hub.disconnect(self.session, self)

    # -- HTTP ----------------------------------------------------------------------------------
    def _serve(self) -> None:
        """Answer the requests h11 has complete, in order, while the client reads the answers."""
        http = self._http
        transport = self.transport
        if http is None or transport is None or self._closing:
            return
        respond = self._site.respond
        answered = False
        while True:
            if self._backed_up:  # the answers so far are not read: the next requests wait
                self._stall()
                break
            event = http.next_event()
            if event is None:
                break
            if isinstance(event, Upgrade):
                self._upgrade(event.raw)
                return
            http.answer(event, respond(event))
            self._site.hub.stats.http_requests += 1
            transport.write(http.data_to_send())
            answered = True
        out = http.data_to_send()  # an error's answer, or a 100 Continue
        if out:
            transport.write(out)
        if http.done:
            self._finish(http)
        elif answered:
            self._arm_timer()  # the next request has the whole timeout, from now

    def _upgrade(self, raw: bytes) -> None:
        """``GET /ws``: the library parses that request again, from its first byte, and the rest."""
        self._http = None
        self._receive(raw)

    def _finish(self, http: HttpServerConnection) -> None:
        """After the last answer: close. If the client may still be sending (a body refused, bytes
        after the last request), close only our side, and drop what it sends until it closes too:
        closing with its bytes unread would reset the connection, and the client could lose the
        answer. A client that never closes is dropped after the handshake timeout."""
        self._closing = True
        self._stalled = False
        transport = self.transport
        if transport is None:
            return
        self._arm_timer()
        if http.client_done and not self._unparsed:
            transport.close()
        elif transport.can_write_eof():
            transport.write_eof()
            if not self._paused():
                transport.resume_reading()
        else:  # TLS: no half-close
            transport.close()
        self._unparsed = _NOTHING

    def _on_request(self, request: Request) -> None:
        """The library parsed a ``GET /ws``: the handshake."""
        site = self._site
        if site.hub.closing:
            self.ws.send_response(self.ws.reject(HTTPStatus.SERVICE_UNAVAILABLE, "shutting down\n"))
            return
        self.ws.origins = cast("list[Origin | None] | None", site.allowed_origins(request))
        response = self.ws.accept(request)
        self.ws.send_response(response)
        if response.status_code != 101:
            log.info(
                "refused a WebSocket from %s: %s", self.peer, response.body.decode(errors="replace"),
                extra={"event": "refused", "peer": self.peer, "transport": "websocket",
                       "reason": "websocket_refused"},
            )  # fmt: skip
            return
        self._cancel_timer()
        site.pending.discard(self)
        self.session = site.hub.connect(self)

    def _arm_timer(self) -> None:
        self._cancel_timer()
        if self.transport is not None:
            self._unsent = self.transport.get_write_buffer_size()
        self._timer = self._site.loop.call_later(self._site.config.handshake_timeout, self._too_slow)

    def _too_slow(self) -> None:
        """The handshake timeout since the connection or the last answer: close, unless the client
        is still reading an answer (then it gets as long again)."""
        self._timer = None
        transport = self.transport
        if self.session is not None or transport is None:
            return
        unsent = transport.get_write_buffer_size()
        if 0 < unsent < self._unsent:
            self._arm_timer()
            return
        http = self._http
        if self._closing:
            transport.abort()  # the last answer is out (or never read): the client did not close
        elif http is not None and http.idle and not unsent:
            log.debug(
                "closing %s: an idle HTTP connection",
                self.peer,
                extra={"event": "http_idle", "peer": self.peer},
            )
            transport.close()
        else:
            if unsent:
                log.info(
                    "closing %s: it does not read its HTTP answers", self.peer,
                    extra={"event": "refused", "peer": self.peer, "reason": "http_too_slow"},
                )  # fmt: skip
            else:
                log.info(
                    "closing %s: no complete HTTP request in time", self.peer,
                    extra={"event": "refused", "peer": self.peer, "reason": "http_too_slow"},
                )  # fmt: skip
            transport.abort()

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
        elif opcode is Opcode.PING:
            self._on_ping(frame.data)
            return
        else:
            return  # pong and close: the library does what they need
        session = self.session
        if session is not None:
            event = self.conn.receive_payload(payload)
            hub = self._site.hub
            counts = hub.stats.websocket
            counts.messages_in += 1
            counts.bytes_in += len(payload)
            hub.heard_from(session)
            hub.receive(session, event)

    def _on_ping(self, data: bytes | bytearray | memoryview) -> None:
        """Answer a ping frame with a pong if the rate limit allows it: a ping counts as a message.

        The same token bucket as the hub's (``Hub._within_rate``), on the session's own allowance,
        so pings and messages share one rate: past it a ping is refused (no pong; the client is
        warned once), and a client that goes on until it is ``rate_burst`` over is cut off with a
        fatal ``rate_limited``.
        """
        session = self.session
        if session is None:
            return
        config = self._site.config
        rate, burst = config.rate_limit, config.rate_burst
        if rate:
            now = self._site.loop.time()
            allowance = session.allowance + (now - session.rate_checked) * rate
            session.rate_checked = now
            if allowance < 1.0:
                session.allowance = allowance - 1.0
                if session.allowance <= -burst:
                    log.info(
                        "disconnecting %s: it kept sending pings past the rate limit", self.peer,
                        extra={"event": "refused", "player": session.id, "peer": self.peer,
                               "transport": "websocket", "reason": "rate_limited", "code": "rate_limited"},
                    )  # fmt: skip
                    session.ending = "rate_limited"
                    self.close(
                        ProtocolError(ErrorCode.RATE_LIMITED, "too many messages: disconnected", fatal=True)
                    )
                elif not session.rate_warned:
                    session.rate_warned = True
                    message = f"more than {rate:g} messages per second: slow down"
                    session.send(ProtocolError(ErrorCode.RATE_LIMITED, message).to_message())
                return
            session.allowance = (allowance if allowance < burst else burst) - 1.0
            session.rate_warned = False
        self.ws.send_pong(data)

    def _write_protocol_output(self) -> None:
        """Send what the library queued (handshake replies, pongs, close frames); close on EOF.

        Once the connection is a WebSocket, this output counts against ``max_send_buffer`` as
        messages do: a client that sends pings (or anything the library answers) and never reads
        is cut off, not buffered for.
        """
        transport = self.transport
        if transport is None:
            return
        writes = self.ws.data_to_send()
        end = bool(writes) and not writes[-1]  # the library ends the stream with an empty write
        data = b"".join(writes)
        if data:
            if self.ws.state is State.CONNECTING:
                transport.write(data)  # the handshake's refusal (an accepting one makes it OPEN)
            elif not write_bounded(transport, data, self._site.config.max_send_buffer):
                self._not_reading()
                return
        if end:
            self._closing = True
            self._cancel_timer()
            transport.close()

    def _not_reading(self) -> None:
        """Output (messages, pongs) past ``max_send_buffer``: the client is cut off, and says why."""
        session = self.session
        log.info(
            "disconnecting %s: it is not reading (send buffer full)", self.peer,
            extra={"event": "refused", "peer": self.peer, "transport": "websocket",
                   "reason": "send_buffer_full", "player": session.id if session is not None else None},
        )  # fmt: skip
        if session is not None:
            session.ending = "send_buffer_full"
        self.abort()

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
        self._queued += len(payload)
        if payload.startswith(b'{"type":"error"') and b'"fatal":true' in payload:
            self._fatal = payload  # the hub sends a fatal error, then closes: the close code says why

    def send_run(self, run: OutgoingRun) -> None:
        if self._closing:
            return
        payloads = run.payloads or run.encode()
        queued = self._out
        if not queued:
            self._site.coalescer.mark(self)
        queued.extend(payloads)  # (relays: never a fatal error among them)
        self._queued += sum(map(len, payloads))

    def flush(self) -> None:
        out = self._out
        transport = self.transport
        if not out:
            return
        self._out = []
        self._queued = 0
        if transport is None or transport.is_closing() or self.ws.state is not State.OPEN:
            return
        send_text = self.ws.send_text
        for payload in out:
            send_text(payload)  # already UTF-8 JSON: sent as it is
        data = b"".join(self.ws.data_to_send())
        counts = self._site.hub.stats.websocket
        counts.messages_out += len(out)
        counts.bytes_out += len(data)
        if not write_bounded(transport, data, self._site.config.max_send_buffer):
            self._not_reading()
        elif self._stalled and not self._backed_up:
            # The transport took it without passing its limit, so it will not call resume_writing:
            # go on with the held messages next turn (a few replies' worth a turn, between others).
            self._site.loop.call_soon(self._resume_input)

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
            if reason == ErrorCode.RATE_LIMITED:
                # Cut off for flooding: not read any more (as on TCP), so no wait for its close frame.
                transport.close()
                return
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

    def backlog(self) -> int:
        transport = self.transport
        return self._queued + (0 if transport is None else transport.get_write_buffer_size())

    def abort(self) -> None:
        self._closing = True
        self._out.clear()
        self._held = []
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

    It also takes the connection's slot (``WebSite.gate``). A connection over a limit is closed
    without being handed on: at once, or, while few are waiting so (``gate.may_explain``), on its
    first bytes, so that a netplay client is told ``server_full`` and a browser 503; one that says
    nothing within ``REFUSAL_WAIT`` is closed without a word.
    """

    __slots__ = ("_buffer", "_make_tcp", "_refused", "_site", "_started", "_timer", "transport")

    def __init__(self, site: WebSite, make_tcp: Callable[[], asyncio.Protocol]) -> None:
        self._site = site
        self._make_tcp = make_tcp
        self._buffer = b""
        self._started = site.loop.time()
        self._timer: asyncio.TimerHandle | None = None
        self._refused = False
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)
        site = self._site
        if site.hub.closing:
            self.transport.abort()
            return
        gate = site.gate
        if gate is not None and not gate.admit(self.transport):
            self._refused = True
            if gate.may_explain(self.transport):
                site.pending.add(self)
                wait = min(REFUSAL_WAIT, site.config.handshake_timeout)
                self._timer = site.loop.call_later(wait, self._silent)
            else:
                self.transport.close()
            return
        site.pending.add(self)
        self._timer = site.loop.call_later(site.config.handshake_timeout, self._silent)

    def data_received(self, data: bytes) -> None:
        if self._refused:
            self._refuse(SERVER_FULL if data[:1] == b"\x00" else _HTTP_FULL)
            return
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
        if self._buffer and not self._refused:
            self._hand_over(self._make_tcp(), self._buffer)
        return False

    def connection_lost(self, exc: Exception | None) -> None:
        self._stop()
        gate = self._site.gate
        if gate is not None and self.transport is not None:
            gate.release(self.transport)  # closed before a hand-over (after one, the new protocol is told)

    def _silent(self) -> None:
        self._timer = None
        if self._refused:
            self._refuse(b"")
        else:
            self._hand_over(self._make_tcp(), b"")

    def _refuse(self, answer: bytes) -> None:
        """Close a connection that got no slot, with ``answer`` in the protocol its first bytes speak."""
        self._stop()
        transport = self.transport
        if transport is None or transport.is_closing():
            return
        if self._site.gate is not None:
            self._site.gate.explained(transport)
        if answer:
            transport.write(answer)
        transport.close()

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
