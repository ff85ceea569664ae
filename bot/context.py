"""A typed CallbackContext: .db, .settings, .texts and friends instead of casting bot_data."""

from __future__ import annotations

import asyncio
import time
from collections import Counter, OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

import aiosqlite
from telegram.ext import Application, CallbackContext, ExtBot
from telegram.request import BaseRequest

from bot.config import Settings
from bot.digest import Deliverer
from bot.disappearing import Disappearing
from bot.flood import FloodGate
from bot.i18n import Texts
from bot.views import Views
from storage.crypto import Keys
from storage.search import Searcher

T = TypeVar("T")


@dataclass
class Services:
    """What handlers share: set by build_application, opened in post_init, closed in post_shutdown.

    PTB builds bot_data with no arguments, so every field starts empty.
    """

    settings: Settings | None = None
    texts: Texts | None = None
    keys: Keys | None = None
    db: aiosqlite.Connection | None = None
    searcher: Searcher | None = None
    views: Views | None = None
    deliverer: Deliverer | None = None
    disappearing: Disappearing | None = None
    flood: FloodGate | None = None  # token buckets by HMAC, memory only
    clock: Callable[[], float] = time.time  # wall clock for due times; tests follow the emulator's instead
    broadcast_request: BaseRequest | None = None  # the transport digests use; the console's stays in process
    announcing: asyncio.Event | None = None  # set while an announcement goes out; setting .cancel stops it
    usage: Counter[str] = field(default_factory=Counter)  # events since the last flush: names only, no people
    bot_username: str = "tropa_bot"
    shown: ShownMessages = field(default_factory=lambda: ShownMessages())

    def content_changed(self) -> None:
        """Drop what was rendered or indexed in memory after content was published, removed or imported."""
        if self.views is not None:
            self.views.invalidate()
        if self.searcher is not None:
            self.searcher.invalidate()


class ShownMessages:
    """What each recent bot message shows, so an edit that would change nothing is never sent.

    A button press carries the message as it was when pressed; after a double tap that copy is stale. Keys are
    (HMAC of the chat id, message id) and values a digest of text and buttons: memory only, bounded.
    """

    LIMIT = 50_000

    def __init__(self) -> None:
        self._seen: OrderedDict[tuple[bytes, int], bytes] = OrderedDict()

    def same(self, key: tuple[bytes, int], digest: bytes) -> bool:
        return self._seen.get(key) == digest

    def remember(self, key: tuple[bytes, int], digest: bytes) -> None:
        self._seen[key] = digest
        self._seen.move_to_end(key)
        while len(self._seen) > self.LIMIT:
            self._seen.popitem(last=False)


def _need(value: T | None, what: str) -> T:
    if value is None:
        raise RuntimeError(f"{what} is not ready yet")
    return value


class Context(CallbackContext[ExtBot[None], dict[Any, Any], dict[Any, Any], Services]):
    """Handlers' context with typed access to shared services."""

    def __init__(
        self,
        application: Application[Any, Any, Any, Any, Any, Any],
        chat_id: int | None = None,
        user_id: int | None = None,
    ) -> None:
        super().__init__(application=application, chat_id=chat_id, user_id=user_id)

    @property
    def services(self) -> Services:
        return self.bot_data

    @property
    def db(self) -> aiosqlite.Connection:
        return _need(self.bot_data.db, "the database")

    @property
    def settings(self) -> Settings:
        return _need(self.bot_data.settings, "settings")

    @property
    def texts(self) -> Texts:
        return _need(self.bot_data.texts, "texts")

    @property
    def keys(self) -> Keys:
        return _need(self.bot_data.keys, "keys")

    @property
    def deliverer(self) -> Deliverer:
        return _need(self.bot_data.deliverer, "digest delivery")

    @property
    def disappearing(self) -> Disappearing:
        return _need(self.bot_data.disappearing, "disappearing messages")

    @property
    def flood(self) -> FloodGate:
        return _need(self.bot_data.flood, "the flood limit")

    @property
    def views(self) -> Views:
        return _need(self.bot_data.views, "views")

    @property
    def searcher(self) -> Searcher:
        return _need(self.bot_data.searcher, "search")
