"""Digest subscribers: one row per chat, keyed by HMAC, the chat id sealed; plain functions taking db first."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace

import aiosqlite

from storage import deletions
from storage.crypto import Keys, SealError
from storage.db import checkpoint

TOPICS = ("tactics", "conscription", "orgs", "announcements")
TOPIC_BITS = {name: 1 << number for number, name in enumerate(TOPICS)}
ALL_TOPICS = (1 << len(TOPICS)) - 1


def topic_names(mask: int) -> list[str]:
    """The topics a bitmask selects, in display order."""
    return [name for name in TOPICS if mask & TOPIC_BITS[name]]


@dataclass(frozen=True)
class Schedule:
    """What and when: topics as a bitmask, daily or weekly on a weekday (0 = Monday), at an hour (UTC)."""

    topics: int
    rhythm: str
    weekday: int | None
    hour: int

    def next_after(self, moment: dt.datetime) -> dt.datetime:
        """The first delivery time strictly after moment."""
        moment = moment.astimezone(dt.UTC)
        candidate = moment.replace(hour=self.hour, minute=0, second=0, microsecond=0)
        if self.rhythm == "daily":
            return candidate if candidate > moment else candidate + dt.timedelta(days=1)
        weekday = self.weekday or 0
        candidate += dt.timedelta(days=(weekday - candidate.weekday()) % 7)
        return candidate if candidate > moment else candidate + dt.timedelta(days=7)


@dataclass(frozen=True)
class Subscriber:
    """A row as delivery sees it, with the chat id unsealed in memory only."""

    lookup: bytes
    chat_id: int
    schedule: Schedule
    lang: str
    sound: bool
    next_due: int
    last_digest: int | None


@dataclass(frozen=True)
class Choice:
    """What a person sees in /settings: no chat id needed."""

    schedule: Schedule
    lang: str
    sound: bool
    next_due: int


def _choice(row: aiosqlite.Row) -> Choice:
    schedule = Schedule(row["topics"], row["rhythm"], row["weekday"], row["hour"])
    return Choice(schedule, row["lang"], bool(row["sound"]), row["next_due"])


async def get(db: aiosqlite.Connection, lookup: bytes) -> Choice | None:
    """The subscription of one chat, if any."""
    async with db.execute("SELECT * FROM subscribers WHERE lookup = ?", (lookup,)) as cursor:
        row = await cursor.fetchone()
    return _choice(row) if row else None


async def save(
    db: aiosqlite.Connection,
    keys: Keys,
    chat_id: int,
    schedule: Schedule,
    lang: str,
    now: dt.datetime,
    sound: bool | None = None,
) -> Choice:
    """Create or change a subscription; the next digest is the schedule's next slot after now.

    A new subscriber's digests start from the newest content at that moment (a content time that everyone who
    subscribed since that publication shares), not from a sign-up time of their own.
    """
    lookup = keys.lookup(chat_id)
    current = await get(db, lookup)
    keep_sound = current.sound if current else False
    next_due = int(schedule.next_after(now).timestamp())
    await db.execute(
        """
        INSERT INTO subscribers (lookup, sealed, topics, rhythm, weekday, hour, lang, sound, next_due, last_digest)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, (SELECT MAX(published_at) FROM items))
        ON CONFLICT (lookup) DO UPDATE SET topics = excluded.topics, rhythm = excluded.rhythm,
            weekday = excluded.weekday, hour = excluded.hour, lang = excluded.lang, sound = excluded.sound,
            next_due = excluded.next_due
        """,
        (
            lookup,
            keys.seal(chat_id),
            schedule.topics,
            schedule.rhythm,
            schedule.weekday,
            schedule.hour,
            lang,
            int(keep_sound if sound is None else sound),
            next_due,
        ),
    )
    await db.commit()
    return Choice(schedule, lang, keep_sound if sound is None else sound, next_due)


async def set_sound(db: aiosqlite.Connection, lookup: bytes, sound: bool) -> bool:
    """Turn notification sound on or off; False if there is no subscription."""
    cursor = await db.execute("UPDATE subscribers SET sound = ? WHERE lookup = ?", (int(sound), lookup))
    await db.commit()
    return cursor.rowcount > 0


async def set_lang(db: aiosqlite.Connection, lookup: bytes, lang: str) -> None:
    """Keep the digest language in step with the person's language choice."""
    await db.execute("UPDATE subscribers SET lang = ? WHERE lookup = ?", (lang, lookup))
    await db.commit()


async def remove(db: aiosqlite.Connection, lookup: bytes) -> bool:
    """Delete a subscription and flush the WAL so its bytes leave the disk; True if there was one."""
    cursor = await db.execute("DELETE FROM subscribers WHERE lookup = ?", (lookup,))
    removed = cursor.rowcount > 0
    await checkpoint(db)
    return removed


async def remove_many(db: aiosqlite.Connection, lookups: list[bytes]) -> None:
    """Delete the subscriptions of chats that blocked the bot or no longer exist."""
    if lookups:
        async with db.executemany("DELETE FROM subscribers WHERE lookup = ?", [(x,) for x in lookups]):
            pass
        await checkpoint(db)


async def key_opens(db: aiosqlite.Connection, keys: Keys) -> bool:
    """Whether the key opens what is sealed (True when nothing is yet): a wrong key must stop start-up.

    A pending deletion is tried too: with no subscribers, a wrong key would otherwise drop every deletion owed.
    """
    async with db.execute("SELECT sealed FROM subscribers LIMIT 1") as cursor:
        subscriber = await cursor.fetchone()
    async with db.execute("SELECT sealed FROM deletions LIMIT 1") as cursor:
        deletion = await cursor.fetchone()
    try:
        if subscriber is not None:
            keys.unseal(subscriber[0])
        if deletion is not None:
            keys.unseal_deletion(deletion[0])
    except SealError:
        return False
    return True


async def due(db: aiosqlite.Connection, keys: Keys, now: int, batch: int = 500) -> AsyncIterator[list[Subscriber]]:
    """Stream due subscribers in batches, never all in memory; rows that do not unseal are skipped."""
    after: tuple[int, bytes] = (-(2**62), b"")
    while True:
        async with db.execute(
            "SELECT * FROM subscribers WHERE next_due <= ? AND (next_due, lookup) > (?, ?)"
            " ORDER BY next_due, lookup LIMIT ?",
            (now, *after, batch),
        ) as cursor:
            rows = list(await cursor.fetchall())
        if not rows:
            return
        after = (rows[-1]["next_due"], rows[-1]["lookup"])
        yield [_subscriber(row, keys) for row in rows]


async def with_topic(
    db: aiosqlite.Connection, keys: Keys, topic: str, batch: int = 500
) -> AsyncIterator[list[Subscriber]]:
    """Stream everyone subscribed to a topic, in batches, whatever their schedule (for announcements)."""
    after = b""
    bit = TOPIC_BITS[topic]
    while True:
        async with db.execute(
            "SELECT * FROM subscribers WHERE topics & ? AND lookup > ? ORDER BY lookup LIMIT ?", (bit, after, batch)
        ) as cursor:
            rows = list(await cursor.fetchall())
        if not rows:
            return
        after = rows[-1]["lookup"]
        yield [_subscriber(row, keys) for row in rows]


async def count_topic(db: aiosqlite.Connection, topic: str) -> int:
    """How many people are subscribed to a topic."""
    async with db.execute("SELECT COUNT(*) FROM subscribers WHERE topics & ?", (TOPIC_BITS[topic],)) as cursor:
        row = await cursor.fetchone()
    return int(row[0]) if row else 0


def _subscriber(row: aiosqlite.Row, keys: Keys) -> Subscriber:
    choice = _choice(row)
    return Subscriber(
        row["lookup"],
        keys.unseal(row["sealed"]),
        choice.schedule,
        choice.lang,
        choice.sound,
        row["next_due"],
        row["last_digest"],
    )


async def mark_done(db: aiosqlite.Connection, done: list[tuple[bytes, int, int | None]]) -> None:
    """Record (lookup, next_due, last_digest) for finished deliveries in one transaction."""
    if done:
        async with db.executemany(
            "UPDATE subscribers SET next_due = ?, last_digest = COALESCE(?, last_digest) WHERE lookup = ?",
            [(next_due, last, lookup) for lookup, next_due, last in done],
        ):
            pass
        await db.commit()


async def make_all_due(db: aiosqlite.Connection, now: int) -> int:
    """--force: everyone is due now. Persisted first, so a crash mid-run still leaves them due."""
    cursor = await db.execute("UPDATE subscribers SET next_due = ? WHERE next_due > ?", (now, now))
    await db.commit()
    return cursor.rowcount


async def counts(db: aiosqlite.Connection) -> dict[str, int]:
    """Subscribers per topic and per language: counts only."""
    result: dict[str, int] = {}
    async with db.execute("SELECT topics, lang, COUNT(*) FROM subscribers GROUP BY topics, lang") as cursor:
        for topics, lang, number in await cursor.fetchall():
            for name in topic_names(topics):
                result[name] = result.get(name, 0) + number
            result[f"lang:{lang}"] = result.get(f"lang:{lang}", 0) + number
    return result


async def rotate(db: aiosqlite.Connection, old: Keys, new: Keys) -> int:
    """Re-seal every subscriber and pending deletion under new keys in one transaction.

    The choices of people who are not subscribed are dropped: they are stored under a one-way HMAC of the chat id,
    so there is nothing to re-key them from.
    """
    await db.commit()
    await db.execute("BEGIN IMMEDIATE")
    try:
        async with db.execute("SELECT lookup, sealed FROM subscribers") as cursor:
            rows = await cursor.fetchall()
        moved = []
        for row in rows:
            chat_id = old.unseal(row["sealed"])
            moved.append((new.lookup(chat_id), new.seal(chat_id), row["lookup"]))
        choices = {}
        async with db.execute("SELECT lookup, lang, disappear FROM prefs") as cursor:
            for lookup, lang, disappear in await cursor.fetchall():
                choices[bytes(lookup)] = (lang, disappear)
        await db.execute("DELETE FROM prefs")
        await db.executemany("UPDATE subscribers SET lookup = ?, sealed = ? WHERE lookup = ?", moved)
        await db.executemany(
            "INSERT INTO prefs (lookup, lang, disappear) VALUES (?, ?, ?)",
            [(new_lookup, *choices[old_lookup]) for new_lookup, _, old_lookup in moved if old_lookup in choices],
        )
        await deletions.reseal(db, old, new)
        await db.commit()
    except BaseException:
        await db.rollback()
        raise
    await checkpoint(db)
    return len(moved)


def with_schedule(choice: Choice, **changes: object) -> Schedule:
    """A copy of the schedule with some fields changed."""
    return replace(choice.schedule, **changes)  # type: ignore[arg-type]
