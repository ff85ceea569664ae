"""Inline mode: @bot words offers items to share, with a deep link back to the bot."""

from __future__ import annotations

import asyncio

from bot.app import TropaApp
from tests.e2e.conftest import press, say
from tests.emulator import BotApiEmulator


async def answer(emulator: BotApiEmulator, user_id: int, lang: str, query: str) -> dict[str, object]:
    user = emulator.user(user_id=user_id, first_name="Ann", language_code=lang)
    emulator.inline_query(user, query)
    await emulator.wait_idle()
    assert emulator.inline_answers
    return list(emulator.inline_answers.values())[-1]


async def test_inline_results_share_items(emulator: BotApiEmulator, bot: TropaApp) -> None:
    params = await answer(emulator, 5553001, "ru", "повестка")
    results = params["results"]
    assert isinstance(results, list)
    assert results
    first = results[0]
    assert first["type"] == "article"
    assert "Источники" in first["input_message_content"]["message_text"]
    url = first["reply_markup"]["inline_keyboard"][0][0]["url"]
    assert url.startswith("https://t.me/tropa_test_bot?start=")


async def test_inline_in_english_and_nothing_found(emulator: BotApiEmulator, bot: TropaApp) -> None:
    params = await answer(emulator, 5553002, "en", "qqqzzzxx")
    results = params["results"]
    assert isinstance(results, list)
    assert len(results) == 1
    assert results[0]["title"] == "Nothing found"


async def test_empty_inline_query(emulator: BotApiEmulator, bot: TropaApp) -> None:
    params = await answer(emulator, 5553003, "en", "")
    assert params["results"] in ([], "[]")
    await asyncio.sleep(0)


async def test_inline_follows_the_language_chosen_in_the_bot(emulator: BotApiEmulator, bot: TropaApp) -> None:
    user = emulator.user(user_id=5553004, first_name="Ира", language_code="ru")
    chooser = await say(emulator, user, "/language")
    await press(emulator, user, chooser, "l:en")
    params = await answer(emulator, 5553004, "ru", "qqqzzzxx")
    results = params["results"]
    assert isinstance(results, list)
    assert results[0]["title"] == "Nothing found"
