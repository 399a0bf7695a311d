// Arena's rules in the browser: a port of Arena.tick and Arena.validate_input
// (src/netplay/games/arena.py) that computes the very same states, so a page can predict its own
// cycle. Integers only; every % here has operands >= 0, where JavaScript's % is Python's.
// tests/browser/test_realtime_rules_js.py checks it against Python tick by tick.

/** Input names by direction number: 0 up, 1 right, 2 down, 3 left. */
export const DIRECTIONS = ["up", "right", "down", "left"];
export const COLOURS = ["red", "blue", "green", "yellow", "purple", "orange", "cyan", "white"];
export const MOVE_EVERY = 4;
export const START_TICKS = 30;
const STEP = [[0, -1], [1, 0], [0, 1], [-1, 0]];

/** The input `inputs` holds for `seat`: an object or a Map, keyed by the seat as a number or a string. */
function inputOf(inputs, seat) {
  if (inputs == null) return undefined;
  if (inputs instanceof Map) return inputs.has(seat) ? inputs.get(seat) : inputs.get(String(seat));
  return inputs[seat]; // obj[0] and obj["0"] are the same property
}

/** Whether the cycles move at tick number `tick`. */
export function isMoveTick(tick) {
  return tick >= START_TICKS && tick % MOVE_EVERY === 0;
}

/** The direction of the cycle's last move (null before its first). */
export function heading(trail) {
  if (trail.length < 2) return null;
  const [px, py] = trail[trail.length - 2];
  const [hx, hy] = trail[trail.length - 1];
  return STEP.findIndex(([dx, dy]) => dx === hx - px && dy === hy - py);
}

/** Why `data` is not `{"dir": "up" | "right" | "down" | "left"}` from a cycle still riding, or null. */
export function validateInput(state, seat, data) {
  if (data === null || typeof data !== "object" || Array.isArray(data)) {
    return 'an input is an object such as {"dir": "left"}';
  }
  const keys = Object.keys(data);
  if (keys.length !== 1 || keys[0] !== "dir") {
    return `an input has the one key "dir", not ${JSON.stringify(keys.sort())}`;
  }
  if (typeof data.dir !== "string" || !DIRECTIONS.includes(data.dir)) {
    return `"dir" must be "up", "right", "down" or "left", not ${JSON.stringify(data.dir)}`;
  }
  const cycles = state.cycles;
  if (!Number.isInteger(seat) || seat < 0 || seat >= cycles.length) return `there is no cycle ${seat}`;
  if (cycles[seat].out) return "your cycle has crashed";
  return null;
}

/** The state one tick later (Arena.tick): turns, then on a move tick every riding cycle moves. */
export function tick(state, inputs) {
  const next = state.tick + 1;
  const size = state.size;
  const cycles = state.cycles.slice();
  for (let seat = 0; seat < cycles.length; seat++) {
    const data = inputOf(inputs, seat);
    if (data == null) continue;
    const cycle = cycles[seat];
    const want = DIRECTIONS.indexOf(data.dir);
    const last = heading(cycle.trail);
    if (cycle.out === 0 && want !== cycle.dir && (last === null || want !== (last + 2) % 4)) {
      cycles[seat] = { ...cycle, dir: want };
    }
  }
  if (isMoveTick(next)) {
    const taken = new Set();
    for (const cycle of cycles) for (const [x, y] of cycle.trail) taken.add(x * size + y);
    const moves = new Map();
    const count = new Map();
    cycles.forEach((cycle, seat) => {
      if (cycle.out !== 0) return;
      const [hx, hy] = cycle.trail[cycle.trail.length - 1];
      const [dx, dy] = STEP[cycle.dir];
      const cell = [hx + dx, hy + dy];
      moves.set(seat, cell);
      const key = `${cell[0]},${cell[1]}`; // off-grid cells too: x * size + y would alias them
      count.set(key, (count.get(key) || 0) + 1);
    });
    for (const [seat, [x, y]] of moves) {
      const cycle = cycles[seat];
      const free = x >= 0 && x < size && y >= 0 && y < size && !taken.has(x * size + y);
      if (free && count.get(`${x},${y}`) === 1) {
        cycles[seat] = { ...cycle, trail: [...cycle.trail, [x, y]] };
      } else {
        cycles[seat] = { ...cycle, out: next };
      }
    }
  }
  return { tick: next, size, cycles };
}

/** Whether the game is over (Arena.outcome is not None): at most one cycle rides. */
export function isOver(state) {
  return state.cycles.filter((cycle) => cycle.out === 0).length <= 1;
}

/** The part of the view a seat's inputs decide (Arena.own): its cycle. */
export function own(view, seat) {
  return view.cycles[seat];
}
