"""Connection slots: every socket any listener accepts, counted in one place, per server and per address.

A socket takes a slot the moment it is accepted, whatever it turns out to speak (netplay over TCP,
HTTP, a WebSocket, the 15-112 text dialect) and however little it has sent, and gives it back when
it closes. Past ``max_connections`` sockets at once, or ``max_connections_per_address`` from one
address (IPv6: from one /64, what one household or one attacker holds), the new socket is refused
and closed at once: silent or half-sent connections cannot fill the server.

The listeners' protocols call ``admit`` when a connection is made and ``release`` when it is lost;
both are keyed by the transport and idempotent, so a connection handed from one protocol to another
(the shared port's sniffer to TCP or HTTP, HTTP to WebSocket) keeps its one slot. ``guard`` wraps
the factory of a listener whose protocol does not know the gate (the text port's).
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .config import ServerConfig

__all__ = ["ConnectionGate", "address_key"]

log = logging.getLogger("netplay.server")

#: On the shared port a refused socket may wait a moment for its first bytes, to be refused in its
#: own protocol (``server_full`` for netplay, 503 for HTTP: ``transports.websocket.REFUSAL_WAIT``).
#: At most this many wait so at a time; past that, a refused socket is closed at once, without a word.
_EXPLAINING = 32
#: Refusals are logged at most this often (with how many there were), not once per socket.
_LOG_EVERY = 10.0


def address_key(peername: Any) -> str:
    """What the per-address limit counts by: the IP address, an IPv6 one by its /64 (an IPv4 address
    mapped into IPv6 as itself)."""
    if not isinstance(peername, tuple) or not peername:
        return "?"  # a Unix socket, or a transport that does not say
    host = str(peername[0])
    if ":" not in host:
        return host
    try:
        address = ipaddress.IPv6Address(host.partition("%")[0])
    except ValueError:
        return host
    if address.ipv4_mapped is not None:
        return str(address.ipv4_mapped)
    return str(ipaddress.IPv6Network((address, 64), strict=False))


class ConnectionGate:
    """Slots for the sockets of one server: ``max_connections`` at once, ``max_connections_per_address``
    (0: no limit) from one address."""

    __slots__ = ("_by_address", "_config", "_explaining", "_held", "_logged", "_unlogged", "refused")

    def __init__(self, config: ServerConfig) -> None:
        self._config = config  # read at each admission: fit_connections_to_files may lower the cap
        self._held: dict[object, str] = {}  # transport -> its address key
        self._by_address: dict[str, int] = {}
        self._explaining: set[object] = set()
        #: Sockets refused since the server started.
        self.refused = 0
        self._logged = -_LOG_EVERY
        self._unlogged = 0

    @property
    def count(self) -> int:
        """Sockets holding a slot now."""
        return len(self._held)

    def from_address(self, key: str) -> int:
        """Sockets holding a slot now from one address (an ``address_key``)."""
        return self._by_address.get(key, 0)

    def admit(self, transport: asyncio.BaseTransport) -> bool:
        """Give a newly accepted socket its slot; False (nothing taken) when it is over a limit.

        True at once for a socket that already holds one."""
        held = self._held
        if transport in held:
            return True
        config = self._config
        key = address_key(transport.get_extra_info("peername"))
        if len(held) >= config.max_connections:
            self._refusal(key, f"{config.max_connections} connections is the limit", "max_connections")
            return False
        per_address = config.max_connections_per_address
        count = self._by_address.get(key, 0)
        if per_address > 0 and count >= per_address:
            self._refusal(
                key, f"{per_address} connections from one address is the limit", "max_connections_per_address"
            )
            return False
        held[transport] = key
        self._by_address[key] = count + 1
        return True

    def release(self, transport: asyncio.BaseTransport) -> None:
        """The socket is closed: its slot is free (nothing happens for one that held none)."""
        self._explaining.discard(transport)
        key = self._held.pop(transport, None)
        if key is None:
            return
        left = self._by_address[key] - 1
        if left:
            self._by_address[key] = left
        else:
            del self._by_address[key]

    # -- refusals ------------------------------------------------------------------------------
    def may_explain(self, transport: asyncio.BaseTransport) -> bool:
        """Whether a refused socket may wait a moment to be refused in its own protocol; call
        ``explained`` (or ``release``) once it is. False: close it now."""
        if len(self._explaining) >= _EXPLAINING:
            return False
        self._explaining.add(transport)
        return True

    def explained(self, transport: asyncio.BaseTransport) -> None:
        self._explaining.discard(transport)

    def _refusal(self, key: str, why: str, reason: str) -> None:
        self.refused += 1
        self._unlogged += 1
        now = time.monotonic()
        if now - self._logged >= _LOG_EVERY:
            more = f" (and {self._unlogged - 1} more since the last such line)" if self._unlogged > 1 else ""
            log.warning(
                "refusing a connection from %s: %s%s", key, why, more,
                extra={"event": "refused", "peer": key, "reason": reason},
            )  # fmt: skip
            self._logged = now
            self._unlogged = 0

    # -- listeners whose protocols do not call the gate -----------------------------------------
    def guard(self, factory: Callable[[], asyncio.Protocol]) -> Callable[[], asyncio.Protocol]:
        """A protocol factory for ``loop.create_server``: each connection takes a slot before it
        reaches ``factory``'s protocol and is closed without a byte when there is none."""
        return lambda: _Guarded(self, factory)


class _Guarded(asyncio.Protocol):
    """Holds a connection's slot around a protocol that does not know the gate; passes on the rest."""

    __slots__ = ("_factory", "_gate", "_inner", "_transport")

    def __init__(self, gate: ConnectionGate, factory: Callable[[], asyncio.Protocol]) -> None:
        self._gate = gate
        self._factory = factory
        self._inner: asyncio.Protocol | None = None
        self._transport: asyncio.BaseTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = transport
        if not self._gate.admit(transport):
            transport.close()
            return
        self._inner = self._factory()
        self._inner.connection_made(transport)

    def data_received(self, data: bytes) -> None:
        if self._inner is not None:
            self._inner.data_received(data)

    def eof_received(self) -> bool | None:
        return self._inner.eof_received() if self._inner is not None else False

    def pause_writing(self) -> None:
        if self._inner is not None:
            self._inner.pause_writing()

    def resume_writing(self) -> None:
        if self._inner is not None:
            self._inner.resume_writing()

    def connection_lost(self, exc: Exception | None) -> None:
        if self._transport is not None:
            self._gate.release(self._transport)
        if self._inner is not None:
            self._inner.connection_lost(exc)
