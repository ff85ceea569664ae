"""Inline mode: @bot words in any chat offers matching items to share."""

from __future__ import annotations

from telegram import InlineQueryResultArticle, InputTextMessageContent, Update
from telegram.constants import ParseMode
from telegram.ext import Application, InlineQueryHandler

from bot import keyboards
from bot.context import Context
from bot.handlers.common import NO_PREVIEW, reader_lang, timed
from bot.render import esc, split_html

RESULTS = 10


@timed("inline")
async def inline_query(update: Update, context: Context) -> None:
    """Answer with matching items; each shares the item's text and a link that opens it in the bot."""
    query = update.inline_query
    if query is None:
        return
    lang = await reader_lang(update, context)
    t, bot = context.texts, context.services.bot_username
    text = query.query.strip()[:300]
    hits = await context.searcher.search(text, lang, RESULTS) if text else []
    results: list[InlineQueryResultArticle] = []
    for hit in hits:
        view = await context.views.item(hit.section, hit.slug, lang)
        if view is None:
            continue
        results.append(
            InlineQueryResultArticle(
                id=f"{hit.section}:{hit.slug}",
                title=hit.title,
                description=hit.summary,
                input_message_content=InputTextMessageContent(
                    split_html(view.html)[0], parse_mode=ParseMode.HTML, link_preview_options=NO_PREVIEW
                ),
                reply_markup=keyboards.share_link(t, lang, bot, hit.section, hit.slug),
            )
        )
    if text and not results:
        results.append(
            InlineQueryResultArticle(
                id="nothing",
                title=t.get(lang, "inline_nothing"),
                input_message_content=InputTextMessageContent(
                    esc(t.get(lang, "inline_nothing_text", bot=bot)), parse_mode=ParseMode.HTML
                ),
            )
        )
    await query.answer(results, cache_time=60, is_personal=True)


def register(app: Application) -> None:  # type: ignore[type-arg]
    """Inline queries."""
    app.add_handler(InlineQueryHandler(inline_query))
