"""A chat's language choice, stored under its HMAC lookup key only."""

from __future__ import annotations

import aiosqlite

from storage.db import checkpoint


async def get_lang(db: aiosqlite.Connection, lookup: bytes) -> str | None:
    """The stored language for this lookup key, if the person chose one."""
    async with db.execute("SELECT lang FROM prefs WHERE lookup = ?", (lookup,)) as cursor:
        row = await cursor.fetchone()
    return str(row[0]) if row else None


async def set_lang(db: aiosqlite.Connection, lookup: bytes, lang: str) -> None:
    """Remember a language choice."""
    await db.execute(
        "INSERT INTO prefs (lookup, lang) VALUES (?, ?) ON CONFLICT (lookup) DO UPDATE SET lang = excluded.lang",
        (lookup, lang),
    )
    await db.commit()


async def forget(db: aiosqlite.Connection, lookup: bytes) -> bool:
    """Delete the language choice and flush the WAL; True if there was one."""
    cursor = await db.execute("DELETE FROM prefs WHERE lookup = ?", (lookup,))
    deleted = cursor.rowcount > 0
    await checkpoint(db)
    return deleted
