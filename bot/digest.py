"""Digests: what is new for each subscriber, delivered at Telegram's rate with nothing lost or doubled.

Progress is persisted as it goes: a subscriber's row moves to its next slot only after its digest was accepted by
Telegram, and finished rows are group-committed. A crash (even SIGKILL) loses no one: after a restart the rows not
yet moved are still due. A delivery keeps its place in the window of WINDOW sends until its row is written, so at
most WINDOW digests (the sends in flight) can go out twice.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any

import aiosqlite
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, LinkPreviewOptions
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TimedOut
from telegram.ext import AIORateLimiter
from telegram.request import BaseRequest

from bot import keyboards
from bot.config import Settings, in_quiet_hours
from bot.i18n import Texts
from bot.outbox import OutboxBot
from bot.render import MESSAGE_LIMIT, esc, visible_length
from bot.transport import AiohttpRequest
from storage import subscribers, usage
from storage.content import Fresh, published_since
from storage.crypto import Keys
from storage.subscribers import Subscriber, topic_names

log = logging.getLogger("tropa.digest")
SHOWN = 8  # items listed in one digest; the rest are counted, with the sections as buttons
WINDOW = 64  # sends in flight at once; the rate limiter paces them
RETRIES = (0.5, 1.0, 2.0, 4.0)  # backoff for 5xx answers and timeouts
LOOKBACK = 31 * 24 * 3600  # a first digest, or one after a long pause, lists at most a month
PACE = 0.98  # send at 98 % of the limit: Telegram counts sends as they arrive, and arrival times wander
PAID_RATE = 1000.0  # Telegram's limit for sends with allow_paid_broadcast
LATE_S = 0.007  # the rate limiter's bucket holds one send and 7 ms more (see make_bot)
GONE = ("chat not found", "user is deactivated", "bot was blocked", "bot was kicked", "peer_id_invalid")


@dataclass
class Report:
    """Counts of one delivery run (never who)."""

    due: int = 0
    sent: int = 0
    nothing_new: int = 0
    removed: int = 0
    failed: int = 0
    seconds: float = 0.0
    skipped_quiet: bool = False


@dataclass
class Digest:
    """What one subscriber gets: HTML and buttons, already cut to fit one message."""

    html: str
    markup: InlineKeyboardMarkup | None


def compose(texts: Texts, lang: str, fresh: list[Fresh], mirrors: tuple[str, ...] = ()) -> Digest:
    """List the new items (title, summary, a button each); beyond SHOWN, a count and the sections as buttons.

    The footer names the fallback contacts (TROPA_MIRRORS). Should the whole not fit one message, fewer items are
    listed in full and more are counted.
    """
    for shown in range(min(SHOWN, len(fresh)), 0, -1):
        digest = _compose(texts, lang, fresh, mirrors, shown)
        if visible_length(digest.html) <= MESSAGE_LIMIT:
            return digest
    return _compose(texts, lang, fresh, mirrors, 0)


def _compose(texts: Texts, lang: str, fresh: list[Fresh], mirrors: tuple[str, ...], shown: int) -> Digest:
    t = texts
    lines = [f"<b>{esc(t.plural(lang, 'digest_header', len(fresh)))}</b>"]
    rows: list[list[InlineKeyboardButton]] = []
    for item in fresh[:shown]:
        lines.append(f"\n<b>{esc(item.title)}</b>\n{esc(item.summary)}")
        rows.append([InlineKeyboardButton(item.title, callback_data=keyboards.item_data(item.section, item.slug))])
    rest = fresh[shown:]
    if rest:
        lines.append("\n" + esc(t.plural(lang, "digest_more", len(rest))))
        for section in dict.fromkeys(item.section for item in rest):
            rows.append(
                [InlineKeyboardButton(t.label(lang, "section", section), callback_data=keyboards.section_data(section))]
            )
    lines.append("\n<i>" + esc(t.get(lang, "digest_footer")) + "</i>")
    if mirrors:
        lines.append(esc(t.get(lang, "mirrors_digest", mirrors=", ".join(mirrors))))
    return Digest("\n".join(lines), InlineKeyboardMarkup(rows))


class PacedLimiter(AIORateLimiter):
    """AIORateLimiter with every send, paid broadcasts included, through one bucket of one send (and LATE_S more).

    PTB's own bucket for allow_paid_broadcast holds a second's worth (1,000 at once, then 1,000 a second) and takes
    no parameters; the flag is hidden from the limiter's view of the request only, the request still carries it.
    """

    def __init__(self, rate: float) -> None:
        size = 1 + rate * LATE_S
        super().__init__(overall_max_rate=size, overall_time_period=size / rate, max_retries=5)

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, bool | dict[str, Any] | list[dict[str, Any]]]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: int | None,
    ) -> bool | dict[str, Any] | list[dict[str, Any]]:
        view = {key: value for key, value in data.items() if key != "allow_paid_broadcast"}
        return await super().process_request(callback, args, kwargs, endpoint, view, rate_limit_args)


def make_bot(settings: Settings, request: BaseRequest | None = None) -> OutboxBot[int]:
    """A bot of its own for broadcasts, behind python-telegram-bot's AIORateLimiter, sends evenly spaced.

    The limiter is a leaky bucket. Sized as its defaults suggest (a second's worth) it lets 30 sends go at once and
    then 30 a second, so some second always holds more than 30, which Telegram answers with 429 (a lost slot, and
    the send waits a second). A bucket of one send spaces them 1/rate apart; the LATE_S more it holds keep a timer
    that fires late from costing a slot. Paid broadcasts go through the same bucket at PAID_RATE (PacedLimiter).
    """
    limiter = PacedLimiter((PAID_RATE if settings.paid_broadcast else settings.digest_rate) * PACE)
    return OutboxBot(
        token=settings.token(),
        base_url=settings.api_base_url,
        base_file_url=settings.file_url,
        request=request or AiohttpRequest(connection_limit=WINDOW),
        rate_limiter=limiter,
    )


@dataclass
class Deliverer:
    """One delivery run at a time over the subscribers table."""

    db: aiosqlite.Connection
    bot: OutboxBot[int]
    keys: Keys
    texts: Texts
    settings: Settings
    _lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    async def run(self, *, force: bool = False, now: dt.datetime | None = None) -> Report:
        """Deliver every due digest; with force, everyone is due now."""
        moment = now or dt.datetime.now(dt.UTC)
        report = Report()
        if in_quiet_hours(self.settings.quiet_hours, moment.astimezone(dt.UTC).hour):
            report.skipped_quiet = True
            return report
        if self._lock.locked():
            return report
        async with self._lock:
            started = time.perf_counter()
            stamp = int(moment.timestamp())
            if force:
                await subscribers.make_all_due(self.db, stamp)
            fresh = {lang: await published_since(self.db, stamp - LOOKBACK, stamp, lang) for lang in ("ru", "en")}
            async for batch in subscribers.due(self.db, self.keys, stamp):
                await self._deliver_batch(batch, fresh, moment, report)
            report.seconds = time.perf_counter() - started
            if report.sent:
                await usage.add(self.db, Counter(digest_sent=report.sent), usage.today(moment))
        log.info(
            "event=digest_run due=%d sent=%d nothing_new=%d removed=%d failed=%d s=%.1f",
            report.due,
            report.sent,
            report.nothing_new,
            report.removed,
            report.failed,
            report.seconds,
        )
        return report

    async def _deliver_batch(
        self, batch: list[Subscriber], fresh: dict[str, list[Fresh]], moment: dt.datetime, report: Report
    ) -> None:
        report.due += len(batch)
        recorder = Recorder(self.db)
        gone: list[bytes] = []
        stamp = int(moment.timestamp())
        gate = asyncio.Semaphore(WINDOW)

        async def one(sub: Subscriber) -> None:
            async with gate:
                next_due = int(sub.schedule.next_after(moment).timestamp())
                since = sub.last_digest if sub.last_digest is not None else stamp - period(sub)
                wanted = set(topic_names(sub.schedule.topics))
                items = [item for item in fresh[sub.lang] if item.published_at > since and item.section in wanted]
                if not items:
                    report.nothing_new += 1
                    recorder.add((sub.lookup, next_due, None))
                    return
                outcome = await self._send(sub, compose(self.texts, sub.lang, items, self.settings.mirrors))
                if outcome == "sent":
                    report.sent += 1
                    # The window slot is held until the row is written: at most WINDOW digests are ever
                    # accepted by Telegram and not yet recorded, which bounds the doubles after a crash.
                    await recorder.record((sub.lookup, next_due, stamp))
                elif outcome == "gone":
                    report.removed += 1
                    gone.append(sub.lookup)
                else:
                    report.failed += 1

        await asyncio.gather(*(one(sub) for sub in batch))
        await recorder.flush()
        await subscribers.remove_many(self.db, gone)

    async def announce(
        self,
        digest: Digest,
        progress: Callable[[int, int], Awaitable[None]],
        cancelled: Callable[[], bool],
    ) -> Report:
        """Send one message to every subscriber of announcements, through the same window, limiter and retries.

        progress(done, total) is awaited about once a second; cancelled() is checked before every send.
        """
        report = Report()
        total = await subscribers.count_topic(self.db, "announcements")
        started = last = time.perf_counter()
        gate = asyncio.Semaphore(WINDOW)
        gone: list[bytes] = []

        async def one(sub: Subscriber) -> None:
            nonlocal last
            async with gate:
                if cancelled():
                    return
                outcome = await self._send(sub, digest)
                if outcome == "sent":
                    report.sent += 1
                elif outcome == "gone":
                    report.removed += 1
                    gone.append(sub.lookup)
                else:
                    report.failed += 1
                if time.perf_counter() - last >= 1.0:
                    last = time.perf_counter()
                    await progress(report.sent + report.removed + report.failed, total)

        async for batch in subscribers.with_topic(self.db, self.keys, "announcements"):
            report.due += len(batch)
            await asyncio.gather(*(one(sub) for sub in batch))
            if cancelled():
                break
        await subscribers.remove_many(self.db, gone)
        report.seconds = time.perf_counter() - started
        log.info(
            "event=announcement sent=%d removed=%d failed=%d s=%.1f",
            report.sent,
            report.removed,
            report.failed,
            report.seconds,
        )
        return report

    async def _send(self, sub: Subscriber, digest: Digest) -> str:
        """Send one digest: 'sent', 'gone' (blocked or no such chat: remove them) or 'failed' (try next run)."""
        for attempt, pause in enumerate((*RETRIES, None)):
            try:
                await self.bot.send_message(
                    chat_id=sub.chat_id,
                    text=digest.html,
                    parse_mode="HTML",
                    reply_markup=digest.markup,
                    disable_notification=not sub.sound,
                    link_preview_options=LinkPreviewOptions(is_disabled=True),
                    allow_paid_broadcast=self.settings.paid_broadcast or None,
                )
                return "sent"
            except Forbidden:
                return "gone"
            except BadRequest as exc:
                if any(reason in str(exc).lower() for reason in GONE):
                    return "gone"
                log.warning("event=digest_refused type=%s", type(exc).__name__)
                return "failed"
            except RetryAfter:
                # The rate limiter already waited and retried; Telegram still says wait: leave it for the next run.
                return "failed"
            except (TimedOut, NetworkError):
                if pause is None:
                    return "failed"
                log.debug("event=digest_retry attempt=%d", attempt + 1)
                await asyncio.sleep(pause)
        return "failed"


class Recorder:
    """Group commit of finished deliveries: whoever gets the lock writes everything waiting, in one transaction."""

    def __init__(self, db: aiosqlite.Connection) -> None:
        self.db = db
        self.pending: list[tuple[bytes, int, int | None]] = []
        self.lock = asyncio.Lock()

    def add(self, entry: tuple[bytes, int, int | None]) -> None:
        """Queue a row whose delivery sent nothing: no hurry, nothing can be doubled."""
        self.pending.append(entry)

    async def record(self, entry: tuple[bytes, int, int | None]) -> None:
        """Queue a row and return once it is committed (by this call or one that took it along)."""
        self.pending.append(entry)
        await self.flush()

    async def flush(self) -> None:
        """Write everything queued so far."""
        async with self.lock:
            if self.pending:
                chunk, self.pending = self.pending, []
                await subscribers.mark_done(self.db, chunk)


def period(sub: Subscriber) -> int:
    """Seconds a first digest looks back: one rhythm period."""
    return 7 * 24 * 3600 if sub.schedule.rhythm == "weekly" else 24 * 3600
