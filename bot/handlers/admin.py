"""Who is an admin, /admin and /stats. For anyone else admin commands are unknown commands: nothing reveals them."""

from __future__ import annotations

from telegram import Update
from telegram.ext import Application, CommandHandler, filters

from bot.context import Context
from bot.handlers.common import PRIVATE, reader_lang, respond, timed
from bot.render import esc
from storage import subscribers, usage


def admins(app: Application) -> filters.BaseFilter:  # type: ignore[type-arg]
    """Messages from the admins in TROPA_ADMIN_IDS, in private chats; an empty list lets no one through."""
    settings = app.bot_data.settings
    ids = list(settings.admin_ids) if settings is not None else []
    return PRIVATE & filters.User(user_id=ids, allow_empty=False)


def alias(update: Update, context: Context) -> str | None:
    """The admin's alias (what gets recorded), or None for anyone else."""
    user = update.effective_user
    return context.settings.admin_ids.get(user.id) if user else None


@timed("admin")
async def admin_command(update: Update, context: Context) -> None:
    """List the admin commands."""
    await respond(update, context, context.texts.get(await reader_lang(update, context), "admin_help"))


@timed("stats")
async def stats_command(update: Update, context: Context) -> None:
    """Counts only: subscribers per topic and language, commands over 30 days, digests sent."""
    lang = await reader_lang(update, context)
    t = context.texts
    counts = await subscribers.counts(context.db)
    totals = await usage.totals(context.db, usage.today())
    topic_lines = [f"• {t.label(lang, 'topics', name)}: {counts.get(name, 0)}" for name in subscribers.TOPICS] + [
        f"• {code}: {counts.get('lang:' + code, 0)}" for code in ("ru", "en")
    ]
    days = [f"• {day}: {number}" for day, number in await usage.daily_totals(context.db, usage.today())]
    commands = days + [f"• {event}: {number}" for event, number in totals.items() if event != "digest_sent"]
    text = t.get(
        lang,
        "admin_stats",
        subscribers=sum(counts.get("lang:" + code, 0) for code in ("ru", "en")),
        topics=esc("\n".join(topic_lines)),
        digests=totals.get("digest_sent", 0),
        commands=esc("\n".join(commands) or "—"),
    )
    await respond(update, context, text)


def register(app: Application) -> None:  # type: ignore[type-arg]
    """/admin and /stats, for admins only."""
    app.add_handler(CommandHandler("admin", admin_command, filters=admins(app)))
    app.add_handler(CommandHandler("stats", stats_command, filters=admins(app)))
