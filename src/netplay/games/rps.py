"""Rock, paper, scissors, best of N: both players choose at once; a choice stays hidden until both are in.

The state is ``{"rounds": N, "score": [a, b], "history": [...], "pending": [choice or None, ...]}``.
Each revealed round is ``{"choices": [c0, c1], "winner": seat or None}``; ``pending`` holds this
round's secret choices and never leaves the server: ``view`` replaces it with ``chosen`` (who has
chosen) and ``mine`` (the viewer's own choice).
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Collection
from typing import Any

from .base import Game, Outcome, State
from .bots import random_bot

__all__ = ["CHOICES", "RockPaperScissors", "frequency_bot", "round_limit"]

CHOICES = ("rock", "paper", "scissors")
#: What beats each choice.
_BEATEN_BY = {"rock": "paper", "paper": "scissors", "scissors": "rock"}
_SHORT = {"r": "rock", "p": "paper", "s": "scissors"}
_ROUNDS_HINT = "an odd whole number from 1 to 99, such as 3 for best of three"


def _round_winner(choices: list[str]) -> int | None:
    """The seat that won a round with these choices, or None for a tie."""
    a, b = choices
    if a == b:
        return None
    return 0 if _BEATEN_BY[b] == a else 1


def round_limit(rounds: int) -> int:
    """How many rounds, ties included, are played at most in a best of ``rounds``."""
    return 3 * rounds + 10


class RockPaperScissors(Game):
    """Best of N rounds of rock, paper, scissors; a tied round is replayed."""

    name = "rps"
    description = "Rock, paper, scissors, best of N (option rounds). Both choose at once."
    web_board = "builtin"
    players = 2

    def setup(self, options: dict[str, Any]) -> State:
        """No rounds played yet; ``rounds`` (odd, 1 to 99, default 3) is the N of best of N."""
        rounds = options.get("rounds", 3)
        if isinstance(rounds, bool) or not isinstance(rounds, int):
            raise ValueError(f"rounds must be {_ROUNDS_HINT}, not {rounds!r}")
        if not 1 <= rounds <= 99 or rounds % 2 == 0:
            raise ValueError(f"rounds must be {_ROUNDS_HINT}, not {rounds}")
        return {"rounds": rounds, "score": [0, 0], "history": [], "pending": [None, None]}

    def active(self, state: State) -> Collection[int] | None:
        """Both seats at the start of a round, then whoever has not chosen yet; nobody once it is over."""
        if self.outcome(state) is not None:
            return []
        return [seat for seat in (0, 1) if state["pending"][seat] is None]

    def phase(self, state: State) -> str | None:
        return "choosing"

    def validate(self, state: State, seat: int, move: Any) -> str | None:
        """Why the move is illegal: not one of the three choices, or this seat has already chosen."""
        if not isinstance(move, str) or move not in CHOICES:
            return 'a move is "rock", "paper" or "scissors"'
        if state["pending"][seat] is not None:
            return "you have already chosen this round; wait for the other player"
        return None

    def apply(self, state: State, seat: int, move: Any) -> State:
        """Keep the choice secret; the second choice of a round reveals both and scores the round."""
        pending = list(state["pending"])
        pending[seat] = move
        if None in pending:
            return {**state, "pending": pending}
        winner = _round_winner(pending)
        score = list(state["score"])
        if winner is not None:
            score[winner] += 1
        history = [*state["history"], {"choices": pending, "winner": winner}]
        return {"rounds": state["rounds"], "score": score, "history": history, "pending": [None, None]}

    def outcome(self, state: State) -> Outcome | None:
        """Over once a seat has won a majority of N, or after ``round_limit(N)`` rounds (ties count)."""
        score = state["score"]
        if max(score) > state["rounds"] // 2:
            return Outcome.by_score(score)
        if len(state["history"]) >= round_limit(state["rounds"]):
            return Outcome.by_score(score, "round limit")
        return None

    def view(self, state: State, seat: int | None) -> Any:
        """Everything but the pending choices: who has chosen, and the viewer's own choice as ``mine``."""
        pending = state["pending"]
        return {
            "rounds": state["rounds"],
            "score": state["score"],
            "history": state["history"],
            "chosen": [choice is not None for choice in pending],
            "mine": None if seat is None else pending[seat],
        }

    def legal_moves(self, state: State, seat: int) -> list[Any]:
        """The three choices (works on a state or a view)."""
        return list(CHOICES)

    def seat_label(self, seat: int) -> str:
        return f"player {seat + 1}"

    def render(self, view: Any, seat: int | None) -> str:
        """The score, every round so far, and who has chosen in this one."""
        score = view["score"]
        lines = [f"best of {view['rounds']}: player 1 {score[0]}, player 2 {score[1]}"]
        for number, played in enumerate(view["history"], 1):
            winner = played["winner"]
            result = "tie" if winner is None else f"{self.seat_label(winner)} wins"
            lines.append(f"round {number}: {played['choices'][0]} vs {played['choices'][1]}, {result}")
        for s in (0, 1):
            if s == seat:
                mine = view["mine"]
                lines.append(f"you ({self.seat_label(s)}): " + (f"chose {mine}" if mine else "choose!"))
            else:
                status = "has chosen" if view["chosen"][s] else "is choosing"
                lines.append(f"{self.seat_label(s)} {status}")
        return "\n".join(lines)

    def parse_move(self, text: str) -> Any:
        """rock, paper or scissors, in any case, or just r, p or s."""
        word = text.strip().lower()
        word = _SHORT.get(word, word)
        if word not in CHOICES:
            raise ValueError("type rock, paper or scissors (or r, p, s)")
        return word


def frequency_bot(game: Game, view: State, seat: int, rng: random.Random) -> str:
    """Beat the opponent's most frequent revealed choice (ties broken by rng); random before any reveal."""
    counts = Counter(played["choices"][1 - seat] for played in view["history"])
    if not counts:
        return rng.choice(CHOICES)
    most = max(counts.values())
    favourite = rng.choice([choice for choice in CHOICES if counts[choice] == most])
    return _BEATEN_BY[favourite]


RockPaperScissors.bots = {"frequency": frequency_bot, "random": random_bot}
