// What the boards of this folder share: building elements, loading a board's stylesheet, whose turn
// it is, names for people, and keys that work wherever the focus is on the page.
//
// Deliberately not imported from ../boards.js: boards.js loads these modules, and a module that
// imported boards.js back would wait for boards.js to finish loading it (a cycle).

/** Add the stylesheet at `url` to the page once (a board module calls this when it loads). */
export function loadStyle(url) {
  const href = String(url);
  for (const link of document.querySelectorAll('link[rel="stylesheet"]')) {
    if (link.href === href) return;
  }
  const link = document.createElement("link");
  link.rel = "stylesheet";
  link.href = href;
  document.head.append(link);
}

/** A new element with a class and, if given, its text. */
export function el(tag, className = "", text = null) {
  const element = document.createElement(tag);
  if (className) element.className = className;
  if (text !== null) element.textContent = text;
  return element;
}

/** A button (type "button", so never a form submit) with a class, a text and an accessible name. */
export function button(className, text, label = null) {
  const element = el("button", className, text);
  element.type = "button";
  if (label) element.setAttribute("aria-label", label);
  return element;
}

/** The seats that may act now in a `state` message (its `active` list, else `turn`); none once over. */
export function activeSeats(message) {
  if (!message || message.outcome) return [];
  if (Array.isArray(message.active)) return message.active;
  return message.turn == null ? [] : [message.turn];
}

/** Whether `seat` may act now in the `state` message. */
export function mayAct(message, seat) {
  return seat != null && activeSeats(message).includes(seat);
}

const capital = (text) => text.charAt(0).toUpperCase() + text.slice(1);

/**
 * Names for the people of a `state` message, said to the viewer `me` (a seat, or null): players by
 * name, "you" for the viewer, "the computer" for a server-side bot (numbered from 1 if there are
 * several), and "player 3" (seats counted from 1) for a seat nobody holds.
 */
export function names(message, me) {
  const players = message?.players ?? [];
  const bots = players.filter((player) => player?.bot).length;
  const plain = (seat) => {
    const player = players[seat];
    if (!player) return `player ${seat + 1}`;
    if (player.bot) return bots > 1 ? `computer ${seat + 1}` : "the computer";
    return player.name;
  };
  return {
    /** In a list or a title: "Ann", "Bob (you)", "The computer". */
    label: (seat) => capital(plain(seat)) + (seat === me ? " (you)" : ""),
    /** Starting a sentence: "You", "Ann", "The computer". */
    who: (seat) => (seat === me ? "You" : capital(plain(seat))),
    /** Inside a sentence: "you", "Ann", "the computer". */
    whom: (seat) => (seat === me ? "you" : plain(seat)),
    /** Whose: "your", "Ann's", "the computer's". */
    whose: (seat) => (seat === me ? "your" : `${plain(seat)}'s`),
    /** Capitalised whose, starting a sentence or a title: "Your", "Ann's". */
    Whose: (seat) => capital(seat === me ? "your" : `${plain(seat)}'s`),
  };
}

/** "a, b and c". */
export function joinWords(words) {
  if (words.length <= 1) return words.join("");
  return `${words.slice(0, -1).join(", ")} and ${words.at(-1)}`;
}

/**
 * Call `handler(event)` for keys pressed anywhere on the page while `root` is on it, except while
 * typing in a field or with Ctrl, Alt or Meta held. The listener removes itself once `root` has
 * left the page (the page replaces a board with the next room's).
 */
export function onKeys(root, handler) {
  const listener = (event) => {
    if (!root.isConnected) {
      document.removeEventListener("keydown", listener);
      return;
    }
    if (event.defaultPrevented || event.ctrlKey || event.altKey || event.metaKey) return;
    const target = event.target;
    if (target instanceof Element && target.closest("input, textarea, select, [contenteditable]")) return;
    if (root.closest("[hidden]")) return; // the lobby is on screen
    handler(event);
  };
  document.addEventListener("keydown", listener);
}

/** Move the focus between `items` with the arrow keys; `step` says how far each arrow goes. */
export function arrowFocus(items, event, step) {
  const delta = step[event.key];
  if (delta === undefined) return false;
  const index = items.indexOf(document.activeElement);
  if (index < 0) return false;
  const next = items[(index + delta + items.length) % items.length];
  next?.focus();
  event.preventDefault();
  return true;
}
