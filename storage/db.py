"""Open the one SQLite connection with the pragmas privacy depends on."""

from __future__ import annotations

from pathlib import Path

import aiosqlite


async def connect(path: Path | str) -> aiosqlite.Connection:
    """Open a connection: WAL, foreign keys, secure_delete, rows by name."""
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    db = await aiosqlite.connect(str(path))
    db.row_factory = aiosqlite.Row
    await db.execute("PRAGMA journal_mode=WAL")
    await db.execute("PRAGMA foreign_keys=ON")
    # Deleted rows are overwritten with zeros instead of lingering in free pages.
    await db.execute("PRAGMA secure_delete=ON")
    await db.execute("PRAGMA synchronous=NORMAL")
    await db.execute("PRAGMA busy_timeout=5000")
    return db


async def checkpoint(db: aiosqlite.Connection) -> None:
    """Fold the WAL into the main file and truncate it so deleted bytes leave the disk."""
    await db.commit()
    # Read the pragma's result row: a statement left half-stepped keeps a read open and blocks later writes.
    async with db.execute("PRAGMA wal_checkpoint(TRUNCATE)") as cursor:
        await cursor.fetchall()
