"""Admin editing: drafts that stay off the air, conflicts between two admins, publish, history, rollback, delete."""

from __future__ import annotations

import aiosqlite
import pytest

from storage import content, editorial
from storage.content_files import ContentItem
from storage.search import Searcher
from tests.helpers import find, variant


async def live_titles(db: aiosqlite.Connection, query: str) -> list[str]:
    return [hit.title for hit in await Searcher(db).search(query, "ru")]


async def test_a_draft_stays_off_the_air_until_published(
    loaded_db: aiosqlite.Connection, items: list[ContentItem]
) -> None:
    letters = find(items, "tactics", "letters", "ru")
    base, _ = await editorial.latest(loaded_db, "letters", "ru") or (0, letters)
    edited = variant(letters, title="Письма в колонии", body="Новый текст про открытки.")
    revision = await editorial.save_draft(loaded_db, edited, "anna", base)
    assert revision == base + 1
    assert await content.get_published(loaded_db, "tactics", "letters", "ru") == letters
    assert await live_titles(loaded_db, "открытки") == []
    assert [(d.slug, d.lang, d.author) for d in await editorial.drafts(loaded_db)] == [("letters", "ru", "anna")]

    assert await editorial.publish(loaded_db, "letters", ("ru",)) == ["ru"]
    assert await content.get_published(loaded_db, "tactics", "letters", "ru") == edited
    assert await live_titles(loaded_db, "открытки") == ["Письма в колонии"]
    assert await editorial.drafts(loaded_db) == []


async def test_the_second_save_sees_that_the_item_moved_on(
    loaded_db: aiosqlite.Connection, items: list[ContentItem]
) -> None:
    letters = find(items, "tactics", "letters", "ru")
    found = await editorial.latest(loaded_db, "letters", "ru")
    assert found is not None
    base = found[0]
    await editorial.save_draft(loaded_db, variant(letters, body="Правка Анны."), "anna", base)
    with pytest.raises(editorial.Conflict) as conflict:
        await editorial.save_draft(loaded_db, variant(letters, body="Правка Бориса."), "boris", base)
    assert conflict.value.latest == base + 1
    current = await editorial.latest(loaded_db, "letters", "ru")
    assert current is not None
    assert current[1].body == "Правка Анны."
    assert not loaded_db.in_transaction


async def test_a_new_item_needs_no_base_and_conflicts_if_it_appeared(
    loaded_db: aiosqlite.Connection, items: list[ContentItem]
) -> None:
    fresh = variant(find(items, "orgs", "helpers", "en"), slug="new-helpers")
    assert await editorial.save_draft(loaded_db, fresh, "anna", None) == 1
    with pytest.raises(editorial.Conflict):
        await editorial.save_draft(loaded_db, fresh, "boris", None)
    assert await content.get_published(loaded_db, "orgs", "new-helpers", "en") is None


async def test_history_rollback_unpublish_delete(loaded_db: aiosqlite.Connection, items: list[ContentItem]) -> None:
    letters = find(items, "tactics", "letters", "ru")
    await editorial.save_draft(loaded_db, variant(letters, body="Вторая версия."), "anna", 1)
    await editorial.publish(loaded_db, "letters", ("ru",))
    lines = await editorial.history(loaded_db, "letters")
    assert {(r.lang, r.revision, r.author, r.live) for r in lines} == {
        ("ru", 2, "anna", True),
        ("ru", 1, "import", False),
        ("en", 1, "import", True),
    }
    assert all("T" in r.created_at for r in lines)

    assert await editorial.rollback(loaded_db, "letters", "ru", 1, "boris") == 3
    assert await content.get_published(loaded_db, "tactics", "letters", "ru") == letters
    assert await editorial.rollback(loaded_db, "letters", "ru", 99, "boris") is None

    assert await editorial.unpublish(loaded_db, "letters") == 2
    assert await content.get_published(loaded_db, "tactics", "letters", "en") is None
    assert await live_titles(loaded_db, "письма") == []
    assert len(await editorial.history(loaded_db, "letters")) == 4

    assert await editorial.delete(loaded_db, "letters") == 2
    assert await editorial.history(loaded_db, "letters") == []
    assert await editorial.latest(loaded_db, "letters", "ru") is None
