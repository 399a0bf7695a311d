"""examples/cluster/haproxy.cfg, as shipped, run by a real haproxy in front of three netplay nodes.

The file takes its addresses from environment variables (its defaults are a real deployment's), so
the test runs the very file an operator copies, with only the ports changed. Every client here
connects to haproxy's port and never to a node's.
"""

from __future__ import annotations

import asyncio
import contextlib
import csv
import os
import shutil
import signal
import urllib.request
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from netplay.client import Client
from netplay.server import Server, operations

from ..conftest import RawPeer, until
from ..e2e.test_cli import Proc
from ..e2e.test_text_protocol import TextClient
from .conftest import MakeNode, RedisProcess, free_port
from .test_any_node import play_tictactoe
from .test_node_death import state_at

HAPROXY = shutil.which("haproxy")
if HAPROXY is None:  # .ci/run installs it (there, going without is a failure); a laptop may lack it
    if os.environ.get("CI"):
        pytest.fail("the haproxy tests must run under CI, but haproxy is not installed", pytrace=False)
    pytest.skip("haproxy is not installed (apt-get install haproxy)", allow_module_level=True)

CONFIG = Path(__file__).resolve().parents[2] / "examples" / "cluster" / "haproxy.cfg"
#: Seconds haproxy gets to find its nodes healthy, or to notice one is not: its checks run every
#: 2 s and take two in a row to change their mind.
CHECKS = 15.0
#: The lease of the nodes of the kill -9 test: how soon a dead node's rooms are adopted.
LEASE = 2.0

Servers = dict[str, dict[str, str]]


@dataclass
class Balancer:
    """A haproxy process running examples/cluster/haproxy.cfg: where clients connect, its status
    page, and its output (what an operator reads in its log)."""

    port: int
    stats_port: int
    text_port: int
    proc: Proc

    async def servers(self) -> Servers:
        """haproxy's view of the netplay nodes (its status page as CSV), by server name."""
        url = f"http://127.0.0.1:{self.stats_port}/;csv"
        body = await asyncio.to_thread(lambda: urllib.request.urlopen(url, timeout=5).read().decode())
        rows = csv.DictReader(body.removeprefix("# ").splitlines())
        return {row["svname"]: row for row in rows if row["pxname"] == "nodes" and row["svname"] != "BACKEND"}

    async def until(self, check: Callable[[Servers], bool], what: str, timeout: float = CHECKS) -> Servers:
        """Wait (polling its status page, with a deadline) until haproxy's view passes ``check``."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        seen: Servers = {}
        while loop.time() < deadline:
            with contextlib.suppress(OSError):  # not listening yet
                seen = await self.servers()
                if check(seen):
                    return seen
            await asyncio.sleep(0.05)
        states = {name: (row["status"], row["check_status"]) for name, row in seen.items()}
        raise AssertionError(
            f"timed out waiting for {what}; haproxy says {states}\n" + "\n".join(self.proc.lines)
        )

    async def stop(self) -> None:
        if self.proc.process.returncode is None:
            self.proc.process.terminate()
        await self.proc.finish()


def healthy(servers: Servers) -> bool:
    """All three nodes up, by a passed HTTP check (L7OK: /readyz answered 200 on the netplay port)."""
    return len(servers) == 3 and all(
        s["status"] == "UP" and s["check_status"] == "L7OK" for s in servers.values()
    )


async def start_haproxy(ports: list[int], text_ports: list[int] | None = None) -> Balancer:
    """haproxy -db (in the foreground) on the shipped file, in front of nodes on ``ports`` (and
    their text listeners on ``text_ports``, if they have any), once it has found every node healthy."""
    text_ports = text_ports or [free_port() for _ in ports]  # (none: nothing listens there)
    assert HAPROXY is not None and len(ports) == 3 and len(text_ports) == 3
    port, stats_port, text_port = free_port(), free_port(), free_port()
    env = {
        **os.environ,
        "NETPLAY_LB_BIND": f"127.0.0.1:{port}",
        "NETPLAY_LB_STATS": f"127.0.0.1:{stats_port}",
        "NETPLAY_LB_TEXT_BIND": f"127.0.0.1:{text_port}",
        **{f"NETPLAY_TEXT_NODE{n}": f"127.0.0.1:{p}" for n, p in enumerate(text_ports, 1)},
        # The shipped 20000 needs a file limit over 40000, which only root may always raise; 400
        # fits a user's usual limit of 1024.
        "NETPLAY_LB_MAXCONN": "400",
        **{f"NETPLAY_NODE{n}": f"127.0.0.1:{p}" for n, p in enumerate(ports, 1)},
    }
    process = await asyncio.create_subprocess_exec(
        HAPROXY, "-f", str(CONFIG), "-db", env=env,
        stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip
    balancer = Balancer(port, stats_port, text_port, Proc(process))
    try:
        await balancer.until(healthy, "haproxy to find the three nodes healthy")
    except BaseException:
        await balancer.stop()
        raise
    return balancer


@pytest.fixture
async def cluster(make_node: MakeNode) -> AsyncIterator[tuple[Balancer, dict[str, Server]]]:
    """Three nodes (run as the file says: no per-address limit) behind haproxy; the nodes by name."""
    nodes = [await make_node(max_connections_per_address=0, text_port=0) for _ in range(3)]
    balancer = await start_haproxy([node.port for node in nodes], [node.text_port or 0 for node in nodes])
    yield balancer, {f"node{n}": node for n, node in enumerate(nodes, 1)}
    await balancer.stop()


async def connect(balancer: Balancer, name: str, **options: Any) -> Client:
    options.setdefault("reconnect", False)
    return await Client.connect("127.0.0.1", balancer.port, name=name, **options)


async def hello(port: int, name: str, token: str | None = None) -> tuple[RawPeer, dict[str, Any]]:
    """Say hello on a raw connection (a resume, with ``token``); the welcome, however long it takes."""
    peer = await RawPeer.open(port)
    message: dict[str, Any] = {"type": "hello", "protocol": 1, "name": name, "id": 0}
    if token is not None:
        message["token"] = token
    peer.send(message)
    welcome = await peer.recv(timeout=15)
    assert welcome["type"] == "welcome", welcome
    return peer, welcome


async def test_players_spread_over_the_nodes_and_play_a_game_to_its_end(
    cluster: tuple[Balancer, dict[str, Server]],
) -> None:
    balancer, _ = cluster
    players = [await connect(balancer, name) for name in ("Ann", "Bob", "Cat")]
    # leastconn: each newcomer goes to the node holding the fewest connections.
    assert sorted(p.welcome["node"] for p in players) == ["node1", "node2", "node3"]
    ann, bob, cat = players
    room = (await ann.create_room("tictactoe"))["room"]["id"]
    await bob.join(room)  # from another node: the room's owner serves him through his own
    watching = await cat.join(room, spectate=True)
    assert watching["role"] == "spectator"
    final = await play_tictactoe(ann, bob, room)
    assert final["outcome"]["winner"] == 0  # X, first free cell every turn, wins on the diagonal
    seen = await cat.wait_for("state", room=room, version=final["version"])
    assert seen["outcome"] == final["outcome"]
    for p in players:
        await p.close()


async def test_text_clients_spread_over_the_nodes_share_one_room(
    cluster: tuple[Balancer, dict[str, Server]],
) -> None:
    """15-112 clients through the balancer's text port: spread over the three nodes (leastconn),
    one class in one room, lines byte for byte."""
    balancer, nodes = cluster
    students: list[TextClient] = []
    for _ in range(6):
        student = await TextClient.open(balancer.text_port)
        mine = await student.greet(*(s.id for s in students))  # everyone before, in join order
        for earlier in students:
            await earlier.expect(f"newPlayer {mine}\n".encode())
        students.append(student)
    assert sorted(node.hub.connections for node in nodes.values()) == [2, 2, 2]
    await students[0].send(b"playerMoved 5 0\n")
    for other in students[1:]:
        await other.expect(f"playerMoved {students[0].id} 5 0\n".encode())
    for student in students:
        await student.close()


async def test_a_draining_node_gets_no_newcomers_and_its_game_plays_on(
    cluster: tuple[Balancer, dict[str, Server]],
) -> None:
    balancer, nodes = cluster
    ann, bob = await connect(balancer, "Ann"), await connect(balancer, "Bob")
    drained = ann.welcome["node"]
    room = (await ann.create_room("tictactoe"))["room"]["id"]  # on Ann's node
    await bob.join(room)
    state = await ann.wait_for("state", room=room)
    hub = nodes[drained].hub
    assert hub is not None
    operations.drain(hub, None, hub.now())  # what `netplay admin drain` does: the game goes on
    # /readyz says 503 now: haproxy takes the node out of rotation ...
    servers = await balancer.until(lambda s: s[drained]["status"] == "DOWN", f"haproxy to take {drained} out")
    assert servers[drained]["check_status"] == "L7STS" and servers[drained]["check_code"] == "503"
    # ... so newcomers land on the other nodes only ...
    newcomers = [await connect(balancer, f"new{n}") for n in range(4)]
    assert drained not in {c.welcome["node"] for c in newcomers}
    # ... while the players it has keep their connections, and finish their game.
    assert ann.connected and bob.connected
    await ann.move(state["state"]["board"].index(None), room=room, version=state["version"])
    final = await play_tictactoe(ann, bob, room)
    assert final["outcome"] is not None
    for c in (ann, bob, *newcomers):
        await c.close()


async def test_a_player_whose_node_stops_reconnects_through_haproxy_and_resumes_on_another(
    cluster: tuple[Balancer, dict[str, Server]],
) -> None:
    balancer, nodes = cluster
    ann = await connect(balancer, "Ann", reconnect=True)  # netplay's client, as a game uses it
    bob = await connect(balancer, "Bob")
    home, player = ann.welcome["node"], ann.welcome["player"]
    room = (await bob.create_room("tictactoe"))["room"]["id"]  # on Bob's node, not Ann's
    await ann.join(room)
    await nodes[home].stop()  # a rolling restart's first step
    assert (await ann.wait_for("disconnected"))["code"] == "server_shutdown"
    back = await ann.wait_for("reconnected", timeout=30)  # through haproxy: to a node still up
    assert ann.welcome["node"] != home
    assert back["resumed"] is True and ann.welcome["player"] == player and ann.welcome["rooms"] == [room]
    await ann.close()
    await bob.close()


async def test_a_player_whose_node_is_killed_resumes_through_haproxy_on_another(
    make_node: MakeNode, redis_server: RedisProcess
) -> None:
    live = [await make_node(cluster_lease=LEASE, max_connections_per_address=0) for _ in range(2)]
    port = free_port()
    doomed = await Proc.start(
        "serve", "--redis", redis_server.url, "--node-name", "doomed", "--lease", str(LEASE),
        "--port", str(port), "--max-connections-per-address", "0", "--bot-delay", "0",
    )  # fmt: skip
    balancer = None
    try:
        await doomed.expect("Node doomed of the cluster")
        balancer = await start_haproxy([live[0].port, live[1].port, port])
        peers = [await hello(balancer.port, name) for name in ("Ann", "Bob", "Cat")]
        by_node = {welcome["node"]: (peer, welcome) for peer, welcome in peers}
        assert set(by_node) == {"node1", "node2", "doomed"}  # leastconn: one each
        (ann, wa), (bob, _) = by_node["doomed"], by_node["node1"]
        ann.send({"type": "create_room", "game": "tictactoe", "id": 1})
        room = (await ann.recv_type("joined"))["room"]["id"]
        bob.send({"type": "join_room", "room": room, "id": 1})
        await bob.recv_type("joined")
        state = await ann.recv_type("state")
        ann.send({"type": "move", "room": room, "move": 4, "version": state["version"], "id": 2})
        await state_at(bob, state["version"] + 1)  # the move is in Redis: the room's owner sent it on

        doomed.process.send_signal(signal.SIGKILL)
        await doomed.finish()
        await until(
            lambda: any(room in n.hub.rooms for n in live if n.hub is not None),
            timeout=4 * LEASE + 5,
            what="a live node to adopt the room",
        )
        # Ann's connection died with its node; through haproxy (which skips the dead node) her
        # token brings her back to her seat on a live one.
        ann2, welcome = await hello(balancer.port, "ignored", token=wa["token"])
        assert welcome["node"] in ("node1", "node2")
        assert welcome["resumed"] is True and welcome["player"] == wa["player"] and welcome["rooms"] == [room]
        assert (await ann2.recv_type("joined"))["seat"] == 0
        current = await ann2.recv_type("state")
        assert current["state"]["board"][4] == "X" and current["turn"] == 1  # Bob's turn, as it was
        await balancer.until(lambda s: s["node3"]["status"] == "DOWN", "haproxy to see the killed node down")
    finally:
        if balancer is not None:
            await balancer.stop()
        doomed.kill()
