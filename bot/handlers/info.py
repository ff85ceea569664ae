"""/help, /privacy and /about: fixed texts in the reader's language; /about ends with the fallback contacts."""

from __future__ import annotations

from telegram import Update
from telegram.ext import Application, CommandHandler

from bot import keyboards
from bot.context import Context
from bot.handlers.common import PRIVATE, reader_lang, respond, timed
from bot.render import esc

PAGES = ("help", "privacy", "about")


@timed("info")
async def info_command(update: Update, context: Context) -> None:
    """Show the page named by the command, with the menu under it."""
    message = update.effective_message
    name = (message.text or "").split()[0].lstrip("/").split("@")[0].lower() if message else "help"
    lang = await reader_lang(update, context)
    page = name if name in PAGES else "help"
    text = context.texts.get(lang, page, bot=context.services.bot_username)
    mirrors = context.settings.mirrors
    if page == "about" and mirrors:
        text += "\n\n" + esc(context.texts.get(lang, "mirrors_about", mirrors=", ".join(mirrors)))
    await respond(update, context, text, keyboards.main_menu(context.texts, lang))


def register(app: Application) -> None:  # type: ignore[type-arg]
    """The three info pages."""
    app.add_handler(CommandHandler(list(PAGES), info_command, filters=PRIVATE))
