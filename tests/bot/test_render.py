"""bot.render: the Markdown subset, escaping, item views per section, and splitting under the limit."""

from __future__ import annotations

import datetime as dt
import html
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.i18n import Texts
from bot.render import (
    MESSAGE_LIMIT,
    format_date,
    html_problem,
    inline,
    item_html,
    markdown,
    split_html,
    visible_length,
)
from tests.helpers import fixture_item, variant


def utf16_visible(text_html: str) -> int:
    """What Telegram counts, computed here independently of render.visible_length."""
    plain = html.unescape(re.sub(r"<[^>]+>", "", text_html))
    return len(plain.encode("utf-16-le")) // 2


# The Markdown subset


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("**bold**", "<b>bold</b>"),
        ("*italic*", "<i>italic</i>"),
        ("_italic_", "<i>italic</i>"),
        ("[OVD-Info](https://ovd.info)", '<a href="https://ovd.info">OVD-Info</a>'),
        ("see [a](http://x.org/p?a=1&b=2) now", 'see <a href="http://x.org/p?a=1&amp;b=2">a</a> now'),
        ("a **b** and *c* and [d](https://d.org)", 'a <b>b</b> and <i>c</i> and <a href="https://d.org">d</a>'),
        ("2*3*4 and snake_case_name", "2*3*4 and snake_case_name"),
        ("**unclosed bold", "**unclosed bold"),
        ("[not a link](javascript:alert(1))", "[not a link](javascript:alert(1))"),
        ("[no scheme](ovd.info)", "[no scheme](ovd.info)"),
    ],
)
def test_inline(source: str, expected: str) -> None:
    assert inline(source) == expected


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("a < b & c > d", "a &lt; b &amp; c &gt; d"),
        ("<script>alert(1)</script>", "&lt;script&gt;alert(1)&lt;/script&gt;"),
        ("&amp; stays literal", "&amp;amp; stays literal"),
        ("**<b>**", "<b>&lt;b&gt;</b>"),
        ('[x](https://e.org/"onclick=")', '<a href="https://e.org/&quot;onclick=&quot;">x</a>'),
        ("[<i>](https://e.org)", '<a href="https://e.org">&lt;i&gt;</a>'),
    ],
)
def test_escaping(source: str, expected: str) -> None:
    assert inline(source) == expected
    assert html_problem(inline(source)) is None


# Backslash escapes


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        (r"\*not italic\*", "*not italic*"),
        (r"\*\*not bold\*\*", "**not bold**"),
        (r"\_not italic\_", "_not italic_"),
        (r"\[not a link\](https://e.org)", "[not a link](https://e.org)"),
        (r"\[not a link](https://e.org)", "[not a link](https://e.org)"),
        (r"a \(b\) c", "a (b) c"),
        (r"a backslash: \\", "a backslash: \\"),
        (r"\\*italic after a backslash*", r"\<i>italic after a backslash</i>"),
        (r"\\**bold after a backslash**", r"\<b>bold after a backslash</b>"),
        (r"C:\Users\me and \n", r"C:\Users\me and \n"),
        ("trailing \\", "trailing \\"),
        (r"\<b\>", r"\&lt;b\&gt;"),
    ],
)
def test_escapes_make_literal_characters(source: str, expected: str) -> None:
    assert inline(source) == expected


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        (r"**a\*b**", "<b>a*b</b>"),
        (r"**a\\**", "<b>a\\</b>"),
        (r"*a\*b*", "<i>a*b</i>"),
        (r"_snake\_case_", "<i>snake_case</i>"),
        (r"[a\]b \[c\]](https://e.org)", '<a href="https://e.org">a]b [c]</a>'),
        (r"[x](https://en.wikipedia.org/wiki/Foo_\(bar\))", '<a href="https://en.wikipedia.org/wiki/Foo_(bar)">x</a>'),
        (r"[x](https://e.org/a\\b)", '<a href="https://e.org/a\\b">x</a>'),
    ],
)
def test_escapes_inside_spans(source: str, expected: str) -> None:
    assert inline(source) == expected
    assert html_problem(inline(source)) is None


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        (r"**a\**", "**a**"),  # the escaped '*' cannot close the bold
        (r"*a\*", "*a*"),
        (r"_a\_", "_a_"),
        (r"[a\](https://e.org)", "[a](https://e.org)"),
        (r"[a](https://e.org\)", "[a](https://e.org)"),
    ],
)
def test_an_escaped_character_never_opens_or_closes_a_span(source: str, expected: str) -> None:
    assert inline(source) == expected


def test_escapes_in_bullets_and_paragraphs() -> None:
    assert markdown("\\* not a bullet\n- \\*starred\\*\n\n\\\\") == "* not a bullet\n• *starred*\n\n\\"


def escape_all(text: str) -> str:
    return re.sub(r"([\\*_\[\]()])", r"\\\1", text)


@given(st.text(max_size=60))
def test_escaping_every_special_character_gives_the_text_back(text: str) -> None:
    assert inline(escape_all(text)) == html.escape(text, quote=False)


@given(st.lists(st.sampled_from([*"ab \\*_[]()", "\\\\", "\\*", "](https://e.org/", "**"]), max_size=30).map("".join))
def test_markdown_with_backslashes_gives_html_telegram_accepts(source: str) -> None:
    assert html_problem(markdown(source)) is None


def test_markdown_paragraphs_bullets_and_line_breaks() -> None:
    body = "First line\nsecond line\n\n\n- one\n* two\n  - three\n\n  Last  "
    assert markdown(body) == "First line\nsecond line\n\n• one\n• two\n• three\n\nLast"


def test_markdown_of_a_fixture_body() -> None:
    rendered = markdown(fixture_item("tactics", "letters", "en").body)
    assert rendered == (
        "A letter is a link to the world. Write about <b>everyday</b> things: books, weather, friends.\n\n"
        "• Use an e-letter service.\n• Do not mention the war.\n\n"
        'Not legal advice: ask <a href="https://ovd.info">OVD-Info</a>.'
    )


MARKUP = st.lists(
    st.sampled_from([*"ab _*[]()<>&\"'\n-:/.", "https://", "](", "**", "&amp;", "ё", "😀", "\n\n", "- "]), max_size=40
).map("".join)


@given(st.one_of(MARKUP, st.text(max_size=60)))
def test_markdown_always_gives_html_telegram_accepts(source: str) -> None:
    assert html_problem(markdown(source)) is None


# html_problem


@pytest.mark.parametrize(
    ("text_html", "problem"),
    [
        ("<b>x", "unclosed <b>"),
        ("x</b>", "unbalanced </b>"),
        ("<b><i>x</b></i>", "unbalanced </b>"),
        ("<div>x</div>", "unsupported tag <div>"),
        ("a < b", "unescaped '<' at 2"),
        ("a & b", "unescaped '&' at 2"),
        ("&nbsp;", "unescaped '&' at 0"),
        ('<a href="javascript:x">y</a>', "a link without an http(s) href"),
        ("<a>y</a>", "a link without an http(s) href"),
    ],
)
def test_html_problem_finds_what_telegram_refuses(text_html: str, problem: str) -> None:
    assert html_problem(text_html) == problem


@pytest.mark.parametrize(
    "text_html",
    [
        "plain",
        "<b>a</b> <i>b</i> <u>c</u> <s>d</s> <code>e</code> <pre>f</pre> <tg-spoiler>g</tg-spoiler>",
        '<a href="https://x.org/?a=1&amp;b=2">x</a> <a href="mailto:a@b.org">m</a> <a href="tg://user?id=1">t</a>',
        "&lt;&gt;&amp;&quot;&#39;&#x1F600;",
        "<blockquote><b>x</b></blockquote>",
    ],
)
def test_html_problem_accepts_valid_html(text_html: str) -> None:
    assert html_problem(text_html) is None


# Lengths and dates


def test_visible_length_counts_utf16_after_entities() -> None:
    assert visible_length("<b>a&amp;b</b>") == 3
    assert visible_length("😀") == 2
    assert visible_length('<a href="https://very.long/url">ё</a>') == 1


@pytest.mark.parametrize(
    ("value", "lang", "shown"),
    [
        (dt.date(2026, 11, 2), "ru", "02.11.2026"),
        (dt.date(2026, 11, 2), "en", "2 Nov 2026"),
        ("2025-01-31", "en", "31 Jan 2025"),
        ("2025-01", "ru", "2025-01"),
        ("2025", "en", "2025"),
    ],
)
def test_format_date(value: dt.date | str, lang: str, shown: str) -> None:
    assert format_date(value, lang) == shown


# Item views


def test_tactic_view(texts: Texts) -> None:
    ru = item_html(fixture_item("tactics", "stickers", "ru"), texts)
    assert ru.startswith("<b>Листовки и стикеры</b>\n<i>Листовки, стикеры и ценники")
    assert "Риск в России: <b>высокий</b>\nРиск за рубежом: <b>низкий</b>\nСтатьи: ст. УК 207.3; ст. КоАП 20.3.3" in ru
    en = item_html(fixture_item("tactics", "stickers", "en"), texts)
    assert "Risk inside Russia: <b>high</b>\nRisk abroad: <b>low</b>" in en
    assert "Laws: Criminal Code art. 207.3; Administrative Code art. 20.3.3" in en


def test_tactic_without_laws_has_no_laws_line(texts: Texts) -> None:
    assert "Laws:" not in item_html(fixture_item("tactics", "letters", "en"), texts)


def test_conscription_view(texts: Texts) -> None:
    assert "\nFor: conscripts\nLaws: 127-FZ\n" in item_html(fixture_item("conscription", "summons", "en"), texts)
    assert "\nКого касается: призывники\n" in item_html(fixture_item("conscription", "summons", "ru"), texts)


def test_org_view(texts: Texts) -> None:
    en = item_html(fixture_item("orgs", "helpers", "en"), texts)
    assert 'Status in Russia: <b>"foreign agent" since 29 Sep 2021</b>' in en
    assert "Helps with: legal help, conscription" in en
    assert 'Site: <a href="https://example.org">example.org</a>' in en
    assert "Telegram: @example_bot" in en
    assert "Where: international" in en
    ru = item_html(fixture_item("orgs", "helpers", "ru"), texts)
    assert "Статус в России: <b>«иностранный агент» с 29.09.2021</b>" in ru
    assert "Помогает: юридическая помощь, призыв" in ru


def test_org_without_a_status_date_and_with_an_email(texts: Texts) -> None:
    base = fixture_item("orgs", "helpers", "en")
    item = variant(base, status_in_russia={"label": "none"}, contacts=[{"kind": "email", "value": "help@example.org"}])
    rendered = item_html(item, texts)
    assert "Status in Russia: <b>no status found</b>" in rendered
    assert 'Email: <a href="mailto:help@example.org">help@example.org</a>' in rendered


@pytest.mark.parametrize("lang", ["ru", "en"])
def test_sources_and_review_date_close_every_view(texts: Texts, lang: str) -> None:
    rendered = item_html(fixture_item("conscription", "summons", lang), texts)
    date, reviewed = (
        ("04.11.2025", "Проверено 22.11.2026") if lang == "ru" else ("4 Nov 2025", "Reviewed on 22 Nov 2026")
    )
    heading = "Источники" if lang == "ru" else "Sources"
    assert rendered.endswith(
        f'<b>{heading}</b>\n1. <a href="https://example.org/source">Test source</a>, {date}\n<i>{reviewed}</i>'
    )


@pytest.mark.parametrize(
    ("section", "slug"),
    [("tactics", "letters"), ("tactics", "stickers"), ("conscription", "summons"), ("orgs", "helpers")],
)
@pytest.mark.parametrize("lang", ["ru", "en"])
def test_every_fixture_view_is_valid_and_fits(texts: Texts, section: str, slug: str, lang: str) -> None:
    rendered = item_html(fixture_item(section, slug, lang), texts)
    assert html_problem(rendered) is None
    assert 0 < visible_length(rendered) <= MESSAGE_LIMIT
    assert split_html(rendered) == [rendered]


def test_front_matter_text_is_escaped(texts: Texts) -> None:
    base = fixture_item("tactics", "letters", "en")
    item = variant(
        base,
        title="A <b> & C",
        summary="Less < more > & so on, really",
        sources=[{"title": "<script>", "url": "https://e.org/?a=1&b=2", "date": "2025"}],
    )
    rendered = item_html(item, texts)
    assert html_problem(rendered) is None
    assert rendered.startswith("<b>A &lt;b&gt; &amp; C</b>\n<i>Less &lt; more &gt; &amp; so on, really</i>")
    assert '1. <a href="https://e.org/?a=1&amp;b=2">&lt;script&gt;</a>, 2025' in rendered


# Splitting


def test_short_text_is_one_part() -> None:
    assert split_html("<b>a</b>\n\nb") == ["<b>a</b>\n\nb"]


def test_split_at_paragraph_boundaries() -> None:
    paragraphs = ["a" * 40, "b" * 40, "c" * 40]
    parts = split_html("\n\n".join(paragraphs), limit=90)
    assert parts == [f"{paragraphs[0]}\n\n{paragraphs[1]}", paragraphs[2]]


def test_split_counts_visible_text_not_markup() -> None:
    paragraph = '<a href="https://example.org/a/very/long/path">' + "x" * 40 + "</a>"
    assert split_html(f"{paragraph}\n\n{paragraph}", limit=90) == [f"{paragraph}\n\n{paragraph}"]


def test_split_counts_utf16_units() -> None:
    paragraph = "😀" * 30  # 60 UTF-16 units
    assert split_html(f"{paragraph}\n\n{paragraph}", limit=100) == [paragraph, paragraph]


def test_a_long_paragraph_is_cut_at_spaces_with_tags_balanced() -> None:
    paragraph = "<b>" + " ".join(["слово"] * 40) + "</b> tail " + "<i>" + " ".join(["word"] * 30) + "</i>"
    parts = split_html(paragraph, limit=50)
    assert len(parts) > 3
    for part in parts:
        assert html_problem(part) is None, part
        assert utf16_visible(part) <= 50
    words = [w for p in parts for w in re.sub(r"<[^>]+>", "", p).split()]
    assert words == ["слово"] * 40 + ["tail"] + ["word"] * 30


def test_a_cut_never_falls_inside_an_entity() -> None:
    paragraph = " ".join(["a&amp;b&lt;c"] * 30)
    for limit in range(12, 40):
        for part in split_html(paragraph, limit=limit):
            assert html_problem(part) is None, (limit, part)
            assert utf16_visible(part) <= limit
            assert set(part.split()) == {"a&amp;b&lt;c"}, part


def test_a_cut_never_falls_inside_a_tag() -> None:
    paragraph = " ".join(['<a href="https://example.org/x y">link text</a>'] * 20)
    for part in split_html(paragraph, limit=30):
        assert html_problem(part) is None, part


WORD = st.text(alphabet="abcпрс<>&ё😀", min_size=1, max_size=10)
LINE = st.lists(
    st.one_of(
        WORD,
        WORD.map(lambda w: f"**{w}**"),
        WORD.map(lambda w: f"_{w}_"),
        WORD.map(lambda w: f"[{w}](https://e.org/{len(w)}&x)"),
    ),
    min_size=1,
    max_size=15,
).map(" ".join)
BODY = st.lists(st.lists(LINE, min_size=1, max_size=4).map("\n".join), min_size=1, max_size=6).map("\n\n".join)


@settings(max_examples=300)
@given(body=BODY, limit=st.integers(min_value=40, max_value=400))
def test_split_properties(body: str, limit: int) -> None:
    text_html = markdown(body)
    parts = split_html(text_html, limit)
    for part in parts:
        assert html_problem(part) is None, part
        assert 0 < utf16_visible(part) <= limit, part
    # Nothing is lost or reordered: the visible words come out as they went in.
    words = [w for p in parts for w in html.unescape(re.sub(r"<[^>]+>", "", p)).split()]
    assert words == html.unescape(re.sub(r"<[^>]+>", "", text_html)).split()


def test_a_word_longer_than_the_limit_is_hard_cut() -> None:
    parts = split_html("<b>" + "x" * 120 + "</b>", limit=50)
    assert all(0 < utf16_visible(part) <= 50 for part in parts), parts
    assert all(html_problem(part) is None for part in parts)
