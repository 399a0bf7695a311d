"""delta.js against netplay.protocol.delta, in real headless Chromium: the patches Python makes,
applied in JavaScript, give Python's view, with the same canonical text and hash; the patches
Python refuses, JavaScript refuses too.

The cases travel as JSON text (orjson's, as on the wire) and are parsed in the page, all in one
``evaluate`` call.
"""

from __future__ import annotations

import random
import struct
from typing import Any

import orjson
import pytest

from netplay.protocol.delta import PatchError, apply, canonical, diff, state_hash

from .conftest import NetplayServer, Pages

LOAD = """async () => {
  const response = await fetch("/delta.js");
  window.delta = await import("/delta.js");
  return [response.status, response.headers.get("content-type")];
}"""

APPLY_ALL = """(cases) => {
  const { applyPatch, canonical, stateHash } = window.delta;
  return cases.map(([oldText, patchText, newText]) => {
    const old = JSON.parse(oldText);
    const before = canonical(old);
    try {
      const result = applyPatch(old, JSON.parse(patchText));
      const expected = canonical(JSON.parse(newText));
      return [canonical(result), stateHash(result), expected, canonical(old) === before];
    } catch (error) {
      return [`${error.name}: ${error.message}`, "", "", false];
    }
  });
}"""

REFUSE_ALL = """(cases) => {
  const { applyPatch, PatchError } = window.delta;
  const answers = cases.map(([oldText, patchText]) => {
    try {
      applyPatch(JSON.parse(oldText), JSON.parse(patchText));
      return "applied";
    } catch (error) {
      return error instanceof PatchError && error.name === "PatchError" ? "PatchError" : String(error);
    }
  });
  return [answers, Object.prototype.polluted === undefined && {}.polluted === undefined];
}"""

# -- random views ---------------------------------------------------------------------------------
ALPHABET = ["a", "b", "z", " ", "/", "\\", '"', "\n", "\t", "\x00", "\x1f", "\x7f", "é", "\u2028",
            "\u2029", "\ue000", "\uffff", "😀", "𝄞", "中"]  # fmt: skip
KEYS = ["a", "b", "x", "y", "tick", "__proto__", "constructor", "toString", "é", "\ue000", "\uffff",
        "😀", "𝄞", ""]  # fmt: skip
FLOATS = [1e16, 1e21, 1e20, 1e-7, 1e-6, 1.5e-7, 123e-20, 5e-324, 2.2250738585072014e-308,
          1.7976931348623157e308, 0.1, 0.30000000000000004, 1e15 + 0.5, 4.35, 100.0, 2.0**53, 2.0**70,
          -1e-300, 1 / 3]  # fmt: skip


def random_float(rng: random.Random) -> float:
    kind = rng.randrange(3)
    if kind == 0:
        return rng.choice(FLOATS) * rng.choice([1, -1])
    if kind == 1:
        return round(rng.uniform(-1000, 1000), rng.randrange(0, 6)) * 10.0 ** rng.randint(-25, 25)
    while True:  # any double, from its bits
        x: float = struct.unpack("<d", rng.getrandbits(64).to_bytes(8, "little"))[0]
        if x == x and abs(x) != float("inf"):
            return x


def random_scalar(rng: random.Random) -> Any:
    kind = rng.randrange(8)
    if kind == 0:
        return rng.choice([0, 1, True, False, None, 0.0, 1.0, -0.0, "", "1"])
    if kind == 1:
        return rng.randint(-(2**53) + 1, 2**53 - 1)
    if kind == 2:
        return rng.randint(-(2**63), 2**64 - 1)  # beyond 2**53 JavaScript holds the nearest double
    if kind == 3:
        return random_float(rng)
    if kind in (4, 5):
        return rng.randint(-50, 50)
    return "".join(rng.choice(ALPHABET) for _ in range(rng.randrange(6)))


def random_key(rng: random.Random) -> str:
    return rng.choice(KEYS) if rng.random() < 0.7 else "".join(rng.choice(ALPHABET) for _ in range(3))


def random_value(rng: random.Random, depth: int = 0) -> Any:
    r = rng.random()
    if depth >= 4 or r < 0.45:
        return random_scalar(rng)
    if r < 0.75:
        return [random_value(rng, depth + 1) for _ in range(rng.randrange(7))]
    return {random_key(rng): random_value(rng, depth + 1) for _ in range(rng.randrange(6))}


def mutate(rng: random.Random, value: Any) -> Any:
    r = rng.random()
    if r < 0.1:
        return random_value(rng)
    if isinstance(value, list):
        out = [mutate(rng, item) if rng.random() < 0.25 else item for item in value]
        for _ in range(rng.randrange(3)):
            action = rng.randrange(5)
            if action == 0:
                out.append(random_value(rng, 2))
            elif action == 1 and out:
                out.pop()
            elif action == 2 and out:
                out.pop(0)
            elif action == 3:
                out.insert(0, random_value(rng, 2))
            elif action == 4:
                out.insert(rng.randint(0, len(out)), random_scalar(rng))
        return out
    if isinstance(value, dict):
        out = {key: mutate(rng, item) if rng.random() < 0.3 else item for key, item in value.items()}
        for _ in range(rng.randrange(3)):
            key = random_key(rng)
            if key in out and rng.random() < 0.5:
                del out[key]
            else:
                out[key] = random_value(rng, 2)
        return out
    return random_scalar(rng) if r < 0.5 else value


def random_pairs(count: int, seed: int = 1729) -> list[tuple[Any, Any]]:
    rng = random.Random(seed)
    found: list[tuple[Any, Any]] = []
    while len(found) < count:
        if len(found) % 10 == 0:  # a game view whose trail grows, crawls or shrinks
            trail = [[rng.randrange(40), rng.randrange(30)] for _ in range(rng.randrange(50, 300))]
            head = [[rng.randrange(40), rng.randrange(30)]]
            new_trail = rng.choice([trail + head, trail[1:] + head, head + trail[:-1], trail[:-2]])
            old = {"tick": len(found), "trail": trail, "x": random_value(rng)}
            found.append((old, {"tick": len(found) + 1, "trail": new_trail, "x": mutate(rng, old["x"])}))
            continue
        old = random_value(rng)
        found.append((old, mutate(rng, old) if rng.random() < 0.85 else random_value(rng)))
    return found


def text(value: Any) -> str:
    return orjson.dumps(value).decode()


# -- tests ----------------------------------------------------------------------------------------
@pytest.fixture
def page(web_server: NetplayServer, pages: Pages) -> Any:
    """A page of the server's origin with delta.js imported (as ``window.delta``), from where the
    server serves it: next to netplay.js."""
    page = pages.open(web_server.url + "delta.js")
    status, content_type = page.evaluate(LOAD)
    assert status == 200 and content_type.startswith("text/javascript")
    return page


def test_javascript_applies_pythons_patches_and_agrees_on_canonical_text_and_hash(page: Any) -> None:
    pairs = random_pairs(300)
    cases = [(text(old), text(diff(old, new)), text(new)) for old, new in pairs]
    answers = page.evaluate(APPLY_ALL, cases)
    assert len(answers) == len(pairs)
    ops = 0
    for (_, new), (old_text, patch_text, _), answer in zip(pairs, cases, answers, strict=True):
        expected = [canonical(new).decode(), state_hash(new), canonical(new).decode(), True]
        assert answer == expected, f"old {old_text}\npatch {patch_text}"
        assert canonical(apply(orjson.loads(old_text), orjson.loads(patch_text))) == canonical(new)
        ops += len(orjson.loads(patch_text))
    assert ops > len(pairs)  # the cases are patches, not mostly whole values or nothing


# Patches both languages must refuse, as JSON text: [old, patch].
MALFORMED = [
    ({"a": 1}, {"a": 1}),
    ({"a": 1}, "[[]]"),
    ({"a": 1}, [5]),
    ({"a": 1}, [[[], 1, 2]]),
    ({"a": 1}, [[[], 1, 2, [], 4]]),
    ({"a": 1}, [["a", 1]]),
    ({"a": 1}, [[[True], 1]]),
    ({"a": 1}, [[[1.5], 1]]),
    ({"a": 1}, [[[None], 1]]),
    ({"a": 1}, [[["nope", "x"], 1]]),
    ({"a": 1}, [[["a", "x"], 1]]),
    ({"s": "text"}, [[["s", 0], 1]]),
    ({"l": [1, 2, 3]}, [[["l", 3], 1]]),
    ({"l": [1, 2, 3]}, [[["l", -1], 1]]),
    ({"l": [1, 2, 3]}, [[["l", "0"], 1]]),
    ({"l": [1, 2, 3]}, [[["l", 0, 0], 1]]),
    ({"a": 1}, [[[0], 1]]),
    ({"a": 1}, [[["zz"]]]),
    ({"a": 1}, [[[]]]),
    ({"l": [1, 2, 3]}, [[["l", 0]]]),
    ({"a": {}}, [[["a"], 0, 0, []]]),
    ({"l": [1, 2, 3]}, [[["l"], 4, 0, []]]),
    ({"l": [1, 2, 3]}, [[["l"], -1, 0, []]]),
    ({"l": [1, 2, 3]}, [[["l"], True, 0, []]]),
    ({"l": [1, 2, 3]}, [[["l"], 0, 4, []]]),
    ({"l": [1, 2, 3]}, [[["l"], 2, 2, []]]),
    ({"l": [1, 2, 3]}, [[["l"], 0, 0.5, []]]),
    ({"l": [1, 2, 3]}, [[["l"], 0, 0, 7]]),
    ({"l": [1, 2, 3]}, [[["l"], 0, 0, None]]),
    (5, [[["a"], 1]]),
    ({"a": 1}, [[["a"], 2], [["a", "x"], 1]]),
    # Keys every JavaScript object seems to have, but not as its own: no such key in the view.
    ({}, [[["toString", "x"], 1]]),
    ({}, [[["__proto__", "polluted"], 1]]),
    ({}, [[["constructor"]]]),
    ({}, [[["hasOwnProperty"], 0, 0, []]]),
]


def test_javascript_refuses_what_python_refuses(page: Any) -> None:
    cases = [(text(old), patch if isinstance(patch, str) else text(patch)) for old, patch in MALFORMED]
    for old_text, patch_text in cases:
        with pytest.raises(PatchError):
            apply(orjson.loads(old_text), orjson.loads(patch_text))
    answers, clean = page.evaluate(REFUSE_ALL, cases)
    assert answers == ["PatchError"] * len(cases), [
        c for c, a in zip(cases, answers, strict=True) if a != "PatchError"
    ]
    assert clean


def test_a_key_named_proto_is_an_ordinary_key(page: Any) -> None:
    """Setting "__proto__" makes an own key (as JSON.parse does), never the object's prototype."""
    old: dict[str, Any] = {"a": {}}
    new = {"a": {"__proto__": {"polluted": 1}}, "__proto__": [1]}
    patch = diff(old, new)
    (answer,) = page.evaluate(APPLY_ALL, [(text(old), text(patch), text(new))])
    assert answer == [canonical(new).decode(), state_hash(new), canonical(new).decode(), True]
    assert page.evaluate("({}).polluted === undefined && Object.getPrototypeOf({}) === Object.prototype")


def test_numbers_are_written_alike(page: Any) -> None:
    """Floats of every size and integers past 2**53, one by one: JavaScript's text is Python's."""
    rng = random.Random(2718)
    numbers: list[Any] = [random_float(rng) for _ in range(3000)]
    numbers += [*FLOATS, 0.0, -0.0, 2**53 - 1, 2**53, 2**53 + 1, 2**63 - 1, -(2**63), 2**64 - 1]
    numbers += [rng.randint(-(2**64) // 2, 2**64 - 1) for _ in range(300)]
    texts = page.evaluate(
        "(texts) => texts.map((t) => window.delta.canonical(JSON.parse(t)))", [text(n) for n in numbers]
    )
    wrong = [(n, js) for n, js in zip(numbers, texts, strict=True) if canonical(n).decode() != js]
    assert not wrong
