"""The one place the bot's new messages are seen: an ExtBot that reports every message a call created.

Every Bot API call goes through Bot._post, so replies, digests, error apologies and documents are all seen here
without any handler knowing. Edits create nothing; answerInlineQuery results are sent by the person, in chats
that are not ours. Only calls whose result is a message (or a list of them) are reported.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from telegram.ext import ExtBot
from telegram.request import BaseRequest

log = logging.getLogger("tropa.outbox")
RLARGS = TypeVar("RLARGS")
SentHook = Callable[[int, list[int]], Awaitable[None]]
CREATES = ("send", "copyMessage", "forwardMessage")  # method name prefixes; copyMessages and forwardMessages too


def sent_ids(endpoint: str, data: dict[str, Any], result: Any) -> tuple[int, list[int]] | None:
    """(chat id, message ids) a call created, or None (an edit, an answer, a chat action, a send elsewhere)."""
    if not endpoint.startswith(CREATES):
        return None
    found = result if isinstance(result, list) else [result]
    ids = [m["message_id"] for m in found if isinstance(m, dict) and isinstance(m.get("message_id"), int)]
    first = found[0] if found else None
    chat = first.get("chat") if isinstance(first, dict) else None
    chat_id = chat.get("id") if isinstance(chat, dict) else data.get("chat_id")
    if not ids or not isinstance(chat_id, int):
        return None
    return chat_id, ids


class OutboxBot(ExtBot[RLARGS]):
    """ExtBot that awaits its sent hook (chat id, message ids) after each call that created messages.

    A hook that fails is logged (the event only) and swallowed: the message was sent, the reply must not fail.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._sent_hook: SentHook | None = None  # underscored: a Bot is frozen, protected attributes stay settable

    async def initialize(self) -> None:
        """Open the requests and call getMe; if that fails (a refused token), close the requests again.

        python-telegram-bot leaves them open then, and aiohttp complains about the open sessions at exit.
        """
        try:
            await super().initialize()
        except BaseException:
            await self.shutdown()
            raise

    def set_sent_hook(self, hook: SentHook | None) -> None:
        """Await hook(chat id, message ids) after every call that created messages from now on."""
        self._sent_hook = hook

    async def _post(
        self,
        endpoint: str,
        data: dict[str, Any] | None = None,
        *,
        read_timeout: Any = BaseRequest.DEFAULT_NONE,
        write_timeout: Any = BaseRequest.DEFAULT_NONE,
        connect_timeout: Any = BaseRequest.DEFAULT_NONE,
        pool_timeout: Any = BaseRequest.DEFAULT_NONE,
        api_kwargs: dict[str, Any] | None = None,
    ) -> Any:
        chat_id = (data or {}).get("chat_id")
        result = await super()._post(
            endpoint,
            data,
            read_timeout=read_timeout,
            write_timeout=write_timeout,
            connect_timeout=connect_timeout,
            pool_timeout=pool_timeout,
            api_kwargs=api_kwargs,
        )
        hook = self._sent_hook
        if hook is not None:
            created = sent_ids(endpoint, {"chat_id": chat_id}, result)
            if created is not None:
                try:
                    await hook(*created)
                except Exception:
                    log.warning("event=sent_hook_failed method=%s", endpoint)
        return result
