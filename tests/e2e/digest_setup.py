"""Shared set-up for digest tests: many subscribers at once, content that is new for all of them."""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path

import aiosqlite

from bot.config import decode_key
from storage import content
from storage.crypto import Keys
from storage.db import connect
from storage.migrate import migrate
from storage.subscribers import ALL_TOPICS
from tests.e2e.conftest import KEY
from tests.emulator import BotApiEmulator
from tests.helpers import fixture_items


async def add_subscribers(db: aiosqlite.Connection, keys: Keys, emu: BotApiEmulator, ids: list[int]) -> None:
    """Subscribe every id (all topics, daily, due now) with something new to get; register their chats."""
    await db.execute("UPDATE items SET published_at = published_at - 7200")
    watermark = int(time.time()) - 3600
    await db.executemany(
        "INSERT INTO subscribers (lookup, sealed, topics, rhythm, weekday, hour, lang, sound, next_due, last_digest)"
        " VALUES (?, ?, ?, 'daily', NULL, 0, ?, 0, 0, ?)",
        [(keys.lookup(i), keys.seal(i), ALL_TOPICS, "ru" if i % 2 else "en", watermark) for i in ids],
    )
    await db.execute(
        "UPDATE items SET published_at = ? WHERE slug IN (SELECT slug FROM items ORDER BY slug LIMIT 1)",
        (int(dt.datetime.now(dt.UTC).timestamp()) - 10,),
    )
    await db.commit()
    for ident in ids:
        emu.state.private_chat(emu.user(user_id=ident, first_name="S"))


def delivered(emu: BotApiEmulator) -> dict[int, int]:
    """Accepted sendMessage calls per chat id."""
    counts: dict[int, int] = {}
    for request in emu.calls("sendMessage"):
        if request.ok:
            chat = int(request.params["chat_id"])
            counts[chat] = counts.get(chat, 0) + 1
    return counts


async def subscribed_database(db_path: Path, emu: BotApiEmulator, ids: list[int]) -> None:
    """A database at db_path with the fixture content and every id subscribed and due (sealed with conftest's KEY)."""
    db = await connect(db_path)
    try:
        await migrate(db)
        await content.import_items(db, fixture_items())
        await add_subscribers(db, Keys.from_master(decode_key(KEY)), emu, ids)
    finally:
        await db.close()
