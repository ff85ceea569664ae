"""Browse a section: the list of items, one item, its related items; navigation edits in place."""

from __future__ import annotations

from telegram import Update
from telegram.ext import Application, CallbackQueryHandler, CommandHandler

from bot import keyboards
from bot.context import Context
from bot.handlers.common import PRIVATE, answer_query, reader_lang, respond, timed
from storage.content_files import SECTIONS


async def show_section(update: Update, context: Context, section: str, page: int, lang: str) -> None:
    """Render one page of a section list."""
    view = await context.views.section_page(section, page, lang)
    await respond(update, context, view.html, view.markup)


async def show_item(update: Update, context: Context, section: str, slug: str, lang: str) -> bool:
    """Render one item with its related items; False if it is not published."""
    view = await context.views.item(section, slug, lang)
    if view is None:
        return False
    await respond(update, context, view.html, view.markup)
    return True


@timed("section")
async def section_command(update: Update, context: Context) -> None:
    """Show the section named by the command."""
    message = update.effective_message
    command = (message.text or "").split()[0].lstrip("/").split("@")[0].lower() if message else ""
    await show_section(update, context, command, 0, await reader_lang(update, context))


@timed("button")
async def section_button(update: Update, context: Context) -> None:
    """Open a list page or an item from a button."""
    query = update.callback_query
    parsed = keyboards.parse_callback(query.data if query else None)
    assert parsed is not None  # the handler's pattern only lets well-formed data through
    lang = await reader_lang(update, context)
    if parsed.kind == "section":
        await answer_query(update)
        await show_section(update, context, parsed.section, parsed.page, lang)
    elif parsed.kind == "item":
        if await show_item(update, context, parsed.section, parsed.slug, lang):
            await answer_query(update)
        else:
            await answer_query(update, context.texts.get(lang, "stale_button"))
            await show_section(update, context, parsed.section, 0, lang)
    elif parsed.kind == "noop":
        await answer_query(update)


def register(app: Application) -> None:  # type: ignore[type-arg]
    """Section commands and their buttons, private chats only."""
    app.add_handler(CommandHandler(list(SECTIONS), section_command, filters=PRIVATE))
    app.add_handler(CallbackQueryHandler(section_button, pattern=keyboards.kind_is("section", "item", "noop")))
