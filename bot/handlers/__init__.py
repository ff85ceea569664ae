"""Every feature registers its handlers here, in this order: the first match wins."""

from __future__ import annotations

from telegram.ext import Application

from bot.handlers import (
    admin,
    announce,
    content_files,
    disappearing,
    edit,
    editorial,
    errors,
    fallback,
    flood,
    forget,
    groups,
    info,
    inline,
    language,
    search,
    sections,
    start,
    subscribe,
    wipe,
)


def register_all(app: Application) -> None:  # type: ignore[type-arg]
    """Guards in groups of their own first; then specific commands, admin commands (unknown to everyone else),
    plain-text search, catch-alls last."""
    guards = (disappearing, flood)  # groups -2 and -1: note the message for deletion, then the flood limit
    readers = (start, sections, subscribe, forget, wipe, info, language)
    editors = (admin, edit, editorial, content_files, announce)
    for feature in (*guards, *readers, *editors, inline, groups, search, fallback, errors):
        feature.register(app)
