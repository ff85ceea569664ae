"""The real python-telegram-bot Application polling the emulator end to end."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from telegram import (
    BotCommand,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InlineQueryResultArticle,
    InputTextMessageContent,
    LinkPreviewOptions,
    Update,
)
from telegram.constants import ParseMode
from telegram.error import BadRequest, Forbidden, RetryAfter
from telegram.ext import (
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    Defaults,
    InlineQueryHandler,
    MessageHandler,
    filters,
)

from tests.emulator import BotApiEmulator

Ctx = ContextTypes.DEFAULT_TYPE


async def start(update: Update, context: Ctx) -> None:
    assert update.message is not None
    keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("Orgs", callback_data="orgs:1")]])
    await update.message.reply_text(f"<b>Привет</b>, {context.args or ''} 👋", reply_markup=keyboard)


async def echo(update: Update, context: Ctx) -> None:
    assert update.message is not None
    assert update.message.text is not None
    await update.message.reply_text(update.message.text, parse_mode=None)


async def clicked(update: Update, context: Ctx) -> None:
    query = update.callback_query
    assert query is not None
    await query.answer("ok")
    await query.edit_message_text(f"<i>clicked</i> {query.data}")


async def inline(update: Update, context: Ctx) -> None:
    assert update.inline_query is not None
    text = InputTextMessageContent(f"<b>{update.inline_query.query}</b>")
    await update.inline_query.answer([InlineQueryResultArticle("r1", "Result", text)], cache_time=0)


async def document(update: Update, context: Ctx) -> None:
    assert update.message is not None
    await update.message.reply_document(b"id;name\n1;Tropa\n", filename="orgs.csv", caption="<b>CSV</b>")


@pytest.fixture
async def app(emu: BotApiEmulator) -> AsyncIterator[Application[Any, Any, Any, Any, Any, Any]]:
    """An echo bot built like production (HTML default, previews off), polling the emulator."""
    application = (
        ApplicationBuilder()
        .token(emu.token)
        .base_url(emu.base_url)
        .base_file_url(emu.base_file_url)
        .defaults(Defaults(parse_mode=ParseMode.HTML, link_preview_options=LinkPreviewOptions(is_disabled=True)))
        .build()
    )
    application.add_handler(CommandHandler("start", start))
    application.add_handler(CommandHandler("file", document))
    application.add_handler(MessageHandler(filters.TEXT & ~filters.COMMAND, echo))
    application.add_handler(CallbackQueryHandler(clicked))
    application.add_handler(InlineQueryHandler(inline))
    await application.initialize()
    await application.start()
    assert application.updater is not None
    await application.updater.start_polling(poll_interval=0, timeout=2)
    yield application
    await application.updater.stop()
    await application.stop()
    await application.shutdown()


async def test_echo_bot_end_to_end(emu: BotApiEmulator, app: Application[Any, Any, Any, Any, Any, Any]) -> None:
    u = emu.user(user_id=7770001, first_name="Alisa", last_name="Testova", username="alisa_t", language_code="ru")
    emu.send_message(u, "/start orgs")
    await emu.wait_idle()
    greeting = emu.last_bot_message(u.id)
    assert greeting.text == "Привет, ['orgs'] 👋"
    assert greeting.entities == [{"type": "bold", "offset": 0, "length": 6}]
    assert greeting.buttons == [[("Orgs", "orgs:1")]]
    assert greeting.link_preview_options == {"is_disabled": True}

    update_id = emu.click(u, greeting.message_id, "orgs:1")
    emu.send_message(u, "echo <me> & 👋")
    await emu.wait_idle()
    assert emu.callback_answers[emu.query_id_of(update_id)]["text"] == "ok"
    edited = emu.message(u.id, greeting.message_id)
    assert (edited.text, edited.edited, edited.reply_markup) == ("clicked orgs:1", 1, None)
    assert emu.last_bot_message(u.id).text == "echo <me> & 👋"

    query_id = emu.query_id_of(emu.inline_query(u, "find"))
    await emu.wait_idle()
    (result,) = emu.inline_answers[query_id]["results"]
    assert result["input_message_content"] == {"message_text": "<b>find</b>", "parse_mode": "HTML",
                                               "link_preview_options": {"is_disabled": True}}  # fmt: skip

    emu.send_message(u, "/file")
    await emu.wait_idle()
    doc = emu.last_bot_message(u.id)
    assert doc.document is not None
    assert doc.caption == "CSV"
    file = await app.bot.get_file(doc.document["file_id"])
    assert bytes(await file.download_as_bytearray()) == b"id;name\n1;Tropa\n"

    assert emu.refused == []
    assert [m.from_bot for m in emu.messages(u.id)] == [False, True, False, True, False, True]
    assert {r.content_type for r in emu.requests if r.method == "sendDocument"} == {"multipart/form-data"}


async def test_ptb_sees_telegram_errors(
    emu: BotApiEmulator, app: Application[Any, Any, Any, Any, Any, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Without PTB_TIMEDELTA, constructing RetryAfter itself emits a PTBDeprecationWarning (an error here).
    monkeypatch.setenv("PTB_TIMEDELTA", "1")
    u = emu.user(user_id=1, first_name="U")
    emu.send_message(u, "hello")
    await emu.wait_idle()
    bot = app.bot
    sent = await bot.send_message(u.id, "same")
    with pytest.raises(BadRequest, match="Message is not modified"):
        await bot.edit_message_text("same", chat_id=u.id, message_id=sent.message_id)
    with pytest.raises(BadRequest, match="Can't parse entities: unsupported start tag"):
        await bot.send_message(u.id, "<p>nope</p>")
    with pytest.raises(BadRequest, match="Chat not found"):
        await bot.send_message(42, "who?")
    emu.fail("sendMessage", code=429, retry_after=3)
    with pytest.raises(RetryAfter) as caught:
        await bot.send_message(u.id, "flood")
    assert caught.value.retry_after.total_seconds() == 3  # type: ignore[union-attr]
    emu.block(u)
    with pytest.raises(Forbidden, match="bot was blocked by the user"):
        await bot.send_message(u.id, "blocked")
    assert [r.method for r in emu.refused] == ["editMessageText", "sendMessage", "sendMessage", "sendMessage"]


async def test_ptb_bot_settings(emu: BotApiEmulator, app: Application[Any, Any, Any, Any, Any, Any]) -> None:
    bot = app.bot
    await bot.set_my_commands([BotCommand("start", "Начать"), BotCommand("search", "Поиск")], language_code="ru")
    assert [c.command for c in await bot.get_my_commands(language_code="ru")] == ["start", "search"]
    assert emu.my_commands["ru"][1] == {"command": "search", "description": "Поиск"}
    await bot.set_my_description("Длинное описание", language_code="ru")
    await bot.set_my_short_description("Коротко")
    assert (await bot.get_my_description(language_code="ru")).description == "Длинное описание"
    assert emu.short_descriptions == {"": "Коротко"}
    me = await bot.get_me()
    assert me.username == "tropa_test_bot"
    assert me.supports_inline_queries
    assert (await bot.get_my_short_description()).short_description == "Коротко"
    assert (await bot.get_webhook_info()).url == ""
    u = emu.user(user_id=2, first_name="V")
    emu.send_message(u, "copy me")
    await emu.wait_idle()
    copied = await bot.copy_message(u.id, u.id, emu.messages(u.id)[0].message_id)
    assert emu.message(u.id, copied.message_id).text == "copy me"
    assert await bot.send_chat_action(u.id, "typing")
    assert await bot.delete_messages(u.id, [copied.message_id, 999])
    assert emu.message(u.id, copied.message_id).deleted
    assert [m.text for m in emu.bot_messages(u.id)] == ["copy me"]  # the echo
    assert emu.refused == []
