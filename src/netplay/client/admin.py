"""``netplay admin``: the admin page's API from a terminal (docs/operations.md, "Admin").

Each command is one HTTP request to ``/admin/api/...`` on the server's web port, with the admin
token as a Bearer header. The token comes from ``--token-file``, else ``$NETPLAY_ADMIN_TOKEN``, else
``--token`` (which other users of the machine can see in the process list), and is never printed.
Everything printed that came from players (names, room labels, states) goes through ``safe_text``.
"""

from __future__ import annotations

import json
import os
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any

from .safe_text import safe_text

__all__ = ["AdminClient", "AdminError", "run_admin"]


class AdminError(Exception):
    """The server refused a request or cannot be reached; the message says which, in words."""


@dataclass(slots=True)
class AdminClient:
    url: str
    token: str
    timeout: float = 10.0

    def get(self, path: str) -> Any:
        return self._request("GET", path, None)

    def post(self, path: str, body: dict[str, Any]) -> Any:
        return self._request("POST", path, body)

    def _request(self, method: str, path: str, body: dict[str, Any] | None) -> Any:
        request = urllib.request.Request(
            f"{self.url.rstrip('/')}/admin/api/{path}",
            method=method,
            data=None if body is None else json.dumps(body).encode(),
            headers={"Authorization": f"Bearer {self.token}", "Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                return json.load(response)
        except urllib.error.HTTPError as error:
            try:
                message = json.load(error).get("error", error.reason)
            except ValueError:
                message = error.reason
            if error.code == 404 and "no admin" in str(message):
                message = "this server has no admin: start it with --admin-token or --admin-token-file"
            raise AdminError(f"{error.code}: {message}") from None
        except (urllib.error.URLError, OSError) as error:
            reason = getattr(error, "reason", error)
            raise AdminError(f"cannot reach {self.url}: {reason}") from None


def read_token(token: str | None, token_file: str | None) -> str | None:
    """The admin token: from a file (its first line), the environment, or the command line."""
    if token_file:
        with open(token_file, encoding="utf-8") as f:
            return f.readline().strip() or None
    return os.environ.get("NETPLAY_ADMIN_TOKEN") or token


def _plural(count: int, one: str, many: str | None = None) -> str:
    return f"{count} {one if count == 1 else many or one + 's'}"


def _listed(listed: int, total: int) -> str:
    return f" (the first {listed} listed)" if listed < total else ""


def _room_line(room: dict[str, Any]) -> str:
    players = ", ".join(p["name"] for p in room.get("players", [])) or "-"
    status = room.get("status", "open")
    privacy = " private" if room.get("private") else ""
    return f"{room['id']}  {room['kind']:<5} {room['game']:<10} {status:<8}{privacy}  players: {players}"


def _status(client: AdminClient) -> None:
    overview = client.get("overview")
    s = overview["server"]
    connections = sum(s["connections"].values())
    print(f"up {s['uptime'] / 60:.0f} min{'; DRAINING' if s['draining'] else ''}")
    kinds = ", ".join(f"{kind} {count}" for kind, count in s["connections"].items())
    print(
        f"{_plural(connections, 'connection')} ({kinds}); "
        f"{_plural(s['sessions']['connected'], 'player')} connected, {s['sessions']['away']} away"
    )
    print(
        f"{_plural(s['rooms'], 'room')}, {_plural(s['matches'], 'match', 'matches')} in progress, "
        f"{_plural(s['moves'], 'move')} so far"
    )
    for error in overview["errors"][-5:]:
        print(safe_text(f"  {error['level'].upper()} {error['message']}"))


def run_admin(
    url: str, token: str | None, command: str, target: str | None, text: str | None,
    *, room: str | None = None, reason: str | None = None, deadline: float | None = None,
    wait: bool = False,
) -> int:  # fmt: skip
    """Run one admin command; print its result; 0, or 1 with a one-line error on stderr."""
    if not token:
        print(
            "error: no admin token: give --token-file FILE, set NETPLAY_ADMIN_TOKEN, or --token TOKEN",
            file=sys.stderr,
        )
        return 2
    client = AdminClient(url, token)
    try:
        if command == "status":
            _status(client)
        elif command == "rooms":
            overview = client.get("overview")
            rooms, total = overview["rooms"], overview["server"]["rooms"]
            print(_plural(total, "room") + _listed(len(rooms), total))
            for line in rooms:
                print(safe_text(_room_line(line)))
        elif command == "players":
            overview = client.get("overview")
            players = overview["players"]
            sessions = overview["server"]["sessions"]
            total = sessions["connected"] + sessions["away"]
            for p in players:
                where = p["peer"] if p["connected"] else "away"
                print(
                    safe_text(f"{p['id']}  {p['name']:<16} {where:<22} rooms: {', '.join(p['rooms']) or '-'}")
                )
            print(_plural(total, "player") + _listed(len(players), total))
        elif command == "room":
            answer = client.get(f"rooms/{target}")
            print(safe_text(_room_line(answer["room"])))
            match = answer.get("match")
            if match is None:
                print("no game has started")
            else:
                print(safe_text(f"match {match['id']}, game {match['number']}, version {match['version']}"))
                print(safe_text(json.dumps(match["state"])))
                for n, move in enumerate(match["moves"], 1):
                    shown = json.dumps(move["move"]) if move["kind"] == "move" else move["kind"]
                    print(safe_text(f"{n:>4}. seat {move['seat'] + 1}: {shown}"))
        elif command == "close":
            client.post(f"rooms/{target}/close", {"reason": reason} if reason else {})
            print(f"closed {target}")
        elif command == "kick":
            client.post(f"players/{target}/kick", {"reason": reason} if reason else {})
            print(f"removed {target}")
        elif command == "notice":
            answer = client.post("notice", {"text": text, **({"room": room} if room else {})})
            print(f"told {_plural(answer['sent'], 'player')}")
        elif command == "drain":
            answer = client.post("drain", {"deadline": deadline} if deadline else {})
            print(f"draining: {_plural(answer['matches'], 'match', 'matches')} in progress")
            if wait:
                return _wait_for_exit(client)
        else:  # pragma: no cover - argparse allows only the commands above
            return 2
    except AdminError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    return 0


def _wait_for_exit(client: AdminClient) -> int:
    """After ``drain --wait``: report the matches left until the server has gone."""
    last = None
    while True:
        try:
            matches = client.get("overview")["server"]["matches"]
        except AdminError:
            print("the server has stopped")
            return 0
        if matches != last:
            print(f"{_plural(matches, 'match', 'matches')} in progress")
            last = matches
        time.sleep(1.0)
