// What the boards of the real-time games share (pong.js, arena.js): a canvas drawn every animation
// frame from the room's RealtimeView (netplay.js), keys held and released anywhere on the page, and
// the record of what was drawn, which the tests read (board.drawn, board.lastInput).
//
// A real-time board is built as new Board(container, onMove, { client, room, input }): `input(data)`
// sends an input (the page sends nothing while offline or watching, and returns null);
// `render(message, seat)` is called by the page on every keyframe with its summary ({ status,
// players, outcome, state }; seat null while offline), and the frames draw the view itself: the
// player's own part predicted, everything else interpolated.

import { el, loadStyle } from "./common.js";

loadStyle(new URL("./realtime.css", import.meta.url));

// Keys pressed while typing in a field, with Ctrl, Alt or Meta, or while the lobby is on screen
// are not for the game (as common.js's onKeys).
function forGame(root, event) {
  if (event.ctrlKey || event.altKey || event.metaKey) return false;
  const target = event.target;
  if (target instanceof Element && target.closest("input, textarea, select, [contenteditable]")) return false;
  return !root.closest("[hidden]");
}

/** The name a key goes by in a board's key map: letters in lower case, anything else as it is. */
export function keyName(event) {
  return event.key.length === 1 ? event.key.toLowerCase() : event.key;
}

export class RealtimeBoard {
  constructor(container, context, className, { width, height, label }) {
    this.client = context.client;
    this.roomId = context.room;
    this.sendInput = context.input ?? ((data) => this.client.input(data, this.roomId));
    this.active = true; // false while the page is offline: no inputs then
    this.message = null;
    /** Animation frames drawn so far; what the last one drew; the last input sent, and the frame after it. */
    this.frames = 0;
    this.drawn = null;
    this.lastInput = null;
    this.held = []; // keys of the key map held now, the latest last
    this.root = el("div", `rt ${className}`);
    this.canvas = el("canvas", "rt-field");
    this.canvas.width = width;
    this.canvas.height = height;
    this.canvas.setAttribute("role", "img");
    this.canvas.setAttribute("aria-label", label);
    this.canvas.tabIndex = 0; // the page focuses the board: the keys work wherever the focus is
    this.context2d = this.canvas.getContext("2d");
    this.caption = el("p", "rt-caption");
    this.caption.setAttribute("aria-live", "polite");
    container.replaceChildren(this.root);
    this._listen();
    const frame = () => {
      if (!this.root.isConnected) return; // another room's board took its place: stop
      try {
        if (this.root.closest("[hidden]")) return; // the lobby is on screen: nothing to draw
        this.frames += 1;
        this.draw(performance.now());
        if (this.lastInput && !this.lastInput.next) this.lastInput.next = this.drawn;
      } finally {
        requestAnimationFrame(frame);
      }
    };
    requestAnimationFrame(frame);
  }

  /** The room's view (null before the page has joined it). */
  get view() {
    return this.client.view(this.roomId);
  }

  /** This page's seat in the match (null: watching). */
  get seat() {
    return this.view?.seat ?? null;
  }

  render(message, mySeat) {
    this.message = message;
    this.active = mySeat != null;
  }

  focus() {
    this.canvas.focus();
  }

  /** Send an input from a key press, and note what was on screen when it went (for the tests). */
  input(data) {
    const view = this.view;
    const message = this.sendInput(data);
    if (message) {
      const { frames: frame, drawn } = this;
      this.lastInput = { frame, tick: view.tick, seq: message.seq, data, drawn, next: null };
    }
    return message;
  }

  /** Whether this page may send inputs now: a player of a match in play, online. */
  playing() {
    const view = this.view;
    return Boolean(this.active && view?.view != null && view.seat != null && view.status === "playing");
  }

  // Keys of `this.keys` (a Set of key names) held anywhere on the page, the latest last; blurring
  // the window lets go of them all. Each change calls this.keysChanged(key, down).
  _listen() {
    const down = (event) => {
      if (!this.root.isConnected) return remove();
      const key = keyName(event);
      if (!this.keys.has(key) || !forGame(this.root, event)) return;
      if (this.seat != null) event.preventDefault(); // a player's arrows would scroll the page
      if (event.repeat && this.held.includes(key)) return;
      this.held = [...this.held.filter((k) => k !== key), key];
      this.keysChanged(key, true);
    };
    const up = (event) => {
      if (!this.root.isConnected) return remove();
      const key = keyName(event);
      if (!this.held.includes(key)) return;
      this.held = this.held.filter((k) => k !== key);
      this.keysChanged(key, false);
    };
    const blur = () => {
      if (!this.root.isConnected) return remove();
      if (!this.held.length) return;
      this.held = [];
      this.keysChanged(null, false);
    };
    const remove = () => {
      document.removeEventListener("keydown", down);
      document.removeEventListener("keyup", up);
      window.removeEventListener("blur", blur);
    };
    document.addEventListener("keydown", down);
    document.addEventListener("keyup", up);
    window.addEventListener("blur", blur);
  }

  /** Say on the board's root what it shows (data-status, data-tick, data-game: the tests wait on them). */
  mark(view) {
    const root = this.root.dataset;
    if (root.status !== view.status) root.status = view.status;
    root.tick = view.tick;
    root.game = view.game;
  }

  /** Set an element's text only when it changes (the frames run 60 times a second). */
  static text(element, text) {
    if (element.textContent !== text) element.textContent = text;
  }
}
