"""Search quality on the bundled corpus: realistic queries, in both languages, find the right item in the top three."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import aiosqlite
import pytest

from bot.config import REPO_ROOT
from storage import content
from storage.content_files import load_tree
from storage.db import connect
from storage.migrate import migrate
from storage.search import Searcher

# (reader's language, what they type, slugs any of which is the right answer)
QUERIES = [
    ("ru", "повестка", ["electronic-summons", "summons-first-steps"]),
    ("ru", "пришла повестка что делать", ["summons-first-steps"]),
    ("ru", "электронная повестка госуслуги", ["electronic-summons"]),
    ("ru", "отсрочка", ["deferments"]),
    ("ru", "как получить отсрочку", ["deferments"]),
    ("ru", "альтернативная служба", ["alternative-service"]),
    ("ru", "АГС", ["alternative-service"]),
    ("ru", "штраф за неявку в военкомат", ["fines-for-not-appearing"]),
    ("ru", "запрет на выезд", ["exit-ban-passport"]),
    ("ru", "сдать загранпаспорт", ["exit-ban-passport"]),
    ("ru", "не явился 20 дней ограничения", ["after-20-days"]),
    ("ru", "медкомиссия категория годности", ["medical-categories"]),
    ("ru", "мобилизация указ", ["mobilization-decree-647"]),
    ("ru", "резервисты", ["reservists-infrastructure"]),
    ("ru", "заставляют подписать контракт", ["contract-pressure"]),
    ("ru", "уклонение от призыва статья", ["criminal-liability"]),
    ("ru", "уехать из России", ["leaving-russia"]),
    ("ru", "листовки", ["leaflets-stickers"]),
    ("ru", "надписи на купюрах", ["banknote-slogans"]),
    ("ru", "женщины в чёрном", ["silent-presence"]),
    ("ru", "цветы к памятнику", ["flowers-commemorations"]),
    ("ru", "письма политзаключённым", ["letters-to-prisoners"]),
    ("ru", "задержали что делать", ["if-detained"]),
    ("ru", "проверка телефона на границе", ["phone-checks"]),
    ("ru", "впн", ["vpn-and-searching"]),
    ("ru", "секретный чат", ["telegram-safety"]),
    ("ru", "ОВД-Инфо", ["ovd-info"]),
    ("ru", "Идите лесом", ["idite-lesom"]),
    ("ru", "Ковчег", ["kovcheg"]),
    ("ru", "Медиазона", ["mediazona"]),
    ("ru", "повеска", ["electronic-summons", "summons-first-steps"]),
    ("ru", "альтернативаня служба", ["alternative-service"]),
    ("ru", "полизаключенные", ["letters-to-prisoners", "memorial-political-prisoners"]),
    ("ru", "повесткой", ["electronic-summons", "summons-first-steps"]),
    ("ru", "отсрочки", ["deferments"]),
    ("en", "summons", ["electronic-summons", "summons-first-steps"]),
    ("en", "deferment", ["deferments"]),
    ("en", "alternative civilian service", ["alternative-service"]),
    ("en", "leaflets", ["leaflets-stickers"]),
    ("en", "political prisoners letters", ["letters-to-prisoners"]),
    ("en", "leave Russia", ["leaving-russia"]),
    ("en", "detained by police", ["if-detained"]),
    ("en", "phone check at the border", ["phone-checks"]),
    ("en", "conscientious objectors", ["alternative-service", "conscientious-objectors"]),
    ("en", "Get Lost", ["idite-lesom"]),
    ("en", "donate treason", ["fundraising-risks"]),
    ("en", "talking to my parents about the war", ["talking-with-relatives"]),
    ("en", "Women in Black", ["silent-presence"]),
    ("en", "sumons", ["electronic-summons", "summons-first-steps"]),
    ("en", "exit ban passport", ["exit-ban-passport"]),
    ("en", "soldiers mothers", ["soldiers-mothers"]),
    ("en", "digital security helpline", ["access-now-helpline"]),
    ("en", "Ukrainians evacuation", ["helping-to-leave"]),
    ("en", "Belarus objectors", ["our-house"]),
]


@pytest.fixture
async def searcher(tmp_path: Path) -> AsyncIterator[Searcher]:
    db: aiosqlite.Connection = await connect(tmp_path / "corpus.sqlite3")
    try:
        await migrate(db)
        items, problems = load_tree(REPO_ROOT / "content")
        assert problems == []
        await content.import_items(db, items)
        yield Searcher(db)
    finally:
        await db.close()


def test_there_are_enough_queries() -> None:
    assert len(QUERIES) >= 30
    assert {lang for lang, _, _ in QUERIES} == {"ru", "en"}


@pytest.mark.parametrize(("lang", "query", "expected"), QUERIES)
async def test_query_finds_the_right_item_in_the_top_three(
    searcher: Searcher, lang: str, query: str, expected: list[str]
) -> None:
    top = [hit.slug for hit in await searcher.search(query, lang, 8)][:3]
    assert set(expected) & set(top), f"{query!r} gave {top}"
