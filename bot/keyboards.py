"""Keyboard builders; every callback_data prefix lives here.

Callback data is short, self-describing and never carries a person's id:
  m                 main menu
  s:<section>:<p>   a page of a section list
  v:<section>:<slug>  one item
  l:<lang>          switch language
  b:<step>[:args]   the digest subscription flow and settings (topics as a bitmask, rhythm, weekday, hour)
  a:<act>:<slug>    an admin's confirmation (del, keep); refused for anyone who is not an admin
  e:<step>[:arg]    the admin's item editor: f field, v enum value, l language, s save, o save on top, x cancel
  o:<step>          an announcement: go (send), x (drop the draft), stop (cancel while sending)
  d:<hours>         disappearing messages: 0 (off), 1 or 24
  w:<step>          after /wipe: f (forget everything too), k (keep the settings)
  n                 a button that does nothing (the page counter)
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.i18n import LANGS, Texts
from storage.content import Listed
from storage.content_files import SECTIONS

PAGE_SIZE = 8
MENU, NOOP = "m", "n"
CALLBACK_RE = re.compile(
    r"(?:(?P<menu>m)|(?P<noop>n)|s:(?P<s_section>[a-z]+):(?P<page>[0-9]{1,4})"
    r"|v:(?P<v_section>[a-z]+):(?P<slug>[a-z][a-z0-9-]{1,39})|l:(?P<lang>[a-z]{2})"
    r"|b:(?P<step>[trwhsvnuf])(?::(?P<args>[0-9d]{1,2}(?::[0-9d]{1,2}){0,2}))?"
    r"|a:(?P<act>del|keep):(?P<a_slug>[a-z][a-z0-9-]{1,39})"
    r"|e:(?P<e_step>[fvlsox])(?::(?P<e_arg>[a-z_]{1,20}))?"
    r"|o:(?P<o_step>go|x|stop)"
    r"|d:(?P<hours>0|1|24)|w:(?P<w_step>[fk]))"
)


@dataclass(frozen=True)
class Callback:
    """Parsed callback data; kind is menu, noop, section, item or lang."""

    kind: str
    section: str = ""
    page: int = 0
    slug: str = ""
    lang: str = ""
    step: str = ""
    args: tuple[str, ...] = ()


def parse_callback(data: str | None) -> Callback | None:
    """Parse untrusted callback data; None for anything we did not make."""
    match = CALLBACK_RE.fullmatch(data or "")
    if not match:
        return None
    if match.group("menu"):
        return Callback("menu")
    if match.group("noop"):
        return Callback("noop")
    if match.group("s_section"):
        section = match.group("s_section")
        return Callback("section", section=section, page=int(match.group("page"))) if section in SECTIONS else None
    if match.group("v_section"):
        section = match.group("v_section")
        return Callback("item", section=section, slug=match.group("slug")) if section in SECTIONS else None
    if match.group("hours"):
        return Callback("disappear", step=match.group("hours"))
    if match.group("w_step"):
        return Callback("wipe", step=match.group("w_step"))
    if match.group("o_step"):
        return Callback("announce", step=match.group("o_step"))
    if match.group("e_step"):
        return Callback(
            "editor", step=match.group("e_step"), args=(match.group("e_arg"),) if match.group("e_arg") else ()
        )
    if match.group("act"):
        return Callback("admin", step=match.group("act"), slug=match.group("a_slug"))
    if match.group("step"):
        args = tuple(match.group("args").split(":")) if match.group("args") else ()
        return Callback("subscription", step=match.group("step"), args=args)
    lang = match.group("lang")
    return Callback("lang", lang=lang) if lang in LANGS else None


def kind_is(*kinds: str) -> Callable[[object], bool]:
    """A CallbackQueryHandler pattern that accepts only well-formed data of these kinds; the rest falls through."""

    def check(data: object) -> bool:
        parsed = parse_callback(data) if isinstance(data, str) else None
        return parsed is not None and parsed.kind in kinds

    return check


DISAPPEAR_HOURS = (0, 1, 24)


def disappearing_row(texts: Texts, lang: str, seconds: int) -> list[InlineKeyboardButton]:
    """Off, 1 hour, 24 hours, with a check mark on the current choice."""
    return [
        InlineKeyboardButton(
            ("✅ " if hours * 3600 == seconds else "") + texts.label(lang, "disappear_button", str(hours * 3600)),
            callback_data=f"d:{hours}",
        )
        for hours in DISAPPEAR_HOURS
    ]


def wipe_offer(texts: Texts, lang: str) -> InlineKeyboardMarkup:
    """Forget everything too, or keep the settings."""
    return InlineKeyboardMarkup(
        [
            [InlineKeyboardButton(texts.get(lang, "wipe_forget"), callback_data="w:f")],
            [InlineKeyboardButton(texts.get(lang, "wipe_keep"), callback_data="w:k")],
        ]
    )


def section_data(section: str, page: int = 0) -> str:
    return f"s:{section}:{page}"


def item_data(section: str, slug: str) -> str:
    return f"v:{section}:{slug}"


def main_menu(texts: Texts, lang: str) -> InlineKeyboardMarkup:
    """The three sections and the language switch."""
    rows = [[InlineKeyboardButton(texts.label(lang, "section", s), callback_data=section_data(s))] for s in SECTIONS]
    other = next(x for x in LANGS if x != lang)
    rows.append([InlineKeyboardButton(texts.get(other, "language_name"), callback_data=f"l:{other}")])
    return InlineKeyboardMarkup(rows)


def pages(count: int) -> int:
    """How many list pages count items need."""
    return max(1, -(-count // PAGE_SIZE))


def section_page(texts: Texts, lang: str, section: str, listed: list[Listed], page: int) -> InlineKeyboardMarkup:
    """One page of a section: an item per row, a navigation row, the menu."""
    total = pages(len(listed))
    rows = [
        [InlineKeyboardButton(x.title, callback_data=item_data(section, x.slug))]
        for x in listed[page * PAGE_SIZE : (page + 1) * PAGE_SIZE]
    ]
    if total > 1:
        rows.append(
            [
                InlineKeyboardButton(texts.get(lang, "prev"), callback_data=section_data(section, (page - 1) % total)),
                InlineKeyboardButton(texts.get(lang, "page", page=page + 1, pages=total), callback_data=NOOP),
                InlineKeyboardButton(texts.get(lang, "next"), callback_data=section_data(section, (page + 1) % total)),
            ]
        )
    rows.append([InlineKeyboardButton(texts.get(lang, "menu"), callback_data=MENU)])
    return InlineKeyboardMarkup(rows)


def item_view(
    texts: Texts, lang: str, section: str, page: int, related: list[tuple[str, str, str]]
) -> InlineKeyboardMarkup:
    """Related items (section, slug, title), then Back to the list page and the menu."""
    rows = [[InlineKeyboardButton(f"→ {title}", callback_data=item_data(sec, slug))] for sec, slug, title in related]
    back = texts.get(lang, "back_to_list", section=texts.label(lang, "section_short", section))
    rows.append(
        [
            InlineKeyboardButton(back, callback_data=section_data(section, page)),
            InlineKeyboardButton(texts.get(lang, "menu"), callback_data=MENU),
        ]
    )
    return InlineKeyboardMarkup(rows)


def results(texts: Texts, lang: str, hits: list[tuple[str, str, str]]) -> InlineKeyboardMarkup:
    """Search results (section, slug, title) as buttons, then the menu."""
    rows = [[InlineKeyboardButton(title, callback_data=item_data(sec, slug))] for sec, slug, title in hits]
    rows.append([InlineKeyboardButton(texts.get(lang, "menu"), callback_data=MENU)])
    return InlineKeyboardMarkup(rows)


def share_link(texts: Texts, lang: str, bot_username: str, section: str, slug: str) -> InlineKeyboardMarkup:
    """A deep link that opens the item in the bot, for shared inline results."""
    url = f"https://t.me/{bot_username}?start={section}_{slug}"
    return InlineKeyboardMarkup([[InlineKeyboardButton(texts.get(lang, "share"), url=url)]])
