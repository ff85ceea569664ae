"""bot.logs: libraries stay at WARNING, and the handler's filter masks tokens and ids wherever they appear."""

from __future__ import annotations

import io
import logging

import pytest

from bot.logs import NOISY_LOGGERS, RedactingFilter, redact, secrets_pattern, setup_logging

TOKEN = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"
CHAT_ID = "987654321"

pytestmark = pytest.mark.usefixtures("restore_logging")


@pytest.fixture
def stream() -> io.StringIO:
    out = io.StringIO()
    setup_logging("DEBUG", stream=out)
    return out


def test_root_takes_the_configured_level(stream: io.StringIO) -> None:
    assert logging.getLogger().level == logging.DEBUG
    logging.getLogger("tropa.test").debug("event=probe ms=3")
    assert "DEBUG tropa.test: event=probe ms=3" in stream.getvalue()


@pytest.mark.parametrize(
    "name", ["httpx", "httpcore", "telegram", "telegram.ext.Updater", "telegram.Bot", "apscheduler"]
)
def test_library_loggers_stay_at_warning_even_at_debug(stream: io.StringIO, name: str) -> None:
    logger = logging.getLogger(name)
    assert logger.getEffectiveLevel() == logging.WARNING
    logger.debug("HTTP Request: POST https://api.telegram.org/bot%s/getUpdates", TOKEN)
    logger.info("update from chat %s", CHAT_ID)
    assert stream.getvalue() == ""
    logger.warning("slow answer")
    assert "slow answer" in stream.getvalue()


def test_every_noisy_logger_is_quietened(stream: io.StringIO) -> None:
    assert {name: logging.getLogger(name).level for name in NOISY_LOGGERS} == dict.fromkeys(
        NOISY_LOGGERS, logging.WARNING
    )


def test_setup_twice_installs_one_handler() -> None:
    first, second = io.StringIO(), io.StringIO()
    setup_logging("INFO", stream=first)
    setup_logging("INFO", stream=second)
    logging.getLogger("tropa").info("once")
    assert first.getvalue() == ""
    assert second.getvalue().count("once") == 1


def test_token_in_the_message_is_masked(stream: io.StringIO) -> None:
    logging.getLogger("tropa").info(f"calling https://api.telegram.org/bot{TOKEN}/getMe")
    assert TOKEN not in stream.getvalue()
    assert "/bot<token>/getMe" in stream.getvalue()


def test_ids_in_the_arguments_are_masked(stream: io.StringIO) -> None:
    logging.getLogger("tropa").warning("chat %s blocked the bot; user %d", CHAT_ID, -1001234567890)
    out = stream.getvalue()
    assert CHAT_ID not in out
    assert "1001234567890" not in out
    assert "chat <num> blocked the bot; user <num>" in out


def test_records_from_child_loggers_are_masked_too(stream: io.StringIO) -> None:
    logging.getLogger("tropa.handlers.start.deep").error("chat %s", CHAT_ID)
    logging.getLogger("telegram.ext.Application").error("No error handlers: chat %s token %s", CHAT_ID, TOKEN)
    out = stream.getvalue()
    assert CHAT_ID not in out
    assert TOKEN not in out
    assert out.count("<num>") == 2


def test_exception_text_is_masked(stream: io.StringIO) -> None:
    try:
        raise ValueError(f"chat_id {CHAT_ID} not found for bot{TOKEN}")
    except ValueError:
        logging.getLogger("tropa").exception("event=failed")
    out = stream.getvalue()
    assert "Traceback" in out
    assert "ValueError: chat_id <num> not found for bot<token>" in out
    assert CHAT_ID not in out
    assert TOKEN not in out


def test_stack_info_is_masked(stream: io.StringIO) -> None:
    def leaky(chat_id: int) -> None:
        logging.getLogger("tropa").info("event=x", stack_info=True)

    leaky(987654321)  # this source line is printed in the stack
    out = stream.getvalue()
    assert "Stack (most recent call last)" in out
    assert "leaky(<num>)" in out
    assert CHAT_ID not in out


def test_a_broken_format_string_does_not_leak_its_arguments(stream: io.StringIO) -> None:
    logging.getLogger("tropa").info("chat %d of %d", CHAT_ID)
    out = stream.getvalue()
    assert "chat %d of %d" in out
    assert CHAT_ID not in out


def test_filter_keeps_every_record() -> None:
    record = logging.LogRecord("tropa", logging.INFO, __file__, 1, "chat %s", (CHAT_ID,), None)
    assert RedactingFilter().filter(record) is True
    assert record.getMessage() == "chat <num>"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (f"bot{TOKEN}/getMe", "bot<token>/getMe"),
        ("chat 123456 and -1001234567890", "chat <num> and <num>"),
        ("ids=[111111,222222]", "ids=[<num>,<num>]"),
        ("event=search ms=12345", "event=search ms=12345"),  # short numbers are not ids
        ("version 1.2.3", "version 1.2.3"),
        ("2026-11-22 05:45:01", "2026-11-22 05:45:01"),
    ],
)
def test_redact(text: str, expected: str) -> None:
    assert redact(text) == expected


def test_an_id_at_the_end_of_a_sentence_is_masked() -> None:
    assert CHAT_ID not in redact(f"Message to chat {CHAT_ID}.")


def test_library_records_keep_plain_values_only(stream: io.StringIO) -> None:
    update = {"update_id": 5, "message": {"from": {"first_name": "Ksenofontiya"}, "text": "my secret plans"}}
    logging.getLogger("telegram.ext.Updater").critical(
        "Received data was *not* processed! Received data was: %r", update
    )
    logging.getLogger("tornado.general").error("%s from %s: %r", "refused", "proxy", ["Ksenofontiya"])
    written = stream.getvalue()
    assert "Ksenofontiya" not in written
    assert "my secret plans" not in written
    assert "Received data was: {'update_id': 5, 'message': '<data>'}" in written
    assert "refused from proxy: '<data>'" in written


def test_our_own_records_are_not_rewritten_that_way(stream: io.StringIO) -> None:
    logging.getLogger("tropa").info("event=x counts=%s", {"sent": 3})
    assert "event=x counts={'sent': 3}" in stream.getvalue()


KEY = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="
WEBHOOK_SECRET = "whs-Qm9vc3RlZC1zZWNyZXQtdmFsdWU"


def test_secret_values_given_are_masked_anywhere(restore_logging: None) -> None:
    out = io.StringIO()
    setup_logging("DEBUG", stream=out, secrets=[KEY, KEY.rstrip("="), WEBHOOK_SECRET, TOKEN.partition(":")[2]])
    log = logging.getLogger("tropa")
    log.info("key=%s", KEY)
    log.warning("webhook secret %s rejected", WEBHOOK_SECRET)
    log.error("url-encoded token bot123456789%%3A%s/getMe", TOKEN.partition(":")[2])
    try:
        raise RuntimeError(f"could not open with {KEY.rstrip('=')}")
    except RuntimeError:
        log.exception("event=failed")
    text = out.getvalue()
    for secret in (KEY, KEY.rstrip("="), WEBHOOK_SECRET, TOKEN.partition(":")[2]):
        assert secret not in text
    assert text.count("<secret>") == 4


def test_short_values_are_not_taken_for_secrets() -> None:
    assert redact("an ordinary sentence", secrets_pattern(["", "a", "ordinar"])) == "an ordinary sentence"
