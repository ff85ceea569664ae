"""The real Application over real HTTP against the loopback emulator."""

from __future__ import annotations

import base64
import logging
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from pydantic import SecretStr

from bot.app import TropaApp, build_application, polling
from bot.config import REPO_ROOT, Settings
from tests.conftest import EMULATOR_TOKEN
from tests.emulator import BotApiEmulator, FakeUser, Msg

TOKEN = EMULATOR_TOKEN
KEY = base64.urlsafe_b64encode(bytes(range(32))).decode("ascii")
BUNDLED = REPO_ROOT / "content"


def make_settings(emu: BotApiEmulator, db_path: Path, **overrides: object) -> Settings:
    """Settings that point the bot at the emulator and a database in a temp dir."""
    values: dict[str, object] = {
        "bot_token": SecretStr(TOKEN),
        "api_base_url": emu.base_url,
        "api_file_url": emu.base_file_url,
        "db_path": db_path,
        "secret_key": SecretStr(KEY),
        "content_dir": BUNDLED,
        "log_level": "DEBUG",
        "digest_rate": 1000,  # Telegram's 30/s is the benchmark's business; tests should not wait for it
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)  # type: ignore[arg-type,call-arg]


def on_emulator_time(emu: BotApiEmulator, db_path: Path, **overrides: object) -> TropaApp:
    """An Application whose clock follows the emulator's, so emu.advance() makes its deletions due."""
    return build_application(make_settings(emu, db_path, **overrides), clock=emu.state.now)


def answer_texts(emu: BotApiEmulator) -> list[str]:
    """The text of every callback answer so far, in order ("" for a silent one)."""
    return [str(params.get("text", "")) for params in emu.callback_answers.values()]


@pytest.fixture
def settings(emulator: BotApiEmulator, tmp_path: Path) -> Settings:
    return make_settings(emulator, tmp_path / "tropa.sqlite3")


class Catcher(logging.Handler):
    """Keeps every ERROR record of ours."""

    def __init__(self, into: list[logging.LogRecord]) -> None:
        super().__init__(level=logging.ERROR)
        self.into = into

    def emit(self, record: logging.LogRecord) -> None:
        self.into.append(record)


@pytest.fixture
async def bot(settings: Settings, emulator: BotApiEmulator) -> AsyncIterator[TropaApp]:
    """A running bot; afterwards, nothing it sent was refused and no handler raised."""
    errors: list[logging.LogRecord] = []
    catcher = Catcher(errors)
    logging.getLogger("tropa").addHandler(catcher)
    try:
        app = build_application(settings)
        async with polling(app, poll_timeout=1):
            yield app
    finally:
        logging.getLogger("tropa").removeHandler(catcher)
    assert [r.getMessage() for r in errors] == []
    # A person who blocked the bot is a fact of life, not a request the bot got wrong.
    refused = [(r.method, r.description) for r in emulator.refused if r.error_code != 403]
    assert refused == []


async def say(emu: BotApiEmulator, user: FakeUser, text: str) -> Msg:
    """Send text as the user and return the bot's latest message in that chat once it is idle."""
    emu.send_message(user, text)
    await emu.wait_idle()
    return emu.last_bot_message(user.id)


async def press(emu: BotApiEmulator, user: FakeUser, message: Msg, data: str) -> Msg:
    """Press a button (by its callback data) on a bot message and return that message's new state."""
    emu.click(user, message.message_id, data)
    await emu.wait_idle()
    return emu.last_bot_message(user.id)


def button_data(message: Msg, label_part: str) -> str:
    """The callback data of the first button whose label contains label_part."""
    for row in message.buttons:
        for text, data in row:
            if label_part in text and data is not None:
                return data
    raise AssertionError(f"no button with {label_part!r} in {message.buttons}")


def all_data(message: Msg) -> list[str]:
    """Every callback data on a message."""
    return [data for row in message.buttons for _, data in row if data is not None]


ADMIN_ID = 9123456781
ADMIN_ALIAS = "anna"


@pytest.fixture
async def admin_bot(emulator: BotApiEmulator, tmp_path: Path) -> AsyncIterator[TropaApp]:
    """A running bot with one admin, ADMIN_ID, known as ADMIN_ALIAS; nothing it sent was refused."""
    settings = make_settings(emulator, tmp_path / "admin.sqlite3", admin_ids={ADMIN_ID: ADMIN_ALIAS})
    app = build_application(settings)
    async with polling(app, poll_timeout=1):
        yield app
    assert [r.description for r in emulator.refused if r.error_code != 403] == []
