"""Running a server for real (issue 13), end to end: /metrics, /healthz, /readyz, the admin API,
draining, and ``netplay admin``, over real sockets.

The admin page in a real browser is tests/browser/test_admin_page.py; the JSON logs are
tests/e2e/test_logs.py.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import socket
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families

from netplay.client import Client, NetplayError
from netplay.protocol import frame
from netplay.protocol.codec import encode
from netplay.server import Server
from netplay.server.metrics import render

from ..conftest import RawPeer
from .test_cli import Proc

MakeServer = Callable[..., Awaitable[Server]]
TOKEN = "test-admin-token-0123456789"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
DASHBOARD = Path(__file__).parents[2] / "docs" / "grafana-dashboard.json"


async def http(
    port: int, method: str, path: str, headers: dict[str, str] | None = None, body: Any = None
) -> tuple[int, dict[str, str], bytes]:
    """One HTTP/1.1 request on a connection of its own; the status, headers and body."""
    payload = b"" if body is None else json.dumps(body).encode()
    lines = [f"{method} {path} HTTP/1.1", f"Host: 127.0.0.1:{port}", "Connection: close"]
    lines += [f"{k}: {v}" for k, v in (headers or {}).items()]
    if body is not None:
        lines += ["Content-Type: application/json", f"Content-Length: {len(payload)}"]
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(("\r\n".join(lines) + "\r\n\r\n").encode() + payload)
    async with asyncio.timeout(10):
        response = await reader.read()
    writer.close()
    head, _, content = response.partition(b"\r\n\r\n")
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    found = {}
    for line in header_lines:
        name, _, value = line.partition(":")
        found[name.strip().lower()] = value.strip()
    return int(status_line.split()[1]), found, content


async def api(port: int, path: str, body: Any = None) -> Any:
    status, _, content = await http(port, "GET" if body is None else "POST", f"/admin/api/{path}", AUTH, body)
    assert status == 200, (status, content)
    return json.loads(content)


class Scrape:
    """One scrape of /metrics, parsed."""

    def __init__(self, text: str) -> None:
        self.samples = {
            (s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(text)
            for s in family.samples
        }
        self.names = {name for name, _ in self.samples}

    @classmethod
    async def of(cls, port: int) -> Scrape:
        status, headers, body = await http(port, "GET", "/metrics")
        assert status == 200 and headers["content-type"].startswith("text/plain; version=0.0.4")
        return cls(body.decode())

    def __call__(self, name: str, **labels: str) -> float:
        return self.samples.get((name, tuple(sorted(labels.items()))), 0.0)


async def play_against_the_bot(server: Server) -> tuple[int, list[dict[str, Any]]]:
    """A game of tic-tac-toe against minimax, one move refused on the way; the moves made."""
    client = await Client.connect("127.0.0.1", server.port, name="Ann")
    room = (await client.create_room("tictactoe"))["room"]["id"]
    await client.add_bot("minimax", room=room)
    states: list[dict[str, Any]] = []
    refused = False
    while True:
        state = await client.wait_for("state", timeout=10)
        states.append(state)
        if state["outcome"] is not None:
            break
        me = next(p["seat"] for p in state["players"] if p["id"] == client.id)
        if me not in state["active"]:
            continue
        if not refused:  # a taken cell... or, on the first move, an out-of-range one
            with pytest.raises(NetplayError) as caught:
                await client.request({"type": "move", "room": room, "move": 42, "version": state["version"]})
            assert caught.value.code == "invalid_move"
            refused = True
        free = [i for i, cell in enumerate(state["state"]["board"]) if cell is None]
        await client.request({"type": "move", "room": room, "move": free[0], "version": state["version"]})
    await client.close()
    return len({s["version"] for s in states if s["last"] is not None}), states


async def test_the_counters_move_by_exactly_what_happened(make_server: MakeServer) -> None:
    server = await make_server()
    before = await Scrape.of(server.port)
    moves, states = await play_against_the_bot(server)
    async with asyncio.timeout(10):  # the client's bye is handled before the next scrape's request
        while (after := await Scrape.of(server.port))("netplay_disconnects_total", reason="bye") < 1:
            pass
    delta = lambda name, **labels: after(name, **labels) - before(name, **labels)  # noqa: E731
    assert delta("netplay_moves_accepted_total") == moves >= 5
    assert delta("netplay_moves_refused_total", code="invalid_move") == 1
    assert delta("netplay_matches_started_total") == delta("netplay_matches_finished_total") == 1
    assert delta("netplay_disconnects_total", reason="bye") == 1
    assert sum(delta("netplay_disconnects_total", reason=r) for r in ("closed", "timeout", "kicked")) == 0
    # Ann's requests over TCP: hello, create_room, add_bot, her moves (one refused), bye.
    assert delta("netplay_messages_received_total", transport="tcp") == 3 + (moves + 1) // 2 + 2
    assert delta("netplay_messages_sent_total", transport="tcp") >= len(states)
    assert delta("netplay_received_bytes_total", transport="tcp") > 0
    assert delta("netplay_move_broadcast_seconds_count") == (moves + 1) // 2  # Ann's accepted moves
    assert delta("netplay_bot_think_seconds_count") == moves // 2
    assert delta("netplay_store_write_seconds_count") == 0  # the test servers keep nothing (no --db)
    assert after("netplay_rooms", kind="match", game="tictactoe", status="finished") == 0  # she left
    assert after("netplay_connections", transport="tcp") == 0
    assert after("netplay_event_loop_lag_seconds_count") >= before("netplay_event_loop_lag_seconds_count")


async def test_every_disconnect_reason_is_counted_once(make_server: MakeServer) -> None:
    server = await make_server(
        handshake_timeout=0.3, rate_limit=5, rate_burst=5, max_send_buffer=256 * 1024, byte_rate=0,
        admin_token=TOKEN,
    )  # fmt: skip
    port = server.port

    async def counted(reason: str) -> float:
        return (await Scrape.of(port))("netplay_disconnects_total", reason=reason)

    async def until_counted(reason: str, was: float) -> None:
        async with asyncio.timeout(15):
            while await counted(reason) < was + 1:  # each scrape is a round trip to the server
                pass
        assert await counted(reason) == was + 1  # once, not twice

    # bye, and a client that just goes
    was = await counted("bye")
    await (await Client.connect("127.0.0.1", port)).close()
    await until_counted("bye", was)
    was = await counted("closed")
    peer = await RawPeer.open(port)
    await peer.hello()
    await peer.close()
    await until_counted("closed", was)
    # no hello in time
    was = await counted("timeout")
    quiet = await RawPeer.open(port)
    assert await quiet.closed(timeout=10)
    await until_counted("timeout", was)
    # a frame over the limit, and a flood past the rate
    was = await counted("protocol_error")
    broken = await RawPeer.open(port)
    await broken.hello()
    broken.send_bytes(b"\x7f\xff\xff\xff")
    assert await broken.closed(timeout=10)
    await until_counted("protocol_error", was)
    was = await counted("rate_limited")
    flooder = await RawPeer.open(port)
    await flooder.hello()
    flooder.send_bytes(b"".join(frame(encode({"type": "ping"})) for _ in range(40)))
    assert await flooder.closed(timeout=10)
    await until_counted("rate_limited", was)
    # the same session resumed on a second connection
    was = await counted("replaced")
    first = await RawPeer.open(port)
    token = (await first.hello("Ann"))["token"]
    second = await RawPeer.open(port)
    second.send({"type": "hello", "protocol": 1, "token": token})
    assert (await second.recv_type("welcome"))["resumed"] is True
    assert await first.closed(timeout=10)
    await until_counted("replaced", was)
    await second.close()
    # removed by the operator
    was = await counted("kicked")
    victim = await Client.connect("127.0.0.1", port, name="Victim", reconnect=False)
    await api(port, f"players/{victim.id}/kick", {"reason": "cheating"})
    error = await victim.wait_for("error")
    assert (error["code"], error["message"], error["fatal"]) == ("kicked", "cheating", True)
    await until_counted("kicked", was)
    await victim.close()
    # a member that stops reading while a relay room floods it
    was = await counted("send_buffer_full")
    sender = await Client.connect("127.0.0.1", port, name="sender")
    room = (await sender.create_room("flood", kind="relay"))["room"]["id"]
    stalled = await RawPeer.open(port)
    stalled.writer.get_extra_info("socket").setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    await stalled.hello("stalled")
    stalled.send({"type": "join_room", "room": room, "id": 1})
    await stalled.recv_type("joined")
    blob = "x" * 60_000
    async with asyncio.timeout(60):
        while await counted("send_buffer_full") == was:
            for _ in range(4):  # inside the rate limit of 5 a second
                await sender.relay(blob)
            await asyncio.sleep(0.8)  # so as to stay inside it: pacing, not synchronisation
    assert await counted("send_buffer_full") == was + 1
    await sender.close()
    await stalled.close()
    # and the server stopping: each connection still open then is counted once, as shutdown
    left = [await Client.connect("127.0.0.1", port, reconnect=False) for _ in range(3)]
    assert server.operator is not None
    registry = server.operator.registry
    await server.stop()
    after = Scrape(render(registry)[0].decode())
    assert after("netplay_disconnects_total", reason="shutdown") == 3
    for client in left:
        await client.close()


async def test_health_readiness_and_a_drain_that_lets_the_game_finish(make_server: MakeServer) -> None:
    server = await make_server(admin_token=TOKEN)
    port = server.port
    assert (await http(port, "GET", "/healthz"))[:1] == (200,)
    assert (await http(port, "GET", "/readyz"))[2] == b"ready\n"
    ann = await Client.connect("127.0.0.1", port, name="Ann")
    bob = await Client.connect("127.0.0.1", port, name="Bob")
    room = (await ann.create_room("tictactoe"))["room"]["id"]
    await bob.join(room)
    await ann.wait_for("state")
    answer = await api(port, "drain", {})
    assert answer == {"draining": True, "matches": 1}
    for client in (ann, bob):
        notice = await client.wait_for("notice")
        assert notice["room"] is None and "about to restart" in notice["text"]
    status, _, body = await http(port, "GET", "/readyz")
    assert (status, body) == (503, b"not ready: draining\n")
    late = await Client.connect("127.0.0.1", port, name="Late")
    assert "about to restart" in (await late.wait_for("notice"))["text"]  # told as it arrives
    with pytest.raises(NetplayError) as refused:
        await late.create_room("tictactoe")
    assert refused.value.code == "server_draining"
    with pytest.raises(NetplayError) as refused:
        await late.quick_match("connect4")
    assert refused.value.code == "server_draining"
    await late.join(room, spectate=True)  # watching is fine
    # The game in progress goes on to its end; then the server stops by itself.
    for cell, player in [(0, ann), (3, bob), (1, ann), (4, bob), (2, ann)]:
        await player.request({"type": "move", "room": room, "move": cell})
    async with asyncio.timeout(15):
        await server.wait_stopped()
    shutdown = await bob.wait_for("error", timeout=10)
    assert shutdown["code"] == "server_shutdown" and "restarting" in shutdown["message"]
    for client in (ann, bob, late):
        await client.close()


async def test_the_admin_api_refuses_what_it_must(make_server: MakeServer) -> None:
    plain = await make_server()
    for path in ("/admin", "/admin/api/overview"):
        assert (await http(plain.port, "GET", path, AUTH))[0] == 404  # no token: no admin at all
    server = await make_server(admin_token=TOKEN)
    port = server.port
    before = (await Scrape.of(port))("netplay_admin_refused_total")
    assert (await http(port, "GET", "/admin/api/overview"))[0] == 401
    assert (await http(port, "GET", "/admin/api/overview", {"Authorization": "Bearer nope"}))[0] == 401
    evil = {**AUTH, "Origin": "https://evil.example"}
    assert (await http(port, "POST", "/admin/api/drain", evil, {}))[0] == 403
    assert (await Scrape.of(port))("netplay_admin_refused_total") == before + 3
    assert not server.hub.draining  # type: ignore[union-attr]
    status, headers, body = await http(port, "GET", "/admin")
    assert status == 200 and b"netplay admin" in body  # the page itself holds no data
    assert (
        headers["x-frame-options"] == "DENY"
        and "frame-ancestors 'none'" in headers["content-security-policy"]
    )
    assert (await http(port, "GET", "/admin/admin.js"))[0] == 200
    assert (await http(plain.port, "GET", "/admin/admin.js"))[0] == 404  # not a public file


async def test_an_operator_closes_a_room_sends_notices_and_sees_everything(make_server: MakeServer) -> None:
    server = await make_server(admin_token=TOKEN)
    port = server.port
    ann = await Client.connect("127.0.0.1", port, name="Ann")
    bob = await Client.connect("127.0.0.1", port, name="Bob")
    cat = await Client.connect("127.0.0.1", port, name="Cat")
    joined = await ann.create_room("tictactoe", private=True)
    room, code = joined["room"]["id"], joined["code"]
    await bob.join(code=code)
    await cat.join(room, spectate=True, code=code)
    await ann.request({"type": "move", "room": room, "move": 4})
    overview = await api(port, "overview")
    (line,) = overview["rooms"]
    assert line["id"] == room and line["status"] == "playing" and line["members"] == 3
    assert [p["name"] for p in line["players"]] == ["Ann", "Bob"]
    assert code not in json.dumps(overview)  # not even the operator sees a private room's code
    assert {p["name"] for p in overview["players"]} == {"Ann", "Bob", "Cat"}
    detail = await api(port, f"rooms/{room}")
    assert detail["match"]["state"]["board"][4] == "X"
    # A notice to the room reaches its members; one to everyone reaches the rest too.
    assert (await api(port, "notice", {"text": "Five minutes left", "room": room}))["sent"] == 3
    for client in (ann, bob, cat):
        assert (await client.wait_for("notice"))["text"] == "Five minutes left"
    lone = await Client.connect("127.0.0.1", port, name="Lone")
    assert (await api(port, "notice", {"text": "Hello all"}))["sent"] == 4
    assert (await lone.wait_for("notice")) == {"type": "notice", "text": "Hello all", "room": None}
    # Closing the room tells its members why; it is gone from the lobby and its game ended.
    await api(port, f"rooms/{room}/close", {"reason": "the class is over"})
    for client in (ann, bob, cat):
        closed = await client.wait_for("room_closed")
        assert closed == {"type": "room_closed", "room": room, "reason": "the class is over"}
    assert await lone.list_rooms() == []
    with pytest.raises(NetplayError) as refused:
        await ann.request({"type": "move", "room": room, "move": 0})
    assert refused.value.code == "not_in_room"
    scrape = await Scrape.of(port)
    assert scrape("netplay_matches_finished_total") == 1
    assert scrape("netplay_rooms", kind="match", game="tictactoe", status="playing") == 0
    for client in (ann, bob, cat, lone):
        await client.close()


async def test_the_metrics_port_serves_health_and_metrics_only(make_server: MakeServer) -> None:
    server = await make_server(metrics_port=0, admin_token=TOKEN)
    port = server.metrics_port
    assert port is not None and port != server.port
    assert (await http(port, "GET", "/healthz"))[0] == 200
    assert (await http(port, "GET", "/readyz"))[0] == 200
    assert "netplay_connections" in (await Scrape.of(port)).names
    for path in ("/", "/admin", "/admin/api/overview", "/ws"):
        assert (await http(port, "GET", path, AUTH))[0] == 404, path


async def test_the_grafana_dashboard_queries_only_metrics_that_exist(make_server: MakeServer) -> None:
    server = await make_server()
    await play_against_the_bot(server)
    scrape = await Scrape.of(server.port)
    exported = scrape.names | {re.sub(r"_(bucket|count|sum)$", "", n) for n in scrape.names}
    queried = set()
    for panel in json.loads(DASHBOARD.read_text())["panels"]:
        for target in panel["targets"]:
            queried |= set(re.findall(r"\b((?:netplay|process)_[a-z_]+)", target["expr"]))
    assert queried, "the dashboard queries nothing"
    assert queried <= exported, f"not exported: {sorted(queried - exported)}"


async def test_netplay_admin_from_a_terminal(tmp_path: Path) -> None:
    token_file = tmp_path / "admin-token"
    token_file.write_text(TOKEN + "\n")
    token_file.chmod(0o600)
    served = await Proc.start(
        "serve", "--port", "0", "--bot-delay", "0", "--admin-token-file", str(token_file)
    )
    port = int((await served.expect(r"on 127\.0\.0\.1:(\d+)")).group(1))
    url = f"http://127.0.0.1:{port}"

    async def admin(*args: str) -> tuple[int, str]:
        proc = await Proc.start("admin", "--url", url, "--token-file", str(token_file), *args)
        return await proc.finish()

    try:
        ann = await Client.connect("127.0.0.1", port, name="Ann")
        room = (await ann.create_room("tictactoe"))["room"]["id"]
        status, output = await admin("status")
        assert status == 0 and "1 room, 0 matches in progress" in output, output
        status, output = await admin("rooms")
        assert status == 0 and room in output and "Ann" in output, output
        status, output = await admin("players")
        assert status == 0 and ann.id in output and "1 player" in output, output
        status, output = await admin("notice", "Break in 5 minutes")
        assert status == 0 and "told 1 player" in output, output
        assert (await ann.wait_for("notice"))["text"] == "Break in 5 minutes"
        status, output = await admin("close", room, "--reason", "lunch")
        assert status == 0 and (await ann.wait_for("room_closed"))["reason"] == "lunch"
        proc = await Proc.start("admin", "--url", url, "--token", "wrong-token-wrong-token", "rooms")
        status, output = await proc.finish()
        assert status == 1 and "401" in output and TOKEN not in output, output
        status, output = await admin("drain", "--wait")
        assert status == 0 and "draining: 0 matches in progress" in output, output
        status, output = await served.finish(timeout=20)
        assert status == 0 and "Traceback" not in output and TOKEN not in output, output
        await ann.close()
    finally:
        served.kill()


def test_the_admin_token_must_be_long_enough() -> None:
    import subprocess

    done = subprocess.run(
        [sys.executable, "-m", "netplay", "serve", "--port", "0", "--admin-token", "short"],
        capture_output=True, text=True, timeout=30, env={**os.environ, "NETPLAY_ADMIN_TOKEN": ""},
    )  # fmt: skip
    assert done.returncode == 2 and "at least 16 characters" in done.stderr


async def test_a_drain_deadline_stops_the_server_and_keeps_the_game_for_a_restart(
    make_server: MakeServer, tmp_path: Path
) -> None:
    db = str(tmp_path / "netplay.db")
    server = await make_server(admin_token=TOKEN, db=db)
    ann = await Client.connect("127.0.0.1", server.port, name="Ann", reconnect=False)
    bob = await Client.connect("127.0.0.1", server.port, name="Bob", reconnect=False)
    room = (await ann.create_room("tictactoe"))["room"]["id"]
    await bob.join(room)
    await ann.request({"type": "move", "room": room, "move": 4})
    assert await api(server.port, "drain", {"deadline": 0.5}) == {"draining": True, "matches": 1}
    async with asyncio.timeout(10):  # the game is not over, but the deadline is
        await server.wait_stopped()
    assert (await ann.wait_for("error"))["code"] == "server_shutdown"
    again = await make_server(db=db)
    assert again.restored == 1  # the game in progress comes back after the restart
    for client in (ann, bob):
        await client.close()
