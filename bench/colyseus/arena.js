// Colyseus side of netplay's real-time benchmark: the light-cycles arena of
// src/netplay/games/arena.py as a Colyseus 0.18 room, its state a @colyseus/schema tree.
//
// The rules are Arena.tick's, line for line, on the schema (turns, then on a move tick every riding
// cycle moves one cell, crashing into walls, trails and each other head on), with the same setup
// (spawns, grid size) and the same end (at most one cycle rides). `node rules_check.mjs` checks them
// against src/netplay/web/boards/arena_rules.js, the browser port tested against Python.
//
// The loop is `setSimulationInterval(cb, 1000 / 30)`: one rules tick per callback, as that API is
// meant to be used (Colyseus 0.18.17 calls it a deprecated alias of `setTimestep`, unchanged).
// Patches go out every 50 ms (`patchRate`), 20 a second, as netplay's arena sends them. An input
// is `{dir, seq}`, applied at the next tick (a later one before it replaces it); each cycle's `ack`
// is the seq of its player's latest applied input, which the load generator times inputs against.
// When a match ends (`status` "finished"), the room starts the next one once every player has sent
// "rematch", as netplay's real-time rooms do.
//
// Every tick's callback is timed (`TICKS`): how long after its deadline it ran, the deadline being
// the previous callback's time plus one period (setInterval re-arms from the last run). server.js
// writes them out at exit, for bench/run.py to read.
"use strict";
const { Room } = require("@colyseus/core");
const { schema, t } = require("@colyseus/schema");

const DIRECTIONS = ["up", "right", "down", "left"];
const STEP = [[0, -1], [1, 0], [0, 1], [-1, 0]];
const MOVE_EVERY = 4;
const START_TICKS = 30;
const TICK_RATE = 30;
const PERIOD_S = 1 / TICK_RATE;

const Cell = schema({ x: t.uint8(), y: t.uint8() }, "Cell");
const Cycle = schema({ dir: t.uint8(), out: t.uint32(), ack: t.int32(), trail: t.array(Cell) }, "Cycle");
const ArenaState = schema(
  {
    tick: t.uint32(),
    size: t.uint8(),
    game: t.uint16(),
    status: t.string(),
    cycles: t.array(Cycle),
    seats: t.map("uint8"), // sessionId -> seat, set once at join
  },
  "ArenaState",
);

/** CLOCK_MONOTONIC in seconds: the clock Python's time.monotonic() reads, so windows compare. */
const monotonic = () => Number(process.hrtime.bigint()) / 1e9;

/** Every callback that ran a tick, in every room: when (monotonic s), how late (s), ticks run (1). */
const TICKS = { at: [], late: [], ran: [] };

function defaultSize(players) {
  return players <= 2 ? 24 : players <= 4 ? 32 : 40;
}

/** Arena's _spawns: eight cells and directions round the centre, a pinwheel. */
function spawns(size) {
  const far = size - 1;
  const r = Math.floor((3 * size) / 8);
  const d = Math.floor((r * 7) / 10);
  const half = Math.floor(size / 2);
  const a = half - r, e = half - d, m = half;
  return [
    [a, m, 0], [e, e, 1], [far - m, a, 1], [far - e, e, 2],
    [far - a, far - m, 2], [far - e, far - e, 3], [m, far - a, 3], [e, far - e, 0],
  ];
}

function isMoveTick(tick) {
  return tick >= START_TICKS && tick % MOVE_EVERY === 0;
}

/** The direction of the cycle's last move (null before its first), from its trail's last two cells. */
function heading(trail) {
  const n = trail.length;
  if (n < 2) return null;
  const p = trail.at(n - 2), h = trail.at(n - 1);
  const dx = h.x - p.x, dy = h.y - p.y;
  return STEP.findIndex(([sx, sy]) => sx === dx && sy === dy);
}

function newCycle(x, y, dir) {
  const cycle = new Cycle();
  cycle.dir = dir;
  cycle.out = 0;
  cycle.ack = -1;
  cycle.trail.push(Object.assign(new Cell(), { x, y }));
  return cycle;
}

/** Arena.setup on the schema: the cycles of a new match, each on its spawn. */
function setup(state, players, size) {
  const slots = spawns(size);
  state.tick = 0;
  state.size = size;
  state.cycles.clear();
  for (let seat = 0; seat < players; seat++) {
    const [x, y, dir] = slots[Math.floor((seat * 8) / players)];
    state.cycles.push(newCycle(x, y, dir));
  }
}

/** Arena.tick on the schema, in place. `inputs` maps a seat to its direction number. */
function tick(state, inputs) {
  const next = state.tick + 1;
  const size = state.size;
  const cycles = state.cycles;
  for (const [seat, want] of inputs) {
    const cycle = cycles.at(seat);
    const last = heading(cycle.trail);
    if (cycle.out === 0 && want !== cycle.dir && (last === null || want !== (last + 2) % 4)) {
      cycle.dir = want;
    }
  }
  if (isMoveTick(next)) {
    const taken = new Set();
    for (const cycle of cycles) for (const cell of cycle.trail) taken.add(cell.x * size + cell.y);
    const moves = [];
    const count = new Map();
    for (const cycle of cycles) {
      if (cycle.out !== 0) continue;
      const head = cycle.trail.at(cycle.trail.length - 1);
      const [dx, dy] = STEP[cycle.dir];
      const x = head.x + dx, y = head.y + dy;
      moves.push([cycle, x, y]);
      const key = `${x},${y}`; // off-grid cells too: x * size + y would alias them
      count.set(key, (count.get(key) || 0) + 1);
    }
    for (const [cycle, x, y] of moves) {
      const free = x >= 0 && x < size && y >= 0 && y < size && !taken.has(x * size + y);
      if (free && count.get(`${x},${y}`) === 1) cycle.trail.push(Object.assign(new Cell(), { x, y }));
      else cycle.out = next;
    }
  }
  state.tick = next;
}

/** Arena.outcome is not None: at most one cycle rides. */
function isOver(state) {
  let riding = 0;
  for (const cycle of state.cycles) if (cycle.out === 0) riding++;
  return riding <= 1;
}

class ArenaRoom extends Room {
  onCreate(options) {
    const players = Number(options.players) || 4;
    this.players = players;
    this.size = defaultSize(players);
    this.maxClients = players;
    this.autoDispose = true;
    this.seats = new Map(); // sessionId -> seat
    this.lastSeq = [];
    this.pending = new Map(); // seat -> [direction number, seq], for the next tick
    this.votes = new Set();
    this.prev = 0;
    this.inputsRefused = 0;
    this.patchRate = 50; // 20 patches a second (setPatchRate(50) is the deprecated spelling)
    const state = new ArenaState();
    state.game = 0;
    state.status = "waiting";
    setup(state, players, this.size);
    this.state = state;
    this.onMessage("input", (client, message) => this.input(client, message));
    this.onMessage("rematch", (client) => {
      const seat = this.seats.get(client.sessionId);
      if (seat === undefined || this.state.status !== "finished") return;
      this.votes.add(seat);
      if (this.votes.size === this.players) this.start();
    });
  }

  onJoin(client) {
    const seat = this.seats.size;
    this.seats.set(client.sessionId, seat);
    this.state.seats.set(client.sessionId, seat);
    if (this.seats.size === this.players) this.start();
  }

  /** Arena.validate_input and the tick engine's sequence check: refused inputs are dropped. */
  input(client, message) {
    const seat = this.seats.get(client.sessionId);
    const want = message && typeof message.dir === "string" ? DIRECTIONS.indexOf(message.dir) : -1;
    const seq = message ? message.seq : undefined;
    const state = this.state;
    if (seat === undefined || want < 0 || !Number.isInteger(seq) || seq <= this.lastSeq[seat]
        || state.status !== "playing" || state.cycles.at(seat).out !== 0) {
      this.inputsRefused++;
      return;
    }
    this.lastSeq[seat] = seq;
    this.pending.set(seat, [want, seq]);
  }

  start() {
    const state = this.state;
    setup(state, this.players, this.size);
    state.game += 1;
    state.status = "playing";
    this.pending.clear();
    this.votes.clear();
    this.lastSeq = new Array(this.players).fill(-1);
    this.prev = monotonic();
    this.setSimulationInterval(() => this.step(), 1000 / TICK_RATE);
  }

  step() {
    const now = monotonic();
    TICKS.at.push(now);
    TICKS.late.push(Math.max(0, now - (this.prev + PERIOD_S)));
    TICKS.ran.push(1);
    this.prev = now;
    const state = this.state;
    const inputs = new Map();
    for (const [seat, [want, seq]] of this.pending) {
      inputs.set(seat, want);
      state.cycles.at(seat).ack = seq;
    }
    this.pending.clear();
    tick(state, inputs);
    if (isOver(state)) {
      state.status = "finished";
      this.setSimulationInterval(); // stops the loop until the rematch
    }
  }
}

module.exports = { ArenaRoom, ArenaState, Cell, Cycle, DIRECTIONS, TICKS, defaultSize, isOver, monotonic, setup, tick };
