"""Disappearing messages: the choice in /settings (off, 1 hour, 24 hours), and the person's own messages noted.

The bot's messages are noted by OutboxBot as they are sent; the person's arrive as updates and are noted here,
before the flood limit, so that even a dropped message disappears.
"""

from __future__ import annotations

from telegram import Message, Update
from telegram.ext import Application, CallbackQueryHandler, TypeHandler

from bot import keyboards
from bot.context import Context
from bot.handlers.common import answer_query, private_press, reader_lang, timed
from bot.handlers.subscribe import show_settings

GROUP = -2  # before the flood limit (-1) and every feature (0)


async def note_incoming(update: Update, context: Context) -> None:
    """Owe the person's new message a deletion if their chat chose disappearing messages."""
    message = update.message
    if message is not None and message.chat.type == "private":
        await context.disappearing.note(message.chat.id, [message.message_id])


@timed("disappear_set")
async def disappear_button(update: Update, context: Context) -> None:
    """Store off, 1 hour or 24 hours and show the settings again; turning it on takes this message along."""
    press = await private_press(update)
    if press is None:
        return
    query, chat, parsed = press
    lang = await reader_lang(update, context)
    t = context.texts
    seconds = int(parsed.step) * 3600
    if seconds == context.disappearing.after(chat.id):
        await answer_query(update, t.get(lang, "disappear_same"))
        await show_settings(update, context, lang)
        return
    await context.disappearing.choose(chat.id, seconds)
    if seconds and isinstance(query.message, Message):
        await context.disappearing.note(chat.id, [query.message.message_id])
    after = t.label(lang, "disappear_after", str(seconds))
    await answer_query(
        update, t.get(lang, "disappear_now_on", after=after) if seconds else t.get(lang, "disappear_now_off")
    )
    await show_settings(update, context, lang)


def register(app: Application) -> None:  # type: ignore[type-arg]
    """The choice's buttons, and the note on every incoming message (in a group of its own, before the rest)."""
    app.add_handler(TypeHandler(Update, note_incoming), group=GROUP)
    app.add_handler(CallbackQueryHandler(disappear_button, pattern=keyboards.kind_is("disappear")))
