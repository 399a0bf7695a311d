"""The operator's routes as a plain function of a request: health, auth, refusals (no sockets).

End to end, with real sockets, clients and a browser: tests/e2e/test_operations.py and
tests/browser/test_admin_page.py.
"""

from __future__ import annotations

import json

import pytest

from netplay.games import builtin_games
from netplay.server.admin import Operator
from netplay.server.config import ServerConfig
from netplay.server.hub import Hub
from netplay.transports.http import HttpRequest, HttpResponse

TOKEN = "s3cret-admin-token-0123"


def request(method: str, target: str, *headers: tuple[str, str], body: bytes = b"") -> HttpRequest:
    return HttpRequest(method, target, (("host", "game.example:7777"), *headers), body)


def bearer(token: str = TOKEN) -> tuple[str, str]:
    return ("authorization", f"Bearer {token}")


async def operator(token: str | None = TOKEN, ready: str | None = None) -> Operator:
    return Operator(Hub(ServerConfig(), builtin_games()), token=token, ready=lambda: ready)


def answer(response: HttpResponse) -> object:
    return json.loads(response.body)


async def test_health_and_readiness() -> None:
    op = await operator()
    assert op.respond(request("GET", "/healthz")).status == 200
    assert op.respond(request("GET", "/readyz")).body == b"ready\n"
    op.hub.draining = True
    refused = op.respond(request("GET", "/readyz"))
    assert (refused.status, refused.body) == (503, b"not ready: draining\n")
    broken = await operator(ready="the database cannot be written")
    assert broken.respond(request("GET", "/readyz")).body == b"not ready: the database cannot be written\n"


async def test_no_token_means_no_admin_at_all() -> None:
    op = await operator(token=None)
    for path in ("/admin", "/admin/api/overview", "/admin/admin.js"):
        response = op.respond(request("GET", path, bearer()))
        assert response.status == 404, path
    assert op.respond(request("GET", "/metrics")).status == 200  # metrics need no admin


@pytest.mark.parametrize(
    "headers",
    [(), (bearer("wrong-token-0123456789"),), (("authorization", TOKEN),), (("authorization", "Basic x"),)],
)
async def test_a_missing_or_wrong_token_is_refused_and_counted(headers: tuple[tuple[str, str], ...]) -> None:
    op = await operator()
    response = op.respond(request("GET", "/admin/api/overview", *headers))
    assert response.status == 401
    assert answer(response) == {"error": "a missing or wrong admin token"}
    assert op.hub.stats.admin_refused == 1


async def test_requests_from_another_site_are_refused() -> None:
    op = await operator()
    evil = request("POST", "/admin/api/drain", bearer(), ("origin", "https://evil.example"),
                   ("content-type", "application/json"), body=b"{}")  # fmt: skip
    assert op.respond(evil).status == 403
    assert not op.hub.draining and op.hub.stats.admin_refused == 1
    # A form post (no JSON content type) cannot carry an action either, even with the token.
    form = request("POST", "/admin/api/drain", bearer(), ("content-type", "text/plain"), body=b"{}")
    assert op.respond(form).status == 415 and not op.hub.draining
    own = request("POST", "/admin/api/drain", bearer(), ("origin", "http://game.example:7777"),
                  ("content-type", "application/json"), body=b"{}")  # fmt: skip
    assert op.respond(own).status == 200 and op.hub.draining


async def test_bad_requests_get_precise_errors() -> None:
    op = await operator()
    json_type = ("content-type", "application/json")
    cases = [
        (request("POST", "/admin/api/notice", bearer(), json_type, body=b"{"), 400, "the body is not JSON"),
        (request("POST", "/admin/api/notice", bearer(), json_type, body=b"[]"), 400,
         "the body is a JSON object"),
        (request("POST", "/admin/api/notice", bearer(), json_type, body=b'{"text": "\\u001b[2J"}'), 400,
         "'text' is at most 500 printable characters"),
        (request("POST", "/admin/api/drain", bearer(), json_type, body=b'{"deadline": -1}'), 400,
         "'deadline' is seconds, above 0 and at most 86400"),
        (request("GET", "/admin/api/rooms/r-nope", bearer()), 404, "no room 'r-nope'"),
        (request("POST", "/admin/api/players/p-nope/kick", bearer(), json_type), 404, "no player 'p-nope'"),
        (request("GET", "/admin/api/drain", bearer()), 405, "use POST"),
        (request("GET", "/admin/api/nothing", bearer()), 404, "no such request: nothing"),
    ]  # fmt: skip
    for req, status, error in cases:
        response = op.respond(req)
        assert (response.status, answer(response)) == (status, {"error": error}), req.target


async def test_the_overview_of_an_empty_server() -> None:
    op = await operator()
    overview = answer(op.respond(request("GET", "/admin/api/overview", bearer())))
    assert isinstance(overview, dict)
    assert overview["rooms"] == [] and overview["players"] == [] and overview["errors"] == []
    assert overview["server"]["matches"] == 0 and overview["server"]["draining"] is False


async def test_the_overview_lists_a_bounded_number_of_players_and_counts_them_all() -> None:
    from netplay.server.admin import OVERVIEW_LIMIT
    from netplay.server.session import Session

    op = await operator()
    for n in range(OVERVIEW_LIMIT + 50):  # away players, as a restart brings them back
        session = Session(f"p-{n}", None, 0.0)
        session.token_hash = f"t{n}"
        op.hub.adopt(session)
    overview = answer(op.respond(request("GET", "/admin/api/overview", bearer())))
    assert isinstance(overview, dict)
    assert len(overview["players"]) == OVERVIEW_LIMIT
    assert overview["server"]["sessions"] == {"connected": 0, "away": OVERVIEW_LIMIT + 50}
