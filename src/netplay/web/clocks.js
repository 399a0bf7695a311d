// Game clocks on the page: time controls said for people, and each seat's time counting down.
//
// The server owns the clocks: every `state` says each seat's time left as it was sent
// (`clock.remaining`) and whose clock runs (`clock.running`). The page counts the running ones
// down from that, for display only; it never decides anything by its own count. A flag falls when
// the server's state says so.

/** The time controls the lobby offers, as the server reads them (INITIAL+INCREMENT, in seconds). */
export const TIME_CONTROLS = [
  { value: "", label: "None", title: "No clock" },
  { value: "60+0", label: "1+0", title: "1 minute each, no increment" },
  { value: "180+2", label: "3+2", title: "3 minutes each, plus 2 seconds a move" },
  { value: "300+3", label: "5+3", title: "5 minutes each, plus 3 seconds a move" },
  { value: "600+5", label: "10+5", title: "10 minutes each, plus 5 seconds a move" },
];

const LOW = 10; // seconds: below this a clock shows tenths, and turns red
const TICK_MS = 100;

/** A time control as the server writes it ("180+2", "30/move"), said short: "3+2", "30 s/move". */
export function controlLabel(control) {
  if (!control) return "";
  const perMove = /^([\d.]+)\/move$/.exec(control);
  if (perMove) return `${perMove[1]} s/move`;
  const budget = /^([\d.]+)(?:\+([\d.]+))?$/.exec(control);
  if (!budget) return control;
  const [initial, increment] = [Number(budget[1]), budget[2] ?? "0"];
  return initial % 60 === 0 ? `${initial / 60}+${increment}` : `${initial}s+${increment}`;
}

/** Seconds left as a clock shows them: 4:05, 1:02:03, and 0:07.3 (tenths) under 10 s. */
export function formatClock(seconds) {
  const left = Math.max(0, seconds);
  if (left < LOW) {
    const tenths = Math.floor(left * 10 + 1e-6);
    return `0:0${Math.floor(tenths / 10)}.${tenths % 10}`;
  }
  const whole = Math.floor(left);
  const hours = Math.floor(whole / 3600);
  const minutes = Math.floor((whole % 3600) / 60);
  const secs = String(whole % 60).padStart(2, "0");
  return hours ? `${hours}:${String(minutes).padStart(2, "0")}:${secs}` : `${minutes}:${secs}`;
}

/**
 * Shows each seat's clock in an element of its own, counting the running ones down between states.
 * `update(clock)` with each state's `clock` (as it arrives), `attach(elements)` when the elements
 * are drawn anew, `stop()` when the room is left.
 */
export class ClockDisplay {
  constructor() {
    this.clock = null;
    this.at = 0;
    this.flagged = new Set();
    this.elements = [];
    this.timer = null;
  }

  /** A state's `clock` (null: none), received just now; `flagged`: seats that lost on time. */
  update(clock, flagged = []) {
    this.clock = clock ?? null;
    this.at = performance.now();
    this.flagged = new Set(flagged);
    this.tick();
  }

  /** Whether this room's games have a clock. */
  get shown() {
    return this.clock !== null;
  }

  /** The elements showing each seat's clock, by seat. */
  attach(elements) {
    this.elements = elements;
    this.tick();
  }

  /** Seat `seat`'s time left now, as far as the page can tell. */
  seconds(seat) {
    if (!this.clock || this.flagged.has(seat)) return 0;
    const left = this.clock.remaining[seat] ?? 0;
    if (!this.running(seat)) return left;
    return Math.max(0, left - (performance.now() - this.at) / 1000);
  }

  running(seat) {
    return Boolean(this.clock?.running.includes(seat));
  }

  tick() {
    this.elements.forEach((element, seat) => {
      if (!element) return;
      const left = this.seconds(seat);
      const text = formatClock(left);
      if (element.textContent !== text) element.textContent = text;
      element.toggleAttribute("data-running", this.running(seat)); // (no change, no mutation)
      element.classList.toggle("low", left < LOW);
      element.classList.toggle("flagged", this.flagged.has(seat));
    });
    const anyRunning = Boolean(this.clock?.running.length);
    if (anyRunning && this.timer === null) this.timer = setInterval(() => this.tick(), TICK_MS);
    else if (!anyRunning) this.pause();
  }

  pause() {
    clearInterval(this.timer);
    this.timer = null;
  }

  stop() {
    this.pause();
    this.clock = null;
    this.elements = [];
    this.flagged = new Set();
  }
}

/** The clocks before a room's first game: every seat's full time, none running (null: no clock). */
export function startingClock(control, seats) {
  if (!control) return null;
  const perMove = /^([\d.]+)\/move$/.exec(control);
  const budget = /^([\d.]+)(?:\+[\d.]+)?$/.exec(control);
  const seconds = Number(perMove?.[1] ?? budget?.[1] ?? 0);
  return { control, remaining: Array(seats).fill(seconds), running: [] };
}
