"""Every feature registers its handlers here, in this order: the first match wins."""

from __future__ import annotations

from telegram.ext import Application

from bot.handlers import (
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
    """Specific commands first, plain-text search after them, catch-alls last."""
    for feature in (start, sections, subscribe, forget, info, language, inline, groups, search, fallback, errors):
        feature.register(app)
