"""Disappearing messages: which chats chose them, the deletions they are owed, and the run that carries them out.

Every new message in such a chat (the person's, seen as an update; the bot's, seen by OutboxBot) becomes a sealed
row in storage.deletions, written before the call that saw it returns, with group commits. The repeating job
deletes what is due with deleteMessages and removes the rows at once; rows survive a restart.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass, field

import aiosqlite
from telegram import Bot
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter

from storage import deletions, prefs
from storage.crypto import Keys
from storage.deletions import Pending

log = logging.getLogger("tropa.disappearing")
RUN_INTERVAL = 60.0  # seconds between runs of the job
# A row this late is dropped: with the 24-hour choice its messages are then past Telegram's 48 hours.
GIVE_UP_AFTER = 24 * 3600
CALLS_AT_ONCE = 8


def wait_seconds(error: RetryAfter) -> float:
    """Telegram's retry_after as seconds (a timedelta in python-telegram-bot 22 with PTB_TIMEDELTA, else int)."""
    value = error.retry_after
    return value.total_seconds() if isinstance(value, dt.timedelta) else float(value)


async def delete(bot: Bot, chat_id: int, message_ids: list[int]) -> float | None:
    """One deleteMessages call. None once it is settled (deleted, or refused for good), else seconds to wait.

    deleteMessages skips what it cannot delete (gone, or older than 48 hours) and still says True, so a refusal
    means the whole call can never succeed: a chat that no longer exists, a person who blocked the bot.
    """
    try:
        await bot.delete_messages(chat_id, message_ids)
    except (BadRequest, Forbidden) as exc:
        log.warning("event=delete_refused type=%s", type(exc).__name__)
        return None
    except RetryAfter as exc:
        return wait_seconds(exc)
    except NetworkError:  # timeouts and 5xx answers: worth another try
        return 1.0
    return None


@dataclass
class Report:
    """Counts of one run (never whose)."""

    rows: int = 0
    messages: int = 0
    dropped: int = 0
    left: int = 0


@dataclass
class Disappearing:
    """The choices in memory (HMAC -> seconds, for chats that turned it on) and the deletions owed to them."""

    db: aiosqlite.Connection
    keys: Keys
    clock: Callable[[], float]
    _after: dict[bytes, int] = field(default_factory=dict)
    _queue: list[tuple[int, int, list[int]]] = field(default_factory=list)
    _write: asyncio.Lock = field(default_factory=asyncio.Lock)
    _running: asyncio.Lock = field(default_factory=asyncio.Lock)

    async def load(self) -> None:
        """Read who chose disappearing messages."""
        self._after = await prefs.disappearing_chats(self.db)

    def after(self, chat_id: int) -> int:
        """Seconds after which this chat's messages are deleted; 0 when off."""
        return self._after.get(self.keys.lookup(chat_id), 0)

    async def choose(self, chat_id: int, seconds: int) -> None:
        """Store the choice (0 turns it off) under the chat's HMAC."""
        lookup = self.keys.lookup(chat_id)
        await prefs.set_disappear(self.db, lookup, seconds)
        if seconds:
            self._after[lookup] = seconds
        else:
            self._after.pop(lookup, None)

    def forgotten(self, chat_id: int) -> None:
        """Drop the choice from memory once /forget deleted it from the database."""
        self._after.pop(self.keys.lookup(chat_id), None)

    async def note(self, chat_id: int, message_ids: list[int]) -> None:
        """A new message in a chat: owe it a deletion if the chat chose disappearing messages."""
        seconds = self.after(chat_id)
        if seconds:
            await self.schedule(chat_id, message_ids, seconds)

    async def schedule(self, chat_id: int, message_ids: list[int], seconds: int) -> None:
        """Write a deletion due in `seconds`; returns once it is committed (by this call or one that took it along)."""
        self._queue.append((deletions.due_time(self.clock(), seconds), chat_id, list(message_ids)))
        async with self._write:
            if self._queue:
                batch, self._queue = merged(self._queue), []
                await deletions.add(self.db, self.keys, batch)

    async def run(self, bot: Bot) -> Report:
        """Delete every message that is due and remove its row; one run at a time (the job never overlaps itself)."""
        report = Report()
        async with self._running:  # a call while the job runs waits for it, then finds what is still due
            now = int(self.clock())
            gate = asyncio.Semaphore(CALLS_AT_ONCE)

            async def one(row: Pending) -> float | None:
                async with gate:
                    return await delete(bot, row.chat_id, row.message_ids)

            async for opened, broken in deletions.due(self.db, self.keys, now):
                done = list(broken)  # rows that do not open under this key can never be carried out
                report.dropped += len(broken)
                waits = await asyncio.gather(*(one(row) for row in opened))
                for row, wait in zip(opened, waits, strict=True):
                    if wait is None:
                        report.rows += 1
                        report.messages += len(row.message_ids)
                        done.append(row.key)
                    elif now - row.due > GIVE_UP_AFTER:
                        report.dropped += 1
                        done.append(row.key)
                    else:
                        report.left += 1
                await deletions.remove(self.db, done)
        if report.rows or report.dropped or report.left:
            log.info(
                "event=disappeared rows=%d messages=%d dropped=%d left=%d",
                report.rows,
                report.messages,
                report.dropped,
                report.left,
            )
        return report

    async def delete_now(self, bot: Bot, chat_id: int) -> int:
        """Carry out every deletion this chat is owed at once and remove the rows (for /forget): how many messages."""
        rows = await deletions.of_chat(self.db, self.keys, chat_id)
        deleted = 0
        for row in rows:
            if await delete(bot, chat_id, row.message_ids) is None:
                deleted += len(row.message_ids)
        await deletions.remove(self.db, [row.key for row in rows])
        return deleted


def merged(queue: list[tuple[int, int, list[int]]]) -> list[tuple[int, int, list[int]]]:
    """One entry per chat and due time: messages written together share a row."""
    groups: dict[tuple[int, int], list[int]] = {}
    for due, chat_id, ids in queue:
        groups.setdefault((due, chat_id), []).extend(ids)
    return [(due, chat_id, sorted(set(ids))) for (due, chat_id), ids in groups.items()]
