"""Digest delivery under Telegram's faults: everyone who did not block the bot gets exactly one digest."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import struct
import time
from pathlib import Path

import aiosqlite

from bot.app import TropaApp, build_application, polling
from bot.logs import setup_logging
from storage import subscribers
from tests.e2e.conftest import TOKEN, make_settings, press, say
from tests.e2e.digest_setup import add_subscribers, delivered
from tests.e2e.test_privacy import Capture
from tests.emulator import BotApiEmulator
from tests.helpers import on_disk


async def test_faults_lose_no_one_and_double_no_one(emulator: BotApiEmulator, bot: TropaApp) -> None:
    deliverer, db = bot.bot_data.deliverer, bot.bot_data.db
    assert deliverer is not None
    assert db is not None
    ids = [6100000 + n for n in range(120)]
    await add_subscribers(db, deliverer.keys, emulator, ids)
    blocked = ids[::20]
    for chat in blocked:
        emulator.block(chat)
    emulator.fail("sendMessage", code=429, retry_after=1, times=2)
    emulator.fail("sendMessage", code=500, times=3)
    emulator.fail("sendMessage", code=502, times=2, chat_id=ids[7])
    emulator.delay("sendMessage", 0.4, times=6)

    report = await deliverer.run(force=True)

    counts = delivered(emulator)
    assert report.sent == len(ids) - len(blocked)
    assert report.removed == len(blocked)
    assert {chat: n for chat, n in counts.items() if n != 1} == {}
    assert set(counts) == set(ids) - set(blocked)
    for chat in blocked:
        assert await subscribers.get(db, deliverer.keys.lookup(chat)) is None
    assert await subscribers.get(db, deliverer.keys.lookup(ids[1])) is not None
    refused = {r.description for r in emulator.refused}
    assert refused <= {"Forbidden: bot was blocked by the user"}


async def test_quiet_hours_hold_digests_back(emulator: BotApiEmulator, bot: TropaApp) -> None:
    deliverer, db = bot.bot_data.deliverer, bot.bot_data.db
    assert deliverer is not None
    assert db is not None
    await add_subscribers(db, deliverer.keys, emulator, [6200001, 6200002])
    hour = dt.datetime.now(dt.UTC).hour
    deliverer.settings.quiet_hours = (hour, (hour + 1) % 24)
    held = await deliverer.run(force=True)
    assert held.skipped_quiet
    assert delivered(emulator) == {}
    deliverer.settings.quiet_hours = ((hour + 1) % 24, (hour + 2) % 24)
    assert (await deliverer.run()).sent == 2


async def test_no_chat_id_in_database_wal_or_logs(emulator: BotApiEmulator, bot: TropaApp, tmp_path: Path) -> None:
    setup_logging("DEBUG")
    capture = Capture()
    logging.getLogger().addHandler(capture)
    try:
        deliverer, db = bot.bot_data.deliverer, bot.bot_data.db
        assert deliverer is not None
        assert db is not None
        ids = [7300000000 + 7919 * n for n in range(3000)]
        await add_subscribers(db, deliverer.keys, emulator, ids)
        for chat in ids[:30]:
            emulator.block(chat)
        report = await deliverer.run(force=True)
        assert report.sent == len(ids) - 30
    finally:
        logging.getLogger().removeHandler(capture)
        setup_logging("WARNING")
    logs = "\n".join(capture.lines)
    assert "event=digest_run" in logs
    blob = on_disk(tmp_path / "tropa.sqlite3")
    assert len(blob) > 100_000
    for chat in ids:
        for needle in (str(chat).encode(), struct.pack("<q", chat), struct.pack(">q", chat)):
            assert needle not in blob
        assert str(chat) not in logs
    assert TOKEN not in logs


async def test_the_repeating_job_delivers_without_being_asked(emulator: BotApiEmulator, tmp_path: Path) -> None:
    settings = make_settings(emulator, tmp_path / "job.sqlite3", digest_interval=0.3)
    app = build_application(settings)
    async with polling(app, poll_timeout=1):
        deliverer, db = app.bot_data.deliverer, app.bot_data.db
        assert deliverer is not None
        assert db is not None
        await add_subscribers(db, deliverer.keys, emulator, [6400001, 6400002])
        await emulator.wait_for(lambda: len(delivered(emulator)) == 2, timeout=10)
    assert delivered(emulator) == {6400001: 1, 6400002: 1}


async def test_names_typed_in_the_flow_stay_out_of_logs_and_database(
    emulator: BotApiEmulator, bot: TropaApp, tmp_path: Path
) -> None:
    people = [(7391046258, "zephyrine_quokka", "Ксенофонтия"), (8012345671, "umbra_marmoset77", "Bartholomew")]
    setup_logging("DEBUG")
    capture = Capture()
    logging.getLogger().addHandler(capture)
    try:
        deliverer = bot.bot_data.deliverer
        assert deliverer is not None
        for ident, username, name in people:
            user = emulator.user(user_id=ident, first_name=name, username=username, language_code="ru")
            flow = await say(emulator, user, "/subscribe")
            await press(emulator, user, flow, "b:s:15:d:7")
            await say(emulator, user, "/settings")
        await deliverer.run(force=True)
        await say(emulator, emulator.user(user_id=people[0][0], first_name=people[0][2]), "/forget")
    finally:
        logging.getLogger().removeHandler(capture)
        setup_logging("WARNING")
    logs = "\n".join(capture.lines)
    blob = on_disk(tmp_path / "tropa.sqlite3")
    for ident, username, name in people:
        for needle in (str(ident), username, name):
            assert needle not in logs
            assert needle.encode() not in blob
        assert struct.pack("<q", ident) not in blob
        assert struct.pack(">q", ident) not in blob


async def still_due(db: aiosqlite.Connection) -> int:
    now = int(dt.datetime.now(dt.UTC).timestamp())
    async with db.execute("SELECT COUNT(*) FROM subscribers WHERE next_due <= ?", (now,)) as cursor:
        row = await cursor.fetchone()
    return int(row[0]) if row else 0


async def test_stop_lets_sends_in_flight_finish_and_leaves_the_rest_due(
    emulator: BotApiEmulator, bot: TropaApp
) -> None:
    deliverer, db = bot.bot_data.deliverer, bot.bot_data.db
    assert deliverer is not None
    assert db is not None
    ids = [6500000 + n for n in range(600)]
    await add_subscribers(db, deliverer.keys, emulator, ids)
    emulator.delay("sendMessage", 0.05)
    run = asyncio.create_task(deliverer.run(force=True))
    await emulator.wait_for(lambda: len(delivered(emulator)) >= 100, timeout=30)
    await deliverer.stop()
    report = await run
    counts = delivered(emulator)
    assert report.sent == len(counts) < len(ids)
    assert report.left > 0
    assert not report.stopped, "the sends in flight had time to finish: nothing was cut short"
    assert set(counts.values()) == {1}
    assert await still_due(db) == len(ids) - report.sent, "a sent digest was not recorded, or an unsent one was"
    assert (await deliverer.run()).due == 0, "a stopped deliverer starts no new run"


async def test_stop_cuts_short_sends_that_outlast_the_grace(emulator: BotApiEmulator, bot: TropaApp) -> None:
    deliverer, db = bot.bot_data.deliverer, bot.bot_data.db
    assert deliverer is not None
    assert db is not None
    ids = [6600000 + n for n in range(50)]
    await add_subscribers(db, deliverer.keys, emulator, ids)
    emulator.delay("sendMessage", 30)
    run = asyncio.create_task(deliverer.run(force=True))
    await emulator.wait_for(lambda: len(emulator.calls("sendMessage")) > 0, timeout=30)
    started = time.monotonic()
    await deliverer.stop(grace=0.3)
    report = await run
    assert time.monotonic() - started < 3
    assert report.stopped
    assert report.sent == 0
    assert await still_due(db) == len(ids)
    emulator.clear_faults()
