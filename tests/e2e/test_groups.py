"""In groups: /start and /help invite to a private chat; everything else is ignored."""

from __future__ import annotations

from bot.app import TropaApp
from tests.emulator import BotApiEmulator

GROUP = -1001234567


async def test_group_invites_and_ignores(emulator: BotApiEmulator, bot: TropaApp) -> None:
    user = emulator.user(user_id=5556001, first_name="Tom", language_code="en")
    emulator.send_message(user, "/start", chat_type="supergroup", chat_id=GROUP)
    await emulator.wait_idle()
    invite = emulator.last_bot_message(GROUP)
    assert "private" in invite.shown
    assert "@tropa_test_bot" in invite.shown
    emulator.send_message(user, "/help@tropa_test_bot", chat_type="supergroup", chat_id=GROUP)
    await emulator.wait_idle()
    assert len(emulator.bot_messages(GROUP)) == 2
    for text in ("повестка", "/tactics", "/search leaflets", "/unknown", "/privacy"):
        emulator.send_message(user, text, chat_type="supergroup", chat_id=GROUP)
    await emulator.wait_idle()
    assert len(emulator.bot_messages(GROUP)) == 2
