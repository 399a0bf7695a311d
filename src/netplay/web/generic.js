// The board for any game the page has no board of its own for: the game's text (its `render`, sent
// as the state message's `text`), its legal moves as buttons when the server lists them (`legal`),
// else a box to type a move in. The same interface as the built-in boards (boards.js):
// new GenericBoard(container, onMove), then board.render(state, mySeat).

import { mayAct } from "./boards.js";

/** A move as a person reads it on a button: a string as it is, anything else as JSON. */
export function moveLabel(move) {
  return typeof move === "string" ? move : JSON.stringify(move);
}

/** What was typed in the move box, as a move: JSON when it parses (`2`, `[1, 3]`), else the text. */
export function parseMove(text) {
  const trimmed = text.trim();
  try {
    return JSON.parse(trimmed);
  } catch {
    return trimmed;
  }
}

export class GenericBoard {
  static hint =
    "When it is your turn, your moves appear under the game: a button for each, or a box to type one in.";

  constructor(container, onMove) {
    this.onMove = onMove;
    this.root = document.createElement("div");
    this.root.className = "generic";
    this.text = document.createElement("pre");
    this.text.className = "generic-text";
    this.text.setAttribute("aria-label", "The game");
    this.moves = document.createElement("div");
    this.moves.className = "generic-moves";
    this.moves.setAttribute("role", "group");
    this.moves.setAttribute("aria-label", "Moves you can play");
    this.form = document.createElement("form");
    this.form.className = "generic-move-box";
    const label = document.createElement("label");
    label.textContent = "Your move";
    this.input = document.createElement("input");
    this.input.name = "move";
    this.input.autocomplete = "off";
    this.input.spellcheck = false;
    label.append(this.input);
    const send = document.createElement("button");
    send.type = "submit";
    send.textContent = "Play";
    this.form.append(label, send);
    this.form.addEventListener("submit", (event) => {
      event.preventDefault();
      if (!this.input.value.trim()) return;
      this.refocus = true;
      this.onMove(parseMove(this.input.value));
      this.input.select(); // a refused move stays there to be corrected
    });
    this.root.append(this.text, this.moves, this.form);
    container.replaceChildren(this.root);
    this.shown = ""; // the legal moves the buttons show, as JSON: rebuilt only when they change
    this.refocus = false; // a move was just made from here: the next moves get the focus
  }

  render(message, mySeat) {
    // Text only, never HTML: the game's render may hold anything a state holds (players' input).
    const text = message?.text ?? (message ? JSON.stringify(message.state, null, 2) : "");
    if (this.text.textContent !== text) this.text.textContent = text;
    const acting = Boolean(message) && mayAct(message, mySeat);
    const legal = acting && Array.isArray(message.legal) ? message.legal : null;
    this.root.classList.toggle("my-turn", acting);
    this.form.hidden = !acting || legal !== null;
    this.moves.hidden = legal === null;
    const key = legal === null ? "" : JSON.stringify(legal);
    if (key !== this.shown) {
      this.shown = key;
      this.moves.replaceChildren(...(legal ?? []).map((move) => this.moveButton(move)));
      if (legal && !legal.length) this.moves.textContent = "No move is possible now.";
    }
    if (acting && this.refocus) {
      this.refocus = false;
      this.focus();
    }
  }

  moveButton(move) {
    const element = document.createElement("button");
    element.type = "button";
    element.className = "secondary generic-move";
    element.textContent = moveLabel(move);
    element.addEventListener("click", () => {
      this.refocus = true;
      this.onMove(move);
    });
    return element;
  }

  focus() {
    const first = this.moves.hidden ? null : this.moves.querySelector("button");
    if (first) first.focus();
    else if (!this.form.hidden) this.input.focus();
  }
}
