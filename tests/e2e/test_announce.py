"""/announce: preview, confirm, one status message edited as it goes, stop; non-admins never get there."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from bot.app import TropaApp, build_application, polling
from tests.e2e.conftest import ADMIN_ID, all_data, make_settings, press, say
from tests.e2e.digest_setup import add_subscribers, delivered
from tests.emulator import BotApiEmulator


async def subscribe_many(app: TropaApp, emulator: BotApiEmulator, ids: list[int]) -> None:
    deliverer, db = app.bot_data.deliverer, app.bot_data.db
    assert deliverer is not None
    assert db is not None
    await add_subscribers(db, deliverer.keys, emulator, ids)


async def test_announce_with_preview_confirmation_and_status(emulator: BotApiEmulator, admin_bot: TropaApp) -> None:
    ids = [6500000 + n for n in range(150)]
    await subscribe_many(admin_bot, emulator, ids)
    for chat in ids[:5]:
        emulator.block(chat)
    admin = emulator.user(user_id=ADMIN_ID, first_name="Vera", language_code="en")
    assert (await say(emulator, admin, "/announce")).shown.startswith("Send the announcement")
    emulator.send_message(
        admin,
        "Rally on Sunday, details here",
        entities=[
            {"type": "bold", "offset": 0, "length": 5},
            {"type": "text_link", "offset": 25, "length": 4, "url": "https://example.org/rally"},
        ],
    )
    await emulator.wait_idle()
    preview, question = emulator.bot_messages(admin.id)[-2:]
    assert preview.html == '<b>Rally</b> on Sunday, details <a href="https://example.org/rally">here</a>'
    assert question.shown == "Above is exactly what subscribers will see. Send it to 150 subscribers of announcements?"
    emulator.fail("sendMessage", code=500, times=2)  # retried with backoff: nobody misses out
    await press(emulator, admin, question, "o:go")
    await emulator.wait_for(lambda: "finished" in emulator.message(admin.id, question.message_id).shown, timeout=20)
    status = emulator.message(admin.id, question.message_id)
    assert status.shown == "Announcement finished: sent 145 of 150; 5 removed because they blocked the bot; 0 failed."
    counts = delivered(emulator)
    announcements = {chat: n for chat, n in counts.items() if chat in ids}
    assert announcements == {chat: 1 for chat in ids[5:]}
    assert (
        sum(
            1
            for r in emulator.calls("sendMessage")
            if r.ok and r.params.get("chat_id") in ids and "Rally" in str(r.params.get("text"))
        )
        == 145
    )


async def test_stop_while_sending_and_strangers(emulator: BotApiEmulator, admin_bot: TropaApp) -> None:
    ids = [6600000 + n for n in range(400)]
    await subscribe_many(admin_bot, emulator, ids)
    admin = emulator.user(user_id=ADMIN_ID, first_name="Vera", language_code="en")
    await say(emulator, admin, "/announce")
    question = await say(emulator, admin, "Short notice")
    emulator.delay("sendMessage", 1.0)  # slow enough to stop halfway
    emulator.click(admin, question.message_id, "o:go")
    await emulator.wait_for(lambda: "o:stop" in all_data(emulator.message(admin.id, question.message_id)), timeout=10)
    status = emulator.message(admin.id, question.message_id)
    stranger = emulator.user(user_id=5559020, first_name="Eve", language_code="en")
    emulator.send_message(stranger, "/orgs")
    await emulator.wait_for(lambda: bool(emulator.bot_messages(stranger.id)), timeout=10)
    answers = len(emulator.callback_answers)
    emulator.click(stranger, emulator.last_bot_message(stranger.id).message_id, "o:stop")
    await emulator.wait_for(lambda: len(emulator.callback_answers) > answers, timeout=10)
    assert list(emulator.callback_answers.values())[-1].get("text") == (
        "This button no longer works. Send /start to begin again."
    )
    so_far = sum(1 for chat in ids if chat in delivered(emulator))
    await emulator.wait_for(lambda: sum(1 for chat in ids if chat in delivered(emulator)) > so_far, timeout=10)
    emulator.click(admin, status.message_id, "o:stop")
    await emulator.wait_for(lambda: "stopped" in emulator.message(admin.id, status.message_id).shown, timeout=30)
    sent = sum(1 for chat in ids if chat in delivered(emulator))
    assert 0 < sent < len(ids)
    assert (await say(emulator, stranger, "/announce")).shown.startswith("I don't know that command")


async def test_an_unconfirmed_announcement_times_out(
    emulator: BotApiEmulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("bot.handlers.announce.TIMEOUT_S", 0.5)
    app = build_application(make_settings(emulator, tmp_path / "late.sqlite3", admin_ids={ADMIN_ID: "anna"}))
    async with polling(app, poll_timeout=1):
        await subscribe_many(app, emulator, [6700001])
        admin = emulator.user(user_id=ADMIN_ID, first_name="Vera", language_code="en")
        await say(emulator, admin, "/announce")
        await say(emulator, admin, "Never confirmed")
        await emulator.wait_for(lambda: "dropped" in emulator.last_bot_message(admin.id).shown, timeout=5)
    assert 6700001 not in delivered(emulator)


async def test_a_deleted_status_message_stops_nothing(
    emulator: BotApiEmulator, admin_bot: TropaApp, caplog: pytest.LogCaptureFixture
) -> None:
    ids = [6800000 + n for n in range(40)]
    await subscribe_many(admin_bot, emulator, ids)
    admin = emulator.user(user_id=ADMIN_ID, first_name="Vera", language_code="en")
    await say(emulator, admin, "/announce")
    question = await say(emulator, admin, "Short notice")
    emulator.delay("sendMessage", 0.3, times=3)
    emulator.click(admin, question.message_id, "o:go")
    await emulator.wait_for(lambda: "o:stop" in all_data(emulator.message(admin.id, question.message_id)), timeout=10)
    emulator.delete(admin, question.message_id)  # the admin deleted it, or wiped the chat
    await emulator.wait_for(lambda: all(chat in delivered(emulator) for chat in ids), timeout=20)
    await emulator.wait_idle()
    assert {r.description for r in emulator.refused} == {"Bad Request: message to edit not found"}
    emulator.clear_requests()  # Telegram's refusal is how the bot learns the message is gone
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR] == []
    assert (await say(emulator, admin, "/announce")).shown.startswith("Send the announcement")
