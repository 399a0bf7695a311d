"""Deltas of JSON views: ``diff`` makes a patch, ``apply`` applies one, ``state_hash`` checks the result.

A real-time room sends each client its view as a patch against the last view that client
acknowledged (a keyframe, the whole view, on join and every few seconds), with the short hash
of the view the patch produces: a client whose result hashes differently asks for a keyframe.
The Python client applies patches with ``apply``, the browser with ``applyPatch`` of
``web/delta.js``; both follow the format below, which is all a client in another language needs.

The format
----------
A *patch* is a JSON array of *ops*, applied in order, each to the result of the one before. A
*path* is an array of steps from the root of the view: a string steps into an object (by key),
an integer into an array (by index, from 0). An op is an array, told apart by its length:

=================================  ===========================================================
``[path, value]``                  set: the value at ``path`` becomes ``value``. The parent
                                   (``path`` less its last step) must exist; an object's key
                                   may be new (added) or not (replaced); an array's index must
                                   be in range (0 <= index < length). ``[[], value]`` replaces
                                   the whole view.
``[path]``                         delete: remove the key (the last step, a string) from the
                                   object at ``path`` less its last step; the key must exist.
``[path, start, count, items]``    splice: in the array at ``path``, replace the ``count``
                                   elements from index ``start`` with the elements of the array
                                   ``items`` (as JavaScript's ``a.splice(start, count, ...items)``);
                                   ``0 <= start``, ``0 <= count``, ``start + count <= length``.
                                   Append is ``[path, length, 0, [x]]``; truncate to ``n`` is
                                   ``[path, n, length - n, []]``.
=================================  ===========================================================

Anything else is malformed, and the whole patch is refused (``PatchError``; the view the client
holds is unchanged, and it asks for a keyframe): an op of another length or not an array, a path
that is not an array or holds a step other than a string or an integer, a step into a missing
key, into an index out of range or into a value that is neither an object nor an array, a string
step into an array or an integer one into an object, a delete of a missing key or of an array
element, a splice on something not an array or out of its bounds.

Example: from ``{"tick": 41, "trail": [[0, 0], [0, 1]], "lead": "ann"}`` to
``{"tick": 42, "trail": [[0, 0], [0, 1], [0, 2]]}`` a patch is::

    [[["tick"], 42], [["trail"], 2, 0, [[0, 2]]], [["lead"]]]

(``diff`` sends ``[[[], new]]`` instead wherever the value whole is no longer than its ops, as
for a view this small; with a trail of 500 cells it sends the three ops above.)

*The hash* of a view is CRC-32 (the one of zlib, PNG and Ethernet: polynomial 0xEDB88320
reflected, initial value and final XOR 0xFFFFFFFF) over the UTF-8 bytes of the view's *canonical*
form, written as 8 lowercase hex digits: ``state_hash({"a": [1, true]})`` hashes
``{"a":[1,true]}``. The canonical form is JSON with no whitespace, object keys sorted by Unicode
code point (which is the order of their UTF-8 bytes; not JavaScript's default UTF-16 order),
strings escaped as ``JSON.stringify`` does (``"`` ``\\`` and the control characters below
U+0020 only: ``\\b \\t \\n \\f \\r``, others as ``\\u00XX`` in lowercase hex; "/", U+007F,
U+2028 and U+2029 as they are), and numbers written as JavaScript writes them
(``Number.prototype.toString``): 1.0 is ``1``, -0.0 is ``0``, 1e16 is ``10000000000000000``,
1e21 is ``1e+21``, 1.5e-7 is ``1.5e-7``. So the hash is of what a JavaScript client can hold:
an integer and the equal float hash alike, and an integer beyond 2**53 hashes as the nearest
double (what ``JSON.parse`` makes of it).

What a view may hold: objects with string keys, arrays, strings (valid Unicode: no lone
surrogates), booleans, null, and numbers, finite. Real-time games should keep integer states
(within +-(2**53 - 1), where every language agrees exactly); floats work and hash alike in Python
and JavaScript, but a float's last digit is rarely worth the bytes.

``diff`` is exact about types: ``True`` and ``1``, ``1`` and ``1.0``, ``0.0`` and ``-0.0`` are
different values to it (Python finds them equal), so the client gets the very JSON the server
would have sent whole. Key order is not a difference. Tuples are arrays, as orjson sends them.
"""

from __future__ import annotations

import math
import re
import zlib
from operator import is_
from typing import Any, Final

import orjson

__all__ = ["PatchError", "apply", "canonical", "diff", "state_hash"]

_SORT = orjson.OPT_SORT_KEYS
_dumps = orjson.dumps
_SCALARS = (str, int, float, bool, type(None))
# How far ``diff`` looks for an array whose middle moved by a few places (a snake that crawls:
# one cell in at the head, one out at the tail), to send two splices instead of every cell.
_MAX_SHIFT = 4
# Whether orjson's output may hold a float: it writes each with a "." or a signed exponent ("1.0",
# "1e+16", "5e-324"), an integer never; strings may match too (harmless: that only takes the slower
# exact path). Substring searches, not a regular expression: ten times faster on a view of 4 KB.
# An orjson that writes exponents unsigned ("1e16") gets the slower (and exact) regular expression.
_FLOAT_TOKEN = re.compile(rb"[0-9][.e]")
_SIGNED_EXPONENTS = orjson.dumps([1e16, 1e-7, 5e-324]) == b"[1e+16,1e-7,5e-324]"
_SAFE = 2**53


class PatchError(ValueError):
    """A malformed patch (it comes from the network: the client asks for a keyframe)."""


# -- diff -----------------------------------------------------------------------------------------
def diff(old: Any, new: Any) -> list[Any]:
    """The patch (a JSON-compatible list of ops) that turns ``old`` into ``new``: ``[]`` if equal.

    The patch holds parts of ``new`` itself, not copies: encode it before changing ``new``.
    """
    ops: list[Any] = []
    _diff(old, new, [], ops)
    return ops


def _same(a: Any, b: Any) -> bool:
    """Equal as JSON: Python's ``==`` (which never says two different JSON values are
    different), and then the same types (``True == 1 == 1.0``, ``0.0 == -0.0`` for Python)."""
    if a is b:
        return True
    if not a == b:
        return False
    ta, tb = type(a), type(b)
    if ta in _SCALARS or tb in _SCALARS:
        if ta is not tb:
            return False
        return ta is not float or math.copysign(1.0, a) == math.copysign(1.0, b)
    # Made of the very same values (a new list of the same cycles, a trail with a cell added):
    # the same JSON, found without encoding either.
    if ta is tb and (ta is list or ta is tuple) and all(map(is_, a, b)):
        return True
    if ta is dict and tb is dict and all(map(is_, a, b)) and all(map(is_, a.values(), b.values())):
        return True
    # The same bytes are the same JSON. Key order is not sorted (twice the cost): two objects
    # equal but for their order count as different, and the diff then walks into them, correctly.
    return _dumps(a) == _dumps(b)


_MISSING: Final = object()


def _diff(old: Any, new: Any, path: list[Any], ops: list[Any]) -> int:
    """Append the ops that turn ``old`` into ``new`` at ``path``; return a lower bound on the
    length of ``new`` as JSON, from what was looked at (every value takes a byte at least)."""
    if _same(old, new):
        return 1
    start = len(ops)
    if isinstance(old, dict) and isinstance(new, dict):
        size = 2 * len(new) + 1  # the braces, the commas, each key's colon
        for key, value in new.items():
            size += len(key) + 2 if type(key) is str else 1  # the key and its quotes
            was = old.get(key, _MISSING)
            if was is value:
                size += 1
                continue  # the very same value (most of a view, from one tick to the next)
            if was is _MISSING:
                ops.append([[*path, key], value])
                size += 1
            else:
                size += _diff(was, value, [*path, key], ops)
        for key in old:
            if key not in new:
                ops.append([[*path, key]])
    elif isinstance(old, (list, tuple)) and isinstance(new, (list, tuple)):
        size = _diff_array(old, new, path, ops)
    else:
        ops.append([path, new])
        return 1
    # Several ops may cost more than the value itself: then send the value. Most often the value
    # is far the bigger (a list of trails against a cell added to each), which the bound shows
    # without encoding it: ``[path, new]`` takes at least its brackets, a comma and ``[]`` more.
    if len(ops) - start > 1:
        cost = len(_dumps(ops[start:]))
        if size + 5 <= cost and len(_dumps([path, new])) <= cost:
            del ops[start:]
            ops.append([path, new])
    return size


def _diff_array(a: Any, b: Any, path: list[Any], ops: list[Any]) -> int:
    """The ops for two arrays: the common start and end are kept; of the middle, a shift by a
    few places becomes two splices, else elements are diffed in place and the excess spliced.
    Returns a lower bound on the length of ``b`` as JSON (as ``_diff``)."""
    size = 2 * len(b) + 1 if b else 2  # the brackets, the commas and a byte for each element
    p = _prefix(a, b, min(len(a), len(b)))
    s = _suffix(a, b, min(len(a), len(b)) - p)
    x_end, y_end = len(a) - s, len(b) - s
    lx, ly = x_end - p, y_end - p  # the middles: a[p:x_end] becomes b[p:y_end]
    if lx == 0 or ly == 0:
        ops.append([path, p, lx, list(b[p:y_end])])
        return size
    for d in range(1, min(_MAX_SHIFT, lx - 1) + 1):  # a[p + d:x_end] is the start of the new middle
        if lx - d <= ly and _same(a[p + d], b[p]) and _same(a[p + d : x_end], b[p : p + lx - d]):
            ops.append([path, p, d, []])
            if ly > lx - d:
                ops.append([path, p + lx - d, 0, list(b[p + lx - d : y_end])])
            return size
    for e in range(1, min(_MAX_SHIFT, ly - 1) + 1):  # a[p:p + ly - e] is the end of the new middle
        if ly - e <= lx and _same(a[p], b[p + e]) and _same(a[p : p + ly - e], b[p + e : y_end]):
            ops.append([path, p, 0, list(b[p : p + e])])
            if lx > ly - e:
                ops.append([path, p + ly, lx - ly + e, []])
            return size
    k = min(lx, ly)
    for i in range(p, p + k):
        if a[i] is not b[i]:
            size += _diff(a[i], b[i], [*path, i], ops) - 1
    if lx != ly:
        ops.append([path, p + k, lx - k, list(b[p + k : y_end])])
    return size


def _prefix(a: Any, b: Any, limit: int) -> int:
    """How many leading elements the arrays share (at most ``limit``)."""
    if all(map(is_, a, b)):  # the very same elements (a trail that grew): no copy, no compare
        return limit  # (map stops at the shorter array: its ``limit`` elements)
    if a[:limit] == b[:limit]:
        n = limit
    else:
        n = 0
        while n < limit and a[n] == b[n]:
            n += 1
    if n and not _same(a[:n], b[:n]):  # equal for Python, not as JSON: go element by element
        n = 0
        while n < limit and _same(a[n], b[n]):
            n += 1
    return n


def _suffix(a: Any, b: Any, limit: int) -> int:
    """How many trailing elements the arrays share (at most ``limit``)."""
    if limit <= 0:
        return 0
    la, lb = len(a), len(b)
    if a[la - limit :] == b[lb - limit :]:
        n = limit
    else:
        n = 0
        while n < limit and a[la - 1 - n] == b[lb - 1 - n]:
            n += 1
    if n and not _same(a[la - n :], b[lb - n :]):
        n = 0
        while n < limit and _same(a[la - 1 - n], b[lb - 1 - n]):
            n += 1
    return n


# -- apply ----------------------------------------------------------------------------------------
def apply(old: Any, patch: Any) -> Any:
    """The view ``patch`` makes of ``old``. Never changes ``old``: only the objects and arrays on
    the changed paths are copied, the rest is shared with ``old`` (and the values set with the
    patch), so treat views as immutable. Raises PatchError if the patch is malformed."""
    if not isinstance(patch, list):
        raise PatchError(f"a patch is an array of ops, not {_show(patch)}")
    owned: dict[int, Any] = {}  # the copies made by this call (kept alive: ids stay unique)
    value = old
    for number, op in enumerate(patch):
        value = _apply_op(value, op, number, owned)
    return value


def _apply_op(root: Any, op: Any, number: int, owned: dict[int, Any]) -> Any:
    where = f"op {number}"
    if not isinstance(op, list) or len(op) not in (1, 2, 4):
        raise PatchError(
            f"{where}: an op is [path], [path, value] or [path, start, count, items], not {_show(op)}"
        )
    path = op[0]
    if not isinstance(path, list):
        raise PatchError(f"{where}: a path is an array of keys and indexes, not {_show(path)}")
    for step in path:
        if not isinstance(step, str) and type(step) is not int:
            raise PatchError(f"{where}: a path step is a string or an integer, not {_show(step)}")
    where = f"op {number} (path {_show(path)})"
    if len(op) == 4:
        root, target = _walk(root, path, where, owned)
        start, count, items = op[1], op[2], op[3]
        if not isinstance(target, list):
            raise PatchError(f"{where}: a splice needs an array, not {_kind(target)}")
        if type(start) is not int or not 0 <= start <= len(target):
            raise PatchError(f"{where}: splice start {_show(start)} is not in 0..{len(target)}")
        if type(count) is not int or not 0 <= count <= len(target) - start:
            raise PatchError(f"{where}: splice count {_show(count)} is not in 0..{len(target) - start}")
        if not isinstance(items, list):
            raise PatchError(f"{where}: splice items must be an array, not {_show(items)}")
        target[start : start + count] = items
        return root
    if not path:
        if len(op) == 1:
            raise PatchError(f"{where}: the whole view cannot be deleted")
        return op[1]
    root, parent = _walk(root, path[:-1], where, owned)
    last = path[-1]
    if isinstance(parent, dict):
        if not isinstance(last, str):
            raise PatchError(f"{where}: an object's key is a string, not {_show(last)}")
        if len(op) == 1:
            if last not in parent:
                raise PatchError(f"{where}: no key {_show(last)} to delete")
            del parent[last]
        else:
            parent[last] = op[1]
        return root
    if len(op) == 1:
        raise PatchError(f"{where}: delete removes an object's key; an array's elements go by splice")
    if type(last) is not int or not 0 <= last < len(parent):
        raise PatchError(f"{where}: index {_show(last)} is not in 0..{len(parent) - 1} of the array")
    parent[last] = op[1]
    return root


def _walk(root: Any, steps: list[Any], where: str, owned: dict[int, Any]) -> tuple[Any, Any]:
    """Copy (once per ``apply``) each container from the root along ``steps``: the new root and
    the copy of the container the steps lead to."""
    root = node = _own(root, where, [], owned)
    for depth, step in enumerate(steps):
        if isinstance(node, dict):
            if not isinstance(step, str):
                raise PatchError(f"{where}: an object's key is a string, not {_show(step)}")
            if step not in node:
                raise PatchError(f"{where}: no key {_show(step)} at {_show(steps[:depth])}")
        elif type(step) is not int or not 0 <= step < len(node):
            raise PatchError(
                f"{where}: index {_show(step)} is not in 0..{len(node) - 1} at {_show(steps[:depth])}"
            )
        child = _own(node[step], where, steps[: depth + 1], owned)
        node[step] = child
        node = child
    return root, node


def _own(value: Any, where: str, at: list[Any], owned: dict[int, Any]) -> Any:
    if id(value) in owned:
        return value
    if isinstance(value, dict):
        copy: Any = dict(value)
    elif isinstance(value, (list, tuple)):
        copy = list(value)
    else:
        raise PatchError(f"{where}: {_show(at)} is {_kind(value)}, not an object or an array")
    owned[id(copy)] = copy
    return copy


def _kind(value: Any) -> str:
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, (list, tuple)):
        return "an array"
    return _show(value)


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


# -- canonical form and hash ----------------------------------------------------------------------
def canonical(value: Any) -> bytes:
    """The canonical JSON of ``value`` (see the module's docstring): what ``canonical`` of
    delta.js gives for the same data, as UTF-8. Raises orjson's TypeError on non-JSON data."""
    try:
        out = _dumps(value, option=_SORT | orjson.OPT_STRICT_INTEGER)
    except orjson.JSONEncodeError:  # an integer beyond 2**53 (or not JSON data at all)
        pass
    else:
        if not _may_hold_float(out):
            return out  # integers, strings, booleans and null: orjson writes them as JavaScript does
    return _dumps(_js_numbers(value), option=_SORT)


def _may_hold_float(out: bytes) -> bool:
    """Whether orjson's ``out`` may hold a float: a ".", an "e+" or an "e-" (or it is in a string).

    Searched one byte at a time (memchr: a few hundred ns for a view of some KiB; a search for the
    two bytes "e-" takes twenty times as long): "+" stands for "e+", and each "-" is looked behind.
    """
    if not _SIGNED_EXPONENTS:  # pragma: no cover - another orjson's format
        return _FLOAT_TOKEN.search(out) is not None
    if b"." in out or b"+" in out:
        return True
    at = out.find(b"-")
    while at >= 0:
        if at and out[at - 1] == 0x65:  # "e"
            return True
        at = out.find(b"-", at + 1)
    return False


def state_hash(value: Any) -> str:
    """CRC-32 of ``canonical(value)``, as 8 lowercase hex digits (zlib's: a few µs a view)."""
    return f"{zlib.crc32(canonical(value)):08x}"


def _js_numbers(value: Any) -> Any:
    """``value`` with each float (and integer beyond 2**53) as the JSON JavaScript writes for it,
    as an ``orjson.Fragment``. An object's member without any is kept as it is, not walked (a
    trail of integers beside a float); an array's elements are walked (alike, most likely)."""
    if isinstance(value, dict):
        return {key: _js_part(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_js_numbers(item) for item in value]
    if isinstance(value, float):
        return orjson.Fragment(_js_number(value).encode())
    if isinstance(value, int) and not isinstance(value, bool) and not -_SAFE <= value <= _SAFE:
        return orjson.Fragment(_js_number(float(value)).encode())
    return value


def _js_part(value: Any) -> Any:
    if isinstance(value, (dict, list, tuple)):
        try:
            out = _dumps(value, option=orjson.OPT_STRICT_INTEGER)
        except orjson.JSONEncodeError:
            return _js_numbers(value)
        return _js_numbers(value) if _may_hold_float(out) else value
    return _js_numbers(value)


def _js_number(x: float) -> str:
    """JavaScript's ``Number.prototype.toString`` (ECMA-262 Number::toString, radix 10): the
    shortest digits that round-trip (Python's ``repr`` has the same), placed as JavaScript does."""
    if x == 0:
        return "0"
    if not math.isfinite(x):
        return "null"  # what JSON.stringify writes for NaN and the infinities
    text = repr(x)
    sign = ""
    if text[0] == "-":
        sign, text = "-", text[1:]
    mantissa, _, exponent = text.partition("e")
    whole, _, fraction = mantissa.partition(".")
    digits = whole + fraction
    n = len(whole) + (int(exponent) if exponent else 0)  # x = 0.DIGITS * 10**n
    stripped = digits.lstrip("0")
    n -= len(digits) - len(stripped)
    digits = stripped.rstrip("0")
    k = len(digits)
    if k <= n <= 21:
        return sign + digits + "0" * (n - k)
    if 0 < n <= 21:
        return sign + digits[:n] + "." + digits[n:]
    if -6 < n <= 0:
        return sign + "0." + "0" * -n + digits
    e = n - 1
    exp = f"e+{e}" if e >= 0 else f"e-{-e}"
    return sign + (digits if k == 1 else digits[0] + "." + digits[1:]) + exp
