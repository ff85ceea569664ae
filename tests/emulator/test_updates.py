"""getUpdates: offset confirmation, limit, allowed_updates, long-polling, conflicts and wait_idle."""

from __future__ import annotations

import asyncio
import time

import pytest

from tests.emulator import BotApiEmulator, FakeUser
from tests.emulator.conftest import RawApi


def ids(updates: list[dict[str, object]]) -> list[object]:
    return [u["update_id"] for u in updates]


async def test_offset_confirms_and_limit(emu: BotApiEmulator, api: RawApi) -> None:
    user = emu.user(user_id=1, first_name="U")
    pushed = [emu.send_message(user, f"m{i}") for i in range(5)]
    assert ids(await api.ok("getUpdates", limit=2)) == pushed[:2]
    assert ids(await api.ok("getUpdates", limit=2)) == pushed[:2]  # not confirmed yet
    assert ids(await api.ok("getUpdates", offset=pushed[2])) == pushed[2:]
    assert ids(await api.ok("getUpdates", offset=pushed[-1] + 1)) == []
    assert ids(await api.ok("getUpdates")) == []  # confirmed for good
    assert ids(await api.ok("getUpdates", limit=0)) == []
    more = [emu.send_message(user, "x") for _ in range(150)]
    assert len(await api.ok("getUpdates", limit=1000)) == 100
    assert ids(await api.ok("getUpdates", offset=-2)) == more[-2:]
    assert ids(await api.ok("getUpdates")) == more[-2:]


async def test_update_shapes(emu: BotApiEmulator, api: RawApi) -> None:
    user = emu.user(user_id=7, first_name="Ann", language_code="en")
    emu.send_message(user, "/start@tropa_test_bot orgs")
    (update,) = await api.ok("getUpdates")
    message = update["message"]
    assert message["from"] == {"id": 7, "is_bot": False, "first_name": "Ann", "language_code": "en"}
    assert message["chat"] == {"id": 7, "type": "private", "first_name": "Ann"}
    assert message["entities"] == [{"type": "bot_command", "offset": 0, "length": 21}]
    assert isinstance(message["date"], int)
    assert message["message_id"] == 1


async def test_long_poll_returns_as_soon_as_an_update_arrives(emu: BotApiEmulator, api: RawApi) -> None:
    user = emu.user(user_id=1, first_name="U")
    started = time.monotonic()
    poll = asyncio.create_task(api.ok("getUpdates", timeout=5))
    await asyncio.sleep(0.1)
    assert not poll.done()
    emu.send_message(user, "hi")
    updates = await poll
    assert len(updates) == 1
    assert time.monotonic() - started < 1.0


async def test_long_poll_times_out_empty(emu: BotApiEmulator, api: RawApi) -> None:
    started = time.monotonic()
    assert await api.ok("getUpdates", timeout=0.3) == []
    assert 0.25 < time.monotonic() - started < 2.0


async def test_second_poll_terminates_the_first(emu: BotApiEmulator, api: RawApi) -> None:
    first = asyncio.create_task(api.call("getUpdates", timeout=5))
    await asyncio.sleep(0.1)
    assert await api.ok("getUpdates", timeout=0) == []
    status, body = await first
    assert status == 409
    assert body["description"].startswith("Conflict: terminated by other getUpdates request")


async def test_stop_releases_long_polls(emu: BotApiEmulator, api: RawApi) -> None:
    poll = asyncio.create_task(api.ok("getUpdates", timeout=30))
    await asyncio.sleep(0.05)
    await emu.stop()
    assert await asyncio.wait_for(poll, 2) == []


async def test_allowed_updates_filter_and_persist(emu: BotApiEmulator, api: RawApi) -> None:
    user = emu.user(user_id=1, first_name="U")
    emu.send_message(user, "text")
    inline = emu.inline_query(user, "q")
    member = emu.send_update({"chat_member": {"chat": {"id": -5, "type": "group"}}})
    fuzz = emu.send_update({"brand_new_update_kind": {"x": 1}})
    assert ids(await api.ok("getUpdates", allowed_updates=["inline_query"])) == [inline, fuzz]
    assert ids(await api.ok("getUpdates")) == [inline, fuzz]  # the setting persists
    assert ids(await api.ok("getUpdates", allowed_updates=[])) == [inline, fuzz]  # default skips chat_member
    assert member not in ids(await api.ok("getUpdates"))
    assert emu.state.updates.all_fetched


async def test_send_update_fills_update_id_and_remembers_chats(emu: BotApiEmulator, api: RawApi) -> None:
    raw = {
        "message": {
            "message_id": 50,
            "date": 1,
            "chat": {"id": -100777, "type": "supergroup", "title": "Activists"},
            "from": {"id": 3, "is_bot": False, "first_name": "C"},
            "sticker": {"file_id": "s"},
        }
    }
    update_id = emu.send_update(raw)
    assert ids(await api.ok("getUpdates")) == [update_id]
    sent = await api.ok("sendMessage", chat_id=-100777, text="ok", reply_parameters={"message_id": 50})
    assert sent["message_id"] == 51
    assert sent["reply_to_message"]["sticker"] == {"file_id": "s"}
    assert emu.send_update({"update_id": 1000, "edited_message": "garbage"}) == 1000
    assert emu.send_message(emu.user(1, "U"), "after") == 1001


async def test_wait_idle(emu: BotApiEmulator, api: RawApi, alisa: FakeUser) -> None:
    with pytest.raises(TimeoutError, match="1 updates not fetched"):
        await emu.wait_idle(timeout=0.2)
    await api.ok("getUpdates")
    started = time.monotonic()
    await emu.wait_idle(quiet=0.1)
    assert time.monotonic() - started >= 0.09

    async def slow_reply() -> None:
        await asyncio.sleep(0.05)
        await api.ok("sendMessage", chat_id=alisa.id, text="late")

    emu.delay("sendMessage", 0.3)
    task = asyncio.create_task(slow_reply())
    await asyncio.sleep(0.06)
    await emu.wait_idle(quiet=0.05)  # the delayed request is in flight, so idle waits for it
    assert task.done()
    assert emu.last_bot_message(alisa.id).text == "late"


async def test_wait_idle_does_not_count_a_blocked_loop_as_quiet(
    emu: BotApiEmulator, api: RawApi, alisa: FakeUser
) -> None:
    await api.ok("getUpdates")
    loop = asyncio.get_running_loop()
    loop.call_later(0.01, time.sleep, 0.3)  # a GC pause or CPU-bound handler
    replies: list[asyncio.Task[object]] = []
    loop.call_later(
        0.32, lambda: replies.append(asyncio.ensure_future(api.ok("sendMessage", chat_id=alisa.id, text="late")))
    )
    await emu.wait_idle(quiet=0.1)
    assert emu.last_bot_message(alisa.id).text == "late"


async def test_wait_idle_waits_while_a_busy_check_says_busy(emu: BotApiEmulator, api: RawApi, alisa: FakeUser) -> None:
    await api.ok("getUpdates")
    busy_until = time.monotonic() + 0.3  # a handler in its database thread: no request, no blocked loop

    async def reply_after_the_work() -> None:
        await asyncio.sleep(0.3)
        await api.ok("sendMessage", chat_id=alisa.id, text="after the work")

    emu.busy_checks.append(lambda: time.monotonic() < busy_until)
    task = asyncio.create_task(reply_after_the_work())
    await emu.wait_idle(quiet=0.05)
    assert task.done()
    assert emu.last_bot_message(alisa.id).text == "after the work"


async def test_wait_for(emu: BotApiEmulator) -> None:
    flag: list[int] = []
    asyncio.get_running_loop().call_later(0.05, flag.append, 1)
    await emu.wait_for(lambda: bool(flag), timeout=1)
    with pytest.raises(TimeoutError):
        await emu.wait_for(lambda: False, timeout=0.05)


async def test_send_update_gives_new_messages_the_next_id_and_never_revives_a_deleted_one(
    emu: BotApiEmulator, api: RawApi, alisa: FakeUser
) -> None:
    chat = {"id": alisa.id, "type": "private", "first_name": "Alisa"}
    sender = {"id": alisa.id, "is_bot": False, "first_name": "Alisa"}
    emu.send_update({"message": {"date": 1, "chat": chat, "from": sender, "text": "second"}})
    first, second = [u["message"] for u in await api.ok("getUpdates")]
    assert (first["message_id"], second["message_id"]) == (1, 2)
    sent = await api.ok("sendMessage", chat_id=alisa.id, text="answer")
    assert sent["message_id"] == 3
    await api.ok("deleteMessage", chat_id=alisa.id, message_id=3)
    emu.send_update({"callback_query": {"id": "q", "from": sender, "chat_instance": "1", "message": sent}})
    assert emu.message(alisa, 3).deleted  # a stale button press does not bring the message back
    inaccessible = {"chat": chat, "message_id": 99, "date": 0}
    emu.send_update({"callback_query": {"id": "r", "from": sender, "chat_instance": "1", "message": inaccessible}})
    assert 99 not in emu.chat(alisa).messages  # type: ignore[union-attr]
    other = {"chat": {"id": 4242, "type": "private", "first_name": "B"}, "message_id": 7, "date": 0}
    emu.send_update({"callback_query": {"id": "s", "from": sender, "chat_instance": "2", "message": other}})
    assert emu.messages(4242) == []
    assert await api.ok("sendMessage", chat_id=4242, text="the chat exists") is not None


async def test_issued_queries_are_answerable_once(emu: BotApiEmulator, api: RawApi, alisa: FakeUser) -> None:
    query_id = emu.issue_query("callback", alisa)
    assert await api.ok("answerCallbackQuery", callback_query_id=query_id) is True
    assert (await api.err("answerCallbackQuery", callback_query_id=query_id))[0] == 400
    inline = emu.issue_query("inline", alisa)
    assert (await api.err("answerCallbackQuery", callback_query_id=inline))[0] == 400
    assert await api.ok("answerInlineQuery", inline_query_id=inline, results=[]) is True


async def test_a_lone_surrogate_travels_as_a_json_escape(emu: BotApiEmulator, api: RawApi) -> None:
    user = emu.user(user_id=5, first_name="U")
    emu.send_message(user, "a\ud800b")
    status, body = await api.call("getUpdates")
    assert status == 200
    assert body["result"][0]["message"]["text"] == "a\ud800b"
