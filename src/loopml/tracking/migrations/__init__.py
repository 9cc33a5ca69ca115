"""Alembic migrations of the tracking store's SQL schema, run by :class:`SQLStore` on open.

``HEAD`` lets a store opened on an up-to-date database skip loading Alembic at all; a test
checks that it names the newest revision in ``versions/``.
"""

from __future__ import annotations

__all__ = ["HEAD"]

HEAD = "0004"
