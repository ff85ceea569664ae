"""bot.transport: AiohttpRequest against the loopback emulator, a closed port, a silent one and a slow answer."""

from __future__ import annotations

import json
import logging
import socket
import traceback
from collections.abc import AsyncIterator, Iterator

import pytest
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup
from telegram.error import BadRequest, NetworkError, TelegramError, TimedOut

from bot.transport import DEFAULT_TIMEOUT, AiohttpRequest
from tests.conftest import EMULATOR_TOKEN
from tests.emulator import BotApiEmulator, FakeUser

TOKEN = EMULATOR_TOKEN
SECRET = TOKEN.split(":")[1]


@pytest.fixture
def emu(emulator: BotApiEmulator) -> BotApiEmulator:
    return emulator


@pytest.fixture
async def request_() -> AsyncIterator[AiohttpRequest]:
    """An initialized transport, shut down afterwards."""
    transport = AiohttpRequest(connection_limit=4)
    await transport.initialize()
    try:
        yield transport
    finally:
        await transport.shutdown()


@pytest.fixture
async def bot(emu: BotApiEmulator) -> AsyncIterator[Bot]:
    """A real PTB Bot whose every request goes through AiohttpRequest."""
    instance = Bot(
        TOKEN,
        base_url=emu.base_url,
        base_file_url=emu.base_file_url,
        request=AiohttpRequest(connection_limit=4),
        get_updates_request=AiohttpRequest(connection_limit=1),
    )
    async with instance:
        yield instance


@pytest.fixture
def alisa(emu: BotApiEmulator) -> FakeUser:
    """A user whose private chat with the bot exists."""
    user = emu.user(user_id=7770001, first_name="Alisa", language_code="ru")
    emu.send_message(user, "/start")
    return user


@pytest.fixture
def closed_port() -> int:
    """A loopback port nothing listens on: connecting is refused at once."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A loopback port whose accept queue is full, so a new connection never completes (the SYN is dropped)."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(0)
    port = int(server.getsockname()[1])
    fillers = []
    for _ in range(3):
        filler = socket.socket()
        filler.setblocking(False)
        filler.connect_ex(("127.0.0.1", port))
        fillers.append(filler)
    try:
        yield port
    finally:
        for filler in fillers:
            filler.close()
        server.close()


def chain_text(exc: BaseException) -> str:
    """Everything a traceback of exc would print, causes included."""
    return "".join(traceback.format_exception(exc))


# Real requests through a real Bot


async def test_get_me_is_answered_by_the_emulator(bot: Bot, emu: BotApiEmulator) -> None:
    me = await bot.get_me()
    assert me.username == "tropa_test_bot"
    assert me.id == 123456789
    assert [r.method for r in emu.requests].count("getMe") >= 1
    assert emu.refused == []


async def test_send_message_with_a_keyboard(bot: Bot, emu: BotApiEmulator, alisa: FakeUser) -> None:
    markup = InlineKeyboardMarkup([[InlineKeyboardButton("Orgs ✓", callback_data="s:orgs")]])
    sent = await bot.send_message(alisa.id, "<b>Привет</b> &amp; welcome", parse_mode="HTML", reply_markup=markup)
    assert sent.text == "Привет & welcome"
    assert sent.reply_markup == markup
    stored = emu.last_bot_message(alisa.id)
    assert stored.message_id == sent.message_id
    assert stored.shown == "Привет & welcome"
    assert stored.buttons == [[("Orgs ✓", "s:orgs")]]
    (call,) = emu.calls("sendMessage")
    assert call.params["reply_markup"] == markup.to_dict()
    assert emu.refused == []


async def test_long_text_with_special_characters_arrives_intact(bot: Bot, emu: BotApiEmulator, alisa: FakeUser) -> None:
    # Characters that a wrong form or JSON encoding would change: + & = % quotes, backslashes, emoji, newlines.
    line = 'Тропа + a&amp;b = 100% "кавычки" \\ 🕊️ <i>x</i>\n'
    text = line * 90
    sent = await bot.send_message(alisa.id, text, parse_mode="HTML")
    expected = text.replace("&amp;", "&").replace("<i>", "").replace("</i>", "")
    assert sent.text == expected.strip()
    assert emu.last_bot_message(alisa.id).shown == expected.strip()
    assert emu.refused == []


async def test_send_document_uploads_the_bytes_as_multipart(bot: Bot, emu: BotApiEmulator, alisa: FakeUser) -> None:
    data = b"id;name\n1;\xd0\xa2\xd1\x80\xd0\xbe\xd0\xbf\xd0\xb0\n" + bytes(range(256))
    sent = await bot.send_document(alisa.id, data, filename="orgs.csv", caption="<b>CSV</b>", parse_mode="HTML")
    assert sent.document is not None
    assert sent.document.file_name == "orgs.csv"
    assert sent.document.file_size == len(data)
    assert sent.caption == "CSV"
    assert emu.file_bytes(sent.document.file_id) == data
    (call,) = emu.calls("sendDocument")
    assert call.content_type == "multipart/form-data"
    assert int(call.params["chat_id"]) == alisa.id
    assert emu.refused == []


async def test_an_uploaded_file_with_a_cyrillic_name_keeps_it(bot: Bot, emu: BotApiEmulator, alisa: FakeUser) -> None:
    sent = await bot.send_document(alisa.id, b"x", filename="отчёт.txt")
    assert sent.document is not None
    assert sent.document.file_name == "отчёт.txt"
    assert emu.file_bytes(sent.document.file_id) == b"x"


async def test_api_errors_come_back_as_telegram_errors(bot: Bot, emu: BotApiEmulator) -> None:
    # A 400 answer is a status and a body, not a transport failure: PTB turns it into BadRequest.
    with pytest.raises(BadRequest) as caught:
        await bot.send_message(555, "hello")
    assert "chat not found" in str(caught.value).lower()


# The transport itself


async def test_do_request_returns_status_and_body(request_: AiohttpRequest, emu: BotApiEmulator) -> None:
    status, body = await request_.do_request(f"{emu.base_url}{TOKEN}/getMe", "POST")
    assert status == 200
    assert json.loads(body)["result"]["username"] == "tropa_test_bot"
    status, body = await request_.do_request(f"{emu.base_url}{TOKEN}/noSuchMethod", "POST")
    assert status == 404
    assert json.loads(body)["ok"] is False


async def test_a_closed_port_is_a_network_error_naming_neither_url_nor_token(
    request_: AiohttpRequest, closed_port: int
) -> None:
    url = f"http://127.0.0.1:{closed_port}/bot{TOKEN}/getMe"
    with pytest.raises(NetworkError) as caught:
        await request_.do_request(url, "POST")
    error = caught.value
    assert not isinstance(error, TimedOut)
    assert str(error) == "aiohttp.ClientConnectorError"
    assert error.__cause__ is None
    assert error.__suppress_context__
    printed = chain_text(error)
    for secret in (TOKEN, SECRET, url, f"/bot{TOKEN}"):
        assert secret not in str(error)
        assert secret not in printed


async def test_a_closed_port_through_a_bot_is_a_network_error(closed_port: int) -> None:
    transports = AiohttpRequest(), AiohttpRequest(connection_limit=1)
    bot = Bot(
        TOKEN, base_url=f"http://127.0.0.1:{closed_port}/bot", request=transports[0], get_updates_request=transports[1]
    )
    try:
        with pytest.raises(NetworkError) as caught:
            await bot.initialize()  # opens both transports, then getMe fails
    finally:
        # A bot whose initialize failed skips its shutdown, so close the transports here.
        for transport in transports:
            await transport.shutdown()
    assert not isinstance(caught.value, TimedOut)
    assert SECRET not in chain_text(caught.value)
    assert str(closed_port) not in str(caught.value)


async def test_a_slow_answer_times_out(request_: AiohttpRequest, emu: BotApiEmulator) -> None:
    emu.delay("getMe", 1.0, times=1)
    url = f"{emu.base_url}{TOKEN}/getMe"
    with pytest.raises(TimedOut) as caught:
        await request_.do_request(url, "POST", read_timeout=0.1)
    assert SECRET not in chain_text(caught.value)
    # The connection that timed out is dropped; the next call gets a fresh one and works.
    status, _ = await request_.do_request(url, "POST", read_timeout=2.0)
    assert status == 200


async def test_the_default_read_timeout_applies_when_none_is_passed(emu: BotApiEmulator) -> None:
    transport = AiohttpRequest(read_timeout=0.1)
    assert transport.read_timeout == 0.1
    await transport.initialize()
    try:
        emu.delay("getMe", 1.0, times=1)
        with pytest.raises(TimedOut):
            await transport.do_request(f"{emu.base_url}{TOKEN}/getMe", "POST")
    finally:
        await transport.shutdown()


async def test_a_slow_answer_through_a_bot_times_out(emu: BotApiEmulator) -> None:
    bot = Bot(
        TOKEN,
        base_url=emu.base_url,
        request=AiohttpRequest(read_timeout=0.1),
        get_updates_request=AiohttpRequest(connection_limit=1),
    )
    async with bot:
        emu.delay("getMe", 1.0, times=1)
        with pytest.raises(TimedOut):
            await bot.get_me()
        assert (await bot.get_me()).username == "tropa_test_bot"


async def test_a_connect_timeout_does_not_carry_the_token(request_: AiohttpRequest, silent_port: int) -> None:
    url = f"http://127.0.0.1:{silent_port}/bot{TOKEN}/getMe"
    with pytest.raises(TimedOut) as caught:
        await request_.do_request(url, "POST", connect_timeout=0.2)
    assert SECRET not in chain_text(caught.value)


def test_read_timeout_defaults() -> None:
    assert AiohttpRequest().read_timeout == DEFAULT_TIMEOUT
    assert AiohttpRequest(read_timeout=None).read_timeout is None


# Lifecycle


async def test_initialize_and_shutdown_are_idempotent(emu: BotApiEmulator) -> None:
    transport = AiohttpRequest()
    url = f"{emu.base_url}{TOKEN}/getMe"
    await transport.initialize()
    session = transport._session
    await transport.initialize()
    assert transport._session is session  # a second initialize keeps the open session
    assert (await transport.do_request(url, "POST"))[0] == 200
    await transport.shutdown()
    assert session is not None
    assert session.closed
    await transport.shutdown()
    # Initialize after shutdown opens a new session.
    await transport.initialize()
    try:
        assert transport._session is not session
        assert (await transport.do_request(url, "POST"))[0] == 200
    finally:
        await transport.shutdown()


async def test_use_before_initialize_raises(emu: BotApiEmulator) -> None:
    transport = AiohttpRequest()
    with pytest.raises(RuntimeError, match="not initialized"):
        await transport.do_request(f"{emu.base_url}{TOKEN}/getMe", "POST")
    assert emu.requests == []


async def test_use_after_shutdown_raises(emu: BotApiEmulator) -> None:
    transport = AiohttpRequest()
    await transport.initialize()
    await transport.shutdown()
    with pytest.raises(RuntimeError, match="not initialized"):
        await transport.do_request(f"{emu.base_url}{TOKEN}/getMe", "POST")
    assert emu.requests == []


async def test_lone_surrogates_arrive_as_replacement_characters(bot: Bot, emu: BotApiEmulator) -> None:
    # A JSON escape can carry "\ud800"; UTF-8 and SQLite cannot, and a deep link with one crashed the item lookup.
    user = emu.user(user_id=7770002, first_name="Ann\udfff")
    emu.send_message(user, "/start orgs_\ud800 \U0001f600")
    (update,) = await bot.get_updates()
    assert update.message is not None
    assert update.message.text == "/start orgs_\ufffd \U0001f600"
    assert update.message.from_user is not None
    assert update.message.from_user.first_name == "Ann\ufffd"


def test_an_unparseable_answer_is_an_error_that_logs_nothing(caplog: pytest.LogCaptureFixture) -> None:
    # PTB's own parser logs the whole payload at ERROR: for getUpdates that is what people wrote, and who they are.
    caplog.set_level(logging.DEBUG)
    with pytest.raises(TelegramError, match=r"^Invalid server response$") as raised:
        AiohttpRequest.parse_json_payload('{"ok": true, "result": [{"text": "Ксенофонтия"'.encode())
    assert raised.value.__cause__ is None
    assert caplog.records == []
    with pytest.raises(TelegramError):
        AiohttpRequest.parse_json_payload(b"[1, 2]")
