"""Editing, deleting, copying and documents, with Telegram's refusals."""

from __future__ import annotations

import aiohttp

from tests.emulator import BotApiEmulator, FakeUser
from tests.emulator.conftest import RawApi

NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content and reply markup are exactly the same"
    " as a current content and reply markup of the message"
)
GO = {"inline_keyboard": [[{"text": "Go", "callback_data": "go"}]]}


async def test_edit_text(emu: BotApiEmulator, api: RawApi, alisa: FakeUser) -> None:
    sent = await api.ok("sendMessage", chat_id=alisa.id, text="<b>one</b>", parse_mode="HTML", reply_markup=GO)
    mid = sent["message_id"]
    edited = await api.ok(
        "editMessageText", chat_id=alisa.id, message_id=mid, text="<i>two</i>", parse_mode="HTML", reply_markup=GO
    )
    assert edited["text"] == "two"
    assert "edit_date" in edited
    assert edited["reply_markup"] == GO
    msg = emu.message(alisa.id, mid)
    assert (msg.text, msg.html, msg.edited, msg.entities) == (
        "two",
        "<i>two</i>",
        1,
        [{"type": "italic", "offset": 0, "length": 3}],
    )
    # Same text, same entities, same keyboard: Telegram refuses.
    code, description = await api.err(
        "editMessageText", chat_id=alisa.id, message_id=mid, text="<i>two</i>", parse_mode="HTML", reply_markup=GO
    )
    assert (code, description) == (400, NOT_MODIFIED)
    # Same text but different entities is a modification.
    await api.ok("editMessageText", chat_id=alisa.id, message_id=mid, text="two", reply_markup=GO)
    # Dropping reply_markup removes the keyboard, which is a modification too.
    await api.ok("editMessageText", chat_id=alisa.id, message_id=mid, text="two")
    assert emu.message(alisa.id, mid).reply_markup is None
    assert emu.message(alisa.id, mid).edited == 3


async def test_edit_refusals(emu: BotApiEmulator, api: RawApi, alisa: FakeUser) -> None:
    user_message = emu.messages(alisa.id)[0].message_id
    assert await api.err("editMessageText", chat_id=alisa.id, message_id=999, text="x") == (
        400,
        "Bad Request: message to edit not found",
    )
    assert await api.err("editMessageText", chat_id=alisa.id, message_id=user_message, text="x") == (
        400,
        "Bad Request: message can't be edited",
    )
    mid = (await api.ok("sendMessage", chat_id=alisa.id, text="x"))["message_id"]
    assert await api.err("editMessageText", chat_id=alisa.id, message_id=mid, text=" ") == (
        400,
        "Bad Request: message text is empty",
    )
    assert await api.err(
        "editMessageText", chat_id=alisa.id, message_id=mid, text="y", reply_markup={"keyboard": [["a"]]}
    ) == (400, "Bad Request: inline keyboard expected")
    await api.ok("deleteMessage", chat_id=alisa.id, message_id=mid)
    assert await api.err("editMessageText", chat_id=alisa.id, message_id=mid, text="y") == (
        400,
        "Bad Request: message to edit not found",
    )


async def test_edit_reply_markup(emu: BotApiEmulator, api: RawApi, alisa: FakeUser) -> None:
    mid = (await api.ok("sendMessage", chat_id=alisa.id, text="x", reply_markup=GO))["message_id"]
    assert await api.err("editMessageReplyMarkup", chat_id=alisa.id, message_id=mid, reply_markup=GO) == (
        400,
        NOT_MODIFIED,
    )
    result = await api.ok("editMessageReplyMarkup", chat_id=alisa.id, message_id=mid)
    assert "reply_markup" not in result
    assert await api.err("editMessageReplyMarkup", chat_id=alisa.id, message_id=mid) == (400, NOT_MODIFIED)
    other = {"inline_keyboard": [[{"text": "Back", "callback_data": "back"}]]}
    await api.ok("editMessageReplyMarkup", chat_id=alisa.id, message_id=mid, reply_markup=other)
    assert emu.message(alisa.id, mid).buttons == [[("Back", "back")]]


async def test_delete_message(emu: BotApiEmulator, api: RawApi, alisa: FakeUser) -> None:
    user_message = emu.messages(alisa.id)[0].message_id
    mid = (await api.ok("sendMessage", chat_id=alisa.id, text="x"))["message_id"]
    assert await api.ok("deleteMessage", chat_id=alisa.id, message_id=mid) is True
    assert await api.ok("deleteMessage", chat_id=alisa.id, message_id=user_message) is True
    assert emu.message(alisa.id, mid).deleted
    assert emu.bot_messages(alisa.id) == []
    assert await api.err("deleteMessage", chat_id=alisa.id, message_id=mid) == (
        400,
        "Bad Request: message to delete not found",
    )
    assert await api.err("deleteMessage", chat_id=alisa.id, message_id=12345) == (
        400,
        "Bad Request: message to delete not found",
    )
    assert await api.err("deleteMessage", chat_id=alisa.id) == (400, "Bad Request: message identifier is not specified")


async def test_delete_after_48_hours_refused(emu: BotApiEmulator, api: RawApi, alisa: FakeUser) -> None:
    mid = (await api.ok("sendMessage", chat_id=alisa.id, text="x"))["message_id"]
    emu.advance(48 * 3600 - 60)
    await api.ok("deleteMessage", chat_id=alisa.id, message_id=mid)
    emu.advance(120)
    user_message = emu.messages(alisa.id)[0].message_id
    assert await api.err("deleteMessage", chat_id=alisa.id, message_id=user_message) == (
        400,
        "Bad Request: message can't be deleted for everyone",
    )


async def test_delete_messages_skips_what_it_cannot(emu: BotApiEmulator, api: RawApi, alisa: FakeUser) -> None:
    ids = [(await api.ok("sendMessage", chat_id=alisa.id, text=str(i)))["message_id"] for i in range(3)]
    assert await api.ok("deleteMessages", chat_id=alisa.id, message_ids=[*ids, 999]) is True
    assert all(emu.message(alisa.id, i).deleted for i in ids)
    assert await api.err("deleteMessages", chat_id=alisa.id, message_ids=[]) == (
        400,
        "Bad Request: message identifiers are empty",
    )
    assert await api.err("deleteMessages", chat_id=alisa.id, message_ids=list(range(101))) == (
        400,
        "Bad Request: too many message identifiers specified",
    )


async def test_copy_message(emu: BotApiEmulator, api: RawApi, alisa: FakeUser) -> None:
    bob = emu.user(user_id=5, first_name="Bob")
    emu.send_message(bob, "hi")
    source = (await api.ok("sendMessage", chat_id=alisa.id, text="<b>card</b>", parse_mode="HTML"))["message_id"]
    copied = await api.ok("copyMessage", chat_id=bob.id, from_chat_id=alisa.id, message_id=source)
    msg = emu.message(bob.id, copied["message_id"])
    assert msg.from_bot
    assert msg.text == "card"
    assert msg.entities == [{"type": "bold", "offset": 0, "length": 4}]
    assert await api.err("copyMessage", chat_id=bob.id, from_chat_id=alisa.id, message_id=999) == (
        400,
        "Bad Request: message to copy not found",
    )


async def test_send_document_and_download(emu: BotApiEmulator, api: RawApi, alisa: FakeUser) -> None:
    form = aiohttp.FormData()
    form.add_field("chat_id", str(alisa.id))
    form.add_field("caption", "<b>report</b>")
    form.add_field("parse_mode", "HTML")
    form.add_field("document", b"col1,col2\n1,2\n", filename="report.csv", content_type="text/csv")
    base = f"http://127.0.0.1:{emu.port}"
    async with api.session.post(f"{base}/bot{emu.token}/sendDocument", data=form) as response:
        body = await response.json()
    assert body["ok"], body
    document = body["result"]["document"]
    assert document["file_name"] == "report.csv"
    assert document["file_size"] == 14
    assert body["result"]["caption"] == "report"
    assert emu.file_bytes(document["file_id"]) == b"col1,col2\n1,2\n"
    file = await api.ok("getFile", file_id=document["file_id"])
    async with api.session.get(f"{base}/file/bot{emu.token}/{file['file_path']}") as response:
        assert response.status == 200
        assert await response.read() == b"col1,col2\n1,2\n"
    resent = await api.ok("sendDocument", chat_id=alisa.id, document=document["file_id"])
    assert resent["document"]["file_id"] == document["file_id"]
    assert await api.err("sendDocument", chat_id=alisa.id) == (400, "Bad Request: there is no document in the request")
    assert await api.err("sendDocument", chat_id=alisa.id, document="nope") == (
        400,
        "Bad Request: wrong file identifier/HTTP URL specified",
    )
    assert await api.err("getFile", file_id="nope") == (400, "Bad Request: invalid file_id")
    assert await api.err("sendDocument", chat_id=alisa.id, document=document["file_id"], caption="x" * 1025) == (
        400,
        "Bad Request: message caption is too long",
    )


async def test_delete_messages_says_true_even_when_it_deletes_nothing(
    emu: BotApiEmulator, api: RawApi, alisa: FakeUser
) -> None:
    old = emu.backfill(alisa, 3, age=48 * 3600 + 60)
    recent = emu.backfill(alisa, 2)
    # Older than 48 hours, never sent, or already gone: skipped without a word, exactly like Telegram.
    assert await api.ok("deleteMessages", chat_id=alisa.id, message_ids=[*old, 5000, 5001]) is True
    assert not any(emu.message(alisa.id, i).deleted for i in old)
    assert await api.ok("deleteMessages", chat_id=alisa.id, message_ids=[*recent, *old]) is True
    assert [emu.message(alisa.id, i).deleted for i in recent] == [True, True]
    assert await api.ok("deleteMessages", chat_id=alisa.id, message_ids=recent) is True
    assert await api.err("deleteMessages", chat_id=alisa.id, message_ids=["x"]) == (
        400,
        "Bad Request: can't parse message identifiers JSON object",
    )
    assert await api.err("deleteMessages", chat_id=424242424, message_ids=[1]) == (400, "Bad Request: chat not found")


async def test_backfill_adds_history_without_updates(emu: BotApiEmulator, alisa: FakeUser) -> None:
    before = len(emu.state.updates)
    ids = emu.backfill(alisa, 4, age=3600)
    assert ids == [ids[0], ids[0] + 1, ids[0] + 2, ids[0] + 3]
    assert [emu.message(alisa.id, i).from_bot for i in ids] == [False, True, False, True]
    assert len(emu.state.updates) == before
    assert emu.message(alisa.id, ids[0]).date <= emu.state.now() - 3600 + 1
