"""Storage fixtures: a real SQLite file in a temp dir, migrated, closed after every test."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import aiosqlite
import pytest

from storage import content
from storage.content_files import ContentItem
from storage.db import connect
from storage.migrate import migrate
from tests.helpers import fixture_items


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "tropa.sqlite3"


@pytest.fixture
async def raw_db(db_path: Path) -> AsyncIterator[aiosqlite.Connection]:
    """A connection with no schema."""
    db = await connect(db_path)
    try:
        yield db
    finally:
        await db.close()


@pytest.fixture
async def db(raw_db: aiosqlite.Connection) -> aiosqlite.Connection:
    """A connection at the latest schema, with no content."""
    await migrate(raw_db)
    return raw_db


@pytest.fixture
def items() -> list[ContentItem]:
    return fixture_items()


@pytest.fixture
async def loaded_db(db: aiosqlite.Connection, items: list[ContentItem]) -> aiosqlite.Connection:
    """The fixture content imported and published."""
    await content.import_items(db, items)
    return db
