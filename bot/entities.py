"""A Telegram message's text and entities -> the content's Markdown subset (see bot.render).

Admins send an item's body as an ordinary message; this keeps what the subset can say: bold, italic, http(s)
links, line breaks, paragraphs and bullets. Everything else keeps only its text.

How it works, line by line:

1. Each character gets one style. Entity offsets and lengths are UTF-16 code units, so they are mapped to
   Python indices through the UTF-16 width of every character; emoji and other astral characters count two.
   The subset cannot nest, so where entities overlap a link wins over bold, and bold wins over italic.
2. Whitespace at the edges of a styled run goes outside it, and a span never crosses a line break.
3. Each run is written with every special character escaped; italic takes '*' or '_', whichever its
   neighbours allow, and is dropped (text kept) where neither is allowed, as inside a word.
4. The line is rendered with bot.render and compared with the HTML the message means (were they ever to
   differ, the line would keep its text without formatting: never wrong text). Then escapes are dropped
   wherever the rendering stays exactly the same, so ordinary text like "snake_case" or
   "(see above)" stays readable and only what the subset would misread keeps its backslash.
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from collections.abc import Sequence
from dataclasses import dataclass
from enum import Enum
from urllib.parse import quote

from telegram import Message, MessageEntity

from bot.render import ESCAPABLE, esc, esc_attr, markdown

# What str.splitlines() breaks on, so what bot.render.markdown treats as a line break.
LINE_BREAKS = frozenset("\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029")
BULLET_PREFIXES = ("- ", "• ")
HTTP_URL_RE = re.compile(r"(https?)://(\S.*)", re.IGNORECASE | re.DOTALL)
WORD_RE = re.compile(r"\w")
# Each attempt to drop escapes renders the line once; past this many attempts the remaining escapes stay.
MAX_RENDERS = 400


@dataclass(frozen=True)
class Style:
    """What one character looks like in the subset: plain, bold, italic, or a link to url."""

    kind: str = "plain"
    url: str = ""


PLAIN, BOLD, ITALIC = Style(), Style("bold"), Style("italic")

StyledChar = tuple[str, Style]


class _Kind(Enum):
    FIXED = "fixed"  # written as it is
    ESCAPABLE = "escapable"  # one character of ESCAPABLE, written with or without its backslash
    MARKER = "marker"  # '**', '*' or '_' around bold or italic


@dataclass(frozen=True)
class _Token:
    text: str
    kind: _Kind


def from_message(message: Message) -> str:
    """A message's text, or else its caption, as the Markdown subset."""
    if message.text is not None:
        return to_markdown(message.text, message.entities)
    return to_markdown(message.caption or "", message.caption_entities)


def to_markdown(text: str, entities: Sequence[MessageEntity]) -> str:
    """Text and its entities (offsets in UTF-16 code units) as the Markdown subset bot.render reads."""
    lines: list[str] = []
    for line in _lines(_styled(text, entities)):
        encoded = _encode_line(line)
        if encoded or (lines and lines[-1]):  # several blank lines make one paragraph break
            lines.append(encoded)
    while lines and not lines[-1]:
        lines.pop()
    return "\n".join(lines)


# Styles


def http_url(url: str | None) -> str | None:
    """The link target the subset can hold: http(s) only, scheme lowercased, whitespace percent-encoded."""
    match = HTTP_URL_RE.fullmatch((url or "").strip())
    if not match:
        return None
    rest = re.sub(r"\s", lambda m: quote(m.group()), match.group(2))
    return f"{match.group(1).lower()}://{rest}"


def _styled(text: str, entities: Sequence[MessageEntity]) -> list[StyledChar]:
    """Every character with the one style the subset will give it."""
    bounds = [0]  # bounds[i]: the UTF-16 offset where text[i] starts
    for char in text:
        bounds.append(bounds[-1] + (2 if ord(char) > 0xFFFF else 1))
    size = len(text)

    def span(entity: MessageEntity) -> range:
        # An offset inside a surrogate pair (never sent by Telegram) widens the span to whole characters.
        start = max(0, bisect_right(bounds, entity.offset) - 1)
        end = min(size, bisect_left(bounds, entity.offset + entity.length))
        return range(start, end)

    bold, italic = [False] * size, [False] * size
    links: list[str | None] = [None] * size
    for entity in entities:
        if entity.type == MessageEntity.BOLD:
            for i in span(entity):
                bold[i] = True
        elif entity.type == MessageEntity.ITALIC:
            for i in span(entity):
                italic[i] = True
        elif entity.type == MessageEntity.TEXT_LINK and (url := http_url(entity.url)):
            for i in span(entity):
                links[i] = links[i] or url
    styled: list[StyledChar] = []
    for i, char in enumerate(text):
        url = links[i]
        if url is not None:
            styled.append((char, Style("link", url)))
        elif bold[i]:
            styled.append((char, BOLD))
        elif italic[i]:
            styled.append((char, ITALIC))
        else:
            styled.append((char, PLAIN))
    return styled


def _lines(styled: list[StyledChar]) -> list[list[StyledChar]]:
    """Split at line breaks; CRLF counts once, any other break is written as '\\n'."""
    lines: list[list[StyledChar]] = [[]]
    for i, (char, style) in enumerate(styled):
        if char == "\r" and i + 1 < len(styled) and styled[i + 1][0] == "\n":
            continue
        if char in LINE_BREAKS:
            lines.append([])
        else:
            lines[-1].append((char, style))
    return lines


def _strip(chars: list[StyledChar]) -> list[StyledChar]:
    start, end = 0, len(chars)
    while start < end and chars[start][0].isspace():
        start += 1
    while end > start and chars[end - 1][0].isspace():
        end -= 1
    return chars[start:end]


def _segments(chars: list[StyledChar]) -> list[tuple[Style, str]]:
    """Runs of one style, with the whitespace at the edges of each styled run moved outside it."""
    chars = list(chars)
    start = 0
    while start < len(chars):
        style = chars[start][1]
        end = start
        while end < len(chars) and chars[end][1] == style:
            end += 1
        if style != PLAIN:
            first, last = start, end
            while first < last and chars[first][0].isspace():
                first += 1
            while last > first and chars[last - 1][0].isspace():
                last -= 1
            for i in [*range(start, first), *range(last, end)]:
                chars[i] = (chars[i][0], PLAIN)
        start = end
    segments: list[tuple[Style, str]] = []
    for char, style in chars:
        if segments and segments[-1][0] == style:
            segments[-1] = (style, segments[-1][1] + char)
        else:
            segments.append((style, char))
    return segments


# Writing one line


def _encode_line(line: list[StyledChar]) -> str:
    chars = _strip(line)
    if not chars:
        return ""
    prefix, shown_prefix = "", ""
    if "".join(c for c, _ in chars[:2]) in BULLET_PREFIXES:
        prefix, shown_prefix = "- ", "• "
        chars = _strip(chars[2:])
    tokens, expected = _tokens(_segments(chars))
    expected = shown_prefix + expected
    escaped = [token.kind is _Kind.ESCAPABLE for token in tokens]
    if markdown(prefix + _join(tokens, escaped)) != expected:  # a case the rules above missed: keep the text
        tokens = _plain_tokens("".join(c for c, _ in chars))
        expected = shown_prefix + esc("".join(c for c, _ in chars))
        escaped = [token.kind is _Kind.ESCAPABLE for token in tokens]
    candidates = [
        i for i, token in enumerate(tokens) if token.kind is _Kind.ESCAPABLE and not _touches_marker(tokens, i)
    ]
    budget = [MAX_RENDERS]

    def drop(indices: list[int]) -> None:
        """Drop these escapes together if the line still renders the same, else try each half, right half first.

        Most escapes turn out unneeded, so whole runs of them go in one rendering; right first means that of
        two escapes where either would do, the opening one stays, as a person would write it: '\\**not bold**'.
        """
        if not indices or budget[0] <= 0:
            return
        budget[0] -= 1
        for i in indices:
            escaped[i] = False
        if markdown(prefix + _join(tokens, escaped)) == expected:
            return
        for i in indices:
            escaped[i] = True
        if len(indices) > 1:
            middle = len(indices) // 2
            drop(indices[middle:])
            drop(indices[:middle])

    drop(candidates)
    return prefix + _join(tokens, escaped)


def _tokens(segments: list[tuple[Style, str]]) -> tuple[list[_Token], str]:
    """The line's tokens with every special character escapable, and the HTML they must render to."""
    tokens: list[_Token] = []
    html: list[str] = []
    for index, (style, text) in enumerate(segments):
        if style.kind == "bold":
            marker = _Token("**", _Kind.MARKER)
            tokens += [marker, *_plain_tokens(text), marker]
            html.append(f"<b>{esc(text)}</b>")
        elif style.kind == "link":
            tokens += [_Token("[", _Kind.FIXED), *_plain_tokens(text), _Token("](", _Kind.FIXED)]
            tokens += [*_plain_tokens(style.url), _Token(")", _Kind.FIXED)]
            html.append(f'<a href="{esc_attr(style.url)}">{esc(text)}</a>')
        elif style.kind == "italic" and (italic := _italic_marker(tokens, segments[index + 1 :])):
            marker = _Token(italic, _Kind.MARKER)
            tokens += [marker, *_plain_tokens(text), marker]
            html.append(f"<i>{esc(text)}</i>")
        else:
            tokens += _plain_tokens(text)
            html.append(esc(text))
    return tokens, "".join(html)


def _italic_marker(before: list[_Token], after: list[tuple[Style, str]]) -> str | None:
    """'*' or '_', whichever the characters around the span let bot.render read as italic; None if neither."""
    previous = before[-1].text[-1] if before else ""
    following = ""
    if after:
        style, text = after[0]
        following = {"bold": "*", "link": "["}.get(style.kind, "\\" if text[0] in ESCAPABLE else text[0])
    for marker in ("*", "_"):
        if all(not char or (char != marker and not WORD_RE.match(char)) for char in (previous, following)):
            return marker
    return None


def _plain_tokens(text: str) -> list[_Token]:
    return [_Token(char, _Kind.ESCAPABLE if char in ESCAPABLE else _Kind.FIXED) for char in text]


def _touches_marker(tokens: list[_Token], index: int) -> bool:
    """A '*' or '_' next to an emphasis marker keeps its backslash, however the renderer would read it."""
    if tokens[index].text not in "*_":
        return False
    return any(0 <= i < len(tokens) and tokens[i].kind is _Kind.MARKER for i in (index - 1, index + 1))


def _join(tokens: list[_Token], escaped: list[bool]) -> str:
    return "".join("\\" + token.text if escape else token.text for token, escape in zip(tokens, escaped, strict=True))
