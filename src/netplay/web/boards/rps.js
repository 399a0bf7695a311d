// Rock, paper, scissors, best of N: both players choose at once, and a choice stays hidden until
// both are in. The state (netplay/games/rps.py): { rounds, score: [a, b], history: [{ choices:
// [c0, c1], winner: seat or null }], chosen: [bool, bool], mine: the viewer's choice or null }.

import { button, el, loadStyle, mayAct, names, onKeys } from "./common.js";

loadStyle(new URL("./rps.css", import.meta.url));

export const about = {
  title: "Rock, paper, scissors",
  blurb: "Best of three: both choose at once, nobody sees a choice until both are in.",
};

const CHOICES = ["rock", "paper", "scissors"];
const KEYS = { r: "rock", p: "paper", s: "scissors" };
const VERB = { rock: "blunts", paper: "wraps", scissors: "cut" };

// Small drawings (no emoji font needed): a fist, a sheet, open scissors.
const ICONS = {
  rock:
    '<svg viewBox="0 0 40 40" aria-hidden="true"><path d="M9 17c0-4 3-7 7-7h7c5 0 9 4 9 9v5c0 6-5 10-11 ' +
    '10h-3c-5 0-9-4-9-9z" fill="currentColor" opacity=".9"/><path d="M15 14v6M20 13v7M25 14v6" stroke="#fff" ' +
    'stroke-width="1.6" stroke-linecap="round" opacity=".6"/></svg>',
  paper:
    '<svg viewBox="0 0 40 40" aria-hidden="true"><path d="M11 5h13l7 7v23H11z" fill="currentColor" ' +
    'opacity=".9"/><path d="M24 5v7h7" fill="none" stroke="#fff" stroke-width="1.6" opacity=".7"/><path ' +
    'd="M15 18h12M15 23h12M15 28h8" stroke="#fff" stroke-width="1.6" stroke-linecap="round" opacity=".6"/></svg>',
  scissors:
    '<svg viewBox="0 0 40 40" aria-hidden="true"><g fill="none" stroke="currentColor" stroke-width="3" ' +
    'stroke-linecap="round"><circle cx="11" cy="29" r="5"/><circle cx="29" cy="29" r="5"/><path ' +
    'd="M14 25L29 5M26 25L11 5"/></g></svg>',
};

const said = (choice) => choice.charAt(0).toUpperCase() + choice.slice(1);

export class Board {
  static hint = "Click rock, paper or scissors, or press R, P or S. Your choice stays hidden until both are in.";

  constructor(container, onMove) {
    this.seat = null; // the viewer's seat, kept while the page is offline (render then gets null)
    this.root = el("div", "rps");
    this.scoreLine = el("p", "rps-score");
    this.picks = el("div", "rps-picks");
    this.picks.setAttribute("role", "group");
    this.picks.setAttribute("aria-label", "Your choice");
    this.buttons = CHOICES.map((choice) => {
      const pick = button("rps-pick", "");
      pick.dataset.choice = choice;
      pick.innerHTML = `${ICONS[choice]}<span>${said(choice)}</span><kbd>${choice[0].toUpperCase()}</kbd>`;
      pick.addEventListener("click", () => onMove(choice));
      this.picks.append(pick);
      return pick;
    });
    this.prompt = el("p", "rps-prompt");
    this.prompt.setAttribute("aria-live", "polite");
    this.lastRound = el("p", "rps-last");
    this.rounds = el("table", "rps-rounds");
    this.root.append(this.scoreLine, this.picks, this.prompt, this.lastRound, this.rounds);
    onKeys(this.root, (event) => {
      const choice = KEYS[event.key.toLowerCase()];
      if (choice) {
        event.preventDefault();
        onMove(choice);
      } else if (event.key === "ArrowLeft" || event.key === "ArrowRight") {
        const index = this.buttons.indexOf(document.activeElement);
        if (index < 0) return;
        event.preventDefault();
        this.buttons[(index + (event.key === "ArrowLeft" ? 2 : 1)) % 3].focus();
      }
    });
    container.replaceChildren(this.root);
  }

  render(message, mySeat) {
    if (mySeat != null) this.seat = mySeat;
    const viewer = mySeat ?? this.seat;
    const state = message?.state ?? { rounds: 3, score: [0, 0], history: [], chosen: [false, false], mine: null };
    const name = names(message, viewer);
    const sides = viewer == null ? [0, 1] : [viewer, 1 - viewer]; // the viewer's side first
    const over = Boolean(message?.outcome);
    const mine = viewer == null ? null : state.mine;
    const canChoose = mayAct(message, mySeat);
    this.root.dataset.version = message?.version ?? "";
    this.root.classList.toggle("my-turn", canChoose);

    // The score, the viewer's side first.
    const need = Math.floor(state.rounds / 2) + 1;
    this.scoreLine.replaceChildren(
      el("span", "rps-name", name.label(sides[0])),
      el("b", "rps-points", String(state.score[sides[0]])),
      el("span", "rps-dash", "–"),
      el("b", "rps-points", String(state.score[sides[1]])),
      el("span", "rps-name", name.label(sides[1])),
      el("span", "rps-best muted", `best of ${state.rounds}: first to ${need}`),
    );
    this.scoreLine.setAttribute(
      "aria-label",
      `${name.label(sides[0])} ${state.score[sides[0]]}, ${name.label(sides[1])} ${state.score[sides[1]]}`,
    );

    // The three choices: for a player only; the one chosen this round stays pressed.
    this.picks.hidden = viewer == null;
    for (const pick of this.buttons) {
      const chosen = pick.dataset.choice === mine;
      pick.setAttribute("aria-pressed", String(chosen));
      pick.disabled = !canChoose;
      pick.setAttribute(
        "aria-label",
        chosen ? `${said(pick.dataset.choice)}: your choice` : `${said(pick.dataset.choice)} (key ${pick.dataset.choice[0].toUpperCase()})`,
      );
    }

    this.prompt.textContent = this.promptText(message, state, viewer, name, over);
    this.lastRound.textContent = state.history.length ? this.roundText(state.history.length, state.history.at(-1), viewer, name) : "";
    this.renderRounds(state.history, sides, name);
  }

  promptText(message, state, viewer, name, over) {
    if (!message) return "Waiting for the game to start…";
    if (over) {
      const [a, b] = state.score;
      return `Final score ${a}–${b}.`;
    }
    if (viewer == null) {
      return [0, 1].map((s) => `${name.who(s)} ${state.chosen[s] ? "has chosen" : "is choosing"}`).join("; ") + ".";
    }
    const other = 1 - viewer;
    if (state.mine) return `You chose ${state.mine}, waiting for ${name.whom(other)}.`;
    if (state.chosen[other]) return `${name.who(other)} has chosen: your choice.`;
    return "Choose rock, paper or scissors.";
  }

  roundText(number, played, viewer, name) {
    const [a, b] = played.choices;
    if (played.winner == null) return `Round ${number}: ${a} and ${b}, a tie.`;
    const winner = played.winner;
    const loser = 1 - winner;
    const win = played.choices[winner];
    const lose = played.choices[loser];
    const result = winner === viewer ? "you win the round" : `${name.whom(winner)} wins the round`;
    return `Round ${number}: ${name.whose(winner)} ${win} ${VERB[win]} ${name.whose(loser)} ${lose}: ${result}.`;
  }

  renderRounds(history, sides, name) {
    this.rounds.hidden = !history.length;
    if (!history.length) return;
    const head = el("tr");
    head.append(el("th", "", "Round"), el("th", "", name.label(sides[0])), el("th", "", name.label(sides[1])), el("th", "", "Won by"));
    const rows = history.map((played, index) => {
      const row = el("tr");
      row.dataset.round = index + 1;
      row.dataset.winner = played.winner == null ? "" : played.winner === sides[0] ? "first" : "second";
      const choice = (seat) => {
        const cell = el("td", `rps-choice ${played.winner === seat ? "won" : ""}`.trim());
        cell.innerHTML = ICONS[played.choices[seat]];
        cell.append(el("span", "", said(played.choices[seat])));
        return cell;
      };
      const winner = played.winner == null ? "Tie" : name.label(played.winner);
      row.append(el("td", "", String(index + 1)), choice(sides[0]), choice(sides[1]), el("td", "rps-winner", winner));
      return row;
    });
    const thead = el("thead");
    thead.append(head);
    const tbody = el("tbody");
    tbody.append(...rows.reverse()); // the latest round first
    this.rounds.replaceChildren(thead, tbody);
  }

  focus() {
    const free = this.buttons.find((pick) => !pick.disabled);
    (free ?? this.buttons[0]).focus();
  }
}
