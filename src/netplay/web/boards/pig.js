// Pig, the dice game for 2 to 6 players: roll to build a turn total, hold to bank it, a 1 loses it.
// The state (netplay/games/pig.py): { target, scores: [per seat], turn, turn_total, rolls: this
// turn's dice, last_turn: { seat, rolls, banked } or null }.

import { button, el, loadStyle, mayAct, names, onKeys } from "./common.js";

loadStyle(new URL("./pig.css", import.meta.url));

export const about = {
  title: "Pig",
  blurb: "Dice for 2–6: roll to build a turn total, hold to bank it, but a 1 loses it all.",
};

// Which of a die's nine spots (3x3, row by row) show each face.
const PIPS = { 1: [4], 2: [2, 6], 3: [2, 4, 6], 4: [0, 2, 6, 8], 5: [0, 2, 4, 6, 8], 6: [0, 2, 3, 5, 6, 8] };

function die(value, className = "") {
  const face = el("span", `pig-die ${className}`.trim());
  face.dataset.value = value;
  face.setAttribute("role", "img");
  face.setAttribute("aria-label", String(value));
  for (let spot = 0; spot < 9; spot++) {
    face.append(el("i", PIPS[value]?.includes(spot) ? "pip" : ""));
  }
  return face;
}

const sum = (values) => values.reduce((total, value) => total + value, 0);

export class Board {
  static hint = "Roll (R) to add to your turn total, Hold (H) to bank it. A 1 loses the turn total.";

  constructor(container, onMove) {
    this.seat = null; // the viewer's seat, kept while the page is offline (render then gets null)
    this.root = el("div", "pig");
    this.targetLine = el("p", "pig-target muted");
    this.players = el("ol", "pig-players");
    this.turn = el("section", "pig-turn");
    this.prompt = el("p", "pig-prompt");
    this.prompt.setAttribute("aria-live", "polite");
    this.dice = el("div", "pig-dice");
    this.dice.setAttribute("aria-label", "This turn's dice");
    this.total = el("p", "pig-total");
    this.actions = el("div", "pig-actions");
    this.roll = button("pig-roll", "Roll");
    this.roll.append(el("kbd", "", "R"));
    this.hold = button("pig-hold secondary", "Hold");
    this.hold.append(el("kbd", "", "H"));
    this.roll.addEventListener("click", () => onMove("roll"));
    this.hold.addEventListener("click", () => onMove("hold"));
    this.actions.append(this.roll, this.hold);
    this.turn.append(this.prompt, this.dice, this.total, this.actions);
    this.lastTurn = el("p", "pig-last");
    this.lastTurn.setAttribute("aria-live", "polite");
    this.root.append(this.targetLine, this.players, this.turn, this.lastTurn);
    onKeys(this.root, (event) => {
      const key = event.key.toLowerCase();
      if (key !== "r" && key !== "h") return;
      event.preventDefault();
      onMove(key === "r" ? "roll" : "hold");
    });
    container.replaceChildren(this.root);
  }

  render(message, mySeat) {
    if (mySeat != null) this.seat = mySeat;
    const viewer = mySeat ?? this.seat;
    const seats = message?.players?.length ?? 2;
    const state = message?.state ?? {
      target: 100, scores: Array(seats).fill(0), turn: 0, turn_total: 0, rolls: [], last_turn: null,
    };
    const name = names(message, viewer);
    const over = Boolean(message?.outcome);
    const myTurn = mayAct(message, mySeat);
    const turn = state.turn;
    this.root.dataset.version = message?.version ?? "";
    this.root.dataset.turn = message && !over ? turn : "";
    this.root.classList.toggle("my-turn", myTurn);

    this.targetLine.textContent = `First to ${state.target} wins.`;
    this.renderPlayers(state, name, message && !over ? turn : null, viewer, message?.outcome);

    // This turn: whose it is, the dice so far, the total at stake.
    if (!message) this.prompt.textContent = "Waiting for the game to start…";
    else if (over) {
      const winner = message.outcome?.places?.indexOf(1) ?? -1;
      const reached = winner >= 0 && state.scores[winner] >= state.target;
      this.prompt.textContent = reached ? `${name.who(winner)} reached ${state.scores[winner]}: game over.` : "Game over.";
    }
    else if (myTurn) this.prompt.textContent = "Your turn: roll, or hold to bank your turn total.";
    else this.prompt.textContent = `${name.Whose(turn)} turn.`;
    this.dice.replaceChildren(...state.rolls.map((value) => die(value)));
    this.dice.hidden = !state.rolls.length;
    this.total.textContent = message && !over ? `Turn total: ${state.turn_total}` : "";
    this.total.hidden = !message || over;
    this.actions.hidden = viewer == null || over;
    this.roll.disabled = !myTurn;
    this.hold.disabled = !myTurn || state.turn_total === 0;

    this.renderLastTurn(state.last_turn, name);
  }

  renderPlayers(state, name, turn, viewer, outcome) {
    const rows = state.scores.map((score, seat) => {
      const row = el("li", "pig-player");
      row.dataset.seat = seat;
      row.dataset.score = score;
      row.classList.toggle("turn", seat === turn);
      row.classList.toggle("me", seat === viewer);
      row.classList.toggle("winner", outcome?.places?.[seat] === 1);
      const stake = seat === turn ? state.turn_total : 0;
      const head = el("div", "pig-player-head");
      head.append(el("span", "pig-name", name.label(seat)));
      const points = el("span", "pig-score", String(score));
      if (stake) points.append(el("span", "pig-stake", ` +${stake}`));
      head.append(points);
      const bar = el("div", "pig-bar");
      bar.setAttribute("role", "progressbar");
      bar.setAttribute("aria-label", `${name.label(seat)}: ${score} of ${state.target}`);
      bar.setAttribute("aria-valuemin", "0");
      bar.setAttribute("aria-valuemax", String(state.target));
      bar.setAttribute("aria-valuenow", String(Math.min(score, state.target)));
      const part = (value) => `${Math.min(100, (100 * value) / state.target)}%`;
      const banked = el("span", "pig-banked");
      banked.style.width = part(score);
      const pending = el("span", "pig-pending");
      pending.style.width = part(Math.max(0, Math.min(stake, state.target - score)));
      bar.append(banked, pending);
      row.append(head, bar);
      return row;
    });
    this.players.replaceChildren(...rows);
  }

  renderLastTurn(last, name) {
    if (!last) {
      this.lastTurn.textContent = "";
      return;
    }
    const who = name.who(last.seat);
    const rolls = last.rolls;
    let text;
    if (rolls.length && rolls.at(-1) === 1 && last.banked === 0) {
      const lost = sum(rolls.slice(0, -1));
      text = lost
        ? `${who} rolled a 1 and lost ${lost} (${rolls.slice(0, -1).join(" + ")}, then 1).`
        : `${who} rolled a 1 first: nothing to bank.`;
    } else {
      text = `${who} held and banked ${last.banked} (${rolls.join(" + ")}).`;
    }
    this.lastTurn.textContent = text;
  }

  focus() {
    if (!this.roll.disabled) this.roll.focus();
  }
}
