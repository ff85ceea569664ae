"""Apply migrations/NNNN_name.sql above PRAGMA user_version, each in one transaction."""

from __future__ import annotations

import re
import sqlite3
from dataclasses import dataclass
from importlib import resources

import aiosqlite

NAME_RE = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    sql: str


def migrations() -> list[Migration]:
    """Every bundled migration, in order."""
    folder = resources.files("storage") / "migrations"
    found = []
    for entry in folder.iterdir():
        match = NAME_RE.match(entry.name)
        if match:
            found.append(Migration(int(match.group(1)), entry.name, entry.read_text(encoding="utf-8")))
    return sorted(found, key=lambda m: m.version)


def latest_version() -> int:
    """The schema version this code expects."""
    return max((m.version for m in migrations()), default=0)


async def current_version(db: aiosqlite.Connection) -> int:
    """The schema version the database is at."""
    async with db.execute("PRAGMA user_version") as cursor:
        row = await cursor.fetchone()
    return int(row[0]) if row else 0


async def migrate(db: aiosqlite.Connection) -> list[str]:
    """Apply pending migrations; return the names applied."""
    done = await current_version(db)
    applied = []
    for migration in migrations():
        if migration.version <= done:
            continue
        await db.commit()
        # executescript would commit between statements; run them one by one inside one transaction.
        await db.execute("BEGIN IMMEDIATE")
        try:
            for statement in split_statements(migration.sql):
                await db.execute(statement)
            await db.execute(f"PRAGMA user_version = {migration.version:d}")
            await db.commit()
        except BaseException:
            await db.rollback()
            raise
        applied.append(migration.name)
    return applied


def split_statements(sql: str) -> list[str]:
    """Split a migration into complete statements (handles triggers' inner semicolons, several per line)."""
    statements, buffer = [], ""
    for piece in re.split(r"(?<=;)", "\n".join(line for line in sql.splitlines() if not line.strip().startswith("--"))):
        buffer += piece
        if sqlite3.complete_statement(buffer):
            statements.append(buffer.strip())
            buffer = ""
    if buffer.strip():
        statements.append(buffer.strip())
    return statements
