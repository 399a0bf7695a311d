"""Bots that work for any game that can list its legal moves."""

from __future__ import annotations

import random
from typing import Any

from .base import Game, State

__all__ = ["random_bot"]


def random_bot(game: Game, state: State, seat: int, rng: random.Random) -> Any:
    """Any legal move, uniformly at random."""
    return rng.choice(game.legal_moves(state, seat))
