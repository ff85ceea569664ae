"""The strict Telegram-HTML parser: plain text, UTF-16 entities and Telegram's error sentences."""

from __future__ import annotations

import pytest

from tests.emulator.html_entities import HtmlParseError, parse_html, trim_formatted, utf16_len


def test_plain_text_has_no_entities() -> None:
    assert parse_html("just text > with a gt") == ("just text > with a gt", [])


def test_basic_tags_and_synonyms() -> None:
    text, entities = parse_html("<b>a</b><strong>b</strong><i>c</i><em>d</em><u>e</u><ins>f</ins><s>g</s><del>h</del>")
    assert text == "abcdefgh"
    assert [e["type"] for e in entities] == [
        "bold", "bold", "italic", "italic", "underline", "underline", "strikethrough", "strikethrough",
    ]  # fmt: skip
    assert [e["offset"] for e in entities] == list(range(8))


def test_offsets_are_utf16_code_units() -> None:
    text, entities = parse_html("👋 <b>привет</b> 🇷🇺<i>x</i>")
    assert text == "👋 привет 🇷🇺x"
    assert entities == [
        {"type": "bold", "offset": 3, "length": 6},
        {"type": "italic", "offset": 14, "length": 1},
    ]
    assert utf16_len("👋") == 2


def test_nested_entities_sorted_like_telegram() -> None:
    _, entities = parse_html("<b>bold <i>both</i></b>")
    assert entities == [
        {"type": "bold", "offset": 0, "length": 9},
        {"type": "italic", "offset": 5, "length": 4},
    ]
    _, same_span = parse_html("<i><b>x</b></i>")
    assert [e["type"] for e in same_span] == ["bold", "italic"]


def test_character_references() -> None:
    assert parse_html("&lt;a&gt; &amp; &quot;q&quot; &#65;&#x42; &amp")[0] == '<a> & "q" AB &'


def test_links_code_pre_spoiler_blockquote_emoji() -> None:
    text, entities = parse_html(
        '<a href="https://ex.com/?a=1&b=2">l</a><code>c</code><pre><code class="language-python">p</code></pre>'
        '<tg-spoiler>s</tg-spoiler><span class="tg-spoiler">S</span><blockquote expandable>q</blockquote>'
        '<blockquote>Q</blockquote><tg-emoji emoji-id="5368324170671202286">👍</tg-emoji><pre>raw</pre>'
    )
    assert text == "lcpsSqQ👍raw"
    assert entities == [
        {"type": "text_link", "offset": 0, "length": 1, "url": "https://ex.com/?a=1&b=2"},
        {"type": "code", "offset": 1, "length": 1},
        {"type": "pre", "offset": 2, "length": 1, "language": "python"},
        {"type": "spoiler", "offset": 3, "length": 1},
        {"type": "spoiler", "offset": 4, "length": 1},
        {"type": "expandable_blockquote", "offset": 5, "length": 1},
        {"type": "blockquote", "offset": 6, "length": 1},
        {"type": "custom_emoji", "offset": 7, "length": 2, "custom_emoji_id": "5368324170671202286"},
        {"type": "pre", "offset": 9, "length": 3},
    ]


def test_tags_are_case_insensitive_and_empty_entities_dropped() -> None:
    assert parse_html("<B>x</b><i></i>y") == ("xy", [{"type": "bold", "offset": 0, "length": 1}])


@pytest.mark.parametrize(
    ("html", "error"),
    [
        ("<p>x</p>", 'Unsupported start tag "p" at byte offset 0'),
        ("ab<div>", 'Unsupported start tag "div" at byte offset 2'),
        ("привет <br>", 'Unsupported start tag "br" at byte offset 13'),
        ("1 < 2", 'Unsupported start tag "" at byte offset 2'),
        ("x <b", "Unclosed start tag at byte offset 2"),
        ("<b>x", 'Can\'t find end tag corresponding to start tag "b"'),
        ("<b><i>x</b></i>", 'Unmatched end tag at byte offset 7, expected "</i>", found "</b>"'),
        ("x</b>", "Unexpected end tag at byte offset 1"),
        ("<b>x</b", "Unclosed end tag at byte offset 4"),
        ("a & b", 'Character "&" must be escaped as "&amp;" at byte offset 2'),
        ("&nbsp;", 'Character "&" must be escaped as "&amp;" at byte offset 0'),
        ("<a>x</a>", 'Tag "a" must have a non-empty attribute "href" at byte offset 0'),
        ('<a href="javascript:alert(1)">x</a>', 'Wrong URL "javascript:alert(1)" in the tag "a" at byte offset 0'),
        ('<span class="x">y</span>', 'Tag "span" must have class "tg-spoiler" at byte offset 0'),
        ("<b title>x</b>", 'Expected equal sign in declaration of an attribute of the tag "b" at byte offset 0'),
        ('<a href="https://x.y>x</a>', "Unclosed start tag at byte offset 0"),
        ("<tg-emoji>x</tg-emoji>", 'Tag "tg-emoji" must have a valid attribute "emoji-id" at byte offset 0'),
    ],
)
def test_refusals(html: str, error: str) -> None:
    with pytest.raises(HtmlParseError) as caught:
        parse_html(html)
    assert str(caught.value) == error


def test_unquoted_attribute_values_and_unknown_attributes() -> None:
    text, entities = parse_html("<code class=language-go>x</code><b data-x='1'>y</b>")
    assert text == "xy"
    assert [e["type"] for e in entities] == ["code", "bold"]


def test_trim_clips_entities() -> None:
    text, entities = parse_html("  <b> bold</b>\n")
    assert trim_formatted(text, entities) == ("bold", [{"type": "bold", "offset": 0, "length": 4}])
    assert trim_formatted(" \n ", []) == ("", [])
