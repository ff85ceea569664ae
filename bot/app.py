"""Build the Application: handlers, services opened in post_init and closed in post_shutdown."""

from __future__ import annotations

import asyncio
import logging
import re
import signal
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

from telegram import Bot, BotCommand, LinkPreviewOptions
from telegram.constants import ParseMode
from telegram.error import InvalidToken, TelegramError
from telegram.ext import Application, ApplicationBuilder, ContextTypes, Defaults, ExtBot, Updater
from telegram.request import BaseRequest

from bot.config import WRONG_KEY, ConfigError, Settings, Webhook
from bot.context import Context, Services
from bot.digest import Deliverer, make_bot
from bot.disappearing import RUN_INTERVAL, Disappearing
from bot.flood import FloodGate
from bot.handlers import register_all
from bot.i18n import DEFAULT_LANG, LANGS, Texts
from bot.outbox import OutboxBot
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
    "wipe",
    "forget",
    "help",
    "privacy",
    "about",
)
# What the handlers use; Telegram then never sends the rest (edits, channel posts, member changes...).
ALLOWED_UPDATES = ["message", "callback_query", "inline_query"]
STOP_WITHIN = 9.0  # seconds from a stop signal to a closed database: Docker (and our unit) kill after 10
TropaApp = Application[ExtBot[None], Context, dict[Any, Any], dict[Any, Any], Services, Any]
DESCRIPTION_LIMITS = {"bot_description": 512, "bot_short_description": 120}  # Telegram's, in characters


def build_application(
    settings: Settings,
    *,
    key: bytes | None = None,
    request: BaseRequest | None = None,
    get_updates_request: BaseRequest | None = None,
    broadcast_request: BaseRequest | None = None,
    clock: Callable[[], float] = time.time,
) -> TropaApp:
    """The real Application, with no persistence: PTB's would write every chat id it saw to disk.

    Replies to people go out unthrottled: a conversation stays far below Telegram's per-chat limit, and the 30/s
    budget is for broadcasts, which get their own rate-limited bot. The bot is an OutboxBot, so every message it
    sends can be owed a deletion.
    """
    bot: OutboxBot[None] = OutboxBot(
        token=settings.token(),
        base_url=settings.api_base_url,
        base_file_url=settings.file_url,
        request=request or AiohttpRequest(connection_limit=64),
        get_updates_request=get_updates_request or AiohttpRequest(connection_limit=1),
        defaults=Defaults(parse_mode=ParseMode.HTML, link_preview_options=LinkPreviewOptions(is_disabled=True)),
    )
    # Typed loosely: each builder call changes the generic parameters, and the result is pinned below.
    builder: Any = (
        ApplicationBuilder()
        .bot(bot)
        .context_types(ContextTypes(context=Context, bot_data=Services))
        .concurrent_updates(PerChatProcessor())
        .post_init(open_services)
        .post_shutdown(close_services)
    )
    app: TropaApp = builder.build()
    services = app.bot_data
    services.settings = settings
    services.texts = Texts.load()
    services.keys = Keys.from_master(key if key is not None else settings.key())
    services.broadcast_request = broadcast_request
    services.clock = clock
    services.flood = FloodGate(settings.flood_burst, settings.flood_rate)
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
    services.disappearing = Disappearing(db, services.keys, services.clock)
    await services.disappearing.load()
    assert isinstance(app.bot, OutboxBot)
    app.bot.set_sent_hook(services.disappearing.note)
    digest_bot = make_bot(services.settings, services.broadcast_request)
    digest_bot.set_sent_hook(services.disappearing.note)
    await digest_bot.initialize()
    services.deliverer = Deliverer(db, digest_bot, services.keys, services.texts, services.settings)
    if app.job_queue is not None:
        interval = services.settings.digest_interval
        app.job_queue.run_repeating(deliver_digests, interval=interval, first=interval, name="digest")
        app.job_queue.run_repeating(flush_usage, interval=60, first=60, name="usage")
        # Soon after start-up too: what fell due while the bot was down should not wait another minute.
        app.job_queue.run_repeating(delete_due, interval=RUN_INTERVAL, first=1, name="disappearing")
    services.bot_username = app.bot.username
    for lang in LANGS:
        commands = [BotCommand(c, services.texts.label(lang, "commands", c)) for c in COMMANDS]
        await app.bot.set_my_commands(commands, language_code=lang)
    await app.bot.set_my_commands([BotCommand(c, services.texts.label("en", "commands", c)) for c in COMMANDS])
    await set_descriptions(app.bot, services.texts)
    log.info("event=started ms=%.0f", (time.perf_counter() - started) * 1000)


async def set_descriptions(bot: Bot, texts: Texts) -> None:
    """The description (shown in an empty chat) and short description (the profile) in ru, en and by default.

    Each is read first and set only if it differs: Telegram limits how often these may change, and a restart
    should not spend that. A failure is logged and start-up goes on: the old descriptions stay.
    """

    async def one(lang: str | None) -> None:
        source = lang or DEFAULT_LANG
        description = texts.get(source, "bot_description")
        short = texts.get(source, "bot_short_description")
        try:
            if (await bot.get_my_description(language_code=lang)).description != description:
                await bot.set_my_description(description, language_code=lang)
            if (await bot.get_my_short_description(language_code=lang)).short_description != short:
                await bot.set_my_short_description(short, language_code=lang)
        except TelegramError as exc:
            log.warning("event=description_failed type=%s", type(exc).__name__)

    await asyncio.gather(*(one(lang) for lang in (*LANGS, None)))


async def delete_due(context: Context) -> None:
    """The repeating job: delete the messages of disappearing chats that are due."""
    await context.disappearing.run(context.bot)


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


async def serve(app: TropaApp, hook: Webhook | None) -> None:
    """Take updates (from the webhook when one is configured, else by long polling) until SIGINT or SIGTERM."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        async with webhook(app, hook) if hook is not None else polling(app):
            log.info("event=serving mode=%s", "webhook" if hook is not None else "polling")
            await stop.wait()
            log.info("event=stopping")
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)


def polling(
    app: TropaApp, *, poll_timeout: int = 10, allowed_updates: Sequence[str] = ALLOWED_UPDATES
) -> AbstractAsyncContextManager[TropaApp]:
    """Run the Application with long polling inside an async block; leaving it stops gracefully."""
    return serving(
        app,
        lambda updater: updater.start_polling(poll_interval=0, timeout=poll_timeout, allowed_updates=allowed_updates),
    )


def webhook(app: TropaApp, hook: Webhook) -> AbstractAsyncContextManager[TropaApp]:
    """Run the Application behind a webhook inside an async block: setWebhook, then listen on hook.listen:port.

    python-telegram-bot's server answers 403 to a request without the right X-Telegram-Bot-Api-Secret-Token and
    queues nothing from it.
    """

    async def start(updater: Updater) -> None:
        try:
            await updater.start_webhook(
                listen=hook.listen,
                port=hook.port,
                url_path=re.escape(hook.path),  # the server matches the path as a regular expression
                webhook_url=hook.url,
                secret_token=hook.secret,
                allowed_updates=ALLOWED_UPDATES,
            )
        except InvalidToken:
            raise  # the token's problem, not the URL's: main() says so
        except TelegramError as exc:
            raise ConfigError(f"TROPA_WEBHOOK_URL was refused by Telegram: {exc.message}") from None
        except OSError as exc:
            raise ConfigError(
                f"TROPA_PORT cannot be used: listening on {hook.listen} port {hook.port} failed ({exc.strerror})"
            ) from None

    return serving(app, start)


@asynccontextmanager
async def serving(app: TropaApp, start_updates: Callable[[Updater], Awaitable[object]]) -> AsyncIterator[TropaApp]:
    """Initialize, open the services, start, take updates; on the way out stop gracefully and close everything."""
    try:
        await app.initialize()
    except BaseException:
        # A getMe that fails (a revoked token) leaves the bot uninitialized with its transports open, and
        # python-telegram-bot's shutdown skips an uninitialized bot.
        for request in app.bot._request:
            await request.shutdown()
        raise
    try:
        if app.post_init is not None:
            await app.post_init(app)
        await app.start()
        try:
            assert app.updater is not None
            await start_updates(app.updater)
            yield app
        finally:
            await stop_gracefully(app)
    finally:
        await app.shutdown()
        if app.post_shutdown is not None:
            await app.post_shutdown(app)


async def stop_gracefully(app: TropaApp) -> None:
    """Stop taking updates, let digest sends in flight finish (the rest stay due), answer what was already taken.

    Bounded by STOP_WITHIN: whatever still runs then is abandoned, and post_shutdown closes the database.
    """
    started = time.perf_counter()
    if app.updater is not None and app.updater.running:
        await app.updater.stop()
    services = app.bot_data
    if services.announcing is not None:
        services.announcing.set()
    if services.deliverer is not None:
        await services.deliverer.stop()
    if app.running:
        try:
            await asyncio.wait_for(app.stop(), timeout=max(STOP_WITHIN - (time.perf_counter() - started), 0.5))
        except TimeoutError:
            log.warning("event=stop_timeout s=%.1f", STOP_WITHIN)
    log.info("event=stopped ms=%.0f", (time.perf_counter() - started) * 1000)
