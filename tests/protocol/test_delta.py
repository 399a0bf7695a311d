"""Deltas of JSON views: diff then apply gives the new view exactly (types too), patches stay
small for the changes a real-time game makes, malformed patches are refused, hashes are pinned."""

from __future__ import annotations

import copy
import math
from typing import Any

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from netplay.protocol.delta import PatchError, apply, canonical, diff, state_hash


def same(a: Any, b: Any) -> bool:
    """Equal as JSON, types and all: True is not 1, 1 is not 1.0, -0.0 is not 0.0; key order aside."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(same(a[key], b[key]) for key in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, float):
        return a == b and math.copysign(1.0, a) == math.copysign(1.0, b)
    return bool(a == b)


def size(patch: list[Any]) -> int:
    return len(orjson.dumps(patch))


def round_trip(old: Any, new: Any) -> list[Any]:
    before = copy.deepcopy(old)
    patch = diff(old, new)
    wire = orjson.loads(orjson.dumps(patch))  # what a client gets
    assert same(apply(old, wire), new)
    assert same(apply(old, patch), new)
    assert same(old, before)  # apply never changes its input
    return patch


# -- strategies -----------------------------------------------------------------------------------
# Values Python finds equal and JSON does not, drawn often so that diff meets them side by side.
confusable = st.sampled_from([0, 1, True, False, 0.0, 1.0, -0.0, None, "", "1"])
scalars = (
    confusable
    | st.integers(-(2**53) + 1, 2**53 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=8)
)
keys = st.sampled_from(["a", "b", "c", "x", "y", "é", "😀"]) | st.text(max_size=4)


def containers(children: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.lists(children, max_size=8) | st.dictionaries(keys, children, max_size=6)


json_values = st.recursive(scalars, containers, max_leaves=30)


@st.composite
def edited(draw: st.DrawFn, value: Any) -> Any:
    """``value`` with a few edits of the kinds games make: elements appended, dropped at either
    end, inserted at the front, changed in place; keys added, removed, changed; types swapped."""
    choice = draw(st.integers(0, 9))
    if choice == 0:
        return draw(json_values)
    if choice == 1:
        return draw(confusable)
    if isinstance(value, list):
        out = [draw(edited(item)) if draw(st.integers(0, 3)) == 0 else item for item in value]
        for _ in range(draw(st.integers(0, 2))):
            action = draw(st.integers(0, 4))
            if action == 0:
                out.append(draw(json_values))
            elif action == 1 and out:
                out.pop()
            elif action == 2 and out:
                out.pop(0)
            elif action == 3:
                out.insert(0, draw(json_values))
            elif action == 4 and out:
                out.insert(draw(st.integers(0, len(out))), draw(scalars))
        return out
    if isinstance(value, dict):
        out = {
            key: draw(edited(item)) if draw(st.integers(0, 2)) == 0 else item for key, item in value.items()
        }
        for key in draw(st.lists(keys, max_size=2)):
            if key in out and draw(st.booleans()):
                del out[key]
            else:
                out[key] = draw(json_values)
        return out
    return draw(json_values) if choice < 5 else value


@st.composite
def pairs(draw: st.DrawFn) -> tuple[Any, Any]:
    old = draw(json_values)
    return old, draw(edited(old))


# -- round trips ----------------------------------------------------------------------------------
@settings(max_examples=400)
@given(json_values, json_values)
def test_any_two_values_round_trip(old: Any, new: Any) -> None:
    round_trip(old, new)


@settings(max_examples=600)
@given(pairs())
def test_a_value_and_an_edit_of_it_round_trip(pair: tuple[Any, Any]) -> None:
    old, new = pair
    patch = round_trip(old, new)
    if same(old, new):
        assert patch == []
    # Never longer than sending the value whole, but for one op's path and numbers: several ops
    # are replaced by the value where that is shorter.
    if len(patch) > 1:
        assert size(patch) < size([[], new])
    elif patch:
        assert size(patch) <= size([[], new]) + size(patch[0][0]) + 24


@given(json_values)
def test_a_value_diffed_with_a_copy_of_itself_is_the_empty_patch(value: Any) -> None:
    assert diff(value, copy.deepcopy(value)) == []
    assert diff(value, value) == []
    assert apply(value, []) is value


@given(json_values, json_values)
def test_apply_leaves_old_unchanged_even_when_the_patch_is_refused(old: Any, new: Any) -> None:
    before = copy.deepcopy(old)
    patch = [*diff(old, new), [["no such key", 0, "x"], 1]]
    with pytest.raises(PatchError):
        apply(old, patch)
    assert same(old, before)


def test_types_python_finds_equal_are_different_values() -> None:
    assert diff(True, 1) == [[[], 1]]
    assert diff(1, True) == [[[], True]]
    assert diff(1, 1.0) == [[[], 1.0]]
    assert diff(0.0, -0.0) == [[[], -0.0]]
    assert diff({"a": [0, 1]}, {"a": [False, 1]}) == [[["a", 0], False]]
    assert diff([1, 2, True], [1, 2, 1]) == [[[2], 1]]
    for old, new in [([1, 1], [True, True]), ({"k": [1.0]}, {"k": [1]}), ([[0], [1]], [[0], [True]])]:
        round_trip(old, new)


def test_key_order_is_no_difference() -> None:
    assert diff({"a": 1, "b": [1, {"c": 2, "d": 3}]}, {"b": [1, {"d": 3, "c": 2}], "a": 1}) == []


def test_tuples_are_arrays() -> None:
    assert diff({"at": (1, 2)}, {"at": (1, 3)}) == [[["at", 1], 3]]
    assert apply({"at": (1, 2)}, [[["at", 1], 3]]) == {"at": [1, 3]}


# -- patch sizes ----------------------------------------------------------------------------------
def view(trail: list[list[int]]) -> dict[str, Any]:
    return {
        "tick": 1200,
        "players": [
            {"name": "ann", "pos": {"x": 10, "y": 20}, "score": 3, "alive": True},
            {"name": "bob", "pos": {"x": 30, "y": 40}, "score": 5, "alive": True},
        ],
        "trail": trail,
        "food": [[5, 5], [7, 9]],
    }


TRAIL = [[i % 40, i // 40] for i in range(500)]


def test_an_unchanged_view_is_the_empty_patch() -> None:
    assert diff(view(TRAIL), view(copy.deepcopy(TRAIL))) == []


def test_one_number_changed_deep_inside_is_one_small_op() -> None:
    new = view(TRAIL)
    new["players"] = copy.deepcopy(new["players"])
    new["players"][1]["pos"]["x"] = 31
    patch = round_trip(view(TRAIL), new)
    assert patch == [[["players", 1, "pos", "x"], 31]]
    assert size(patch) < 40


def test_a_trail_growing_by_one_cell_is_one_op_with_only_that_cell() -> None:
    patch = round_trip(view(TRAIL), view([*TRAIL, [12, 13]]))
    assert patch == [[["trail"], 500, 0, [[12, 13]]]]
    assert size(patch) < 40


def test_a_trail_losing_its_last_cells_is_one_op() -> None:
    patch = round_trip(view(TRAIL), view(TRAIL[:-1]))
    assert patch == [[["trail"], 499, 1, []]]
    assert size(round_trip(view(TRAIL), view(TRAIL[:-3]))) < 40


def test_a_crawling_snake_is_two_splices() -> None:
    """A cell in at the head, one out at the tail: a shift of the whole list, sent as two ops."""
    at_end = round_trip(view(TRAIL), view([*TRAIL[1:], [12, 13]]))
    assert at_end == [[["trail"], 0, 1, []], [["trail"], 499, 0, [[12, 13]]]]
    at_start = round_trip(view(TRAIL), view([[12, 13], *TRAIL[:-1]]))
    assert at_start == [[["trail"], 0, 0, [[12, 13]]], [["trail"], 500, 1, []]]
    for patch in (at_end, at_start):
        assert size(patch) < 60


def test_a_key_added_or_removed_is_one_op() -> None:
    new = {**view(TRAIL), "winner": "ann"}
    assert round_trip(view(TRAIL), new) == [[["winner"], "ann"]]
    assert round_trip(new, view(TRAIL)) == [[["winner"]]]


def test_a_cell_inserted_or_removed_mid_list_is_one_splice() -> None:
    assert round_trip(TRAIL, [*TRAIL[:250], [99, 99], *TRAIL[250:]]) == [[[], 250, 0, [[99, 99]]]]
    assert round_trip(TRAIL, TRAIL[:250] + TRAIL[251:]) == [[[], 250, 1, []]]


def test_a_change_bigger_than_the_value_sends_the_value() -> None:
    assert diff([1, 2, 3], [4, 5, 6]) == [[[], [4, 5, 6]]]
    assert diff({"a": [1, 2], "b": [3]}, {"a": [5, 6], "b": [3]}) == [[["a"], [5, 6]]]
    assert diff({"a": 1}, [1]) == [[[], [1]]]


def test_the_documented_example() -> None:
    old = {"tick": 41, "trail": [[0, 0], [0, 1]], "lead": "ann"}
    new = {"tick": 42, "trail": [[0, 0], [0, 1], [0, 2]]}
    patch = [[["tick"], 42], [["trail"], 2, 0, [[0, 2]]], [["lead"]]]
    assert same(apply(old, patch), new)
    assert diff(old, new) == [[[], new]]  # shorter whole, for a view this small
    long_old = {**old, "trail": TRAIL}
    assert diff(long_old, {**new, "trail": [*TRAIL, [0, 2]]}) == [
        [["tick"], 42],
        [["trail"], 500, 0, [[0, 2]]],
        [["lead"]],
    ]


# -- apply ----------------------------------------------------------------------------------------
def test_apply_copies_only_the_changed_path() -> None:
    old = view(TRAIL)
    new = apply(old, [[["players", 0, "score"], 4]])
    assert new["trail"] is old["trail"] and new["food"] is old["food"]
    assert new["players"][1] is old["players"][1]
    assert new["players"][0] is not old["players"][0] and old["players"][0]["score"] == 3


def test_ops_apply_in_order_each_to_the_result_of_the_one_before() -> None:
    patch = [[["a"], {"b": [1]}], [["a", "b"], 1, 0, [2, 3]], [["a", "b", 0], 0], [["c"]]]
    assert apply({"c": 1}, patch) == {"a": {"b": [0, 2, 3]}}
    assert patch[0][1] == {"b": [1]}  # the patch's own values are not changed either


OLD = {"n": 5, "s": "text", "list": [1, 2, 3], "obj": {"k": None}}
MALFORMED: list[tuple[Any, Any, str]] = [
    (OLD, {"a": 1}, "a patch is an array of ops"),
    (OLD, None, "a patch is an array of ops"),
    (OLD, [5], "an op is"),
    (OLD, [{"path": []}], "an op is"),
    (OLD, [[]], "an op is"),
    (OLD, [[[], 1, 2]], "an op is"),
    (OLD, [[[], 1, 2, [], 4]], "an op is"),
    (OLD, [["n", 1]], "a path is an array"),
    (OLD, [[[True], 1]], "a path step is"),
    (OLD, [[[1.5], 1]], "a path step is"),
    (OLD, [[[None], 1]], "a path step is"),
    (OLD, [[[{}], 1]], "a path step is"),
    (OLD, [[["nope", "x"], 1]], "no key 'nope'"),
    (OLD, [[["n", "x"], 1]], "is 5, not an object or an array"),
    (OLD, [[["s", 0], 1]], "is 'text', not an object or an array"),
    (OLD, [[["list", 3], 1]], "index 3 is not in 0..2"),
    (OLD, [[["list", -1], 1]], "index -1 is not in 0..2"),
    (OLD, [[["list", "0"], 1]], "index '0' is not in"),
    (OLD, [[["list", 5, "x"], 1]], "index 5 is not in 0..2"),
    (OLD, [[["list", 0, 0], 1]], "is 1, not an object or an array"),
    (OLD, [[[0], 1]], "an object's key is a string"),
    (OLD, [[[0, "x"], 1]], "an object's key is a string"),
    (OLD, [[["zz"]]], "no key 'zz' to delete"),
    (OLD, [[[]]], "the whole view cannot be deleted"),
    (OLD, [[["list", 0]]], "delete removes an object's key"),
    (OLD, [[["obj"], 0, 0, []]], "a splice needs an array"),
    (OLD, [[["n"], 0, 0, []]], "is 5, not an object or an array"),
    (OLD, [[["list"], 4, 0, []]], "splice start 4 is not in 0..3"),
    (OLD, [[["list"], -1, 0, []]], "splice start -1"),
    (OLD, [[["list"], True, 0, []]], "splice start True"),
    (OLD, [[["list"], 0, 4, []]], "splice count 4 is not in 0..3"),
    (OLD, [[["list"], 2, 2, []]], "splice count 2 is not in 0..1"),
    (OLD, [[["list"], 0, -1, []]], "splice count -1"),
    (OLD, [[["list"], 0, 1.0, []]], "splice count 1.0"),
    (OLD, [[["list"], 0, 0, 7]], "splice items must be an array"),
    (5, [[["a"], 1]], "is 5, not an object or an array"),
    (OLD, [[["n"], 6], [["n", "x"], 1]], "op 1 "),  # the second op fails, on the first's result
]


@pytest.mark.parametrize(("old", "patch", "message"), MALFORMED)
def test_a_malformed_patch_is_refused_with_a_clear_message(old: Any, patch: Any, message: str) -> None:
    before = copy.deepcopy(old)
    with pytest.raises(PatchError) as raised:
        apply(old, patch)
    assert message in str(raised.value)
    assert isinstance(raised.value, ValueError)
    assert same(old, before)


# -- canonical form and hash ----------------------------------------------------------------------
def crc32(data: bytes) -> int:
    """CRC-32 from its definition, bit by bit (reflected polynomial 0xEDB88320, all ones in and out)."""
    crc = 0xFFFFFFFF
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0xEDB88320 if crc & 1 else crc >> 1
    return crc ^ 0xFFFFFFFF


def test_the_independent_crc32_meets_the_published_check_value() -> None:
    assert crc32(b"") == 0
    assert crc32(b"123456789") == 0xCBF43926  # the check value of CRC-32/ISO-HDLC
    assert crc32(b"The quick brown fox jumps over the lazy dog") == 0x414FA339


@pytest.mark.parametrize(
    ("value", "text", "pinned"),
    [
        (None, b"null", "25cbfc4f"),
        ({"b": [1, True, None], "a": "\u00e9"}, b'{"a":"\xc3\xa9","b":[1,true,null]}', "1d945999"),
        ({"tick": 7, "trail": [[0, 0], [0, 1]]}, b'{"tick":7,"trail":[[0,0],[0,1]]}', "b4a43dff"),
    ],
)
def test_state_hash_is_crc32_of_the_canonical_bytes(value: Any, text: bytes, pinned: str) -> None:
    assert canonical(value) == text
    assert f"{crc32(text):08x}" == pinned
    assert state_hash(value) == pinned


@given(json_values)
def test_state_hash_is_8_hex_digits_of_the_canonical_form(value: Any) -> None:
    found = state_hash(value)
    assert len(found) == 8 and found == found.lower() and int(found, 16) == crc32(canonical(value))
    assert canonical(value) == canonical(orjson.loads(orjson.dumps(value)))  # as a client holds it


@pytest.mark.parametrize(
    ("value", "text"),
    [
        ({"b": 1, "a": {"d": [], "c": {}}}, b'{"a":{"c":{},"d":[]},"b":1}'),
        ({"\U0001f600": 1, "\uffff": 2, "\u00e9": 3, "z": 4}, '{"z":4,"é":3,"\uffff":2,"😀":1}'.encode()),
        (
            '/\u2028\u2029\x7f\x00\x1f\b\f\n\r\t"\\',
            b'"/\xe2\x80\xa8\xe2\x80\xa9\x7f\\u0000\\u001f\\b\\f\\n\\r\\t\\"\\\\"',
        ),
        (
            [True, False, None, 0, -1, 2**53 - 1, -(2**53) + 1],
            b"[true,false,null,0,-1,9007199254740991,-9007199254740991]",
        ),
        # Numbers as JavaScript writes them: an integral float has no ".0", big ones go exponential
        # only from 1e21, small ones from 1e-7; integers beyond 2**53 as the nearest double.
        (
            [
                1.0,
                -0.0,
                0.0,
                1e16,
                1e21,
                1.5e-7,
                1e-6,
                0.1,
                -2.5e-10,
                123e-20,
                5e-324,
                1.7976931348623157e308,
            ],
            b"[1,0,0,10000000000000000,1e+21,1.5e-7,0.000001,0.1,-2.5e-10,1.23e-18,5e-324,1.7976931348623157e+308]",
        ),
        (
            [2**53, 2**53 + 1, 2**60, -(2**63)],
            b"[9007199254740992,9007199254740992,1152921504606847000,-9223372036854776000]",
        ),
        ({"v": "1.5e3", "w": [1.25]}, b'{"v":"1.5e3","w":[1.25]}'),
        (
            {"t": [[1, 2]], "p": {"x": 2.0, "y": [2**60, 0.5]}},
            b'{"p":{"x":2,"y":[1152921504606847000,0.5]},"t":[[1,2]]}',
        ),
    ],
)
def test_canonical_form(value: Any, text: bytes) -> None:
    assert canonical(value) == text


@pytest.mark.parametrize(
    ("value", "text"),
    [
        ([-3, 1e-5], b"[-3,0.00001]"),  # the float's only mark is "e-", after a "-" that is not one
        ({"a": "x-y", "b": 1e-5}, b'{"a":"x-y","b":0.00001}'),
        ([1e16, "-"], b'[10000000000000000,"-"]'),  # "e+"
        ([-1, -2, "e"], b'[-1,-2,"e"]'),  # no float at all
    ],
)
def test_floats_are_found_by_their_marks_alone(value: Any, text: bytes) -> None:
    assert canonical(value) == text


def test_an_integer_and_the_equal_float_hash_alike() -> None:
    """A JavaScript client cannot tell them apart, so the hash must not."""
    assert state_hash({"x": 1}) == state_hash({"x": 1.0})
    assert state_hash([0]) == state_hash([-0.0])
    assert state_hash([1]) != state_hash([True])


@given(st.floats(allow_nan=False, allow_infinity=False))
def test_a_canonical_float_reads_back_as_the_same_float(x: float) -> None:
    assert float(orjson.loads(canonical(x))) == x
