"""/forget: delete everything the bot holds about this chat and say exactly what that was."""

from __future__ import annotations

from telegram import Update
from telegram.ext import Application, CommandHandler

from bot.context import Context
from bot.handlers.common import PRIVATE, reader_lang, respond, timed
from bot.render import esc
from storage import prefs, subscribers


async def forget_chat(context: Context, chat_id: int, lang: str, *, count_pending: bool = True) -> list[str]:
    """Delete the subscription, the choices and the deletions this chat is owed; what there was, in words.

    Owed deletions are carried out now rather than dropped: the person asked for those messages to go, and
    forgetting them would leave the messages in the chat for good. The WAL is checkpointed at every step.
    """
    lookup = context.keys.lookup(chat_id)
    t = context.texts
    deleted = []
    if await subscribers.remove(context.db, lookup):
        deleted.append(t.get(lang, "forgot_subscription"))
    forgotten = await prefs.forget(context.db, lookup)
    context.disappearing.forgotten(chat_id)
    if forgotten.lang:
        deleted.append(t.get(lang, "forgot_language"))
    if forgotten.disappear:
        deleted.append(t.get(lang, "forgot_disappearing"))
    messages = await context.disappearing.delete_now(context.bot, chat_id)
    if messages and count_pending:
        deleted.append(t.plural(lang, "forgot_pending", messages))
    return deleted


async def forget_everything(update: Update, context: Context, lang: str) -> None:
    """Forget this chat and say what was deleted."""
    chat = update.effective_chat
    if chat is None:
        return
    deleted = await forget_chat(context, chat.id, lang)
    t = context.texts
    text = t.get(lang, "forgot_all", what=", ".join(deleted)) if deleted else t.get(lang, "forgot_nothing")
    await respond(update, context, esc(text))


@timed("forget")
async def forget_command(update: Update, context: Context) -> None:
    """Delete everything stored about this chat."""
    await forget_everything(update, context, await reader_lang(update, context))


def register(app: Application) -> None:  # type: ignore[type-arg]
    """/forget."""
    app.add_handler(CommandHandler("forget", forget_command, filters=PRIVATE))
