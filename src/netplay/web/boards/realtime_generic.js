// A real-time game without a board of its own (a RealtimeGame of yours, docs/games.md): its view as
// indented JSON, redrawn whenever a newer one comes, and its inputs sent from the keys the game
// names (`RealtimeGame.keys`, given by list_games: the input each key sends while it is held, the
// latest held winning, and `idle` once none is) or, for a game that names none, typed as JSON.
//
// new GenericRealtimeBoard(container, onMove, { client, room, input, keys, idle }), as the other
// real-time boards (boards/realtime.js); the page picks it for a real-time room it has no board for.

import { el } from "./common.js";
import { RealtimeBoard } from "./realtime.js";

export class GenericRealtimeBoard extends RealtimeBoard {
  static hint = "";

  constructor(container, onMove, context) {
    super(container, context, "rt-generic", { width: 1, height: 1, label: "" });
    this.keyMap = context.keys ?? {};
    this.idle = context.idle ?? null;
    this.keys = new Set(Object.keys(this.keyMap));
    this.canvas.hidden = true; // nothing to paint: the view is text
    this.shownTick = null;
    this.sent = null; // the JSON of the last input sent from the keys, and the match it went to
    this.sentGame = null;
    this.viewText = el("pre", "rt-view");
    this.viewText.setAttribute("aria-label", "The game's view");
    this.viewText.tabIndex = 0;
    this.root.append(this.viewText, this.caption);
    if (this.keys.size) {
      const help = el("p", "rt-keys muted");
      help.textContent = `Keys: ${Object.keys(this.keyMap).join(", ")} (hold to keep sending).`;
      this.root.append(help);
    } else {
      this.form = this.inputForm();
      this.root.append(this.form);
    }
  }

  focus() {
    this.viewText.focus();
  }

  // A field for an input as JSON (text that is not JSON goes as a string), sent with Enter.
  inputForm() {
    const form = el("form", "rt-input");
    const field = el("input");
    field.type = "text";
    field.placeholder = 'An input as JSON, e.g. {"dir": 1}';
    field.setAttribute("aria-label", "Your input, as JSON");
    const send = el("button", "", "Send");
    send.type = "submit";
    form.append(field, send);
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      if (!this.playing() || !field.value.trim()) return;
      let data;
      try {
        data = JSON.parse(field.value);
      } catch {
        data = field.value.trim();
      }
      if (this.input(data)) field.select();
    });
    return form;
  }

  /** The input the keys held now ask for: the latest key's, else `idle` (null: nothing). */
  wanted() {
    const key = this.held.at(-1);
    return key === undefined ? this.idle : this.keyMap[key];
  }

  keysChanged() {
    this.sync();
  }

  // Send what the keys ask for, when it differs from what they last sent in this match. True if it sent.
  sync() {
    if (!this.keys.size || !this.playing()) return false;
    const view = this.view;
    if (this.sentGame !== view.game) [this.sent, this.sentGame] = [null, view.game]; // a new match
    const want = this.wanted();
    if (want == null) return false;
    if (this.sent === null && !this.held.length) return false; // idle before any key: nothing to undo
    const text = JSON.stringify(want);
    if (text === this.sent) return false;
    const message = this.input(want);
    if (message) this.sent = text;
    return Boolean(message);
  }

  draw() {
    const view = this.view;
    const latest = view?.view;
    const root = this.root.dataset;
    if (latest == null) {
      if (root.status !== "waiting") root.status = "waiting";
      RealtimeBoard.text(this.caption, "Waiting for the players…");
      this.drawn = { frame: this.frames, tick: -1 };
      return;
    }
    this.sync(); // keys held before the match started (or since a reconnect) go now
    this.mark(view);
    if (this.shownTick !== view.tick) {
      this.shownTick = view.tick;
      RealtimeBoard.text(this.viewText, JSON.stringify(latest, null, 1));
    }
    this.drawn = { frame: this.frames, tick: view.tick, view: latest };
    RealtimeBoard.text(this.caption, this.words(view));
  }

  words(view) {
    const seat = view.seat;
    if (view.status === "finished") {
      const winner = view.outcome?.winner;
      if (winner == null) return "Game over.";
      return winner === seat ? "You win!" : `Seat ${winner + 1} wins.`;
    }
    return seat == null ? `Watching: tick ${view.tick}.` : `You are seat ${seat + 1}: tick ${view.tick}.`;
  }
}
