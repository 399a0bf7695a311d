"""HTTP/1.1 for the web side, without I/O: bytes in, requests out; answers in, bytes out.

``HttpServerConnection`` wraps an ``h11.Connection`` (the parser and the state machine) with the
rules of netplay's web side; ``WebConnection`` (``transports.websocket``) is its asyncio shell.
``serve_files`` is the answer to a request for a static file: a plain function of the request.

How a connection goes, one request at a time (h11's cycle)::

    bytes ──receive_data──▶ h11 ──next_event──▶ HttpRequest ──(caller: respond)──▶ answer ──▶ bytes
                                           ├──▶ Upgrade(raw)  GET of the upgrade path: the raw bytes
                                           │                  of that request and all after it
                                           └──▶ None          incomplete; or ``done``

- A request is returned once it is complete, its body read (at most ``max_body`` bytes; a larger
  one, declared or sent, is answered 413 at once). ``answer`` sends the response (no body for HEAD,
  204 or 304, as HTTP says) and starts the next cycle: requests pipelined behind it come out of
  ``next_event`` next, in order, from what h11 has buffered.
- ``done``: no more requests on this connection, close it once its output is sent: the client
  said ``Connection: close`` (or spoke HTTP/1.0), a request was refused for its size, the client
  broke the protocol (h11's ``RemoteProtocolError``, answered with the status it suggests: 400, or
  431 for a head still incomplete past 16 KiB), or the connection ended.
- ``Upgrade``: a ``GET`` of ``upgrade_path`` is not read here at all. The exact bytes of that
  request and whatever came after it on the connection are handed on (to the ``websockets``
  library, which does the handshake and the framing); the connection is then ``done`` here.

Nothing here raises on any input from the peer.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from http import HTTPStatus
from urllib.parse import unquote

import h11

__all__ = [
    "MAX_BODY",
    "HttpRequest",
    "HttpResponse",
    "HttpServerConnection",
    "StaticFile",
    "Upgrade",
    "serve_files",
    "text_response",
]

#: The largest request body read (and, for now, discarded: no route takes one yet); a request
#: with a larger one is answered 413 and the connection is closed.
MAX_BODY = 64 * 1024
#: The methods a static file is served to.
ALLOWED = "GET, HEAD"
# Statuses whose answer never has a body, whatever its headers say.
_NO_BODY = frozenset({204, 304})


@dataclass(frozen=True, slots=True)
class HttpRequest:
    """One complete request. Header names are lower-case; values as sent (latin-1)."""

    method: str
    target: str
    headers: tuple[tuple[str, str], ...] = ()
    body: bytes = b""
    http_version: str = "1.1"

    @property
    def path(self) -> str:
        """The target's path: no query, no fragment, percent-decoded."""
        return unquote(self.target.partition("?")[0].partition("#")[0])

    def header(self, name: str) -> str | None:
        """A header given exactly once, else None (a repeated one is as good as none)."""
        name = name.lower()
        values = [value for key, value in self.headers if key == name]
        return values[0] if len(values) == 1 else None


@dataclass(frozen=True, slots=True)
class HttpResponse:
    """An answer: status, headers (``Content-Length`` added if missing) and body."""

    status: int
    headers: tuple[tuple[str, str], ...] = ()
    body: bytes = b""

    def header(self, name: str) -> str | None:
        name = name.lower()
        return next((value for key, value in self.headers if key.lower() == name), None)


@dataclass(frozen=True, slots=True)
class Upgrade:
    """A ``GET`` of the upgrade path: the raw bytes of that request and everything after it."""

    request: HttpRequest
    raw: bytes = field(repr=False)


def text_response(status: int, text: str, *headers: tuple[str, str]) -> HttpResponse:
    """A plain-text answer (never sniffed as anything else: it may quote the request)."""
    plain = (("Content-Type", "text/plain; charset=utf-8"), ("X-Content-Type-Options", "nosniff"))
    return HttpResponse(status, (*plain, *headers), text.encode())


# -- static files ---------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class StaticFile:
    body: bytes
    content_type: str
    etag: str


def serve_files(files: Mapping[str, StaticFile], request: HttpRequest) -> HttpResponse:
    """The answer to a request for one of ``files`` (by URL path; only those names are served)."""
    if request.method not in ("GET", "HEAD"):
        return text_response(HTTPStatus.METHOD_NOT_ALLOWED, "only GET and HEAD\n", ("Allow", ALLOWED))
    path = request.path
    found = files.get(path)
    if found is None:
        return text_response(HTTPStatus.NOT_FOUND, f"no such page: {path[:200]}\n")
    headers = (
        ("Content-Type", found.content_type),
        ("Cache-Control", "no-cache"),  # revalidate: the ETag makes that a cheap 304
        ("ETag", found.etag),
        ("X-Content-Type-Options", "nosniff"),
        # Pages served elsewhere may import netplay.js from this server.
        ("Access-Control-Allow-Origin", "*"),
    )
    if request.header("If-None-Match") == found.etag:
        return HttpResponse(HTTPStatus.NOT_MODIFIED, headers)
    body = b"" if request.method == "HEAD" else found.body
    return HttpResponse(HTTPStatus.OK, (*headers, ("Content-Length", str(len(found.body)))), body)


# -- one connection -------------------------------------------------------------------------------
class HttpServerConnection:
    """The server side of one HTTP/1.1 connection, I/O-free (see the module's docstring)."""

    __slots__ = ("_body", "_h11", "_head", "_out", "_raw", "_size", "done", "max_body", "upgrade_path")

    def __init__(self, upgrade_path: str | None = None, max_body: int = MAX_BODY) -> None:
        self._h11 = h11.Connection(h11.SERVER)
        self.upgrade_path = upgrade_path
        self.max_body = max_body
        #: Every byte since the current request began (what an upgrade hands on). Empty: idle.
        self._raw = bytearray()
        self._head: h11.Request | None = None  # the request whose body is being read
        self._body: list[bytes] = []
        self._size = 0
        self._out: list[bytes] = []
        #: No more requests: close the connection once ``data_to_send`` is sent.
        self.done = False

    @property
    def idle(self) -> bool:
        """Between requests, nothing of the next one received."""
        return not self._raw and not self.done

    @property
    def client_done(self) -> bool:
        """The client has sent nothing this connection did not read: its last request whole, and
        nothing after it (else, closing at once could reset the connection and lose the answer)."""
        conn = self._h11
        return conn.their_state in (h11.DONE, h11.MUST_CLOSE, h11.CLOSED) and not conn.trailing_data[0]

    def receive_data(self, data: bytes) -> None:
        """Bytes from the client; ``b""`` when it has closed its side."""
        if self.done:
            return  # after the last answer, anything more is dropped unread
        self._raw += data
        self._h11.receive_data(data)

    def next_event(self) -> HttpRequest | Upgrade | None:
        """The next complete request to answer (with ``answer``), or the upgrade; None while the
        next one is incomplete, while the last one is unanswered, or once ``done``."""
        conn = self._h11
        while not self.done:
            try:
                event = conn.next_event()
            except h11.RemoteProtocolError as exc:
                self._refuse(exc.error_status_hint, f"bad request: {str(exc)[:200]}\n")
                return None
            if event is h11.NEED_DATA or event is h11.PAUSED:
                return None
            if isinstance(event, h11.Request):
                found = self._begin(event)
                if found is not None:
                    return found
            elif isinstance(event, h11.Data):
                self._size += len(event.data)
                if self._size > self.max_body:
                    self._too_large()
                    return None
                self._body.append(bytes(event.data))
            elif isinstance(event, h11.EndOfMessage):
                head, self._head = self._head, None
                body, self._body, self._size = b"".join(self._body), [], 0
                if head is not None:
                    return _request(head, body)
            elif isinstance(event, h11.ConnectionClosed):
                self.done = True
        return None

    def _begin(self, head: h11.Request) -> HttpRequest | Upgrade | None:
        if head.method == b"GET" and self.upgrade_path is not None:
            if head.target.partition(b"?")[0] == self.upgrade_path.encode():
                self.done = True
                raw, self._raw = bytes(self._raw), bytearray()
                return Upgrade(_request(head, b""), raw)
        length = next((value for name, value in head.headers if name == b"content-length"), b"0")
        if int(length) > self.max_body:  # h11 has checked that it is a number
            self._too_large()
            return None
        if self._h11.they_are_waiting_for_100_continue:
            self._out.append(self._h11.send(h11.InformationalResponse(status_code=100, headers=[])) or b"")
        self._head = head
        return None

    def answer(self, request: HttpRequest, response: HttpResponse) -> None:
        """Send ``response`` to ``request`` (the one ``next_event`` returned last), and go on."""
        body = response.body
        if request.method == "HEAD" or response.status in _NO_BODY:
            body = b""
        self._send(response, body)
        conn = self._h11
        if conn.our_state is h11.DONE and conn.their_state is h11.DONE:
            conn.start_next_cycle()
            self._raw = bytearray(conn.trailing_data[0])
        else:  # MUST_CLOSE: Connection: close, or HTTP/1.0
            self.done = True

    def data_to_send(self) -> bytes:
        out, self._out = self._out, []
        return b"".join(out)

    def _too_large(self) -> None:
        text = f"a request body is at most {self.max_body} bytes\n"
        self._refuse(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, text)

    def _refuse(self, status: int, text: str) -> None:
        """Answer with an error and end the connection (whatever of the request is still coming)."""
        self.done = True
        self._head = None
        self._body = []
        if self._h11.our_state in (h11.IDLE, h11.SEND_RESPONSE):
            self._send(text_response(status, text, ("Connection", "close")), text.encode())

    def _send(self, response: HttpResponse, body: bytes) -> None:
        conn = self._h11
        headers = list(response.headers)
        if response.header("Content-Length") is None:
            headers.append(("Content-Length", str(len(response.body))))
        try:
            phrase = HTTPStatus(response.status).phrase
        except ValueError:
            phrase = ""
        out = self._out
        head = h11.Response(status_code=response.status, headers=headers, reason=phrase)
        out.append(conn.send(head) or b"")
        if body:
            out.append(conn.send(h11.Data(data=body)) or b"")
        out.append(conn.send(h11.EndOfMessage()) or b"")


def _request(head: h11.Request, body: bytes) -> HttpRequest:
    return HttpRequest(
        head.method.decode("ascii", "replace"),
        head.target.decode("ascii", "replace"),
        tuple((name.decode("latin-1"), value.decode("latin-1")) for name, value in head.headers),
        body,
        head.http_version.decode("ascii", "replace"),
    )
