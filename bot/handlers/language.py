"""Switch language (/language and the menu button); a subscriber's digests follow the choice."""

from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import Application, CallbackQueryHandler, CommandHandler

from bot import keyboards
from bot.context import Context
from bot.handlers.common import PRIVATE, answer_query, reader_lang, respond, timed
from bot.handlers.fallback import unknown_button
from bot.i18n import LANGS
from bot.render import esc
from storage import prefs, subscribers


@timed("language")
async def language_command(update: Update, context: Context) -> None:
    """Offer the languages as buttons."""
    lang = await reader_lang(update, context)
    t = context.texts
    buttons = [[InlineKeyboardButton(t.get(x, "language_name"), callback_data=f"l:{x}") for x in LANGS]]
    await respond(update, context, esc(t.get(lang, "lang_choose")), InlineKeyboardMarkup(buttons))


@timed("language_set")
async def language_button(update: Update, context: Context) -> None:
    """Store the choice under the chat's HMAC and show the menu in the new language."""
    query, chat = update.callback_query, update.effective_chat
    parsed = keyboards.parse_callback(query.data if query else None)
    if parsed is None or parsed.kind != "lang" or chat is None:  # chat: a forged press on a message shared inline
        await unknown_button(update, context)
        return
    lookup = context.keys.lookup(chat.id)
    await prefs.set_lang(context.db, lookup, parsed.lang)
    await subscribers.set_lang(context.db, lookup, parsed.lang)
    t = context.texts
    await answer_query(update, t.get(parsed.lang, "lang_set"))
    await respond(update, context, t.get(parsed.lang, "menu_prompt"), keyboards.main_menu(t, parsed.lang))


def register(app: Application) -> None:  # type: ignore[type-arg]
    """/language and its buttons."""
    app.add_handler(CommandHandler("language", language_command, filters=PRIVATE))
    app.add_handler(CallbackQueryHandler(language_button, pattern=keyboards.kind_is("lang")))
