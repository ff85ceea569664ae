"""Browse a section: the list of items, one item, its related items; navigation edits in place."""

from __future__ import annotations

from telegram import Update
from telegram.ext import Application, CallbackQueryHandler, CommandHandler

from bot import keyboards
from bot.context import Context
from bot.handlers.common import PRIVATE, answer_query, reader_lang, respond, timed
from bot.render import esc, item_html
from storage import content
from storage.content_files import SECTIONS


async def show_section(update: Update, context: Context, section: str, page: int, lang: str) -> None:
    """Render one page of a section list."""
    listed = await content.list_section(context.db, section, lang)
    total = keyboards.pages(len(listed))
    page = min(max(page, 0), total - 1)
    t = context.texts
    lines = [f"<b>{esc(t.label(lang, 'section', section))}</b> · {esc(t.plural(lang, 'count_items', len(listed)))}"]
    for row in listed[page * keyboards.PAGE_SIZE : (page + 1) * keyboards.PAGE_SIZE]:
        lines.append(f"\n<b>{esc(row.title)}</b>\n{esc(row.summary)}")
    await respond(update, context, "\n".join(lines), keyboards.section_page(t, lang, section, listed, page))


async def show_item(update: Update, context: Context, section: str, slug: str, lang: str) -> bool:
    """Render one item with its related items; False if it is not published."""
    item = await content.get_published(context.db, section, slug, lang)
    if item is None:
        return False
    listed = await content.list_section(context.db, section, lang)
    position = next((i for i, row in enumerate(listed) if row.slug == slug), 0)
    known = await content.titles(context.db, item.meta.related, lang)
    related = [(known[s][0], s, known[s][1]) for s in item.meta.related if s in known]
    markup = keyboards.item_view(context.texts, lang, section, position // keyboards.PAGE_SIZE, related)
    await respond(update, context, item_html(item, context.texts), markup)
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
