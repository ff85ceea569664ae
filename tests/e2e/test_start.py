"""/start in both languages, the menu button, deep links and the command menu set at start-up."""

from __future__ import annotations

from bot.app import TropaApp
from tests.e2e.conftest import all_data, button_data, press, say
from tests.emulator import BotApiEmulator


async def test_welcome_in_russian_for_ru_clients(emulator: BotApiEmulator, bot: TropaApp) -> None:
    user = emulator.user(user_id=5550001, first_name="Вера", language_code="ru")
    reply = await say(emulator, user, "/start")
    assert "Тропа" in reply.shown
    assert all_data(reply) == ["s:tactics:0", "s:conscription:0", "s:orgs:0", "l:en"]
    assert button_data(reply, "English") == "l:en"


async def test_welcome_in_english_otherwise(emulator: BotApiEmulator, bot: TropaApp) -> None:
    for code in ("en", "de", None):
        user = emulator.user(user_id=5550010 + len(code or ""), first_name="Pat", language_code=code)
        reply = await say(emulator, user, "/start")
        assert "Tropa" in reply.shown
        assert "Organizations that help" in [text for row in reply.buttons for text, _ in row]


async def test_deep_link_opens_a_section(emulator: BotApiEmulator, bot: TropaApp) -> None:
    user = emulator.user(user_id=5550002, first_name="Ann", language_code="en")
    reply = await say(emulator, user, "/start orgs")
    assert reply.shown.startswith("Organizations that help")
    assert any(d.startswith("v:orgs:") for d in all_data(reply))


async def test_deep_link_opens_an_item(emulator: BotApiEmulator, bot: TropaApp) -> None:
    user = emulator.user(user_id=5550003, first_name="Ann", language_code="ru")
    reply = await say(emulator, user, "/start orgs_ovd-info")
    assert reply.shown.startswith("ОВД-Инфо")
    assert "Источники" in reply.shown
    assert "Проверено" in reply.shown


async def test_unknown_deep_link_falls_back_to_the_welcome(emulator: BotApiEmulator, bot: TropaApp) -> None:
    user = emulator.user(user_id=5550004, first_name="Ann", language_code="en")
    for payload in ("orgs_no-such-org", "nonsense", "../../etc", "orgs_OVD-INFO_x", "x" * 64):
        reply = await say(emulator, user, f"/start {payload}")
        assert reply.shown.startswith("Tropa")
    assert (await say(emulator, user, "/start tactics_")).shown.startswith("Tactics")


async def test_menu_button_edits_in_place(emulator: BotApiEmulator, bot: TropaApp) -> None:
    user = emulator.user(user_id=5550005, first_name="Ann", language_code="en")
    welcome = await say(emulator, user, "/start")
    listed = await press(emulator, user, welcome, "s:tactics:0")
    assert listed.message_id == welcome.message_id
    back = await press(emulator, user, listed, "m")
    assert back.message_id == welcome.message_id
    assert "Choose a section" in back.shown
    assert len(emulator.bot_messages(user.id)) == 1


async def test_command_menu_is_set_per_language(emulator: BotApiEmulator, bot: TropaApp) -> None:
    commands = emulator.my_commands
    for lang in ("ru", "en", ""):
        names = [c["command"] for c in commands[lang]]
        assert names[:4] == ["start", "tactics", "conscription", "orgs"]
        assert {"search", "language", "help", "privacy", "about"} <= set(names)
    assert commands["ru"][1]["description"] != commands["en"][1]["description"]


async def test_a_deep_link_with_a_lone_surrogate_gets_the_welcome(emulator: BotApiEmulator, bot: TropaApp) -> None:
    # JSON can carry "\ud800", UTF-8 and SQLite cannot: the fuzz test's unicode reached the item lookup and raised.
    user = emulator.user(user_id=5550020, first_name="Ann", language_code="en")
    for payload in ("orgs_\ud800", "orgs_ovd-info\udfff", "\ud83d"):
        assert (await say(emulator, user, f"/start {payload}")).shown.startswith("Tropa")
