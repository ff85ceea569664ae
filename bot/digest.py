"""Digests: what is new for each subscriber, delivered at Telegram's rate with nothing lost or doubled.

Progress is persisted as it goes: a subscriber's row moves to its next slot only after its digest was accepted by
Telegram, and finished rows are group-committed. A crash (even SIGKILL) loses no one: after a restart the rows not
yet moved are still due. A delivery keeps its place in the window of WINDOW sends until its row is written, so at
most WINDOW digests (the sends in flight) can go out twice.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import functools
import logging
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any

import aiosqlite
from telegram import InlineKeyboardButton, InlineKeyboardMarkup
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
from storage.subscribers import Schedule, Subscriber, topic_names

log = logging.getLogger("tropa.digest")
SHOWN = 8  # items listed in one digest; the rest are counted, with the sections as buttons
WINDOW = 64  # sends in flight at once; the rate limiter paces them
CACHED = 1024  # composed digests (and next slots) kept during a run: subscribers share a few of each
GONE_BATCH = 500  # chats that are gone, deleted together
FLUSH_S = 0.01  # a finished delivery waits this long for others to share its commit
RETRIES = (0.5, 1.0, 2.0, 4.0)  # backoff for 5xx answers and timeouts
LOOKBACK = 31 * 24 * 3600  # a first digest, or one after a long pause, lists at most a month
PACE = 0.98  # send at 98 % of the limit: Telegram counts sends as they arrive, and arrival times wander
PAID_RATE = 1000.0  # Telegram's limit for sends with allow_paid_broadcast
LATE_S = 0.007  # the rate limiter's bucket holds one send and 7 ms more (see make_bot)
NO_PREVIEW = {"is_disabled": True}
STOP_GRACE = 5.0  # seconds sends in flight get to finish once delivery is told to stop; the rest are cut short
GONE = ("chat not found", "user is deactivated", "bot was blocked", "bot was kicked", "peer_id_invalid")


@dataclass
class Report:
    """Counts of one delivery run (never who)."""

    due: int = 0
    sent: int = 0
    nothing_new: int = 0
    removed: int = 0
    failed: int = 0
    left: int = 0  # not sent because delivery was stopping: still due, they go out on the next run
    seconds: float = 0.0
    skipped_quiet: bool = False
    stopped: bool = False  # the run was cut short by Deliverer.stop()

    def count(self, outcome: str, sub: Subscriber, recorder: Recorder) -> None:
        """Count a send that did not go out; a chat that is gone is queued for deletion."""
        if outcome == "gone":
            self.removed += 1
            recorder.remove(sub.lookup)
        elif outcome == "left":
            self.left += 1
        else:
            self.failed += 1


@dataclass(frozen=True)
class Digest:
    """What one subscriber gets: HTML and buttons, already cut to fit one message."""

    html: str
    markup: InlineKeyboardMarkup | None

    def params(self, *, paid: bool) -> dict[str, Any]:
        """The sendMessage parameters every recipient shares, JSON-ready: serialised once, not once per send."""
        params: dict[str, Any] = {"text": self.html, "parse_mode": "HTML", "link_preview_options": NO_PREVIEW}
        if self.markup is not None:
            params["reply_markup"] = self.markup.to_dict()
        if paid:
            params["allow_paid_broadcast"] = True
        return params


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


class Stopped(Exception):
    """Raised instead of a send the rate limiter was still holding when delivery was told to stop."""


class PacedLimiter(AIORateLimiter):
    """AIORateLimiter with every send, paid broadcasts included, through one bucket of one send (and LATE_S more).

    PTB's own bucket for allow_paid_broadcast holds a second's worth (1,000 at once, then 1,000 a second) and takes
    no parameters; the flag is hidden from the limiter's view of the request only, the request still carries it.
    Once stopped, a send whose turn comes raises Stopped instead of going out.
    """

    def __init__(self, rate: float) -> None:
        size = 1 + rate * LATE_S
        super().__init__(overall_max_rate=size, overall_time_period=size / rate, max_retries=5)
        self.stopped = False

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

        async def unless_stopped(*a: Any, **kw: Any) -> bool | dict[str, Any] | list[dict[str, Any]]:
            if self.stopped:
                raise Stopped
            return await callback(*a, **kw)

        return await super().process_request(unless_stopped, args, kwargs, endpoint, view, rate_limit_args)


class BroadcastBot(OutboxBot[int]):
    """An ExtBot that sends prepared parameters and builds no Message from Telegram's answer.

    A broadcast never reads the Message it sent, and building one (a dozen entities, up to ten buttons) costs more
    CPU than the send itself; so does serialising the same keyboard once per recipient.
    """

    async def send_prepared(self, params: dict[str, Any]) -> None:
        """sendMessage with JSON-ready parameters, through the rate limiter; raises what send_message raises."""
        await self._post("sendMessage", params)


def make_bot(settings: Settings, request: BaseRequest | None = None) -> BroadcastBot:
    """A bot of its own for broadcasts, behind python-telegram-bot's AIORateLimiter, sends evenly spaced.

    The limiter is a leaky bucket. Sized as its defaults suggest (a second's worth) it lets 30 sends go at once and
    then 30 a second, so some second always holds more than 30, which Telegram answers with 429 (a lost slot, and
    the send waits a second). A bucket of one send spaces them 1/rate apart; the LATE_S more it holds keep a timer
    that fires late from costing a slot. Paid broadcasts go through the same bucket at PAID_RATE (PacedLimiter).
    """
    limiter = PacedLimiter((PAID_RATE if settings.paid_broadcast else settings.digest_rate) * PACE)
    return BroadcastBot(
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
    bot: BroadcastBot
    keys: Keys
    texts: Texts
    settings: Settings
    stopping: bool = False
    _lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    _work: asyncio.Task[None] | None = None

    async def run(self, *, force: bool = False, now: dt.datetime | None = None) -> Report:
        """Deliver every due digest; with force, everyone is due now."""
        moment = now or dt.datetime.now(dt.UTC)
        report = Report()
        if in_quiet_hours(self.settings.quiet_hours, moment.astimezone(dt.UTC).hour):
            report.skipped_quiet = True
            return report
        if self._lock.locked() or self.stopping:
            return report
        async with self._lock:
            started = time.perf_counter()
            stamp = int(moment.timestamp())
            if force:
                await subscribers.make_all_due(self.db, stamp)
            fresh = {lang: await published_since(self.db, stamp - LOOKBACK, stamp, lang) for lang in ("ru", "en")}
            recorder = Recorder(self.db)

            # Subscribers share a few schedules and a few starting points: each digest is composed once.
            @functools.lru_cache(maxsize=CACHED)
            def prepared(lang: str, topics: int, since: int) -> dict[str, Any] | None:
                wanted = set(topic_names(topics))
                items = [item for item in fresh[lang] if item.published_at > since and item.section in wanted]
                if not items:
                    return None
                return compose(self.texts, lang, items, self.settings.mirrors).params(paid=self.settings.paid_broadcast)

            @functools.lru_cache(maxsize=CACHED)
            def next_slot(schedule: Schedule) -> int:
                return int(schedule.next_after(moment).timestamp())

            async def one(sub: Subscriber) -> None:
                if self.stopping:
                    report.left += 1
                    return
                since = sub.last_digest if sub.last_digest is not None else stamp - period(sub)
                params = prepared(sub.lang, sub.schedule.topics, since)
                if params is None:
                    report.nothing_new += 1
                    recorder.add((sub.lookup, next_slot(sub.schedule), None))
                    return
                outcome = await self._send(sub, params)
                if outcome == "sent":
                    report.sent += 1
                    # The worker (a window slot) waits until the row is written: at most WINDOW digests are ever
                    # accepted by Telegram and not yet recorded, which bounds the doubles after a crash.
                    await recorder.record((sub.lookup, next_slot(sub.schedule), stamp))
                else:
                    report.count(outcome, sub, recorder)

            # A task of its own, so that stop() can cut it short without cancelling this run's bookkeeping.
            work = self._work = asyncio.create_task(
                in_window(subscribers.due(self.db, self.keys, stamp), one, report, self._is_stopping)
            )
            try:
                await work
            except asyncio.CancelledError:
                current = asyncio.current_task()
                if not work.cancelled() or (current is not None and current.cancelling()):
                    raise
                # Cut short by stop(): what was in flight stays due (at most WINDOW of those went out).
                report.stopped = True
            finally:
                self._work = None
                await recorder.close()  # commits under way finish: what Telegram accepted is recorded
            report.seconds = time.perf_counter() - started
            if report.sent:
                await usage.add(self.db, Counter(digest_sent=report.sent), usage.today(moment))
        log.info(
            "event=digest_run due=%d sent=%d nothing_new=%d removed=%d failed=%d left=%d stopped=%d s=%.1f",
            report.due,
            report.sent,
            report.nothing_new,
            report.removed,
            report.failed,
            report.left,
            report.stopped or self.stopping,
            report.seconds,
        )
        return report

    def _is_stopping(self) -> bool:
        return self.stopping

    async def stop(self, grace: float = STOP_GRACE) -> None:
        """Send nothing more; give the sends in flight up to grace seconds, then cut the run short.

        What was not sent stays due for the next run. The run records what Telegram accepted before it returns.
        """
        self.stopping = True
        if isinstance(self.bot.rate_limiter, PacedLimiter):
            self.bot.rate_limiter.stopped = True
        work = self._work
        if work is not None:
            done, _ = await asyncio.wait({work}, timeout=grace)
            if not done:
                work.cancel()
        async with self._lock:  # the run has recorded what it sent and let go
            pass

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
        params = digest.params(paid=self.settings.paid_broadcast)
        recorder = Recorder(self.db)

        def stop() -> bool:
            return cancelled() or self.stopping

        async def one(sub: Subscriber) -> None:
            nonlocal last
            if stop():
                return
            outcome = await self._send(sub, params)
            if outcome == "sent":
                report.sent += 1
            else:
                report.count(outcome, sub, recorder)
            if time.perf_counter() - last >= 1.0:
                last = time.perf_counter()
                await progress(report.sent + report.removed + report.failed, total)

        try:
            await in_window(subscribers.with_topic(self.db, self.keys, "announcements"), one, report, stop)
        finally:
            await recorder.close()
        report.seconds = time.perf_counter() - started
        log.info(
            "event=announcement sent=%d removed=%d failed=%d s=%.1f",
            report.sent,
            report.removed,
            report.failed,
            report.seconds,
        )
        return report

    async def _send(self, sub: Subscriber, params: dict[str, Any]) -> str:
        """Send one digest: 'sent', 'gone' (blocked or no such chat: remove them), 'failed' (try next run) or 'left'.

        'left': delivery is stopping and the send never went out.
        """
        request = {**params, "chat_id": sub.chat_id, "disable_notification": not sub.sound}
        for attempt, pause in enumerate((*RETRIES, None)):
            try:
                await self.bot.send_prepared(request)
                return "sent"
            except Stopped:
                return "left"
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
                if pause is None or self.stopping:
                    return "failed"
                log.debug("event=digest_retry attempt=%d", attempt + 1)
                await asyncio.sleep(pause)
        return "failed"


class Recorder:
    """Group commit of finished deliveries: rows are written together, FLUSH_S after the first of them waits.

    A commit per send would cost a trip to the database thread and a transaction for every message; a sender
    waits a few milliseconds instead, holding its window slot, so the bound on doubles after a crash stays WINDOW.
    Chats that are gone are deleted a few hundred at a time (each deletion checkpoints the WAL) and at close.
    """

    def __init__(self, db: aiosqlite.Connection) -> None:
        self.db = db
        self.pending: list[tuple[bytes, int, int | None]] = []
        self.gone: list[bytes] = []
        self.lock = asyncio.Lock()
        self.next: asyncio.Future[None] | None = None  # resolves when the rows queued so far are committed
        self.flushes: set[asyncio.Task[None]] = set()

    def add(self, entry: tuple[bytes, int, int | None]) -> None:
        """Queue a row whose delivery sent nothing: no hurry, nothing can be doubled."""
        self.pending.append(entry)

    def remove(self, lookup: bytes) -> None:
        """Queue the deletion of a chat that blocked the bot or no longer exists."""
        self.gone.append(lookup)

    async def record(self, entry: tuple[bytes, int, int | None]) -> None:
        """Queue a row and return once it is committed, together with the others queued meanwhile."""
        self.pending.append(entry)
        if self.next is None:
            self.next = asyncio.get_running_loop().create_future()
            task = asyncio.create_task(self._flush_soon(self.next))
            self.flushes.add(task)
            task.add_done_callback(self.flushes.discard)
        # Shielded: a sender cancelled while waiting must not cancel the commit the others wait for.
        await asyncio.shield(self.next)

    async def _flush_soon(self, done: asyncio.Future[None]) -> None:
        await asyncio.sleep(FLUSH_S)
        try:
            await self.flush()
        except Exception as exc:
            done.set_exception(exc)
        else:
            done.set_result(None)

    async def flush(self, *, final: bool = False) -> None:
        """Write everything queued so far; the deletions once there are GONE_BATCH of them, or at the end."""
        async with self.lock:
            self.next = None
            if self.pending:
                chunk, self.pending = self.pending, []
                await subscribers.mark_done(self.db, chunk)
            if self.gone and (final or len(self.gone) >= GONE_BATCH):
                gone, self.gone = self.gone, []
                await subscribers.remove_many(self.db, gone)

    async def close(self) -> None:
        """Wait for the commits under way, then write what is left, deletions included."""
        await asyncio.gather(*self.flushes, return_exceptions=True)
        await self.flush(final=True)


async def in_window(
    source: AsyncIterator[list[Subscriber]],
    handle: Callable[[Subscriber], Awaitable[None]],
    report: Report,
    stop: Callable[[], bool] = lambda: False,
) -> None:
    """Hand every subscriber the source yields to handle, WINDOW at once, with no pause between batches.

    WINDOW workers take from one queue that the next batch is read into while the current one is sent, so the
    sends never drain at a batch boundary. In memory: the batch being queued and the window, never the table.
    """
    queue: asyncio.Queue[Subscriber | None] = asyncio.Queue(maxsize=WINDOW)

    async def work() -> None:
        while (sub := await queue.get()) is not None:
            await handle(sub)

    # A worker that raises cancels the others and this body, so nothing waits on a queue nobody empties.
    try:
        async with asyncio.TaskGroup() as group:
            for _ in range(WINDOW):
                group.create_task(work())
            async for batch in source:
                report.due += len(batch)
                for sub in batch:
                    await queue.put(sub)
                if stop():
                    break
            for _ in range(WINDOW):
                await queue.put(None)
    except ExceptionGroup as failed:
        raise failed.exceptions[0] from None


def period(sub: Subscriber) -> int:
    """Seconds a first digest looks back: one rhythm period."""
    return 7 * 24 * 3600 if sub.schedule.rhythm == "weekly" else 24 * 3600
