"""Build the Application: handlers, services opened in post_init and closed in post_shutdown."""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any

from telegram import BotCommand, LinkPreviewOptions
from telegram.constants import ParseMode
from telegram.ext import Application, ApplicationBuilder, ContextTypes, Defaults, ExtBot
from telegram.request import BaseRequest

from bot.config import WRONG_KEY, ConfigError, Settings
from bot.context import Context, Services
from bot.digest import Deliverer, make_bot
from bot.handlers import register_all
from bot.i18n import LANGS, Texts
from bot.transport import AiohttpRequest
from bot.updates import PerChatProcessor
from bot.views import Views
from storage import content, subscribers, usage
from storage.content_files import load_tree
from storage.crypto import Keys
from storage.db import connect
from storage.migrate import migrate
from storage.search import Searcher

log = logging.getLogger("tropa.app")
COMMANDS = (
    "start",
    "tactics",
    "conscription",
    "orgs",
    "search",
    "subscribe",
    "settings",
    "unsubscribe",
    "language",
    "forget",
    "help",
    "privacy",
    "about",
)
# What the handlers use; Telegram then never sends the rest (edits, channel posts, member changes...).
ALLOWED_UPDATES = ("message", "callback_query", "inline_query")
TropaApp = Application[ExtBot[None], Context, dict[Any, Any], dict[Any, Any], Services, Any]


def build_application(
    settings: Settings,
    *,
    key: bytes | None = None,
    request: BaseRequest | None = None,
    get_updates_request: BaseRequest | None = None,
    broadcast_request: BaseRequest | None = None,
) -> TropaApp:
    """The real Application, with no persistence: PTB's would write every chat id it saw to disk.

    Replies to people go out unthrottled: a conversation stays far below Telegram's per-chat limit, and the 30/s
    budget is for broadcasts, which get their own rate-limited bot.
    """
    # Typed loosely: each builder call changes the generic parameters, and the result is pinned below.
    builder: Any = (
        ApplicationBuilder()
        .token(settings.token())
        .base_url(settings.api_base_url)
        .base_file_url(settings.file_url)
        .context_types(ContextTypes(context=Context, bot_data=Services))
        .defaults(Defaults(parse_mode=ParseMode.HTML, link_preview_options=LinkPreviewOptions(is_disabled=True)))
        .concurrent_updates(PerChatProcessor())
        .post_init(open_services)
        .post_shutdown(close_services)
    )
    builder = builder.request(request or AiohttpRequest(connection_limit=64))
    builder = builder.get_updates_request(get_updates_request or AiohttpRequest(connection_limit=1))
    app: TropaApp = builder.build()
    services = app.bot_data
    services.settings = settings
    services.texts = Texts.load()
    services.keys = Keys.from_master(key if key is not None else settings.key())
    services.broadcast_request = broadcast_request
    register_all(app)
    return app


async def open_services(app: TropaApp) -> None:
    """Open the database, migrate, import the bundled content if there is none, set the command menu."""
    started = time.perf_counter()
    services = app.bot_data
    assert services.settings is not None
    assert services.texts is not None
    services.db = db = await connect(services.settings.db_path)
    applied = await migrate(db)
    if applied:
        log.info("event=migrated count=%d", len(applied))
    assert services.keys is not None
    if not await subscribers.key_opens(db, services.keys):
        raise ConfigError(WRONG_KEY)
    if not await content.has_content(db):
        items, problems = load_tree(services.settings.content_dir)
        if problems:
            log.warning("event=content_problems count=%d hint='run tropa content check'", len(problems))
        report = await content.import_items(db, items)
        log.info("event=content_imported added=%d", len(report.added))
    services.searcher = Searcher(db)
    services.views = Views(db, services.texts)
    digest_bot = make_bot(services.settings, services.broadcast_request)
    await digest_bot.initialize()
    services.deliverer = Deliverer(db, digest_bot, services.keys, services.texts, services.settings)
    if app.job_queue is not None:
        interval = services.settings.digest_interval
        app.job_queue.run_repeating(deliver_digests, interval=interval, first=interval, name="digest")
        app.job_queue.run_repeating(flush_usage, interval=60, first=60, name="usage")
    services.bot_username = app.bot.username
    for lang in LANGS:
        commands = [BotCommand(c, services.texts.label(lang, "commands", c)) for c in COMMANDS]
        await app.bot.set_my_commands(commands, language_code=lang)
    await app.bot.set_my_commands([BotCommand(c, services.texts.label("en", "commands", c)) for c in COMMANDS])
    log.info("event=started ms=%.0f", (time.perf_counter() - started) * 1000)


async def deliver_digests(context: Context) -> None:
    """The repeating job: one delivery run (it skips itself if the previous one is still going)."""
    await context.deliverer.run()


async def flush_usage(context: Context) -> None:
    """Write the event counts gathered in memory to today's row."""
    await write_usage(context.services)


async def write_usage(services: Services) -> None:
    if services.db is not None and services.usage:
        counts, services.usage = services.usage, Counter()
        await usage.add(services.db, counts, usage.today())


async def close_services(app: TropaApp) -> None:
    """Close the broadcast bot and the database so the process can exit."""
    await write_usage(app.bot_data)
    if app.bot_data.deliverer is not None:
        await app.bot_data.deliverer.bot.shutdown()
        app.bot_data.deliverer = None
    db = app.bot_data.db
    if db is not None:
        await db.close()
        app.bot_data.db = None


@asynccontextmanager
async def polling(
    app: TropaApp, *, poll_timeout: int = 10, allowed_updates: Sequence[str] = ALLOWED_UPDATES
) -> AsyncIterator[TropaApp]:
    """Run the Application with long polling inside an async block, the way run_polling would."""
    await app.initialize()
    try:
        if app.post_init is not None:
            await app.post_init(app)
        await app.start()
        assert app.updater is not None
        await app.updater.start_polling(poll_interval=0, timeout=poll_timeout, allowed_updates=allowed_updates)
        try:
            yield app
        finally:
            if app.updater.running:
                await app.updater.stop()
            if app.running:
                await app.stop()
    finally:
        await app.shutdown()
        if app.post_shutdown is not None:
            await app.post_shutdown(app)
