// Pong, in real time: a canvas drawn every animation frame. The player's own paddle is predicted
// (RealtimeView.predicted: it moves on the frame after the key press); the ball and the other paddle
// are interpolated (RealtimeView.interpolated: smooth, one patch interval behind). The state
// (netplay/games/pong.py): { tick, points, score, paddles, dirs, ball: [x, y, vx, vy], hits, serve }
// in a field of 1000 x 600 units; an input is { dir: -1 | 0 | 1 }.

import { el, names } from "./common.js";
import { RealtimeBoard } from "./realtime.js";
import * as rules from "./pong_rules.js";

export const about = {
  title: "Pong",
  blurb: "Real-time pong for two: keep the ball in play, first to the target score wins.",
  realtime: true,
  // The lobby's choice for a new room: the room's `points` option.
  option: { name: "points", label: "First to", choices: [1, 3, 5, 11], default: 5 },
};

const { WIDTH, HEIGHT, BALL_R, PADDLE_X } = rules;
const THICK = 10; // a paddle's thickness, behind its face
// Keys, and the direction each one holds.
const KEYS = { ArrowUp: -1, w: -1, ArrowDown: 1, s: 1 };

export class Board extends RealtimeBoard {
  static hint = "Hold ↑ or W to move your paddle up, ↓ or S to move it down.";
  static sides = ["left", "right"];

  constructor(container, onMove, context) {
    super(container, context, "pong", { width: WIDTH, height: HEIGHT, label: "The pong field" });
    this.keys = new Set(Object.keys(KEYS));
    this.client.predictWith("pong", rules);
    this.head = el("div", "pong-head");
    this.sides = [0, 1].map((seat) => {
      const side = el("span", `pong-side pong-side-${seat}`);
      side.dataset.seat = seat;
      return side;
    });
    this.score = el("span", "pong-score", "0 : 0");
    this.score.setAttribute("aria-label", "Score");
    this.head.append(this.sides[0], this.score, this.sides[1]);
    this.root.append(this.head, this.canvas, this.caption);
  }

  /** The direction the keys held now ask for: the latest one held wins. */
  wanted() {
    const key = this.held.at(-1);
    return key === undefined ? 0 : KEYS[key];
  }

  keysChanged() {
    this.sync();
  }

  // Send the direction held, if the game (as predicted) holds another one: one input per change.
  // True if it sent one.
  sync(predicted = null) {
    if (!this.playing()) return false;
    const view = this.view;
    const state = predicted ?? view.predicted(performance.now());
    const want = this.wanted();
    // A prediction stops where it sees the game end: inputs after that change nothing.
    if (state.dirs[view.seat] === want || rules.isOver(state)) return false;
    return Boolean(this.input({ dir: want }));
  }

  draw(now) {
    const ctx = this.context2d;
    const view = this.view;
    ctx.fillStyle = "#1d2433";
    ctx.fillRect(0, 0, WIDTH, HEIGHT);
    ctx.fillStyle = "rgb(255 255 255 / 18%)";
    for (let y = 10; y < HEIGHT; y += 40) ctx.fillRect(WIDTH / 2 - 2, y, 4, 20);
    const latest = view?.view;
    if (latest == null) {
      this.root.dataset.status = "waiting";
      RealtimeBoard.text(this.caption, "Waiting for the players…");
      this.drawn = { frame: this.frames, tick: -1 };
      return;
    }
    const seat = view.seat;
    const shown = view.interpolated(now) ?? latest;
    let mine = seat === 0 || seat === 1 ? view.predicted(now) : null;
    // Keys held before the game started (or since a reconnect) are sent now.
    if (mine && this.sync(mine)) mine = view.predicted(now);
    const half = rules.paddleHalf(latest.hits);
    const paddles = [0, 1].map((s) => (s === seat && mine ? mine.paddles[s] : shown.paddles[s]));
    paddles.forEach((y, s) => {
      ctx.fillStyle = s === seat ? "#8b86ff" : "#f6f2ea";
      const x = s === 0 ? PADDLE_X - THICK : WIDTH - PADDLE_X;
      if (half > 0) ctx.fillRect(x, y - half, THICK, 2 * half);
    });
    // During a serve the ball waits at the centre: never blended with where the last rally ended.
    const ball = shown.serve > 0 ? latest.ball : shown.ball;
    if (view.status === "playing" || latest.serve === 0) {
      ctx.fillStyle = "#f4c02f";
      ctx.fillRect(ball[0] - BALL_R, ball[1] - BALL_R, 2 * BALL_R, 2 * BALL_R);
    }
    this.drawn = {
      frame: this.frames,
      tick: view.tick,
      own: mine ? mine.paddles[seat] : null,
      serverOwn: seat === 0 || seat === 1 ? latest.paddles[seat] : null,
      paddles,
      ball: [ball[0], ball[1]],
    };
    this.label(view, latest);
  }

  // The words around the field: who plays which side, the score, what is happening.
  label(view, latest) {
    const seat = view.seat;
    const name = names({ players: view.players }, seat);
    this.mark(view);
    this.sides.forEach((side, s) => RealtimeBoard.text(side, name.label(s)));
    const [left, right] = latest.score;
    RealtimeBoard.text(this.score, `${left} : ${right}`);
    this.score.dataset.score = `${left}:${right}`;
    let words;
    if (view.status === "finished") {
      const winner = view.outcome?.winner;
      const [high, low] = [Math.max(left, right), Math.min(left, right)];
      words = winner == null ? "Game over." : `${name.who(winner)} won ${high} : ${low}.`;
    } else if (latest.serve > 0 && latest.tick < 30) {
      words = `First to ${latest.points}. Get ready…`;
    } else if (latest.serve > 0) {
      words = "Serving…";
    } else {
      words = `First to ${latest.points}` + (seat == null ? "." : `: you are ${Board.sides[seat]}.`);
    }
    RealtimeBoard.text(this.caption, words);
  }
}
