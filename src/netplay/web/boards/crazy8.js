// Crazy Eights for 2 to 6 players: match the top card's suit or rank, 8s are wild, go out first.
// The state is the viewer's view (netplay/games/crazy_eights.py): { players, seat, turn, hand,
// drawn, drew, counts, top, suit, stock, pile, reshuffles_left, passes, last, hands, scores }.
// Cards are "7H", "TD" (T is the ten), "8S"; suits C D H S.

import { arrowFocus, button, el, joinWords, loadStyle, mayAct, names, onKeys } from "./common.js";

loadStyle(new URL("./crazy8.css", import.meta.url));

export const about = {
  title: "Crazy Eights",
  blurb: "Cards for 2–6: follow the suit or the rank, 8s are wild. Empty your hand first.",
};

const RANKS = "A23456789TJQK";
const SUITS = "CDHS";
const SYMBOL = { C: "♣", D: "♦", H: "♥", S: "♠" };
const SUIT_NAME = { C: "clubs", D: "diamonds", H: "hearts", S: "spades" };
const RANK_NAME = { A: "ace", T: "10", J: "jack", Q: "queen", K: "king" };
const ORDER = Object.fromEntries([...SUITS].flatMap((s, i) => [...RANKS].map((r, j) => [r + s, i * 13 + j])));

const rankText = (card) => (card[0] === "T" ? "10" : card[0]);
/** A card for reading: "7♥", "10♦". */
export const cardText = (card) => `${rankText(card)}${SYMBOL[card[1]]}`;
/** A card for a screen reader: "7 of hearts", "queen of spades". */
const cardWords = (card) => `${RANK_NAME[card[0]] ?? card[0]} of ${SUIT_NAME[card[1]]}`;
const red = (card) => card[1] === "D" || card[1] === "H";
const sorted = (cards) => [...cards].sort((a, b) => ORDER[a] - ORDER[b]);
const plural = (count, word) => `${count} ${word}${count === 1 ? "" : "s"}`;

/** Whether a card may go on `top` with `suit` to follow: an 8, the suit, or the top card's rank. */
export function playable(card, top, suit) {
  return card[0] === "8" || card[1] === suit || card[0] === top[0];
}

/** A card face: the rank and the suit symbol in the corner and the middle, red or black. */
function face(card, tag = "span", className = "c8-card") {
  const element = el(tag, className);
  element.dataset.card = card;
  element.classList.add(red(card) ? "red" : "black");
  element.append(el("span", "c8-rank", rankText(card)), el("span", "c8-suit", SYMBOL[card[1]]));
  if (tag === "span") {
    element.setAttribute("role", "img");
    element.setAttribute("aria-label", cardWords(card));
  }
  return element;
}

export class Board {
  static hint =
    "Click a highlighted card to play it (an 8 asks for the suit to follow). Arrow keys move along " +
    "your hand; D draws and P passes when you may.";

  constructor(container, onMove) {
    this.onMove = onMove;
    this.seat = null; // the viewer's seat, kept while the page is offline (render then gets null)
    this.choosing = null; // the 8 whose suit the chooser asks for
    this.message = null;
    this.myTurn = false;
    this.root = el("div", "c8");

    this.others = el("ul", "c8-others");
    this.others.setAttribute("aria-label", "Players");

    this.table = el("div", "c8-table");
    this.stockPile = el("div", "c8-stock");
    this.stockCount = el("span", "c8-count");
    this.stockPile.append(el("span", "c8-back", ""), this.stockCount);
    this.discard = el("div", "c8-pile");
    this.topCard = el("div", "c8-top");
    this.follow = el("p", "c8-follow");
    this.pileCount = el("span", "c8-count");
    this.discard.append(this.topCard, this.follow, this.pileCount);
    this.table.append(this.stockPile, this.discard);

    this.prompt = el("p", "c8-prompt");
    this.prompt.setAttribute("aria-live", "polite");
    this.last = el("p", "c8-last");

    this.handArea = el("section", "c8-hand-area");
    this.handTitle = el("h3", "c8-hand-title");
    this.hand = el("div", "c8-hand");
    this.hand.setAttribute("role", "group");
    this.hand.setAttribute("aria-label", "Your hand");
    this.hand.addEventListener("keydown", (event) => {
      arrowFocus([...this.hand.querySelectorAll("button")], event, { ArrowLeft: -1, ArrowRight: 1 });
    });
    this.actions = el("div", "c8-actions");
    this.draw = button("c8-draw", "Draw");
    this.draw.append(el("kbd", "", "D"));
    this.pass = button("c8-pass secondary", "Pass");
    this.pass.append(el("kbd", "", "P"));
    this.draw.addEventListener("click", () => onMove("draw"));
    this.pass.addEventListener("click", () => onMove("pass"));
    this.actions.append(this.draw, this.pass);
    this.handArea.append(this.handTitle, this.hand, this.actions);

    this.chooser = el("div", "c8-chooser");
    this.chooser.setAttribute("role", "dialog");
    this.chooser.setAttribute("aria-label", "Name the suit to follow");
    this.chooserText = el("p", "c8-chooser-text");
    const suitButtons = el("div", "c8-suits");
    this.suitButtons = [...SUITS].map((suit) => {
      const pick = button(`c8-suit-pick ${suit === "D" || suit === "H" ? "red" : "black"}`, "");
      pick.dataset.suit = suit;
      pick.append(el("span", "c8-suit-symbol", SYMBOL[suit]), el("span", "c8-suit-name", SUIT_NAME[suit]));
      pick.addEventListener("click", () => this.chooseSuit(suit));
      suitButtons.append(pick);
      return pick;
    });
    const cancel = button("c8-cancel secondary small", "Cancel");
    cancel.addEventListener("click", () => this.closeChooser());
    this.chooser.addEventListener("keydown", (event) => {
      if (event.key === "Escape") this.closeChooser();
      else arrowFocus(this.suitButtons, event, { ArrowLeft: -1, ArrowRight: 1 });
    });
    this.chooser.append(this.chooserText, suitButtons, cancel);
    this.chooser.hidden = true;

    this.results = el("section", "c8-results");
    this.results.hidden = true;

    this.root.append(this.others, this.table, this.prompt, this.last, this.chooser, this.handArea, this.results);
    onKeys(this.root, (event) => {
      const key = event.key.toLowerCase();
      if (key === "d" && !this.draw.hidden) this.onMove("draw");
      else if (key === "p" && !this.pass.hidden) this.onMove("pass");
      else return;
      event.preventDefault();
    });
    container.replaceChildren(this.root);
  }

  render(message, mySeat) {
    this.message = message;
    if (mySeat != null) this.seat = mySeat;
    const view = message?.state ?? null;
    const viewer = view ? view.seat : (mySeat ?? this.seat);
    const name = names(message, viewer);
    const over = Boolean(message?.outcome) || view?.scores != null;
    const myTurn = Boolean(view) && !over && mayAct(message, mySeat) && view.turn === viewer;
    this.myTurn = myTurn;
    this.root.dataset.version = message?.version ?? "";
    this.root.dataset.turn = view && !over ? view.turn : "";
    this.root.classList.toggle("my-turn", myTurn);
    if (!view) {
      this.others.replaceChildren();
      this.table.hidden = this.handArea.hidden = true;
      this.prompt.textContent = "Waiting for the game to start…";
      this.last.textContent = "";
      return;
    }
    this.table.hidden = false;

    // Every other player: name, card count, whose turn.
    this.others.replaceChildren(
      ...view.counts.flatMap((count, seat) => {
        if (seat === viewer) return [];
        const item = el("li", "c8-player");
        item.dataset.seat = seat;
        item.classList.toggle("turn", !over && seat === view.turn);
        const backs = el("span", "c8-backs");
        backs.setAttribute("aria-hidden", "true");
        for (let i = 0; i < Math.min(count, 12); i++) backs.append(el("i"));
        item.append(el("span", "c8-name", name.label(seat)), el("span", "c8-cards", plural(count, "card")), backs);
        return [item];
      }),
    );

    // The table: the stock, the pile's top card and the suit to follow.
    this.stockCount.textContent = `Stock: ${plural(view.stock, "card")}`;
    this.stockPile.classList.toggle("empty", view.stock === 0);
    this.topCard.replaceChildren(face(view.top));
    const named = view.top[0] === "8";
    this.follow.replaceChildren(
      document.createTextNode("Follow "),
      el("span", `c8-follow-suit ${view.suit === "D" || view.suit === "H" ? "red" : "black"}`, SYMBOL[view.suit]),
      document.createTextNode(` ${SUIT_NAME[view.suit]}${named ? " (named)" : ""}`),
    );
    this.follow.dataset.suit = view.suit;
    this.pileCount.textContent = `Pile: ${plural(view.pile, "card")}`;

    // What happens now, and what happened last.
    const hand = view.hand ? sorted(view.hand) : null;
    const canPlay = hand ? hand.filter((card) => (view.drawn ? card === view.drawn : playable(card, view.top, view.suit))) : [];
    const canDraw = view.stock > 0 || (view.pile > 1 && view.reshuffles_left > 0);
    this.prompt.textContent = this.promptText(view, name, over, myTurn, canPlay, canDraw);
    this.last.textContent = view.last ? this.lastText(view.last, name) : "";

    // My hand: playable cards highlighted on my turn; Draw and Pass when the rules allow them.
    this.handArea.hidden = !hand || over;
    if (hand) {
      this.handTitle.textContent = `Your hand: ${plural(hand.length, "card")}`;
      this.renderHand(hand, myTurn ? canPlay : [], view.drawn);
    }
    this.draw.hidden = !(myTurn && !view.drawn && !canPlay.length && canDraw);
    this.pass.hidden = !(myTurn && (view.drawn || (!canPlay.length && !canDraw)));
    this.actions.hidden = this.draw.hidden && this.pass.hidden;
    if (this.choosing && !(myTurn && hand?.includes(this.choosing))) this.closeChooser();

    this.renderResults(message, view, name, over);
  }

  renderHand(hand, playableCards, drawn) {
    const focused = document.activeElement?.closest?.(".c8-hand") === this.hand ? document.activeElement.dataset.card : null;
    const buttons = hand.map((card) => {
      const item = face(card, "button", "c8-card");
      item.type = "button";
      const ok = playableCards.includes(card);
      item.classList.toggle("playable", ok);
      item.classList.toggle("drawn", card === drawn);
      item.setAttribute("aria-label", `${cardWords(card)}${ok ? ", playable" : ""}${card === drawn ? ", just drawn" : ""}`);
      item.addEventListener("click", () => this.playCard(card));
      return item;
    });
    this.hand.replaceChildren(...buttons);
    const again = focused && buttons.find((item) => item.dataset.card === focused);
    again?.focus();
  }

  playCard(card) {
    if (card[0] === "8" && this.myTurn) {
      this.openChooser(card);
      return;
    }
    // Off turn, or a card that does not go: the server says why.
    this.onMove(card[0] === "8" ? { play: card, suit: card[1] } : { play: card });
  }

  openChooser(card) {
    this.choosing = card;
    const held = (suit) => (this.message?.state?.hand ?? []).filter((c) => c[1] === suit && c[0] !== "8").length;
    this.chooserText.textContent = `You play ${cardText(card)}: name the suit to follow.`;
    for (const pick of this.suitButtons) {
      const count = held(pick.dataset.suit);
      pick.title = count ? `You hold ${plural(count, "other card")} of ${SUIT_NAME[pick.dataset.suit]}` : "";
      pick.querySelector(".c8-suit-name").textContent = `${SUIT_NAME[pick.dataset.suit]}${count ? ` (${count})` : ""}`;
    }
    this.chooser.hidden = false;
    this.suitButtons[0].focus();
  }

  chooseSuit(suit) {
    const card = this.choosing;
    this.closeChooser();
    if (card) this.onMove({ play: card, suit });
  }

  closeChooser() {
    const card = this.choosing;
    this.choosing = null;
    this.chooser.hidden = true;
    if (card) this.hand.querySelector(`[data-card="${card}"]`)?.focus();
  }

  promptText(view, name, over, myTurn, canPlay, canDraw) {
    if (over) {
      const out = view.counts.findIndex((count) => count === 0);
      return out >= 0 ? `Game over: ${name.whom(out)} went out.` : "Game over: nobody can play.";
    }
    if (myTurn) {
      if (view.drawn) return `You drew ${cardText(view.drawn)}: play it or pass.`;
      if (canPlay.length) return `Your turn: play a highlighted card.`;
      if (canDraw) return "Your turn: nothing to play, so draw a card.";
      return "Your turn: nothing to play and nothing to draw: pass.";
    }
    if (view.drew) return `${name.who(view.turn)} drew a card that goes: they play it or pass.`;
    return `${name.Whose(view.turn)} turn.`;
  }

  lastText(last, name) {
    const who = name.who(last.seat);
    if (last.action === "play") {
      const eight = last.card[0] === "8" ? ` and named ${SUIT_NAME[last.suit]}` : "";
      return `${who} played ${cardText(last.card)}${eight}.`;
    }
    if (last.action === "draw") {
      const what = last.card ? cardText(last.card) : "a card";
      const refilled = last.reshuffled ? " (the pile was shuffled into a new stock)" : "";
      return `${who} drew ${what}${refilled}.`;
    }
    return `${who} passed.`;
  }

  renderResults(message, view, name, over) {
    this.results.hidden = !over || !view.scores;
    if (this.results.hidden) return;
    const places = message.outcome?.places ?? view.scores.map((points) => 1 + view.scores.filter((p) => p < points).length);
    const order = view.scores.map((_, seat) => seat).sort((a, b) => places[a] - places[b] || a - b);
    const table = el("table", "c8-ranking");
    const head = el("tr");
    head.append(el("th", "", "Place"), el("th", "", "Player"), el("th", "", "Penalty points"), el("th", "", "Cards left"));
    const thead = el("thead");
    thead.append(head);
    const tbody = el("tbody");
    for (const seat of order) {
      const row = el("tr");
      row.dataset.seat = seat;
      row.classList.toggle("me", seat === view.seat);
      const cards = el("td", "c8-left");
      const left = sorted(view.hands?.[seat] ?? []);
      if (left.length) cards.append(...left.map((card) => face(card, "span", "c8-card small")));
      else cards.textContent = "none";
      row.append(el("td", "c8-place", ordinal(places[seat])), el("td", "", name.label(seat)), el("td", "c8-points", String(view.scores[seat])), cards);
      tbody.append(row);
    }
    table.append(thead, tbody);
    const tied = order.filter((seat) => places[seat] === 1);
    const title = el("h3", "", tied.length > 1 ? `Shared first place: ${joinWords(tied.map(name.label))}` : "Ranking");
    this.results.replaceChildren(title, table, el("p", "muted", "Fewer penalty points rank higher: an 8 is 50, K Q J 10 are 10, an ace 1, the others their value."));
  }

  focus() {
    const first = this.hand.querySelector("button.playable") ?? this.hand.querySelector("button");
    (first ?? (this.draw.hidden ? null : this.draw))?.focus();
  }
}

function ordinal(place) {
  const suffix = { 1: "st", 2: "nd", 3: "rd" }[place] ?? "th";
  return `${place}${suffix}`;
}
