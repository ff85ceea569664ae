"""Usage counts: added per day, summed over 30 days, older days forgotten."""

from __future__ import annotations

import datetime as dt
from collections import Counter

import aiosqlite

from storage import usage


async def test_counts_add_up_and_old_days_are_forgotten(db: aiosqlite.Connection) -> None:
    await usage.add(db, Counter(search=2, start=1), "2026-10-01")
    await usage.add(db, Counter(search=3, digest_sent=40), "2026-11-21")
    await usage.add(db, Counter(search=1), "2026-11-22")
    assert await usage.totals(db, "2026-11-22") == {"digest_sent": 40, "search": 4}
    assert await usage.daily_totals(db, "2026-11-22") == [("2026-11-21", 3), ("2026-11-22", 1)]
    async with db.execute("SELECT COUNT(*) FROM usage WHERE day = '2026-10-01'") as cursor:
        row = await cursor.fetchone()
    assert row is not None
    assert row[0] == 0


def test_today_is_the_utc_day() -> None:
    late = dt.datetime(2026, 11, 22, 23, 30, tzinfo=dt.timezone(dt.timedelta(hours=-5)))
    assert usage.today(late) == "2026-11-23"
