"""storage.content_files: parsing, validation messages, cross-file checks and export."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from storage.content_files import (
    MAX_FILE_BYTES,
    Conscription,
    ContentError,
    ContentItem,
    Org,
    Problem,
    Tactic,
    cross_check,
    load_tree,
    parse_file,
    parse_text,
    path_of,
    to_text,
)
from tests.helpers import FIXTURE_CONTENT, copy_tree, find, fixture_items, variant

LETTERS_RU = (FIXTURE_CONTENT / "tactics" / "letters" / "ru.md").read_text(encoding="utf-8")
HELPERS_EN = (FIXTURE_CONTENT / "orgs" / "helpers" / "en.md").read_text(encoding="utf-8")
PATH = "content/tactics/letters/ru.md"
LETTERS_ITEM = parse_text(LETTERS_RU, "tactics", "letters", "ru", PATH)


def problems_of(text: str, section: str = "tactics", slug: str = "letters", lang: str = "ru") -> list[Problem]:
    with pytest.raises(ContentError) as caught:
        parse_text(text, section, slug, lang, f"content/{section}/{slug}/{lang}.md")
    assert str(caught.value) == "; ".join(map(str, caught.value.problems))
    return caught.value.problems


def replace(text: str, old: str, new: str) -> str:
    assert old in text, old
    return text.replace(old, new, 1)


# Parsing


def test_fixture_tree_parses_into_every_section_and_language() -> None:
    items = fixture_items()
    assert len(items) == 8
    assert {i.section for i in items} == {"tactics", "conscription", "orgs"}
    assert {(i.slug, i.lang) for i in items if i.slug == "letters"} == {("letters", "ru"), ("letters", "en")}


def test_each_section_gets_its_own_model() -> None:
    items = fixture_items()
    assert isinstance(find(items, "tactics", "letters", "ru").meta, Tactic)
    assert isinstance(find(items, "conscription", "summons", "ru").meta, Conscription)
    assert isinstance(find(items, "orgs", "helpers", "ru").meta, Org)


def test_parsed_fields() -> None:
    letters = find(fixture_items(), "tactics", "letters", "ru")
    meta = letters.meta
    assert isinstance(meta, Tactic)
    assert meta.title == "Письма политзаключённым"
    assert (meta.risk_inside, meta.risk_abroad, meta.where) == ("low", "low", "both")
    assert meta.related == ["helpers"]
    assert meta.reviewed == dt.date(2026, 11, 22)
    assert meta.sources[0].url == "https://example.org/source"
    assert meta.sources[0].date == "2025-11-04"
    assert letters.body.startswith("Письмо — это связь с миром.")
    assert letters.body.endswith("[ОВД-Инфо](https://ovd.info).")


def test_org_fields() -> None:
    meta = find(fixture_items(), "orgs", "helpers", "en").meta
    assert isinstance(meta, Org)
    assert meta.status_in_russia.label == "foreign_agent"
    assert meta.status_in_russia.since == "2021-09-29"
    assert [(c.kind, c.value) for c in meta.contacts] == [("site", "https://example.org"), ("telegram", "@example_bot")]


def test_unquoted_yaml_dates_and_years_become_strings() -> None:
    text = replace(LETTERS_RU, 'date: "2025-11-04"', "date: 2025-11-04")
    text = replace(text, 'reviewed: "2026-11-22"', "reviewed: 2026-11-22")
    meta = parse_text(text, "tactics", "letters", "ru", PATH).meta
    assert meta.sources[0].date == "2025-11-04"
    assert meta.reviewed == dt.date(2026, 11, 22)
    year = parse_text(replace(LETTERS_RU, 'date: "2025-11-04"', "date: 2025"), "tactics", "letters", "ru", PATH)
    assert year.meta.sources[0].date == "2025"


def test_windows_line_endings_parse_like_unix_ones() -> None:
    unix = parse_text(LETTERS_RU, "tactics", "letters", "ru", PATH)
    windows = parse_text(LETTERS_RU.replace("\n", "\r\n"), "tactics", "letters", "ru", PATH)
    assert windows == unix


def test_a_body_may_contain_a_rule_line() -> None:
    text = LETTERS_RU + "\n---\n\nПосле черты.\n"
    item = parse_text(text, "tactics", "letters", "ru", PATH)
    assert item.body.endswith("---\n\nПосле черты.")


# Validation errors: `path: field: problem`, one line each


@pytest.mark.parametrize(
    ("old", "new", "field", "message"),
    [
        ('title: "Письма политзаключённым"', 'title: "Ой"', "title", "String should have at least 3 characters"),
        ('title: "Письма политзаключённым"', 'title: "' + "я" * 65 + '"', "title", "at most 64 characters"),
        ('title: "Письма политзаключённым"', "", "title", "Field required"),
        ("summary: ", "summary: |\n  строка один\n  строка два\nx_: ", "summary", "must be one line"),
        ("risk_inside: low", "risk_inside: extreme", "risk_inside", "Input should be 'low', 'medium' or 'high'"),
        ("where: both", "where: everywhere", "where", "Input should be 'inside', 'abroad' or 'both'"),
        ("related: [helpers]", "related: [Bad_Slug]", "related", "'Bad_Slug' is not a valid slug"),
        ("related: [helpers]", "colour: red", "colour", "Extra inputs are not permitted"),
        ("url: https://example.org/source", "url: ftp://example.org/x", "sources.0.url", "must be an http(s) URL"),
        ('date: "2025-11-04"', 'date: "04.11.2025"', "sources.0.date", "must be YYYY, YYYY-MM or YYYY-MM-DD"),
        ('reviewed: "2026-11-22"', 'reviewed: "soon"', "reviewed", "valid date"),
        ("laws: []", "laws: nope", "laws", "valid list"),
    ],
)
def test_validation_problem_names_path_field_and_problem(old: str, new: str, field: str, message: str) -> None:
    problems = [p for p in problems_of(replace(LETTERS_RU, old, new)) if p.field == field]
    assert len(problems) == 1, problems
    (problem,) = problems
    assert problem.path == PATH
    assert message in problem.message
    line = str(problem)
    assert line.startswith(f"{PATH}: {field}: ")
    assert "\n" not in line
    assert not problem.message.startswith("Value error")


def test_empty_source_list_is_refused() -> None:
    text = replace(
        LETTERS_RU,
        'sources:\n  - title: "Test source"\n    url: https://example.org/source\n    date: "2025-11-04"\n',
        "sources: []\n",
    )
    assert [str(p) for p in problems_of(text)] == [
        f"{PATH}: sources: List should have at least 1 item after validation, not 0"
    ]


def test_every_problem_of_a_file_is_reported_at_once() -> None:
    text = replace(LETTERS_RU, 'title: "Письма политзаключённым"', 'title: "Ой"')
    text = replace(text, "risk_abroad: low", "risk_abroad: none")
    assert {p.field for p in problems_of(text)} == {"title", "risk_abroad"}


def test_org_contact_shape_is_checked() -> None:
    text = replace(HELPERS_EN, 'value: "@example_bot"', 'value: "example bot"')
    (problem,) = problems_of(text, "orgs", "helpers", "en")
    assert str(problem) == "content/orgs/helpers/en.md: contacts.1.value: is not a valid telegram contact"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("no front matter here\n", "must start with a '---' front matter line"),
        ("---\ntitle: x\nbody without a closing line\n", "front matter has no closing '---' line"),
        ("---\n- a\n- list\n---\nbody\n", "must be a YAML mapping"),
        ("---\n---\nbody\n", "must be a YAML mapping"),
    ],
)
def test_front_matter_shape_problems(text: str, message: str) -> None:
    assert [str(p) for p in problems_of(text)] == [f"{PATH}: front matter: {message}"]


def test_bad_yaml_is_one_line_naming_the_front_matter() -> None:
    text = replace(LETTERS_RU, "related: [helpers]", "related: [helpers")
    (problem,) = problems_of(text)
    assert problem.field == "front matter"
    assert problem.message
    assert "\n" not in str(problem)
    assert str(problem).startswith(f"{PATH}: front matter: ")


def test_empty_body_is_refused() -> None:
    head = LETTERS_RU[: LETTERS_RU.index("\n---\n") + 5]
    assert [str(p) for p in problems_of(head + "\n   \n")] == [f"{PATH}: body: is empty"]


@pytest.mark.parametrize(
    ("section", "slug", "lang", "field"),
    [("misc", "letters", "ru", "section"), ("tactics", "letters", "de", "lang"), ("tactics", "Bad_Slug", "ru", "slug")],
)
def test_location_problems(section: str, slug: str, lang: str, field: str) -> None:
    (problem,) = problems_of(LETTERS_RU, section, slug, lang)
    assert problem.field == field
    assert str(problem).startswith(f"content/{section}/{slug}/{lang}.md: {field}: must be ")


# Files and trees


def test_parse_file_shows_the_path_from_the_content_folder(tmp_path: Path) -> None:
    root = copy_tree(tmp_path)
    path = root / "tactics" / "letters" / "ru.md"
    path.write_text(replace(LETTERS_RU, "risk_inside: low", "risk_inside: extreme"), encoding="utf-8")
    with pytest.raises(ContentError) as caught:
        parse_file(path, root)
    assert [p.path for p in caught.value.problems] == ["content/tactics/letters/ru.md"]


def test_wrong_extension_is_a_path_problem(tmp_path: Path) -> None:
    root = copy_tree(tmp_path)
    (root / "tactics" / "letters" / "ru.md").rename(root / "tactics" / "letters" / "ru.txt")
    _, problems = load_tree(root)
    assert "content/tactics/letters/ru.txt: path: must be <section>/<slug>/<lang>.md" in map(str, problems)


def test_non_utf8_file_is_refused(tmp_path: Path) -> None:
    root = copy_tree(tmp_path)
    path = root / "tactics" / "letters" / "ru.md"
    path.write_bytes(LETTERS_RU.encode("cp1251"))
    items, problems = load_tree(root)
    assert "content/tactics/letters/ru.md: file: is not UTF-8 text" in map(str, problems)
    assert ("tactics", "letters", "ru") not in {i.key for i in items}


def test_file_over_1_mb_is_refused_without_reading_it(tmp_path: Path) -> None:
    root = copy_tree(tmp_path)
    path = root / "tactics" / "letters" / "ru.md"
    path.write_bytes(LETTERS_RU.encode("utf-8") + b"a" * MAX_FILE_BYTES)
    with pytest.raises(ContentError) as caught:
        parse_file(path, root)
    assert [str(p) for p in caught.value.problems] == ["content/tactics/letters/ru.md: file: is over 1 MB"]


def test_file_of_exactly_1_mb_is_accepted(tmp_path: Path) -> None:
    root = copy_tree(tmp_path)
    path = root / "tactics" / "letters" / "ru.md"
    data = LETTERS_RU.encode("utf-8")
    path.write_bytes(data + b"a" * (MAX_FILE_BYTES - len(data)))
    assert path.stat().st_size == MAX_FILE_BYTES
    assert parse_file(path, root).body.endswith("a" * 100)


def test_missing_language_is_reported(tmp_path: Path) -> None:
    root = copy_tree(tmp_path)
    (root / "tactics" / "letters" / "en.md").unlink()
    _, problems = load_tree(root)
    assert [str(p) for p in problems] == [
        "content/tactics/letters/en.md: file: is missing (every item needs ru and en)"
    ]


def test_duplicate_slug_across_sections_is_reported(tmp_path: Path) -> None:
    root = copy_tree(tmp_path)
    twin = root / "conscription" / "letters"
    twin.mkdir()
    for lang in ("ru", "en"):
        (twin / f"{lang}.md").write_bytes((root / "conscription" / "summons" / f"{lang}.md").read_bytes())
    _, problems = load_tree(root)
    assert [str(p) for p in problems] == ["content/*/letters: slug: is used in several sections: conscription, tactics"]


def test_unknown_related_slug_is_reported(tmp_path: Path) -> None:
    root = copy_tree(tmp_path)
    path = root / "tactics" / "letters" / "ru.md"
    path.write_text(replace(LETTERS_RU, "related: [helpers]", "related: [helpers, nowhere]"), encoding="utf-8")
    _, problems = load_tree(root)
    assert [str(p) for p in problems] == ["content/tactics/letters/ru.md: related: no item has the slug 'nowhere'"]


def test_an_item_cannot_relate_to_itself() -> None:
    items = fixture_items()
    letters = find(items, "tactics", "letters", "ru")
    others = [i for i in items if i is not letters]
    problems = cross_check([*others, variant(letters, related=["letters"])])
    assert [str(p) for p in problems] == ["content/tactics/letters/ru.md: related: an item cannot relate to itself"]


def test_hidden_files_are_skipped(tmp_path: Path) -> None:
    root = copy_tree(tmp_path)
    (root / "tactics" / "letters" / ".ru.md.swp").write_bytes(b"\xff\xfe junk")
    items, problems = load_tree(root)
    assert problems == []
    assert len(items) == 8


def test_problems_in_several_files_are_all_reported(tmp_path: Path) -> None:
    root = copy_tree(tmp_path)
    (root / "tactics" / "letters" / "ru.md").write_text(replace(LETTERS_RU, "where: both", "where: x"), "utf-8")
    (root / "orgs" / "helpers" / "en.md").write_bytes(b"\xff")
    items, problems = load_tree(root)
    assert {p.path for p in problems} == {"content/tactics/letters/ru.md", "content/orgs/helpers/en.md"}
    assert len(items) == 6


def test_a_misplaced_file_is_reported(tmp_path: Path) -> None:
    root = copy_tree(tmp_path)
    (root / "tactics" / "leaflets.md").write_text(LETTERS_RU, encoding="utf-8")
    _, problems = load_tree(root)
    assert any(p.field == "path" and "leaflets.md" in p.path for p in problems)


def test_a_broken_file_is_not_also_reported_missing(tmp_path: Path) -> None:
    root = copy_tree(tmp_path)
    (root / "tactics" / "letters" / "ru.md").write_text(replace(LETTERS_RU, "where: both", "where: x"), "utf-8")
    _, problems = load_tree(root)
    assert [(p.path, p.field) for p in problems] == [("content/tactics/letters/ru.md", "where")]


def test_path_of() -> None:
    item = find(fixture_items(), "orgs", "helpers", "en")
    assert path_of(item) == "content/orgs/helpers/en.md"
    assert path_of(item, "mine") == "mine/orgs/helpers/en.md"


# Export


@pytest.mark.parametrize("item", fixture_items(), ids=lambda i: "/".join(i.key))
def test_to_text_round_trip(item: ContentItem) -> None:
    text = to_text(item)
    assert parse_text(text, item.section, item.slug, item.lang, "x") == item
    assert text.startswith("---\n")
    assert text.endswith("\n")


def test_digest_is_stable_and_changes_with_the_content() -> None:
    item = find(fixture_items(), "tactics", "letters", "ru")
    assert item.digest() == find(fixture_items(), "tactics", "letters", "ru").digest()
    assert variant(item, body=item.body + " Ещё.").digest() != item.digest()
    assert variant(item, risk_inside="high").digest() != item.digest()


def text(max_size: int) -> st.SearchStrategy[str]:
    """Any Unicode text a file can hold."""
    chars = st.characters(codec="utf-8", exclude_categories=["Cs"])
    return st.text(chars, max_size=max_size)


@settings(max_examples=300)
@given(
    title=text(60).map(lambda s: "Тит" + s),
    summary=text(150).map(lambda s: "Summary of " + s.replace("\n", " ")),
    body=text(300).map(lambda s: "Body " + s.replace("\r", "")),
    tag=text(30),
)
def test_to_text_round_trip_for_any_text(title: str, summary: str, body: str, tag: str) -> None:
    item = variant(LETTERS_ITEM, title=title, summary=summary, tags=[tag], body=body.strip())
    assert parse_text(to_text(item), item.section, item.slug, item.lang, "x") == item


def test_round_trip_keeps_a_next_line_character() -> None:
    base = find(fixture_items(), "tactics", "letters", "ru")
    item = variant(base, summary="Строка\x85продолжение строки")
    assert parse_text(to_text(item), item.section, item.slug, item.lang, "x") == item
