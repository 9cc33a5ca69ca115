"""Choose a tracking store from what the user gave: nothing, a URL, or a store."""

from __future__ import annotations

from pathlib import Path

from loopml.errors import StoreError
from loopml.tracking._base import BaseStore
from loopml.tracking._engine import URL_EXAMPLES
from loopml.tracking._memory import InMemoryStore
from loopml.tracking._sql import SQLStore

__all__ = ["MEMORY_URL", "get_store"]

MEMORY_URL = "memory://"


def get_store(store: str | BaseStore | None, *, default_path: Path | None = None) -> BaseStore:
    """Return the store ``store`` names.

    * a :class:`BaseStore`: itself;
    * ``None``: a SQLite file at ``default_path`` (which must then be given);
    * ``"memory://"``: a new :class:`InMemoryStore`;
    * any other string: a :class:`SQLStore` on that SQLAlchemy URL.
    """
    if isinstance(store, BaseStore):
        return store
    if store is None:
        if default_path is None:
            raise StoreError(
                "no tracking store given and no default path to put one at. Pass a store URL "
                f"such as {URL_EXAMPLES}, or default_path"
            )
        return SQLStore(f"sqlite:///{Path(default_path).expanduser().absolute()}")
    if not isinstance(store, str):
        raise StoreError(
            f"a tracking store must be a URL string, a BaseStore or None, but got "
            f"{type(store).__name__} {store!r}. Use for example {URL_EXAMPLES}"
        )
    if store == MEMORY_URL:
        return InMemoryStore()
    if not store.strip():
        raise StoreError(f"the tracking store URL is empty. Use for example {URL_EXAMPLES}")
    return SQLStore(store)
