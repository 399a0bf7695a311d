"""A relay that checks: a pure function that accepts, refuses or rewrites each relay message.

A relay room forwards whatever its members send; a ``RelayCheck`` for the room's label looks at each
message first, with a state of its own (say, where each member's dot is), and says one of:

- ``Checked.accept(state)``: pass it on as it is;
- ``Checked.rewrite(state, data)``: pass on ``data`` instead (a clamped speed, a rounded position);
- ``Checked.refuse(state, reason)``: nobody else gets it; the sender gets the error
  ``relay_refused`` with ``reason`` (a 15-112 text client, whose protocol has no errors, nothing).

It is the cheapest anti-cheat for games that trust their clients, and 15-112 games keep speaking
their protocol byte for byte. Like a game's rules, ``check`` must be pure: the same state and
message give the same result, no clock, no global state; and it must not mutate what it is given.
Serve one with ``netplay serve --relay-check package.module:ClassName``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

__all__ = ["Checked", "RelayCheck", "load_relay_check"]


@dataclass(frozen=True, slots=True)
class Checked:
    """What a check decided about one message, and its state after it."""

    state: Any
    #: What the other members receive (when not refused).
    data: Any = None
    #: Why the message is refused; None: it is passed on.
    refused: str | None = None
    rewritten: bool = False

    @classmethod
    def accept(cls, state: Any) -> Checked:
        return cls(state)

    @classmethod
    def rewrite(cls, state: Any, data: Any) -> Checked:
        return cls(state, data, None, True)

    @classmethod
    def refuse(cls, state: Any, reason: str) -> Checked:
        return cls(state, None, reason)


class RelayCheck:
    """Checks the messages of the relay rooms whose label is ``label``. Subclass it."""

    #: The relay rooms it checks: those created with this ``game`` label (``15-112``: the text port's).
    label: ClassVar[str] = ""

    def setup(self) -> Any:
        """A new room's state (None by default)."""
        return None

    def check(self, state: Any, sender: str, data: Any) -> Checked:
        """Decide about ``data``, sent by the member ``sender``: accept, rewrite or refuse."""
        return Checked.accept(state)

    def left(self, state: Any, member: str) -> Any:
        """A member left the room: the state without it (unchanged by default)."""
        return state


def load_relay_check(spec: str) -> RelayCheck:
    """Load ``package.module:ClassName``; raises ValueError with a message a user can act on."""
    import importlib

    module_name, sep, attr = spec.partition(":")
    if not sep or not module_name or not attr:
        raise ValueError(f"{spec!r}: use package.module:ClassName")
    try:
        module = importlib.import_module(module_name)
    except (ImportError, TypeError) as exc:
        raise ValueError(f"cannot import {module_name!r}: {exc}") from None
    obj = getattr(module, attr, None)
    if isinstance(obj, type) and issubclass(obj, RelayCheck):
        obj = obj()
    if not isinstance(obj, RelayCheck):
        raise ValueError(f"{spec!r} is not a netplay RelayCheck subclass")
    if not obj.label:
        raise ValueError(f"{spec!r} has no 'label' (the relay rooms it checks)")
    return obj
