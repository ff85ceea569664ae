"""Fixtures: a running emulator and a raw HTTP client that encodes parameters like PTB."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from tests.emulator import BotApiEmulator, FakeUser


class RawApi:
    """Calls the emulator over HTTP, encoding like PTB: strings as-is, everything else JSON-dumped."""

    def __init__(self, session: aiohttp.ClientSession, emu: BotApiEmulator) -> None:
        self.session = session
        self.emu = emu

    async def call(self, method: str, *, token: str | None = None, **params: Any) -> tuple[int, dict[str, Any]]:
        """POST a form-encoded request; returns (HTTP status, JSON body)."""
        data = {k: v if isinstance(v, str) else json.dumps(v) for k, v in params.items() if v is not None}
        url = f"http://127.0.0.1:{self.emu.port}/bot{token or self.emu.token}/{method}"
        async with self.session.post(url, data=data) as response:
            return response.status, await response.json()

    async def ok(self, method: str, **params: Any) -> Any:
        """Call and assert success; returns result."""
        status, body = await self.call(method, **params)
        assert status == 200, body
        assert body["ok"] is True, body
        return body["result"]

    async def err(self, method: str, **params: Any) -> tuple[int, str]:
        """Call and assert failure; returns (error_code, description)."""
        status, body = await self.call(method, **params)
        assert body["ok"] is False, body
        assert status == body["error_code"]
        return body["error_code"], body["description"]


@pytest.fixture
async def emu() -> AsyncIterator[BotApiEmulator]:
    """A started emulator, stopped afterwards."""
    emulator = BotApiEmulator(bot_username="tropa_test_bot")
    await emulator.start()
    yield emulator
    await emulator.stop()


@pytest.fixture
async def api(emu: BotApiEmulator) -> AsyncIterator[RawApi]:
    """A raw client for the emulator."""
    async with aiohttp.ClientSession() as session:
        yield RawApi(session, emu)


@pytest.fixture
def alisa(emu: BotApiEmulator) -> FakeUser:
    """A user who has already written /start to the bot."""
    user = emu.user(user_id=7770001, first_name="Alisa", last_name="Testova", username="alisa_t", language_code="ru")
    emu.send_message(user, "/start")
    return user
