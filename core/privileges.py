"""Database roles: the owner migrates; the service role gets only what the code needs.

Two roles use a register's database:

* the **owner** (``DATABASE_OWNER_URL``) owns every table and runs ``nser
  migrate``; nothing else connects as it;
* the **service role** (``DATABASE_URL``), used by web processes and workers,
  owns nothing (so it cannot disable a trigger or drop a table) and holds
  exactly the privileges of :func:`table_privileges`: on the audit log's
  tables (:data:`APPEND_ONLY`) only ``INSERT`` and ``SELECT``, on the
  sequencer's queue also ``DELETE``, on the others plain DML; never
  ``TRUNCATE``, ``REFERENCES`` or ``TRIGGER``.

``nser migrate`` re-applies the grants after every upgrade
(:func:`migrate`), so a new table is covered the day it is added. The
embedded server creates the service role itself (:func:`ensure_login_role`);
in production a DBA creates it once (see the README).
"""

from __future__ import annotations

import asyncio

from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

from core.db import async_url
from core.errors import ConfigurationError
from core.migrate import upgrade
from core.models import metadata
from core.settings import Settings

#: Tables no one but the owner may change or empty (their triggers also refuse it).
APPEND_ONLY = frozenset({"audit_entry", "audit_leaf", "audit_hash", "audit_checkpoint"})
#: The sequencer's queue: rows leave it when they become leaves.
QUEUE = frozenset({"audit_unsequenced"})
_TIMEOUT = 30.0


def table_privileges(table: str) -> tuple[str, ...]:
    """The privileges the service role holds on ``table``."""
    if table in APPEND_ONLY:
        return ("SELECT", "INSERT")
    if table in QUEUE:
        return ("SELECT", "INSERT", "DELETE")
    return ("SELECT", "INSERT", "UPDATE", "DELETE")


def _quoted(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def grant_statements(role: str) -> list[str]:
    """The SQL that gives ``role`` exactly its privileges (idempotent; run as the owner)."""
    who = _quoted(role)
    statements = [f"GRANT USAGE ON SCHEMA public TO {who}"]
    for table in sorted(metadata.tables):
        statements.append(f"REVOKE ALL ON {_quoted(table)} FROM {who}")
        privileges = ", ".join(table_privileges(table))
        statements.append(f"GRANT {privileges} ON {_quoted(table)} TO {who}")
    statements.append(f"GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO {who}")
    # Read-only, so a service process can see which revision it runs against.
    statements.append(f"GRANT SELECT ON alembic_version TO {who}")
    return statements


async def _run(url: str, statements: list[str], *, autocommit: bool = False) -> None:
    engine = create_async_engine(
        async_url(url),
        connect_args={"timeout": _TIMEOUT, "command_timeout": _TIMEOUT},
        **({"isolation_level": "AUTOCOMMIT"} if autocommit else {}),
    )
    try:
        async with engine.begin() as conn:
            for statement in statements:
                await conn.execute(text(statement))
    finally:
        await engine.dispose()


def service_role(settings: Settings) -> str | None:
    """The service role to grant to: ``DATABASE_URL``'s user when it differs from the owner's."""
    if settings.database_url is None or settings.database_owner_url is None:
        return None
    service = make_url(settings.database_url).username
    owner = make_url(settings.database_owner_url).username
    return service if service and service != owner else None


def migrate(settings: Settings) -> None:
    """``nser migrate``: upgrade the schema as the owner, then grant the service role.

    Raises:
        ConfigurationError: in production without ``DATABASE_OWNER_URL``, or with
            the same role in both URLs (the service would own the audit log).
    """
    owner_url = settings.owner_url
    if owner_url is None:
        raise ConfigurationError("DATABASE_URL must be resolved before migrating")
    role = service_role(settings)
    if settings.env == "production" and role is None:
        raise ConfigurationError(
            "nser migrate in production needs DATABASE_OWNER_URL, the schema owner's URL, "
            "with another role than DATABASE_URL's"
        )
    upgrade(owner_url)
    if role is not None:
        asyncio.run(_run(owner_url, grant_statements(role)))


def ensure_login_role(superuser_url: str, role: str) -> None:
    """Create ``role`` (LOGIN, nothing else) unless it exists; tolerates a concurrent creator."""
    statement = (
        f"DO $$ BEGIN CREATE ROLE {_quoted(role)} LOGIN; "
        "EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$"
    )
    asyncio.run(_run(superuser_url, [statement], autocommit=True))
