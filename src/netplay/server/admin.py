"""The operator's side of the web port: ``/metrics``, ``/healthz``, ``/readyz``, ``/admin``.

A plain function of an HTTP request (``Operator.respond``), like the static files: the web
transport hands requests here and writes the answers. The admin API is JSON under ``/admin/api/``,
and ``/admin`` is the page that drives it (``netplay/web/admin/``); ``netplay admin`` speaks the
same API from a terminal. docs/operations.md lists every route.

Admin requests carry the token as ``Authorization: Bearer TOKEN``. Without ``--admin-token`` there is
no admin at all (404). The token is compared in constant time (its SHA-256 against the configured
one's); a missing or wrong one is answered 401 and counted (``netplay_admin_refused_total``). The
page keeps the token in the tab (sessionStorage), never in a cookie, so a page of another site can
make the browser send nothing that authenticates it; and a request whose ``Origin`` is not this
server's own is refused (403), as is a POST that is not ``application/json`` (which a form cannot
send without a CORS preflight, which this server never grants).
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import logging
import time
from collections import deque
from collections.abc import Callable, Mapping
from http import HTTPStatus
from typing import TYPE_CHECKING, Any

import orjson

from ..protocol.messages import MAX_STRING
from ..transports.http import HttpRequest, HttpResponse, StaticFile, text_response
from . import operations
from .metrics import Buckets, connections, metrics_registry, render
from .rooms import MatchRoom

if TYPE_CHECKING:
    from prometheus_client import CollectorRegistry

    from .hub import Hub

__all__ = ["ErrorLog", "HealthRoutes", "Operator", "hash_token"]

#: The overview lists at most this many rooms and players (the server figures count them all; a
#: room or a player is found by id beyond it).
OVERVIEW_LIMIT = 200
#: The longest notice an operator may send (it reaches every player's screen).
MAX_NOTICE = 500
_JSON = (("Content-Type", "application/json"), ("Cache-Control", "no-store"))


def hash_token(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


class ErrorLog(logging.Handler):
    """The last warnings and errors of the server's log, for the admin page (``Server`` puts it on
    the ``netplay`` logger)."""

    def __init__(self, size: int = 50) -> None:
        super().__init__(logging.WARNING)
        self.lines: deque[dict[str, Any]] = deque(maxlen=size)

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(
            {
                "time": record.created,
                "level": record.levelname.lower(),
                "logger": record.name,
                "message": record.getMessage()[:2000],
            }
        )


class Operator:
    """Answers the operator's routes for one hub. ``token``: the admin token (None: no admin)."""

    def __init__(
        self,
        hub: Hub,
        *,
        token: str | None,
        errors: ErrorLog | None = None,
        page: Mapping[str, StaticFile] | None = None,
        clock: Callable[[], float] = time.time,
        ready: Callable[[], str | None] = lambda: None,
    ) -> None:
        self.hub = hub
        self._token = None if token is None else hash_token(token)
        self.errors = errors or ErrorLog()
        self.page = page or {}
        self.clock = clock
        #: Why the server cannot take players now (None: it can), besides draining.
        self.ready = ready
        self.started = clock()
        self.registry: CollectorRegistry = metrics_registry(hub)

    def handles(self, path: str) -> bool:
        return path in ("/metrics", "/healthz", "/readyz") or path == "/admin" or path.startswith("/admin/")

    def respond(self, request: HttpRequest) -> HttpResponse:
        path = request.path
        if path == "/healthz":
            return _plain(request, HTTPStatus.OK, "ok\n")
        if path == "/readyz":
            why = "draining" if self.hub.draining else self.ready()
            if why is None:
                return _plain(request, HTTPStatus.OK, "ready\n")
            return _plain(request, HTTPStatus.SERVICE_UNAVAILABLE, f"not ready: {why}\n")
        if path == "/metrics":
            if request.method not in ("GET", "HEAD"):
                return _not_allowed("GET, HEAD")
            body, content_type = render(self.registry, request.header("Accept") or "")
            return HttpResponse(HTTPStatus.OK, (("Content-Type", content_type),), body)
        if self._token is None:
            return text_response(
                HTTPStatus.NOT_FOUND, "no such page: this server has no admin (--admin-token)\n"
            )
        if path in ("/admin", "/admin/") or path in self.page:
            found = self.page.get("/admin/index.html" if path in ("/admin", "/admin/") else path)
            if found is None:
                return text_response(HTTPStatus.NOT_FOUND, f"no such page: {path[:200]}\n")
            return _page(request, found)
        if not path.startswith("/admin/api/"):
            return text_response(HTTPStatus.NOT_FOUND, f"no such page: {path[:200]}\n")
        refusal = self._refuse(request)
        if refusal is not None:
            return refusal
        try:
            return self._api(request, path.removeprefix("/admin/api/").split("/"))
        except _Refused as refused:
            return _json(refused.status, {"error": refused.message})

    # -- who may ask ---------------------------------------------------------------------------
    def _refuse(self, request: HttpRequest) -> HttpResponse | None:
        origin = request.header("Origin")
        host = request.header("Host")
        if origin is not None and (host is None or origin not in (f"http://{host}", f"https://{host}")):
            self.hub.stats.admin_refused += 1
            return _json(HTTPStatus.FORBIDDEN, {"error": "admin requests come from this server's own page"})
        given = request.header("Authorization") or ""
        scheme, _, token = given.partition(" ")
        assert self._token is not None
        if scheme.lower() != "bearer" or not hmac.compare_digest(hash_token(token.strip()), self._token):
            self.hub.stats.admin_refused += 1
            return _json(
                HTTPStatus.UNAUTHORIZED,
                {"error": "a missing or wrong admin token"},
                ("WWW-Authenticate", 'Bearer realm="netplay admin"'),
            )
        if (
            request.method == "POST"
            and (request.header("Content-Type") or "").split(";")[0] != "application/json"
        ):
            return _json(HTTPStatus.UNSUPPORTED_MEDIA_TYPE, {"error": "send the request as application/json"})
        return None

    # -- the API ---------------------------------------------------------------------------------
    def _api(self, request: HttpRequest, parts: list[str]) -> HttpResponse:
        method = request.method
        hub = self.hub
        if parts == ["overview"]:
            _expect(method, "GET")
            return _json(HTTPStatus.OK, self.overview())
        if len(parts) == 2 and parts[0] == "rooms":
            _expect(method, "GET")
            return _json(HTTPStatus.OK, self.room(parts[1]))
        if len(parts) == 3 and parts[0] == "rooms" and parts[2] == "close":
            _expect(method, "POST")
            reason = _text(_body(request), "reason", "closed by the server's operator")
            if not operations.close_room(hub, parts[1], reason):
                raise _Refused(HTTPStatus.NOT_FOUND, f"no room {parts[1][:80]!r}")
            return _json(HTTPStatus.OK, {"closed": parts[1]})
        if len(parts) == 3 and parts[0] == "players" and parts[2] == "kick":
            _expect(method, "POST")
            reason = _text(_body(request), "reason", "removed by the server's operator")
            if not operations.kick(hub, parts[1], reason):
                raise _Refused(HTTPStatus.NOT_FOUND, f"no player {parts[1][:80]!r}")
            return _json(HTTPStatus.OK, {"kicked": parts[1]})
        if parts == ["notice"]:
            _expect(method, "POST")
            body = _body(request)
            text = _text(body, "text", None)
            room = body.get("room")
            if room is not None and not isinstance(room, str):
                raise _Refused(HTTPStatus.BAD_REQUEST, "'room' is a room id")
            sent = operations.notice(hub, text, room)
            if sent is None:
                raise _Refused(HTTPStatus.NOT_FOUND, f"no room {str(room)[:80]!r}")
            return _json(HTTPStatus.OK, {"sent": sent})
        if parts == ["drain"]:
            _expect(method, "POST")
            deadline = _body(request).get("deadline")
            if deadline is not None and (
                isinstance(deadline, bool)
                or not isinstance(deadline, int | float)
                or not 0 < deadline <= 86400
            ):
                raise _Refused(HTTPStatus.BAD_REQUEST, "'deadline' is seconds, above 0 and at most 86400")
            operations.drain(hub, deadline, self.clock())
            return _json(HTTPStatus.OK, {"draining": True, "matches": operations.matches_in_progress(hub)})
        raise _Refused(HTTPStatus.NOT_FOUND, f"no such request: {'/'.join(parts)[:200]}")

    def overview(self) -> dict[str, Any]:
        """What the admin page shows: the server, its rooms and players, the last errors."""
        hub, stats = self.hub, self.hub.stats
        players: list[dict[str, Any]] = []
        connected = 0
        for session in [*hub.sessions.values(), *hub.away.values()]:
            if not session.greeted:
                continue
            connected += session.link is not None
            if len(players) == OVERVIEW_LIMIT:
                continue  # counted, not listed: a poll every 2 s stays small with 20,000 players
            players.append(
                {
                    "id": session.id,
                    "name": session.name,
                    "connected": session.link is not None,
                    "peer": session.link.peer if session.link is not None else None,
                    "rooms": sorted(session.rooms),
                }
            )
        return {
            "server": {
                "uptime": self.clock() - self.started,
                "draining": hub.draining,
                "connections": connections(hub),
                "sessions": {"connected": connected, "away": len(hub.away)},
                "rooms": len(hub.rooms),
                "matches": operations.matches_in_progress(hub),
                "moves": stats.moves_accepted,
                "messages_in": sum(stats.by_transport("messages_in").values()),
                "messages_out": sum(stats.by_transport("messages_out").values()),
                "move_broadcast_p99": _quantile(stats.move_to_broadcast, 0.99),
                "loop_lag_p99": _quantile(stats.loop_lag, 0.99),
            },
            "rooms": [_room_line(room) for room in itertools.islice(hub.rooms.values(), OVERVIEW_LIMIT)],
            "players": players,
            "errors": list(self.errors.lines),
        }

    def room(self, room_id: str) -> dict[str, Any]:
        """One room: its description, members, and its match with the moves so far."""
        room = self.hub.rooms.get(room_id)
        if room is None:
            raise _Refused(HTTPStatus.NOT_FOUND, f"no room {room_id[:80]!r}")
        answer: dict[str, Any] = {"room": _room_line(room)}
        if isinstance(room, MatchRoom) and room.match is not None:
            match = room.match
            answer["match"] = {
                "id": match.id,
                "number": match.number,
                "version": match.version,
                "state": match.state,
                "outcome": None if match.outcome is None else match.outcome.to_json(),
                "moves": room.move_log(),
            }
        return answer


class HealthRoutes:
    """Only ``/metrics``, ``/healthz`` and ``/readyz`` (``--metrics-port``): everything else is 404."""

    def __init__(self, operator: Operator) -> None:
        self.operator = operator

    def handles(self, path: str) -> bool:
        return True

    def respond(self, request: HttpRequest) -> HttpResponse:
        if request.path in ("/metrics", "/healthz", "/readyz"):
            return self.operator.respond(request)
        return text_response(HTTPStatus.NOT_FOUND, "only /metrics, /healthz and /readyz here\n")


class _Refused(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def _room_line(room: Any) -> dict[str, Any]:
    line = dict(room.info())
    line.pop("code", None)  # a private room's code is its key: not even the admin page shows it
    if "players" not in line:  # a relay room has members, not seats: its list, before the count
        line["players"] = line.get("members", [])
    line["members"] = len(list(room.member_ids()))
    return line


def _expect(method: str, allowed: str) -> None:
    if method != allowed:
        raise _Refused(HTTPStatus.METHOD_NOT_ALLOWED, f"use {allowed}")


def _body(request: HttpRequest) -> dict[str, Any]:
    if not request.body:
        return {}
    try:
        body = orjson.loads(request.body)
    except orjson.JSONDecodeError:
        raise _Refused(HTTPStatus.BAD_REQUEST, "the body is not JSON") from None
    if not isinstance(body, dict):
        raise _Refused(HTTPStatus.BAD_REQUEST, "the body is a JSON object")
    return body


def _text(body: dict[str, Any], field: str, default: str | None) -> str:
    value = body.get(field, default)
    limit = MAX_NOTICE if field == "text" else MAX_STRING * 4
    if not isinstance(value, str) or not value.strip():
        raise _Refused(HTTPStatus.BAD_REQUEST, f"'{field}' is a text")
    if len(value) > limit or not value.isprintable():
        raise _Refused(HTTPStatus.BAD_REQUEST, f"'{field}' is at most {limit} printable characters")
    return value.strip()


def _quantile(buckets: Buckets, q: float) -> float | None:
    """The bucket bound under which a ``q`` share of the observations fall (None: none yet)."""
    total = buckets.count
    if not total:
        return None
    running = 0
    for bound, count in zip((*buckets.bounds, None), buckets.counts, strict=True):
        running += count
        if running >= q * total:
            return bound
    return None


def _json(status: int, body: Any, *headers: tuple[str, str]) -> HttpResponse:
    return HttpResponse(status, (*_JSON, *headers), orjson.dumps(body))


def _plain(request: HttpRequest, status: int, text: str) -> HttpResponse:
    if request.method not in ("GET", "HEAD"):
        return _not_allowed("GET, HEAD")
    return text_response(status, text, ("Cache-Control", "no-store"))


def _not_allowed(allow: str) -> HttpResponse:
    return text_response(HTTPStatus.METHOD_NOT_ALLOWED, f"use {allow}\n", ("Allow", allow))


def _page(request: HttpRequest, found: StaticFile) -> HttpResponse:
    if request.method not in ("GET", "HEAD"):
        return _not_allowed("GET, HEAD")
    headers = (
        ("Content-Type", found.content_type),
        ("Cache-Control", "no-cache"),
        ("X-Content-Type-Options", "nosniff"),
        # Never inside another site's frame (clickjacking), and only this server's own scripts.
        ("X-Frame-Options", "DENY"),
        ("Content-Security-Policy", "default-src 'self'; frame-ancestors 'none'"),
    )
    return HttpResponse(HTTPStatus.OK, headers, found.body)
