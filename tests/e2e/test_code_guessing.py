"""Private codes cannot be guessed (issue 9, item 7): long codes, and wrong guesses are limited per
address and per connection, end to end over real sockets."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from netplay.server import Server
from netplay.server.directory import _CODE_ALPHABET, CODE_LENGTH
from netplay.server.guesses import CODE_GUESSES, CODE_GUESSES_PER_MINUTE

from ..conftest import RawPeer

MakeServer = Callable[..., Awaitable[Server]]


def test_at_the_limit_guessing_one_of_1000_rooms_takes_years() -> None:
    codes = len(_CODE_ALPHABET) ** CODE_LENGTH
    minutes = codes / 1000 / CODE_GUESSES_PER_MINUTE  # the expected number of tries, at the limit
    assert minutes / (60 * 24 * 365) > 100


async def test_twenty_connections_from_one_address_share_ten_wrong_codes(make_server: MakeServer) -> None:
    server = await make_server()
    host = await RawPeer.open(server.port)
    await host.hello("Host")
    host.send({"type": "create_room", "game": "tictactoe", "private": True, "id": 1})
    code = (await host.recv_type("joined"))["code"]
    assert len(code) == CODE_LENGTH and set(code) <= set(_CODE_ALPHABET)
    guessers = [await RawPeer.open(server.port) for _ in range(20)]
    for n, peer in enumerate(guessers):
        await peer.hello(f"guesser{n}")
    refusals = []
    for n in range(2 * CODE_GUESSES):
        peer = guessers[n % len(guessers)]  # spread over the connections: the address counts
        peer.send({"type": "join_room", "code": f"ZZZZZZ{n:02d}", "id": n})
        refusals.append((await peer.recv_type("error"))["code"])
    assert refusals == ["wrong_code"] * CODE_GUESSES + ["rate_limited"] * CODE_GUESSES
    # While limited, even the right code is refused from this address: guessing cannot get faster.
    late = guessers[0]
    late.send({"type": "join_room", "code": code, "id": 99})
    error = await late.recv_type("error")
    assert error["code"] == "rate_limited" and "try again in" in error["message"], error
    for peer in [host, *guessers]:
        await peer.close()


async def test_a_code_is_matched_however_it_is_typed(make_server: MakeServer) -> None:
    server = await make_server()
    host = await RawPeer.open(server.port)
    await host.hello("Host")
    host.send({"type": "create_room", "game": "tictactoe", "private": True, "id": 1})
    code = (await host.recv_type("joined"))["code"]
    friend = await RawPeer.open(server.port)
    await friend.hello("Friend")
    friend.send({"type": "join_room", "code": f" {code[:4].lower()}-{code[4:]} ", "id": 2})
    assert (await friend.recv_type("joined"))["seat"] == 1
    for peer in (host, friend):
        await peer.close()
