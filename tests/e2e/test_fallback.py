"""Bad input of every kind: a clear reply or silence, never an exception, never a refused request."""

from __future__ import annotations

import time
from typing import Any

from bot.app import TropaApp
from tests.e2e.conftest import say
from tests.emulator import BotApiEmulator, FakeUser


def raw_message(user: FakeUser, message_id: int, **content: Any) -> dict[str, Any]:
    return {
        "message_id": message_id,
        "date": int(time.time()),
        "chat": {"id": user.id, "type": "private", "first_name": user.first_name},
        "from": {"id": user.id, "is_bot": False, "first_name": user.first_name, "language_code": "en"},
        **content,
    }


async def test_unknown_command(emulator: BotApiEmulator, bot: TropaApp) -> None:
    user = emulator.user(user_id=5557001, first_name="Tom", language_code="en")
    for command in ("/nosuch", "/admin", "/start@other_bot", "/" + "x" * 40):
        reply = await say(emulator, user, command)
        assert reply.shown.startswith("I don't know that command") or reply.shown.startswith("Tropa")


async def test_stickers_and_photos_get_one_sentence(emulator: BotApiEmulator, bot: TropaApp) -> None:
    user = emulator.user(user_id=5557002, first_name="Tom", language_code="en")
    sticker = {
        "file_id": "st1",
        "file_unique_id": "u1",
        "type": "regular",
        "width": 512,
        "height": 512,
        "is_animated": False,
        "is_video": False,
    }
    photo = [{"file_id": "ph1", "file_unique_id": "u2", "width": 90, "height": 90}]
    contents: tuple[dict[str, Any], ...] = (
        {"sticker": sticker},
        {"photo": photo, "caption": "повестка"},
        {"location": {"latitude": 1.0, "longitude": 2.0}},
    )
    for number, content in enumerate(contents, start=1):
        emulator.send_update({"message": raw_message(user, number * 1000, **content)})
        await emulator.wait_idle()
        assert emulator.last_bot_message(user.id).shown.startswith("I understand text only")
    assert len(emulator.bot_messages(user.id)) == 3


async def test_edits_channel_posts_and_unknown_updates_are_ignored(emulator: BotApiEmulator, bot: TropaApp) -> None:
    user = emulator.user(user_id=5557003, first_name="Tom", language_code="en")
    await say(emulator, user, "/start")
    before = len(emulator.requests)
    edited = raw_message(user, 1, text="/orgs", edit_date=int(time.time()))
    emulator.send_update({"edited_message": edited})
    channel = {
        "message_id": 5,
        "date": int(time.time()),
        "text": "/start",
        "chat": {"id": -1009990001, "type": "channel", "title": "News"},
    }
    emulator.send_update({"channel_post": channel})
    emulator.send_update({"edited_channel_post": channel})
    emulator.send_update({"some_future_update": {"x": 1}})
    emulator.send_update(
        {
            "message_reaction": {
                "chat": {"id": user.id, "type": "private"},
                "message_id": 1,
                "date": int(time.time()),
                "old_reaction": [],
                "new_reaction": [],
            }
        }
    )
    await emulator.wait_idle()
    sent = [r.method for r in emulator.requests[before:] if r.method != "getUpdates"]
    assert sent == []


async def test_forged_callback_without_a_message(emulator: BotApiEmulator, bot: TropaApp) -> None:
    user = emulator.user(user_id=5557004, first_name="Tom", language_code="en")
    await say(emulator, user, "/start")
    query = {
        "id": "forged-1",
        "from": {"id": user.id, "is_bot": False, "first_name": "Tom"},
        "chat_instance": "1",
        "inline_message_id": "abc",
        "data": "v:orgs:ovd-info",
    }
    emulator.send_update({"callback_query": query})
    await emulator.wait_idle()
    assert len(emulator.bot_messages(user.id)) == 1
    # The emulator never issued that query id, so it refuses the answer as Telegram would; the bot shrugs it off.
    assert [r.method for r in emulator.refused] == ["answerCallbackQuery"]
    emulator.clear_requests()


async def test_presses_on_a_message_shared_inline_are_answered(emulator: BotApiEmulator, bot: TropaApp) -> None:
    # Found by the fuzz test: language and subscription buttons returned without an answer, so the button spun.
    user = emulator.user(user_id=5557005, first_name="Tom", language_code="en")
    sender = {"id": user.id, "is_bot": False, "first_name": "Tom"}
    issued = []
    for data in ("l:en", "b:s:15:d:7", "b:v", "v:orgs:ovd-info", "m"):
        query_id = emulator.issue_query("callback", user)
        issued.append(query_id)
        query = {"id": query_id, "from": sender, "chat_instance": "1", "inline_message_id": "AAAAAFk1", "data": data}
        emulator.send_update({"callback_query": query})
    await emulator.wait_idle()
    assert all(emulator.state.queries[q].answered for q in issued)
    assert emulator.bot_messages(user.id) == []


async def test_service_messages_in_the_private_chat_get_no_answer(emulator: BotApiEmulator, bot: TropaApp) -> None:
    # Turning on Telegram's own auto-delete timer in the chat is a good idea; "I understand text only" is no answer.
    user = emulator.user(user_id=5557006, first_name="Tom", language_code="en")
    await say(emulator, user, "/start")
    before = len(emulator.bot_messages(user.id))
    services: tuple[dict[str, Any], ...] = (
        {"message_auto_delete_timer_changed": {"message_auto_delete_time": 86400}},
        {"pinned_message": {"chat": {"id": user.id, "type": "private"}, "message_id": 1, "date": 0}},
        {"write_access_allowed": {"from_request": True}},
    )
    for content in services:
        emulator.send_update({"message": raw_message(user, 9000 + len(emulator.messages(user.id)), **content)})
    await emulator.wait_idle()
    assert len(emulator.bot_messages(user.id)) == before
