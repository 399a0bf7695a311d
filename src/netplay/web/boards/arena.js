// Arena, light cycles in real time: a canvas drawn every animation frame. The player's own cycle is
// predicted (RealtimeView.predicted: a turn shows on the frame after the key press); the other
// cycles are interpolated (RealtimeView.interpolated). The state (netplay/games/arena.py):
// { tick, size, cycles: [{ dir, out, trail: [[x, y], ...] }] }, the head last; an input is
// { dir: "up" | "right" | "down" | "left" }.

import { el, names } from "./common.js";
import { RealtimeBoard } from "./realtime.js";
import * as rules from "./arena_rules.js";

export const about = {
  title: "Arena",
  blurb: "Light cycles for 2–8: every cycle leaves a wall behind; the last one riding wins.",
  realtime: true,
  // The lobby's choice for a new room: the room's `players` option.
  option: { name: "players", label: "Players", choices: [2, 3, 4, 6, 8], default: 4 },
};

const SIDE = 720; // the canvas, in pixels each way
// What each seat's colour (Arena.seat_label) looks like.
const PAINT = {
  red: "#ee5a47", blue: "#4f8cff", green: "#2fbf71", yellow: "#f4c02f",
  purple: "#a070f0", orange: "#f28b30", cyan: "#2ec4d6", white: "#e9e6df",
};
const KEYS = {
  ArrowUp: "up", w: "up", ArrowRight: "right", d: "right",
  ArrowDown: "down", s: "down", ArrowLeft: "left", a: "left",
};

const capital = (word) => word.charAt(0).toUpperCase() + word.slice(1);

export class Board extends RealtimeBoard {
  static hint = "Turn with the arrow keys or W, A, S, D. Stay clear of the walls and every trail.";
  static sides = rules.COLOURS;

  constructor(container, onMove, context) {
    super(container, context, "arena", { width: SIDE, height: SIDE, label: "The arena" });
    this.keys = new Set(Object.keys(KEYS));
    this.client.predictWith("arena", rules);
    this.legend = el("ol", "arena-players");
    this.legendKey = "";
    this.root.append(this.legend, this.canvas, this.caption);
  }

  // A direction key turns the cycle, unless it goes that way already (as predicted) or the turn
  // would reverse it into its own trail (the rules ignore that).
  keysChanged(key, down) {
    if (!down || !this.playing()) return;
    const view = this.view;
    const state = view.predicted(performance.now());
    if (rules.isOver(state)) return; // as predicted, the game ends before the turn could count
    const cycle = state.cycles[view.seat];
    const want = rules.DIRECTIONS.indexOf(KEYS[key]);
    const last = rules.heading(cycle.trail);
    if (cycle.out || want === cycle.dir || (last !== null && want === (last + 2) % 4)) return;
    this.input({ dir: KEYS[key] });
  }

  draw(now) {
    const ctx = this.context2d;
    const view = this.view;
    ctx.fillStyle = "#1d2433";
    ctx.fillRect(0, 0, SIDE, SIDE);
    const latest = view?.view;
    if (latest == null) {
      this.root.dataset.status = "waiting";
      RealtimeBoard.text(this.caption, "Waiting for the players…");
      this.drawn = { frame: this.frames, tick: -1 };
      return;
    }
    const seat = view.seat;
    const shown = view.interpolated(now) ?? latest;
    const mine = seat != null ? view.predicted(now) : null;
    const size = latest.size;
    const cell = SIDE / size;
    ctx.fillStyle = "rgb(255 255 255 / 5%)";
    for (let i = 1; i < size; i++) {
      ctx.fillRect(i * cell, 0, 1, SIDE);
      ctx.fillRect(0, i * cell, SIDE, 1);
    }
    const cycles = latest.cycles.map((cycle, s) => (s === seat && mine ? mine.cycles[s] : (shown.cycles[s] ?? cycle)));
    cycles.forEach((cycle, s) => {
      const paint = PAINT[rules.COLOURS[s]] ?? "#e9e6df";
      const crashed = Boolean(latest.cycles[s].out || cycle.out);
      ctx.globalAlpha = crashed ? 0.35 : 0.6;
      ctx.fillStyle = paint;
      for (const [x, y] of cycle.trail.slice(0, -1)) ctx.fillRect(x * cell + 1, y * cell + 1, cell - 2, cell - 2);
      ctx.globalAlpha = 1;
      const [hx, hy] = cycle.trail.at(-1);
      ctx.fillStyle = crashed ? "#6b6f7b" : paint;
      ctx.fillRect(hx * cell, hy * cell, cell, cell);
      if (s === seat && !crashed) {
        ctx.strokeStyle = "#ffffff";
        ctx.lineWidth = 2;
        ctx.strokeRect(hx * cell + 1, hy * cell + 1, cell - 2, cell - 2);
      }
      if (crashed) {
        ctx.strokeStyle = paint;
        ctx.lineWidth = 3;
        ctx.beginPath();
        ctx.moveTo(hx * cell + 3, hy * cell + 3);
        ctx.lineTo((hx + 1) * cell - 3, (hy + 1) * cell - 3);
        ctx.moveTo((hx + 1) * cell - 3, hy * cell + 3);
        ctx.lineTo(hx * cell + 3, (hy + 1) * cell - 3);
        ctx.stroke();
      }
    });
    const own = mine?.cycles[seat];
    this.drawn = {
      frame: this.frames,
      tick: view.tick,
      own: own ? { dir: own.dir, head: own.trail.at(-1), length: own.trail.length, out: own.out } : null,
      serverOwn: seat != null ? { dir: latest.cycles[seat].dir, length: latest.cycles[seat].trail.length } : null,
    };
    this.label(view, latest);
  }

  // The players and how each one is doing, and a line of what is happening.
  label(view, latest) {
    const seat = view.seat;
    const name = names({ players: view.players }, seat);
    this.mark(view);
    const place = view.outcome?.places;
    const key = JSON.stringify([view.players, latest.cycles.map((c) => c.out), place ?? null, seat]);
    if (key !== this.legendKey) {
      this.legendKey = key;
      this.legend.replaceChildren(
        ...latest.cycles.map((cycle, s) => {
          const row = el("li", "arena-player");
          row.dataset.seat = s;
          row.dataset.out = cycle.out ? "1" : "";
          row.classList.toggle("me", s === seat);
          row.style.setProperty("--paint", PAINT[rules.COLOURS[s]] ?? "#e9e6df");
          const state = place ? `place ${place[s]}` : cycle.out ? "out" : "riding";
          row.append(
            el("span", "arena-swatch"), el("span", "arena-name", name.label(s)), el("span", "arena-state", state),
          );
          return row;
        }),
      );
    }
    let words;
    if (view.status === "finished") {
      const winner = view.outcome?.winner;
      words = winner == null ? "Game over: nobody is left riding." : `${name.who(winner)} rode longest.`;
    } else if (latest.tick < rules.START_TICKS) {
      words = seat == null ? "Get ready…" : `Get ready: you are ${rules.COLOURS[seat]}.`;
    } else if (seat != null && latest.cycles[seat].out) {
      words = "You crashed: watch the others finish.";
    } else {
      const you = seat == null ? "" : `${capital(rules.COLOURS[seat])}: that's you. `;
      words = `${you}Last one riding wins.`;
    }
    RealtimeBoard.text(this.caption, words);
  }
}
