"""bot.handlers.errors: log the type and our innermost function only, apologise once in private chats.

The real Application polls the emulator; handlers fail through real code paths with exceptions whose messages carry
what a person wrote and their id, and every log record is checked for them before any redacting filter runs.
"""

from __future__ import annotations

import base64
import io
import logging
import sqlite3
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr
from telegram import Update
from telegram.error import Forbidden, RetryAfter

from bot.app import TropaApp, build_application, polling
from bot.config import Settings
from bot.context import Context
from bot.handlers.common import plain
from bot.handlers.errors import handler_name, on_error
from bot.i18n import Texts
from bot.logs import setup_logging
from storage.search import Hit, Searcher
from tests.conftest import EMULATOR_TOKEN
from tests.emulator import BotApiEmulator, FakeUser
from tests.helpers import FIXTURE_CONTENT

TOKEN = EMULATOR_TOKEN
KEY = base64.urlsafe_b64encode(bytes(range(32))).decode("ascii")
PERSON_ID = 7391046258
PERSON_FIRST = "Ксенофонтия"
PERSON_USERNAME = "zephyrine_quokka"
SECRET_TEXT = "квазипротон зеленеет"

pytestmark = pytest.mark.usefixtures("restore_logging")


class Capture(logging.Handler):
    """Every record of every logger, as it arrives: before the redacting filter rewrites it."""

    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.records: list[logging.LogRecord] = []
        self.texts: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)
        text = f"{record.name} {record.levelname} {record.getMessage()} {record.args!r}"
        if record.exc_info:
            text += logging.Formatter().formatException(record.exc_info)
        text += f" {record.exc_text or ''} {record.stack_info or ''}"
        self.texts.append(text)

    def of(self, name: str) -> list[tuple[int, str]]:
        """(level, message) of one logger's records."""
        return [(r.levelno, r.getMessage()) for r in self.records if r.name == name]


@pytest.fixture
def capture() -> Iterator[tuple[Capture, io.StringIO]]:
    """The production logging setup at DEBUG, with a raw capture in front of its redacting handler."""
    handler = Capture()
    root = logging.getLogger()
    root.addHandler(handler)  # added first, so it sees each record before the redacting filter
    stream = io.StringIO()
    setup_logging("DEBUG", stream=stream)
    try:
        yield handler, stream
    finally:
        root.removeHandler(handler)


def assert_nothing_personal(capture: Capture, stream: io.StringIO, *needles: str) -> None:
    assert capture.records, "nothing was captured: the check would prove nothing"
    for text in [*capture.texts, stream.getvalue()]:
        for needle in needles:
            assert needle not in text, f"{needle!r} leaked into a log record: {text[:300]}"


@pytest.fixture
def emu(emulator: BotApiEmulator) -> BotApiEmulator:
    return emulator


@pytest.fixture
def settings(emu: BotApiEmulator, tmp_path: Path) -> Settings:
    values: dict[str, object] = {
        "bot_token": SecretStr(TOKEN),
        "api_base_url": emu.base_url,
        "api_file_url": emu.base_file_url,
        "db_path": tmp_path / "tropa.sqlite3",
        "secret_key": SecretStr(KEY),
        "content_dir": FIXTURE_CONTENT,
        "log_level": "DEBUG",
    }
    return Settings(_env_file=None, **values)  # type: ignore[arg-type,call-arg]


@pytest.fixture
async def app(settings: Settings, capture: tuple[Capture, io.StringIO]) -> AsyncIterator[TropaApp]:
    """The real bot, polling the emulator."""
    application = build_application(settings)
    async with polling(application, poll_timeout=1):
        yield application


class LeakySearcher(Searcher):
    """A search that fails the way SQLite's FTS5 does on odd input: quoting the query in its message."""

    def __init__(self, searcher: Searcher, who: int) -> None:
        super().__init__(searcher.db)
        self.who = who

    async def search(self, query: str, lang: str, limit: int = 8) -> list[Hit]:
        raise sqlite3.OperationalError(f'fts5: syntax error near "{query}" (chat {self.who})')


def person(emu: BotApiEmulator, language_code: str | None) -> FakeUser:
    return emu.user(PERSON_ID, PERSON_FIRST, "Пятиглазова", PERSON_USERNAME, language_code)


def break_search(app: TropaApp) -> Searcher:
    """Put the leaky search in place; returns the real one."""
    searcher = app.bot_data.searcher
    assert searcher is not None
    app.bot_data.searcher = LeakySearcher(searcher, PERSON_ID)
    return searcher


# Through the real Application


@pytest.mark.parametrize(("language_code", "lang"), [("ru", "ru"), ("ru-RU", "ru"), ("en", "en"), ("de", "en")])
async def test_a_failing_handler_logs_type_and_place_only_and_apologises(
    app: TropaApp,
    emu: BotApiEmulator,
    capture: tuple[Capture, io.StringIO],
    texts: Texts,
    language_code: str,
    lang: str,
) -> None:
    records, stream = capture
    real_search = break_search(app)
    user = person(emu, language_code)
    emu.send_message(user, SECRET_TEXT)
    await emu.wait_idle()
    errors = records.of("tropa.errors")
    assert errors == [
        (logging.ERROR, "event=error type=OperationalError handler=bot.handlers.search.run_search"),
    ]
    (sorry,) = emu.bot_messages(user)
    assert sorry.shown == texts.get(lang, "sorry")
    assert_nothing_personal(records, stream, SECRET_TEXT, "квазипротон", str(PERSON_ID), PERSON_FIRST, PERSON_USERNAME)
    assert emu.refused == []
    # The error did not stop the bot: the next message is answered normally.
    app.bot_data.searcher = real_search
    emu.send_message(user, "/start")
    await emu.wait_idle()
    assert emu.last_bot_message(user).shown == plain(texts.get(lang, "welcome"))


async def test_an_error_on_a_button_apologises_in_the_chat(
    app: TropaApp, emu: BotApiEmulator, capture: tuple[Capture, io.StringIO], texts: Texts
) -> None:
    records, stream = capture
    user = person(emu, "en")
    emu.send_message(user, "/start")
    await emu.wait_idle()
    menu = emu.last_bot_message(user)
    db = app.bot_data.db
    assert db is not None
    await db.close()  # the database went away under a running bot
    try:
        emu.click(user, menu.message_id, "s:orgs:0")
        await emu.wait_idle()
    finally:
        app.bot_data.db = None  # already closed: post_shutdown must not close it twice
    # aiosqlite refuses a closed connection with ValueError; the first of our functions to touch it is named.
    assert records.of("tropa.errors") == [
        (logging.ERROR, "event=error type=ValueError handler=storage.prefs.get_lang"),
    ]
    assert emu.last_bot_message(user).shown == texts.get("en", "sorry")
    assert_nothing_personal(records, stream, str(PERSON_ID), PERSON_FIRST, PERSON_USERNAME)


async def test_flood_control_logs_rate_limited_and_sends_nothing(
    app: TropaApp, emu: BotApiEmulator, capture: tuple[Capture, io.StringIO], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PTB_TIMEDELTA", "1")  # PTB warns about int retry_after otherwise, and warnings are errors
    records, stream = capture
    user = person(emu, "ru")
    emu.fail("sendMessage", code=429, retry_after=7)
    emu.send_message(user, "/start")
    await emu.wait_idle()
    assert records.of("tropa.errors") == [(logging.WARNING, "event=rate_limited")]
    assert len(emu.calls("sendMessage")) == 1  # the refused welcome, and no apology after it
    assert emu.bot_messages(user) == []
    assert_nothing_personal(records, stream, str(PERSON_ID), PERSON_FIRST)


async def test_a_refused_apology_is_logged_and_not_retried(
    app: TropaApp, emu: BotApiEmulator, capture: tuple[Capture, io.StringIO], texts: Texts
) -> None:
    records, stream = capture
    user = person(emu, "en")
    emu.send_message(user, "/start")
    await emu.wait_idle()
    emu.block(user)
    emu.send_message(user, "/start")
    await emu.wait_idle()
    assert records.of("tropa.errors") == [
        (logging.ERROR, "event=error type=Forbidden handler=bot.handlers.common.respond"),
        (logging.WARNING, "event=error_reply_failed"),
    ]
    assert len(emu.calls("sendMessage")) == 3  # welcome, refused welcome, refused apology
    assert_nothing_personal(records, stream, str(PERSON_ID), PERSON_FIRST)
    emu.unblock(user)
    emu.send_message(user, "/start")
    await emu.wait_idle()
    assert emu.last_bot_message(user).shown == plain(texts.get("en", "welcome"))


async def test_the_apology_uses_the_language_the_person_chose(app: TropaApp, emu: BotApiEmulator, texts: Texts) -> None:
    user = person(emu, "ru")
    emu.send_message(user, "/language")
    await emu.wait_idle()
    emu.click(user, emu.last_bot_message(user).message_id, "l:en")
    await emu.wait_idle()
    assert emu.last_bot_message(user).shown == texts.get("en", "menu_prompt")
    break_search(app)
    emu.send_message(user, SECRET_TEXT)
    await emu.wait_idle()
    assert emu.last_bot_message(user).shown == texts.get("en", "sorry")


# on_error called with a CallbackContext built by hand


def raw_update(chat_type: str, chat_id: int, language_code: str | None = "ru") -> dict[str, Any]:
    sender: dict[str, Any] = {"id": PERSON_ID, "is_bot": False, "first_name": PERSON_FIRST}
    if language_code:
        sender["language_code"] = language_code
    chat: dict[str, Any] = {"id": chat_id, "type": chat_type}
    chat.update({"first_name": PERSON_FIRST} if chat_type == "private" else {"title": "Group"})
    message = {"message_id": 1, "date": int(time.time()), "chat": chat, "from": sender, "text": SECRET_TEXT}
    return {"update_id": 1, "message": message}


def raised_in_bot_code(texts: Texts) -> KeyError:
    """A real error raised inside bot.i18n, its message being what the person wrote."""
    try:
        texts.get("en", f"{SECRET_TEXT} {PERSON_ID}")
    except KeyError as exc:
        return exc
    raise AssertionError("Texts.get accepted an unknown key")


async def call_on_error(app: TropaApp, update: object, error: Exception) -> None:
    context = Context.from_error(update, error, app)
    await on_error(update, context)


async def test_by_hand_private_chat(
    app: TropaApp, emu: BotApiEmulator, capture: tuple[Capture, io.StringIO], texts: Texts
) -> None:
    records, stream = capture
    user = person(emu, "ru")
    emu.send_message(user, "hello")  # the chat exists, as it would if they had written
    await emu.wait_idle()
    before = len(emu.bot_messages(user))
    update = Update.de_json(raw_update("private", PERSON_ID), app.bot)
    await call_on_error(app, update, raised_in_bot_code(texts))
    assert records.of("tropa.errors") == [(logging.ERROR, "event=error type=KeyError handler=bot.i18n.get")]
    assert len(emu.bot_messages(user)) == before + 1
    assert emu.last_bot_message(user).shown == texts.get("ru", "sorry")
    assert_nothing_personal(records, stream, SECRET_TEXT, str(PERSON_ID), PERSON_FIRST)


@pytest.mark.parametrize("chat_type", ["group", "supergroup"])
async def test_by_hand_groups_get_no_apology(
    app: TropaApp, emu: BotApiEmulator, capture: tuple[Capture, io.StringIO], texts: Texts, chat_type: str
) -> None:
    records, stream = capture
    emu.clear_requests()
    update = Update.de_json(raw_update(chat_type, -1001234567890), app.bot)
    await call_on_error(app, update, raised_in_bot_code(texts))
    assert records.of("tropa.errors") == [(logging.ERROR, "event=error type=KeyError handler=bot.i18n.get")]
    assert emu.calls("sendMessage") == []
    assert_nothing_personal(records, stream, SECRET_TEXT, str(PERSON_ID), "1234567890")


async def test_by_hand_no_update_logs_and_sends_nothing(
    app: TropaApp, emu: BotApiEmulator, capture: tuple[Capture, io.StringIO]
) -> None:
    records, _ = capture
    emu.clear_requests()
    await call_on_error(app, None, ValueError(f"job failed for chat {PERSON_ID}"))
    assert records.of("tropa.errors") == [(logging.ERROR, "event=error type=ValueError handler=unknown")]
    assert emu.calls("sendMessage") == []
    assert all(str(PERSON_ID) not in text for text in records.texts)


async def test_by_hand_retry_after_is_a_warning(
    app: TropaApp, emu: BotApiEmulator, capture: tuple[Capture, io.StringIO], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PTB_TIMEDELTA", "1")
    records, _ = capture
    emu.clear_requests()
    update = Update.de_json(raw_update("private", PERSON_ID), app.bot)
    await call_on_error(app, update, RetryAfter(30))
    assert records.of("tropa.errors") == [(logging.WARNING, "event=rate_limited")]
    assert [r for r in records.records if r.levelno >= logging.ERROR] == []
    assert emu.requests == []


async def test_by_hand_no_error_does_nothing(
    app: TropaApp, emu: BotApiEmulator, capture: tuple[Capture, io.StringIO]
) -> None:
    records, _ = capture
    emu.clear_requests()
    context = Context(app)
    assert context.error is None
    await on_error(Update.de_json(raw_update("private", PERSON_ID), app.bot), context)
    assert records.of("tropa.errors") == []
    assert emu.requests == []


# handler_name


def test_handler_name_is_our_innermost_function(texts: Texts) -> None:
    assert handler_name(raised_in_bot_code(texts)) == "bot.i18n.get"


def test_handler_name_of_an_error_outside_our_code_is_unknown() -> None:
    with pytest.raises(ValueError, match=SECRET_TEXT) as caught:
        raise ValueError(SECRET_TEXT)
    assert handler_name(caught.value) == "unknown"
    assert handler_name(Forbidden("never raised, no traceback")) == "unknown"
