"""sendMessage and reply_markup strictness: each refusal Telegram makes, with its text."""

from __future__ import annotations

from typing import Any

import pytest

from tests.emulator import BotApiEmulator, FakeUser
from tests.emulator.conftest import RawApi


def kb(*buttons: dict[str, Any]) -> dict[str, Any]:
    return {"inline_keyboard": [list(buttons)]}


async def test_send_message_ok_records_everything(emu: BotApiEmulator, api: RawApi, alisa: FakeUser) -> None:
    result = await api.ok(
        "sendMessage",
        chat_id=alisa.id,
        text="<b>Hi</b> &amp; bye",
        parse_mode="HTML",
        reply_markup=kb({"text": "Go", "callback_data": "go"}, {"text": "Site", "url": "https://example.org"}),
        disable_notification=True,
        protect_content=True,
        link_preview_options={"is_disabled": True},
        message_thread_id=5,
    )
    assert result["text"] == "Hi & bye"
    assert result["entities"] == [{"type": "bold", "offset": 0, "length": 2}]
    assert result["from"]["is_bot"] is True
    assert result["chat"] == {
        "id": alisa.id,
        "type": "private",
        "username": "alisa_t",
        "first_name": "Alisa",
        "last_name": "Testova",
    }
    msg = emu.last_bot_message(alisa.id)
    assert (msg.message_id, msg.text, msg.html) == (result["message_id"], "Hi & bye", "<b>Hi</b> &amp; bye")
    assert msg.buttons == [[("Go", "go"), ("Site", "https://example.org")]]
    assert msg.disable_notification
    assert msg.protect_content
    assert msg.message_thread_id == 5
    assert msg.link_preview_options == {"is_disabled": True}
    assert [m.from_bot for m in emu.messages(alisa.id)] == [False, True]
    assert emu.refused == []


@pytest.mark.parametrize(
    ("params", "description"),
    [
        ({"text": "x"}, "Bad Request: chat_id is empty"),
        ({"chat_id": 7770001}, "Bad Request: message text is empty"),
        ({"chat_id": 7770001, "text": ""}, "Bad Request: message text is empty"),
        ({"chat_id": 7770001, "text": " \n "}, "Bad Request: message text is empty"),
        ({"chat_id": 7770001, "text": "<b> </b>", "parse_mode": "HTML"}, "Bad Request: message text is empty"),
        ({"chat_id": 7770001, "text": "x" * 4097}, "Bad Request: message is too long"),
        ({"chat_id": 7770001, "text": "😀" * 2049}, "Bad Request: message is too long"),
        ({"chat_id": 7770001, "text": "x", "parse_mode": "html5"}, "Bad Request: unsupported parse_mode"),
        ({"chat_id": 42, "text": "x"}, "Bad Request: chat not found"),
        ({"chat_id": "@nobody", "text": "x"}, "Bad Request: chat not found"),
        (
            {"chat_id": 7770001, "text": "x", "disable_notification": "yes"},
            'Bad Request: parameter "disable_notification" must be a Boolean',
        ),
        (
            {"chat_id": 7770001, "text": "x", "message_thread_id": "abc"},
            'Bad Request: parameter "message_thread_id" must be an Integer',
        ),
        (
            {"chat_id": 7770001, "text": "x", "reply_parameters": {"message_id": 999}},
            "Bad Request: message to be replied not found",
        ),
        (
            {"chat_id": 7770001, "text": "x", "link_preview_options": "[1]"},
            "Bad Request: can't parse link preview options JSON object",
        ),
    ],
)
async def test_send_message_refusals(api: RawApi, alisa: FakeUser, params: dict[str, Any], description: str) -> None:
    assert await api.err("sendMessage", **params) == (400, description)


@pytest.mark.parametrize(
    ("text", "description"),
    [
        ("<p>x</p>", 'Bad Request: can\'t parse entities: Unsupported start tag "p" at byte offset 0'),
        ("a < b", 'Bad Request: can\'t parse entities: Unsupported start tag "" at byte offset 2'),
        (
            "Tom & Jerry",
            'Bad Request: can\'t parse entities: Character "&" must be escaped as "&amp;" at byte offset 4',
        ),
        ("<b>x", "Bad Request: can't parse entities: Can't find end tag corresponding to start tag \"b\""),
    ],
)
async def test_html_refusals(api: RawApi, alisa: FakeUser, text: str, description: str) -> None:
    assert await api.err("sendMessage", chat_id=alisa.id, text=text, parse_mode="HTML") == (400, description)


async def test_other_parse_modes_are_accepted(api: RawApi, alisa: FakeUser) -> None:
    for mode in ("MarkdownV2", "Markdown", "html"):
        assert (await api.ok("sendMessage", chat_id=alisa.id, text="plain", parse_mode=mode))["text"] == "plain"


async def test_explicit_entities_are_validated_and_clipped(api: RawApi, alisa: FakeUser) -> None:
    result = await api.ok(
        "sendMessage", chat_id=alisa.id, text="bold", entities=[{"type": "bold", "offset": 0, "length": 99}]
    )
    assert result["entities"] == [{"type": "bold", "offset": 0, "length": 4}]
    _code, description = await api.err(
        "sendMessage", chat_id=alisa.id, text="x", entities=[{"type": "blink", "offset": 0, "length": 1}]
    )
    assert description == "Bad Request: can't parse MessageEntity: Unsupported type specified"


@pytest.mark.parametrize(
    ("markup", "description"),
    [
        (kb({"text": "x", "callback_data": "é" * 33}), "Bad Request: BUTTON_DATA_INVALID"),
        (kb({"text": "x", "callback_data": ""}), "Bad Request: BUTTON_DATA_INVALID"),
        (kb({"text": "x", "url": "ftp://example.org"}), "Bad Request: BUTTON_URL_INVALID"),
        (kb({"text": "x", "url": "example.org"}), "Bad Request: BUTTON_URL_INVALID"),
        (kb({"text": "", "callback_data": "a"}), "Bad Request: BUTTON_TEXT_INVALID"),
        (
            kb({"callback_data": "a"}),
            'Bad Request: can\'t parse inline keyboard button: Field "text" must be of type String',
        ),
        (
            kb({"text": "x"}),
            "Bad Request: can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard",
        ),
        (
            {"inline_keyboard": [[{"text": str(i), "callback_data": str(i)} for i in range(101)]]},
            "Bad Request: reply markup is too long",
        ),
        (
            {"inline_keyboard": [{"text": "x", "callback_data": "a"}]},
            'Bad Request: field "inline_keyboard" of the keyboard markup must be an Array of Arrays',
        ),
        (
            {"keyboard": [[{"text": ""}]]},
            'Bad Request: can\'t parse keyboard button: Field "text" must be of type String',
        ),
        (
            {"remove_keyboard": False},
            'Bad Request: can\'t parse reply keyboard markup: Field "remove_keyboard" must be true',
        ),
        ({"buttons": []}, "Bad Request: can't parse reply keyboard markup JSON object"),
        ("not json", "Bad Request: can't parse reply keyboard markup JSON object"),
    ],
)
async def test_reply_markup_refusals(api: RawApi, alisa: FakeUser, markup: Any, description: str) -> None:
    assert await api.err("sendMessage", chat_id=alisa.id, text="x", reply_markup=markup) == (400, description)


async def test_two_actions_on_one_button_refused(api: RawApi, alisa: FakeUser) -> None:
    markup = kb({"text": "x", "callback_data": "a", "url": "https://example.org"})
    _, description = await api.err("sendMessage", chat_id=alisa.id, text="x", reply_markup=markup)
    assert description.startswith("Bad Request: can't parse inline keyboard button: exactly one")


async def test_callback_data_limit_is_in_bytes(api: RawApi, alisa: FakeUser) -> None:
    await api.ok("sendMessage", chat_id=alisa.id, text="x", reply_markup=kb({"text": "x", "callback_data": "é" * 32}))
    await api.ok("sendMessage", chat_id=alisa.id, text="x", reply_markup=kb({"text": "x", "callback_data": "a" * 64}))


async def test_other_keyboards_accepted(emu: BotApiEmulator, api: RawApi, alisa: FakeUser) -> None:
    await api.ok("sendMessage", chat_id=alisa.id, text="k", reply_markup={"keyboard": [["Yes", {"text": "No"}]]})
    assert emu.last_bot_message(alisa.id).buttons == [[("Yes", None), ("No", None)]]
    result = await api.ok("sendMessage", chat_id=alisa.id, text="r", reply_markup={"remove_keyboard": True})
    assert "reply_markup" not in result
    await api.ok("sendMessage", chat_id=alisa.id, text="f", reply_markup={"force_reply": True})


async def test_blocked_chat_is_forbidden(emu: BotApiEmulator, api: RawApi, alisa: FakeUser) -> None:
    emu.block(alisa.id)
    assert await api.err("sendMessage", chat_id=alisa.id, text="x") == (403, "Forbidden: bot was blocked by the user")
    assert await api.err("sendChatAction", chat_id=alisa.id, action="typing") == (
        403,
        "Forbidden: bot was blocked by the user",
    )
    assert len(emu.refused) == 2
    emu.unblock(alisa)
    await api.ok("sendMessage", chat_id=alisa.id, text="x")


async def test_group_chats(emu: BotApiEmulator, api: RawApi) -> None:
    bob = emu.user(user_id=5, first_name="Bob")
    emu.send_message(bob, "/search@tropa_test_bot x", chat_type="supergroup", chat_id=-1001234)
    result = await api.ok("sendMessage", chat_id=-1001234, text="found")
    assert result["chat"]["type"] == "supergroup"
    assert result["chat"]["id"] == -1001234
    first = emu.messages(-1001234)[0]
    assert first.entities == [{"type": "bot_command", "offset": 0, "length": len("/search@tropa_test_bot")}]
    with pytest.raises(ValueError, match="negative"):
        emu.send_message(bob, "x", chat_type="group", chat_id=5)


async def test_send_chat_action(emu: BotApiEmulator, api: RawApi, alisa: FakeUser) -> None:
    assert await api.ok("sendChatAction", chat_id=alisa.id, action="typing") is True
    assert emu.chat_actions == [(alisa.id, "typing")]
    assert await api.err("sendChatAction", chat_id=alisa.id, action="dancing") == (
        400,
        "Bad Request: wrong parameter action in request",
    )
