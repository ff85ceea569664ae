"""bot.outbox: every call that created messages is reported, edits, answers and inline results are not."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from telegram import InlineQueryResultArticle, InputTextMessageContent

from bot.outbox import OutboxBot, sent_ids
from tests.emulator import BotApiEmulator, FakeUser


@pytest.mark.parametrize(
    ("endpoint", "data", "result", "expected"),
    [
        ("sendMessage", {"chat_id": 5}, {"message_id": 9, "chat": {"id": 5}}, (5, [9])),
        ("sendDocument", {"chat_id": "5"}, {"message_id": 9, "chat": {"id": 5}}, (5, [9])),
        ("copyMessage", {"chat_id": 5}, {"message_id": 9}, (5, [9])),
        ("copyMessages", {"chat_id": 5}, [{"message_id": 9}, {"message_id": 10}], (5, [9, 10])),
        ("sendMediaGroup", {"chat_id": 5}, [{"message_id": 3, "chat": {"id": 5}}], (5, [3])),
        ("copyMessage", {"chat_id": "@channel"}, {"message_id": 9}, None),
        ("editMessageText", {"chat_id": 5}, {"message_id": 9, "chat": {"id": 5}}, None),
        ("sendChatAction", {"chat_id": 5}, True, None),
        ("answerInlineQuery", {}, True, None),
        ("deleteMessages", {"chat_id": 5}, True, None),
        ("sendMessage", {"chat_id": 5}, [], None),
    ],
)
def test_sent_ids(endpoint: str, data: dict[str, Any], result: Any, expected: tuple[int, list[int]] | None) -> None:
    assert sent_ids(endpoint, data, result) == expected


@pytest.fixture
def emu(emulator: BotApiEmulator) -> BotApiEmulator:
    return emulator


@pytest.fixture
def alisa(emu: BotApiEmulator) -> FakeUser:
    """Someone who has written to the bot."""
    user = emu.user(user_id=7770001, first_name="Alisa")
    emu.send_message(user, "/start")
    return user


@pytest.fixture
async def bot(emu: BotApiEmulator) -> AsyncIterator[OutboxBot[None]]:
    outbox: OutboxBot[None] = OutboxBot(emu.token, base_url=emu.base_url)
    await outbox.initialize()
    yield outbox
    await outbox.shutdown()


async def test_sends_are_reported_and_edits_are_not(bot: OutboxBot[None], alisa: FakeUser) -> None:
    seen: list[tuple[int, list[int]]] = []

    async def hook(chat_id: int, ids: list[int]) -> None:
        seen.append((chat_id, ids))

    bot.set_sent_hook(hook)
    first = await bot.send_message(alisa.id, "one")
    await bot.edit_message_text("two", chat_id=alisa.id, message_id=first.message_id)
    copied = await bot.copy_message(alisa.id, alisa.id, first.message_id)
    await bot.send_chat_action(alisa.id, "typing")
    await bot.delete_messages(alisa.id, [first.message_id])
    assert seen == [(alisa.id, [first.message_id]), (alisa.id, [copied.message_id])]


async def test_inline_results_are_not_ours(bot: OutboxBot[None], emu: BotApiEmulator, alisa: FakeUser) -> None:
    seen: list[tuple[int, list[int]]] = []

    async def hook(chat_id: int, ids: list[int]) -> None:
        seen.append((chat_id, ids))

    bot.set_sent_hook(hook)
    query_id = emu.query_id_of(emu.inline_query(alisa, "x"))
    result = InlineQueryResultArticle("a", "A", InputTextMessageContent("a"))
    await bot.answer_inline_query(query_id, [result])
    assert seen == []


async def test_a_failing_hook_does_not_fail_the_send(
    bot: OutboxBot[None], emu: BotApiEmulator, alisa: FakeUser, caplog: pytest.LogCaptureFixture
) -> None:
    async def hook(chat_id: int, ids: list[int]) -> None:
        raise RuntimeError(f"database closed for {chat_id}")

    bot.set_sent_hook(hook)
    sent = await bot.send_message(alisa.id, "still sent")
    assert emu.message(alisa.id, sent.message_id).text == "still sent"
    assert [r.getMessage() for r in caplog.records if r.name == "tropa.outbox"] == [
        "event=sent_hook_failed method=sendMessage"
    ]
