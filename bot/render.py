"""Content -> Telegram HTML; splitting at paragraph boundaries under Telegram's limit."""

from __future__ import annotations

import datetime as dt
import html
import re
from dataclasses import dataclass

from bot.i18n import Texts
from storage.content_files import Conscription, ContentItem, Org, Tactic

MESSAGE_LIMIT = 4096
ESCAPABLE = "\\*_[]()"  # a backslash before one of these makes it a literal character
_ESC = r"[\\*_\[\]()]"


def _content(excluded: str) -> str:
    """One character of a span's content: an escape pair, a backslash escaping nothing, or any other allowed one.

    Escape pairs are taken whole, so an escaped character can never close the span.
    """
    return rf"(?:\\{_ESC}|\\(?!{_ESC})|[^{excluded}\\])"


_LINK_TEXT, _URL_CHAR = _content(r"\]\n"), _content(r"\s)")
_NO_STAR, _NO_UNDERSCORE = _content(r"*\n"), _content(r"_\n")
INLINE_RE = re.compile(
    rf"\\(?P<esc>{_ESC})"
    rf"|\[(?P<ltext>{_LINK_TEXT}+)\]\((?P<url>https?://{_URL_CHAR}+)\)"
    rf"|\*\*(?P<bold>{_NO_STAR}+?)\*\*"
    rf"|(?<![\w*])\*(?P<ital>{_NO_STAR}+?)\*(?![\w*])"
    rf"|(?<![\w_])_(?P<ital2>{_NO_UNDERSCORE}+?)_(?![\w_])"
)
UNESCAPE_RE = re.compile(rf"\\({_ESC})")
TAG_RE = re.compile(r"<(/?)([a-z-]+)([^>]*)>")
MONTHS_EN = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]


def esc(text: str) -> str:
    """Escape text for Telegram HTML."""
    return html.escape(text, quote=False)


def esc_attr(text: str) -> str:
    return html.escape(text, quote=True)


def unescape(text: str) -> str:
    """Drop the backslash of every escape pair: '\\*' -> '*', '\\\\' -> '\\'; other backslashes stay."""
    return UNESCAPE_RE.sub(r"\1", text)


def inline(text: str) -> str:
    """Render one line of the Markdown subset: links, bold, italic, backslash escapes; everything else escaped."""
    out, pos = [], 0
    for m in INLINE_RE.finditer(text):
        out.append(esc(text[pos : m.start()]))
        if m.group("esc") is not None:
            out.append(esc(m.group("esc")))
        elif m.group("ltext") is not None:
            url, ltext = unescape(m.group("url")), unescape(m.group("ltext"))
            out.append(f'<a href="{esc_attr(url)}">{esc(ltext)}</a>')
        elif m.group("bold") is not None:
            out.append(f"<b>{esc(unescape(m.group('bold')))}</b>")
        else:
            out.append(f"<i>{esc(unescape(m.group('ital') or m.group('ital2')))}</i>")
        pos = m.end()
    out.append(esc(text[pos:]))
    return "".join(out)


def markdown(body: str) -> str:
    """Render a body: paragraphs by blank lines, '- ' bullets, line breaks kept."""
    paragraphs = []
    for block in re.split(r"\n\s*\n", body.strip()):
        lines = []
        for line in block.splitlines():
            stripped = line.strip()
            if stripped.startswith(("- ", "* ")):
                lines.append("• " + inline(stripped[2:].strip()))
            else:
                lines.append(inline(stripped))
        paragraphs.append("\n".join(lines))
    return "\n\n".join(paragraphs)


def visible_length(text_html: str) -> int:
    """Length Telegram counts: text after entity parsing, in UTF-16 code units."""
    plain = html.unescape(TAG_RE.sub("", text_html))
    return len(plain.encode("utf-16-le")) // 2


def format_date(value: dt.date | str, lang: str) -> str:
    """22.11.2026 in Russian, 22 Nov 2026 in English; partial dates as they are."""
    if isinstance(value, str):
        try:
            parsed = dt.date.fromisoformat(value)
        except ValueError:
            return value
        return format_date(parsed, lang)
    if lang == "ru":
        return value.strftime("%d.%m.%Y")
    return f"{value.day} {MONTHS_EN[value.month - 1]} {value.year}"


def law_name(texts: Texts, lang: str, law: str) -> str:
    """'UK 207.3' -> 'ст. УК 207.3' / 'Criminal Code art. 207.3'."""
    for prefix, key in (("UK ", "law_uk"), ("KoAP ", "law_koap")):
        if law.startswith(prefix):
            return f"{texts.get(lang, key)} {law[len(prefix) :]}"
    return law


def meta_lines(item: ContentItem, texts: Texts) -> list[str]:
    """The section-specific facts shown above the body."""
    lang, meta, t = item.lang, item.meta, texts
    lines: list[str] = []
    if isinstance(meta, Tactic):
        lines.append(f"{t.get(lang, 'risk_inside')}: <b>{esc(t.label(lang, 'risk', meta.risk_inside))}</b>")
        lines.append(f"{t.get(lang, 'risk_abroad')}: <b>{esc(t.label(lang, 'risk', meta.risk_abroad))}</b>")
        if meta.laws:
            lines.append(f"{t.get(lang, 'laws')}: " + esc("; ".join(law_name(t, lang, x) for x in meta.laws)))
    elif isinstance(meta, Conscription):
        who = ", ".join(t.label(lang, "applies", x) for x in meta.applies_to)
        lines.append(f"{t.get(lang, 'applies_to')}: {esc(who)}")
        if meta.laws:
            lines.append(f"{t.get(lang, 'laws')}: " + esc("; ".join(law_name(t, lang, x) for x in meta.laws)))
    elif isinstance(meta, Org):
        status = t.label(lang, "status_labels", meta.status_in_russia.label)
        if meta.status_in_russia.since:
            status = t.get(lang, "status_since", label=status, since=format_date(meta.status_in_russia.since, lang))
        lines.append(f"{t.get(lang, 'status')}: <b>{esc(status)}</b>")
        lines.append(
            f"{t.get(lang, 'helps_with')}: " + esc(", ".join(t.label(lang, "helps", x) for x in meta.helps_with))
        )
        for contact in meta.contacts:
            lines.append(
                f"{esc(t.label(lang, 'contact_kinds', contact.kind))}: {contact_html(contact.kind, contact.value)}"
            )
        if meta.countries:
            lines.append(f"{t.get(lang, 'countries')}: " + esc(", ".join(meta.countries)))
    return lines


def contact_html(kind: str, value: str) -> str:
    """A contact as a link where Telegram can open it."""
    if kind == "site":
        return (
            f'<a href="{esc_attr(value)}">{esc(value.removeprefix("https://").removeprefix("http://").rstrip("/"))}</a>'
        )
    if kind == "email":
        return f'<a href="mailto:{esc_attr(value)}">{esc(value)}</a>'
    return esc(value)


def item_html(item: ContentItem, texts: Texts) -> str:
    """The whole item view: title, summary, facts, body, sources, review date."""
    lang, meta = item.lang, item.meta
    parts = [f"<b>{esc(meta.title)}</b>\n<i>{esc(meta.summary)}</i>"]
    lines = meta_lines(item, texts)
    if lines:
        parts.append("\n".join(lines))
    parts.append(markdown(item.body))
    sources = [f"<b>{esc(texts.get(lang, 'sources'))}</b>"]
    for number, source in enumerate(meta.sources, start=1):
        sources.append(
            f'{number}. <a href="{esc_attr(source.url)}">{esc(source.title)}</a>, {esc(format_date(source.date, lang))}'
        )
    sources.append(f"<i>{esc(texts.get(lang, 'reviewed', date=format_date(meta.reviewed, lang)))}</i>")
    parts.append("\n".join(sources))
    return "\n\n".join(parts)


@dataclass(frozen=True)
class _Tag:
    name: str
    opening: str


def split_html(text_html: str, limit: int = MESSAGE_LIMIT) -> list[str]:
    """Split at paragraph boundaries so each part's visible length is under limit.

    A paragraph longer than the limit is cut at line breaks, then at spaces, closing the open tags at the
    end of one part and reopening them at the start of the next, so no cut falls inside a tag or an entity.
    """
    parts: list[str] = []
    current = ""
    for paragraph in text_html.split("\n\n"):
        candidate = f"{current}\n\n{paragraph}" if current else paragraph
        if visible_length(candidate) <= limit:
            current = candidate
            continue
        if current:
            parts.append(current)
            current = ""
        if visible_length(paragraph) <= limit:
            current = paragraph
        else:
            pieces = _cut_long(paragraph, limit)
            parts.extend(pieces[:-1])
            current = pieces[-1]
    if current:
        parts.append(current)
    return [p for p in parts if p.strip()] or [text_html]


TOKEN_RE = re.compile(r"<[^>]*>|&[#a-zA-Z0-9]+;|\s+|[^<&\s]+|[<&]")


def _chunks(word: str, size: int) -> list[str]:
    """Cut one word into pieces of at most size UTF-16 units, never inside a surrogate pair."""
    pieces, current, length = [], "", 0
    for char in word:
        width = 2 if ord(char) > 0xFFFF else 1
        if length + width > size:
            pieces.append(current)
            current, length = "", 0
        current += char
        length += width
    return [*pieces, current] if current else pieces


def _cut_long(paragraph: str, limit: int) -> list[str]:
    """Cut one oversized paragraph at whitespace outside tags, balancing tags across each cut.

    A word longer than the limit is cut inside itself, which only pathological text needs.
    """
    parts: list[str] = []
    stack: list[_Tag] = []
    current = ""
    length = 0
    cut: tuple[int, list[_Tag]] | None = None  # where the last allowed break is, and the tags open there

    def close(tags: list[_Tag]) -> str:
        return "".join(f"</{t.name}>" for t in reversed(tags))

    def reopen(tags: list[_Tag]) -> str:
        return "".join(t.opening for t in tags)

    def add_text(piece: str, size: int, breakable: bool) -> None:
        nonlocal current, length, cut
        if breakable:
            cut = (len(current), list(stack))
        if length + size > limit:
            if cut is not None and cut[0] > 0:
                at, tags = cut
                parts.append(current[:at].rstrip() + close(tags))
                current = reopen(tags) + current[at:].lstrip()
            else:
                parts.append(current + close(stack))
                current = reopen(stack)
            length = visible_length(current)
            cut = None
            if piece.isspace():
                return
        current += piece
        length += size

    for token in TOKEN_RE.findall(paragraph):
        if token.startswith("<") and len(token) > 1:
            match = TAG_RE.match(token)
            if match and match.group(1):
                if stack and stack[-1].name == match.group(2):
                    stack.pop()
            elif match:
                stack.append(_Tag(match.group(2), token))
            current += token
        elif token.startswith("&") and len(token) > 1:
            add_text(token, 1, breakable=False)
        elif token.isspace():
            add_text(token, len(token.encode("utf-16-le")) // 2, breakable=True)
        else:
            for number, piece in enumerate(_chunks(token, limit)):
                add_text(piece, len(piece.encode("utf-16-le")) // 2, breakable=number > 0)
    parts.append(current)
    return [part for part in parts if visible_length(part) > 0]


ALLOWED_TAGS = {
    "b",
    "strong",
    "i",
    "em",
    "u",
    "ins",
    "s",
    "strike",
    "del",
    "a",
    "code",
    "pre",
    "blockquote",
    "tg-spoiler",
}
ENTITY_RE = re.compile(r"&(lt|gt|amp|quot|#\d+|#x[0-9a-fA-F]+);")


def html_problem(text_html: str) -> str | None:
    """Why Telegram would refuse this HTML, or None if it would parse."""
    stack: list[str] = []
    pos = 0
    while pos < len(text_html):
        char = text_html[pos]
        if char == "<":
            match = TAG_RE.match(text_html, pos)
            if not match:
                return f"unescaped '<' at {pos}"
            closing, name = bool(match.group(1)), match.group(2)
            if name not in ALLOWED_TAGS:
                return f"unsupported tag <{name}>"
            if closing:
                if not stack or stack[-1] != name:
                    return f"unbalanced </{name}>"
                stack.pop()
            else:
                if name == "a" and not re.match(r'\s+href="(https?://|tg://|mailto:)[^"]*"\s*$', match.group(3)):
                    return "a link without an http(s) href"
                stack.append(name)
            pos = match.end()
        elif char == "&":
            if not ENTITY_RE.match(text_html, pos):
                return f"unescaped '&' at {pos}"
            pos += 1
        else:
            pos += 1
    if stack:
        return f"unclosed <{stack[-1]}>"
    return None
