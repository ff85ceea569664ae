"""The bundled corpus: enough items, both languages, sources, review dates, risk and status fields, and fit."""

from __future__ import annotations

import datetime as dt
from collections import Counter

import pytest

from bot.config import REPO_ROOT
from bot.content_check import check_tree
from bot.i18n import Texts
from bot.render import MESSAGE_LIMIT, item_html, visible_length
from storage.content_files import ContentItem, Org, Tactic, load_tree

MINIMUM = {"tactics": 15, "conscription": 15, "orgs": 25}
TODAY = dt.date(2026, 11, 22)
ITEMS, PROBLEMS = load_tree(REPO_ROOT / "content")


def test_the_whole_corpus_passes_the_content_check() -> None:
    _, problems = check_tree(REPO_ROOT / "content", Texts.load())
    assert [str(p) for p in problems] == []


@pytest.mark.parametrize("lang", ["ru", "en"])
def test_minimum_counts_per_section(lang: str) -> None:
    counts = Counter(item.section for item in ITEMS if item.lang == lang)
    for section, minimum in MINIMUM.items():
        assert counts[section] >= minimum, (section, counts[section])


def test_russian_and_english_have_the_same_slugs() -> None:
    slugs = {lang: {(i.section, i.slug) for i in ITEMS if i.lang == lang} for lang in ("ru", "en")}
    assert slugs["ru"] == slugs["en"]


@pytest.mark.parametrize("item", ITEMS, ids=lambda i: "/".join(i.key))
def test_sources_and_review_date(item: ContentItem) -> None:
    assert item.meta.sources
    for source in item.meta.sources:
        assert source.url.startswith(("https://", "http://"))
        assert source.date
    assert dt.date(2026, 1, 1) <= item.meta.reviewed <= TODAY
    assert len(item.meta.summary) <= 200


@pytest.mark.parametrize("item", ITEMS, ids=lambda i: "/".join(i.key))
def test_section_fields_are_there(item: ContentItem) -> None:
    meta = item.meta
    if item.section == "tactics":
        assert isinstance(meta, Tactic)
        assert meta.risk_inside in {"low", "medium", "high"}
        assert meta.risk_abroad in {"low", "medium", "high"}
        assert meta.related, "a tactic names who supports it"
    if item.section == "orgs":
        assert isinstance(meta, Org)
        assert meta.status_in_russia.label
        assert meta.helps_with
        if meta.status_in_russia.since:
            assert meta.status_in_russia.since[:4] <= str(TODAY.year)


@pytest.mark.parametrize("item", ITEMS, ids=lambda i: "/".join(i.key))
def test_every_item_renders_within_telegram_limits(item: ContentItem) -> None:
    assert visible_length(item_html(item, Texts.load())) <= MESSAGE_LIMIT


@pytest.mark.parametrize(
    ("slug", "label", "since"),
    [
        ("ovd-info", "extremist", "2026-06"),
        ("memorial-political-prisoners", "extremist", "2026-04"),
        ("anti-war-committee", "terrorist", "2026-03"),
    ],
)
def test_the_2026_status_changes_are_recorded(slug: str, label: str, since: str) -> None:
    for item in (i for i in ITEMS if i.slug == slug):
        assert isinstance(item.meta, Org)
        assert item.meta.status_in_russia.label == label
        assert (item.meta.status_in_russia.since or "").startswith(since)


def test_related_items_cross_sections() -> None:
    tactics_to_orgs = {
        other
        for item in ITEMS
        if item.section == "tactics"
        for other in item.meta.related
        if any(i.slug == other and i.section == "orgs" for i in ITEMS)
    }
    assert len(tactics_to_orgs) >= 5
