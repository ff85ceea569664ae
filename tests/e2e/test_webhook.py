"""Webhook mode end to end: the emulator posts updates to the bot's webhook the way Telegram does.

With the registered secret they are answered; with a wrong or missing one they are refused (403) and nothing
happens, not even a log line with a name in it, and Telegram keeps the update until the right secret gets it in.
"""

from __future__ import annotations

import io
import logging
import socket
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from bot.app import ALLOWED_UPDATES, TropaApp, build_application, webhook
from bot.config import Settings
from bot.logs import setup_logging
from tests.e2e.conftest import TOKEN, make_settings, say
from tests.e2e.test_privacy import Capture
from tests.emulator import BotApiEmulator
from tests.helpers import on_disk

URL = "https://tropa.example.org/telegram-updates"
SECRET = "Wh-secret_for-the-tests-only-9QzX"
WRONG = "not-the-secret-at-all"


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def webhook_settings(emulator: BotApiEmulator, db_path: Path, port: int) -> Settings:
    return make_settings(emulator, db_path, webhook_url=URL, webhook_secret=SECRET, port=port)


@pytest.fixture
def logs() -> Iterator[tuple[Capture, io.StringIO]]:
    """Every record at DEBUG as it was made, and what our redacting handler wrote."""
    stream = io.StringIO()
    setup_logging("DEBUG", stream=stream, secrets=[SECRET])
    capture = Capture()
    logging.getLogger().addHandler(capture)
    try:
        yield capture, stream
    finally:
        logging.getLogger().removeHandler(capture)
        setup_logging("WARNING")


@pytest.fixture
async def hooked(emulator: BotApiEmulator, tmp_path: Path) -> AsyncIterator[TropaApp]:
    """The bot in webhook mode, the emulator posting to it as a TLS proxy in front of it would pass on."""
    port = free_port()
    settings = webhook_settings(emulator, tmp_path / "hook.sqlite3", port)
    hook = settings.webhook()
    assert hook is not None
    emulator.route_webhook(f"http://127.0.0.1:{port}")
    app = build_application(settings)
    async with webhook(app, hook):
        yield app
    assert [r.description for r in emulator.refused] == []


async def test_setwebhook_carries_the_secret_and_the_update_types(emulator: BotApiEmulator, hooked: TropaApp) -> None:
    assert emulator.webhook is not None
    assert emulator.webhook["url"] == URL
    assert emulator.webhook["secret_token"] == SECRET
    assert emulator.webhook["allowed_updates"] == ALLOWED_UPDATES


async def test_updates_arrive_through_the_webhook(emulator: BotApiEmulator, hooked: TropaApp) -> None:
    user = emulator.user(user_id=5100001, first_name="Vera", language_code="ru")
    menu = await say(emulator, user, "/start")
    assert menu.buttons, menu
    found = await say(emulator, user, "повестка")
    assert found.buttons, found
    assert emulator.calls("getUpdates") == []
    assert [d.ok for d in emulator.webhook_deliveries if d.ok] == [True, True]
    assert all(d.secret == SECRET for d in emulator.webhook_deliveries)


@pytest.mark.parametrize("forged", [WRONG, None], ids=["wrong", "missing"])
async def test_a_wrong_or_missing_secret_is_refused_and_processes_nothing(
    emulator: BotApiEmulator, hooked: TropaApp, forged: str | None, logs: tuple[Capture, io.StringIO]
) -> None:
    emulator.forge_webhook_secret(forged)
    user = emulator.user(user_id=5200002, first_name="Ksenofontiya", username="quokka_zephyr", language_code="ru")
    emulator.send_message(user, "/start")
    await emulator.wait_for(lambda: len(emulator.webhook_deliveries) >= 3, timeout=10)
    refused = list(emulator.webhook_deliveries)
    assert all(d.status == 403 and d.secret == forged for d in refused), refused
    # A stranger who found the URL fares no better than the forged deliveries.
    stray = {"update_id": 77, "message": {"message_id": 1, "date": 0, "chat": {"id": user.id, "type": "private"}}}
    assert await emulator.post_to_webhook({**stray, "text": "/help"}, forged) == 403
    assert emulator.bot_messages(user) == []
    assert emulator.calls("sendMessage") == []
    info = await hooked.bot.get_webhook_info()
    assert info.last_error_message == "Wrong response from the webhook: 403"
    assert info.pending_update_count == 1

    # Telegram kept the update: with the registered secret it goes in, once.
    emulator.forge_webhook_secret()
    await emulator.wait_idle(timeout=10)
    assert len(emulator.bot_messages(user)) == 1
    capture, stream = logs
    written = "\n".join(capture.lines) + stream.getvalue()
    for needle in (SECRET, str(user.id), "Ksenofontiya", "quokka_zephyr", TOKEN):
        assert needle not in written


async def test_the_secret_never_reaches_the_log_even_when_the_library_logs_everything(
    emulator: BotApiEmulator, tmp_path: Path, logs: tuple[Capture, io.StringIO]
) -> None:
    _, stream = logs
    # Worst case: python-telegram-bot at DEBUG logs setWebhook's parameters, the secret among them.
    logging.getLogger("telegram").setLevel(logging.DEBUG)
    port = free_port()
    settings = webhook_settings(emulator, tmp_path / "loud.sqlite3", port)
    hook = settings.webhook()
    assert hook is not None
    emulator.route_webhook(f"http://127.0.0.1:{port}")
    async with webhook(build_application(settings), hook):
        await say(emulator, emulator.user(user_id=5300003, first_name="Lev"), "/help")
    written = stream.getvalue()
    assert "Calling Bot API endpoint `setWebhook`" in written, "the library did not log the call: nothing proved"
    assert SECRET not in written
    assert b"5300003" not in on_disk(tmp_path / "loud.sqlite3")
