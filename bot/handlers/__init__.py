"""Every feature registers its handlers here, in this order: the first match wins."""

from __future__ import annotations

from telegram.ext import Application

from bot.handlers import (
    admin,
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
    """Specific commands first, plain-text search after them, catch-alls last."""
    features = (start, sections, subscribe, forget, info, language, admin, editorial, inline, groups, search)
    for feature in (*features, fallback, errors):
        feature.register(app)
