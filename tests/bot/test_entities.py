"""bot.entities: a Telegram message's text and entities as the content's Markdown subset."""

from __future__ import annotations

import datetime as dt
import html
import itertools
import re
from html.parser import HTMLParser
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from telegram import Chat, Message, MessageEntity

from bot.entities import from_message, to_markdown
from bot.render import html_problem, markdown


def u16(text: str) -> int:
    """Length in UTF-16 code units, computed here independently of bot.entities."""
    return len(text.encode("utf-16-le")) // 2


def ent(kind: str, text: str, part: str, *, nth: int = 0, **kwargs: Any) -> MessageEntity:
    """An entity over the nth occurrence of part in text, with Telegram's UTF-16 offset and length."""
    start = -1
    for _ in range(nth + 1):
        start = text.index(part, start + 1)
    return MessageEntity(kind, u16(text[:start]), u16(part), **kwargs)


def rendered(source: str) -> str:
    out = markdown(source)
    assert html_problem(out) is None, out
    return out


def convert(text: str, *entities: MessageEntity) -> tuple[str, str]:
    """The subset text and its rendering; every rendering must be HTML Telegram accepts."""
    source = to_markdown(text, entities)
    return source, rendered(source)


# Each entity type


@pytest.mark.parametrize(
    ("kind", "expected_md", "expected_html"),
    [
        (MessageEntity.BOLD, "a **word** b", "a <b>word</b> b"),
        (MessageEntity.ITALIC, "a *word* b", "a <i>word</i> b"),
        (MessageEntity.UNDERLINE, "a word b", "a word b"),
        (MessageEntity.STRIKETHROUGH, "a word b", "a word b"),
        (MessageEntity.SPOILER, "a word b", "a word b"),
        (MessageEntity.CODE, "a word b", "a word b"),
        (MessageEntity.PRE, "a word b", "a word b"),
        (MessageEntity.BLOCKQUOTE, "a word b", "a word b"),
        (MessageEntity.EXPANDABLE_BLOCKQUOTE, "a word b", "a word b"),
        (MessageEntity.HASHTAG, "a word b", "a word b"),
        (MessageEntity.MENTION, "a word b", "a word b"),
        ("some_future_type", "a word b", "a word b"),
    ],
)
def test_each_entity_type(kind: str, expected_md: str, expected_html: str) -> None:
    assert convert("a word b", ent(kind, "a word b", "word")) == (expected_md, expected_html)


def test_custom_emoji_keeps_its_fallback_emoji() -> None:
    text = "hi 👍 there"
    emoji = ent(MessageEntity.CUSTOM_EMOJI, text, "👍", custom_emoji_id="5368324170671202286")
    assert convert(text, emoji) == (text, text)


def test_text_link_to_http_and_https() -> None:
    text = "read OVD-Info and Meduza"
    source, out = convert(
        text,
        ent(MessageEntity.TEXT_LINK, text, "OVD-Info", url="https://ovd.info/"),
        ent(MessageEntity.TEXT_LINK, text, "Meduza", url="http://meduza.io"),
    )
    assert source == "read [OVD-Info](https://ovd.info/) and [Meduza](http://meduza.io)"
    assert out == 'read <a href="https://ovd.info/">OVD-Info</a> and <a href="http://meduza.io">Meduza</a>'


@pytest.mark.parametrize(
    "url", ["tg://user?id=1", "mailto:a@b.org", "javascript:alert(1)", "ftp://x.org", "https://", "", None]
)
def test_other_link_targets_keep_just_the_text(url: str | None) -> None:
    text = "see this note"
    assert convert(text, ent(MessageEntity.TEXT_LINK, text, "this", url=url)) == (text, text)


def test_text_mention_keeps_just_the_text() -> None:
    text = "ask Anna"
    assert to_markdown(text, [ent(MessageEntity.TEXT_MENTION, text, "Anna")]) == text


def test_link_url_is_normalised_to_what_the_subset_holds() -> None:
    text = "a b c"
    source, out = convert(
        text,
        ent(MessageEntity.TEXT_LINK, text, "a", url="HTTPS://E.org/Path"),
        ent(MessageEntity.TEXT_LINK, text, "b", url="https://en.wikipedia.org/wiki/Foo_(bar)"),
        ent(MessageEntity.TEXT_LINK, text, "c", url="https://e.org/a b?q=1&r=<2>"),
    )
    assert source == (
        "[a](https://E.org/Path) [b](https://en.wikipedia.org/wiki/Foo_(bar\\)) [c](https://e.org/a%20b?q=1&r=<2>)"
    )
    assert out == (
        '<a href="https://E.org/Path">a</a> <a href="https://en.wikipedia.org/wiki/Foo_(bar)">b</a> '
        '<a href="https://e.org/a%20b?q=1&amp;r=&lt;2&gt;">c</a>'
    )


def test_url_entities_stay_plain_text() -> None:
    text = "see https://example.org/a_b_(c) and https://e.org/*x*"
    source, out = convert(
        text,
        ent(MessageEntity.URL, text, "https://example.org/a_b_(c)"),
        ent(MessageEntity.URL, text, "https://e.org/*x*"),
    )
    # Only the asterisks, which would turn into italic, need a backslash.
    assert source == "see https://example.org/a_b_(c) and https://e.org/\\*x*"
    assert out == "see https://example.org/a_b_(c) and https://e.org/*x*"


# Nesting and overlaps


def test_bold_and_italic_over_the_same_range_keep_the_bold() -> None:
    text = "very important"
    bold, italic = ent(MessageEntity.BOLD, text, "important"), ent(MessageEntity.ITALIC, text, "important")
    assert convert(text, bold, italic) == ("very **important**", "very <b>important</b>")
    assert convert(text, italic, bold) == ("very **important**", "very <b>important</b>")


def test_bold_inside_a_link_keeps_the_link() -> None:
    text = "go to the site now"
    link = ent(MessageEntity.TEXT_LINK, text, "to the site", url="https://e.org")
    assert convert(text, link, ent(MessageEntity.BOLD, text, "the")) == (
        "go [to the site](https://e.org) now",
        'go <a href="https://e.org">to the site</a> now',
    )


def test_a_link_inside_bold_splits_the_bold_around_it() -> None:
    text = "Read this guide today"
    source, out = convert(
        text,
        ent(MessageEntity.BOLD, text, text),
        ent(MessageEntity.TEXT_LINK, text, "guide", url="https://e.org/g"),
    )
    assert source == "**Read this** [guide](https://e.org/g) **today**"
    assert out == '<b>Read this</b> <a href="https://e.org/g">guide</a> <b>today</b>'


def test_bold_inside_italic() -> None:
    text = "all of this matters"
    source, out = convert(text, ent(MessageEntity.ITALIC, text, text), ent(MessageEntity.BOLD, text, "this"))
    assert source == "*all of* **this** *matters*"
    assert out == "<i>all of</i> <b>this</b> <i>matters</i>"


def test_partly_overlapping_bold_and_italic_touch_without_confusing_the_markers() -> None:
    text = "abcdef"
    source, out = convert(text, ent(MessageEntity.BOLD, text, "abcd"), ent(MessageEntity.ITALIC, text, "cdef"))
    # '*ef*' right after '**' would not be read as italic; '_ef_' is.
    assert source == "**abcd**_ef_"
    assert out == "<b>abcd</b><i>ef</i>"
    source, out = convert(text, ent(MessageEntity.ITALIC, text, "abc"), ent(MessageEntity.BOLD, text, "def"))
    assert (source, out) == ("_abc_**def**", "<i>abc</i><b>def</b>")


def test_overlapping_links_keep_the_first() -> None:
    text = "one two"
    first = ent(MessageEntity.TEXT_LINK, text, "one two", url="https://a.org")
    second = ent(MessageEntity.TEXT_LINK, text, "two", url="https://b.org")
    assert to_markdown(text, [first, second]) == "[one two](https://a.org)"


def test_italic_inside_a_word_keeps_only_the_text() -> None:
    text = "unbelievable, обязательно"
    source, out = convert(
        text, ent(MessageEntity.ITALIC, text, "believ"), ent(MessageEntity.ITALIC, text, "обязательн")
    )
    assert (source, out) == (text, text)
    # Bold has no such limit in the subset.
    assert convert(text, ent(MessageEntity.BOLD, text, "believ"))[1] == "un<b>believ</b>able, обязательно"


def test_italic_next_to_an_asterisk_uses_underscores() -> None:
    text = "x *y*"
    assert convert(text, ent(MessageEntity.ITALIC, text, "y")) == ("x \\*_y_\\*", "x *<i>y</i>*")


# Whitespace at entity edges


def test_whitespace_at_entity_edges_goes_outside_the_markers() -> None:
    text = "Note: this matters \u00a0and more"
    source, out = convert(
        text,
        ent(MessageEntity.BOLD, text, "Note: "),
        ent(MessageEntity.ITALIC, text, " this matters \u00a0"),
    )
    assert source == "**Note:** *this matters* \u00a0and more"
    assert out == "<b>Note:</b> <i>this matters</i> \u00a0and more"


def test_an_entity_of_only_whitespace_leaves_no_markers() -> None:
    text = "a   b"
    assert to_markdown(text, [MessageEntity(MessageEntity.BOLD, 1, 3)]) == "a   b"


def test_an_entity_across_a_line_break_is_closed_and_reopened() -> None:
    text = "first line \nsecond line"
    source, out = convert(text, MessageEntity(MessageEntity.BOLD, 6, u16("line \nsecond")))
    assert source == "first **line**\n**second** line"
    assert out == "first <b>line</b>\n<b>second</b> line"


# Emoji and other astral characters


def test_emoji_before_entities_shift_nothing() -> None:
    text = "🇷🇺 😀 Привет 👨‍👩‍👧 bold and italic 𝕏 link"
    source, out = convert(
        text,
        ent(MessageEntity.BOLD, text, "bold"),
        ent(MessageEntity.ITALIC, text, "italic"),
        ent(MessageEntity.TEXT_LINK, text, "link", url="https://e.org"),
    )
    assert source == "🇷🇺 😀 Привет 👨‍👩‍👧 **bold** and *italic* 𝕏 [link](https://e.org)"
    assert out == '🇷🇺 😀 Привет 👨‍👩‍👧 <b>bold</b> and <i>italic</i> 𝕏 <a href="https://e.org">link</a>'


def test_emoji_inside_and_at_the_edges_of_an_entity() -> None:
    text = "a😀b😀c d"
    source, out = convert(text, ent(MessageEntity.BOLD, text, "😀b😀"))
    assert (source, out) == ("a**😀b😀**c d", "a<b>😀b😀</b>c d")


def test_offsets_are_utf16_not_python_indices() -> None:
    text = "😀😀ab"
    # Python indices would put 'ab' at 2..4; in UTF-16 it starts at 4.
    assert to_markdown(text, [MessageEntity(MessageEntity.BOLD, 4, 2)]) == "😀😀**ab**"
    assert to_markdown(text, [MessageEntity(MessageEntity.BOLD, 2, 2)]) == "😀**😀**ab"


def test_offsets_inside_a_surrogate_pair_or_out_of_range_do_not_crash() -> None:
    text = "😀ab"
    assert to_markdown(text, [MessageEntity(MessageEntity.BOLD, 1, 2)]) == "**😀a**b"
    assert to_markdown(text, [MessageEntity(MessageEntity.BOLD, 3, 99)]) == "😀a**b**"
    assert to_markdown(text, [MessageEntity(MessageEntity.BOLD, 50, 2)]) == "😀ab"


# Escapes


@pytest.mark.parametrize(
    ("text", "expected_md"),
    [
        ("5 * 3 * 2", "5 \\* 3 * 2"),
        ("**not bold**", "\\**not bold**"),
        ("_not italic_", "\\_not italic_"),
        ("snake_case_name, 2*3*4 and (see above)", "snake_case_name, 2*3*4 and (see above)"),
        ("[not a link](https://e.org)", "\\[not a link](https://e.org)"),
        ("[just brackets] and (parens)", "[just brackets] and (parens)"),
        ("C:\\Users\\me", "C:\\Users\\me"),
        ("a backslash \\*before* a star", "a backslash \\\\\\*before* a star"),
        ("trailing \\", "trailing \\"),
        ("<b>&amp;</b>", "<b>&amp;</b>"),
    ],
)
def test_plain_text_keeps_only_the_escapes_it_needs(text: str, expected_md: str) -> None:
    source, out = convert(text)
    assert source == expected_md
    assert out == html.escape(text, quote=False)


def test_special_characters_inside_entities() -> None:
    text = "a*b_c [x](y) \\ and ok"
    source, out = convert(
        text,
        ent(MessageEntity.BOLD, text, "a*b_c"),
        ent(MessageEntity.TEXT_LINK, text, "[x](y) \\", url="https://e.org/\\)"),
        ent(MessageEntity.ITALIC, text, "ok"),
    )
    assert source == "**a\\*b_c** [[x\\](y) \\\\](https://e.org/\\\\\\)) and *ok*"
    assert out == '<b>a*b_c</b> <a href="https://e.org/\\)">[x](y) \\</a> and <i>ok</i>'


def test_backslash_right_before_a_marker() -> None:
    text = "path\\ bold"
    text2 = "path\\bold"
    assert convert(text, ent(MessageEntity.BOLD, text, "bold"))[1] == "path\\ <b>bold</b>"
    assert convert(text2, ent(MessageEntity.BOLD, text2, "bold")) == ("path\\\\**bold**", "path\\<b>bold</b>")


# Lines, paragraphs, bullets


def test_line_breaks_paragraphs_and_bullets() -> None:
    text = "Title\nsecond line\n\n\n\n- one\n• two\n  • three\n-not a bullet\n* star\n\nEnd\n"
    source, out = convert(text, ent(MessageEntity.BOLD, text, "two"))
    assert source == "Title\nsecond line\n\n- one\n- **two**\n- three\n-not a bullet\n\\* star\n\nEnd"
    assert out == "Title\nsecond line\n\n• one\n• <b>two</b>\n• three\n-not a bullet\n* star\n\nEnd"


def test_a_styled_bullet_marker_is_still_a_bullet() -> None:
    text = "- item\n• other"
    source, out = convert(text, ent(MessageEntity.BOLD, text, "- item"), ent(MessageEntity.ITALIC, text, "• other"))
    assert (source, out) == ("- **item**\n- *other*", "• <b>item</b>\n• <i>other</i>")


def test_other_line_breaks() -> None:
    text = "a\r\nb\u2028c\rd"
    source, out = convert(text, MessageEntity(MessageEntity.BOLD, 0, u16(text)))
    assert source == "**a**\n**b**\n**c**\n**d**"
    assert out == "<b>a</b>\n<b>b</b>\n<b>c</b>\n<b>d</b>"


def test_empty_and_blank_text() -> None:
    assert to_markdown("", []) == ""
    assert to_markdown(" \n\n \u00a0\n", [MessageEntity(MessageEntity.BOLD, 0, 3)]) == ""


# Messages


def message(**kwargs: Any) -> Message:
    return Message(1, dt.datetime(2026, 11, 22, tzinfo=dt.UTC), Chat(1, Chat.PRIVATE), **kwargs)


def test_from_message_text() -> None:
    text = "😀 **Bold** and a link"
    msg = message(
        text=text,
        entities=[
            ent(MessageEntity.BOLD, text, "**Bold**"),
            ent(MessageEntity.TEXT_LINK, text, "link", url="https://e.org"),
        ],
    )
    assert from_message(msg) == "😀 **\\*\\*Bold\\*\\*** and a [link](https://e.org)"
    assert rendered(from_message(msg)) == '😀 <b>**Bold**</b> and a <a href="https://e.org">link</a>'


def test_from_message_caption() -> None:
    caption = "Photo: what to do"
    msg = message(caption=caption, caption_entities=[ent(MessageEntity.ITALIC, caption, "what to do")])
    assert from_message(msg) == "Photo: *what to do*"


def test_from_message_without_text_or_caption() -> None:
    assert from_message(message()) == ""


def test_from_message_built_from_bot_api_json() -> None:
    data = {
        "message_id": 7,
        "date": 1_790_000_000,
        "chat": {"id": 42, "type": "private"},
        "text": "👋 Hi bold italic link",
        "entities": [
            {"type": "bold", "offset": 6, "length": 5},  # 'bold ': the trailing space clients add
            {"type": "italic", "offset": 11, "length": 6},
            {"type": "text_link", "offset": 18, "length": 4, "url": "https://e.org/"},
            {"type": "bold", "offset": 18, "length": 4},
        ],
    }
    msg = Message.de_json(data, None)
    assert msg.parse_entity(msg.entities[0]) == "bold "  # PTB agrees on what the offsets cover
    assert from_message(msg) == "👋 Hi **bold** *italic* [link](https://e.org/)"


# The round trip: whatever the text and entities, the rendering shows the same text with the same formatting


class _Parsed(HTMLParser):
    """Visible characters of rendered HTML with (bold, italic, href) for each."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.chars: list[tuple[str, tuple[bool, bool, str | None]]] = []
        self.open: list[tuple[str, str | None]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.open.append((tag, dict(attrs).get("href")))

    def handle_endtag(self, tag: str) -> None:
        assert self.open.pop()[0] == tag

    def handle_data(self, data: str) -> None:
        tags = [t for t, _ in self.open]
        href = next((h for t, h in self.open if t == "a"), None)
        self.chars += [(char, ("b" in tags, "i" in tags, href)) for char in data]


def parse(text_html: str) -> list[tuple[str, tuple[bool, bool, str | None]]]:
    parser = _Parsed()
    parser.feed(text_html)
    parser.close()
    assert not parser.open
    return parser.chars


Styled = list[tuple[str, tuple[bool, bool, str | None]]]


def as_shown(chars: Styled) -> Styled:
    """What the subset keeps of styled text: lines stripped, '- '/'• ' bullets, one blank line between paragraphs."""
    lines: list[Styled] = [[]]
    for char in chars:
        if char[0] == "\n":
            lines.append([])
        else:
            lines[-1].append(char)
    plain = (False, False, None)
    out: list[Styled] = []
    for line in lines:
        while line and line[0][0].isspace():
            line = line[1:]
        while line and line[-1][0].isspace():
            line = line[:-1]
        if "".join(c for c, _ in line[:2]) in ("- ", "• "):
            rest = line[2:]
            while rest and rest[0][0].isspace():
                rest = rest[1:]
            line = [("•", plain), (" ", plain), *rest]
        if line or (out and out[-1]):
            out.append(line)
    while out and not out[-1]:
        out.pop()
    joined: Styled = []
    for number, line in enumerate(out):
        if number:
            joined.append(("\n", plain))
        joined += line
    return joined


PIECES = [*"ab я1_*[]()\\<>&-•\n.:/", " ", "\u00a0", "😀", "🇷🇺", "https://e.org/x", "**", "- ", "\n\n"]
URLS = ["https://e.org/a", "http://e.org/a_(b)", "https://e.org/\\*", "tg://user?id=1", "mailto:a@b.org"]


@st.composite
def messages(draw: st.DrawFn) -> tuple[str, list[MessageEntity]]:
    """Random text and random non-overlapping bold/italic/text_link/url entities (offsets as Python indices)."""
    text = "".join(draw(st.lists(st.sampled_from(PIECES), max_size=30)))
    cuts = sorted(set(draw(st.lists(st.integers(0, len(text)), max_size=10))))
    entities = []
    for start, end in itertools.pairwise(cuts):
        kind = draw(st.sampled_from(["bold", "italic", "text_link", "url", "none"]))
        if kind != "none":
            url = draw(st.sampled_from(URLS)) if kind == "text_link" else None
            entities.append(MessageEntity(kind, start, end - start, url=url))
    return text, entities


def styles_of(text: str, entities: list[MessageEntity]) -> Styled:
    """What each character of text is meant to look like (entities with Python offsets, none overlapping)."""
    styles: list[tuple[bool, bool, str | None]] = [(False, False, None)] * len(text)
    for entity in entities:
        for i in range(entity.offset, entity.offset + entity.length):
            if entity.type == MessageEntity.BOLD:
                styles[i] = (True, False, None)
            elif entity.type == MessageEntity.ITALIC:
                styles[i] = (False, True, None)
            elif entity.type == MessageEntity.TEXT_LINK and entity.url and entity.url.startswith("http"):
                styles[i] = (False, False, entity.url)
    return list(zip(text, styles, strict=True))


@settings(max_examples=500)
@given(messages())
def test_round_trip_keeps_the_text_and_its_formatting(case: tuple[str, list[MessageEntity]]) -> None:
    text, entities = case
    # Telegram counts in UTF-16 code units; PTB's own helper converts the Python offsets.
    utf16 = MessageEntity.adjust_message_entities_to_utf_16(text, entities)
    source = to_markdown(text, utf16)
    out = markdown(source)
    assert html_problem(out) is None, (source, out)

    # The visible text comes back: tags stripped and entities unescaped, as the subset shows the original.
    expected = as_shown(styles_of(text, entities))
    assert html.unescape(re.sub(r"<[^>]+>", "", out)) == "".join(c for c, _ in expected), source

    # And so does the formatting, character by character; only whitespace at the edges of an entity may lose it.
    got = parse(out)
    assert [c for c, _ in got] == [c for c, _ in expected]
    for (char, (bold, italic, href)), (_, (was_bold, was_italic, was_href)) in zip(got, expected, strict=True):
        if char.isspace():
            assert (bold, italic, href) in {(False, False, None), (was_bold, was_italic, was_href)}
            continue
        assert bold == was_bold, source
        assert href == was_href, source
        # Italic is the one style the subset cannot always place (inside a word): it may be lost, never invented.
        assert italic <= was_italic, source
