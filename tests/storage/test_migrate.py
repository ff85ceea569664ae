"""storage.migrate: versions above user_version, one transaction each, statements split correctly."""

from __future__ import annotations

import sqlite3

import aiosqlite
import pytest

from storage import migrate as migrate_module
from storage.migrate import (
    NAME_RE,
    Migration,
    current_version,
    latest_version,
    migrate,
    migrations,
    split_statements,
)


async def tables(db: aiosqlite.Connection) -> set[str]:
    async with db.execute("SELECT name FROM sqlite_master WHERE type IN ('table', 'trigger')") as cursor:
        return {str(row[0]) for row in await cursor.fetchall()}


def use_migrations(monkeypatch: pytest.MonkeyPatch, *found: Migration) -> None:
    monkeypatch.setattr(migrate_module, "migrations", lambda: list(found))


ONE = Migration(1, "0001_one.sql", "CREATE TABLE one (x INTEGER);\nINSERT INTO one VALUES (1);\n")
TWO = Migration(2, "0002_two.sql", "CREATE TABLE two (y INTEGER);\n")


def test_bundled_migrations_are_numbered_from_one_without_gaps() -> None:
    found = migrations()
    assert [m.version for m in found] == list(range(1, len(found) + 1))
    assert all(NAME_RE.match(m.name) for m in found)
    assert latest_version() == len(found)


async def test_fresh_database_gets_every_migration(raw_db: aiosqlite.Connection) -> None:
    applied = await migrate(raw_db)
    assert applied == [m.name for m in migrations()]
    assert await current_version(raw_db) == latest_version()
    assert {"items", "revisions", "search", "search_vocab", "prefs"} <= await tables(raw_db)


async def test_second_run_is_a_no_op(raw_db: aiosqlite.Connection) -> None:
    await migrate(raw_db)
    before = await tables(raw_db)
    assert await migrate(raw_db) == []
    assert await tables(raw_db) == before
    assert await current_version(raw_db) == latest_version()


async def test_only_migrations_above_user_version_run(
    raw_db: aiosqlite.Connection, monkeypatch: pytest.MonkeyPatch
) -> None:
    use_migrations(monkeypatch, ONE, TWO)
    await raw_db.execute("PRAGMA user_version = 1")
    await raw_db.commit()
    assert await migrate(raw_db) == ["0002_two.sql"]
    assert "one" not in await tables(raw_db)
    assert "two" in await tables(raw_db)
    assert await current_version(raw_db) == 2


async def test_migrations_run_in_version_order(raw_db: aiosqlite.Connection, monkeypatch: pytest.MonkeyPatch) -> None:
    # migrations() sorts what it finds; migrate trusts that order, so check the bundled sort too.
    assert [m.version for m in migrations()] == sorted(m.version for m in migrations())
    use_migrations(monkeypatch, ONE, TWO)
    assert await migrate(raw_db) == ["0001_one.sql", "0002_two.sql"]


async def test_a_failing_migration_leaves_nothing_half_applied(
    raw_db: aiosqlite.Connection, monkeypatch: pytest.MonkeyPatch
) -> None:
    broken = Migration(
        2,
        "0002_broken.sql",
        "CREATE TABLE two (y INTEGER);\nINSERT INTO one VALUES (2);\nINSERT INTO missing VALUES (1);\n",
    )
    use_migrations(monkeypatch, ONE, broken)
    with pytest.raises(sqlite3.OperationalError, match="missing"):
        await migrate(raw_db)

    assert await current_version(raw_db) == 1
    assert "two" not in await tables(raw_db)
    async with raw_db.execute("SELECT x FROM one") as cursor:
        assert [row[0] for row in await cursor.fetchall()] == [1]

    # Once fixed, the same database takes the migration from where it stopped.
    use_migrations(monkeypatch, ONE, TWO)
    assert await migrate(raw_db) == ["0002_two.sql"]
    assert await current_version(raw_db) == 2


async def test_a_failing_first_migration_leaves_version_zero(
    raw_db: aiosqlite.Connection, monkeypatch: pytest.MonkeyPatch
) -> None:
    use_migrations(monkeypatch, Migration(1, "0001_bad.sql", "CREATE TABLE a (x);\nCREATE TABLE a (x);\n"))
    with pytest.raises(sqlite3.OperationalError):
        await migrate(raw_db)
    assert await current_version(raw_db) == 0
    assert "a" not in await tables(raw_db)


async def test_a_trigger_migration_works_end_to_end(
    raw_db: aiosqlite.Connection, monkeypatch: pytest.MonkeyPatch
) -> None:
    sql = """
-- a log of inserts, kept by a trigger
CREATE TABLE t (x INTEGER);
CREATE TABLE log (x INTEGER, note TEXT);
CREATE TRIGGER t_log AFTER INSERT ON t BEGIN
    INSERT INTO log (x, note) VALUES (new.x, 'a; b');
    UPDATE log SET note = note || ';' WHERE x = new.x;
END;
"""
    use_migrations(monkeypatch, Migration(1, "0001_trigger.sql", sql))
    await migrate(raw_db)
    await raw_db.execute("INSERT INTO t VALUES (5)")
    async with raw_db.execute("SELECT x, note FROM log") as cursor:
        assert [tuple(row) for row in await cursor.fetchall()] == [(5, "a; b;")]


def test_split_keeps_a_trigger_body_in_one_statement() -> None:
    sql = (
        "CREATE TABLE a (x);\n"
        "CREATE TRIGGER t AFTER INSERT ON a BEGIN\n"
        "  INSERT INTO a VALUES (1);\n"
        "  DELETE FROM a WHERE x = 2;\n"
        "END;\n"
        "CREATE TABLE b (y);\n"
    )
    statements = split_statements(sql)
    assert len(statements) == 3
    assert statements[1].startswith("CREATE TRIGGER")
    assert statements[1].endswith("END;")
    assert all(sqlite3.complete_statement(s) for s in statements)


def test_split_skips_leading_comment_lines_and_blank_lines() -> None:
    sql = "-- header; with a semicolon\n\nCREATE TABLE a (x);\n-- between\nCREATE TABLE b (y);\n-- trailing\n"
    assert split_statements(sql) == ["CREATE TABLE a (x);", "CREATE TABLE b (y);"]


def test_split_ignores_semicolons_inside_strings_and_block_comments() -> None:
    sql = "INSERT INTO a VALUES ('one;\ntwo');\n/* a; b */\nCREATE TABLE b (y);\n"
    assert split_statements(sql) == ["INSERT INTO a VALUES ('one;\ntwo');", "/* a; b */\nCREATE TABLE b (y);"]


def test_split_keeps_an_unterminated_last_statement() -> None:
    assert split_statements("CREATE TABLE a (x);\nCREATE TABLE b (y)") == ["CREATE TABLE a (x);", "CREATE TABLE b (y)"]


def test_split_bundled_migrations_into_complete_statements() -> None:
    for migration in migrations():
        statements = split_statements(migration.sql)
        assert statements
        assert all(sqlite3.complete_statement(s) for s in statements), migration.name


def test_split_separates_two_statements_on_one_line() -> None:
    assert split_statements("CREATE TABLE a (x); CREATE TABLE b (y);\n") == [
        "CREATE TABLE a (x);",
        "CREATE TABLE b (y);",
    ]
