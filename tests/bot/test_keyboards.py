"""bot.keyboards: callback data fits Telegram, parses back, and forged data is refused."""

from __future__ import annotations

from urllib.parse import parse_qs, urlparse

import pytest
from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot import keyboards
from bot.i18n import LANGS, Texts
from bot.keyboards import MENU, NOOP, PAGE_SIZE, Callback, parse_callback
from storage.content import Listed
from storage.content_files import SECTIONS

LONGEST_SECTION = max(SECTIONS, key=len)
LONGEST_SLUG = "a" + "b-" * 19 + "z"  # 40 characters, the most SLUG_RE allows


def buttons(markup: InlineKeyboardMarkup) -> list[InlineKeyboardButton]:
    return [button for row in markup.inline_keyboard for button in row]


def data_of(markup: InlineKeyboardMarkup) -> list[str]:
    found = []
    for button in buttons(markup):
        assert isinstance(button.callback_data, str), button
        found.append(button.callback_data)
    return found


def listed(count: int) -> list[Listed]:
    return [Listed(f"{LONGEST_SLUG[:-2]}{n:02d}", f"Title {n}", "summary") for n in range(count)]


def every_keyboard(texts: Texts) -> list[InlineKeyboardMarkup]:
    related = [(LONGEST_SECTION, LONGEST_SLUG, "Related")]
    markups = []
    for lang in LANGS:
        markups.append(keyboards.main_menu(texts, lang))
        for section in SECTIONS:
            for page in range(keyboards.pages(30)):
                markups.append(keyboards.section_page(texts, lang, section, listed(30), page))
            markups.append(keyboards.item_view(texts, lang, section, 9999, related))
        markups.append(keyboards.results(texts, lang, related * 8))
        markups.append(keyboards.wipe_offer(texts, lang))
        markups += [InlineKeyboardMarkup([keyboards.disappearing_row(texts, lang, s)]) for s in (0, 3600, 86400)]
    return markups


def test_longest_slug_is_valid() -> None:
    assert len(LONGEST_SLUG) == 40
    assert parse_callback(f"v:tactics:{LONGEST_SLUG}") == Callback("item", section="tactics", slug=LONGEST_SLUG)


def test_callback_data_fits_in_64_bytes(texts: Texts) -> None:
    assert len(keyboards.item_data(LONGEST_SECTION, LONGEST_SLUG).encode("utf-8")) <= 64
    assert len(keyboards.section_data(LONGEST_SECTION, 9999).encode("utf-8")) <= 64
    for markup in every_keyboard(texts):
        for data in data_of(markup):
            assert 1 <= len(data.encode("utf-8")) <= 64, data


def test_every_callback_we_make_parses_back(texts: Texts) -> None:
    for markup in every_keyboard(texts):
        for data in data_of(markup):
            assert parse_callback(data) is not None, data


@pytest.mark.parametrize(
    ("data", "parsed"),
    [
        ("m", Callback("menu")),
        ("n", Callback("noop")),
        ("s:orgs:0", Callback("section", section="orgs", page=0)),
        ("s:conscription:12", Callback("section", section="conscription", page=12)),
        ("v:tactics:letters", Callback("item", section="tactics", slug="letters")),
        ("l:ru", Callback("lang", lang="ru")),
        ("l:en", Callback("lang", lang="en")),
        ("d:0", Callback("disappear", step="0")),
        ("d:24", Callback("disappear", step="24")),
        ("w:f", Callback("wipe", step="f")),
        ("w:k", Callback("wipe", step="k")),
    ],
)
def test_parse_callback(data: str, parsed: Callback) -> None:
    assert parse_callback(data) == parsed


@pytest.mark.parametrize(
    "data",
    [
        None,
        "",
        " m",
        "menu",
        "x",
        "s:admin:0",
        "s:tactics",
        "s:tactics:-1",
        "s:tactics:12345",
        "s:tactics:1e3",
        "v:admin:letters",
        "v:tactics:",
        "v:tactics:Letters",
        "v:tactics:123456789",
        "v:tactics:../../etc/passwd",
        "v:tactics:letters:extra",
        "v:tactics:letters;drop",
        "v:tactics:" + "a" * 41,
        "l:de",
        "l:RU",
        "l:rus",
        "V:tactics:letters",
        "d:2",
        "d:01",
        "d:-1",
        "d:",
        "w:x",
        "w:f:1",
    ],
)
def test_parse_callback_refuses_forged_data(data: str | None) -> None:
    assert parse_callback(data) is None


@pytest.mark.parametrize("data", ["m\n", "v:tactics:letters\n", "s:tactics:\u0663", "s:tactics:\uff11"])
def test_parse_callback_refuses_data_we_never_make(data: str) -> None:
    assert parse_callback(data) is None


def test_the_disappearing_row_marks_the_current_choice(texts: Texts) -> None:
    row = keyboards.disappearing_row(texts, "en", 3600)
    assert [(b.text, b.callback_data) for b in row] == [("Off", "d:0"), ("✅ 1 hour", "d:1"), ("24 hours", "d:24")]
    assert [b.text for b in keyboards.disappearing_row(texts, "ru", 0)] == ["✅ Выкл.", "1 час", "24 часа"]


def test_main_menu(texts: Texts) -> None:
    markup = keyboards.main_menu(texts, "en")
    assert [b.text for b in buttons(markup)] == [
        "Tactics and their risks",
        "Conscription and summonses",
        "Organizations that help",
        "Русский",
    ]
    assert data_of(markup) == ["s:tactics:0", "s:conscription:0", "s:orgs:0", "l:ru"]
    assert data_of(keyboards.main_menu(texts, "ru"))[-1] == "l:en"


@pytest.mark.parametrize(("count", "pages"), [(0, 1), (1, 1), (PAGE_SIZE, 1), (PAGE_SIZE + 1, 2), (3 * PAGE_SIZE, 3)])
def test_pages(count: int, pages: int) -> None:
    assert keyboards.pages(count) == pages


def test_a_single_page_has_no_navigation(texts: Texts) -> None:
    markup = keyboards.section_page(texts, "en", "orgs", listed(3), 0)
    assert len(markup.inline_keyboard) == 4
    assert data_of(markup)[-1] == MENU


def test_section_pages_navigate_and_wrap(texts: Texts) -> None:
    items = listed(2 * PAGE_SIZE + 1)
    first = keyboards.section_page(texts, "en", "tactics", items, 0)
    rows = first.inline_keyboard
    assert len(rows) == PAGE_SIZE + 2
    assert [b.text for b in rows[0]] == ["Title 0"]
    assert [b.callback_data for b in rows[PAGE_SIZE]] == ["s:tactics:2", NOOP, "s:tactics:1"]
    assert rows[PAGE_SIZE][1].text == "1/3"
    last = keyboards.section_page(texts, "en", "tactics", items, 2)
    assert [b.text for b in last.inline_keyboard[0]] == [f"Title {2 * PAGE_SIZE}"]
    assert [b.callback_data for b in last.inline_keyboard[1]] == ["s:tactics:1", NOOP, "s:tactics:0"]


def test_item_view(texts: Texts) -> None:
    markup = keyboards.item_view(texts, "ru", "orgs", 2, [("tactics", "letters", "Письма")])
    assert [[b.text for b in row] for row in markup.inline_keyboard] == [["→ Письма"], ["« Организации", "☰ Меню"]]
    assert data_of(markup) == ["v:tactics:letters", "s:orgs:2", MENU]


def test_results(texts: Texts) -> None:
    markup = keyboards.results(texts, "en", [("orgs", "helpers", "Helpers"), ("tactics", "letters", "Letters")])
    assert data_of(markup) == ["v:orgs:helpers", "v:tactics:letters", MENU]


def test_share_link_is_a_valid_deep_link(texts: Texts) -> None:
    markup = keyboards.share_link(texts, "en", "tropa_bot", LONGEST_SECTION, LONGEST_SLUG)
    (button,) = buttons(markup)
    assert button.text == "Open in Tropa"
    assert button.url is not None
    url = urlparse(button.url)
    assert (url.scheme, url.netloc, url.path) == ("https", "t.me", "/tropa_bot")
    (start,) = parse_qs(url.query)["start"]
    assert start == f"{LONGEST_SECTION}_{LONGEST_SLUG}"
    # Telegram allows up to 64 characters of A-Z, a-z, 0-9, _ and - in a start parameter.
    assert len(start) <= 64
    assert all(c.isascii() and (c.isalnum() or c in "_-") for c in start)


def test_no_callback_data_carries_a_number_that_could_be_an_id(texts: Texts) -> None:
    for markup in every_keyboard(texts):
        for data in data_of(markup):
            assert not any(part.isdigit() and len(part) > 4 for part in data.split(":")), data
