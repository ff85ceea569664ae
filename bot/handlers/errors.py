"""The error handler: log the exception type and the handler's name only, then apologise once."""

from __future__ import annotations

import logging
import traceback

from telegram import Update
from telegram.error import RetryAfter, TelegramError
from telegram.ext import Application

from bot.context import Context
from bot.handlers.common import reader_lang
from bot.i18n import lang_from_code

log = logging.getLogger("tropa.errors")


PLUMBING = ("bot.outbox", "bot.transport")  # every API call passes through these: naming them says nothing


def handler_name(error: BaseException) -> str:
    """The innermost function of ours in the traceback: enough to find the bug, nothing about the person."""
    name = "unknown"
    for frame, _ in traceback.walk_tb(error.__traceback__):
        module = frame.f_globals.get("__name__", "")
        if module.startswith(("bot.", "storage.")) and module not in PLUMBING:
            name = f"{module}.{frame.f_code.co_name}"
    return name


async def on_error(update: object, context: Context) -> None:
    """Log what broke (type and place, no message text), and tell the reader in one sentence."""
    error = context.error
    if error is None:
        return
    if isinstance(error, RetryAfter):
        # Telegram asked us to slow down: apologising would be one more message it refuses.
        log.warning("event=rate_limited")
        return
    log.error("event=error type=%s handler=%s", type(error).__name__, handler_name(error))
    if isinstance(update, Update) and update.effective_chat and update.effective_chat.type == "private":
        try:
            lang = await reader_lang(update, context)
        except Exception:  # the database may be what failed: fall back to Telegram's language
            lang = lang_from_code(update.effective_user.language_code if update.effective_user else None)
        try:
            await update.effective_chat.send_message(context.texts.get(lang, "sorry"))
        except TelegramError:
            log.warning("event=error_reply_failed")


def register(app: Application) -> None:  # type: ignore[type-arg]
    """Install the error handler."""
    app.add_error_handler(on_error)
