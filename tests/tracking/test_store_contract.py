"""Run the store conformance suite against every store loopml ships (see conftest.py)."""

from __future__ import annotations

from loopml.tracking.testing import StoreContract


class TestStoreContract(StoreContract):
    """In memory, SQLite in memory, SQLite file and (when configured) PostgreSQL."""
