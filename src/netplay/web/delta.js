// Deltas of JSON views, the browser's half of netplay.protocol.delta: apply a patch the server
// sent, and hash the result to tell whether it is the view the server meant (else ask for a
// keyframe). An ES module with no dependencies. The format, in full, is in the docstring of
// src/netplay/protocol/delta.py and in docs/protocol.md:
//
//   a patch is an array of ops, applied in order; a path is an array of keys and indexes;
//   [path, value] sets, [path] deletes an object's key, [path, start, count, items] splices an array.
//
//   import { applyPatch, stateHash } from "http://localhost:7777/delta.js";
//   view = applyPatch(view, patch);              // throws PatchError if the patch is malformed
//   if (stateHash(view) !== hash) askForKeyframe();

/** A malformed patch: the view is unchanged (applyPatch never changes its input). */
export class PatchError extends Error {
  constructor(message) {
    super(message);
    this.name = "PatchError";
  }
}

const hasOwn = (object, key) => Object.prototype.hasOwnProperty.call(object, key);
const isObject = (value) => value !== null && typeof value === "object" && !Array.isArray(value);
const isIndex = (step) => Number.isInteger(step);

function show(value) {
  let text;
  try {
    text = JSON.stringify(value);
  } catch {
    text = undefined;
  }
  text = text === undefined ? String(value) : text;
  return text.length <= 60 ? text : text.slice(0, 57) + "...";
}

const kind = (value) => (Array.isArray(value) ? "an array" : isObject(value) ? "an object" : show(value));

// An own, enumerable data property even for the key "__proto__" (plain assignment would set the
// object's prototype instead: a patch comes from the network).
function put(object, key, value) {
  Object.defineProperty(object, key, { value, writable: true, enumerable: true, configurable: true });
}

/**
 * The view `patch` makes of `old`. Never changes `old`: the objects and arrays on the changed
 * paths are copied (once per call), everything else is shared. Throws PatchError if malformed.
 */
export function applyPatch(old, patch) {
  if (!Array.isArray(patch)) throw new PatchError(`a patch is an array of ops, not ${show(patch)}`);
  const owned = new Set(); // the copies made by this call: changed in place by later ops
  let value = old;
  patch.forEach((op, number) => {
    value = applyOp(value, op, number, owned);
  });
  return value;
}

function applyOp(root, op, number, owned) {
  let where = `op ${number}`;
  if (!Array.isArray(op) || ![1, 2, 4].includes(op.length)) {
    throw new PatchError(`${where}: an op is [path], [path, value] or [path, start, count, items], not ${show(op)}`);
  }
  const path = op[0];
  if (!Array.isArray(path)) throw new PatchError(`${where}: a path is an array of keys and indexes, not ${show(path)}`);
  for (const step of path) {
    if (typeof step !== "string" && !isIndex(step)) {
      throw new PatchError(`${where}: a path step is a string or an integer, not ${show(step)}`);
    }
  }
  where = `op ${number} (path ${show(path)})`;
  if (op.length === 4) {
    const [newRoot, target] = walk(root, path, where, owned);
    const [, start, count, items] = op;
    if (!Array.isArray(target)) throw new PatchError(`${where}: a splice needs an array, not ${kind(target)}`);
    if (!isIndex(start) || start < 0 || start > target.length) {
      throw new PatchError(`${where}: splice start ${show(start)} is not in 0..${target.length}`);
    }
    if (!isIndex(count) || count < 0 || count > target.length - start) {
      throw new PatchError(`${where}: splice count ${show(count)} is not in 0..${target.length - start}`);
    }
    if (!Array.isArray(items)) throw new PatchError(`${where}: splice items must be an array, not ${show(items)}`);
    const tail = target.slice(start + count); // not splice(...items): that spreads them as arguments
    target.length = start;
    for (const item of items) target.push(item);
    for (const item of tail) target.push(item);
    return newRoot;
  }
  if (path.length === 0) {
    if (op.length === 1) throw new PatchError(`${where}: the whole view cannot be deleted`);
    return op[1];
  }
  const [newRoot, parent] = walk(root, path.slice(0, -1), where, owned);
  const last = path[path.length - 1];
  if (isObject(parent)) {
    if (typeof last !== "string") throw new PatchError(`${where}: an object's key is a string, not ${show(last)}`);
    if (op.length === 1) {
      if (!hasOwn(parent, last)) throw new PatchError(`${where}: no key ${show(last)} to delete`);
      delete parent[last];
    } else {
      put(parent, last, op[1]);
    }
    return newRoot;
  }
  if (op.length === 1) {
    throw new PatchError(`${where}: delete removes an object's key; an array's elements go by splice`);
  }
  if (!isIndex(last) || last < 0 || last >= parent.length) {
    throw new PatchError(`${where}: index ${show(last)} is not in 0..${parent.length - 1} of the array`);
  }
  parent[last] = op[1];
  return newRoot;
}

// Copy each container from the root along `steps`: [the new root, the copy the steps lead to].
function walk(root, steps, where, owned) {
  const newRoot = own(root, where, [], owned);
  let node = newRoot;
  steps.forEach((step, depth) => {
    if (Array.isArray(node)) {
      if (!isIndex(step) || step < 0 || step >= node.length) {
        throw new PatchError(`${where}: index ${show(step)} is not in 0..${node.length - 1} at ${show(steps.slice(0, depth))}`);
      }
    } else {
      if (typeof step !== "string") throw new PatchError(`${where}: an object's key is a string, not ${show(step)}`);
      if (!hasOwn(node, step)) throw new PatchError(`${where}: no key ${show(step)} at ${show(steps.slice(0, depth))}`);
    }
    const child = own(node[step], where, steps.slice(0, depth + 1), owned);
    if (Array.isArray(node)) node[step] = child;
    else put(node, step, child);
    node = child;
  });
  return [newRoot, node];
}

function own(value, where, at, owned) {
  if (owned.has(value)) return value;
  let copy;
  if (Array.isArray(value)) {
    copy = value.slice();
  } else if (isObject(value)) {
    copy = { ...value }; // own data properties, "__proto__" too (spread does not assign)
  } else {
    throw new PatchError(`${where}: ${show(at)} is ${kind(value)}, not an object or an array`);
  }
  owned.add(copy);
  return copy;
}

// Object keys in Unicode code point order (the order of their UTF-8 bytes, as Python sorts them),
// not JavaScript's UTF-16 order, which puts U+10000 and up (surrogate pairs) before U+E000-U+FFFF.
function codePointOrder(a, b) {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    let x = a.charCodeAt(i);
    let y = b.charCodeAt(i);
    if (x !== y) {
      if (x >= 0xd800 && y >= 0xd800) {
        x = x >= 0xe000 ? x - 0x800 : x + 0x2000; // surrogates after U+E000-U+FFFF
        y = y >= 0xe000 ? y - 0x800 : y + 0x2000;
      }
      return x - y;
    }
  }
  return a.length - b.length;
}

/**
 * The canonical JSON of a view: no whitespace, object keys sorted by code point, strings and
 * numbers as JSON.stringify writes them. The same text as canonical() in Python.
 */
export function canonical(value) {
  if (value === null) return "null";
  switch (typeof value) {
    case "string":
    case "number": // NaN and the infinities are "null", as JSON.stringify writes them
      return JSON.stringify(value);
    case "boolean":
      return value ? "true" : "false";
    case "object": {
      if (Array.isArray(value)) {
        const items = [];
        for (const item of value) items.push(item === undefined ? "null" : canonical(item));
        return "[" + items.join(",") + "]";
      }
      const parts = [];
      for (const key of Object.keys(value).sort(codePointOrder)) {
        if (value[key] !== undefined) parts.push(JSON.stringify(key) + ":" + canonical(value[key]));
      }
      return "{" + parts.join(",") + "}";
    }
    default:
      throw new TypeError(`not JSON data: ${typeof value}`);
  }
}

const encoder = new TextEncoder();

// CRC-32 (zlib's: polynomial 0xEDB88320, reflected), one table entry per byte value.
const CRC_TABLE = new Uint32Array(256);
for (let n = 0; n < 256; n++) {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  CRC_TABLE[n] = c >>> 0;
}

/** CRC-32 of the UTF-8 bytes of canonical(value), as 8 lowercase hex digits. */
export function stateHash(value) {
  let crc = 0xffffffff;
  for (const byte of encoder.encode(canonical(value))) {
    crc = CRC_TABLE[(crc ^ byte) & 0xff] ^ (crc >>> 8);
  }
  return ((crc ^ 0xffffffff) >>> 0).toString(16).padStart(8, "0");
}
