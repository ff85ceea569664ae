"""/wipe: delete at once every message in this chat that Telegram still lets the bot delete, then offer /forget.

Message ids in a private chat are sequential, so no list of old ids is needed: from the /wipe message's own id
the bot counts down in deleteMessages calls of CHUNK ids, newest first. deleteMessages skips what is gone or older
than 48 hours and answers True all the same, so an empty stretch cannot be told from a full one and there is no
"nothing left" signal to stop at. It stops at id 1, or SPAN ids back: a chat would need more than SPAN messages
in two days for anything deletable to lie further back.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

from telegram import Bot, Message, Update
from telegram.ext import Application, CallbackQueryHandler, CommandHandler

from bot import keyboards
from bot.context import Context
from bot.disappearing import delete
from bot.handlers.common import PRIVATE, answer_query, edit, private_press, reader_lang, timed
from bot.handlers.forget import forget_chat
from bot.render import esc

SPAN = 10_000  # message ids counted back from /wipe: 100 calls at most
CHUNK = 100  # deleteMessages takes 1 to 100 ids
PROGRESS_EVERY = 1.0  # seconds between edits of the status message
ATTEMPTS = 4  # per call, when Telegram asks to wait or does not answer
LONGEST_WAIT = 30.0
OFFER_SECONDS = 600  # the offer to forget deletes itself after this (rounded up to ten minutes)


async def delete_back(bot: Bot, chat_id: int, top: int, progress: Callable[[int, int], Awaitable[None]]) -> bool:
    """Delete ids top, top-1, ... down to 1 or SPAN back; progress(checked, total) about once a second.

    False if some call never succeeded (Telegram kept asking to wait, or did not answer).
    """
    bottom = max(1, top - SPAN + 1)
    total = top - bottom + 1
    complete = True
    shown = time.monotonic()
    for high in range(top, bottom - 1, -CHUNK):
        low = max(bottom, high - CHUNK + 1)
        if not await delete_chunk(bot, chat_id, list(range(high, low - 1, -1))):
            complete = False
        if low > bottom and time.monotonic() - shown >= PROGRESS_EVERY:
            await progress(top - low + 1, total)
            shown = time.monotonic()
    return complete


async def delete_chunk(bot: Bot, chat_id: int, ids: list[int]) -> bool:
    """One call, tried again after the wait Telegram asks for (or a second, when it did not answer)."""
    for _ in range(ATTEMPTS):
        wait = await delete(bot, chat_id, ids)
        if wait is None:
            return True
        await asyncio.sleep(min(wait, LONGEST_WAIT))
    return False


@timed("wipe")
async def wipe_command(update: Update, context: Context) -> None:
    """Delete this chat's messages, showing progress if it takes a while, then offer to forget everything too."""
    message, chat = update.effective_message, update.effective_chat
    if message is None or chat is None:
        return
    lang = await reader_lang(update, context)
    t = context.texts
    status = await chat.send_message(esc(t.get(lang, "wipe_started")))

    async def progress(done: int, total: int) -> None:
        await edit(context, status, esc(t.get(lang, "wipe_progress", done=done, total=total)), None)

    complete = await delete_back(context.bot, chat.id, message.message_id, progress)
    head = t.get(lang, "wipe_done" if complete else "wipe_incomplete")
    await edit(context, status, f"{head}\n\n{esc(t.get(lang, 'wipe_offer'))}", keyboards.wipe_offer(t, lang))
    # Left alone, the offer is one more trace of the wipe: it goes by itself, whatever the person's settings.
    await context.disappearing.schedule(chat.id, [status.message_id], OFFER_SECONDS)


@timed("wipe_choice")
async def wipe_button(update: Update, context: Context) -> None:
    """Forget everything too, or keep the settings; either way the answer is a pop-up and the offer is deleted."""
    press = await private_press(update)
    if press is None:
        return
    query, chat, parsed = press
    lang = await reader_lang(update, context)
    t = context.texts
    if parsed.step == "f":
        deleted = await forget_chat(context, chat.id, lang, count_pending=False)
        text = t.get(lang, "wipe_forgot", what=", ".join(deleted)) if deleted else t.get(lang, "wipe_forgot_nothing")
    else:
        text = t.get(lang, "wipe_kept")
    await answer_query(update, text, alert=True)
    if isinstance(query.message, Message):
        # deleteMessages, not deleteMessage: after forgetting, the offer may already be gone, and that is fine.
        await delete(context.bot, chat.id, [query.message.message_id])


def register(app: Application) -> None:  # type: ignore[type-arg]
    """/wipe and the offer's buttons."""
    app.add_handler(CommandHandler("wipe", wipe_command, filters=PRIVATE))
    app.add_handler(CallbackQueryHandler(wipe_button, pattern=keyboards.kind_is("wipe")))
