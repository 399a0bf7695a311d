// Pong's rules in the browser: a port of Pong.tick and Pong.validate_input (src/netplay/games/pong.py)
// that computes the very same states, so a page can predict its own paddle. Everything is a small
// integer; the one division floors, as Python's `//` does, also for a negative dividend.
// tests/browser/test_realtime_rules_js.py checks it against Python tick by tick.

export const WIDTH = 1000;
export const HEIGHT = 600;
export const BALL_R = 8;
export const PADDLE_HALF = 50;
export const PADDLE_X = 30;
export const PADDLE_SPEED = 14;
export const SERVE_SPEED = 14;
export const MAX_SPEED = 28;
export const SERVE_DELAY = 30;
export const SHRINK_AFTER = 20;
export const SHRINK = 6;
export const SERVE_VY = [-6, -4, -2, 2, 4, 6];

const FACE_LEFT = PADDLE_X;
const FACE_RIGHT = WIDTH - PADDLE_X;
const REACH = PADDLE_HALF + BALL_R;

/** Python's `a // b` for integers small enough that `a / b` is exact to well under 1/b (here < 2**20). */
function floorDiv(a, b) {
  return Math.floor(a / b);
}

/** The input `inputs` holds for `seat`: an object or a Map, keyed by the seat as a number or a string. */
function inputOf(inputs, seat) {
  if (inputs == null) return undefined;
  if (inputs instanceof Map) return inputs.has(seat) ? inputs.get(seat) : inputs.get(String(seat));
  return inputs[seat]; // obj[0] and obj["0"] are the same property
}

/** Half a paddle's length after `hits` hits in the rally: full, then shrinking to nothing. */
export function paddleHalf(hits) {
  return Math.max(PADDLE_HALF - SHRINK * Math.max(hits - SHRINK_AFTER, 0), 0);
}

function serveBall(toward, tick, score) {
  const vy = SERVE_VY[(tick + 7 * score[0] + 13 * score[1]) % SERVE_VY.length]; // all >= 0: % is Python's
  return [Math.floor(WIDTH / 2), Math.floor(HEIGHT / 2), toward === 0 ? -SERVE_SPEED : SERVE_SPEED, vy];
}

function bounce(dy, speed) {
  return floorDiv(dy * speed * 3, 4 * REACH);
}

/** Why `data` is not an input `seat` can send (`{"dir": -1 | 0 | 1}`), or null if it is. */
export function validateInput(state, seat, data) {
  if (data === null || typeof data !== "object" || Array.isArray(data)) {
    return 'an input is an object: {"dir": -1}, {"dir": 0} or {"dir": 1}';
  }
  const keys = Object.keys(data);
  if (keys.length !== 1 || keys[0] !== "dir") {
    return `an input has the one key "dir", not ${JSON.stringify(keys.sort())}`;
  }
  const value = data.dir;
  if (typeof value !== "number" || !Number.isInteger(value)) {
    return `"dir" must be the integer -1, 0 or 1, not ${typeof value}`;
  }
  if (value !== -1 && value !== 0 && value !== 1) return `"dir" must be -1 (up), 0 (still) or 1 (down), not ${value}`;
  return null;
}

/** The state one tick later (Pong.tick): paddles, then the ball. `state` is left as it was. */
export function tick(state, inputs) {
  const dirs = state.dirs.slice();
  for (const seat of [0, 1]) {
    const data = inputOf(inputs, seat);
    if (data != null) dirs[seat] = data.dir;
  }
  const paddles = state.paddles.map((y, seat) =>
    Math.min(Math.max(y + dirs[seat] * PADDLE_SPEED, PADDLE_HALF), HEIGHT - PADDLE_HALF),
  );
  const next = state.tick + 1;
  let { score, hits, serve, ball } = state;
  if (serve > 0) {
    serve -= 1;
  } else {
    let [x, y, vx, vy] = ball;
    const oldX = x;
    x += vx;
    y += vy;
    if (y < BALL_R) {
      y = 2 * BALL_R - y;
      vy = -vy;
    } else if (y > HEIGHT - BALL_R) {
      y = 2 * (HEIGHT - BALL_R) - y;
      vy = -vy;
    }
    const half = paddleHalf(hits);
    if (vx < 0 && oldX - BALL_R >= FACE_LEFT && FACE_LEFT > x - BALL_R) {
      const dy = y - paddles[0];
      if (half > 0 && -half - BALL_R <= dy && dy <= half + BALL_R) {
        vx = Math.min(-vx + 1, MAX_SPEED);
        x = 2 * (FACE_LEFT + BALL_R) - x;
        vy = bounce(dy, vx);
        hits += 1;
      }
    } else if (vx > 0 && oldX + BALL_R <= FACE_RIGHT && FACE_RIGHT < x + BALL_R) {
      const dy = y - paddles[1];
      if (half > 0 && -half - BALL_R <= dy && dy <= half + BALL_R) {
        const speed = Math.min(vx + 1, MAX_SPEED);
        x = 2 * (FACE_RIGHT - BALL_R) - x;
        vx = -speed;
        vy = bounce(dy, speed);
        hits += 1;
      }
    }
    if (x < 0 || x > WIDTH) {
      const loser = x < 0 ? 0 : 1;
      score = score.slice();
      score[1 - loser] += 1;
      ball = serveBall(loser, next, score);
      hits = 0;
      serve = SERVE_DELAY;
    } else {
      ball = [x, y, vx, vy];
    }
  }
  return { tick: next, points: state.points, score, paddles, dirs, ball, hits, serve };
}

/** Whether the game is over (Pong.outcome is not None): a seat has reached `points`. */
export function isOver(state) {
  return state.score.some((points) => points >= state.points);
}

/** The part of the view a seat's inputs decide (Pong.own): its paddle and the direction it holds. */
export function own(view, seat) {
  return [view.paddles[seat], view.dirs[seat]];
}
