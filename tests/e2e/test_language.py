"""/language switches and remembers; /forget deletes the choice."""

from __future__ import annotations

from bot.app import TropaApp
from tests.e2e.conftest import press, say
from tests.emulator import BotApiEmulator


async def test_switch_is_remembered(emulator: BotApiEmulator, bot: TropaApp) -> None:
    user = emulator.user(user_id=5554001, first_name="Ира", language_code="ru")
    chooser = await say(emulator, user, "/language")
    assert chooser.shown.startswith("Выберите язык")
    menu = await press(emulator, user, chooser, "l:en")
    assert "Choose a section" in menu.shown
    assert (await say(emulator, user, "/start")).shown.startswith("Tropa")
    assert (await say(emulator, user, "/tactics")).shown.startswith("Tactics")


async def test_menu_language_button(emulator: BotApiEmulator, bot: TropaApp) -> None:
    user = emulator.user(user_id=5554002, first_name="Tom", language_code="en")
    welcome = await say(emulator, user, "/start")
    menu = await press(emulator, user, welcome, "l:ru")
    assert "Выберите раздел" in menu.shown


async def test_forget_deletes_the_choice(emulator: BotApiEmulator, bot: TropaApp) -> None:
    user = emulator.user(user_id=5554003, first_name="Tom", language_code="en")
    assert (await say(emulator, user, "/forget")).shown.startswith("There was nothing")
    chooser = await say(emulator, user, "/language")
    await press(emulator, user, chooser, "l:ru")
    assert (await say(emulator, user, "/forget")).shown.startswith("Удалено")
    assert (await say(emulator, user, "/start")).shown.startswith("Tropa")
