"""Fixtures every test package shares."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.emulator import BotApiEmulator

EMULATOR_TOKEN = "123456789:AAtest-token-for-the-emulator-only_x"


@pytest.fixture
async def emulator() -> AsyncIterator[BotApiEmulator]:
    """A strict Bot API emulator on 127.0.0.1, stopped after the test."""
    async with BotApiEmulator(token=EMULATOR_TOKEN, bot_username="tropa_test_bot") as emu:
        yield emu
