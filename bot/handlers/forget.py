"""/forget: delete everything the bot holds about this chat and say exactly what that was."""

from __future__ import annotations

from telegram import Update
from telegram.ext import Application, CommandHandler

from bot.context import Context
from bot.handlers.common import PRIVATE, reader_lang, respond, timed
from bot.render import esc
from storage import prefs, subscribers


async def forget_everything(update: Update, context: Context, lang: str) -> None:
    """Delete the subscription and the language choice; the WAL is checkpointed so the bytes leave the disk."""
    chat = update.effective_chat
    if chat is None:
        return
    lookup = context.keys.lookup(chat.id)
    t = context.texts
    deleted = []
    if await subscribers.remove(context.db, lookup):
        deleted.append(t.get(lang, "forgot_subscription"))
    if await prefs.forget(context.db, lookup):
        deleted.append(t.get(lang, "forgot_language"))
    text = t.get(lang, "forgot_all", what=", ".join(deleted)) if deleted else t.get(lang, "forgot_nothing")
    await respond(update, context, esc(text))


@timed("forget")
async def forget_command(update: Update, context: Context) -> None:
    """Delete everything stored about this chat."""
    await forget_everything(update, context, await reader_lang(update, context))


def register(app: Application) -> None:  # type: ignore[type-arg]
    """/forget."""
    app.add_handler(CommandHandler("forget", forget_command, filters=PRIVATE))
