"""Content queries: import from files, list and read published items, keep the search index current."""

from __future__ import annotations

import datetime as dt
import json
import time
from dataclasses import dataclass, field

import aiosqlite

from storage.content_files import ContentItem, from_stored
from storage.search import stems


@dataclass(frozen=True)
class Listed:
    """One row of a section list."""

    slug: str
    title: str
    summary: str


@dataclass
class ImportReport:
    """What an import did, item by item."""

    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)  # database edits newer than the file: left alone

    @property
    def changed(self) -> bool:
        return bool(self.added or self.updated)


def now() -> str:
    """UTC time of a content change, to the second."""
    return dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat()


async def has_content(db: aiosqlite.Connection) -> bool:
    """True once any item is published."""
    async with db.execute("SELECT 1 FROM items WHERE published_revision IS NOT NULL LIMIT 1") as cursor:
        return await cursor.fetchone() is not None


async def import_items(
    db: aiosqlite.Connection, items: list[ContentItem], *, force: bool = False, author: str = "import"
) -> ImportReport:
    """Load files into the database in one transaction; a file never overwrites a newer database edit unless forced.

    The rule: each revision remembers where it came from. If an item's latest revision came from a file and the
    file changed, the file becomes a new published revision. If the latest revision is an admin's edit, the file is
    older than the database and is skipped (reported as kept) unless force is given.
    """
    report = ImportReport()
    await db.commit()
    await db.execute("BEGIN IMMEDIATE")
    try:
        for item in items:
            name = f"{item.section}/{item.slug}/{item.lang}"
            digest = item.digest()
            latest = await _latest(db, item)
            if latest is None:
                report.added.append(name)
            elif latest["file_hash"] == digest and latest["revision"] == latest["published_revision"]:
                report.unchanged.append(name)
                continue
            elif latest["origin"] == "admin" and not force:
                report.kept.append(name)
                continue
            else:
                report.updated.append(name)
            await add_revision(db, item, origin="file", author=author, file_hash=digest, publish=True)
        await db.commit()
    except BaseException:
        await db.rollback()
        raise
    return report


async def _latest(db: aiosqlite.Connection, item: ContentItem) -> aiosqlite.Row | None:
    sql = """
        SELECT items.id, items.published_revision, rev.revision, rev.origin, rev.file_hash
        FROM items JOIN revisions AS rev ON rev.item_id = items.id
        WHERE items.slug = ? AND items.lang = ?
        ORDER BY rev.revision DESC LIMIT 1
    """
    async with db.execute(sql, (item.slug, item.lang)) as cursor:
        return await cursor.fetchone()


async def add_revision(
    db: aiosqlite.Connection,
    item: ContentItem,
    *,
    origin: str,
    author: str,
    file_hash: str | None = None,
    publish: bool = False,
) -> int:
    """Store a new revision of one item (creating the item if needed); publish it if asked. No commit."""
    # A slug that moved to another section keeps its history: the item row moves with it.
    await db.execute(
        "UPDATE items SET section = ? WHERE slug = ? AND lang = ? AND section != ?", (*item.key, item.section)
    )
    await db.execute(
        "INSERT INTO items (section, slug, lang) VALUES (?, ?, ?) ON CONFLICT (section, slug, lang) DO NOTHING",
        item.key,
    )
    async with db.execute("SELECT id FROM items WHERE section = ? AND slug = ? AND lang = ?", item.key) as cursor:
        row = await cursor.fetchone()
    assert row is not None
    item_id = int(row[0])
    async with db.execute(
        "SELECT COALESCE(MAX(revision), 0) + 1 FROM revisions WHERE item_id = ?", (item_id,)
    ) as cursor:
        rev_row = await cursor.fetchone()
    revision = int(rev_row[0]) if rev_row else 1
    await db.execute(
        "INSERT INTO revisions (item_id, revision, title, summary, body, meta, origin, author, file_hash, created_at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            item_id,
            revision,
            item.meta.title,
            item.meta.summary,
            item.body,
            item.meta.model_dump_json(),
            origin,
            author,
            file_hash,
            now(),
        ),
    )
    if publish:
        await publish_revision(db, item_id, revision)
    return revision


async def publish_revision(db: aiosqlite.Connection, item_id: int, revision: int) -> None:
    """Make a revision the live one and index it. No commit."""
    await db.execute(
        "UPDATE items SET published_revision = ?, published_at = ? WHERE id = ?", (revision, int(time.time()), item_id)
    )
    async with db.execute(
        "SELECT title, summary, body, meta FROM revisions WHERE item_id = ? AND revision = ?", (item_id, revision)
    ) as cursor:
        row = await cursor.fetchone()
    assert row is not None
    tags = " ".join(json.loads(row["meta"]).get("tags", []))
    await db.execute("DELETE FROM search WHERE rowid = ?", (item_id,))
    await db.execute(
        "INSERT INTO search (rowid, title, summary, tags, body) VALUES (?, ?, ?, ?, ?)",
        (item_id, stems(row["title"]), stems(row["summary"]), stems(tags), stems(row["body"])),
    )


async def list_section(db: aiosqlite.Connection, section: str, lang: str) -> list[Listed]:
    """Published items of a section in one language, in alphabetical order."""
    sql = """
        SELECT items.slug, rev.title, rev.summary FROM items
        JOIN revisions AS rev ON rev.item_id = items.id AND rev.revision = items.published_revision
        WHERE items.section = ? AND items.lang = ?
    """
    async with db.execute(sql, (section, lang)) as cursor:
        rows = await cursor.fetchall()
    listed = [Listed(r[0], r[1], r[2]) for r in rows]
    return sorted(listed, key=lambda x: (*display_key(x.title, lang), x.slug))


def display_key(title: str, lang: str) -> tuple[int, str]:
    """Alphabetical, ignoring quotes and case, with titles in the reader's script first."""
    text = title.casefold().replace("ё", "е").lstrip("«»\"'“”„ (")
    cyrillic = bool(text) and "а" <= text[0] <= "я"
    return (0 if cyrillic == (lang == "ru") else 1, text)


async def get_published(db: aiosqlite.Connection, section: str, slug: str, lang: str) -> ContentItem | None:
    """The live revision of one item, or None."""
    sql = """
        SELECT rev.meta, rev.body FROM items
        JOIN revisions AS rev ON rev.item_id = items.id AND rev.revision = items.published_revision
        WHERE items.section = ? AND items.slug = ? AND items.lang = ?
    """
    async with db.execute(sql, (section, slug, lang)) as cursor:
        row = await cursor.fetchone()
    return from_stored(section, slug, lang, row[0], row[1]) if row else None


async def section_of(db: aiosqlite.Connection, slug: str) -> str | None:
    """The section a published slug belongs to."""
    async with db.execute(
        "SELECT section FROM items WHERE slug = ? AND published_revision IS NOT NULL LIMIT 1", (slug,)
    ) as cursor:
        row = await cursor.fetchone()
    return str(row[0]) if row else None


async def titles(db: aiosqlite.Connection, slugs: list[str], lang: str) -> dict[str, tuple[str, str]]:
    """Section and title of each published slug in `lang` (missing ones are left out)."""
    if not slugs:
        return {}
    marks = ",".join("?" * len(slugs))
    sql = f"""
        SELECT items.slug, items.section, rev.title FROM items
        JOIN revisions AS rev ON rev.item_id = items.id AND rev.revision = items.published_revision
        WHERE items.lang = ? AND items.slug IN ({marks})
    """
    async with db.execute(sql, (lang, *slugs)) as cursor:
        rows = await cursor.fetchall()
    return {r[0]: (r[1], r[2]) for r in rows}


@dataclass(frozen=True)
class Fresh:
    """An item published or changed since some moment, for a digest."""

    section: str
    slug: str
    title: str
    summary: str
    published_at: int


async def published_since(db: aiosqlite.Connection, since: int, until: int, lang: str) -> list[Fresh]:
    """Items in lang whose live revision was published in (since, until], newest first."""
    sql = """
        SELECT items.section, items.slug, rev.title, rev.summary, items.published_at FROM items
        JOIN revisions AS rev ON rev.item_id = items.id AND rev.revision = items.published_revision
        WHERE items.lang = ? AND items.published_at > ? AND items.published_at <= ?
        ORDER BY items.published_at DESC, items.slug
    """
    async with db.execute(sql, (lang, since, until)) as cursor:
        rows = await cursor.fetchall()
    return [Fresh(r[0], r[1], r[2], r[3], r[4]) for r in rows]
