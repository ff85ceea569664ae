"""The flood limit end to end: one polite notice, then silence; buttons never left spinning; admins exempt."""

from __future__ import annotations

from pathlib import Path

from bot.app import build_application, polling
from tests.e2e.conftest import ADMIN_ALIAS, ADMIN_ID, make_settings, say
from tests.emulator import BotApiEmulator

NOTICE = (
    "You are sending messages faster than I can answer, so I will skip them for a little while. "
    "Wait a few seconds, then carry on."
)


async def test_a_flood_gets_one_notice_then_silence(emulator: BotApiEmulator, tmp_path: Path) -> None:
    app = build_application(make_settings(emulator, tmp_path / "f.sqlite3", flood_burst=5, flood_rate=0.001))
    async with polling(app, poll_timeout=1):
        user = emulator.user(user_id=5561001, first_name="Tom", language_code="en")
        for n in range(12):
            emulator.send_message(user, f"summons {n}")
        await emulator.wait_idle()
        replies = [m.shown for m in emulator.bot_messages(user)]
        assert len(replies) == 6
        assert replies.count(NOTICE) == 1
        assert replies[5] == NOTICE  # five answers, then the notice, then nothing
        assert (app.bot_data.usage["flood_dropped"], app.bot_data.usage["flood_notice"]) == (7, 1)
        other = emulator.user(user_id=5561002, first_name="Ира", language_code="ru")
        assert (await say(emulator, other, "/start")).shown.startswith("Тропа")  # someone else is not limited
    assert emulator.refused == []


async def test_dropped_button_presses_are_still_answered(emulator: BotApiEmulator, tmp_path: Path) -> None:
    app = build_application(make_settings(emulator, tmp_path / "b.sqlite3", flood_burst=2, flood_rate=0.001))
    async with polling(app, poll_timeout=1):
        user = emulator.user(user_id=5561003, first_name="Tom", language_code="ru")
        menu = await say(emulator, user, "/start")
        ids = [emulator.query_id_of(emulator.click(user, menu.message_id, "s:orgs:0")) for _ in range(4)]
        await emulator.wait_idle()
        answers = [emulator.callback_answers.get(i) for i in ids]
        assert all(a is not None for a in answers)  # no spinner left turning
        texts = [a.get("text", "") for a in answers if a is not None]
        assert texts[1].startswith("Вы пишете быстрее")  # the one notice
        assert texts[2:] == ["", ""]  # then silent answers
        assert [m.shown for m in emulator.bot_messages(user)][-1].startswith("Организации")
    assert emulator.refused == []


async def test_admins_are_not_limited(emulator: BotApiEmulator, tmp_path: Path) -> None:
    settings = make_settings(
        emulator, tmp_path / "a.sqlite3", flood_burst=2, flood_rate=0.001, admin_ids={ADMIN_ID: ADMIN_ALIAS}
    )
    app = build_application(settings)
    async with polling(app, poll_timeout=1):
        admin = emulator.user(user_id=ADMIN_ID, first_name="Anna", language_code="en")
        for n in range(6):
            emulator.send_message(admin, f"summons {n}")
        await emulator.wait_idle()
        assert len(emulator.bot_messages(admin)) == 6
        assert NOTICE not in [m.shown for m in emulator.bot_messages(admin)]
    assert emulator.refused == []


async def test_the_buckets_are_keyed_by_the_hmac_and_held_in_memory_only(
    emulator: BotApiEmulator, tmp_path: Path
) -> None:
    app = build_application(make_settings(emulator, tmp_path / "k.sqlite3"))
    async with polling(app, poll_timeout=1):
        user = emulator.user(user_id=5561004, first_name="Tom", language_code="en")
        await say(emulator, user, "/start")
        flood, keys = app.bot_data.flood, app.bot_data.keys
        assert flood is not None
        assert keys is not None
        assert list(flood._buckets) == [keys.lookup(user.id)]
