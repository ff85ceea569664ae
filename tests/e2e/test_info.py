"""/help, /privacy and /about in both languages."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.app import TropaApp, build_application, polling
from tests.e2e.conftest import make_settings, say
from tests.e2e.digest_setup import add_subscribers
from tests.emulator import BotApiEmulator


@pytest.mark.parametrize(
    ("command", "ru_start", "en_start", "en_fact"),
    [
        ("/help", "Как пользоваться", "How to use", "@tropa_test_bot"),
        ("/privacy", "Что Тропа хранит", "What Tropa stores", "13.53"),
        ("/about", "О Тропе", "About Tropa", "terrorist"),
    ],
)
async def test_info_pages(
    emulator: BotApiEmulator, bot: TropaApp, command: str, ru_start: str, en_start: str, en_fact: str
) -> None:
    ru = emulator.user(user_id=5555001, first_name="Ира", language_code="ru")
    en = emulator.user(user_id=5555002, first_name="Tom", language_code="en")
    assert (await say(emulator, ru, command)).shown.startswith(ru_start)
    reply = await say(emulator, en, command)
    assert reply.shown.startswith(en_start)
    assert en_fact in reply.shown


MIRRORS = ("@tropa_backup_bot", "https://t.me/+AbCdEf123456")


async def test_about_and_digests_name_the_fallback_contacts(emulator: BotApiEmulator, tmp_path: Path) -> None:
    app = build_application(make_settings(emulator, tmp_path / "m.sqlite3", mirrors=MIRRORS))
    async with polling(app, poll_timeout=1):
        ru = emulator.user(user_id=5555003, first_name="Ира", language_code="ru")
        en = emulator.user(user_id=5555004, first_name="Tom", language_code="en")
        about = await say(emulator, en, "/about")
        assert about.shown.endswith(
            "If this bot is blocked or taken down, find Tropa here: @tropa_backup_bot, https://t.me/+AbCdEf123456"
        )
        assert (await say(emulator, ru, "/about")).shown.endswith(
            "Тропу можно найти здесь: @tropa_backup_bot, https://t.me/+AbCdEf123456"
        )
        deliverer, db = app.bot_data.deliverer, app.bot_data.db
        assert deliverer is not None
        assert db is not None
        await add_subscribers(db, deliverer.keys, emulator, [5555005, 5555006])
        assert (await deliverer.run(force=True)).sent == 2
        assert emulator.last_bot_message(5555005).shown.endswith(
            "Если бот перестанет работать: @tropa_backup_bot, https://t.me/+AbCdEf123456"
        )
        assert emulator.last_bot_message(5555006).shown.endswith(
            "If this bot stops working: @tropa_backup_bot, https://t.me/+AbCdEf123456"
        )
    assert emulator.refused == []


async def test_without_fallback_contacts_about_ends_as_written(emulator: BotApiEmulator, bot: TropaApp) -> None:
    en = emulator.user(user_id=5555007, first_name="Tom", language_code="en")
    assert (await say(emulator, en, "/about")).shown.endswith("See /privacy for what the bot keeps.")
