"""The welcome, the main menu and deep links (?start=orgs, ?start=orgs_ovd-info)."""

from __future__ import annotations

from telegram import Update
from telegram.ext import Application, CallbackQueryHandler, CommandHandler

from bot import keyboards
from bot.context import Context
from bot.handlers.common import PRIVATE, answer_query, reader_lang, respond, timed
from bot.handlers.sections import show_item, show_section
from storage.content_files import SECTIONS


@timed("start")
async def start(update: Update, context: Context) -> None:
    """Welcome the reader, or open the section or item a deep link names."""
    lang = await reader_lang(update, context)
    payload = context.args[0] if context.args else ""
    section, _, slug = payload.partition("_")
    if section in SECTIONS and not slug:
        await show_section(update, context, section, 0, lang)
        return
    if section in SECTIONS and await show_item(update, context, section, slug.lower(), lang):
        return
    await respond(update, context, context.texts.get(lang, "welcome"), keyboards.main_menu(context.texts, lang))


@timed("menu")
async def menu_button(update: Update, context: Context) -> None:
    """Go back to the main menu in place."""
    lang = await reader_lang(update, context)
    await answer_query(update)
    await respond(update, context, context.texts.get(lang, "menu_prompt"), keyboards.main_menu(context.texts, lang))


def register(app: Application) -> None:  # type: ignore[type-arg]
    """/start with or without a deep link, and the Menu button."""
    app.add_handler(CommandHandler("start", start, filters=PRIVATE))
    app.add_handler(CallbackQueryHandler(menu_button, pattern=keyboards.kind_is("menu")))
