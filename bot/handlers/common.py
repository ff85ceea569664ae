"""What every handler needs: the reader's language and one way to answer (send, or edit in place)."""

from __future__ import annotations

import hashlib
import html
import logging
import re
import time
from collections.abc import Callable, Coroutine
from functools import wraps
from typing import Any, TypeVar

from telegram import CallbackQuery, Chat, InlineKeyboardMarkup, LinkPreviewOptions, Message, Update
from telegram.error import BadRequest
from telegram.ext import filters

from bot import keyboards
from bot.context import Context
from bot.i18n import lang_from_code
from bot.render import MESSAGE_LIMIT, split_html
from storage import prefs

log = logging.getLogger("tropa.handlers")
NO_PREVIEW = LinkPreviewOptions(is_disabled=True)
R = TypeVar("R")
# New messages in private chats: edits, channel posts and groups are not conversations with us.
PRIVATE = filters.ChatType.PRIVATE & filters.UpdateType.MESSAGE
TAGS_RE = re.compile(r"<[^>]+>")


async def reader_lang(update: Update, context: Context) -> str:
    """The stored choice for this chat (inline: the person's private chat), else Telegram's language_code."""
    chat, user = update.effective_chat, update.effective_user
    # Inline queries have no chat; the person's private chat with the bot has their user id.
    chat_id = chat.id if chat is not None else (user.id if user is not None else None)
    if chat_id is not None:
        stored = await prefs.get_lang(context.db, context.keys.lookup(chat_id))
        if stored:
            return stored
    return lang_from_code(user.language_code if user else None)


def plain(text_html: str) -> str:
    """What Telegram shows for this HTML: tags gone, entities decoded, ends trimmed."""
    return html.unescape(TAGS_RE.sub("", text_html)).strip()


async def respond(update: Update, context: Context, text_html: str, markup: InlineKeyboardMarkup | None = None) -> None:
    """Edit the message a button belongs to, or send a new one; long text goes out in parts."""
    parts = split_html(text_html, MESSAGE_LIMIT)
    query = update.callback_query
    message = query.message if query else None
    if isinstance(message, Message) and message.text is not None:
        first_markup = markup if len(parts) == 1 else None
        await edit(context, message, parts[0], first_markup)
        for number, part in enumerate(parts[1:], start=2):
            await message.chat.send_message(
                part, reply_markup=markup if number == len(parts) else None, link_preview_options=NO_PREVIEW
            )
        return
    chat = update.effective_chat
    if chat is None:
        return
    for number, part in enumerate(parts, start=1):
        await chat.send_message(
            part, reply_markup=markup if number == len(parts) else None, link_preview_options=NO_PREVIEW
        )


async def edit(context: Context, message: Message, text_html: str, markup: InlineKeyboardMarkup | None) -> None:
    """Edit in place unless the message already shows exactly this: Telegram refuses edits that change nothing."""
    digest = hashlib.blake2b(f"{text_html}\x00{markup.to_json() if markup else ''}".encode(), digest_size=16).digest()
    key = (context.keys.lookup(message.chat.id), message.message_id)
    shown = context.services.shown
    if shown.same(key, digest) or (message.text == plain(text_html) and message.reply_markup == markup):
        shown.remember(key, digest)
        return
    try:
        await message.edit_text(text_html, reply_markup=markup, link_preview_options=NO_PREVIEW)
    except BadRequest as exc:
        reason = str(exc).lower()
        if "message to edit not found" in reason:
            # Deleted after the button was pressed (by the person, /wipe, disappearing messages): answer anew.
            await message.chat.send_message(text_html, reply_markup=markup, link_preview_options=NO_PREVIEW)
            return
        # Only possible after a restart emptied the memory of what is shown: harmless, nothing to tell anyone.
        if "not modified" not in reason:
            raise
    shown.remember(key, digest)


async def private_press(update: Update) -> tuple[CallbackQuery, Chat, keyboards.Callback] | None:
    """A press, in a private chat, of a button we made; anything else (forged, on a shared message) is answered."""
    query, chat = update.callback_query, update.effective_chat
    parsed = keyboards.parse_callback(query.data if query else None)
    if query is None or parsed is None or chat is None or chat.type != "private":
        await answer_query(update)
        return None
    return query, chat, parsed


async def answer_query(update: Update, text: str | None = None, alert: bool = False) -> None:
    """Stop the button's spinner; ignore a query too old to answer."""
    query = update.callback_query
    if query is None:
        return
    try:
        await query.answer(text[:200] if text else None, show_alert=alert)
    except BadRequest as exc:
        if "query is too old" not in str(exc).lower() and "query id is invalid" not in str(exc).lower():
            raise


def timed(
    event: str,
) -> Callable[
    [Callable[[Update, Context], Coroutine[Any, Any, R]]], Callable[[Update, Context], Coroutine[Any, Any, R]]
]:
    """Count the event and log its name and how long it took: never who, never what they wrote."""

    def decorate(
        func: Callable[[Update, Context], Coroutine[Any, Any, R]],
    ) -> Callable[[Update, Context], Coroutine[Any, Any, R]]:
        @wraps(func)
        async def wrapper(update: Update, context: Context) -> R:
            started = time.perf_counter()
            context.services.usage[event] += 1
            try:
                return await func(update, context)
            finally:
                log.info("event=%s ms=%.1f", event, (time.perf_counter() - started) * 1000)

        return wrapper

    return decorate
