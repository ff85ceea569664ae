"""/help, /privacy and /about in both languages."""

from __future__ import annotations

import pytest

from bot.app import TropaApp
from tests.e2e.conftest import say
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
