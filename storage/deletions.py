"""Messages to delete later: the due time in clear, the chat id and message ids sealed together in one blob.

Rows carry no lookup key, so without the key they cannot be grouped by person; finding one chat's rows means
opening them all (they are few: only what is due within the next 24 hours, for the chats that chose it).
"""

from __future__ import annotations

import math
from collections.abc import AsyncIterator
from dataclasses import dataclass

import aiosqlite

from storage.crypto import Keys, SealError
from storage.db import checkpoint

DUE_STEP = 600  # due times are rounded up to ten minutes: the table tells no time more exactly than that
MAX_IDS = 100  # one row, one deleteMessages call
RowKey = tuple[int, bytes]  # (due, sealed): a row's primary key


@dataclass(frozen=True)
class Pending:
    """One row, opened: which messages of which chat are due when."""

    key: RowKey
    chat_id: int
    message_ids: list[int]

    @property
    def due(self) -> int:
        return self.key[0]


def due_time(sent: float, after: int) -> int:
    """When a message sent at `sent` is deleted: `after` seconds later, rounded up to the next DUE_STEP."""
    return math.ceil((sent + after) / DUE_STEP) * DUE_STEP


async def add(db: aiosqlite.Connection, keys: Keys, batch: list[tuple[int, int, list[int]]]) -> None:
    """Store (due, chat id, message ids) entries in one transaction, at most MAX_IDS ids to a row."""
    rows = [
        (due, keys.seal_deletion(chat_id, ids[start : start + MAX_IDS]))
        for due, chat_id, ids in batch
        for start in range(0, len(ids), MAX_IDS)
    ]
    if rows:
        async with db.executemany("INSERT INTO deletions (due, sealed) VALUES (?, ?)", rows):
            pass
        await db.commit()


async def due(
    db: aiosqlite.Connection, keys: Keys, until: int, batch: int = 500
) -> AsyncIterator[tuple[list[Pending], list[RowKey]]]:
    """Rows due by `until` in due order, a batch at a time, opened; keys of rows that do not open come second.

    The position moves on from batch to batch, so rows left in place (a failed call) are not read twice in one run.
    """
    after: RowKey = (-(2**62), b"")
    while True:
        async with db.execute(
            "SELECT due, sealed FROM deletions WHERE due <= ? AND (due, sealed) > (?, ?) ORDER BY due, sealed LIMIT ?",
            (until, *after, batch),
        ) as cursor:
            rows = [(int(r[0]), bytes(r[1])) for r in await cursor.fetchall()]
        if not rows:
            return
        after = rows[-1]
        opened, broken = [], []
        for key in rows:
            try:
                chat_id, ids = keys.unseal_deletion(key[1])
            except SealError:
                broken.append(key)
                continue
            opened.append(Pending(key, chat_id, ids))
        yield opened, broken


async def of_chat(db: aiosqlite.Connection, keys: Keys, chat_id: int, batch: int = 500) -> list[Pending]:
    """Every row of one chat, whatever its due time."""
    mine: list[Pending] = []
    async for opened, _ in due(db, keys, 2**62, batch):
        mine += [row for row in opened if row.chat_id == chat_id]
    return mine


async def remove(db: aiosqlite.Connection, keys: list[RowKey]) -> None:
    """Delete rows whose messages are gone (or can never go), and flush the WAL so their bytes leave the disk."""
    if keys:
        async with db.executemany("DELETE FROM deletions WHERE due = ? AND sealed = ?", keys):
            pass
        await checkpoint(db)


async def count(db: aiosqlite.Connection) -> int:
    """How many rows wait: a count only."""
    async with db.execute("SELECT COUNT(*) FROM deletions") as cursor:
        row = await cursor.fetchone()
    return int(row[0]) if row else 0


async def reseal(db: aiosqlite.Connection, old: Keys, new: Keys) -> int:
    """Re-seal every row under new keys inside the caller's transaction (no commit); rows that do not open go."""
    async with db.execute("SELECT due, sealed FROM deletions") as cursor:
        rows = [(int(r[0]), bytes(r[1])) for r in await cursor.fetchall()]
    await db.execute("DELETE FROM deletions")
    moved = []
    for due_at, sealed in rows:
        try:
            chat_id, ids = old.unseal_deletion(sealed)
        except SealError:
            continue
        moved.append((due_at, new.seal_deletion(chat_id, ids)))
    await db.executemany("INSERT INTO deletions (due, sealed) VALUES (?, ?)", moved)
    return len(moved)
