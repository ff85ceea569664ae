"""Webhook delivery: the emulator posts pending updates to a routed webhook like Telegram, retrying refusals."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import web

from tests.emulator import BotApiEmulator, FakeUser
from tests.emulator.conftest import RawApi


class FakeBot:
    """A webhook endpoint on loopback that accepts only the right secret header, and remembers what it got."""

    def __init__(self, secret: str) -> None:
        self.secret = secret
        self.received: list[tuple[str, dict[str, str], Any]] = []
        self.port = 0
        self._runner: web.AppRunner | None = None

    async def handle(self, request: web.Request) -> web.Response:
        self.received.append((request.path_qs, dict(request.headers), await request.json()))
        ok = request.headers.get("X-Telegram-Bot-Api-Secret-Token") == self.secret
        return web.Response(status=200 if ok else 403)

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/{tail:.*}", self.handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        self.port = sock.getsockname()[1]
        await web.SockSite(self._runner, sock).start()

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()


@pytest.fixture
async def fake_bot() -> AsyncIterator[FakeBot]:
    bot = FakeBot("s3cr3t")
    await bot.start()
    yield bot
    await bot.stop()


async def hook_up(emu: BotApiEmulator, api: RawApi, bot: FakeBot, **params: Any) -> None:
    await api.ok("setWebhook", url="https://bot.example.org/hook?x=1", secret_token="s3cr3t", **params)
    emu.route_webhook(f"http://127.0.0.1:{bot.port}")


async def test_updates_are_posted_with_the_secret_in_order(
    emu: BotApiEmulator, api: RawApi, fake_bot: FakeBot, alisa: FakeUser
) -> None:
    await hook_up(emu, api, fake_bot)
    emu.send_message(alisa, "second")
    await emu.wait_idle()
    paths = [path for path, _, _ in fake_bot.received]
    assert paths == ["/hook?x=1", "/hook?x=1"]
    headers = fake_bot.received[0][1]
    assert headers["Content-Type"] == "application/json"
    assert headers["X-Telegram-Bot-Api-Secret-Token"] == "s3cr3t"
    assert [body["message"]["text"] for _, _, body in fake_bot.received] == ["/start", "second"]
    assert [d.status for d in emu.webhook_deliveries] == [200, 200]
    assert (await api.ok("getWebhookInfo"))["pending_update_count"] == 0


async def test_a_refused_update_stays_pending_and_is_retried(
    emu: BotApiEmulator, api: RawApi, fake_bot: FakeBot, alisa: FakeUser
) -> None:
    emu.forge_webhook_secret("forged")
    await hook_up(emu, api, fake_bot)
    await emu.wait_for(lambda: len(emu.webhook_deliveries) >= 2)
    assert {(d.update_id, d.secret, d.status) for d in emu.webhook_deliveries} == {(1, "forged", 403)}
    info = await api.ok("getWebhookInfo")
    assert info["pending_update_count"] == 1
    assert info["last_error_message"] == "Wrong response from the webhook: 403"
    emu.forge_webhook_secret(None)
    await emu.wait_for(lambda: any(d.secret is None for d in emu.webhook_deliveries))
    assert all("X-Telegram-Bot-Api-Secret-Token" not in headers for _, headers, _ in fake_bot.received[-1:])
    emu.forge_webhook_secret()
    await emu.wait_idle()
    assert emu.webhook_deliveries[-1].status == 200
    assert (await api.ok("getWebhookInfo"))["pending_update_count"] == 0


async def test_nothing_listening_is_retried_until_it_is(emu: BotApiEmulator, api: RawApi, alisa: FakeUser) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    await api.ok("setWebhook", url="https://bot.example.org/hook", secret_token="s3cr3t")
    emu.route_webhook(f"http://127.0.0.1:{port}")
    await emu.wait_for(lambda: len(emu.webhook_deliveries) >= 2)
    assert {d.status for d in emu.webhook_deliveries} == {None}
    assert (await api.ok("getWebhookInfo"))["last_error_message"] == "Connection refused"


async def test_allowed_updates_apply_and_delete_webhook_stops_delivery(
    emu: BotApiEmulator, api: RawApi, fake_bot: FakeBot, alisa: FakeUser
) -> None:
    await hook_up(emu, api, fake_bot, allowed_updates=["callback_query"])
    mid = (await api.ok("sendMessage", chat_id=alisa.id, text="x"))["message_id"]
    emu.click(alisa, mid, "a:b")
    await emu.wait_idle()
    assert [next(iter(set(body) - {"update_id"})) for _, _, body in fake_bot.received] == ["callback_query"]
    await api.ok("deleteWebhook")
    emu.send_message(alisa, "after")
    assert [u["message"]["text"] for u in await api.ok("getUpdates", allowed_updates=["message"])] == ["after"]
    assert len(fake_bot.received) == 1


@pytest.mark.parametrize("address", ["http://192.0.2.1:80", "https://127.0.0.1:8443", "http://127.0.0.1:80/path"])
async def test_a_route_must_stay_on_this_machine(emu: BotApiEmulator, address: str) -> None:
    with pytest.raises(ValueError, match="never leaves this machine"):
        emu.route_webhook(address)


async def test_a_direct_post_bypasses_the_queue(emu: BotApiEmulator, api: RawApi, fake_bot: FakeBot) -> None:
    with pytest.raises(LookupError):
        await emu.post_to_webhook({"update_id": 1}, None)
    await hook_up(emu, api, fake_bot)
    assert await emu.post_to_webhook({"update_id": 9}, "guess") == 403
    assert await emu.post_to_webhook({"update_id": 9}, "s3cr3t") == 200
    assert emu.webhook_deliveries == []
