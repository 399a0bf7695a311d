// Checks that arena.js (the Colyseus room's rules, on the schema) computes the very states of
// src/netplay/web/boards/arena_rules.js (the browser port, itself tested tick by tick against
// Arena.tick in Python), over whole games steered by the bot of bot.js and by random turns.
// Usage: node rules_check.mjs [games]   (prints "ok: N games, M ticks" or exits 1 at the first difference)
import { createRequire } from "node:module";
import * as reference from "../../src/netplay/web/boards/arena_rules.js";

const require = createRequire(import.meta.url);
const arena = require("./arena.js");
const { mulberry32, simpleBot } = require("./bot.js");

const plain = (state) => ({
  tick: state.tick,
  size: state.size,
  cycles: state.cycles.map((c) => ({ dir: c.dir, out: c.out, trail: c.trail.map((cell) => [cell.x, cell.y]) })),
});

const games = Number(process.argv[2] || 20);
const rng = mulberry32(7);
let ticks = 0;
for (let game = 0; game < games; game++) {
  const players = 2 + (game % 7);
  const state = new arena.ArenaState();
  arena.setup(state, players, arena.defaultSize(players));
  let expected = plain(state);
  while (!reference.isOver(expected)) {
    const inputs = {};
    const byNumber = new Map();
    for (let seat = 0; seat < players; seat++) {
      const data = rng() < 0.1 ? { dir: reference.DIRECTIONS[Math.floor(rng() * 4)] } : simpleBot(state, seat, rng);
      if (data) {
        inputs[seat] = data;
        byNumber.set(seat, reference.DIRECTIONS.indexOf(data.dir));
      }
    }
    expected = reference.tick(expected, inputs);
    arena.tick(state, byNumber);
    ticks++;
    const got = plain(state);
    if (JSON.stringify(got) !== JSON.stringify(expected)) {
      console.error(`game ${game}, tick ${expected.tick}: arena.js gives\n${JSON.stringify(got)}\nnot\n${JSON.stringify(expected)}`);
      process.exit(1);
    }
    if (arena.isOver(state) !== reference.isOver(expected)) {
      console.error(`game ${game}, tick ${expected.tick}: the end differs`);
      process.exit(1);
    }
  }
}
console.log(`ok: ${games} games, ${ticks} ticks`);
