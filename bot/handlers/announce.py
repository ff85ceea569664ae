"""/announce: an admin's message to every subscriber of announcements, previewed, confirmed, then sent through
the digest machinery (rate limit, retries, blocked people removed) with one status message edited as it goes.
"""

from __future__ import annotations

import asyncio
import logging
import warnings

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.error import TelegramError
from telegram.ext import Application, CallbackQueryHandler, CommandHandler, ConversationHandler, MessageHandler, filters
from telegram.warnings import PTBUserWarning

from bot import keyboards
from bot.context import Context
from bot.digest import Digest
from bot.entities import from_message
from bot.handlers.admin import admins, alias
from bot.handlers.common import NO_PREVIEW, answer_query, reader_lang, respond, timed
from bot.handlers.fallback import unknown_button
from bot.render import MESSAGE_LIMIT, esc, html_problem, markdown, visible_length
from storage import subscribers

log = logging.getLogger("tropa.announce")
TEXT, CONFIRM = range(2)
TIMEOUT_S = 15 * 60


@timed("admin_announce")
async def announce_command(update: Update, context: Context) -> int:
    """Ask for the announcement."""
    lang = await reader_lang(update, context)
    if context.services.announcing is not None:
        await respond(update, context, esc(context.texts.get(lang, "announce_busy")))
        return ConversationHandler.END
    await respond(update, context, esc(context.texts.get(lang, "announce_prompt")))
    return TEXT


async def announcement_text(update: Update, context: Context) -> int:
    """Show exactly what subscribers will get, and ask before sending."""
    message, chat = update.effective_message, update.effective_chat
    if message is None or chat is None or context.user_data is None:
        return ConversationHandler.END
    lang = await reader_lang(update, context)
    t = context.texts
    html = markdown(from_message(message))
    problem = html_problem(html) or ("empty" if not html.strip() else None)
    if problem is None and visible_length(html) > MESSAGE_LIMIT:
        problem = f"over {MESSAGE_LIMIT} characters"
    if problem:
        await respond(update, context, esc(t.get(lang, "announce_invalid", problem=problem)))
        return TEXT
    count = await subscribers.count_topic(context.db, "announcements")
    if count == 0:
        await respond(update, context, esc(t.get(lang, "announce_nobody")))
        return ConversationHandler.END
    context.user_data["announcement"] = html
    await chat.send_message(html, link_preview_options=NO_PREVIEW)
    markup = InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(t.get(lang, "announce_send"), callback_data="o:go"),
                InlineKeyboardButton(t.get(lang, "announce_drop"), callback_data="o:x"),
            ]
        ]
    )
    await chat.send_message(esc(t.get(lang, "announce_question", count=count)), reply_markup=markup)
    return CONFIRM


async def confirm_button(update: Update, context: Context) -> int:
    """Send, or drop the draft."""
    parsed = keyboards.parse_callback(update.callback_query.data if update.callback_query else None)
    html = context.user_data.pop("announcement", None) if context.user_data is not None else None
    lang = await reader_lang(update, context)
    t = context.texts
    await answer_query(update)
    if parsed is None or parsed.step != "go" or not isinstance(html, str):
        await respond(update, context, esc(t.get(lang, "announce_dropped")))
        return ConversationHandler.END
    if context.services.announcing is not None:
        await respond(update, context, esc(t.get(lang, "announce_busy")))
        return ConversationHandler.END
    stop = InlineKeyboardMarkup([[InlineKeyboardButton(t.get(lang, "announce_stop"), callback_data="o:stop")]])
    total = await subscribers.count_topic(context.db, "announcements")
    await respond(update, context, esc(t.get(lang, "announce_status", done=0, total=total)), stop)
    query = update.callback_query
    status = query.message if query is not None else None
    if status is None:
        return ConversationHandler.END
    cancel = context.services.announcing = asyncio.Event()
    log.info("event=announcement_started total=%d", total)

    async def progress(done: int, all_: int) -> None:
        text = esc(t.get(lang, "announce_status", done=f"{done:,}", total=f"{all_:,}"))
        try:
            await context.bot.edit_message_text(text, status.chat.id, status.message_id, reply_markup=stop)
        except TelegramError:
            log.warning("event=announcement_status_failed")

    async def run() -> None:
        try:
            report = await context.deliverer.announce(Digest(html, None), progress, cancel.is_set)
            key = "announce_stopped" if cancel.is_set() else "announce_done"
            text = t.get(
                lang, key, sent=f"{report.sent:,}", total=f"{total:,}", removed=report.removed, failed=report.failed
            )
            try:
                await context.bot.edit_message_text(esc(text), status.chat.id, status.message_id)
            except TelegramError:  # the admin deleted the status message (or wiped the chat) meanwhile
                log.warning("event=announcement_status_failed")
        finally:
            context.services.announcing = None

    context.application.create_task(run(), name="announcement")
    return ConversationHandler.END


@timed("admin_announce_stop")
async def stop_button(update: Update, context: Context) -> None:
    """Stop a running announcement (any admin may); for anyone else an unknown button."""
    if alias(update, context) is None:
        await unknown_button(update, context)
        return
    await answer_query(update)
    if context.services.announcing is not None:
        context.services.announcing.set()


async def timed_out(update: Update, context: Context) -> None:
    """The announcement waited too long for its text or its confirmation: drop it and say so."""
    if context.user_data is not None:
        context.user_data.pop("announcement", None)
    chat = update.effective_chat
    if chat is not None:
        await chat.send_message(esc(context.texts.get(await reader_lang(update, context), "announce_timed_out")))


def register(app: Application) -> None:  # type: ignore[type-arg]
    """/announce for admins, its confirmation and the stop button."""
    only = admins(app)
    with warnings.catch_warnings():
        # Tracked per admin, not per message, on purpose: the confirmation is one message.
        warnings.filterwarnings("ignore", category=PTBUserWarning, message=".*per_message.*")
        conversation = ConversationHandler(
            entry_points=[CommandHandler("announce", announce_command, filters=only)],
            states={
                TEXT: [MessageHandler(only & ~filters.COMMAND, announcement_text)],
                CONFIRM: [CallbackQueryHandler(confirm_button, pattern=keyboards.kind_is("announce"))],
                ConversationHandler.TIMEOUT: [MessageHandler(filters.ALL, timed_out), CallbackQueryHandler(timed_out)],
            },
            fallbacks=[],
            conversation_timeout=TIMEOUT_S,
        )
    app.add_handler(conversation)
    app.add_handler(CallbackQueryHandler(stop_button, pattern=keyboards.kind_is("announce")))
