"""Callback/inline answers, bot settings, webhooks, routing and request encodings."""

from __future__ import annotations

from typing import Any

import aiohttp
import pytest

from tests.emulator import BotApiEmulator, FakeUser
from tests.emulator.conftest import RawApi

TOO_OLD = "Bad Request: query is too old and response timeout expired or query ID is invalid"


def article(result_id: str = "1", text: str = "hello", **extra: Any) -> dict[str, Any]:
    content = {"message_text": text, **extra.pop("content", {})}
    return {"type": "article", "id": result_id, "title": "T", "input_message_content": content, **extra}


async def test_answer_callback_query(emu: BotApiEmulator, api: RawApi, alisa: FakeUser) -> None:
    mid = (await api.ok("sendMessage", chat_id=alisa.id, text="x"))["message_id"]
    update_id = emu.click(alisa, mid, "forged:data")
    query_id = emu.query_id_of(update_id)
    updates = await api.ok("getUpdates", offset=update_id)
    callback = updates[0]["callback_query"]
    assert callback["data"] == "forged:data"
    assert callback["message"]["message_id"] == mid
    assert await api.err("answerCallbackQuery", callback_query_id=query_id, text="x" * 201) == (
        400,
        "Bad Request: MESSAGE_TOO_LONG",
    )
    assert await api.ok("answerCallbackQuery", callback_query_id=query_id, text="Done", show_alert=True) is True
    assert emu.callback_answers[query_id] == {"callback_query_id": query_id, "text": "Done", "show_alert": True}
    assert await api.err("answerCallbackQuery", callback_query_id=query_id) == (400, TOO_OLD)
    assert await api.err("answerCallbackQuery", callback_query_id="123") == (400, TOO_OLD)


async def test_callback_query_expires_after_15_minutes(emu: BotApiEmulator, api: RawApi, alisa: FakeUser) -> None:
    mid = (await api.ok("sendMessage", chat_id=alisa.id, text="x"))["message_id"]
    query_id = emu.query_id_of(emu.click(alisa, mid, "a"))
    emu.clock_offset += 15 * 60 + 1
    assert await api.err("answerCallbackQuery", callback_query_id=query_id) == (400, TOO_OLD)


async def test_click_on_missing_message_is_a_test_error(emu: BotApiEmulator, alisa: FakeUser) -> None:
    with pytest.raises(LookupError):
        emu.click(alisa, 999, "x")


async def test_answer_inline_query(emu: BotApiEmulator, api: RawApi, alisa: FakeUser) -> None:
    query_id = emu.query_id_of(emu.inline_query(alisa, "orgs", offset="10"))
    results = [article("a", "<b>x</b>", content={"parse_mode": "HTML"}), article("b", "y")]
    assert await api.ok("answerInlineQuery", inline_query_id=query_id, results=results, next_offset="20") is True
    assert emu.inline_answers[query_id]["results"] == results
    assert await api.err("answerInlineQuery", inline_query_id=query_id, results=[]) == (400, TOO_OLD)


@pytest.mark.parametrize(
    ("results", "description"),
    [
        ([article(str(i)) for i in range(51)], "Bad Request: RESULTS_TOO_MUCH"),
        ([article("x" * 65)], "Bad Request: RESULT_ID_INVALID"),
        ([article("")], "Bad Request: RESULT_ID_INVALID"),
        ([article("1"), article("1")], "Bad Request: RESULT_ID_DUPLICATE"),
        ([article(text="")], "Bad Request: message text is empty"),
        ([article(text="x" * 4097)], "Bad Request: message is too long"),
        (
            [article(text="<p>", content={"parse_mode": "HTML"})],
            'Bad Request: can\'t parse entities: Unsupported start tag "p" at byte offset 0',
        ),
        (
            [{**article(), "title": ""}],
            'Bad Request: can\'t parse InlineQueryResult: Field "title" must be of type String',
        ),
        (
            [article(reply_markup={"inline_keyboard": [[{"text": "x", "callback_data": "y" * 65}]]})],
            "Bad Request: BUTTON_DATA_INVALID",
        ),
        ("nope", "Bad Request: can't parse inline query results JSON object"),
    ],
)
async def test_inline_result_refusals(
    emu: BotApiEmulator, api: RawApi, alisa: FakeUser, results: Any, description: str
) -> None:
    query_id = emu.query_id_of(emu.inline_query(alisa, "q"))
    assert await api.err("answerInlineQuery", inline_query_id=query_id, results=results) == (400, description)


async def test_commands(emu: BotApiEmulator, api: RawApi) -> None:
    commands = [{"command": "start", "description": "Начать"}, {"command": "search", "description": "Поиск"}]
    assert await api.ok("setMyCommands", commands=commands, language_code="ru") is True
    await api.ok("setMyCommands", commands=commands[:1])
    await api.ok("setMyCommands", commands=commands[1:], scope={"type": "all_private_chats"})
    assert emu.my_commands == {"ru": commands, "": commands[:1]}
    assert await api.ok("getMyCommands", language_code="ru") == commands
    assert await api.ok("getMyCommands", scope={"type": "all_private_chats"}) == commands[1:]
    assert await api.ok("getMyCommands", language_code="de") == []
    await api.ok("deleteMyCommands", language_code="ru")
    assert emu.my_commands == {"": commands[:1]}


@pytest.mark.parametrize(
    ("params", "description"),
    [
        ({}, 'Bad Request: parameter "commands" is required'),
        ({"commands": [{"command": "Start", "description": "x"}]}, "Bad Request: BOT_COMMAND_INVALID"),
        ({"commands": [{"command": "a" * 33, "description": "x"}]}, "Bad Request: BOT_COMMAND_INVALID"),
        ({"commands": [{"command": "a-b", "description": "x"}]}, "Bad Request: BOT_COMMAND_INVALID"),
        ({"commands": [{"command": "a", "description": ""}]}, "Bad Request: BOT_COMMAND_DESCRIPTION_INVALID"),
        ({"commands": [{"command": "a", "description": "x" * 257}]}, "Bad Request: BOT_COMMAND_DESCRIPTION_INVALID"),
        (
            {"commands": [{"command": f"c{i}", "description": "x"} for i in range(101)]},
            "Bad Request: BOT_COMMANDS_TOO_MUCH",
        ),
        ({"commands": [], "language_code": "rus"}, "Bad Request: LANG_CODE_INVALID"),
        (
            {"commands": [], "scope": {"type": "chat"}},
            'Bad Request: can\'t parse BotCommandScope: Field "chat_id" must be specified',
        ),
        (
            {"commands": [], "scope": {"type": "everyone"}},
            "Bad Request: can't parse BotCommandScope: Unsupported type specified",
        ),
    ],
)
async def test_command_refusals(api: RawApi, params: dict[str, Any], description: str) -> None:
    assert await api.err("setMyCommands", **params) == (400, description)


async def test_descriptions(emu: BotApiEmulator, api: RawApi) -> None:
    await api.ok("setMyDescription", description="Про бота", language_code="ru")
    await api.ok("setMyShortDescription", short_description="Short")
    assert emu.descriptions == {"ru": "Про бота"}
    assert emu.short_descriptions == {"": "Short"}
    assert await api.ok("getMyDescription", language_code="ru") == {"description": "Про бота"}
    assert await api.ok("getMyShortDescription", language_code="en") == {"short_description": ""}
    assert await api.err("setMyDescription", description="x" * 513) == (400, "Bad Request: description is too long")
    assert await api.err("setMyShortDescription", short_description="x" * 121) == (
        400,
        "Bad Request: short description is too long",
    )
    await api.ok("setMyDescription", language_code="ru")
    assert emu.descriptions == {}


async def test_webhook_blocks_get_updates(emu: BotApiEmulator, api: RawApi) -> None:
    assert await api.err("setWebhook", url="http://example.org/hook") == (
        400,
        "Bad Request: bad webhook: An HTTPS URL must be provided for webhook",
    )
    await api.ok("setWebhook", url="https://example.org/hook", secret_token="s3cr3t")
    assert emu.webhook is not None
    assert emu.webhook["secret_token"] == "s3cr3t"
    assert (await api.ok("getWebhookInfo"))["url"] == "https://example.org/hook"
    assert await api.err("getUpdates") == (
        409,
        "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first",
    )
    await api.ok("deleteWebhook", drop_pending_updates=True)
    assert await api.ok("getUpdates") == []


async def test_get_me_logout_close(emu: BotApiEmulator, api: RawApi) -> None:
    me = await api.ok("getMe")
    assert me["id"] == 123456789
    assert me["is_bot"] is True
    assert me["username"] == "tropa_test_bot"
    assert await api.ok("logOut") is True
    assert await api.ok("close") is True


async def test_routing(emu: BotApiEmulator, api: RawApi) -> None:
    assert await api.err("sendSticker") == (404, "Not Found")
    status, body = await api.call("getMe", token="123:wrong")
    assert (status, body) == (401, {"ok": False, "error_code": 401, "description": "Unauthorized"})
    assert (await api.ok("GETME"))["username"] == "tropa_test_bot"
    assert [r.method for r in emu.requests] == ["sendSticker", "getMe", "getMe"]
    assert [r.error_code for r in emu.refused] == [404, 401]


async def test_encodings(emu: BotApiEmulator, api: RawApi, alisa: FakeUser) -> None:
    url = f"http://127.0.0.1:{emu.port}/bot{emu.token}"
    markup = {"inline_keyboard": [[{"text": "a", "callback_data": "b"}]]}
    async with api.session.post(
        f"{url}/sendMessage", json={"chat_id": alisa.id, "text": "json", "reply_markup": markup}
    ) as response:
        assert (await response.json())["result"]["reply_markup"] == markup
    async with api.session.get(f"{url}/sendMessage", params={"chat_id": str(alisa.id), "text": "query"}) as response:
        assert (await response.json())["result"]["text"] == "query"
    form = aiohttp.FormData()
    form.add_field("chat_id", str(alisa.id))
    form.add_field("text", "multipart")
    form.add_field("document", b"x", filename="x.txt")
    async with api.session.post(f"{url}/sendMessage", data=form) as response:
        assert (await response.json())["result"]["text"] == "multipart"
    async with api.session.post(
        f"{url}/sendMessage", data=b"{not json", headers={"Content-Type": "application/json"}
    ) as response:
        assert (await response.json())["description"] == "Bad Request: can't parse JSON encoded request"
    assert [r.content_type for r in emu.calls("sendMessage")] == [
        "application/json",
        "application/octet-stream",
        "multipart/form-data",
        "application/json",
    ]
    assert emu.calls("sendMessage")[2].ignored == ["document"]
