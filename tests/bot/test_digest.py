"""bot.digest.compose: the fallback contacts close every digest, and a digest always fits one message."""

from __future__ import annotations

import pytest

from bot.config import MAX_MIRRORS
from bot.digest import SHOWN, compose
from bot.i18n import LANGS, Texts
from bot.render import MESSAGE_LIMIT, html_problem, visible_length
from storage.content import Fresh

MIRRORS = ("@tropa_backup_bot", "https://t.me/+AbCdEf123456")


def fresh(n: int, title: str = "Title", summary: str = "Summary") -> list[Fresh]:
    return [Fresh("orgs", f"item-{i}", f"{title} {i}", summary, 1_000_000 + i) for i in range(n)]


@pytest.mark.parametrize("lang", LANGS)
def test_the_footer_names_the_fallback_contacts(texts: Texts, lang: str) -> None:
    digest = compose(texts, lang, fresh(2), MIRRORS)
    last = digest.html.splitlines()[-1]
    assert last == texts.get(lang, "mirrors_digest", mirrors="@tropa_backup_bot, https://t.me/+AbCdEf123456")
    assert html_problem(digest.html) is None
    assert "@tropa_backup_bot" not in compose(texts, lang, fresh(2)).html


@pytest.mark.parametrize("lang", LANGS)
def test_the_longest_digest_with_the_most_contacts_fits(texts: Texts, lang: str) -> None:
    mirrors = tuple(f"https://t.me/+{'x' * 60}{n}" for n in range(MAX_MIRRORS))
    items = fresh(40, title="Т" * 62, summary="С" * 199)
    digest = compose(texts, lang, items, mirrors)
    assert visible_length(digest.html) <= MESSAGE_LIMIT
    assert digest.html.count("\n<b>") == SHOWN  # this much still fits in full
    assert mirrors[-1] in digest.html


def test_items_give_way_before_the_message_overflows(texts: Texts) -> None:
    items = fresh(SHOWN, title="T" * 60, summary="S" * 700)  # longer than any content check allows
    digest = compose(texts, "en", items, MIRRORS)
    assert visible_length(digest.html) <= MESSAGE_LIMIT
    assert 0 < digest.html.count("\n<b>") < SHOWN
    assert "more item" in digest.html
    assert MIRRORS[0] in digest.html
