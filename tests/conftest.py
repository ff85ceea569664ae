"""Fixtures every test package shares."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable
from typing import Any

import pytest

from bot.updates import PerChatProcessor
from tests.emulator import BotApiEmulator

EMULATOR_TOKEN = "123456789:AAtest-token-for-the-emulator_x"


@pytest.fixture
async def emulator(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[BotApiEmulator]:
    """A strict Bot API emulator on 127.0.0.1, stopped after the test.

    While a bot in this process still handles an update, the emulator is not idle: a handler busy in its database
    thread makes no request, and on a loaded machine that can outlast wait_idle's quiet time.
    """
    handling = 0
    original = PerChatProcessor.do_process_update

    async def counted(self: PerChatProcessor, update: object, coroutine: Awaitable[Any]) -> None:
        nonlocal handling
        handling += 1
        try:
            await original(self, update, coroutine)
        finally:
            handling -= 1

    monkeypatch.setattr(PerChatProcessor, "do_process_update", counted)
    async with BotApiEmulator(token=EMULATOR_TOKEN, bot_username="tropa_test_bot") as emu:
        emu.busy_checks.append(lambda: handling > 0)
        yield emu
