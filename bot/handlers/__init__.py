"""Every feature registers its handlers here, in this order: the first match wins."""

from __future__ import annotations

from telegram.ext import Application

from bot.handlers import (
    admin,
    announce,
    content_files,
    edit,
    editorial,
    errors,
    fallback,
    forget,
    groups,
    info,
    inline,
    language,
    search,
    sections,
    start,
    subscribe,
)


def register_all(app: Application) -> None:  # type: ignore[type-arg]
    """Specific commands first, admin commands (unknown to everyone else), plain-text search, catch-alls last."""
    readers = (start, sections, subscribe, forget, info, language)
    editors = (admin, edit, editorial, content_files, announce)
    for feature in (*readers, *editors, inline, groups, search, fallback, errors):
        feature.register(app)
