"""storage.deletions: sealed rows of messages to delete later, due in ten-minute steps, gone from disk once done."""

from __future__ import annotations

import struct
from pathlib import Path

import aiosqlite
import pytest

from storage import deletions
from storage.crypto import Keys
from storage.deletions import DUE_STEP, MAX_IDS, due_time
from tests.helpers import on_disk

KEYS = Keys.from_master(bytes(range(32)))
OTHER = Keys.from_master(bytes(32))
CHAT = 7391046258
FRIEND = 8012345671


async def due_now(db: aiosqlite.Connection, now: int, keys: Keys = KEYS) -> list[deletions.Pending]:
    found = []
    async for opened, _ in deletions.due(db, keys, now):
        found += opened
    return found


async def all_keys(db: aiosqlite.Connection) -> list[deletions.RowKey]:
    async with db.execute("SELECT due, sealed FROM deletions ORDER BY due, sealed") as cursor:
        return [(int(r[0]), bytes(r[1])) for r in await cursor.fetchall()]


@pytest.mark.parametrize(
    ("sent", "after", "expected"),
    [
        (1_000_000_000, 3600, 1_000_003_800),  # 1_000_003_600 rounded up to the next ten minutes
        (1_000_003_200 - 3600, 3600, 1_000_003_200),  # already on a step
        (1_000_003_200.5 - 3600, 3600, 1_000_003_800),  # never early, not even by half a second
        (1_000_000_000, 86400, 1_000_086_400 + 200),
    ],
)
def test_due_times_are_rounded_up_to_ten_minutes(sent: float, after: int, expected: int) -> None:
    assert due_time(sent, after) == expected
    assert expected % DUE_STEP == 0
    assert 0 <= expected - (sent + after) < DUE_STEP


async def test_rows_come_back_when_due_and_not_before(db: aiosqlite.Connection) -> None:
    await deletions.add(db, KEYS, [(6000, CHAT, [5, 6, 7]), (6600, FRIEND, [2])])
    assert await due_now(db, 5999) == []
    (first,) = await due_now(db, 6000)
    assert (first.due, first.chat_id, first.message_ids) == (6000, CHAT, [5, 6, 7])
    assert [(p.chat_id, p.message_ids) for p in await due_now(db, 10**9)] == [(CHAT, [5, 6, 7]), (FRIEND, [2])]


async def test_a_long_list_is_split_into_rows_of_one_call(db: aiosqlite.Connection) -> None:
    ids = list(range(1, 2 * MAX_IDS + 31))
    await deletions.add(db, KEYS, [(6000, CHAT, ids)])
    rows = await due_now(db, 6000)
    assert sorted(len(r.message_ids) for r in rows) == [30, MAX_IDS, MAX_IDS]
    assert sorted(i for r in rows for i in r.message_ids) == ids


async def test_paging_reads_every_row_once(db: aiosqlite.Connection) -> None:
    await deletions.add(db, KEYS, [(6000 + 600 * (n % 3), CHAT, [n]) for n in range(1, 26)])
    seen = []
    async for opened, broken in deletions.due(db, KEYS, 10**9, batch=4):
        assert broken == []
        seen += [i for row in opened for i in row.message_ids]
    assert sorted(seen) == list(range(1, 26))


async def test_removed_rows_are_gone_and_others_stay(db: aiosqlite.Connection) -> None:
    await deletions.add(db, KEYS, [(6000, CHAT, [1]), (6000, FRIEND, [1])])
    mine = [r for r in await due_now(db, 6000) if r.chat_id == CHAT]
    await deletions.remove(db, [r.key for r in mine])
    assert [r.chat_id for r in await due_now(db, 6000)] == [FRIEND]
    assert await deletions.count(db) == 1


async def test_one_chat_is_found_by_opening_every_row(db: aiosqlite.Connection) -> None:
    await deletions.add(db, KEYS, [(6000, CHAT, [1, 2]), (9000, CHAT, [3]), (6000, FRIEND, [9])])
    mine = await deletions.of_chat(db, KEYS, CHAT)
    assert sorted(i for r in mine for i in r.message_ids) == [1, 2, 3]
    assert await deletions.of_chat(db, KEYS, 5550000) == []


async def test_rows_sealed_under_another_key_are_listed_apart(db: aiosqlite.Connection) -> None:
    await deletions.add(db, OTHER, [(6000, CHAT, [1])])
    await deletions.add(db, KEYS, [(6000, FRIEND, [2])])
    batches = [found async for found in deletions.due(db, KEYS, 6000)]
    assert [(p.chat_id, len(b)) for opened, b in batches for p in opened] == [(FRIEND, 1)]
    assert sum(len(b) for _, b in batches) == 1


async def test_nothing_readable_on_disk(db: aiosqlite.Connection, db_path: Path) -> None:
    await deletions.add(db, KEYS, [(6000, CHAT, [424242, 424243]), (6000, FRIEND, [31337])])
    await db.commit()
    blob = on_disk(db_path)
    for chat in (CHAT, FRIEND):
        for needle in (str(chat).encode(), struct.pack("<q", chat), struct.pack(">q", chat)):
            assert needle not in blob
    for message_id in (b"424242", b"31337"):
        assert message_id not in blob


async def test_sealed_rows_do_not_tell_how_many_ids_they_hold(db: aiosqlite.Connection) -> None:
    await deletions.add(db, KEYS, [(6000, CHAT, [7]), (6600, CHAT, [7, 8, 9])])
    sizes = {len(sealed) for _, sealed in await all_keys(db)}
    assert len(sizes) == 1


async def test_removed_rows_leave_the_disk(db: aiosqlite.Connection, db_path: Path) -> None:
    await deletions.add(db, KEYS, [(6000, CHAT, [1])])
    [(_, sealed)] = await all_keys(db)
    assert sealed in on_disk(db_path)
    await deletions.remove(db, await all_keys(db))
    assert sealed not in on_disk(db_path)


async def test_reseal_moves_every_row_to_the_new_key(db: aiosqlite.Connection) -> None:
    await deletions.add(db, KEYS, [(6000, CHAT, [1, 2]), (6600, FRIEND, [3])])
    await deletions.add(db, OTHER, [(6000, 5550001, [4])])  # opens under neither: dropped
    await db.execute("BEGIN IMMEDIATE")
    assert await deletions.reseal(db, KEYS, OTHER) == 2
    await db.commit()
    assert [(r.chat_id, r.message_ids) for r in await due_now(db, 10**9, OTHER)] == [(CHAT, [1, 2]), (FRIEND, [3])]
    assert await due_now(db, 10**9, KEYS) == []
    assert await deletions.count(db) == 2
