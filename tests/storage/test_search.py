"""storage.search: Russian stems, ё, FTS syntax as plain text, typo correction, cross-language hits."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import closing

import aiosqlite
import pytest
from hypothesis import given
from hypothesis import strategies as st

from storage import content
from storage.content_files import ContentItem
from storage.migrate import migrations, split_statements
from storage.search import MAX_QUERY_WORDS, Searcher, match_expression, query_stems, stems, trigrams, words
from tests.helpers import find, variant


@pytest.fixture
def searcher(loaded_db: aiosqlite.Connection) -> Searcher:
    return Searcher(loaded_db)


async def slugs(searcher: Searcher, query: str, lang: str = "ru") -> list[str]:
    return [hit.slug for hit in await searcher.search(query, lang)]


# Words and stems


def test_words_are_lowercased_with_yo_folded() -> None:
    assert words("Ещё ПОВЕСТКА, ёлка-2026_x") == ["еще", "повестка", "елка", "2026", "x"]


def test_inflections_share_a_stem() -> None:
    forms = ["повестка", "повестки", "повесткой", "повестку", "Повестке"]
    assert len({stems(form) for form in forms}) == 1
    assert stems("letters") == stems("letter")


def test_query_stems_drop_stopwords_duplicates_and_single_letters() -> None:
    assert query_stems("что делать с повесткой и повестками") == [stems("повестка")]
    assert query_stems("how to get a summons") == [stems("get"), stems("summons")]
    assert query_stems("x 7") == ["7"]


def test_query_stems_keep_at_most_a_dozen() -> None:
    query = " ".join(f"слово{n}" for n in range(40))
    assert len(query_stems(query)) == MAX_QUERY_WORDS


def test_match_expression_quotes_every_term() -> None:
    assert match_expression(["повестк", "ok"], "AND") == '"повестк"* AND "ok"'
    assert match_expression(["a"], "OR") == '"a"'


def test_trigrams_are_padded() -> None:
    assert trigrams("abc") == {"  a", " ab", "abc", "bc "}


# Search over the fixture content


@pytest.mark.parametrize("query", ["повестка", "повестки", "повесткой", "повестку", "о повестках"])
async def test_russian_inflections_find_the_item(searcher: Searcher, query: str) -> None:
    assert (await slugs(searcher, query))[0] == "summons"


@pytest.mark.parametrize("query", ["ПОВЕСТКА", "Повестка", "пОвЕсТкА"])
async def test_search_is_case_insensitive(searcher: Searcher, query: str) -> None:
    assert (await slugs(searcher, query))[0] == "summons"


@pytest.mark.parametrize("query", ["политзаключённым", "политзаключенным", "решёткой", "решеткой"])
async def test_yo_and_ye_are_the_same_letter(searcher: Searcher, query: str) -> None:
    assert await slugs(searcher, query) == ["letters"]


async def test_yo_in_the_text_is_found_by_ye_in_the_query(db: aiosqlite.Connection, items: list[ContentItem]) -> None:
    base = find(items, "tactics", "letters", "ru")
    await content.import_items(db, [variant(base, body="Берёзовый сок.")])
    assert await slugs(Searcher(db), "березовый") == ["letters"]


async def test_hits_are_shown_in_the_readers_language(searcher: Searcher) -> None:
    (hit,) = await searcher.search("политзаключенным", "en")
    assert (hit.section, hit.slug, hit.lang, hit.title) == (
        "tactics",
        "letters",
        "en",
        "Letters to political prisoners",
    )
    assert hit.summary.startswith("Writing to people in prison")


@pytest.mark.parametrize(("query", "slug"), [("summons", "summons"), ("stickers", "stickers"), ("lawyers", "helpers")])
async def test_an_english_word_finds_the_russian_readers_item(searcher: Searcher, query: str, slug: str) -> None:
    hits = await searcher.search(query, "ru")
    assert hits[0].slug == slug
    assert all(hit.lang == "ru" for hit in hits)


async def test_a_word_found_only_in_english_text_still_finds_the_russian_item(searcher: Searcher) -> None:
    # "weather" is only in the English body of letters; the Russian reader gets the Russian item.
    (hit,) = await searcher.search("weather", "ru")
    assert (hit.slug, hit.title) == ("letters", "Письма политзаключённым")


async def test_all_words_beat_some_words(searcher: Searcher) -> None:
    found = await slugs(searcher, "повестка юристы")
    assert found[0] == "summons"  # has both words
    assert "helpers" in found  # has one


async def test_stopwords_do_not_block_a_match(searcher: Searcher) -> None:
    assert (await slugs(searcher, "что делать если пришла повестка"))[0] == "summons"


async def test_limit_is_respected(searcher: Searcher) -> None:
    query = "повестка юристы письма листовки"
    assert len(await searcher.search(query, "ru", limit=8)) == 4
    assert len(await searcher.search(query, "ru", limit=2)) == 2


@pytest.mark.parametrize("query", ["", "   ", "?!", "и в на", "как что делать", "the and of", "ещё", "a"])
async def test_empty_and_stopword_only_queries_return_nothing(searcher: Searcher, query: str) -> None:
    assert await searcher.search(query, "ru") == []


SYNTAX = [
    "AND",
    "OR",
    "NOT",
    "NEAR",
    '"',
    "'",
    "*",
    "(",
    ")",
    "^",
    ":",
    "-",
    "+",
    "{",
    "}",
    "\\",
    "%",
    "\x00",
    "NEAR(",
    "title:",
    "{title summary}:",
]


@pytest.mark.parametrize("syntax", SYNTAX)
async def test_fts_syntax_alone_never_raises(searcher: Searcher, syntax: str) -> None:
    hits = await searcher.search(syntax * 3, "ru")
    assert all(hit.lang == "ru" for hit in hits)


@pytest.mark.parametrize("syntax", SYNTAX)
async def test_fts_syntax_around_a_word_is_plain_text(searcher: Searcher, syntax: str) -> None:
    queries = [f"{syntax} повестка {syntax}", f'"повестка {syntax}']
    if not any(c.isalpha() for c in syntax):  # glued to a word, letters would make a different word
        queries += [f"{syntax}повестка", f"повестка{syntax}", f"{syntax}повестка{syntax}"]
    for query in queries:
        assert "summons" in await slugs(searcher, query), query


@pytest.mark.parametrize(
    "query",
    ['"повестка', "повестка AND", "OR повестка", "NOT повестка", "NEAR(повестка юристы, 2)", "повестк*", "(повестка))"],
)
async def test_fts_operators_in_a_query_are_words_not_syntax(searcher: Searcher, query: str) -> None:
    # "NOT повестка" must not exclude the summons item: NOT is a word (and a stopword), not an operator.
    assert (await slugs(searcher, query))[0] == "summons"


@pytest.mark.parametrize(("query", "lang", "slug"), [("поввестка", "ru", "summons"), ("stikers", "en", "stickers")])
async def test_typos_are_corrected(searcher: Searcher, query: str, lang: str, slug: str) -> None:
    assert (await slugs(searcher, query, lang))[0] == slug


async def test_typo_correction_sees_new_content_after_invalidate(
    loaded_db: aiosqlite.Connection, items: list[ContentItem]
) -> None:
    searcher = Searcher(loaded_db)
    assert await slugs(searcher, "голадовка") == []  # also fills the vocabulary cache
    base = find(items, "tactics", "letters", "ru")
    await content.import_items(loaded_db, [variant(base, slug="hunger", body="Голодовка в знак протеста.")])
    assert await slugs(searcher, "голодовка") == ["hunger"]  # exact words need no vocabulary
    searcher.invalidate()
    assert await slugs(searcher, "голадовка") == ["hunger"]


async def test_nonsense_finds_nothing(searcher: Searcher) -> None:
    assert await searcher.search("зюзюкаблямба", "ru") == []


async def test_unpublished_items_are_not_found(db: aiosqlite.Connection, items: list[ContentItem]) -> None:
    await content.add_revision(db, find(items, "tactics", "letters", "ru"), origin="admin", author="anna")
    await db.commit()
    assert await slugs(Searcher(db), "письмо") == []


# Any text is safe as a query


@pytest.fixture(scope="module")
def fts() -> Iterator[sqlite3.Connection]:
    """The real schema in a synchronous in-memory database, for fast property tests of the MATCH expression."""
    with closing(sqlite3.connect(":memory:")) as conn:
        for migration in migrations():
            for statement in split_statements(migration.sql):
                conn.execute(statement)
        conn.execute(
            "INSERT INTO search (rowid, title, summary, tags, body) VALUES (1, ?, '', '', '')", (stems("повестка"),)
        )
        yield conn


@given(query=st.text(max_size=60))
def test_any_query_makes_a_valid_match_expression(fts: sqlite3.Connection, query: str) -> None:
    terms = query_stems("повестка " + query)  # one known word, so every expression has a row it could match
    assert terms
    for joiner in ("AND", "OR"):
        sql = "SELECT rowid FROM search WHERE search MATCH ?"
        rows = fts.execute(sql, (match_expression(terms, joiner),)).fetchall()
        assert rows in ([], [(1,)])
        if joiner == "OR":
            assert rows == [(1,)]


@given(query=st.lists(st.sampled_from([*SYNTAX, "повестка", "NEAR/2", "ё", "x"]), max_size=8).map(" ".join))
def test_operator_soup_makes_a_valid_match_expression(fts: sqlite3.Connection, query: str) -> None:
    terms = query_stems(query)
    if terms:
        rows = fts.execute("SELECT rowid FROM search WHERE search MATCH ?", (match_expression(terms, "OR"),)).fetchall()
        assert (rows == [(1,)]) == ("повестка" in query)
