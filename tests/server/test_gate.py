"""Connection slots, counted by hand: transports are stand-ins that only say where they come from."""

from __future__ import annotations

from typing import Any

from netplay.server.config import ServerConfig
from netplay.server.gate import ConnectionGate, address_key


class Peer:
    """A transport as far as the gate looks at one."""

    def __init__(self, host: str, port: int = 1) -> None:
        self.host, self.port = host, port

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return (self.host, self.port) if name == "peername" else default


def test_addresses_are_counted_by_ip_and_ipv6_by_its_64() -> None:
    assert address_key(("203.0.113.7", 5000)) == "203.0.113.7"
    assert address_key(("2001:db8:1:2:aaaa::1", 5000, 0, 0)) == "2001:db8:1:2::/64"
    assert address_key(("2001:db8:1:2:bbbb::9", 5000, 0, 0)) == "2001:db8:1:2::/64"
    assert address_key(("2001:db8:1:3::1", 5000, 0, 0)) == "2001:db8:1:3::/64"
    assert address_key(("::ffff:203.0.113.7", 5000, 0, 0)) == "203.0.113.7"
    assert address_key(None) == address_key("") == "?"


def test_per_address_and_total_limits() -> None:
    gate = ConnectionGate(ServerConfig(max_connections=5, max_connections_per_address=2))
    a1, a2, a3 = Peer("10.0.0.1", 1), Peer("10.0.0.1", 2), Peer("10.0.0.1", 3)
    assert gate.admit(a1) and gate.admit(a2)
    assert not gate.admit(a3)  # a third from the same address
    assert gate.admit(Peer("10.0.0.2")) and gate.admit(Peer("10.0.0.3")) and gate.admit(Peer("10.0.0.4"))
    assert not gate.admit(Peer("10.0.0.5"))  # five at once in all
    assert gate.count == 5 and gate.from_address("10.0.0.1") == 2 and gate.refused == 2
    gate.release(a1)
    assert gate.admit(a3)  # the slot a1 gave back


def test_admit_and_release_are_idempotent_per_transport() -> None:
    gate = ConnectionGate(ServerConfig(max_connections=1, max_connections_per_address=0))
    sock = Peer("10.0.0.1")
    assert gate.admit(sock) and gate.admit(sock)  # handed from one protocol to the next: one slot
    assert gate.count == 1
    gate.release(sock)
    gate.release(sock)
    gate.release(Peer("10.0.0.9"))  # never admitted
    assert gate.count == 0 and gate.from_address("10.0.0.1") == 0


def test_no_per_address_limit_when_it_is_zero() -> None:
    gate = ConnectionGate(ServerConfig(max_connections=1000, max_connections_per_address=0))
    assert all(gate.admit(Peer("127.0.0.1", port)) for port in range(1000))
    assert not gate.admit(Peer("127.0.0.1", 5000))
