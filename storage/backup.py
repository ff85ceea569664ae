"""Consistent copies of the database file while the bot runs, checked restores, and the health check.

Copies are made with SQLite's online backup API in one step: one read snapshot, so a bot writing meanwhile neither
waits nor makes the copy restart. Every file written here is 0600 from its first byte and appears under its name
only once complete (written beside it, then renamed), so a crash never leaves half a database where one is expected.
"""

from __future__ import annotations

import os
import secrets
import sqlite3
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import aiosqlite

from storage import migrate as schema
from storage.db import connect

KeyCheck = Callable[[aiosqlite.Connection], Awaitable[bool]]  # does the key open this database's subscribers?


class BackupError(Exception):
    """One line for the operator: what is wrong with which file, and what to do."""


@dataclass(frozen=True)
class Summary:
    """What a database holds, in counts only."""

    version: int
    items: int
    subscribers: int


def expected_tables(version: int) -> set[str]:
    """The tables a database at this schema version has, derived from the migrations that ship."""
    db = sqlite3.connect(":memory:")
    try:
        for migration in schema.migrations():
            if migration.version <= version:
                for statement in schema.split_statements(migration.sql):
                    db.execute(statement)
        return {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    finally:
        db.close()


@asynccontextmanager
async def existing(path: Path) -> AsyncIterator[aiosqlite.Connection]:
    """A connection to a database file that must already exist (connect() would create one)."""
    require_file(path)
    db = await aiosqlite.connect(str(path))
    try:
        await db.execute("PRAGMA busy_timeout=5000")
        yield db
    finally:
        await db.close()


async def inspect(path: Path) -> Summary:
    """Check that a file is an intact Tropa database of a schema version this code knows; count what it holds."""
    async with existing(path) as db:
        return await check(db, path)


async def check(db: aiosqlite.Connection, path: Path) -> Summary:
    """inspect() on an open connection."""
    try:
        version, latest = await schema.current_version(db), schema.latest_version()
        async with db.execute("SELECT name FROM sqlite_master WHERE type = 'table'") as cursor:
            tables = {row[0] for row in await cursor.fetchall()}
        async with db.execute("PRAGMA quick_check") as cursor:
            verdict = [row[0] for row in await cursor.fetchall()]
        items = await count(db, "SELECT COUNT(*) FROM items") if "items" in tables else 0
        subscribed = await count(db, "SELECT COUNT(*) FROM subscribers") if "subscribers" in tables else 0
    except sqlite3.DatabaseError as exc:
        raise BackupError(f"{path}: not a SQLite database ({exc})") from None
    if version > latest:
        raise BackupError(
            f"{path}: schema version {version} is newer than this Tropa knows ({latest}): upgrade Tropa first"
        )
    if version < 1 or not expected_tables(version) <= tables:
        raise BackupError(f"{path}: not a Tropa database")
    if verdict != ["ok"]:
        raise BackupError(f"{path}: the database is damaged (SQLite's integrity check failed)")
    return Summary(version, items, subscribed)


async def count(db: aiosqlite.Connection, sql: str) -> int:
    async with db.execute(sql) as cursor:
        row = await cursor.fetchone()
    return int(row[0]) if row else 0


async def health(path: Path, key_opens: KeyCheck | None = None) -> Summary:
    """The database opens, is intact, its schema is current and (if given) the key opens its subscribers."""
    async with existing(path) as db:
        summary = await check(db, path)
        latest = schema.latest_version()
        if summary.version != latest:
            raise BackupError(
                f"{path}: schema version {summary.version}, this Tropa expects {latest}: run `tropa migrate`"
            )
        if key_opens is not None and not await key_opens(db):
            raise BackupError(
                f"{path}: TROPA_SECRET_KEY does not open what is sealed in it: set the key it was sealed with"
            )
    return summary


async def backup(db_path: Path, dest: Path, *, force: bool = False) -> Summary:
    """Copy the live database to dest (0600, WAL like the original); refuse to replace a file unless force."""
    async with existing(db_path) as source:
        summary = await check(source, db_path)
        refuse_existing(dest, force, "choose another name, or add --force to replace it")
        await write_copy(source, dest, force=force)
    return summary


async def restore(
    backup_path: Path,
    db_path: Path,
    *,
    force: bool = False,
    key_opens: KeyCheck | None = None,
) -> tuple[Summary, list[str]]:
    """Put a checked backup in place of db_path, migrated to the current schema; the bot must be stopped.

    Returns what the backup holds and the migrations applied to it on the way.
    """
    async with existing(backup_path) as source:
        summary = await check(source, backup_path)
        if is_file(db_path):
            if await in_use(db_path):
                raise BackupError(f"{db_path}: a running bot has this database open: stop the bot first, then restore")
            refuse_existing(db_path, force, "back it up first (tropa backup) and add --force to replace it")
        applied = await write_copy(source, db_path, force=True, upgrade=True, key_opens=key_opens, origin=backup_path)
    return summary, applied


def require_file(path: Path) -> None:
    if not path.is_file():
        raise BackupError(f"{path}: no database there")


def is_file(path: Path) -> bool:
    return path.is_file()


def refuse_existing(path: Path, force: bool, advice: str) -> None:
    if path.is_dir():
        raise BackupError(f"{path}: is a folder: name the file to write")
    if path.exists() and not force:
        raise BackupError(f"{path}: already exists: {advice}")


async def in_use(path: Path) -> bool:
    """Whether another connection has the database open: in WAL mode each holds a shared lock while open."""
    db = await aiosqlite.connect(str(path), timeout=0, isolation_level=None)
    try:
        await db.execute("PRAGMA locking_mode=EXCLUSIVE")
        await db.execute("BEGIN EXCLUSIVE")
        await db.execute("ROLLBACK")
    except sqlite3.OperationalError as exc:
        return "locked" in str(exc)
    except sqlite3.DatabaseError:
        return False  # not a database at all: nobody can be using it as one
    finally:
        await db.close()  # the last connection out folds the WAL back, leaving one file
    return False


async def write_copy(
    source: aiosqlite.Connection,
    dest: Path,
    *,
    force: bool,
    upgrade: bool = False,
    key_opens: KeyCheck | None = None,
    origin: Path | None = None,
) -> list[str]:
    """Back source up into a 0600 file beside dest, optionally migrate it and try the key on it, then move it in.

    The key is tried on the migrated copy: what it must open is what the current schema seals.
    """
    dest.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    temp = dest.with_name(f".{dest.name}.{secrets.token_hex(4)}.partial")
    os.close(os.open(temp, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
    applied: list[str] = []
    try:
        # A bare connection takes the pages as they are: the header keeps the original's WAL mode and page size.
        raw = await aiosqlite.connect(str(temp))
        try:
            await source.backup(raw, pages=-1)
        finally:
            await raw.close()
        copy = await connect(temp)  # WAL and secure_delete, as every connection to a Tropa database
        try:
            if upgrade:
                applied = await schema.migrate(copy)
            await check(copy, dest)
            if key_opens is not None and not await key_opens(copy):
                raise BackupError(
                    f"{origin or dest}: TROPA_SECRET_KEY does not open what is sealed in it: set the key that "
                    "was in use when the backup was made"
                )
        finally:
            await copy.close()
        put_in_place(temp, dest, force=force)
    finally:
        for leftover in (temp, temp.with_name(temp.name + "-wal"), temp.with_name(temp.name + "-shm")):
            leftover.unlink(missing_ok=True)
    return applied


def put_in_place(temp: Path, dest: Path, *, force: bool) -> None:
    """Make the finished copy durable and give it dest's name (replacing a file there only if force)."""
    with open(temp, "rb") as handle:
        os.fsync(handle.fileno())
    if force:
        for stale in (dest.with_name(dest.name + "-wal"), dest.with_name(dest.name + "-shm")):
            stale.unlink(missing_ok=True)  # a WAL left beside the old file would be replayed into the new one
        os.replace(temp, dest)
    else:
        try:
            os.link(temp, dest)  # fails if dest appeared meanwhile, where a rename would overwrite it
        except FileExistsError:
            raise BackupError(f"{dest}: already exists: choose another name, or add --force to replace it") from None
        temp.unlink()
    directory = os.open(dest.parent, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)
