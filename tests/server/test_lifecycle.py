"""The session lifecycle table: every documented transition, and the impossible ones refused."""

from __future__ import annotations

import pytest

from netplay.server.lifecycle import TRANSITIONS, IllegalTransition, SessionState, advance

S = SessionState


@pytest.mark.parametrize(
    ("events", "end"),
    [
        (["hello", "bye", "lost"], S.CLOSED),  # says hello, leaves, the connection closes
        (["hello", "lost_with_seats", "resumed", "lost"], S.CLOSED),  # drops, comes back, leaves
        (["hello", "lost_with_seats", "expired"], S.CLOSED),  # drops and never comes back
        (["hello", "replaced", "replaced"], S.GREETED),  # taken over by newer connections
        (["restored", "resumed"], S.GREETED),  # brought back from the store, then reconnects
        (["resume"], S.CLOSED),  # a new connection that took over an earlier session
        (["lost"], S.CLOSED),  # gone before hello
    ],
)
def test_lives_a_session_can_live(events: list[str], end: SessionState) -> None:
    state = S.CONNECTING
    for event in events:
        state = advance(state, event)
    assert state is end


@pytest.mark.parametrize(
    ("state", "event"),
    [
        (S.CLOSED, "resumed"),  # a forgotten session cannot come back
        (S.GREETED, "expired"),  # a connected session has no grace period to run out
        (S.AWAY, "hello"),
        (S.CONNECTING, "bye"),
        (S.GREETED, "hello"),
    ],
)
def test_impossible_moves_are_loud(state: SessionState, event: str) -> None:
    with pytest.raises(IllegalTransition, match=f"a {state.value} session cannot take '{event}'"):
        advance(state, event)


def test_every_state_but_closed_can_be_left() -> None:
    sources = {state for state, _ in TRANSITIONS}
    assert sources == set(SessionState)
    assert {end for (state, _), end in TRANSITIONS.items() if state is S.CLOSED} == {S.CLOSED}
