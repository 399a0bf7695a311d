"""A batch between nodes (cluster/bus.py): items in order, and messages for clients carried as the
owner encoded them, so the home writes the same bytes out without encoding them again."""

from __future__ import annotations

from netplay.protocol import codec
from netplay.protocol.outgoing import Outgoing
from netplay.server.cluster.bus import decode_batch, encode_batch


def test_a_batch_keeps_its_items_in_order_and_the_encoded_messages_byte_for_byte() -> None:
    state = Outgoing({"type": "state", "room": "r-1", "view": {"board": ["X", None]}, "to": "é"})
    local = state.frame()  # what this node's own TCP clients got
    relay = Outgoing({"type": "relay", "room": "r-2", "from": "p-1", "data": "x" * 70_000})
    items = [
        ["req", "p-9", "ann", None, {"type": "move", "room": "r-1", "move": 4}],
        ["out", ["p-2", "p-3"], state],
        ["in", "p-2", "r-1"],
        ["out", ["p-4"], relay],
        ["close", "p-5"],
    ]
    sender, run, number, got = decode_batch(encode_batch("n1", "abc", 7, [list(i) for i in items]))
    assert (sender, run, number) == ("n1", "abc", 7)
    assert [i[:2] for i in got] == [i[:2] for i in items]
    assert got[0] == items[0] and got[2] == items[2] and got[4] == items[4]
    assert got[1][2].frame() == local  # the same bytes, not a new encoding of a decoded copy
    assert got[3][2].encode() == codec.encode(relay.message)
    assert got[3][2].message == relay.message
