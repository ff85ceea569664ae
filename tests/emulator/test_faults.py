"""Injected faults, delays, blocking and flood control."""

from __future__ import annotations

import asyncio
import time

from tests.emulator import BotApiEmulator, FakeUser
from tests.emulator.conftest import RawApi


async def test_fail_429_with_retry_after(emu: BotApiEmulator, api: RawApi, alisa: FakeUser) -> None:
    emu.fail("sendMessage", code=429, retry_after=7, times=2)
    for _ in range(2):
        status, body = await api.call("sendMessage", chat_id=alisa.id, text="x")
        assert status == 429
        assert body == {
            "ok": False,
            "error_code": 429,
            "description": "Too Many Requests: retry after 7",
            "parameters": {"retry_after": 7},
        }
    await api.ok("sendMessage", chat_id=alisa.id, text="x")
    assert emu.refused == []
    assert [r.ok for r in emu.requests] == [False, False, True]
    assert all(r.injected for r in emu.requests[:2])
    assert len(emu.bot_messages(alisa.id)) == 1


async def test_fail_default_descriptions(emu: BotApiEmulator, api: RawApi, alisa: FakeUser) -> None:
    emu.fail("sendmessage", code=500)
    emu.fail("sendMessage", code=502)
    emu.fail("editMessageText", code=400, description="Bad Request: custom")
    assert await api.err("sendMessage", chat_id=alisa.id, text="x") == (500, "Internal Server Error")
    assert await api.err("sendMessage", chat_id=alisa.id, text="x") == (502, "Bad Gateway")
    assert await api.err("editMessageText", chat_id=alisa.id, message_id=1, text="x") == (400, "Bad Request: custom")
    assert emu.refused == []


async def test_fail_only_for_one_chat(emu: BotApiEmulator, api: RawApi, alisa: FakeUser) -> None:
    bob = emu.user(user_id=5, first_name="Bob")
    emu.send_message(bob, "hi")
    emu.fail("sendMessage", code=403, chat_id=bob.id, times=3)
    await api.ok("sendMessage", chat_id=alisa.id, text="x")
    assert await api.err("sendMessage", chat_id=bob.id, text="x") == (403, "Forbidden: bot was blocked by the user")
    await api.ok("sendMessage", chat_id=alisa.id, text="y")
    emu.clear_faults()
    await api.ok("sendMessage", chat_id=bob.id, text="x")


async def test_genuine_refusals_still_refused_after_faults(emu: BotApiEmulator, api: RawApi, alisa: FakeUser) -> None:
    emu.fail("sendMessage", code=500)
    await api.err("sendMessage", chat_id=alisa.id, text="")
    await api.err("sendMessage", chat_id=alisa.id, text="")
    assert [r.error_code for r in emu.requests] == [400, 400]
    assert len(emu.refused) == 2  # validation happens before the fault is consumed
    assert await api.err("sendMessage", chat_id=alisa.id, text="x") == (500, "Internal Server Error")


async def test_delay(emu: BotApiEmulator, api: RawApi, alisa: FakeUser) -> None:
    emu.delay("sendMessage", 0.2, times=1)
    started = time.monotonic()
    await api.ok("sendMessage", chat_id=alisa.id, text="slow")
    assert time.monotonic() - started >= 0.19
    started = time.monotonic()
    await api.ok("sendMessage", chat_id=alisa.id, text="fast")
    assert time.monotonic() - started < 0.15
    assert emu.calls("sendMessage")[0].duration >= 0.19


async def test_overall_rate_limit(emu: BotApiEmulator, api: RawApi) -> None:
    users = [emu.user(user_id=100 + i, first_name="U") for i in range(8)]
    for user in users:
        emu.send_message(user, "hi")
    emu.rate_limit(per_second=5, per_chat_per_second=None)
    results = [await api.call("sendMessage", chat_id=u.id, text="x") for u in users]
    assert [status for status, _ in results] == [200] * 5 + [429] * 3
    assert results[-1][1]["parameters"]["retry_after"] == 1
    assert len(emu.refused) == 3  # flood control is Telegram behaviour, not an injected fault
    emu.rate_limit(None, None)
    await api.ok("sendMessage", chat_id=users[-1].id, text="x")


async def test_per_chat_rate_limit_and_window_slides(emu: BotApiEmulator, api: RawApi, alisa: FakeUser) -> None:
    bob = emu.user(user_id=5, first_name="Bob")
    emu.send_message(bob, "hi")
    emu.rate_limit(per_second=30)
    await api.ok("sendMessage", chat_id=alisa.id, text="1")
    assert (await api.call("sendMessage", chat_id=alisa.id, text="2"))[0] == 429
    await api.ok("sendMessage", chat_id=bob.id, text="1")
    await api.ok("sendChatAction", chat_id=alisa.id, action="typing")  # not a send
    await asyncio.sleep(1.05)
    await api.ok("sendMessage", chat_id=alisa.id, text="3")


async def test_paid_broadcast_has_its_own_limit(emu: BotApiEmulator, api: RawApi) -> None:
    users = [emu.user(user_id=200 + i, first_name="U") for i in range(6)]
    for user in users:
        emu.send_message(user, "hi")
    emu.rate_limit(per_second=2, per_chat_per_second=None)
    emu.paid_rate = 4
    statuses = [
        (await api.call("sendMessage", chat_id=u.id, text="x", allow_paid_broadcast=True))[0] for u in users[:5]
    ]
    assert statuses == [200] * 4 + [429]
    assert (await api.call("sendMessage", chat_id=users[5].id, text="x"))[0] == 200
    assert emu.last_bot_message(users[0].id).allow_paid_broadcast


async def test_copy_and_document_are_rate_limited(emu: BotApiEmulator, api: RawApi, alisa: FakeUser) -> None:
    source = (await api.ok("sendMessage", chat_id=alisa.id, text="src"))["message_id"]
    emu.rate_limit(per_second=None, per_chat_per_second=1)
    await api.ok("copyMessage", chat_id=alisa.id, from_chat_id=alisa.id, message_id=source)
    status, body = await api.call("copyMessage", chat_id=alisa.id, from_chat_id=alisa.id, message_id=source)
    assert status == 429
    assert body["description"] == "Too Many Requests: retry after 1"
    assert (await api.call("sendDocument", chat_id=alisa.id, document="https://example.org/a.pdf"))[0] == 429
