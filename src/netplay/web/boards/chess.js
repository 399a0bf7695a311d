// The chess board of the web page: new ChessBoard(container, onMove), then board.render(state, mySeat).
//
// It draws `state.state` as the chess game sends it (see netplay/games/chess.py): the position from
// `fen`, the last move's squares (`last`), the king in check (`check`), and the moves so far in SAN
// (`san`, numbered from the `start` position). On your turn a click on one of your pieces marks the
// squares its moves in `legal` (UCI) go to; a click on one of them, or dragging the piece there,
// sends that move in UCI; a promotion asks which piece first (the UCI's fifth letter). Seat 1 plays
// black and sees the board from its side; spectators see it from white's. When the game ends a
// "Download PGN" link offers the game, built here from `start`, `san`, the players and the outcome.
//
// Keyboard: the 64 squares are buttons, one Tab stop (the last square you were on); arrows move
// between them as they are drawn (flipped for black); Enter or Space picks a piece up and puts it
// down; Escape drops it. No assets, no network: the pieces are Unicode glyphs.

const STANDARD = "rnbqkbnr/pppppppp/8/8/8/8/PPPPPPPP/RNBQKBNR w KQkq - 0 1";
const FILES = "abcdefgh";
const COLORS = ["white", "black"]; // by seat
const NAMES = { k: "king", q: "queen", r: "rook", b: "bishop", n: "knight", p: "pawn" };
// Solid glyphs draw black pieces, and fill white ones under their outline glyph. The text
// variation selector keeps the pawn from turning into an emoji.
const SOLID = { k: "♚", q: "♛", r: "♜", b: "♝", n: "♞", p: "♟\uFE0E" };
const OUTLINE = { k: "♔", q: "♕", r: "♖", b: "♗", n: "♘", p: "♙\uFE0E" };
const PROMOTIONS = ["q", "r", "b", "n"];
const DRAG_START_PX = 4; // a press that moves less than this is a click

export const about = {
  title: "Chess",
  blurb: "The real thing, with a clock if you like. Click or drag to move; play white or black.",
  sides: ["White", "Black"], // what each seat plays, said for people
};

// The board's styles, next to this module: loaded once, by the module itself.
function loadStyles() {
  if (typeof document === "undefined" || document.querySelector("link[data-board-styles=chess]")) return;
  const link = document.createElement("link");
  link.rel = "stylesheet";
  link.href = new URL("./chess.css", import.meta.url).href;
  link.dataset.boardStyles = "chess";
  document.head.append(link);
}
loadStyles();

/** The pieces of a FEN's placement, by square name ("e1" → "K"; white in capitals). */
function placement(fen) {
  const pieces = new Map();
  const rows = String(fen || STANDARD).split(" ")[0].split("/");
  rows.forEach((row, index) => {
    const rank = 8 - index;
    let file = 0;
    for (const char of row) {
      if (/[1-8]/.test(char)) file += Number(char);
      else pieces.set(FILES[file++] + rank, char);
    }
  });
  return pieces;
}

const colorOf = (piece) => (piece === piece.toUpperCase() ? "white" : "black");

function pieceName(piece) {
  return `${colorOf(piece)} ${NAMES[piece.toLowerCase()]}`;
}

/** The SAN moves numbered as a move list: ["1.", "e4", "e5", "2.", "Nf3"], or ["4...", "Kf7"]. */
export function numberedMoves(start, san) {
  const fields = String(start || STANDARD).split(" ");
  let number = Number(fields[5]) || 1;
  let white = fields[1] !== "b";
  const tokens = [];
  san.forEach((move, index) => {
    if (white) tokens.push(`${number}.`);
    else if (index === 0) tokens.push(`${number}...`);
    tokens.push(move);
    if (!white) number++;
    white = !white;
  });
  return tokens;
}

/** The result of an `outcome` as PGN writes it. */
export function pgnResult(outcome) {
  if (!outcome) return "*";
  if (outcome.winner === 0) return "1-0";
  if (outcome.winner === 1) return "0-1";
  return outcome.draw ? "1/2-1/2" : "*";
}

const tagValue = (text) => String(text).replace(/\\/g, "\\\\").replace(/"/g, '\\"');

function playerName(player) {
  if (!player) return "?";
  return player.bot ? `Computer (${player.bot})` : player.name || "?";
}

/** The game of a `state` message as PGN: the seven tags, SetUp/FEN from another start, the moves. */
export function buildPgn(message, date = new Date()) {
  const state = message.state;
  const result = pgnResult(message.outcome);
  const day = [date.getFullYear(), date.getMonth() + 1, date.getDate()]
    .map((n, i) => String(n).padStart(i ? 2 : 4, "0"))
    .join(".");
  const tags = [
    ["Event", "netplay"],
    ["Site", "?"],
    ["Date", day],
    ["Round", "-"],
    ["White", playerName(message.players?.[0])],
    ["Black", playerName(message.players?.[1])],
    ["Result", result],
  ];
  if (state.start && state.start !== STANDARD) tags.push(["SetUp", "1"], ["FEN", state.start]);
  if (message.clock?.control) tags.push(["TimeControl", message.clock.control]);
  const reason = message.outcome?.reason;
  if (reason) {
    const termination = { time: "time forfeit", forfeit: "abandoned", abandoned: "abandoned" }[reason];
    tags.push(["Termination", termination ?? "normal"]);
  }
  // The move text, wrapped under 80 columns (PGN's export format), a number never apart from its move.
  const units = [];
  for (const token of [...numberedMoves(state.start, state.san ?? []), result]) {
    if (units.length && /\.$/.test(units.at(-1))) units[units.length - 1] += ` ${token}`;
    else units.push(token);
  }
  const lines = [];
  let line = "";
  for (const token of units) {
    if (line && line.length + 1 + token.length > 79) {
      lines.push(line);
      line = token;
    } else {
      line = line ? `${line} ${token}` : token;
    }
  }
  lines.push(line);
  return `${tags.map(([key, value]) => `[${key} "${tagValue(value)}"]`).join("\n")}\n\n${lines.join("\n")}\n`;
}

function element(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

export class ChessBoard {
  static hint =
    "Click one of your pieces, then a marked square (or drag the piece there). " +
    "Keyboard: arrows move between squares, Enter or Space picks a piece up and puts it down, Escape drops it.";

  constructor(container, onMove) {
    this.onMove = onMove;
    this.message = null;
    this.seat = null;
    this.orientation = null; // "white" or "black": whose side is at the bottom
    this.version = undefined; // the game and version of the state on screen
    this.pieces = placement(STANDARD);
    this.selected = null; // the square of the piece picked up
    this.cursor = null; // the square with the keyboard's Tab stop
    this.pending = null; // the UCI move sent, until the next state (or its refusal)
    this.drag = null;
    this.promotion = null; // { from, to } while the chooser asks
    this.suppressClick = false;
    this.pgnUrl = null;
    this.pgnText = null;

    this.root = element("div", "chess");
    this.frame = element("div", "chess-frame");
    this.grid = element("div", "chess-board");
    this.grid.setAttribute("role", "group");
    this.grid.setAttribute("aria-label", "Chess board");
    this.squares = new Map();
    for (let rank = 1; rank <= 8; rank++) {
      for (let file = 0; file < 8; file++) {
        const name = FILES[file] + rank;
        const square = element("button", `sq ${(file + rank) % 2 ? "light" : "dark"}`);
        square.type = "button";
        square.dataset.square = name;
        square.tabIndex = -1;
        square.append(
          element("span", "piece"),
          element("span", "coord rank"),
          element("span", "coord file"),
        );
        for (const child of square.children) child.setAttribute("aria-hidden", "true");
        this.squares.set(name, square);
      }
    }
    this.chooser = this.buildChooser();
    this.frame.append(this.grid, this.chooser);

    const side = element("div", "chess-side");
    side.append(element("h3", "chess-side-title", "Moves"));
    this.moveList = element("p", "chess-moves");
    this.moveList.setAttribute("aria-label", "Moves");
    this.pgnLink = element("a", "chess-pgn", "Download PGN");
    this.pgnLink.hidden = true;
    side.append(this.moveList, this.pgnLink);
    this.root.append(this.frame, side);

    this.grid.addEventListener("click", (event) => this.onClick(event));
    this.grid.addEventListener("keydown", (event) => this.onKey(event));
    this.grid.addEventListener("pointerdown", (event) => this.onPointerDown(event));
    this.grid.addEventListener("pointermove", (event) => this.onPointerMove(event));
    this.grid.addEventListener("pointerup", (event) => this.onPointerUp(event));
    this.grid.addEventListener("pointercancel", () => this.cancelDrag());
    this.grid.addEventListener("lostpointercapture", () => this.cancelDrag());
    this.grid.addEventListener("dragstart", (event) => event.preventDefault());
    this.grid.addEventListener("focusin", (event) => {
      const square = event.target.closest?.(".sq");
      if (square) this.setCursor(square.dataset.square);
    });
    this.setOrientation("white");
    container.replaceChildren(this.root);
  }

  buildChooser() {
    const chooser = element("div", "chess-promotion");
    chooser.setAttribute("role", "dialog");
    chooser.setAttribute("aria-label", "Promote the pawn");
    chooser.hidden = true;
    const title = element("p", "chess-promotion-title", "Promote to");
    const row = element("div", "chess-promotion-pieces");
    this.choices = PROMOTIONS.map((letter) => {
      const choice = element("button", "chess-choice");
      choice.type = "button";
      choice.dataset.piece = letter;
      const name = NAMES[letter];
      choice.setAttribute("aria-label", name[0].toUpperCase() + name.slice(1));
      choice.append(element("span", "piece"), element("span", "chess-choice-name", name));
      choice.firstChild.setAttribute("aria-hidden", "true");
      choice.addEventListener("click", () => this.promote(letter));
      row.append(choice);
      return choice;
    });
    const cancel = element("button", "chess-choice-cancel secondary small", "Cancel");
    cancel.type = "button";
    cancel.addEventListener("click", () => this.closePromotion(true));
    chooser.append(title, row, cancel);
    chooser.addEventListener("click", (event) => {
      if (event.target === chooser) this.closePromotion(true); // a click beside the choices
    });
    chooser.addEventListener("keydown", (event) => {
      if (event.key === "Escape") {
        event.preventDefault();
        this.closePromotion(true);
      } else if (event.key === "ArrowLeft" || event.key === "ArrowRight") {
        const index = this.choices.indexOf(document.activeElement);
        if (index < 0) return;
        event.preventDefault();
        const step = event.key === "ArrowLeft" ? -1 : 1;
        this.choices[(index + step + this.choices.length) % this.choices.length].focus();
      }
    });
    return chooser;
  }

  // -- what the page calls ----------------------------------------------------------------------

  render(message, mySeat) {
    this.message = message ?? null;
    this.seat = mySeat ?? null;
    // Seat 1 sees black at the bottom. A spectator sees white's side, and a player whose seat is
    // not known for a moment (offline) keeps the side they had.
    if (this.seat === 0 || this.seat === 1) this.setOrientation(COLORS[this.seat]);
    // A new state (or a new game: a rematch) drops what was picked up.
    const version = this.message ? `${this.message.game ?? 0}:${this.message.version}` : undefined;
    if (version !== this.version) {
      this.version = version;
      this.pending = null;
      this.selected = null;
      this.closePromotion(false);
      this.endDrag();
    }
    if (!this.canMove()) {
      this.selected = null;
      if (this.promotion) this.closePromotion(false);
    }
    this.draw();
    this.drawMoves();
    this.drawPgn();
  }

  focus() {
    this.squares.get(this.cursorSquare()).focus();
  }

  // -- state --------------------------------------------------------------------------------------

  get state() {
    return this.message?.state ?? null;
  }

  myColor() {
    return this.seat === 0 || this.seat === 1 ? COLORS[this.seat] : null;
  }

  myTurn() {
    const message = this.message;
    if (!message || message.outcome || this.seat === null) return false;
    const active = Array.isArray(message.active) ? message.active : message.turn == null ? [] : [message.turn];
    return active.includes(this.seat) && this.state?.turn === this.myColor();
  }

  canMove() {
    return this.myTurn() && !this.pending && (this.state?.legal?.length ?? 0) > 0;
  }

  movesFrom(square) {
    return (this.state?.legal ?? []).filter((uci) => uci.startsWith(square));
  }

  targetsOf(square) {
    return new Set(this.movesFrom(square).map((uci) => uci.slice(2, 4)));
  }

  isMine(square) {
    const piece = this.pieces.get(square);
    return Boolean(piece) && colorOf(piece) === this.myColor();
  }

  cursorSquare() {
    return this.cursor ?? (this.orientation === "black" ? "e7" : "e2");
  }

  // -- drawing ------------------------------------------------------------------------------------

  setOrientation(orientation) {
    if (orientation === this.orientation) return;
    this.orientation = orientation;
    this.root.dataset.orientation = orientation;
    const hadFocus = this.grid.contains(document.activeElement) ? document.activeElement : null;
    const order = [];
    const ranks = orientation === "white" ? [8, 7, 6, 5, 4, 3, 2, 1] : [1, 2, 3, 4, 5, 6, 7, 8];
    const files = orientation === "white" ? [...FILES] : [...FILES].reverse();
    ranks.forEach((rank, row) =>
      files.forEach((file, column) => {
        const square = this.squares.get(file + rank);
        square.querySelector(".coord.rank").textContent = column === 0 ? String(rank) : "";
        square.querySelector(".coord.file").textContent = row === 7 ? file : "";
        order.push(square);
      }),
    );
    this.grid.replaceChildren(...order); // reading order is the order drawn
    hadFocus?.focus();
  }

  draw() {
    const state = this.state;
    const pieces = placement(state?.fen);
    if (this.pending) {
      // The move sent, shown at once (a drop stays where it was put) until the state says more.
      const [from, to, promotion] = [this.pending.slice(0, 2), this.pending.slice(2, 4), this.pending[4]];
      const piece = pieces.get(from);
      if (piece) {
        pieces.delete(from);
        const white = colorOf(piece) === "white";
        pieces.set(to, promotion ? (white ? promotion.toUpperCase() : promotion) : piece);
      }
    }
    this.pieces = pieces;
    const movable = this.canMove();
    const targets = movable && this.selected ? this.targetsOf(this.selected) : new Set();
    const lastMove = this.pending
      ? [this.pending.slice(0, 2), this.pending.slice(2, 4)]
      : state?.last
        ? [state.last.from, state.last.to]
        : [];
    const check = this.pending ? null : state?.check;
    const cursor = this.cursorSquare();
    this.root.classList.toggle("my-turn", movable);
    for (const [name, square] of this.squares) {
      const piece = pieces.get(name);
      const glyph = square.querySelector(".piece");
      if (piece) {
        const kind = piece.toLowerCase();
        const white = colorOf(piece) === "white";
        glyph.textContent = white ? OUTLINE[kind] : SOLID[kind];
        glyph.dataset.fill = white ? SOLID[kind] : "";
        glyph.dataset.color = colorOf(piece);
      } else {
        glyph.textContent = "";
        glyph.dataset.fill = "";
        glyph.dataset.color = "";
      }
      const isTarget = targets.has(name);
      square.classList.toggle("selected", name === this.selected);
      square.classList.toggle("target", isTarget);
      square.classList.toggle("capture", isTarget && Boolean(piece));
      square.classList.toggle("last", lastMove.includes(name));
      square.classList.toggle("check", name === check);
      square.classList.toggle("movable", movable && this.isMine(name) && this.movesFrom(name).length > 0);
      square.classList.toggle("dragging", Boolean(this.drag?.moved) && this.drag.from === name);
      square.tabIndex = name === cursor ? 0 : -1;
      const words = [piece ? `${pieceName(piece)} on ${name}` : `${name}, empty`];
      if (name === this.selected) words.push("selected");
      if (isTarget) words.push(piece ? "can be taken" : "can move here");
      if (name === check) words.push("in check");
      if (lastMove.includes(name)) words.push(name === lastMove[0] ? "last move from here" : "last move");
      square.setAttribute("aria-label", words.join(", "));
    }
  }

  drawMoves() {
    const state = this.state;
    const tokens = state ? numberedMoves(state.start, state.san ?? []) : [];
    const key = JSON.stringify([tokens, this.message?.outcome ? pgnResult(this.message.outcome) : null]);
    if (key === this.movesKey) return;
    this.movesKey = key;
    const nodes = [];
    tokens.forEach((token, index) => {
      if (index) nodes.push(document.createTextNode(" "));
      const number = /^\d+\.(\.\.)?$/.test(token);
      nodes.push(element("span", number ? "num" : "san", token));
    });
    const lastSan = [...nodes].reverse().find((node) => node.classList?.contains("san"));
    lastSan?.classList.add("latest");
    if (this.message?.outcome) {
      if (nodes.length) nodes.push(document.createTextNode(" "));
      nodes.push(element("span", "result", pgnResult(this.message.outcome)));
    }
    if (!nodes.length) nodes.push(element("span", "none", "No moves yet."));
    this.moveList.replaceChildren(...nodes);
    this.moveList.scrollTop = this.moveList.scrollHeight;
  }

  drawPgn() {
    const message = this.message;
    const text = message?.outcome && message.state ? buildPgn(message) : null;
    if (text === this.pgnText) return;
    this.pgnText = text;
    if (this.pgnUrl) URL.revokeObjectURL(this.pgnUrl);
    this.pgnUrl = null;
    this.pgnLink.hidden = !text;
    if (!text) {
      this.pgnLink.removeAttribute("href");
      return;
    }
    this.pgnUrl = URL.createObjectURL(new Blob([text], { type: "application/x-chess-pgn" }));
    this.pgnLink.href = this.pgnUrl;
    const names = [0, 1].map((seat) => playerName(message.players?.[seat]).replace(/[^\w-]+/g, "_"));
    this.pgnLink.download = `chess-${names[0]}-vs-${names[1]}.pgn`;
  }

  // -- moving ---------------------------------------------------------------------------------------

  setCursor(name) {
    if (this.cursor === name) return;
    this.squares.get(this.cursorSquare()).tabIndex = -1;
    this.cursor = name;
    this.squares.get(name).tabIndex = 0;
  }

  // A square clicked, or Enter/Space on it: pick up a piece of yours, put it down on a target, or
  // drop it. Anything else does nothing: no move is ever sent that is not in `legal`.
  activate(name) {
    this.setCursor(name);
    if (!this.canMove()) return;
    if (this.selected && name !== this.selected && this.targetsOf(this.selected).has(name)) {
      this.play(this.selected, name);
      return;
    }
    this.selected = name !== this.selected && this.isMine(name) ? name : null;
    this.draw();
  }

  play(from, to) {
    const moves = this.movesFrom(from).filter((uci) => uci.slice(2, 4) === to);
    if (!moves.length) return;
    if (moves.some((uci) => uci.length === 5)) {
      this.openPromotion(from, to);
      return;
    }
    this.send(moves[0]);
  }

  send(uci) {
    this.selected = null;
    this.pending = uci;
    this.draw();
    const version = this.version;
    // The page shows a refusal itself (its reason, from the server); the board only puts the piece
    // back. An accepted move's state comes before the reply, and has cleared `pending` already.
    Promise.resolve(this.onMove(uci))
      .catch(() => {})
      .finally(() => {
        if (this.pending === uci && this.version === version) {
          this.pending = null;
          this.draw();
        }
      });
  }

  openPromotion(from, to) {
    this.promotion = { from, to };
    const color = this.myColor() ?? "white";
    for (const choice of this.choices) {
      const glyph = choice.querySelector(".piece");
      const kind = choice.dataset.piece;
      glyph.textContent = color === "white" ? OUTLINE[kind] : SOLID[kind];
      glyph.dataset.fill = color === "white" ? SOLID[kind] : "";
      glyph.dataset.color = color;
    }
    this.chooser.hidden = false;
    this.choices[0].focus();
  }

  closePromotion(refocus) {
    if (!this.promotion) return;
    const { from } = this.promotion;
    const hadFocus = this.chooser.contains(document.activeElement);
    this.promotion = null;
    this.chooser.hidden = true;
    if (refocus) {
      this.selected = this.canMove() ? from : null;
      this.draw();
    }
    if (refocus || hadFocus) this.squares.get(this.cursorSquare()).focus();
  }

  promote(letter) {
    if (!this.promotion) return;
    const { from, to } = this.promotion;
    const uci = from + to + letter;
    this.promotion = null;
    this.chooser.hidden = true;
    if (this.canMove() && this.movesFrom(from).includes(uci)) this.send(uci);
    this.squares.get(this.cursorSquare()).focus();
  }

  // -- events ---------------------------------------------------------------------------------------

  onClick(event) {
    const square = event.target.closest(".sq");
    if (!square || this.suppressClick) return;
    this.activate(square.dataset.square);
  }

  onKey(event) {
    if (event.key === "Escape") {
      if (this.selected) {
        event.preventDefault();
        this.selected = null;
        this.draw();
      }
      return;
    }
    const step = { ArrowUp: [-1, 0], ArrowDown: [1, 0], ArrowLeft: [0, -1], ArrowRight: [0, 1] }[event.key];
    if (!step) return;
    event.preventDefault();
    // Rows and columns as drawn: row 0 is the top, column 0 the left.
    const name = this.cursorSquare();
    const white = this.orientation === "white";
    const file = FILES.indexOf(name[0]);
    const rank = Number(name[1]) - 1;
    const row = Math.min(7, Math.max(0, (white ? 7 - rank : rank) + step[0]));
    const column = Math.min(7, Math.max(0, (white ? file : 7 - file) + step[1]));
    const next = FILES[white ? column : 7 - column] + ((white ? 7 - row : row) + 1);
    this.setCursor(next);
    this.squares.get(next).focus();
  }

  squareAt(x, y) {
    const found = document.elementFromPoint(x, y)?.closest?.(".sq");
    return found && this.grid.contains(found) ? found.dataset.square : null;
  }

  onPointerDown(event) {
    if (event.button !== 0 || !event.isPrimary) return;
    const square = event.target.closest(".sq");
    if (!square || !this.canMove() || !this.isMine(square.dataset.square)) return;
    this.drag = { id: event.pointerId, from: square.dataset.square, x: event.clientX, y: event.clientY, moved: false };
  }

  onPointerMove(event) {
    const drag = this.drag;
    if (!drag || event.pointerId !== drag.id) return;
    if (!drag.moved) {
      if (Math.hypot(event.clientX - drag.x, event.clientY - drag.y) < DRAG_START_PX) return;
      if (!this.canMove()) {
        this.drag = null;
        return;
      }
      drag.moved = true;
      this.grid.setPointerCapture?.(event.pointerId);
      this.selected = drag.from;
      const from = this.squares.get(drag.from);
      const size = from.getBoundingClientRect().width;
      drag.ghost = element("div", "chess-ghost");
      const glyph = from.querySelector(".piece").cloneNode(true);
      drag.ghost.append(glyph);
      drag.ghost.style.width = drag.ghost.style.height = `${size}px`;
      drag.ghost.style.fontSize = `${size * 0.8}px`;
      document.body.append(drag.ghost);
      this.draw();
    }
    drag.ghost.style.transform = `translate(${event.clientX}px, ${event.clientY}px) translate(-50%, -50%)`;
    const over = this.squareAt(event.clientX, event.clientY);
    for (const [name, square] of this.squares) square.classList.toggle("drop-over", name === over);
  }

  onPointerUp(event) {
    const drag = this.drag;
    if (!drag || event.pointerId !== drag.id) return;
    if (!drag.moved) {
      this.drag = null; // a click: the click handler takes it
      return;
    }
    // The click that follows a drop (on the square, or on the board) is not a second move.
    this.suppressClick = true;
    setTimeout(() => (this.suppressClick = false));
    const to = this.squareAt(event.clientX, event.clientY);
    this.endDrag();
    this.setCursor(to ?? drag.from);
    if (to && to !== drag.from && this.canMove() && this.targetsOf(drag.from).has(to)) this.play(drag.from, to);
    else this.draw(); // dropped elsewhere: the piece stays picked up, its targets marked
  }

  cancelDrag() {
    if (!this.drag) return;
    this.endDrag();
    this.draw();
  }

  endDrag() {
    const drag = this.drag;
    this.drag = null;
    if (!drag) return;
    drag.ghost?.remove();
    if (this.grid.hasPointerCapture?.(drag.id)) this.grid.releasePointerCapture(drag.id);
    for (const square of this.squares.values()) square.classList.remove("drop-over", "dragging");
  }
}
