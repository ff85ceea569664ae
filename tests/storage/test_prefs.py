"""storage.prefs: a language choice under an HMAC lookup key, and forgetting it for good."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import aiosqlite
import pytest

from storage import prefs
from storage.crypto import Keys
from storage.db import connect
from tests.helpers import on_disk

CHAT_ID = 987654321
KEYS = Keys.from_master(bytes(range(32)))
LOOKUP = KEYS.lookup(CHAT_ID)


async def test_no_choice_by_default(db: aiosqlite.Connection) -> None:
    assert await prefs.get_lang(db, LOOKUP) is None


async def test_set_and_get(db: aiosqlite.Connection) -> None:
    await prefs.set_lang(db, LOOKUP, "ru")
    assert await prefs.get_lang(db, LOOKUP) == "ru"
    assert await prefs.get_lang(db, KEYS.lookup(CHAT_ID + 1)) is None


async def test_set_again_overwrites(db: aiosqlite.Connection) -> None:
    await prefs.set_lang(db, LOOKUP, "ru")
    await prefs.set_lang(db, LOOKUP, "en")
    assert await prefs.get_lang(db, LOOKUP) == "en"
    async with db.execute("SELECT COUNT(*) FROM prefs") as cursor:
        row = await cursor.fetchone()
    assert row is not None
    assert row[0] == 1


async def test_choice_survives_a_restart(db: aiosqlite.Connection, db_path: Path) -> None:
    await prefs.set_lang(db, LOOKUP, "ru")
    other = await connect(db_path)
    try:
        assert await prefs.get_lang(other, LOOKUP) == "ru"
    finally:
        await other.close()


async def test_only_known_languages_are_stored(db: aiosqlite.Connection) -> None:
    with pytest.raises(sqlite3.IntegrityError):
        await prefs.set_lang(db, LOOKUP, "de")
    await db.rollback()
    assert await prefs.get_lang(db, LOOKUP) is None


async def test_forget(db: aiosqlite.Connection) -> None:
    await prefs.set_lang(db, LOOKUP, "ru")
    assert await prefs.forget(db, LOOKUP) is True
    assert await prefs.get_lang(db, LOOKUP) is None
    assert await prefs.forget(db, LOOKUP) is False


async def test_forget_leaves_others_alone(db: aiosqlite.Connection) -> None:
    other = KEYS.lookup(CHAT_ID + 1)
    await prefs.set_lang(db, LOOKUP, "ru")
    await prefs.set_lang(db, other, "en")
    await prefs.forget(db, LOOKUP)
    assert await prefs.get_lang(db, other) == "en"


async def test_the_chat_id_is_never_on_disk(db: aiosqlite.Connection, db_path: Path) -> None:
    await prefs.set_lang(db, LOOKUP, "ru")
    await db.close()  # flush everything to the files
    data = on_disk(db_path)
    assert LOOKUP in data
    assert str(CHAT_ID).encode("ascii") not in data
    assert CHAT_ID.to_bytes(8, "little") not in data
    assert CHAT_ID.to_bytes(8, "big") not in data


async def test_forgotten_lookup_leaves_the_disk(db: aiosqlite.Connection, db_path: Path) -> None:
    await prefs.set_lang(db, LOOKUP, "ru")
    assert LOOKUP in on_disk(db_path)
    await prefs.forget(db, LOOKUP)
    assert LOOKUP not in on_disk(db_path)


async def test_prefs_table_has_no_room_for_anything_else(db: aiosqlite.Connection) -> None:
    async with db.execute("SELECT name FROM pragma_table_info('prefs')") as cursor:
        columns = [str(row[0]) for row in await cursor.fetchall()]
    assert columns == ["lookup", "lang"]
