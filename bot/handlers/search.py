"""Search: /search words, or any plain text; results as buttons."""

from __future__ import annotations

from telegram import Update
from telegram.ext import Application, CommandHandler, MessageHandler, filters

from bot import keyboards
from bot.context import Context
from bot.handlers.common import PRIVATE, reader_lang, respond, timed
from bot.render import esc

MAX_QUERY_CHARS = 300
RESULTS = 8


async def run_search(update: Update, context: Context, query: str) -> None:
    """Search and answer with the best matches, or a way onward when nothing matches."""
    lang = await reader_lang(update, context)
    t = context.texts
    query = query.strip()
    if not query:
        await respond(update, context, esc(t.get(lang, "search_prompt")))
        return
    if len(query) > MAX_QUERY_CHARS:
        await respond(update, context, esc(t.get(lang, "search_too_long")))
        return
    hits = await context.searcher.search(query, lang, RESULTS)
    if not hits:
        await respond(update, context, esc(t.get(lang, "search_nothing")), keyboards.main_menu(t, lang))
        return
    lines = [f"<b>{esc(t.plural(lang, 'count_results', len(hits)))}</b>"]
    lines += [f"\n<b>{esc(h.title)}</b>\n{esc(h.summary)}" for h in hits]
    markup = keyboards.results(t, lang, [(h.section, h.slug, h.title) for h in hits])
    await respond(update, context, "\n".join(lines), markup)


@timed("search")
async def search_command(update: Update, context: Context) -> None:
    """/search words."""
    await run_search(update, context, " ".join(context.args or []))


@timed("search_text")
async def search_text(update: Update, context: Context) -> None:
    """Plain text without a command is a search."""
    message = update.effective_message
    await run_search(update, context, message.text if message and message.text else "")


def register(app: Application) -> None:  # type: ignore[type-arg]
    """/search and plain text in private chats."""
    app.add_handler(CommandHandler("search", search_command, filters=PRIVATE))
    app.add_handler(MessageHandler(PRIVATE & filters.TEXT & ~filters.COMMAND, search_text))
