"""A session's life, as one table: every state it can be in and every event that moves it.

    CONNECTING --hello------------> GREETED      a new session: welcome with a fresh token
    CONNECTING --resume-----------> CLOSED       the connection took over an earlier session
    CONNECTING --lost-------------> CLOSED       gone before saying hello (or refused: full)
    CONNECTING --restored---------> AWAY         brought back from the store after a restart
    GREETED    --lost_with_seats--> AWAY         seats kept for the reconnect grace
    GREETED    --lost-------------> CLOSED       nothing to keep (no rooms, no grace, shutdown)
    GREETED    --bye--------------> CLOSED       left on purpose: rooms left at once
    GREETED    --replaced---------> GREETED      a newer connection took over (session_replaced)
    AWAY       --resumed----------> GREETED      came back with its token within the grace
    AWAY       --expired----------> CLOSED       the grace ran out: rooms left, games forfeited
    CLOSED     --lost-------------> CLOSED       the connection of a session that said bye closes

The hub (server/hub.py) is the only caller: each of its lifecycle methods advances the session
through this table, so an impossible transition (resuming a closed session, expiring a connected
one) is a loud bug instead of a quiet inconsistency.
"""

from __future__ import annotations

from enum import Enum
from typing import Final

__all__ = ["TRANSITIONS", "IllegalTransition", "SessionState", "advance"]


class SessionState(Enum):
    CONNECTING = "connecting"
    GREETED = "greeted"
    AWAY = "away"
    CLOSED = "closed"


#: (state, event) -> next state. Anything missing is illegal.
TRANSITIONS: Final[dict[tuple[SessionState, str], SessionState]] = {
    (SessionState.CONNECTING, "hello"): SessionState.GREETED,
    (SessionState.CONNECTING, "resume"): SessionState.CLOSED,
    (SessionState.CONNECTING, "lost"): SessionState.CLOSED,
    (SessionState.CONNECTING, "restored"): SessionState.AWAY,
    (SessionState.GREETED, "lost_with_seats"): SessionState.AWAY,
    (SessionState.GREETED, "lost"): SessionState.CLOSED,
    (SessionState.GREETED, "bye"): SessionState.CLOSED,
    (SessionState.GREETED, "replaced"): SessionState.GREETED,
    (SessionState.AWAY, "resumed"): SessionState.GREETED,
    (SessionState.AWAY, "expired"): SessionState.CLOSED,
    (SessionState.CLOSED, "lost"): SessionState.CLOSED,
}


class IllegalTransition(RuntimeError):
    """A session was asked to do something its state does not allow: a bug in the caller."""


def advance(state: SessionState, event: str) -> SessionState:
    """The state after ``event``; raise IllegalTransition if the table has no such move."""
    try:
        return TRANSITIONS[state, event]
    except KeyError:
        raise IllegalTransition(f"a {state.value} session cannot take {event!r}") from None
