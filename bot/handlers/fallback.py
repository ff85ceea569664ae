"""Last in line: unknown commands, messages that are not text, buttons we did not make."""

from __future__ import annotations

from telegram import Update
from telegram.ext import Application, CallbackQueryHandler, MessageHandler, filters

from bot.context import Context
from bot.handlers.common import PRIVATE, answer_query, reader_lang, respond, timed
from bot.render import esc


@timed("unknown_command")
async def unknown_command(update: Update, context: Context) -> None:
    """Say the command is unknown and point to /help."""
    lang = await reader_lang(update, context)
    await respond(update, context, esc(context.texts.get(lang, "unknown_command")))


@timed("not_text")
async def not_text(update: Update, context: Context) -> None:
    """Stickers, photos, voice and the like: say what the bot understands."""
    lang = await reader_lang(update, context)
    await respond(update, context, esc(context.texts.get(lang, "not_text")))


@timed("stale_button")
async def unknown_button(update: Update, context: Context) -> None:
    """A button whose data we do not recognise (forged, or from an older version)."""
    lang = await reader_lang(update, context)
    await answer_query(update, context.texts.get(lang, "expired_button"), alert=True)


def register(app: Application) -> None:  # type: ignore[type-arg]
    """Catch-alls, registered after every feature."""
    app.add_handler(MessageHandler(PRIVATE & filters.COMMAND, unknown_command))
    # Service messages (the person set Telegram's auto-delete timer, pinned a message...) are not addressed to us.
    app.add_handler(MessageHandler(PRIVATE & ~filters.TEXT & ~filters.StatusUpdate.ALL, not_text))
    app.add_handler(CallbackQueryHandler(unknown_button))
