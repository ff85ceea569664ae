"""storage.prefs: language and disappearing-messages choices under an HMAC lookup key, and forgetting them for good."""

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
    assert await prefs.forget(db, LOOKUP) == prefs.Forgotten(lang=True, disappear=False)
    assert await prefs.get_lang(db, LOOKUP) is None
    assert await prefs.forget(db, LOOKUP) == prefs.Forgotten(lang=False, disappear=False)


async def test_disappearing_choice_without_a_language(db: aiosqlite.Connection) -> None:
    assert await prefs.get_disappear(db, LOOKUP) == 0
    await prefs.set_disappear(db, LOOKUP, 3600)
    assert await prefs.get_disappear(db, LOOKUP) == 3600
    assert await prefs.get_lang(db, LOOKUP) is None
    await prefs.set_lang(db, LOOKUP, "en")
    await prefs.set_disappear(db, LOOKUP, 86400)
    assert (await prefs.get_lang(db, LOOKUP), await prefs.get_disappear(db, LOOKUP)) == ("en", 86400)
    assert await prefs.disappearing_chats(db) == {LOOKUP: 86400}


async def test_turning_disappearing_off_keeps_the_language_and_nothing_else(db: aiosqlite.Connection) -> None:
    other = KEYS.lookup(CHAT_ID + 1)
    await prefs.set_disappear(db, LOOKUP, 3600)
    await prefs.set_lang(db, other, "ru")
    await prefs.set_disappear(db, other, 3600)
    await prefs.set_disappear(db, LOOKUP, 0)
    await prefs.set_disappear(db, other, 0)
    async with db.execute("SELECT lookup, lang, disappear FROM prefs") as cursor:
        rows = [tuple(row) for row in await cursor.fetchall()]
    assert rows == [(other, "ru", 0)]  # no empty row is kept for the first chat
    assert await prefs.disappearing_chats(db) == {}


async def test_forget_says_which_choices_there_were(db: aiosqlite.Connection) -> None:
    await prefs.set_disappear(db, LOOKUP, 86400)
    assert await prefs.forget(db, LOOKUP) == prefs.Forgotten(lang=False, disappear=True)
    await prefs.set_lang(db, LOOKUP, "ru")
    await prefs.set_disappear(db, LOOKUP, 3600)
    assert await prefs.forget(db, LOOKUP) == prefs.Forgotten(lang=True, disappear=True)


async def test_only_the_offered_durations_are_stored(db: aiosqlite.Connection) -> None:
    with pytest.raises(ValueError, match="one of"):
        await prefs.set_disappear(db, LOOKUP, 60)
    with pytest.raises(sqlite3.IntegrityError):
        await db.execute("INSERT INTO prefs (lookup, disappear) VALUES (?, 60)", (LOOKUP,))
    with pytest.raises(sqlite3.IntegrityError):  # a row that holds no choice at all
        await db.execute("INSERT INTO prefs (lookup) VALUES (?)", (LOOKUP,))
    await db.rollback()


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
    assert columns == ["lookup", "lang", "disappear"]
