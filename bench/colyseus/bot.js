// The arena's "simple" bot (simple_bot in src/netplay/games/arena.py), ported line for line for the
// Colyseus load generator, so both sides of the real-time benchmark play the same policy. It reads
// a view shaped like the schema state of arena.js (cycles with dir, out and a trail of {x, y}
// cells; plain arrays work too) and draws from its own seeded generator, not Python's.
"use strict";

const DIRECTIONS = ["up", "right", "down", "left"];
const STEP = [[0, -1], [1, 0], [0, 1], [-1, 0]];
const MOVE_EVERY = 4;
const START_TICKS = 30;
const LOOK_AHEAD = 8;
const ROOM = 80;

/** A seeded generator of floats in [0, 1) (mulberry32). */
function mulberry32(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let x = a;
    x = Math.imul(x ^ (x >>> 15), x | 1);
    x ^= x + Math.imul(x ^ (x >>> 7), x | 61);
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

const cellAt = (trail, i) => (trail.at ? trail.at(i) : trail[i]);

function heading(trail) {
  const n = trail.length;
  if (n < 2) return null;
  const p = cellAt(trail, n - 2), h = cellAt(trail, n - 1);
  return STEP.findIndex(([dx, dy]) => dx === h.x - p.x && dy === h.y - p.y);
}

/** How many free cells of `grid` can be reached from `start` (itself included), up to `limit`. */
function room(grid, start, steps, limit) {
  const seen = new Set([start]);
  const frontier = [start];
  while (frontier.length && seen.size < limit) {
    const cell = frontier.pop();
    for (const step of steps) {
      const near = cell + step;
      if (!grid[near] && !seen.has(near)) {
        seen.add(near);
        frontier.push(near);
      }
    }
  }
  return Math.min(seen.size, limit);
}

/** Python's tuple order: a longer tuple with an equal prefix is greater; () is below everything. */
function greater(a, b) {
  for (let i = 0; i < Math.min(a.length, b.length); i++) if (a[i] !== b[i]) return a[i] > b[i];
  return a.length > b.length;
}

/** The directions simple_bot rates best for `seat` (null: it does not think at this tick). */
function bestDirections(view, seat) {
  const tick = view.tick;
  let nxt = Math.max(tick + 1, START_TICKS);
  nxt += (MOVE_EVERY - (nxt % MOVE_EVERY)) % MOVE_EVERY; // Python's -nxt % MOVE_EVERY
  const cycles = view.cycles;
  const me = cellAt(cycles, seat);
  if (nxt - tick > 2 || me.out) return null;
  const w = view.size + 2;
  const grid = new Uint8Array(w * w);
  for (let i = 0; i < w; i++) grid[i] = grid[(w - 1) * w + i] = grid[i * w] = grid[i * w + w - 1] = 1;
  for (const cycle of cycles) for (const cell of cycle.trail) grid[(cell.y + 1) * w + cell.x + 1] = 1;
  const steps = STEP.map(([dx, dy]) => dy * w + dx);
  const danger = new Set();
  let s = 0;
  for (const cycle of cycles) {
    if (s !== seat && cycle.out === 0) {
      const h = cellAt(cycle.trail, cycle.trail.length - 1);
      for (const step of steps) danger.add((h.y + 1) * w + h.x + 1 + step);
    }
    s++;
  }
  const h = cellAt(me.trail, me.trail.length - 1);
  const head = (h.y + 1) * w + h.x + 1;
  const last = heading(me.trail);
  let best = [];
  let bestScore = [];
  steps.forEach((step, d) => {
    if (last !== null && d === (last + 2) % 4) return;
    const first = head + step;
    let score;
    if (grid[first]) score = [0, 0, 0, 0];
    else {
      let run = 1;
      while (run < LOOK_AHEAD && !grid[first + run * step]) run++;
      score = [1, danger.has(first) ? 0 : 1, room(grid, first, steps, ROOM), run];
    }
    if (greater(score, bestScore)) {
      best = [d];
      bestScore = score;
    } else if (!greater(bestScore, score)) best.push(d);
  });
  return best;
}

/** simple_bot: an input `{dir}` for `seat`, or null (keep going). */
function simpleBot(view, seat, rng) {
  const best = bestDirections(view, seat);
  if (best === null) return null;
  const me = cellAt(view.cycles, seat);
  if (best.includes(me.dir) && (best.length === 1 || rng() < 0.9)) return null;
  const choice = best[Math.floor(rng() * best.length)];
  return choice === me.dir ? null : { dir: DIRECTIONS[choice] };
}

module.exports = { bestDirections, mulberry32, simpleBot };
