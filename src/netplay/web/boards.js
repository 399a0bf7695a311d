// Boards for the built-in games. Each one draws a `state` message into a container and turns a
// click or a key into a move: new Board(container, onMove), then board.render(state, mySeat).
// The real-time games' boards (`about.realtime`) draw their room's view every animation frame
// instead: new Board(container, onMove, { client, room, input }) (boards/realtime.js).

import { ChessBoard, about as chessAbout } from "./boards/chess.js";
import { Board as BattleshipBoard, about as battleshipAbout } from "./boards/battleship.js";
import { Board as CrazyEightsBoard, about as crazy8About } from "./boards/crazy8.js";
import { Board as RpsBoard, about as rpsAbout } from "./boards/rps.js";
import { Board as PigBoard, about as pigAbout } from "./boards/pig.js";
import { Board as PongBoard, about as pongAbout } from "./boards/pong.js";
import { Board as ArenaBoard, about as arenaAbout } from "./boards/arena.js";

const MARKS = ["X", "O"];

export const GAMES = {
  tictactoe: { title: "Tic-tac-toe", blurb: "Three in a row on a 3×3 grid. Quick and fierce." },
  connect4: { title: "Connect Four", blurb: "Drop discs into seven columns; connect four to win." },
  chess: chessAbout,
  battleship: battleshipAbout,
  crazy8: crazy8About,
  rps: rpsAbout,
  pig: pigAbout,
  pong: pongAbout,
  arena: arenaAbout,
};

/**
 * The seats that may act now in a `state` message: its `active` list (protocol v1), else the single
 * seat of `turn`; none once the game is over.
 */
export function activeSeats(message) {
  if (!message || message.outcome) return [];
  if (Array.isArray(message.active)) return message.active;
  return message.turn == null ? [] : [message.turn];
}

/** Whether `seat` may act now in the `state` message. */
export function mayAct(message, seat) {
  return seat != null && activeSeats(message).includes(seat);
}

function button(className, label) {
  const element = document.createElement("button");
  element.type = "button";
  element.className = className;
  element.setAttribute("aria-label", label);
  return element;
}

// Arrow keys move the focus between a board's buttons; `step` says how far each arrow goes.
function arrowFocus(buttons, event, step) {
  const delta = step[event.key];
  if (delta === undefined) return false;
  const index = buttons.indexOf(document.activeElement);
  const next = buttons[(index + delta + buttons.length) % buttons.length];
  next?.focus();
  return true;
}

class TicTacToeBoard {
  static hint = "Click a square, or press 1–9 (rows from the top). Arrow keys move between squares.";

  constructor(container, onMove) {
    this.grid = document.createElement("div");
    this.grid.className = "ttt";
    this.cells = [];
    for (let i = 0; i < 9; i++) {
      const cell = button("cell", `Square ${i + 1}`);
      cell.dataset.cell = i;
      cell.addEventListener("click", () => onMove(i));
      this.cells.push(cell);
      this.grid.append(cell);
    }
    this.grid.addEventListener("keydown", (event) => {
      if (arrowFocus(this.cells, event, { ArrowLeft: -1, ArrowRight: 1, ArrowUp: -3, ArrowDown: 3 })) {
        event.preventDefault();
      } else if (/^[1-9]$/.test(event.key)) {
        onMove(Number(event.key) - 1);
      }
    });
    container.replaceChildren(this.grid);
  }

  render(message, mySeat) {
    const board = message?.state.board ?? Array(9).fill(null);
    const line = new Set(message?.outcome?.winner != null ? winningLine(board) : []);
    const last = message?.last?.move;
    this.grid.dataset.mark = mySeat == null ? "" : MARKS[mySeat];
    this.grid.classList.toggle("my-turn", mayAct(message, mySeat));
    this.cells.forEach((cell, i) => {
      const mark = board[i];
      cell.textContent = mark ?? "";
      cell.dataset.mark = mark ?? "";
      cell.classList.toggle("last", i === last);
      cell.classList.toggle("win", line.has(i));
      cell.setAttribute("aria-label", `Square ${i + 1}, ${mark ?? "empty"}`);
    });
  }

  focus() {
    this.cells[4].focus();
  }
}

const LINES = [
  [0, 1, 2], [3, 4, 5], [6, 7, 8], [0, 3, 6], [1, 4, 7], [2, 5, 8], [0, 4, 8], [2, 4, 6],
];

function winningLine(board) {
  return LINES.find(([a, b, c]) => board[a] && board[a] === board[b] && board[a] === board[c]) ?? [];
}

class ConnectFourBoard {
  static hint = "Click a column, or press 1–7. Arrow keys pick a column, Enter drops.";

  constructor(container, onMove) {
    this.grid = document.createElement("div");
    this.grid.className = "c4";
    this.columns = [];
    for (let c = 0; c < 7; c++) {
      const column = button("column", `Column ${c + 1}`);
      column.dataset.column = c;
      for (let r = 0; r < 6; r++) column.append(document.createElement("span"));
      column.addEventListener("click", () => onMove(c));
      this.columns.push(column);
      this.grid.append(column);
    }
    this.grid.addEventListener("keydown", (event) => {
      if (arrowFocus(this.columns, event, { ArrowLeft: -1, ArrowRight: 1 })) {
        event.preventDefault();
      } else if (/^[1-7]$/.test(event.key)) {
        onMove(Number(event.key) - 1);
      }
    });
    container.replaceChildren(this.grid);
  }

  render(message, mySeat) {
    const rows = message?.state.board ?? Array.from({ length: 6 }, () => Array(7).fill(null));
    const line = new Set(message?.outcome?.winner != null ? fourInARow(rows) : []);
    const lastColumn = message?.last?.move;
    this.grid.dataset.mark = mySeat == null ? "" : MARKS[mySeat];
    this.grid.classList.toggle("my-turn", mayAct(message, mySeat));
    this.columns.forEach((column, c) => {
      const discs = column.children;
      let top = -1; // the highest disc of the column: the last one dropped there
      for (let r = 5; r >= 0; r--) {
        const mark = rows[r][c];
        discs[r].dataset.mark = mark ?? "";
        discs[r].classList.toggle("win", line.has(`${r},${c}`));
        discs[r].classList.remove("last");
        if (mark) top = r;
      }
      if (c === lastColumn && top >= 0) discs[top].classList.add("last");
      const free = rows.filter((row) => row[c] === null).length;
      column.setAttribute("aria-label", `Column ${c + 1}, ${free ? `${free} free` : "full"}`);
    });
  }

  focus() {
    this.columns[3].focus();
  }
}

function fourInARow(rows) {
  for (let r = 0; r < 6; r++) {
    for (let c = 0; c < 7; c++) {
      const mark = rows[r][c];
      if (!mark) continue;
      for (const [dr, dc] of [[0, 1], [1, 0], [1, 1], [1, -1]]) {
        const cells = [0, 1, 2, 3].map((i) => [r + i * dr, c + i * dc]);
        if (cells.every(([y, x]) => rows[y]?.[x] === mark)) return cells.map(([y, x]) => `${y},${x}`);
      }
    }
  }
  return [];
}

export const BOARDS = { tictactoe: TicTacToeBoard, connect4: ConnectFourBoard, chess: ChessBoard,
  battleship: BattleshipBoard, crazy8: CrazyEightsBoard, rps: RpsBoard, pig: PigBoard, pong: PongBoard,
  arena: ArenaBoard };
export { MARKS };
