"""Alembic environment: migrate the connection :mod:`loopml.tracking._migrate` hands over.

loopml runs migrations programmatically, inside a transaction it has already opened and
locked, so this never creates an engine of its own and never runs offline.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy.engine import Connection

from loopml.tracking._schema import metadata


def _run_online() -> None:
    connection = context.config.attributes.get("connection")
    if context.is_offline_mode() or not isinstance(connection, Connection):
        raise RuntimeError(
            "loopml's migrations run only through SQLStore (or loopml.tracking._migrate), "
            "which passes a connection in config.attributes['connection']"
        )
    context.configure(
        connection=connection,
        target_metadata=metadata,
        # SQLite cannot ALTER most things; batch mode makes autogenerate emit copy-and-move.
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()


_run_online()
