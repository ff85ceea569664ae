"""A chat's choices (language, disappearing messages), stored under its HMAC lookup key only."""

from __future__ import annotations

from dataclasses import dataclass

import aiosqlite

from storage.db import checkpoint

DISAPPEAR_CHOICES = (0, 3600, 86400)  # off, one hour, 24 hours: what the table's CHECK allows


@dataclass(frozen=True)
class Forgotten:
    """Which choices forget() found and deleted."""

    lang: bool
    disappear: bool


async def get_lang(db: aiosqlite.Connection, lookup: bytes) -> str | None:
    """The stored language for this lookup key, if the person chose one."""
    async with db.execute("SELECT lang FROM prefs WHERE lookup = ?", (lookup,)) as cursor:
        row = await cursor.fetchone()
    return str(row[0]) if row and row[0] is not None else None


async def set_lang(db: aiosqlite.Connection, lookup: bytes, lang: str) -> None:
    """Remember a language choice."""
    await db.execute(
        "INSERT INTO prefs (lookup, lang) VALUES (?, ?) ON CONFLICT (lookup) DO UPDATE SET lang = excluded.lang",
        (lookup, lang),
    )
    await db.commit()


async def get_disappear(db: aiosqlite.Connection, lookup: bytes) -> int:
    """Seconds after which this chat's messages are deleted; 0 when off."""
    async with db.execute("SELECT disappear FROM prefs WHERE lookup = ?", (lookup,)) as cursor:
        row = await cursor.fetchone()
    return int(row[0]) if row else 0


async def set_disappear(db: aiosqlite.Connection, lookup: bytes, seconds: int) -> None:
    """Turn disappearing messages on (3600 or 86400 seconds) or off (0); off with no language leaves no row."""
    if seconds not in DISAPPEAR_CHOICES:
        raise ValueError(f"disappearing messages take one of {DISAPPEAR_CHOICES} seconds")
    if seconds:
        await db.execute(
            "INSERT INTO prefs (lookup, disappear) VALUES (?, ?)"
            " ON CONFLICT (lookup) DO UPDATE SET disappear = excluded.disappear",
            (lookup, seconds),
        )
        await db.commit()
        return
    await db.execute("DELETE FROM prefs WHERE lookup = ? AND lang IS NULL", (lookup,))
    await db.execute("UPDATE prefs SET disappear = 0 WHERE lookup = ?", (lookup,))
    await checkpoint(db)


async def disappearing_chats(db: aiosqlite.Connection) -> dict[bytes, int]:
    """Every lookup key with disappearing messages on, and its seconds."""
    async with db.execute("SELECT lookup, disappear FROM prefs WHERE disappear > 0") as cursor:
        return {bytes(row[0]): int(row[1]) for row in await cursor.fetchall()}


async def forget(db: aiosqlite.Connection, lookup: bytes) -> Forgotten:
    """Delete every choice of this chat and flush the WAL; say which there were."""
    async with db.execute("SELECT lang, disappear FROM prefs WHERE lookup = ?", (lookup,)) as cursor:
        row = await cursor.fetchone()
    if row is None:
        return Forgotten(lang=False, disappear=False)
    await db.execute("DELETE FROM prefs WHERE lookup = ?", (lookup,))
    await checkpoint(db)
    return Forgotten(lang=row[0] is not None, disappear=bool(row[1]))
