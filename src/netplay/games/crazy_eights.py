"""Crazy Eights for 2 to 6 players: match the top card's suit or rank, 8s are wild, go out first.

Cards are two-character strings, rank then suit: ranks ``A23456789TJQK`` (T is the ten), suits
``CDHS`` (clubs, diamonds, hearts, spades): ``"7H"``, ``"TD"``, ``"QS"``, ``"AC"``.

Rules (option ``players``, 2 to 6, default 2):

- Deal. The server's ``rng`` shuffles a standard 52-card deck; it is dealt one card at a time to
  each seat in turn from player 1: 7 cards each with 2 players, 5 each with 3 or more. The rest is
  the stock; its top card starts the discard pile. A starter that is an 8 goes to the bottom of the
  stock and the next card is turned instead. Player 1 (seat 0) plays first, then player 2, and so on round.
- Play. A card is playable if it is an 8, or has the suit to follow, or the rank of the pile's top
  card. The suit to follow is the top card's suit, except after an 8: its player names the suit.
- Draw. You may draw only when you hold no playable card, and then one card. If it is playable your
  turn goes on: play that card or pass; if not, your turn ends at once. You may pass only after
  such a draw, or when you cannot play and cannot draw.
- The stock. Drawing from an empty stock first turns the discard pile but its top card over into a
  new stock, shuffled by the server's ``rng``. That happens at most ``MAX_RESHUFFLES`` times a game;
  after that (or with nothing under the top card) an empty stock stays empty.
- The end. The first player to empty their hand wins; the others are ranked by the penalty points
  of the cards they hold (an 8 is 50, K Q J 10 each, an ace 1, others their face value), fewer
  points ranking higher and equal points sharing a place. The game is blocked, and everyone is
  ranked by penalty points alone, once every seat in a row has had to pass without drawing: no one
  can play or draw, and nothing can change any more. The outcome's ``scores`` are the penalty
  points (0 for the winner): lower is better. The reason is ``"rules"``, or ``"blocked"``.

Termination: draws are bounded (the stock is refilled at most ``MAX_RESHUFFLES`` times), every play
empties a hand by one card, a pass by choice follows a draw, and ``players`` passes in a row end it.

Moves (JSON from the network; anything else is refused with a reason):

- ``{"play": "7H"}``: play a card; ``{"play": "8S", "suit": "H"}``: play an 8 and name the suit.
- ``"draw"`` (or ``{"draw": true}``): draw a card.  ``"pass"`` (or ``{"pass": true}``): pass.

The state (the server's alone, never sent): ``{"hands", "stock", "pile", "suit", "turn", "drawn",
"passes", "reshuffles", "last"}``. ``hands`` are each seat's cards, sorted; ``stock`` is top first;
``pile`` is the discard pile, top last; ``drawn`` is the card the seat to move has just drawn and
may play (else None); ``passes`` counts passes in a row made without drawing.

What each viewer sees, ``view(state, seat)`` (``seat`` None for a spectator), always these keys::

    {
      "players": 3,                 # seats in the game
      "seat": 0,                    # the viewer's seat; None for a spectator
      "turn": 1,                    # the seat to move (meaningless once the game is over)
      "hand": ["2C", "9C", "KH"],   # the viewer's cards by suit CDHS, then A to K; None: spectator
      "drawn": None,                # the card the viewer just drew and may play now, else None
      "drew": False,                # the seat to move drew a playable card: it plays it or passes
      "counts": [5, 3, 6],          # how many cards each seat holds
      "top": "8S",                  # the discard pile's top card
      "suit": "H",                  # the suit to follow (named by the 8 on top, else the top's)
      "stock": 17,                  # cards in the stock
      "pile": 4,                    # cards in the discard pile, the top included
      "reshuffles_left": 3,         # times an empty stock can still be refilled from the pile
      "passes": 0,                  # passes in a row without a draw (the game ends at "players")
      "last": {"seat": 0, "action": "play", "card": "8S", "suit": "H"},
      "hands": None,                # at the end: every seat's cards, revealed
      "scores": None,               # at the end: every seat's penalty points
    }

``last`` is the action before (None at the start): ``{"seat", "action": "play", "card", "suit"}``
(``suit`` is the suit to follow after it), ``{"seat", "action": "draw", "reshuffled"}`` (the
stock was refilled from the pile first; the drawer's own view adds ``"card"``: what it drew), or
``{"seat", "action": "pass"}``. The stock's order and the other seats' cards are never in a view.

``view_move`` (the state message's ``last``) is the same for every viewer, since a move names no
hidden card: ``{"seat", "move"}`` with the move as above, the long forms written ``"draw"`` and
``"pass"``. Bots: "sensible" (the default, and what plays for a seat whose time runs out:
``timeout_policy`` "bot") and "random".
"""

from __future__ import annotations

import random
from collections import Counter
from typing import Any

from .base import Game, Outcome, State
from .bots import random_bot
from .rng import Rng

__all__ = [
    "CARDS",
    "MAX_RESHUFFLES",
    "RANKS",
    "SUITS",
    "CrazyEights",
    "hand_size",
    "penalty",
    "sensible_bot",
]

RANKS = "A23456789TJQK"
SUITS = "CDHS"
#: The 52 cards, ordered by suit then rank (the order hands are sorted in).
CARDS = tuple(rank + suit for suit in SUITS for rank in RANKS)
#: How many times a game refills an empty stock from the discard pile.
MAX_RESHUFFLES = 3

SUIT_NAMES = {"C": "clubs", "D": "diamonds", "H": "hearts", "S": "spades"}
_ORDER = {card: n for n, card in enumerate(CARDS)}
_SUIT_WORDS = {
    **{s.lower(): s for s in SUITS},
    **{name: s for s, name in SUIT_NAMES.items()},
    **{name[:-1]: s for s, name in SUIT_NAMES.items()},  # "heart", "spade"
}
_SUIT_WORDS_ONE = {"C": "a club", "D": "a diamond", "H": "a heart", "S": "a spade"}
_RANK_WORDS = {
    **{rank: f"a {rank}" for rank in "2345679"},
    "A": "an ace",
    "T": "a 10",
    "J": "a jack",
    "Q": "a queen",
    "K": "a king",
}
_MOVE_HINT = (
    'a move is {"play": CARD} such as {"play": "7H"}, {"play": "8S", "suit": "H"} for an 8, "draw" or "pass"'
)
_CARD_HINT = "a card is a rank of A23456789TJQK and a suit of CDHS, such as 7H or TD"
_SUIT_HINT = 'the suit is "C", "D", "H" or "S"'
_PARSE_HINT = (
    'type a card such as 7H, TD or 10D, an 8 with a suit such as "8S H" or "8S hearts", draw (d) or pass (p)'
)


def penalty(card: str) -> int:
    """The penalty points of a card left in a hand: 8 is 50, K Q J T are 10, A is 1, others face value."""
    rank = card[0]
    if rank == "8":
        return 50
    if rank in "TJQK":
        return 10
    return RANKS.index(rank) + 1


def hand_size(players: int) -> int:
    """Cards dealt to each seat: 7 with two players, 5 with three or more."""
    return 7 if players == 2 else 5


def _sorted(cards: list[str]) -> list[str]:
    return sorted(cards, key=_ORDER.__getitem__)


def _playable(card: str, top: str, suit: str) -> bool:
    """An 8, a card of the suit to follow, or one of the top card's rank."""
    return card[0] == "8" or card[1] == suit or card[0] == top[0]


def _parse(move: Any) -> tuple[str, str | None, str | None] | str:
    """A move as (kind, card, suit) with kind "play", "draw" or "pass"; or why it is malformed."""
    if isinstance(move, str):
        return (move, None, None) if move in ("draw", "pass") else _MOVE_HINT
    if not isinstance(move, dict) or not move:
        return _MOVE_HINT
    for key in move:
        if key not in ("play", "suit", "draw", "pass"):
            return f"unexpected key {key!r} in the move: {_MOVE_HINT}"
    for kind in ("draw", "pass"):
        if kind in move:
            if len(move) != 1:
                return f'{{"{kind}": true}} takes nothing else: {_MOVE_HINT}'
            if move[kind] is not True:
                return f'to {kind}, send "{kind}" or {{"{kind}": true}}'
            return (kind, None, None)
    if "play" not in move:
        return f'"suit" goes with an 8 to play: {_MOVE_HINT}'
    card = move["play"]
    if not isinstance(card, str) or card not in _ORDER:
        return f"{card!r} is not a card: {_CARD_HINT}"
    if card[0] != "8":
        return f"only an 8 names a suit, not {card}" if "suit" in move else ("play", card, None)
    if "suit" not in move:
        return 'an 8 names the suit to follow: add "suit": "C", "D", "H" or "S" to the move'
    suit = move["suit"]
    if not isinstance(suit, str) or suit not in SUITS:
        return f"{suit!r} is not a suit: {_SUIT_HINT}"
    return ("play", card, suit)


def _situation(state: State, seat: int) -> tuple[list[str] | None, str | None, str, bool]:
    """(the seat's hand, the card it drew and may play, the top card, whether it can draw), from the
    state or from a view (the hand is None in a view that is not the seat's own)."""
    if isinstance(state["stock"], list):  # the state
        hand = state["hands"][seat]
        drawn = state["drawn"] if state["turn"] == seat else None
        top = state["pile"][-1]
        stock, pile, left = len(state["stock"]), len(state["pile"]), MAX_RESHUFFLES - state["reshuffles"]
    else:  # a view
        hand = state["hand"] if state["seat"] == seat else None
        drawn = state["drawn"] if state["seat"] == seat else None
        top = state["top"]
        stock, pile, left = state["stock"], state["pile"], state["reshuffles_left"]
    return hand, drawn, top, stock > 0 or (pile > 1 and left > 0)


def _is_over(state: State) -> bool:
    """Whether a state or a view is of a finished game."""
    if isinstance(state["stock"], list):
        hands = state["hands"]
        return not all(hands) or state["passes"] >= len(hands)
    return state["scores"] is not None


class CrazyEights(Game):
    """Crazy Eights: play a card of the suit or rank on top, or a wild 8; first to go out wins."""

    name = "crazy8"
    description = "Cards for 2-6 players: follow suit or rank, 8s are wild; empty your hand first."
    web_board = "builtin"
    players = 2
    #: A seat out of time has the sensible bot play its turn: the game goes on for the others.
    timeout_policy = "bot"

    def seat_count(self, options: dict[str, Any]) -> int:
        """The ``players`` option: 2 to 6, default 2."""
        value = options.get("players", self.players)
        if isinstance(value, bool) or not isinstance(value, int) or not 2 <= value <= 6:
            raise ValueError(f"players must be a whole number from 2 to 6 (default 2), not {value!r}")
        return value

    # The engine passes ``rng`` to a ``setup`` that names it (Game.wants_rng); mypy sees an override.
    def setup(self, options: dict[str, Any], rng: Rng) -> State:  # type: ignore[override]
        """Shuffle and deal (7 cards each for 2 players, 5 for more), turn the starter; player 1 to play."""
        players = self.seat_count(options)
        deck = rng.shuffled(CARDS)
        size = hand_size(players)
        dealt, stock = deck[: size * players], deck[size * players :]
        hands = [_sorted(dealt[seat::players]) for seat in range(players)]
        while stock[0][0] == "8":  # an 8 is never the starter: it goes to the bottom of the stock
            stock = [*stock[1:], stock[0]]
        return {
            "hands": hands,
            "stock": stock[1:],
            "pile": [stock[0]],
            "suit": stock[0][1],
            "turn": 0,
            "drawn": None,
            "passes": 0,
            "reshuffles": 0,
            "last": None,
        }

    def first_player(self, state: State) -> int:
        """Whose turn it is: player 1 at the start."""
        return int(state["turn"])

    def next_player(self, state: State, seat: int) -> int:
        """Whose turn it is now: a draw of a playable card keeps the turn, anything else passes it on."""
        return int(state["turn"])

    def validate(self, state: State, seat: int, move: Any) -> str | None:
        """Why the move is illegal: malformed, out of turn, not a playable card of the hand, or a
        draw or pass the drawing rule forbids."""
        parsed = _parse(move)
        if isinstance(parsed, str):
            return parsed
        if _is_over(state):
            return "the game is over"
        if seat != state["turn"]:
            return f"it is {self.seat_label(state['turn'])}'s turn"
        kind, card, _ = parsed
        hand, drawn, top, can_draw = _situation(state, seat)
        if hand is None:
            return "that is not your hand"
        suit = state["suit"]
        playable = [c for c in hand if _playable(c, top, suit)]
        if kind == "play":
            assert card is not None
            if card not in hand:
                return f"you do not hold {card}"
            if drawn is not None and card != drawn:
                return f"you drew {drawn}: play it or pass"
            if not _playable(card, top, suit):
                rank = "" if top[0] == "8" else f", {_RANK_WORDS[top[0]]}"
                return f"{card} does not go on {top}: play {_SUIT_WORDS_ONE[suit]}{rank} or an 8"
            return None
        if kind == "draw":
            if drawn is not None:
                return f"you have drawn already: play {drawn} or pass"
            if playable:
                return f"you may draw only when you cannot play, and you can play {playable[0]}"
            if not can_draw:
                return "the stock is empty and cannot be refilled: pass"
            return None
        if drawn is None:
            if playable:
                return f"you may not pass: you can play {playable[0]}"
            if can_draw:
                return "you may not pass: draw a card first"
        return None

    # The engine passes ``rng`` to an ``apply`` that names it (Game.wants_rng); mypy sees an override.
    def apply(self, state: State, seat: int, move: Any, rng: Rng) -> State:  # type: ignore[override]
        """Play the card (naming the suit for an 8), draw one (refilling the stock first if it is
        empty, shuffled by the server's rng), or pass."""
        parsed = _parse(move)
        assert not isinstance(parsed, str), parsed
        kind, card, named = parsed
        hands = [list(hand) for hand in state["hands"]]
        stock, pile = list(state["stock"]), list(state["pile"])
        players = len(hands)
        new = {**state, "drawn": None, "passes": 0, "turn": (seat + 1) % players}
        if kind == "play":
            assert card is not None
            hands[seat].remove(card)
            pile.append(card)
            suit = named or card[1]
            new.update(hands=hands, pile=pile, suit=suit)
            new["last"] = {"seat": seat, "action": "play", "card": card, "suit": suit}
        elif kind == "draw":
            reshuffled = not stock
            if reshuffled:
                stock, pile = rng.shuffled(pile[:-1]), pile[-1:]
                new["reshuffles"] = state["reshuffles"] + 1
            drawn, stock = stock[0], stock[1:]
            hands[seat] = _sorted([*hands[seat], drawn])
            new.update(hands=hands, stock=stock, pile=pile)
            if _playable(drawn, pile[-1], state["suit"]):
                new.update(drawn=drawn, turn=seat)
            new["last"] = {"seat": seat, "action": "draw", "card": drawn, "reshuffled": reshuffled}
        else:
            if state["drawn"] is None:  # a pass without a draw: nobody could change anything
                new["passes"] = state["passes"] + 1
            new["last"] = {"seat": seat, "action": "pass"}
        return new

    def outcome(self, state: State) -> Outcome | None:
        """When a hand is empty: that seat first, the others by penalty points. When the game is
        blocked: everyone by penalty points. Scores are the penalty points (lower is better)."""
        if not _is_over(state):
            return None
        points = [sum(map(penalty, hand)) for hand in state["hands"]]
        reason = "rules" if not all(state["hands"]) else "blocked"
        places = [[s for s, p in enumerate(points) if p == value] for value in sorted(set(points))]
        return Outcome.ranked(places, reason, scores=points)

    def view(self, state: State, seat: int | None) -> Any:
        """The viewer's own hand, everyone's card counts, the pile's top, the stock's size; every
        hand and the penalty points once the game is over (the module docstring has the shape)."""
        over = _is_over(state)
        hands = state["hands"]
        last = state["last"]
        if last is not None and last["action"] == "draw" and last["seat"] != seat:
            last = {"seat": last["seat"], "action": "draw", "reshuffled": last["reshuffled"]}
        mine = seat is not None and seat == state["turn"] and not over
        return {
            "players": len(hands),
            "seat": seat,
            "turn": state["turn"],
            "hand": None if seat is None else list(hands[seat]),
            "drawn": state["drawn"] if mine else None,
            "drew": state["drawn"] is not None and not over,
            "counts": [len(hand) for hand in hands],
            "top": state["pile"][-1],
            "suit": state["suit"],
            "stock": len(state["stock"]),
            "pile": len(state["pile"]),
            "reshuffles_left": MAX_RESHUFFLES - state["reshuffles"],
            "passes": state["passes"],
            "last": last,
            "hands": [list(hand) for hand in hands] if over else None,
            "scores": [sum(map(penalty, hand)) for hand in hands] if over else None,
        }

    def view_move(self, seat: int, move: Any, viewer: int | None) -> dict[str, Any]:
        """Every move is public: a play shows its card, a draw only that the seat drew."""
        parsed = _parse(move)
        if isinstance(parsed, str):
            return {"seat": seat}
        kind, card, suit = parsed
        if kind != "play":
            return {"seat": seat, "move": kind}
        return {"seat": seat, "move": {"play": card} if suit is None else {"play": card, "suit": suit}}

    def legal_moves(self, state: State, seat: int) -> list[Any]:
        """Every legal move of ``seat`` (a state or that seat's view); none out of turn or at the end."""
        if _is_over(state) or seat != state["turn"]:
            return []
        hand, drawn, top, can_draw = _situation(state, seat)
        if hand is None:
            return []
        suit = state["suit"]
        cards = [drawn] if drawn is not None else [c for c in hand if _playable(c, top, suit)]
        moves: list[Any] = []
        for card in cards:
            if card[0] == "8":
                moves.extend({"play": card, "suit": s} for s in SUITS)
            else:
                moves.append({"play": card})
        if drawn is not None:
            moves.append("pass")
        elif not moves:
            moves.append("draw" if can_draw else "pass")
        return moves

    def seat_label(self, seat: int) -> str:
        return f"player {seat + 1}"

    def render(self, view: Any, seat: int | None) -> str:
        """The pile's top and the suit to follow, the stock, each seat's cards (the viewer's own
        sorted), the last action and whose turn it is; every hand and its points at the end."""
        lines = [
            f"pile: {view['top']} ({_cards(view['pile'])}), follow {SUIT_NAMES[view['suit']]}",
            f"stock: {_cards(view['stock'])}",
        ]
        for s, count in enumerate(view["counts"]):
            label = self.seat_label(s)
            if view["hands"] is not None:
                points = view["scores"][s]
                cards = " ".join(view["hands"][s]) or "no cards"
                you = " (you)" if s == seat else ""
                lines.append(f"{label}{you}: {points} points: {cards}")
            elif s == seat and view["hand"] is not None:
                lines.append(f"{label} (you): {' '.join(_sorted(view['hand']))}")
            else:
                lines.append(f"{label}: {_cards(count)}")
        last = view["last"]
        if last is not None:
            lines.append(f"last: {self._describe(last, seat)}")
        who = self.seat_label(view["turn"])
        if view["scores"] is not None:
            out = [s for s, count in enumerate(view["counts"]) if count == 0]
            lines.append(
                f"game over: {self.seat_label(out[0])} went out" if out else "game over: no one can play"
            )
        elif view["drawn"] is not None:
            lines.append(f"your turn: you drew {view['drawn']}: play it or pass")
        elif view["turn"] == seat:
            lines.append(f"your turn ({who})")
        elif view["drew"]:
            lines.append(f"{who} to play the card they drew, or pass")
        else:
            lines.append(f"{who} to play")
        return "\n".join(lines)

    def _describe(self, last: dict[str, Any], viewer: int | None) -> str:
        """The last action in words, from ``viewer``'s side."""
        who = "you" if last["seat"] == viewer else self.seat_label(last["seat"])
        if last["action"] == "play":
            named = f" and named {SUIT_NAMES[last['suit']]}" if last["card"][0] == "8" else ""
            return f"{who} played {last['card']}{named}"
        if last["action"] == "draw":
            refilled = " (the pile was shuffled into a new stock)" if last["reshuffled"] else ""
            what = last["card"] if "card" in last else "a card"
            return f"{who} drew {what}{refilled}"
        return f"{who} passed"

    def parse_move(self, text: str) -> Any:
        """A card ("7H", "td", "10D"), an 8 and a suit ("8S H", "8s hearts"), "draw"/"d", "pass"/"p"."""
        words = text.strip().lower().split()
        if words in (["draw"], ["d"]):
            return "draw"
        if words in (["pass"], ["p"]):
            return "pass"
        if not 1 <= len(words) <= 2:
            raise ValueError(_PARSE_HINT)
        word = words[0]
        if word.startswith("10"):
            word = "t" + word[2:]
        card = word.upper()
        if card not in _ORDER:
            raise ValueError(_PARSE_HINT)
        if card[0] != "8":
            if len(words) == 2:
                raise ValueError(f"only an 8 names a suit: type just {card}")
            return {"play": card}
        if len(words) == 1:
            raise ValueError(f'name the suit for your 8, such as "{card} H" or "{card} hearts"')
        suit = _SUIT_WORDS.get(words[1])
        if suit is None:
            raise ValueError(
                f"{words[1]!r} is not a suit: type C, D, H, S or clubs, diamonds, hearts, spades"
            )
        return {"play": card, "suit": suit}


def _cards(count: int) -> str:
    return f"{count} card" if count == 1 else f"{count} cards"


def sensible_bot(game: Game, view: State, seat: int, rng: random.Random) -> Any:
    """Play the costliest matching card that is not an 8; an 8 only when nothing else goes, naming
    the suit it holds most of; draw or pass when it must."""
    moves = game.legal_moves(view, seat)
    plays = [m for m in moves if isinstance(m, dict)]
    if not plays:
        return moves[0]
    hand = view["hand"]
    suits = Counter(card[1] for card in hand if card[0] != "8")
    plain = [m for m in plays if m["play"][0] != "8"]
    if plain:
        # The costliest first; between equals, the one leaving the most cards of its suit to follow.
        return max(plain, key=lambda m: (penalty(m["play"]), suits[m["play"][1]], -_ORDER[m["play"]]))
    eight = plays[0]["play"]
    if suits:
        most = max(suits.values())
        best = [s for s in SUITS if suits[s] == most]
        # Between suits held as often, the one whose cards cost the most: get rid of them next.
        suit = max(best, key=lambda s: sum(penalty(c) for c in hand if c[1] == s and c[0] != "8"))
    else:
        suit = rng.choice(SUITS)
    return {"play": eight, "suit": suit}


CrazyEights.bots = {"sensible": sensible_bot, "random": random_bot}
