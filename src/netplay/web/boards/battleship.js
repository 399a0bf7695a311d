// Battleship: both players hide five ships at once, then take turns firing at the other's fleet.
// The state is the viewer's view (netplay/games/battleship.py): { phase: "placement" | "firing" |
// "over", turn, placed: [bool, bool], winner, last: shot or null, fleet: [{ ship, size }], boards:
// [board of seat 0, board of seat 1] } with a board { grid: 10 rows of "empty" | "ship" | "miss" |
// "hit" | "sunk", ships: [{ ship, cells, sunk }], shots, afloat: [names] } and a shot { by, at,
// result: "miss" | "hit" | "sunk", ship }. Cells are "B7": column A-J, row 1-10, A1 top left.
// Moves: "random", { ships: [{ ship, at, dir: "h" | "v" }, ...] }, then a cell such as "B7".

import { button, el, loadStyle, mayAct, names, onKeys } from "./common.js";

loadStyle(new URL("./battleship.css", import.meta.url));

export const about = {
  title: "Battleship",
  blurb: "Hide five ships, then take turns firing at cells like B7. Sink the whole fleet to win.",
};

const SIZE = 10;
const COLUMNS = "ABCDEFGHIJ";
const FLEET = [
  { ship: "carrier", size: 5 },
  { ship: "battleship", size: 4 },
  { ship: "cruiser", size: 3 },
  { ship: "submarine", size: 3 },
  { ship: "destroyer", size: 2 },
];
const WORDS = { empty: "not fired at", ship: "ship", miss: "miss", hit: "hit", sunk: "sunk" };

const cellName = (column, row) => `${COLUMNS[column]}${row + 1}`;
const capital = (text) => text.charAt(0).toUpperCase() + text.slice(1);

/** The cells a ship of `size` covers from `at` going "h" (rightwards) or "v" (downwards); null off the grid. */
function shipCells(at, dir, size) {
  const column = COLUMNS.indexOf(at[0]);
  const row = Number(at.slice(1)) - 1;
  const cells = [];
  for (let i = 0; i < size; i++) {
    const c = dir === "h" ? column + i : column;
    const r = dir === "h" ? row : row + i;
    cells.push(c < SIZE && r < SIZE ? cellName(c, r) : null);
  }
  return cells;
}

/** A 10x10 grid of buttons with the column letters above and the row numbers beside it. */
class Grid {
  constructor(label, { onCell, onHover }) {
    this.root = el("div", "bs-grid");
    this.root.setAttribute("role", "group");
    this.root.setAttribute("aria-label", label);
    this.root.append(el("span", "bs-corner"));
    for (const letter of COLUMNS) this.root.append(el("span", "bs-label bs-column", letter));
    this.cells = [];
    this.byName = new Map();
    this.current = "A1"; // the cell Tab reaches (one per grid); the arrow keys move from it
    for (let r = 0; r < SIZE; r++) {
      this.root.append(el("span", "bs-label bs-row", String(r + 1)));
      for (let c = 0; c < SIZE; c++) {
        const name = cellName(c, r);
        const cell = button("bs-cell", "");
        cell.dataset.cell = name;
        cell.dataset.state = "empty";
        cell.addEventListener("click", () => onCell(name));
        cell.addEventListener("mouseenter", () => onHover(name));
        cell.addEventListener("focus", () => {
          this.current = name;
          for (const other of this.cells) if (other.tabIndex === 0 && other !== cell) other.tabIndex = -1;
          if (this.interactive) cell.tabIndex = 0;
          onHover(name);
        });
        this.cells.push(cell);
        this.byName.set(name, cell);
        this.root.append(cell);
      }
    }
    this.root.addEventListener("mouseleave", () => onHover(null));
    this.root.addEventListener("keydown", (event) => {
      const step = { ArrowLeft: -1, ArrowRight: 1, ArrowUp: -SIZE, ArrowDown: SIZE }[event.key];
      const index = this.cells.indexOf(document.activeElement);
      if (step === undefined || index < 0) return;
      event.preventDefault();
      const next = index + step;
      const sameRow = Math.floor(next / SIZE) === Math.floor(index / SIZE);
      if (next >= 0 && next < SIZE * SIZE && (Math.abs(step) === SIZE || sameRow)) this.cells[next].focus();
    });
  }

  /** Paint every cell: `look(name)` gives { state, ship, classes, label }. */
  paint(look, interactive) {
    this.interactive = interactive;
    for (const cell of this.cells) {
      const { state = "empty", ship = "", classes = [], label } = look(cell.dataset.cell);
      cell.dataset.state = state;
      cell.dataset.ship = ship;
      cell.className = ["bs-cell", ...classes].join(" ");
      cell.tabIndex = interactive && cell.dataset.cell === this.current ? 0 : -1;
      cell.setAttribute("aria-label", label ?? `${cell.dataset.cell}, ${WORDS[state] ?? state}`);
    }
  }
}

/** One player's waters: a title, the grid, and the ships afloat. */
class Sea {
  constructor(kind, handlers) {
    this.root = el("section", `bs-sea bs-${kind}`);
    this.title = el("h3", "bs-sea-title");
    this.grid = new Grid(kind === "own" ? "Your fleet" : "Target", handlers);
    this.afloat = el("p", "bs-afloat");
    this.ships = el("ul", "bs-ships");
    this.root.append(this.title, this.grid.root, this.afloat, this.ships);
  }

  /** The fleet list: every ship with its size, struck out once sunk. */
  fleetList(fleet, afloat) {
    if (!afloat) {
      this.afloat.hidden = this.ships.hidden = true;
      return;
    }
    this.afloat.hidden = this.ships.hidden = false;
    this.afloat.textContent = `${afloat.length} of ${fleet.length} ships afloat`;
    this.ships.replaceChildren(
      ...fleet.map(({ ship, size }) => {
        const item = el("li", afloat.includes(ship) ? "afloat" : "sunk");
        item.dataset.ship = ship;
        item.append(el("span", "bs-ship-name", capital(ship)), shipBlocks(size));
        item.setAttribute("aria-label", `${capital(ship)}, ${size} cells, ${afloat.includes(ship) ? "afloat" : "sunk"}`);
        return item;
      }),
    );
  }
}

function shipBlocks(size) {
  const blocks = el("span", "bs-blocks");
  blocks.setAttribute("aria-hidden", "true");
  for (let i = 0; i < size; i++) blocks.append(el("i"));
  return blocks;
}

export class Board {
  static hint =
    "Placing: pick a ship, click the cell where it starts; R (or Rotate) turns it. Firing: click a " +
    "cell of the target grid, or move there with the arrow keys and press Enter.";

  constructor(container, onMove) {
    this.onMove = onMove;
    this.message = null;
    this.seat = null; // the viewer's seat, kept while the page is offline (render then gets null)
    this.interactive = false;
    this.gameNumber = null;
    this.resetLayout();

    this.root = el("div", "bs");
    this.prompt = el("p", "bs-prompt");
    this.prompt.setAttribute("aria-live", "polite");
    this.lastShot = el("p", "bs-last");
    this.lastShot.setAttribute("aria-live", "polite");

    // Placing a fleet: the ships to pick, the direction, and the buttons.
    this.placer = el("section", "bs-placer");
    this.placer.setAttribute("aria-label", "Place your fleet");
    this.shipPicks = el("div", "bs-picks");
    this.shipPicks.setAttribute("role", "group");
    this.shipPicks.setAttribute("aria-label", "Ships");
    this.pickButtons = FLEET.map(({ ship, size }) => {
      const pick = button("bs-pick secondary", "");
      pick.dataset.ship = ship;
      pick.append(el("span", "bs-ship-name", capital(ship)), shipBlocks(size));
      pick.addEventListener("click", () => this.pick(ship));
      this.shipPicks.append(pick);
      return pick;
    });
    const tools = el("div", "bs-tools");
    this.rotateButton = button("bs-rotate secondary", "");
    this.rotateButton.addEventListener("click", () => this.rotate());
    this.clearButton = button("bs-clear secondary", "Clear");
    this.clearButton.addEventListener("click", () => {
      this.resetLayout();
      this.draw();
    });
    this.randomButton = button("bs-random secondary", "Random fleet");
    this.randomButton.addEventListener("click", () => onMove("random"));
    this.readyButton = button("bs-ready", "Ready");
    this.readyButton.addEventListener("click", () => this.ready());
    tools.append(this.rotateButton, this.clearButton, this.randomButton, this.readyButton);
    this.placedCount = el("p", "bs-placed muted");
    this.placer.append(this.shipPicks, tools, this.placedCount);

    const handlers = (kind) => ({
      onCell: (name) => this.clicked(kind, name),
      onHover: (name) => this.hovered(kind, name),
    });
    this.own = new Sea("own", handlers("own"));
    this.target = new Sea("target", handlers("target"));
    this.seas = el("div", "bs-seas");
    this.seas.append(this.own.root, this.target.root);

    this.root.append(this.prompt, this.lastShot, this.placer, this.seas);
    onKeys(this.root, (event) => {
      if (!this.placing()) return;
      if (event.key === "r" || event.key === "R") {
        event.preventDefault();
        this.rotate();
      } else if (event.key === "Escape" && this.selected) {
        this.selected = null;
        this.draw();
      }
    });
    container.replaceChildren(this.root);
  }

  resetLayout() {
    this.layout = {}; // ship name -> { at, dir }: this page's placement, until it is sent
    this.selected = FLEET[0].ship;
    this.dir = "h";
    this.hover = null;
  }

  render(message, mySeat) {
    if (message && message.game !== this.gameNumber) {
      if (this.gameNumber !== null) this.resetLayout(); // a rematch: a new fleet to place
      this.gameNumber = message.game;
    }
    this.message = message;
    if (mySeat != null) this.seat = mySeat;
    this.interactive = mySeat != null;
    this.draw();
  }

  /** Whose side the board shows: this page's seat (kept while offline), or null for a spectator. */
  viewer() {
    return this.seat;
  }

  /** Whether this page is placing its fleet now (the game may not have started yet). */
  placing() {
    const view = this.message?.state;
    if (this.seat == null || !this.interactive) return false;
    if (!view) return !this.message; // before the first state: arrange the ships while waiting
    return view.phase === "placement" && !view.placed[this.seat] && !this.message.outcome;
  }

  // -- drawing -----------------------------------------------------------------------------------

  draw() {
    const message = this.message;
    const view = message?.state ?? null;
    const viewer = this.viewer();
    const name = names(message, viewer);
    const phase = view?.phase ?? "placement";
    const over = phase === "over" || Boolean(message?.outcome);
    const placing = this.placing();
    const myTurn = phase === "firing" && mayAct(message, this.interactive ? this.seat : null);
    this.root.dataset.phase = message ? (over ? "over" : phase) : "waiting";
    this.root.dataset.version = message?.version ?? "";
    this.root.classList.toggle("my-turn", myTurn);
    this.root.classList.toggle("placing", placing);

    const [mine, theirs] = viewer == null ? [0, 1] : [viewer, 1 - viewer];
    const fleet = view?.fleet ?? FLEET;
    this.prompt.textContent = this.promptText(view, name, viewer, placing, myTurn, over);
    this.lastShot.textContent = view?.last ? this.shotText(view.last, name, viewer) : "";
    this.lastShot.hidden = !view?.last;

    this.placer.hidden = !placing;
    this.target.root.hidden = phase === "placement" && viewer != null;
    if (placing) {
      this.drawPlacement();
      this.own.title.textContent = "Your fleet";
      this.own.fleetList(fleet, null);
      return;
    }
    // The seas as the server has them: the viewer's own first (a spectator: player 1's).
    const boards = view?.boards ?? [null, null];
    this.own.title.textContent = viewer == null ? `${name.Whose(mine)} fleet` : "Your fleet";
    this.target.title.textContent = `${name.Whose(theirs)} fleet`;
    this.drawSea(this.own, boards[mine], view, false);
    this.drawSea(this.target, boards[theirs], view, myTurn && viewer != null);
    const firing = phase !== "placement";
    this.own.fleetList(fleet, firing ? boards[mine]?.afloat : null);
    this.target.fleetList(fleet, firing ? boards[theirs]?.afloat : null);
    this.target.root.classList.toggle("aiming", myTurn);
  }

  drawSea(sea, board, view, aiming) {
    const shipOf = new Map();
    for (const ship of board?.ships ?? []) for (const cell of ship.cells) shipOf.set(cell, ship.ship);
    const owner = view ? view.boards.indexOf(board) : -1;
    const last = view?.last && 1 - view.last.by === owner ? view.last.at : null;
    sea.grid.paint((cell) => {
      const column = COLUMNS.indexOf(cell[0]);
      const row = Number(cell.slice(1)) - 1;
      const state = board?.grid[row][column] ?? "empty";
      const classes = [];
      if (cell === last) classes.push("last");
      if (aiming && state === "empty") classes.push("aim");
      const ship = shipOf.get(cell) ?? "";
      const what = state === "sunk" && ship ? `sunk ${ship}` : WORDS[state];
      const label = aiming && state === "empty" ? `Fire at ${cell}` : `${cell}, ${what}`;
      return { state, ship, classes, label };
    }, sea === this.target && aiming);
  }

  /** The grid of the fleet being placed here: the ships put down, clashes, and where the picked one would go. */
  drawPlacement() {
    const taken = new Map(); // cell -> ships there
    const broken = new Set(); // ships that run off the grid
    for (const { ship, size } of FLEET) {
      const spot = this.layout[ship];
      if (!spot) continue;
      for (const cell of shipCells(spot.at, spot.dir, size)) {
        if (cell === null) broken.add(ship);
        else taken.set(cell, [...(taken.get(cell) ?? []), ship]);
      }
    }
    const preview = new Set();
    let previewBad = false;
    if (this.selected && this.hover) {
      const size = FLEET.find((s) => s.ship === this.selected).size;
      for (const cell of shipCells(this.hover, this.dir, size)) {
        if (cell === null) previewBad = true;
        else {
          preview.add(cell);
          if ((taken.get(cell) ?? []).some((ship) => ship !== this.selected)) previewBad = true;
        }
      }
    }
    this.own.grid.paint((cell) => {
      const ships = taken.get(cell) ?? [];
      const classes = [];
      if (ships.length > 1) classes.push("clash");
      if (ships.some((ship) => broken.has(ship))) classes.push("off");
      if (ships.includes(this.selected)) classes.push("selected");
      if (preview.has(cell)) classes.push("preview", ...(previewBad ? ["bad"] : []));
      const state = ships.length ? "ship" : "empty";
      const label = ships.length ? `${cell}, ${ships.join(" and ")}` : `${cell}, sea`;
      return { state, ship: ships.join(" "), classes, label };
    }, true);
    for (const pick of this.pickButtons) {
      const ship = pick.dataset.ship;
      pick.setAttribute("aria-pressed", String(ship === this.selected));
      pick.classList.toggle("placed", Boolean(this.layout[ship]));
      const size = FLEET.find((s) => s.ship === ship).size;
      const where = this.layout[ship] ? `, placed at ${this.layout[ship].at} ${this.layout[ship].dir === "h" ? "across" : "down"}` : "";
      pick.setAttribute("aria-label", `${capital(ship)}, ${size} cells${where}`);
    }
    this.rotateButton.textContent = this.dir === "h" ? "Rotate (R): across →" : "Rotate (R): down ↓";
    this.rotateButton.setAttribute("aria-label", `Direction ${this.dir === "h" ? "across" : "down"}: press R to turn`);
    const count = Object.keys(this.layout).length;
    this.placedCount.textContent = `${count} of ${FLEET.length} ships placed.`;
  }

  promptText(view, name, viewer, placing, myTurn, over) {
    if (!view) {
      return placing
        ? "Place your fleet while you wait: pick a ship, then click the cell where it starts."
        : "Waiting for the game to start…";
    }
    const other = viewer == null ? null : 1 - viewer;
    if (view.phase === "placement") {
      if (placing) {
        const them = view.placed[other] ? `${name.who(other)} has placed theirs.` : `${name.who(other)} is placing theirs.`;
        return `Place your fleet: pick a ship, then click the cell where it starts, or take a random fleet. ${them}`;
      }
      if (viewer != null) return `Your fleet is placed: waiting for ${name.whom(other)} to place theirs.`;
      return [0, 1].map((s) => `${name.who(s)} ${view.placed[s] ? "has placed" : "is placing"} their fleet`).join("; ") + ".";
    }
    if (over) {
      const winner = view.winner;
      if (winner == null) return "Game over: both fleets are shown.";
      return `${name.who(winner)} sank ${name.whose(1 - winner)} whole fleet. Both fleets are shown.`;
    }
    if (myTurn) return `Your turn: fire at a cell of ${name.whose(other)} fleet.`;
    if (viewer != null) return `${name.who(other)} is firing at your fleet…`;
    return `${name.who(view.turn)} to fire.`;
  }

  shotText(shot, name, viewer) {
    const target = 1 - shot.by;
    const result =
      shot.result === "sunk"
        ? `hit and sunk ${target === viewer ? "your" : "the"} ${shot.ship}`
        : shot.result;
    return `${name.who(shot.by)} fired at ${shot.at}: ${result}.`;
  }

  // -- placing -----------------------------------------------------------------------------------

  pick(ship) {
    this.selected = this.selected === ship ? null : ship;
    if (this.selected && this.layout[ship]) this.dir = this.layout[ship].dir;
    this.draw();
  }

  rotate() {
    this.dir = this.dir === "h" ? "v" : "h";
    if (this.selected && this.layout[this.selected]) this.layout[this.selected].dir = this.dir;
    this.draw();
  }

  clicked(kind, cell) {
    if (kind === "target") {
      const view = this.message?.state;
      if (view?.phase === "firing" && !this.message.outcome && this.interactive) this.onMove(cell);
      return;
    }
    if (!this.placing()) return;
    if (this.selected) {
      this.layout[this.selected] = { at: cell, dir: this.dir };
      const next = FLEET.find(({ ship }) => !this.layout[ship]);
      this.selected = next ? next.ship : null;
    } else {
      const here = FLEET.find(({ ship, size }) => {
        const spot = this.layout[ship];
        return spot && shipCells(spot.at, spot.dir, size).includes(cell);
      });
      if (here) {
        this.selected = here.ship;
        this.dir = this.layout[here.ship].dir;
      }
    }
    this.draw();
  }

  hovered(kind, cell) {
    if (kind !== "own" || !this.placing() || this.hover === cell) return;
    this.hover = cell;
    this.draw();
  }

  /** Send the fleet as placed here; the server checks it, and a refusal says what is wrong. */
  ready() {
    const ships = FLEET.filter(({ ship }) => this.layout[ship]).map(({ ship }) => ({
      ship,
      at: this.layout[ship].at,
      dir: this.layout[ship].dir,
    }));
    this.onMove({ ships });
  }

  focus() {
    if (this.placing()) this.pickButtons.find((pick) => pick.getAttribute("aria-pressed") === "true")?.focus();
    else if (this.target.grid.interactive) this.target.grid.byName.get(this.target.grid.current)?.focus();
  }
}
