"""storage.content: import rules, revisions, listing and reading published items."""

from __future__ import annotations

import sqlite3

import aiosqlite
import pytest

from storage import content
from storage.content import ImportReport, Listed
from storage.content_files import ContentItem
from storage.search import Searcher
from tests.helpers import find, variant

ALL = [
    "conscription/summons/en",
    "conscription/summons/ru",
    "orgs/helpers/en",
    "orgs/helpers/ru",
    "tactics/letters/en",
    "tactics/letters/ru",
    "tactics/stickers/en",
    "tactics/stickers/ru",
]


async def scalar(db: aiosqlite.Connection, sql: str, *args: object) -> object:
    async with db.execute(sql, args) as cursor:
        row = await cursor.fetchone()
    assert row is not None
    return row[0]


async def revisions_of(db: aiosqlite.Connection, item: ContentItem) -> list[tuple[int, str, str]]:
    sql = """
        SELECT rev.revision, rev.origin, rev.author FROM revisions AS rev JOIN items ON items.id = rev.item_id
        WHERE items.section = ? AND items.slug = ? AND items.lang = ? ORDER BY rev.revision
    """
    async with db.execute(sql, item.key) as cursor:
        return [(int(r[0]), str(r[1]), str(r[2])) for r in await cursor.fetchall()]


async def found(db: aiosqlite.Connection, query: str, lang: str = "ru") -> list[str]:
    return [hit.slug for hit in await Searcher(db).search(query, lang)]


# Import


async def test_first_import_adds_and_publishes_everything(db: aiosqlite.Connection, items: list[ContentItem]) -> None:
    assert not await content.has_content(db)
    report = await content.import_items(db, items)
    assert sorted(report.added) == ALL
    assert (report.updated, report.unchanged, report.kept) == ([], [], [])
    assert report.changed
    assert await content.has_content(db)
    assert await scalar(db, "SELECT COUNT(*) FROM items WHERE published_revision = 1") == 8
    assert await scalar(db, "SELECT COUNT(*) FROM revisions WHERE origin = 'file' AND file_hash IS NOT NULL") == 8


async def test_import_is_idempotent(loaded_db: aiosqlite.Connection, items: list[ContentItem]) -> None:
    report = await content.import_items(loaded_db, items)
    assert sorted(report.unchanged) == ALL
    assert (report.added, report.updated, report.kept) == ([], [], [])
    assert not report.changed
    assert await scalar(loaded_db, "SELECT COUNT(*) FROM revisions") == 8


async def test_import_commits(loaded_db: aiosqlite.Connection) -> None:
    assert not loaded_db.in_transaction


async def test_a_changed_file_becomes_a_new_published_revision(
    loaded_db: aiosqlite.Connection, items: list[ContentItem]
) -> None:
    letters = find(items, "tactics", "letters", "ru")
    changed = variant(letters, body="Пишите про огород и рыбалку.", title="Письма в тюрьму")
    report = await content.import_items(loaded_db, [changed])
    assert report.updated == ["tactics/letters/ru"]
    assert await revisions_of(loaded_db, letters) == [(1, "file", "import"), (2, "file", "import")]
    assert await content.get_published(loaded_db, "tactics", "letters", "ru") == changed
    # The search index follows the published revision.
    assert await found(loaded_db, "рыбалка") == ["letters"]
    assert "letters" not in await found(loaded_db, "повседневном")

    again = await content.import_items(loaded_db, [changed])
    assert again.unchanged == ["tactics/letters/ru"]


async def test_an_admin_revision_is_kept_over_a_file(loaded_db: aiosqlite.Connection, items: list[ContentItem]) -> None:
    letters = find(items, "tactics", "letters", "ru")
    edited = variant(letters, body="Правка администратора: пишите открытки.")
    await content.add_revision(loaded_db, edited, origin="admin", author="anna", publish=True)
    await loaded_db.commit()

    for incoming in (letters, variant(letters, body="Новая версия файла.")):
        report = await content.import_items(loaded_db, [incoming])
        assert report.kept == ["tactics/letters/ru"]
        assert not report.changed
        assert await content.get_published(loaded_db, "tactics", "letters", "ru") == edited
    assert await revisions_of(loaded_db, letters) == [(1, "file", "import"), (2, "admin", "anna")]


async def test_force_lets_a_file_replace_an_admin_revision(
    loaded_db: aiosqlite.Connection, items: list[ContentItem]
) -> None:
    letters = find(items, "tactics", "letters", "ru")
    await content.add_revision(loaded_db, variant(letters, body="Правка."), origin="admin", author="anna", publish=True)
    await loaded_db.commit()

    report = await content.import_items(loaded_db, [letters], force=True)
    assert report.updated == ["tactics/letters/ru"]
    assert await content.get_published(loaded_db, "tactics", "letters", "ru") == letters
    assert await revisions_of(loaded_db, letters) == [
        (1, "file", "import"),
        (2, "admin", "anna"),
        (3, "file", "import"),
    ]
    # From then on the file rules again.
    assert (await content.import_items(loaded_db, [letters])).unchanged == ["tactics/letters/ru"]


async def test_an_unpublished_admin_draft_is_not_live(
    loaded_db: aiosqlite.Connection, items: list[ContentItem]
) -> None:
    letters = find(items, "tactics", "letters", "ru")
    revision = await content.add_revision(
        loaded_db, variant(letters, body="Черновик про рыбалку."), origin="admin", author="anna"
    )
    await loaded_db.commit()
    assert revision == 2
    assert await content.get_published(loaded_db, "tactics", "letters", "ru") == letters
    assert await found(loaded_db, "рыбалка") == []
    assert (await content.import_items(loaded_db, [letters])).kept == ["tactics/letters/ru"]


async def test_publish_revision_switches_the_live_text_and_the_index(
    loaded_db: aiosqlite.Connection, items: list[ContentItem]
) -> None:
    letters = find(items, "tactics", "letters", "ru")
    draft = variant(letters, body="Черновик про рыбалку.")
    await content.add_revision(loaded_db, draft, origin="admin", author="anna")
    item_id = await scalar(loaded_db, "SELECT id FROM items WHERE slug = 'letters' AND lang = 'ru'")
    assert isinstance(item_id, int)
    await content.publish_revision(loaded_db, item_id, 2)
    await loaded_db.commit()
    assert await content.get_published(loaded_db, "tactics", "letters", "ru") == draft
    assert await found(loaded_db, "рыбалка") == ["letters"]

    await content.publish_revision(loaded_db, item_id, 1)  # roll back
    await loaded_db.commit()
    assert await content.get_published(loaded_db, "tactics", "letters", "ru") == letters
    assert await found(loaded_db, "рыбалка") == []


async def test_a_failed_import_changes_nothing(db: aiosqlite.Connection, items: list[ContentItem]) -> None:
    letters = find(items, "tactics", "letters", "ru")
    # A language the schema refuses (CHECK constraint): the last item fails, so the whole import must roll back.
    clash = ContentItem(letters.section, letters.slug, "de", letters.meta, letters.body)
    with pytest.raises(sqlite3.IntegrityError):
        await content.import_items(db, [*items, clash])
    assert not await content.has_content(db)
    assert await scalar(db, "SELECT COUNT(*) FROM items") == 0
    assert await scalar(db, "SELECT COUNT(*) FROM revisions") == 0
    assert await found(db, "письмо") == []
    assert not db.in_transaction


async def test_an_item_moved_to_another_section_moves_with_its_history(
    loaded_db: aiosqlite.Connection, items: list[ContentItem]
) -> None:
    moved = variant(find(items, "conscription", "summons", "ru"), slug="letters", body="Перенесено.")
    report = await content.import_items(loaded_db, [moved])
    assert report.updated == ["conscription/letters/ru"]
    assert await content.get_published(loaded_db, "tactics", "letters", "ru") is None
    assert await content.get_published(loaded_db, "conscription", "letters", "ru") == moved
    revisions = await scalar(
        loaded_db,
        "SELECT COUNT(*) FROM revisions JOIN items ON items.id = revisions.item_id WHERE slug = 'letters'"
        " AND lang = 'ru'",
    )
    assert revisions == 2


def test_import_report_changed() -> None:
    assert not ImportReport(unchanged=["a"], kept=["b"]).changed
    assert ImportReport(added=["a"]).changed
    assert ImportReport(updated=["a"]).changed


# Reading


async def test_get_published_returns_the_imported_item(
    loaded_db: aiosqlite.Connection, items: list[ContentItem]
) -> None:
    for item in items:
        assert await content.get_published(loaded_db, *item.key) == item


async def test_get_published_missing(loaded_db: aiosqlite.Connection) -> None:
    assert await content.get_published(loaded_db, "tactics", "nothing", "ru") is None
    assert await content.get_published(loaded_db, "orgs", "letters", "ru") is None


async def test_list_section_in_alphabetical_order(loaded_db: aiosqlite.Connection, items: list[ContentItem]) -> None:
    listed = await content.list_section(loaded_db, "tactics", "ru")
    assert [x.slug for x in listed] == ["stickers", "letters"]  # Листовки < Письма
    stickers = find(items, "tactics", "stickers", "ru")
    assert listed[0] == Listed("stickers", stickers.meta.title, stickers.meta.summary)
    assert [x.slug for x in await content.list_section(loaded_db, "tactics", "en")] == [
        "stickers",
        "letters",
    ]  # Leaf < Lett


async def test_list_section_folds_case_and_yo(db: aiosqlite.Connection, items: list[ContentItem]) -> None:
    base = find(items, "tactics", "letters", "ru")
    titles = {"ya": "Яблоко", "zh": "Жёлудь", "el": "Ель", "yo": "Ёлки-палки", "ap": "апрель"}
    await content.import_items(db, [variant(base, slug=slug, title=title) for slug, title in titles.items()])
    listed = await content.list_section(db, "tactics", "ru")
    assert [x.title for x in listed] == ["апрель", "Ёлки-палки", "Ель", "Жёлудь", "Яблоко"]


async def test_list_section_ties_are_broken_by_slug(db: aiosqlite.Connection, items: list[ContentItem]) -> None:
    base = find(items, "tactics", "letters", "ru")
    await content.import_items(db, [variant(base, slug=slug, title="Одно и то же") for slug in ("zz", "aa", "mm")])
    assert [x.slug for x in await content.list_section(db, "tactics", "ru")] == ["aa", "mm", "zz"]


async def test_list_section_shows_only_published_items_of_that_section_and_language(
    loaded_db: aiosqlite.Connection, items: list[ContentItem]
) -> None:
    draft = variant(find(items, "orgs", "helpers", "ru"), slug="draft-org")
    await content.add_revision(loaded_db, draft, origin="admin", author="anna")  # never published
    await loaded_db.commit()
    assert [x.slug for x in await content.list_section(loaded_db, "orgs", "ru")] == ["helpers"]
    assert [x.slug for x in await content.list_section(loaded_db, "conscription", "en")] == ["summons"]
    assert await content.list_section(loaded_db, "nowhere", "ru") == []


async def test_list_section_shows_the_published_revision(
    loaded_db: aiosqlite.Connection, items: list[ContentItem]
) -> None:
    letters = find(items, "tactics", "letters", "en")
    await content.add_revision(loaded_db, variant(letters, title="Draft title"), origin="admin", author="anna")
    await loaded_db.commit()
    titles = [x.title for x in await content.list_section(loaded_db, "tactics", "en")]
    assert titles == ["Leaflets and stickers", "Letters to political prisoners"]


async def test_titles(loaded_db: aiosqlite.Connection) -> None:
    assert await content.titles(loaded_db, ["helpers", "summons", "nothing"], "en") == {
        "helpers": ("orgs", "Helpers"),
        "summons": ("conscription", "You got a summons"),
    }
    assert await content.titles(loaded_db, ["helpers"], "ru") == {"helpers": ("orgs", "Помощники")}
    assert await content.titles(loaded_db, [], "ru") == {}


async def test_section_of(loaded_db: aiosqlite.Connection) -> None:
    assert await content.section_of(loaded_db, "helpers") == "orgs"
    assert await content.section_of(loaded_db, "stickers") == "tactics"
    assert await content.section_of(loaded_db, "nothing") is None


async def test_has_content_needs_a_published_item(db: aiosqlite.Connection, items: list[ContentItem]) -> None:
    await content.add_revision(db, items[0], origin="admin", author="anna")
    await db.commit()
    assert not await content.has_content(db)


def test_display_order_ignores_quotes_and_puts_the_readers_script_first() -> None:
    titles = ["Russian Democratic Society", "«Весна»", "Апология", "“Idite Lesom”", "ёлка"]
    ru = sorted(titles, key=lambda t: content.display_key(t, "ru"))
    en = sorted(titles, key=lambda t: content.display_key(t, "en"))
    assert ru == ["Апология", "«Весна»", "ёлка", "“Idite Lesom”", "Russian Democratic Society"]
    assert en == ["“Idite Lesom”", "Russian Democratic Society", "Апология", "«Весна»", "ёлка"]
