"""storage.backup: online copies, checked restores and the health check, against real SQLite files."""

from __future__ import annotations

import datetime as dt
import os
import sqlite3
import stat
from pathlib import Path

import aiosqlite
import pytest

from storage import backup, subscribers
from storage import migrate as schema
from storage.backup import BackupError, expected_tables
from storage.crypto import Keys
from storage.db import connect
from storage.migrate import Migration, latest_version, migrations
from storage.subscribers import Schedule

KEYS = Keys.from_master(bytes(range(32)))
OTHER_KEYS = Keys.from_master(bytes(32))


async def subscribe(db: aiosqlite.Connection, *chat_ids: int) -> None:
    for chat_id in chat_ids:
        await subscribers.save(db, KEYS, chat_id, Schedule(1, "daily", None, 9), "ru", dt.datetime.now(dt.UTC))


def opens_with(keys: Keys) -> backup.KeyCheck:
    return lambda db: subscribers.key_opens(db, keys)


def one_more_migration(monkeypatch: pytest.MonkeyPatch) -> int:
    """Pretend this code ships a migration the databases here have not had yet; its version."""
    shipped = migrations()
    future = Migration(shipped[-1].version + 1, "9999_future.sql", "CREATE TABLE future (x INTEGER);\n")
    monkeypatch.setattr(schema, "migrations", lambda: [*shipped, future])
    return future.version


def test_expected_tables_follow_the_migrations() -> None:
    assert expected_tables(0) == set()
    assert {"items", "revisions", "prefs"} <= expected_tables(1)
    assert "subscribers" not in expected_tables(1)
    assert {"items", "subscribers", "usage"} <= expected_tables(latest_version())


async def test_backup_is_a_private_wal_copy_of_everything(loaded_db: aiosqlite.Connection, db_path: Path) -> None:
    await subscribe(loaded_db, 5550001, 5550002)
    dest = tmp = db_path.parent / "b" / "copy.sqlite3"
    summary = await backup.backup(db_path, dest)
    assert summary == backup.Summary(latest_version(), summary.items, 2)
    assert summary.items > 0
    assert stat.S_IMODE(dest.stat().st_mode) == 0o600
    assert stat.S_IMODE(dest.parent.stat().st_mode) == 0o700
    assert sorted(p.name for p in tmp.parent.iterdir()) == ["copy.sqlite3"], "temporary files left behind"
    copy = sqlite3.connect(dest)
    try:
        assert copy.execute("PRAGMA journal_mode").fetchone() == ("wal",)
        assert copy.execute("SELECT COUNT(*) FROM subscribers").fetchone() == (2,)
    finally:
        copy.close()


async def test_backup_sees_what_the_open_connection_committed(db: aiosqlite.Connection, db_path: Path) -> None:
    await subscribe(db, 5550003)  # committed, still in the WAL of the open connection
    assert (await backup.backup(db_path, db_path.with_name("c.sqlite3"))).subscribers == 1


async def test_backup_refuses_to_replace_a_file_unless_forced(db: aiosqlite.Connection, db_path: Path) -> None:
    dest = db_path.with_name("exists.sqlite3")
    dest.write_bytes(b"precious")
    with pytest.raises(BackupError, match=r"exists\.sqlite3: already exists: choose another name, or add --force"):
        await backup.backup(db_path, dest)
    assert dest.read_bytes() == b"precious"
    await backup.backup(db_path, dest, force=True)
    assert (await backup.inspect(dest)).version == latest_version()


async def test_backup_of_a_folder_or_a_missing_database(db: aiosqlite.Connection, db_path: Path) -> None:
    with pytest.raises(BackupError, match="is a folder"):
        await backup.backup(db_path, db_path.parent)
    with pytest.raises(BackupError, match=r"nothing\.sqlite3: no database there"):
        await backup.backup(db_path.with_name("nothing.sqlite3"), db_path.with_name("x.sqlite3"))
    assert not db_path.with_name("nothing.sqlite3").exists()


async def test_inspect_knows_a_tropa_database(tmp_path: Path) -> None:
    junk = tmp_path / "junk.sqlite3"
    junk.write_bytes(b"not a database " * 100)
    with pytest.raises(BackupError, match=r"junk\.sqlite3: not a SQLite database"):
        await backup.inspect(junk)
    other = tmp_path / "other.sqlite3"
    with sqlite3.connect(other) as plain:
        plain.execute("CREATE TABLE notes (x TEXT)")
        plain.execute("PRAGMA user_version = 1")
    with pytest.raises(BackupError, match=r"other\.sqlite3: not a Tropa database"):
        await backup.inspect(other)
    empty = tmp_path / "empty.sqlite3"
    sqlite3.connect(empty).close()
    with pytest.raises(BackupError, match="not a Tropa database"):
        await backup.inspect(empty)


async def test_inspect_refuses_a_schema_newer_than_this_code(db: aiosqlite.Connection, db_path: Path) -> None:
    await db.execute(f"PRAGMA user_version = {latest_version() + 1}")
    await db.commit()
    with pytest.raises(BackupError, match=r"is newer than this Tropa knows \(\d+\): upgrade Tropa first"):
        await backup.inspect(db_path)


async def test_health(db: aiosqlite.Connection, db_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    await subscribe(db, 5550004)
    assert (await backup.health(db_path, opens_with(KEYS))).subscribers == 1
    with pytest.raises(BackupError, match="TROPA_SECRET_KEY does not open what is sealed in it"):
        await backup.health(db_path, opens_with(OTHER_KEYS))
    with pytest.raises(BackupError, match="no database there"):
        await backup.health(db_path.with_name("gone.sqlite3"))
    future = one_more_migration(monkeypatch)
    with pytest.raises(
        BackupError, match=rf"schema version {future - 1}, this Tropa expects {future}: run `tropa migrate`"
    ):
        await backup.health(db_path)


async def test_restore_into_a_new_path_brings_the_schema_up_to_date(
    db: aiosqlite.Connection, db_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    await subscribe(db, 5550005, 5550006)
    copy = db_path.with_name("copy.sqlite3")
    await backup.backup(db_path, copy)
    future = one_more_migration(monkeypatch)
    target = db_path.parent / "new" / "tropa.sqlite3"
    summary, applied = await backup.restore(copy, target, key_opens=opens_with(KEYS))
    assert summary.subscribers == 2
    assert applied == ["9999_future.sql"]
    assert (await backup.health(target, opens_with(KEYS))).version == future
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert sorted(p.name for p in target.parent.iterdir()) == ["tropa.sqlite3"]


async def test_restore_refuses_the_wrong_key_and_changes_nothing(db: aiosqlite.Connection, db_path: Path) -> None:
    await subscribe(db, 5550007)
    copy = db_path.with_name("copy.sqlite3")
    await backup.backup(db_path, copy)
    target = db_path.with_name("target.sqlite3")
    with pytest.raises(
        BackupError, match="TROPA_SECRET_KEY does not open what is sealed in it: set the key that was in use"
    ):
        await backup.restore(copy, target, key_opens=opens_with(OTHER_KEYS))
    assert not target.exists()


async def test_restore_replaces_a_database_only_when_forced_and_unused(db: aiosqlite.Connection, db_path: Path) -> None:
    await subscribe(db, 5550008)
    copy = db_path.with_name("copy.sqlite3")
    await backup.backup(db_path, copy)
    with pytest.raises(BackupError, match="a running bot has this database open: stop the bot first"):
        await backup.restore(copy, db_path, force=True)
    await db.close()
    with pytest.raises(BackupError, match=r"already exists: back it up first \(tropa backup\) and add --force"):
        await backup.restore(copy, db_path)
    # A newer subscriber in the live database, then the restore puts the backup's state back.
    live = await connect(db_path)
    try:
        await subscribe(live, 5550009)
    finally:
        await live.close()
    await backup.restore(copy, db_path, force=True)
    assert (await backup.inspect(db_path)).subscribers == 1
    assert not db_path.with_name(db_path.name + "-wal").exists()


async def test_restore_refuses_what_is_not_a_tropa_database(db_path: Path, tmp_path: Path) -> None:
    junk = tmp_path / "junk"
    junk.write_text("hello")
    with pytest.raises(BackupError, match="not a SQLite database"):
        await backup.restore(junk, db_path)
    assert os.listdir(tmp_path) == ["junk"]


async def test_in_use(db: aiosqlite.Connection, db_path: Path) -> None:
    assert await backup.in_use(db_path)
    await db.close()
    assert not await backup.in_use(db_path)


async def test_a_backup_from_an_older_schema_is_upgraded_before_the_key_is_tried(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    shipped = migrations()
    monkeypatch.setattr(schema, "migrations", lambda: shipped[:-1])
    old_path = tmp_path / "old.sqlite3"
    old = await connect(old_path)
    try:
        await schema.migrate(old)
        await subscribe(old, 5550010)
    finally:
        await old.close()
    monkeypatch.setattr(schema, "migrations", lambda: shipped)
    target = tmp_path / "now.sqlite3"
    summary, applied = await backup.restore(old_path, target, key_opens=opens_with(KEYS))
    assert summary.version == shipped[-2].version
    assert applied == [shipped[-1].name]
    assert (await backup.health(target, opens_with(KEYS))).subscribers == 1
