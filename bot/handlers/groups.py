"""In groups the bot only invites people to a private chat, and ignores everything else."""

from __future__ import annotations

from telegram import Update
from telegram.ext import Application, CommandHandler, filters

from bot.context import Context
from bot.handlers.common import reader_lang, respond, timed
from bot.render import esc


@timed("group_invite")
async def group_invite(update: Update, context: Context) -> None:
    """Answer /start and /help in a group with an invitation to talk in private."""
    lang = await reader_lang(update, context)
    await respond(update, context, esc(context.texts.get(lang, "group_invite", bot=context.services.bot_username)))


def register(app: Application) -> None:  # type: ignore[type-arg]
    """/start and /help in groups and supergroups."""
    app.add_handler(
        CommandHandler(["start", "help"], group_invite, filters=filters.ChatType.GROUPS & filters.UpdateType.MESSAGE)
    )
