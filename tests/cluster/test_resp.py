"""The node's lean Redis connections (cluster/resp.py), against a real redis-server: replies in the
order asked, refusals as values, the URL's password and database honoured, outages as redis-py's
errors, and a subscriber that hears every message in order."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from redis.asyncio import Redis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import NoScriptError, ResponseError

from netplay.server.cluster.resp import RespConnection, Subscriber

from .conftest import RedisProcess, start_redis


async def test_a_batch_gets_its_replies_in_order_and_a_refusal_does_not_hide_the_rest(
    redis_server: RedisProcess,
) -> None:
    redis = Redis.from_url(redis_server.url)
    conn = RespConnection(redis)
    try:
        replies = await conn.execute(
            [
                ("SET", "k", "v"),
                ("INCR", "k"),  # not a number: refused
                ("RPUSH", "list", b"\x00bytes", 7, 2.5),
                ("LRANGE", "list", 0, -1),
                ("EVALSHA", "0" * 40, 0),
                ("GET", "missing"),
            ]
        )
        assert replies[0] == b"OK"
        assert isinstance(replies[1], ResponseError) and "not an integer" in str(replies[1])
        assert replies[2] == 3 and replies[3] == [b"\x00bytes", b"7", b"2.5"]
        assert isinstance(replies[4], NoScriptError)
        assert replies[5] is None
        assert await redis.get("k") == b"v"  # what redis-py reads is what was written
    finally:
        conn.close()
        await redis.aclose()


async def test_the_url_password_and_database_are_used(redis_server: RedisProcess) -> None:
    admin = Redis.from_url(redis_server.url)
    await admin.config_set("requirepass", "s3cret")
    url = f"redis://:s3cret@127.0.0.1:{redis_server.port}/3"
    redis = Redis.from_url(url)
    conn = RespConnection(redis)
    try:
        assert await conn.execute([("SET", "where", "db3")]) == [b"OK"]
        assert await redis.get("where") == b"db3"
        wrong = RespConnection(Redis.from_url(f"redis://:wrong@127.0.0.1:{redis_server.port}/0"))
        with pytest.raises(RedisConnectionError, match="refused"):
            await wrong.execute([("PING",)])
    finally:
        conn.close()
        await redis.aclose()
        await admin.aclose()


async def test_a_dead_redis_is_a_connection_error_and_the_next_call_connects_again(tmp_path: Path) -> None:
    server = start_redis(tmp_path / "redis")
    redis = Redis.from_url(server.url)
    conn = RespConnection(redis)
    try:
        assert await conn.execute([("SET", "a", 1)]) == [b"OK"]
        server.kill()
        with pytest.raises(RedisConnectionError):
            await conn.execute([("GET", "a")])
        with pytest.raises(RedisConnectionError):  # nobody listens: refused at once, not hung
            await conn.execute([("GET", "a")])
        server = start_redis(tmp_path / "redis", server.port)
        assert await conn.execute([("SET", "a", 2), ("GET", "a")]) == [b"OK", b"2"]
    finally:
        conn.close()
        await redis.aclose()
        server.kill()


async def test_a_subscriber_hears_every_message_in_order_on_both_channels(redis_server: RedisProcess) -> None:
    redis = Redis.from_url(redis_server.url)
    subscriber = Subscriber(redis, ["one", "two"])
    try:
        await subscriber.start()
        sent = [("one" if n % 3 else "two", f"m{n}".encode() * (1 + n % 50)) for n in range(500)]
        publisher = RespConnection(redis)
        replies = await publisher.execute([("PUBLISH", channel, data) for channel, data in sent])
        assert replies == [1] * len(sent)  # one subscriber heard each
        heard = [await asyncio.wait_for(subscriber.message(), 10) for _ in sent]
        assert heard == [(channel.encode(), data) for channel, data in sent]
        publisher.close()
    finally:
        subscriber.close()
        await redis.aclose()


async def test_a_subscriber_whose_redis_dies_raises_a_connection_error(tmp_path: Path) -> None:
    server = start_redis(tmp_path / "redis")
    redis = Redis.from_url(server.url)
    subscriber = Subscriber(redis, ["one"])
    try:
        await subscriber.start()
        waiting = asyncio.create_task(subscriber.message())
        server.kill()
        with pytest.raises(RedisConnectionError):
            await asyncio.wait_for(waiting, 10)
    finally:
        subscriber.close()
        await redis.aclose()
