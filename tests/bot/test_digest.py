"""Digest pieces without the network: composing (fallback contacts, always one message), prepared parameters,
the window delivery runs in, group commits."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path

import aiosqlite
import pytest

from bot.config import MAX_MIRRORS
from bot.digest import SHOWN, WINDOW, Recorder, Report, compose, in_window
from bot.i18n import LANGS, Texts
from bot.render import MESSAGE_LIMIT, html_problem, visible_length
from storage import subscribers
from storage.content import Fresh
from storage.crypto import Keys
from storage.db import connect
from storage.migrate import migrate
from storage.subscribers import ALL_TOPICS, Schedule, Subscriber

MIRRORS = ("@tropa_backup_bot", "https://t.me/+AbCdEf123456")


def fresh(n: int, title: str = "Title", summary: str = "Summary") -> list[Fresh]:
    return [Fresh("orgs", f"item-{i}", f"{title} {i}", summary, 1_000_000 + i) for i in range(n)]


def test_params_are_json_ready_and_paid_only_when_asked(texts: Texts) -> None:
    digest = compose(texts, "en", fresh(3))
    free, paid = digest.params(paid=False), digest.params(paid=True)
    assert digest.markup is not None
    assert json.loads(json.dumps(free))["reply_markup"] == digest.markup.to_dict()
    assert free["text"] == digest.html
    assert free["parse_mode"] == "HTML"
    assert free["link_preview_options"] == {"is_disabled": True}
    assert "allow_paid_broadcast" not in free
    assert paid["allow_paid_broadcast"] is True
    assert "chat_id" not in free  # the one thing that differs per recipient is added per send


def test_params_without_buttons_have_no_markup(texts: Texts) -> None:
    digest = compose(texts, "ru", fresh(2))
    bare = type(digest)(digest.html, None)
    assert "reply_markup" not in bare.params(paid=False)


def test_compose_caps_the_list(texts: Texts) -> None:
    digest = compose(texts, "en", fresh(SHOWN + 5))
    assert digest.markup is not None
    data = [str(row[0].callback_data) for row in digest.markup.inline_keyboard]
    assert len([d for d in data if d.startswith("v:")]) == SHOWN
    assert "5" in digest.html


@pytest.mark.parametrize("lang", LANGS)
def test_the_footer_names_the_fallback_contacts(texts: Texts, lang: str) -> None:
    digest = compose(texts, lang, fresh(2), MIRRORS)
    last = digest.html.splitlines()[-1]
    assert last == texts.get(lang, "mirrors_digest", mirrors="@tropa_backup_bot, https://t.me/+AbCdEf123456")
    assert html_problem(digest.html) is None
    assert "@tropa_backup_bot" not in compose(texts, lang, fresh(2)).html


@pytest.mark.parametrize("lang", LANGS)
def test_the_longest_digest_with_the_most_contacts_fits(texts: Texts, lang: str) -> None:
    mirrors = tuple(f"https://t.me/+{'x' * 60}{n}" for n in range(MAX_MIRRORS))
    items = fresh(40, title="Т" * 62, summary="С" * 199)
    digest = compose(texts, lang, items, mirrors)
    assert visible_length(digest.html) <= MESSAGE_LIMIT
    assert digest.html.count("\n<b>") == SHOWN  # this much still fits in full
    assert mirrors[-1] in digest.html


def test_items_give_way_before_the_message_overflows(texts: Texts) -> None:
    items = fresh(SHOWN, title="T" * 60, summary="S" * 700)  # longer than any content check allows
    digest = compose(texts, "en", items, MIRRORS)
    assert visible_length(digest.html) <= MESSAGE_LIMIT
    assert 0 < digest.html.count("\n<b>") < SHOWN
    assert "more item" in digest.html
    assert MIRRORS[0] in digest.html


def people(count: int) -> list[Subscriber]:
    schedule = Schedule(ALL_TOPICS, "daily", None, 0)
    return [Subscriber(n.to_bytes(4, "big"), n, schedule, "en", False, 0, None) for n in range(count)]


async def batches(subs: list[Subscriber], size: int, pause: float = 0.0) -> AsyncIterator[list[Subscriber]]:
    for start in range(0, len(subs), size):
        await asyncio.sleep(pause)
        yield subs[start : start + size]


async def test_every_subscriber_once_never_more_than_the_window_at_once() -> None:
    subs = people(WINDOW * 7 + 3)
    seen: list[int] = []
    busy = peak = 0

    async def handle(sub: Subscriber) -> None:
        nonlocal busy, peak
        busy += 1
        peak = max(peak, busy)
        await asyncio.sleep(0.001)
        seen.append(sub.chat_id)
        busy -= 1

    report = Report()
    await in_window(batches(subs, 50), handle, report)
    assert sorted(seen) == [s.chat_id for s in subs]
    assert report.due == len(subs)
    assert peak == WINDOW


async def test_the_next_batch_is_read_while_the_window_is_busy() -> None:
    """Sends of one batch are still in flight when the next batch arrives: no drain at the boundary."""
    size = WINDOW + WINDOW // 2
    subs = people(size * 4)
    in_flight_at_read: list[int] = []
    busy = 0

    async def source() -> AsyncIterator[list[Subscriber]]:
        for start in range(0, len(subs), size):
            in_flight_at_read.append(busy)
            yield subs[start : start + size]

    async def handle(sub: Subscriber) -> None:
        nonlocal busy
        busy += 1
        await asyncio.sleep(0.01)
        busy -= 1

    await in_window(source(), handle, Report())
    assert in_flight_at_read == [0, WINDOW, WINDOW, WINDOW]


async def test_a_failing_handler_stops_the_run_instead_of_hanging() -> None:
    subs = people(WINDOW * 3)

    async def handle(sub: Subscriber) -> None:
        if sub.chat_id == 5:
            raise RuntimeError("disk full")
        await asyncio.sleep(0.001)

    with pytest.raises(RuntimeError, match="disk full"):
        await asyncio.wait_for(in_window(batches(subs, 40), handle, Report()), timeout=5)


async def test_stop_ends_after_the_current_batch() -> None:
    subs = people(200)
    handled: list[int] = []

    async def handle(sub: Subscriber) -> None:
        handled.append(sub.chat_id)

    report = Report()
    await in_window(batches(subs, 50), handle, report, stop=lambda: True)
    assert report.due == 50
    assert len(handled) == 50


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[aiosqlite.Connection]:
    """A migrated database with ten subscribers, all due at 0."""
    connection = await connect(tmp_path / "tropa.sqlite3")
    try:
        await migrate(connection)
        keys = Keys.from_master(bytes(32))
        await connection.executemany(
            "INSERT INTO subscribers (lookup, sealed, topics, rhythm, weekday, hour, lang, sound, next_due,"
            " last_digest) VALUES (?, ?, ?, 'daily', NULL, 0, 'en', 0, 0, NULL)",
            [(bytes([n]) * 32, keys.seal(n), ALL_TOPICS) for n in range(10)],
        )
        await connection.commit()
        yield connection
    finally:
        await connection.close()


async def next_due(db: aiosqlite.Connection) -> dict[bytes, int]:
    async with db.execute("SELECT lookup, next_due FROM subscribers") as cursor:
        return {bytes(row[0]): row[1] for row in await cursor.fetchall()}


async def test_recorded_rows_share_a_commit_and_are_written_when_record_returns(
    db: aiosqlite.Connection, monkeypatch: pytest.MonkeyPatch
) -> None:
    recorder = Recorder(db)
    commits = 0
    real = subscribers.mark_done

    async def counting(connection: aiosqlite.Connection, done: list[tuple[bytes, int, int | None]]) -> None:
        nonlocal commits
        commits += 1
        await real(connection, done)

    async def sender(n: int) -> None:
        await recorder.record((bytes([n]) * 32, 100 + n, 50))
        assert (await next_due(db))[bytes([n]) * 32] == 100 + n  # committed before the slot is given back

    monkeypatch.setattr(subscribers, "mark_done", counting)
    await asyncio.gather(*(sender(n) for n in range(8)))
    recorder.add((bytes([8]) * 32, 200, None))
    recorder.remove(bytes([9]) * 32)
    await recorder.close()
    assert commits == 2  # the eight senders together, then what close() found
    rows = await next_due(db)
    assert rows[bytes([8]) * 32] == 200
    assert bytes([9]) * 32 not in rows


async def test_a_failed_commit_reaches_every_sender_waiting_on_it(db: aiosqlite.Connection) -> None:
    recorder = Recorder(db)
    await db.execute("DROP TABLE subscribers")
    results = await asyncio.gather(
        *(recorder.record((bytes([n]) * 32, 1, 1)) for n in range(3)), return_exceptions=True
    )
    assert all(isinstance(r, aiosqlite.OperationalError) for r in results), results
