"""Clients that know several server addresses (issue 12, item 7): the first connection tries them in
order, a reconnection moves on to the next, and ``HOST:PORT`` is read with precise errors.

Real servers on free loopback ports. A zero-latency ``LagProxy`` in front of a server is a second
address of the same server process (as two nodes of a cluster are for a session): stopping it drops
the link the way a node going away does, and the session resumes through the other address.
"""

from __future__ import annotations

import asyncio
import re
import socket
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest

from netplay.client import (
    Client,
    NetplayError,
    ServersUnreachable,
    ThreadedClient,
    format_server,
    parse_server,
)
from netplay.proxy import LagProxy, Link
from netplay.server import Server

MakeServer = Callable[..., Awaitable[Server]]
Proxies = Callable[..., Awaitable[LagProxy]]


def dead_port() -> int:
    """A loopback port nothing listens on (bound, read, closed)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
async def proxies() -> AsyncIterator[Proxies]:
    """Start zero-latency proxies to a port (optionally on a given port); stop them afterwards."""
    started: list[LagProxy] = []

    async def start(target_port: int, port: int = 0) -> LagProxy:
        proxy = LagProxy(("127.0.0.1", target_port), Link(), port=port)
        await proxy.start()
        started.append(proxy)
        return proxy

    yield start
    for proxy in started:
        await proxy.stop()


async def in_thread(fn: Callable[[], object]) -> object:
    """Run blocking client code off the event loop that serves the test's servers."""
    return await asyncio.to_thread(fn)


# -- reading addresses ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "address"),
    [
        ("127.0.0.1:7777", ("127.0.0.1", 7777)),
        ("example.com:1", ("example.com", 1)),
        (" localhost:65535 ", ("localhost", 65535)),
        ("[::1]:7777", ("::1", 7777)),
        ("[fe80::1%eth0]:80", ("fe80::1%eth0", 80)),
    ],
)
def test_host_port_is_read_and_written_back_the_same(text: str, address: tuple[str, int]) -> None:
    assert parse_server(text) == address
    assert parse_server(format_server(*address)) == address


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("example.com", "missing port"),
        ("example.com:", "missing port"),
        ("[::1]", "missing port"),
        ("", "missing host"),
        (":7777", "missing host"),
        ("h:0", "port must be 1-65535"),
        ("h:65536", "port must be 1-65535"),
        ("h:http", "port must be a whole number 1-65535"),
        ("h:-1", "port must be a whole number 1-65535"),
        ("::1:7777", "put an IPv6 address in brackets: [::1]:7777"),
        ("[::1:7777", "missing ']'"),
        ("[::1]7777", "expected ':PORT' after ']'"),
    ],
)
def test_a_bad_address_is_a_precise_value_error(text: str, says: str) -> None:
    with pytest.raises(ValueError, match=re.escape(says)) as err:
        parse_server(text)
    if text:
        assert repr(text) in str(err.value)  # which of several --server values it was


def test_servers_and_host_or_port_together_are_refused() -> None:
    with pytest.raises(ValueError, match="either host and port, or servers, not both"):
        Client("127.0.0.1", servers=["127.0.0.1:1"])
    with pytest.raises(ValueError, match="either host and port, or servers, not both"):
        ThreadedClient(port=7777, servers=["127.0.0.1:1"])
    with pytest.raises(ValueError, match="servers is empty"):
        Client(servers=[])
    with pytest.raises(TypeError, match=r"servers=\['127.0.0.1:1'\]"):
        Client(servers="127.0.0.1:1")
    with pytest.raises(ValueError, match="port must be 1-65535"):
        ThreadedClient(servers=[("127.0.0.1", 0)])
    with pytest.raises(ValueError, match="missing port"):
        ThreadedClient(servers=["127.0.0.1"])


def test_host_and_port_keep_their_defaults_and_mix_with_tuples() -> None:
    assert Client().server == ("127.0.0.1", 7777)
    assert Client(port=1234).server == ("127.0.0.1", 1234)
    both = Client(servers=["a.example:1", ("b.example", 2)])
    assert both.servers == (("a.example", 1), ("b.example", 2))
    assert (both.server, both.host, both.port) == (("a.example", 1), "a.example", 1)
    net = ThreadedClient(servers=["[::1]:9"])
    assert (net.server, net.host, net.port) == (("::1", 9), "::1", 9)


# -- the first connection ---------------------------------------------------------------------------


async def test_a_refused_address_falls_through_to_the_next(server: Server) -> None:
    dead = dead_port()
    client = await Client.connect(servers=[f"127.0.0.1:{dead}", ("127.0.0.1", server.port)], name="Ann")
    try:
        assert client.connected and client.name == "Ann"
        assert client.server == ("127.0.0.1", server.port) and client.port == server.port
        joined = await client.quick_match("tictactoe")
        assert joined["seat"] == 0
    finally:
        await client.close()


async def test_every_address_refused_names_them_all() -> None:
    first, second = dead_port(), dead_port()
    with pytest.raises(ServersUnreachable) as err:
        await Client.connect(servers=[f"127.0.0.1:{first}", f"localhost:{second}"], timeout=2)
    message = str(err.value)
    assert message.startswith("cannot reach a netplay server at any of: ")
    assert f"127.0.0.1:{first} (connection refused)" in message
    assert f"localhost:{second} (" in message
    assert [address for address, _ in err.value.failures] == [("127.0.0.1", first), ("localhost", second)]
    assert isinstance(err.value, OSError)  # caught where a single unreachable server's error is


async def test_a_full_server_is_passed_over(make_server: MakeServer) -> None:
    full = await make_server(max_connections=1)
    other = await make_server()
    occupant = await Client.connect("127.0.0.1", full.port)
    try:
        client = await Client.connect(servers=[("127.0.0.1", full.port), ("127.0.0.1", other.port)])
        try:
            assert client.server == ("127.0.0.1", other.port)
        finally:
            await client.close()
        with pytest.raises(ServersUnreachable, match=r"server_full"):
            await Client.connect(servers=[("127.0.0.1", full.port), ("127.0.0.1", dead_port())])
    finally:
        await occupant.close()


async def test_a_refusal_every_node_would_give_is_raised_at_once(server: Server, proxies: Proxies) -> None:
    second = await proxies(server.port)
    with pytest.raises(NetplayError) as err:
        await Client.connect(servers=[("127.0.0.1", server.port), ("127.0.0.1", second.port)], name="x" * 33)
    assert err.value.code == "invalid_message"
    assert second.connections == 0  # the second address was never asked


# -- reconnecting -----------------------------------------------------------------------------------


async def test_a_lost_address_reconnects_through_the_next_and_resumes(
    server: Server, proxies: Proxies
) -> None:
    proxy = await proxies(server.port)
    ann = await Client.connect(servers=[("127.0.0.1", proxy.port), ("127.0.0.1", server.port)], name="Ann")
    bob = await Client.connect("127.0.0.1", server.port, name="Bob")
    try:
        assert ann.server == ("127.0.0.1", proxy.port)
        room = (await ann.quick_match("tictactoe"))["room"]["id"]
        await bob.quick_match("tictactoe")
        await ann.wait_for("state", room=room)
        player = ann.id
        await proxy.stop()  # the node Ann is on goes away
        assert (await ann.wait_for("disconnected"))["code"] == "connection_lost"
        assert (await ann.wait_for("reconnected"))["resumed"] is True
        assert ann.server == ("127.0.0.1", server.port) and ann.connected
        assert ann.id == player and ann.seat(room) == 0
        await bob.wait_for("member_reconnected")
        await ann.move(4, room=room)
        state = await bob.wait_for("state", room=room, last={"seat": 0, "move": 4})
        assert state["state"]["board"][4] == "X"
    finally:
        await bob.close()
        await ann.close()


async def test_another_server_process_gives_a_fresh_session(make_server: MakeServer) -> None:
    first, second = await make_server(), await make_server()
    client = await Client.connect(servers=[("127.0.0.1", first.port), ("127.0.0.1", second.port)])
    try:
        player = client.id
        await client.quick_match("tictactoe")
        await first.stop()
        assert (await client.wait_for("disconnected"))["code"] == "server_shutdown"
        # The second process never saw the token: a new session, in no room (a cluster would resume it).
        assert (await client.wait_for("reconnected"))["resumed"] is False
        assert client.server == ("127.0.0.1", second.port)
        assert client.id != player
        assert (await client.quick_match("tictactoe"))["seat"] == 0
    finally:
        await client.close()


async def test_a_reconnection_starts_after_the_lost_address_not_at_the_first(
    server: Server, proxies: Proxies
) -> None:
    one, two = await proxies(server.port), await proxies(server.port)
    addresses = [("127.0.0.1", one.port), ("127.0.0.1", two.port), ("127.0.0.1", server.port)]
    client = await Client.connect(servers=addresses)
    try:
        assert client.server == addresses[0]
        await client.quick_match("tictactoe")  # a seat: what the server keeps a session for
        await one.stop()
        assert (await client.wait_for("reconnected"))["resumed"] is True
        assert client.server == addresses[1]
        again = await proxies(server.port, port=one.port)  # the first address is back
        await two.stop()
        assert (await client.wait_for("reconnected"))["resumed"] is True
        # After the second address: the third, though the first answers again.
        assert client.server == addresses[2] and again.connections == 0
    finally:
        await client.close()


async def test_one_address_reconnects_to_itself_as_before(make_server: MakeServer) -> None:
    server = await make_server()
    port = server.port
    client = await Client.connect(servers=[f"127.0.0.1:{port}"])
    try:
        await server.stop()
        await client.wait_for("disconnected")
        await make_server(port=port)  # the same server back on its port
        assert (await client.wait_for("reconnected", timeout=15))["resumed"] is False
        assert client.server == ("127.0.0.1", port)
    finally:
        await client.close()


# -- the threaded client ----------------------------------------------------------------------------


async def test_the_threaded_client_falls_through_and_follows_a_reconnection(
    server: Server, proxies: Proxies
) -> None:
    proxy = await proxies(server.port)
    dead = dead_port()
    net = ThreadedClient(servers=[f"127.0.0.1:{dead}", f"127.0.0.1:{proxy.port}", f"127.0.0.1:{server.port}"])
    assert net.server == ("127.0.0.1", dead)  # before connect: the first to be tried
    await in_thread(lambda: net.connect(timeout=5))
    try:
        assert net.server == ("127.0.0.1", proxy.port) and net.connected
        net.quick_match("tictactoe")
        joined = await in_thread(lambda: net.wait("joined"))
        assert isinstance(joined, dict)
        await proxy.stop()
        reconnected = await in_thread(lambda: net.wait("reconnected"))
        assert isinstance(reconnected, dict) and reconnected["resumed"] is True
        assert net.server == ("127.0.0.1", server.port) and net.room == joined["room"]["id"]
    finally:
        await in_thread(net.close)


def test_the_threaded_client_names_every_address_when_none_answers() -> None:
    first, second = dead_port(), dead_port()
    net = ThreadedClient(servers=[("127.0.0.1", first), ("127.0.0.1", second)])
    with pytest.raises(ServersUnreachable) as err:
        net.connect(timeout=2)
    assert f"127.0.0.1:{first}" in str(err.value) and f"127.0.0.1:{second}" in str(err.value)
    assert not net.connected
    net.close()
