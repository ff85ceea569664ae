"""Usage counts per day and event, kept 30 days: how much the bot is used, never by whom."""

from __future__ import annotations

import datetime as dt
from collections import Counter

import aiosqlite

KEEP_DAYS = 30


def today(moment: dt.datetime | None = None) -> str:
    """The UTC day as YYYY-MM-DD."""
    return (moment or dt.datetime.now(dt.UTC)).astimezone(dt.UTC).date().isoformat()


async def add(db: aiosqlite.Connection, counts: Counter[str], day: str) -> None:
    """Add counts to a day and forget days older than KEEP_DAYS."""
    if counts:
        await db.executemany(
            "INSERT INTO usage (day, event, count) VALUES (?, ?, ?)"
            " ON CONFLICT (day, event) DO UPDATE SET count = count + excluded.count",
            [(day, event, number) for event, number in counts.items() if number],
        )
    oldest = (dt.date.fromisoformat(day) - dt.timedelta(days=KEEP_DAYS - 1)).isoformat()
    await db.execute("DELETE FROM usage WHERE day < ?", (oldest,))
    await db.commit()


async def totals(db: aiosqlite.Connection, day: str) -> dict[str, int]:
    """Each event's total over the KEEP_DAYS days ending on day."""
    oldest = (dt.date.fromisoformat(day) - dt.timedelta(days=KEEP_DAYS - 1)).isoformat()
    async with db.execute(
        "SELECT event, SUM(count) FROM usage WHERE day >= ? AND day <= ? GROUP BY event ORDER BY event", (oldest, day)
    ) as cursor:
        return {str(r[0]): int(r[1]) for r in await cursor.fetchall()}


async def daily_totals(db: aiosqlite.Connection, day: str, *, without: str = "digest_sent") -> list[tuple[str, int]]:
    """(day, all events but one) over the KEEP_DAYS days ending on day, oldest first."""
    oldest = (dt.date.fromisoformat(day) - dt.timedelta(days=KEEP_DAYS - 1)).isoformat()
    async with db.execute(
        "SELECT day, SUM(count) FROM usage WHERE event != ? AND day >= ? AND day <= ? GROUP BY day ORDER BY day",
        (without, oldest, day),
    ) as cursor:
        return [(str(r[0]), int(r[1])) for r in await cursor.fetchall()]
