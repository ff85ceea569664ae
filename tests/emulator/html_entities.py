"""Strict parser of Telegram's HTML parse_mode into plain text and UTF-16 entities."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

Entity = dict[str, Any]

_SPACES = frozenset(" \t\r\n\v\f")
_NAME_TOKEN = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-")
_SIMPLE = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "tg-spoiler": "spoiler",
    "span": "spoiler",
}
_TAGS = frozenset({*_SIMPLE, "a", "code", "pre", "blockquote", "tg-emoji", "tg-time"})
_NAMED = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
URL_PREFIXES = ("http://", "https://", "tg://", "mailto:")
# TDLib's ordering of entities starting at the same offset with the same length.
_PRIORITY = {
    "blockquote": 0,
    "expandable_blockquote": 0,
    "pre": 11,
    "code": 20,
    "text_link": 49,
    "text_mention": 49,
    "mention": 50,
    "hashtag": 50,
    "cashtag": 50,
    "bot_command": 50,
    "url": 50,
    "email": 50,
    "phone_number": 50,
    "date_time": 50,
    "bold": 90,
    "italic": 91,
    "underline": 92,
    "strikethrough": 93,
    "spoiler": 94,
    "custom_emoji": 99,
}


class HtmlParseError(ValueError):
    """The text is not valid Telegram HTML; str(err) is Telegram's sentence."""


@dataclass
class _Open:
    tag: str
    argument: str
    expandable: bool
    u16_offset: int
    attrs: dict[str, str]


def utf16_len(text: str) -> int:
    """Length of text in UTF-16 code units, the unit of Telegram's entity offsets."""
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


_MARKUP = re.compile(r"[<&]")


def _char_u16(ch: str) -> int:
    return 2 if ord(ch) > 0xFFFF else 1


def _byte_offset(text: str, index: int) -> int:
    return len(text[:index].encode("utf-8", "surrogatepass"))


def decode_entity(text: str, pos: int) -> tuple[str, int] | None:
    """Decode a character reference at text[pos] == "&" like TDLib does; None if there is none."""
    n = len(text)
    end = pos + 1
    if end < n and text[end] == "#":
        end += 1
        hexadecimal = end < n and text[end] == "x"
        if hexadecimal:
            end += 1
        digits = "0123456789abcdefABCDEF" if hexadecimal else "0123456789"
        start = end
        while end < n and text[end] in digits:
            end += 1
        if end == start or end - start > 8:
            return None
        code = int(text[start:end], 16 if hexadecimal else 10)
        if code == 0 or code >= 0x10FFFF or 0xD800 <= code <= 0xDFFF:
            return None
        char = chr(code)
    else:
        while end < n and text[end].isascii() and text[end].isalpha():
            end += 1
        named = _NAMED.get(text[pos + 1 : end])
        if named is None:
            return None
        char = named
    if end < n and text[end] == ";":
        end += 1
    return char, end


def _valid_url(url: str) -> bool:
    lowered = url.lower()
    return any(lowered.startswith(prefix) and len(url) > len(prefix) for prefix in URL_PREFIXES) and not any(
        ch in _SPACES for ch in url
    )


def parse_html(text: str) -> tuple[str, list[Entity]]:
    """Parse Telegram HTML into (plain text, entities); raise HtmlParseError like Telegram would."""
    if "<" not in text and "&" not in text:
        return text, []
    parser = _Parser(text)
    return parser.run()


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.n = len(text)
        self.i = 0
        self.out: list[str] = []
        self.u16 = 0
        self.stack: list[_Open] = []
        self.entities: list[Entity] = []

    def fail(self, message: str) -> HtmlParseError:
        return HtmlParseError(message)

    def at(self, index: int) -> int:
        return _byte_offset(self.text, index)

    def run(self) -> tuple[str, list[Entity]]:
        text, n = self.text, self.n
        while self.i < n:
            ch = text[self.i]
            if ch == "&":
                decoded = decode_entity(text, self.i)
                if decoded is None:
                    # Stricter than Telegram, which keeps a stray "&" literally: it is almost always a bug.
                    raise self.fail(f'Character "&" must be escaped as "&amp;" at byte offset {self.at(self.i)}')
                char, self.i = decoded
                self.out.append(char)
                self.u16 += _char_u16(char)
            elif ch != "<":
                # Copy the whole run of plain text up to the next markup character at once.
                match = _MARKUP.search(text, self.i)
                end = match.start() if match else n
                chunk = text[self.i : end]
                self.out.append(chunk)
                self.u16 += utf16_len(chunk)
                self.i = end
            elif self.i + 1 < n and text[self.i + 1] == "/":
                self.end_tag()
            else:
                self.start_tag()
        if self.stack:
            raise self.fail(f'Can\'t find end tag corresponding to start tag "{self.stack[-1].tag}"')
        return "".join(self.out), sort_entities(self.entities)

    def skip_spaces(self) -> None:
        while self.i < self.n and self.text[self.i] in _SPACES:
            self.i += 1

    def start_tag(self) -> None:
        text, n = self.text, self.n
        begin = self.i
        self.i += 1
        while self.i < n and text[self.i] not in _SPACES and text[self.i] != ">":
            self.i += 1
        if self.i >= n:
            raise self.fail(f"Unclosed start tag at byte offset {self.at(begin)}")
        tag = text[begin + 1 : self.i].lower()
        if tag not in _TAGS:
            raise self.fail(f'Unsupported start tag "{tag}" at byte offset {self.at(begin)}')
        attrs: dict[str, str] = {}
        expandable = False
        while True:
            self.skip_spaces()
            if self.i >= n:
                raise self.fail(f"Unclosed start tag at byte offset {self.at(begin)}")
            if text[self.i] == ">":
                break
            name_begin = self.i
            while self.i < n and text[self.i] not in _SPACES and text[self.i] not in "=>":
                self.i += 1
            name = text[name_begin : self.i]
            if not name:
                raise self.fail(f'Empty attribute name in the tag "{tag}" at byte offset {self.at(begin)}')
            self.skip_spaces()
            if self.i >= n:
                raise self.fail(f"Unclosed start tag at byte offset {self.at(begin)}")
            if text[self.i] != "=":
                if tag == "blockquote" and name == "expandable":
                    expandable = True
                    continue
                raise self.fail(
                    f'Expected equal sign in declaration of an attribute of the tag "{tag}" '
                    f"at byte offset {self.at(begin)}"
                )
            self.i += 1
            self.skip_spaces()
            if self.i >= n:
                raise self.fail(f"Unclosed start tag at byte offset {self.at(begin)}")
            attrs[name] = self.attribute_value(begin)
            if name == "expandable" and tag == "blockquote":
                expandable = True
        self.i += 1
        argument = self.tag_argument(tag, attrs, begin)
        self.stack.append(_Open(tag, argument, expandable, self.u16, attrs))

    def attribute_value(self, begin: int) -> str:
        text, n = self.text, self.n
        if text[self.i] not in "'\"":
            token_begin = self.i
            while self.i < n and text[self.i] in _NAME_TOKEN:
                self.i += 1
            if self.i >= n:
                raise self.fail(f"Unclosed start tag at byte offset {self.at(begin)}")
            if text[self.i] not in _SPACES and text[self.i] != ">":
                raise self.fail(f"Unexpected end of name token at byte offset {self.at(token_begin)}")
            return text[token_begin : self.i].lower()
        quote = text[self.i]
        self.i += 1
        value: list[str] = []
        while self.i < n and text[self.i] != quote:
            if text[self.i] == "&":
                decoded = decode_entity(text, self.i)
                if decoded is not None:
                    value.append(decoded[0])
                    self.i = decoded[1]
                    continue
            value.append(text[self.i])
            self.i += 1
        if self.i >= n:
            raise self.fail(f"Unclosed start tag at byte offset {self.at(begin)}")
        self.i += 1
        return "".join(value)

    def tag_argument(self, tag: str, attrs: dict[str, str], begin: int) -> str:
        where = f"at byte offset {self.at(begin)}"
        if tag == "a":
            href = attrs.get("href", "")
            if not href:
                raise self.fail(f'Tag "a" must have a non-empty attribute "href" {where}')
            if not _valid_url(href):
                raise self.fail(f'Wrong URL "{href}" in the tag "a" {where}')
            return href
        if tag == "code":
            cls = attrs.get("class", "")
            return cls[len("language-") :] if cls.startswith("language-") else ""
        if tag == "span":
            if attrs.get("class") != "tg-spoiler":
                raise self.fail(f'Tag "span" must have class "tg-spoiler" {where}')
            return ""
        if tag == "tg-emoji":
            emoji_id = attrs.get("emoji-id", "")
            if not emoji_id.isdigit():
                raise self.fail(f'Tag "tg-emoji" must have a valid attribute "emoji-id" {where}')
            return emoji_id
        if tag == "tg-time":
            unix = attrs.get("unix", "")
            if not unix.isdigit():
                raise self.fail(f'Tag "tg-time" must have a valid attribute "unix" {where}')
            return unix
        return ""

    def end_tag(self) -> None:
        text, n = self.text, self.n
        begin = self.i
        if not self.stack:
            raise self.fail(f"Unexpected end tag at byte offset {self.at(begin)}")
        self.i += 2
        while self.i < n and text[self.i] not in _SPACES and text[self.i] != ">":
            self.i += 1
        end_name = text[begin + 2 : self.i]
        self.skip_spaces()
        if self.i >= n or text[self.i] != ">":
            raise self.fail(f"Unclosed end tag at byte offset {self.at(begin)}")
        self.i += 1
        top = self.stack.pop()
        if end_name and end_name != top.tag:
            raise self.fail(
                f'Unmatched end tag at byte offset {self.at(begin)}, expected "</{top.tag}>", found "</{end_name}>"'
            )
        if self.u16 > top.u16_offset:
            self.close_entity(top)

    def close_entity(self, top: _Open) -> None:
        offset, length = top.u16_offset, self.u16 - top.u16_offset
        base: Entity = {"offset": offset, "length": length}
        if top.tag in _SIMPLE:
            self.entities.append({"type": _SIMPLE[top.tag], **base})
        elif top.tag == "a":
            self.entities.append({"type": "text_link", **base, "url": top.argument})
        elif top.tag == "code":
            self.entities.append({"type": "code", **base, "language": top.argument})
        elif top.tag == "pre":
            self.close_pre(base)
        elif top.tag == "blockquote":
            kind = "expandable_blockquote" if top.expandable else "blockquote"
            self.entities.append({"type": kind, **base})
        elif top.tag == "tg-emoji":
            self.entities.append({"type": "custom_emoji", **base, "custom_emoji_id": top.argument})
        else:
            entity: Entity = {"type": "date_time", **base, "unix_time": int(top.argument)}
            if top.attrs.get("format"):
                entity["date_time_format"] = top.attrs["format"]
            self.entities.append(entity)

    def close_pre(self, base: Entity) -> None:
        end = base["offset"] + base["length"]
        language = ""
        kept: list[Entity] = []
        for entity in self.entities:
            inside = (
                entity["type"] == "code"
                and base["offset"] <= entity["offset"]
                and (entity["offset"] + entity["length"] <= end)
            )
            if not inside:
                kept.append(entity)
            elif entity["offset"] == base["offset"] and entity["length"] == base["length"]:
                language = entity["language"]
        self.entities = kept
        self.entities.append({"type": "pre", **base, **({"language": language} if language else {})})


def sort_entities(entities: list[Entity]) -> list[Entity]:
    """Order entities as Telegram returns them and drop the internal empty code language."""
    for entity in entities:
        if entity["type"] == "code":
            entity.pop("language", None)
    return sorted(entities, key=lambda e: (e["offset"], -e["length"], _PRIORITY.get(e["type"], 50)))


def trim_formatted(text: str, entities: list[Entity]) -> tuple[str, list[Entity]]:
    """Strip leading/trailing whitespace as Telegram does, clipping entities to what remains."""
    stripped = text.strip()
    if stripped == text:
        return text, entities
    if not stripped:
        return "", []
    lead = utf16_len(text[: len(text) - len(text.lstrip())])
    total = utf16_len(stripped)
    result: list[Entity] = []
    for entity in entities:
        start = max(entity["offset"] - lead, 0)
        end = min(entity["offset"] + entity["length"] - lead, total)
        if end > start:
            result.append({**entity, "offset": start, "length": end - start})
    return stripped, result
