"""A relay room with members on three nodes: each message once to every other member, in order."""

from __future__ import annotations

import asyncio

from netplay.client import Client

from .conftest import MakeNode


async def test_each_message_reaches_every_other_member_once_in_per_sender_order(make_node: MakeNode) -> None:
    nodes = [await make_node(rate_limit=0) for _ in range(3)]
    members = [
        await Client.connect("127.0.0.1", nodes[n % 3].port, name=f"m{n}", reconnect=False) for n in range(6)
    ]
    room = (await members[0].create_room("dots", kind="relay"))["room"]["id"]
    for member in members[1:]:
        await member.join(room)
    for member in members[:-1]:  # the last join is announced to everyone before anyone sends
        await member.wait_for("member_joined", room=room, member={**_last(members), "role": "member"})
    per_sender = 200
    for n, member in enumerate(members):
        for k in range(per_sender):
            await member.relay({"from": n, "k": k}, room=room)
        await member.relay({"from": n, "end": True}, room=room)  # after all of n's, if in order
    for n, member in enumerate(members):
        seen: dict[int, list[int]] = {m: [] for m in range(6) if m != n}
        ended: set[int] = set()
        async with asyncio.timeout(20):
            while len(ended) < 5:
                data = (await member.wait_for("relay", room=room))["data"]
                assert data["from"] != n, "a member got its own message back"
                if data.get("end"):
                    ended.add(data["from"])
                else:
                    seen[data["from"]].append(data["k"])
        # Everything before each sender's end marker: each message once, in the order sent.
        assert all(ks == list(range(per_sender)) for ks in seen.values()), f"member {n}"
    await asyncio.gather(*(m.close() for m in members))


def _last(members: list[Client]) -> dict[str, object]:
    last = members[-1]
    return {"id": last.id, "name": "m5", "seat": None, "bot": None}
