"""bot.i18n: complete, consistent locale tables and real plural rules."""

from __future__ import annotations

import string
import typing
from typing import Any

import pytest

from bot.app import DESCRIPTION_LIMITS
from bot.i18n import DEFAULT_LANG, LANGS, PLURAL_FORMS, Texts, lang_from_code, plural_form
from bot.render import MESSAGE_LIMIT, html_problem, visible_length
from storage.content_files import SECTIONS, Conscription, Contact, Org, Status, Tactic

CLDR_FORMS = {"zero", "one", "two", "few", "many", "other"}


def is_plural(entry: Any) -> bool:
    return isinstance(entry, dict) and bool(entry) and set(entry) <= CLDR_FORMS


def placeholders(text: str) -> set[str]:
    return {field for _, field, _, _ in string.Formatter().parse(text) if field is not None}


def strings(table: dict[str, Any], prefix: str = "") -> dict[str, str]:
    """Every plain string of a table, by dotted key (plural entries left out)."""
    found: dict[str, str] = {}
    for key, value in table.items():
        if isinstance(value, str):
            found[prefix + key] = value
        elif isinstance(value, dict) and not is_plural(value):
            found.update(strings(value, f"{prefix}{key}."))
    return found


def test_every_language_has_a_table(texts: Texts) -> None:
    assert set(texts.tables) == set(LANGS)
    assert DEFAULT_LANG in LANGS


def test_every_key_is_in_every_language(texts: Texts) -> None:
    ru, en = texts.tables["ru"], texts.tables["en"]
    assert set(ru) == set(en)
    assert set(strings(ru)) == set(strings(en))
    for key in ru:
        assert type(ru[key]) is type(en[key]), key
        assert is_plural(ru[key]) == is_plural(en[key]), key


def test_same_placeholders_in_every_language(texts: Texts) -> None:
    ru, en = strings(texts.tables["ru"]), strings(texts.tables["en"])
    for key in ru:
        assert placeholders(ru[key]) == placeholders(en[key]), key


def test_no_string_is_empty(texts: Texts) -> None:
    for lang in LANGS:
        for key, value in strings(texts.tables[lang]).items():
            assert value.strip(), (lang, key)


def test_plural_tables_have_the_forms_each_language_needs(texts: Texts) -> None:
    plural_keys = [key for key, value in texts.tables[DEFAULT_LANG].items() if is_plural(value)]
    assert "count_items" in plural_keys
    for key in plural_keys:
        for lang in LANGS:
            entry = texts.tables[lang][key]
            assert set(entry) == PLURAL_FORMS[lang], (lang, key)
            assert all(placeholders(form) == {"n"} for form in entry.values()), (lang, key)


def test_every_plural_form_the_rules_produce_exists() -> None:
    for lang in LANGS:
        assert {plural_form(lang, n) for n in range(0, 1000)} == PLURAL_FORMS[lang]


def test_messages_are_valid_telegram_html(texts: Texts) -> None:
    # welcome, help, privacy, about... are sent with parse_mode=HTML: one stray '<' or '&' and Telegram refuses them.
    for lang in LANGS:
        for key, value in strings(texts.tables[lang]).items():
            filled = value.format(**dict.fromkeys(placeholders(value), "x"))
            assert html_problem(filled) is None, (lang, key)


@pytest.mark.parametrize("page", ["welcome", "help", "privacy", "about"])
def test_fixed_pages_fit_one_message(texts: Texts, page: str) -> None:
    # Sent as one message: split in parts, the honest limits at the end of /privacy would land in a second one.
    for lang in LANGS:
        value = texts.tables[lang][page]
        filled = value.format(**dict.fromkeys(placeholders(value), "x" * 32))
        assert visible_length(filled) <= MESSAGE_LIMIT, (lang, page)


def test_privacy_points_to_the_threat_model(texts: Texts) -> None:
    # <code>: Telegram would otherwise turn SECURITY.md into a link to the .md domain of that name.
    for lang in LANGS:
        assert "<code>SECURITY.md</code>" in texts.get(lang, "privacy", bot="x")


def literal_values(annotation: Any) -> set[str]:
    """The allowed values of a Literal, or of a list of a Literal."""
    if typing.get_origin(annotation) is list:
        (annotation,) = typing.get_args(annotation)
    return set(typing.get_args(annotation))


@pytest.mark.parametrize(
    ("group", "values"),
    [
        ("section", set(SECTIONS)),
        ("section_short", set(SECTIONS)),
        ("risk", literal_values(Tactic.model_fields["risk_inside"].annotation)),
        ("where_values", literal_values(Tactic.model_fields["where"].annotation)),
        ("applies", literal_values(Conscription.model_fields["applies_to"].annotation)),
        ("helps", literal_values(Org.model_fields["helps_with"].annotation)),
        ("status_labels", literal_values(Status.model_fields["label"].annotation)),
        ("contact_kinds", literal_values(Contact.model_fields["kind"].annotation)),
    ],
)
def test_every_content_value_has_a_label(texts: Texts, group: str, values: set[str]) -> None:
    assert len(values) >= 2
    for lang in LANGS:
        assert set(texts.tables[lang][group]) == values, (lang, group)


def test_bot_descriptions_fit_telegram(texts: Texts) -> None:
    for lang in LANGS:
        for key, limit in DESCRIPTION_LIMITS.items():
            assert 1 <= len(texts.get(lang, key)) <= limit, (lang, key)


def test_pop_ups_fit_telegram(texts: Texts) -> None:
    # answerCallbackQuery takes 200 characters; the longest list of what /wipe can forget must fit.
    for lang in LANGS:
        everything = ", ".join(
            texts.get(lang, k) for k in ("forgot_subscription", "forgot_language", "forgot_disappearing")
        )
        for key, values in (
            ("wipe_forgot", {"what": everything}),
            ("disappear_now_on", {"after": texts.label(lang, "disappear_after", "86400")}),
            ("disappear_now_off", {}),
            ("flood_notice", {}),
            ("wipe_kept", {}),
            ("wipe_forgot_nothing", {}),
        ):
            assert len(texts.get(lang, key, **values)) <= 200, (lang, key)


def test_command_descriptions_fit_telegram(texts: Texts) -> None:
    for lang in LANGS:
        for command, description in texts.tables[lang]["commands"].items():
            assert 1 <= len(description) <= 256, (lang, command)


@pytest.mark.parametrize(
    ("n", "form", "text"),
    [
        (0, "many", "0 материалов"),
        (1, "one", "1 материал"),
        (2, "few", "2 материала"),
        (4, "few", "4 материала"),
        (5, "many", "5 материалов"),
        (11, "many", "11 материалов"),
        (12, "many", "12 материалов"),
        (14, "many", "14 материалов"),
        (21, "one", "21 материал"),
        (22, "few", "22 материала"),
        (25, "many", "25 материалов"),
        (101, "one", "101 материал"),
        (111, "many", "111 материалов"),
        (112, "many", "112 материалов"),
        (122, "few", "122 материала"),
    ],
)
def test_russian_plurals(texts: Texts, n: int, form: str, text: str) -> None:
    assert plural_form("ru", n) == form
    assert texts.plural("ru", "count_items", n) == text


@pytest.mark.parametrize(("n", "text"), [(0, "0 items"), (1, "1 item"), (2, "2 items"), (21, "21 items")])
def test_english_plurals(texts: Texts, n: int, text: str) -> None:
    assert texts.plural("en", "count_items", n) == text


def test_russian_result_counts_agree(texts: Texts) -> None:
    assert texts.plural("ru", "count_results", 1) == "Нашёлся 1 материал:"
    assert texts.plural("ru", "count_results", 3) == "Нашлось 3 материала:"
    assert texts.plural("en", "count_results", 1) == "Found 1 item:"


def test_get_formats_values(texts: Texts) -> None:
    assert texts.get("en", "page", page=2, pages=5) == "2/5"
    assert texts.get("ru", "reviewed", date="22.11.2026") == "Проверено 22.11.2026"
    assert texts.get("ru", "menu") == "☰ Меню"


def test_unknown_language_falls_back_to_the_default(texts: Texts) -> None:
    assert texts.get("de", "menu") == texts.get(DEFAULT_LANG, "menu")
    assert texts.plural("de", "count_items", 2) == "2 items"


def test_get_refuses_a_plural_entry(texts: Texts) -> None:
    with pytest.raises(TypeError, match="plural"):
        texts.get("en", "count_items")


def test_label(texts: Texts) -> None:
    assert texts.label("ru", "risk", "high") == "высокий"
    assert texts.label("en", "section", "orgs") == "Organizations that help"
    assert texts.label("en", "risk", "unheard-of") == "unheard-of"
    assert texts.label("en", "no-such-group", "x") == "x"


@pytest.mark.parametrize(
    ("code", "lang"),
    [("ru", "ru"), ("ru-RU", "ru"), ("RU", "ru"), ("en", "en"), ("uk", "en"), ("be", "en"), ("", "en"), (None, "en")],
)
def test_lang_from_code(code: str | None, lang: str) -> None:
    assert lang_from_code(code) == lang
