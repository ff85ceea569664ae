"""Rendered section pages and item views, kept in memory until the content changes.

Content changes rarely and is read on every button press; rendering from the database each time costs more than
the press itself. Nothing here is about a person: keys are sections, slugs, pages and languages.
"""

from __future__ import annotations

from dataclasses import dataclass

import aiosqlite
from telegram import InlineKeyboardMarkup

from bot import keyboards
from bot.i18n import Texts
from bot.render import esc, item_html
from storage import content
from storage.content import Listed
from storage.content_files import ContentItem


@dataclass(frozen=True)
class View:
    """What one message shows: its HTML and its buttons."""

    html: str
    markup: InlineKeyboardMarkup


class Views:
    """Builds views from the database on first use and keeps them until invalidate()."""

    def __init__(self, db: aiosqlite.Connection, texts: Texts) -> None:
        self.db = db
        self.texts = texts
        self._lists: dict[tuple[str, str], list[Listed]] = {}
        self._views: dict[tuple[str, ...], View] = {}

    def invalidate(self) -> None:
        """Forget everything after content was imported, published or removed."""
        self._lists.clear()
        self._views.clear()

    async def listing(self, section: str, lang: str) -> list[Listed]:
        """The published items of a section, in display order."""
        key = (section, lang)
        if key not in self._lists:
            self._lists[key] = await content.list_section(self.db, section, lang)
        return self._lists[key]

    async def section_page(self, section: str, page: int, lang: str) -> View:
        """One page of a section list (page numbers out of range show the nearest page)."""
        listed = await self.listing(section, lang)
        page = min(max(page, 0), keyboards.pages(len(listed)) - 1)
        key = ("s", section, str(page), lang)
        if key not in self._views:
            t = self.texts
            lines = [
                f"<b>{esc(t.label(lang, 'section', section))}</b> · {esc(t.plural(lang, 'count_items', len(listed)))}"
            ]
            for row in listed[page * keyboards.PAGE_SIZE : (page + 1) * keyboards.PAGE_SIZE]:
                lines.append(f"\n<b>{esc(row.title)}</b>\n{esc(row.summary)}")
            self._views[key] = View("\n".join(lines), keyboards.section_page(t, lang, section, listed, page))
        return self._views[key]

    async def item(self, section: str, slug: str, lang: str) -> View | None:
        """One item with its related items and the way back to its list page; None if it is not published."""
        key = ("v", section, slug, lang)
        if key not in self._views:
            item = await content.get_published(self.db, section, slug, lang)
            if item is None:
                return None
            self._views[key] = await self.render(item)
        return self._views[key]

    async def render(self, item: ContentItem) -> View:
        """Any revision of an item as readers see it (used uncached for an admin's preview of a draft)."""
        listed = await self.listing(item.section, item.lang)
        position = next((i for i, row in enumerate(listed) if row.slug == item.slug), 0)
        known = await content.titles(self.db, item.meta.related, item.lang)
        related = [(known[s][0], s, known[s][1]) for s in item.meta.related if s in known]
        page = position // keyboards.PAGE_SIZE
        return View(
            item_html(item, self.texts), keyboards.item_view(self.texts, item.lang, item.section, page, related)
        )
