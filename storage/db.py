"""Open the one SQLite connection with the pragmas privacy depends on."""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from pathlib import Path

import aiosqlite

log = logging.getLogger("tropa.db")
CHECKPOINT_TRIES = 100  # 10 ms apart: a query in flight finishes in well under a second


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
    for _ in range(CHECKPOINT_TRIES):
        try:
            # Read the pragma's result row: a statement left half-stepped keeps a read open and blocks later writes.
            async with db.execute("PRAGMA wal_checkpoint(TRUNCATE)") as cursor:
                await cursor.fetchall()
            return
        except sqlite3.OperationalError as exc:
            # Another handler's query on this one connection is between its execute and its last fetch: SQLite
            # refuses to checkpoint under it ("database table is locked"). It finishes within a few awaits.
            if "locked" not in str(exc):
                raise
            await asyncio.sleep(0.01)
    # The deletion itself is committed; the next checkpoint takes the old bytes out of the WAL.
    log.warning("event=checkpoint_busy")
