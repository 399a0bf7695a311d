"""Persistence of matches and match rooms: the MatchStore interface, SQLite (the embedded default)
and a null store."""

from .base import MatchStore, NullStore, SavedMatch, SavedMove, SavedPlayer, SavedRoom, StoreError
from .sqlite import SqliteStore

__all__ = [
    "MatchStore",
    "NullStore",
    "SavedMatch",
    "SavedMove",
    "SavedPlayer",
    "SavedRoom",
    "SqliteStore",
    "StoreError",
    "open_store",
]


def open_store(path: str | None, *, durable: bool = False) -> MatchStore:
    """The store for ``--db PATH``: SQLite at PATH, or nothing for None and ``:memory:``."""
    if path is None or path == ":memory:":
        return NullStore()
    return SqliteStore(path, durable=durable)
