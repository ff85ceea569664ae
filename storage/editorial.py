"""What admins do to content: drafts with conflict detection, publish and unpublish, history, rollback, delete.

Every change is a revision that records its time and the admin's alias, never a Telegram id. Nothing reaches
readers until a revision is published.
"""

from __future__ import annotations

from dataclasses import dataclass

import aiosqlite

from storage.content import add_revision, publish_revision
from storage.content_files import ContentItem, from_stored


class Conflict(Exception):
    """The item moved on since the admin started editing: their base revision is no longer the latest."""

    def __init__(self, latest: int) -> None:
        super().__init__(f"the latest revision is now {latest}")
        self.latest = latest


@dataclass(frozen=True)
class Revision:
    """One line of an item's history."""

    lang: str
    revision: int
    created_at: str
    author: str
    origin: str
    live: bool


@dataclass(frozen=True)
class Draft:
    """An item and language whose newest revision is not live."""

    section: str
    slug: str
    lang: str
    revision: int
    author: str


async def latest(db: aiosqlite.Connection, slug: str, lang: str) -> tuple[int, ContentItem] | None:
    """The newest revision of one language of an item, published or not."""
    sql = """
        SELECT items.section, rev.revision, rev.meta, rev.body FROM items
        JOIN revisions AS rev ON rev.item_id = items.id
        WHERE items.slug = ? AND items.lang = ? ORDER BY rev.revision DESC LIMIT 1
    """
    async with db.execute(sql, (slug, lang)) as cursor:
        row = await cursor.fetchone()
    if row is None:
        return None
    return int(row[1]), from_stored(row[0], slug, lang, row[2], row[3])


async def save_draft(db: aiosqlite.Connection, item: ContentItem, author: str, base: int | None) -> int:
    """Store an admin's edit as a new, unpublished revision; Conflict if someone saved since `base`.

    base is the revision the admin started from (None for a new item). The live revision stays live.
    """
    await db.commit()
    await db.execute("BEGIN IMMEDIATE")
    try:
        current = await latest(db, item.slug, item.lang)
        current_revision = current[0] if current else None
        if current_revision != base:
            raise Conflict(current_revision or 0)
        revision = await add_revision(db, item, origin="admin", author=author)
        await db.commit()
    except BaseException:
        await db.rollback()
        raise
    return revision


async def publish(db: aiosqlite.Connection, slug: str, langs: tuple[str, ...]) -> list[str]:
    """Make the newest revision of each language live; returns the languages published."""
    done = []
    for lang in langs:
        async with db.execute(
            "SELECT items.id, MAX(rev.revision) FROM items JOIN revisions AS rev ON rev.item_id = items.id"
            " WHERE items.slug = ? AND items.lang = ? GROUP BY items.id",
            (slug, lang),
        ) as cursor:
            row = await cursor.fetchone()
        if row is not None and row[0] is not None:
            await publish_revision(db, int(row[0]), int(row[1]))
            done.append(lang)
    await db.commit()
    return done


async def unpublish(db: aiosqlite.Connection, slug: str) -> int:
    """Take every language of an item off the air (its revisions stay); returns how many were live."""
    async with db.execute("SELECT id FROM items WHERE slug = ? AND published_revision IS NOT NULL", (slug,)) as cursor:
        ids = [int(r[0]) for r in await cursor.fetchall()]
    for item_id in ids:
        await db.execute("UPDATE items SET published_revision = NULL, published_at = NULL WHERE id = ?", (item_id,))
        await db.execute("DELETE FROM search WHERE rowid = ?", (item_id,))
    await db.commit()
    return len(ids)


async def delete(db: aiosqlite.Connection, slug: str) -> int:
    """Delete an item in every language with its whole history; returns how many languages were deleted."""
    async with db.execute("SELECT id FROM items WHERE slug = ?", (slug,)) as cursor:
        ids = [int(r[0]) for r in await cursor.fetchall()]
    for item_id in ids:
        await db.execute("DELETE FROM search WHERE rowid = ?", (item_id,))
    await db.execute("DELETE FROM items WHERE slug = ?", (slug,))
    await db.commit()
    return len(ids)


async def history(db: aiosqlite.Connection, slug: str) -> list[Revision]:
    """Every revision of an item, both languages, newest first."""
    sql = """
        SELECT items.lang, rev.revision, rev.created_at, rev.author, rev.origin,
               rev.revision = items.published_revision AS live
        FROM items JOIN revisions AS rev ON rev.item_id = items.id
        WHERE items.slug = ? ORDER BY rev.created_at DESC, items.lang, rev.revision DESC
    """
    async with db.execute(sql, (slug,)) as cursor:
        rows = await cursor.fetchall()
    return [Revision(r[0], int(r[1]), r[2], r[3], r[4], bool(r[5])) for r in rows]


async def drafts(db: aiosqlite.Connection) -> list[Draft]:
    """Items whose newest revision is not the live one (including items never published)."""
    sql = """
        SELECT items.section, items.slug, items.lang, rev.revision, rev.author FROM items
        JOIN revisions AS rev ON rev.item_id = items.id
        WHERE rev.revision = (SELECT MAX(revision) FROM revisions WHERE item_id = items.id)
          AND (items.published_revision IS NULL OR items.published_revision != rev.revision)
        ORDER BY items.section, items.slug, items.lang
    """
    async with db.execute(sql) as cursor:
        rows = await cursor.fetchall()
    return [Draft(r[0], r[1], r[2], int(r[3]), r[4]) for r in rows]


async def rollback(db: aiosqlite.Connection, slug: str, lang: str, revision: int, author: str) -> int | None:
    """Bring back an old revision as a new live one, so history only grows; None if there is no such revision."""
    sql = """
        SELECT items.section, rev.meta, rev.body FROM items JOIN revisions AS rev ON rev.item_id = items.id
        WHERE items.slug = ? AND items.lang = ? AND rev.revision = ?
    """
    async with db.execute(sql, (slug, lang, revision)) as cursor:
        row = await cursor.fetchone()
    if row is None:
        return None
    item = from_stored(row[0], slug, lang, row[1], row[2])
    await db.commit()
    await db.execute("BEGIN IMMEDIATE")
    try:
        new = await add_revision(db, item, origin="admin", author=author, publish=True)
        await db.commit()
    except BaseException:
        await db.rollback()
        raise
    return new
