"""Subscribers: schedules, sealing at rest, streaming due rows, recording progress, key rotation."""

from __future__ import annotations

import datetime as dt
import struct
from pathlib import Path

import aiosqlite
import pytest

from storage import deletions, prefs, subscribers
from storage.crypto import Keys, SealError
from storage.db import checkpoint
from storage.subscribers import ALL_TOPICS, Schedule, topic_names
from tests.helpers import on_disk

KEYS = Keys.from_master(bytes(range(32)))
OTHER = Keys.from_master(bytes(range(1, 33)))
NOW = dt.datetime(2026, 11, 22, 10, 30, tzinfo=dt.UTC)  # a Sunday


@pytest.mark.parametrize(
    ("schedule", "expected"),
    [
        (Schedule(1, "daily", None, 11), dt.datetime(2026, 11, 22, 11, tzinfo=dt.UTC)),
        (Schedule(1, "daily", None, 10), dt.datetime(2026, 11, 23, 10, tzinfo=dt.UTC)),
        (Schedule(1, "weekly", 0, 9), dt.datetime(2026, 11, 23, 9, tzinfo=dt.UTC)),
        (Schedule(1, "weekly", 6, 11), dt.datetime(2026, 11, 22, 11, tzinfo=dt.UTC)),
        (Schedule(1, "weekly", 6, 10), dt.datetime(2026, 11, 29, 10, tzinfo=dt.UTC)),
    ],
)
def test_next_slot(schedule: Schedule, expected: dt.datetime) -> None:
    assert schedule.next_after(NOW) == expected


def test_topic_names() -> None:
    assert topic_names(ALL_TOPICS) == ["tactics", "conscription", "orgs", "announcements"]
    assert topic_names(6) == ["conscription", "orgs"]


async def test_save_get_and_change(db: aiosqlite.Connection) -> None:
    first = await subscribers.save(db, KEYS, 7391046258, Schedule(6, "weekly", 2, 9), "ru", NOW)
    assert first.next_due == int(dt.datetime(2026, 11, 25, 9, tzinfo=dt.UTC).timestamp())
    assert not first.sound
    assert await subscribers.set_sound(db, KEYS.lookup(7391046258), True)
    changed = await subscribers.save(db, KEYS, 7391046258, Schedule(1, "daily", None, 23), "en", NOW)
    assert changed.sound, "changing the schedule keeps the sound choice"
    assert await subscribers.get(db, KEYS.lookup(7391046258)) == changed
    assert await subscribers.get(db, KEYS.lookup(1)) is None
    assert not await subscribers.set_sound(db, KEYS.lookup(1), True)


async def test_a_row_holds_no_id_and_no_signup_time(db: aiosqlite.Connection, db_path: Path) -> None:
    await subscribers.save(db, KEYS, 7391046258, Schedule(15, "daily", None, 8), "ru", NOW)
    async with db.execute("SELECT * FROM subscribers") as cursor:
        row = await cursor.fetchone()
        columns = [c[0] for c in cursor.description]
    assert row is not None
    assert columns == [
        "lookup",
        "sealed",
        "topics",
        "rhythm",
        "weekday",
        "hour",
        "lang",
        "sound",
        "next_due",
        "last_digest",
    ]
    assert row["last_digest"] is None  # no content yet: the content watermark, never the time of signing up
    await checkpoint(db)
    blob = on_disk(db_path)
    for needle in (b"7391046258", struct.pack("<q", 7391046258), struct.pack(">q", 7391046258)):
        assert needle not in blob


async def test_due_streams_in_batches_and_progress_is_recorded(db: aiosqlite.Connection) -> None:
    ids = list(range(1000001, 1000001 + 25))
    for chat in ids:
        await subscribers.save(db, KEYS, chat, Schedule(1, "daily", None, 0), "en", NOW)
    stamp = int(NOW.timestamp())
    assert [b async for b in subscribers.due(db, KEYS, stamp)] == []
    assert await subscribers.make_all_due(db, stamp) == 25
    batches = [batch async for batch in subscribers.due(db, KEYS, stamp, batch=10)]
    assert [len(b) for b in batches] == [10, 10, 5]
    assert sorted(s.chat_id for b in batches for s in b) == ids
    await subscribers.mark_done(db, [(s.lookup, stamp + 86400, stamp) for s in batches[0]])
    left = [s async for b in subscribers.due(db, KEYS, stamp) for s in b]
    assert len(left) == 15
    assert all(s.last_digest is None for s in left)


async def test_removal_and_counts(db: aiosqlite.Connection) -> None:
    await subscribers.save(db, KEYS, 11, Schedule(3, "daily", None, 0), "ru", NOW)
    await subscribers.save(db, KEYS, 12, Schedule(ALL_TOPICS, "daily", None, 0), "en", NOW)
    assert await subscribers.counts(db) == {
        "tactics": 2,
        "conscription": 2,
        "orgs": 1,
        "announcements": 1,
        "lang:ru": 1,
        "lang:en": 1,
    }
    await subscribers.remove_many(db, [KEYS.lookup(11)])
    assert not await subscribers.remove(db, KEYS.lookup(11))
    assert await subscribers.remove(db, KEYS.lookup(12))
    assert await subscribers.counts(db) == {}


async def test_rotate_reseals_everyone_and_the_old_key_stops_working(db: aiosqlite.Connection) -> None:
    await subscribers.save(db, KEYS, 21, Schedule(1, "daily", None, 0), "ru", NOW)
    await subscribers.save(db, KEYS, 22, Schedule(1, "daily", None, 0), "en", NOW)
    await prefs.set_lang(db, KEYS.lookup(21), "en")  # a subscriber's choice: kept
    await prefs.set_lang(db, KEYS.lookup(99), "ru")  # a non-subscriber's: one-way, cannot follow
    assert await subscribers.rotate(db, KEYS, OTHER) == 2
    assert await subscribers.get(db, KEYS.lookup(21)) is None
    assert await subscribers.get(db, OTHER.lookup(21)) is not None
    assert await prefs.get_lang(db, OTHER.lookup(21)) == "en"
    assert await prefs.get_lang(db, KEYS.lookup(99)) is None
    async with db.execute("SELECT sealed FROM subscribers") as cursor:
        sealed = [bytes(r[0]) for r in await cursor.fetchall()]
    for blob in sealed:
        with pytest.raises(SealError):
            KEYS.unseal(blob)
    assert sorted(OTHER.unseal(b) for b in sealed) == [21, 22]


async def test_rotate_moves_disappearing_choices_and_reseals_pending_deletions(db: aiosqlite.Connection) -> None:
    await subscribers.save(db, KEYS, 21, Schedule(1, "daily", None, 0), "ru", NOW)
    await prefs.set_disappear(db, KEYS.lookup(21), 3600)
    await prefs.set_disappear(db, KEYS.lookup(99), 86400)  # a non-subscriber's: one-way, cannot follow
    await deletions.add(db, KEYS, [(6000, 21, [4, 5]), (6000, 99, [7])])
    await subscribers.rotate(db, KEYS, OTHER)
    assert await prefs.disappearing_chats(db) == {OTHER.lookup(21): 3600}
    async with db.execute("SELECT sealed FROM deletions") as cursor:
        sealed = [bytes(r[0]) for r in await cursor.fetchall()]
    # Both deletions are still owed: the messages exist whatever became of the choice.
    assert sorted(OTHER.unseal_deletion(b) for b in sealed) == [(21, [4, 5]), (99, [7])]


async def test_the_key_check_also_tries_a_pending_deletion(db: aiosqlite.Connection) -> None:
    assert await subscribers.key_opens(db, KEYS)
    await deletions.add(db, KEYS, [(6000, 21, [1])])
    assert await subscribers.key_opens(db, KEYS)
    assert not await subscribers.key_opens(db, OTHER)


async def test_rotate_with_the_wrong_old_key_changes_nothing(db: aiosqlite.Connection) -> None:
    await subscribers.save(db, KEYS, 31, Schedule(1, "daily", None, 0), "ru", NOW)
    with pytest.raises(SealError):
        await subscribers.rotate(db, OTHER, KEYS)
    assert await subscribers.get(db, KEYS.lookup(31)) is not None
    assert not db.in_transaction
