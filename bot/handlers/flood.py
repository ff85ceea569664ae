"""The flood limit in front of every feature: an update over the person's limit goes no further.

The first one earns a polite notice (a message, or the answer to a button); the rest are dropped in silence. A
dropped button press is still answered, with no text, so its spinner stops. Inline queries get nothing: there is
no chat to write to, and an unanswered one simply shows no results. Admins (TROPA_ADMIN_IDS) are not limited:
editing and importing are bursts by nature, and they are few and known.
"""

from __future__ import annotations

from telegram import Update
from telegram.ext import Application, ApplicationHandlerStop, TypeHandler

from bot.context import Context
from bot.flood import Verdict
from bot.handlers.common import answer_query, reader_lang
from bot.render import esc

GROUP = -1  # after disappearing messages noted the update (-2), before every feature (0)


async def flood_gate(update: Update, context: Context) -> None:
    """Let the update through, or drop it (after one notice) by stopping every later handler."""
    user, chat = update.effective_user, update.effective_chat
    if user is None or user.id in context.settings.admin_ids:
        return
    private = chat is not None and chat.type == "private"
    can_notice = update.callback_query is not None or (private and update.message is not None)
    verdict = context.flood.take(context.keys.lookup(user.id), can_notice=can_notice)
    if verdict is Verdict.ALLOW:
        return
    context.services.usage["flood_dropped"] += 1
    notice = None
    if verdict is Verdict.NOTICE:
        context.services.usage["flood_notice"] += 1
        notice = context.texts.get(await reader_lang(update, context), "flood_notice")
    if update.callback_query is not None:
        await answer_query(update, notice)
    elif notice is not None and chat is not None:
        await chat.send_message(esc(notice))
    raise ApplicationHandlerStop


def register(app: Application) -> None:  # type: ignore[type-arg]
    """The gate, in a group of its own before the features."""
    app.add_handler(TypeHandler(Update, flood_gate), group=GROUP)
