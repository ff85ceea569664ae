"""A scripted conversation by several distinctive users at DEBUG: no identifier reaches a log or the database file."""

from __future__ import annotations

import logging
import struct
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.app import build_application, polling
from bot.config import Settings
from bot.logs import setup_logging
from tests.e2e.conftest import TOKEN, all_data, make_settings, press, say
from tests.emulator import BotApiEmulator
from tests.helpers import on_disk

PEOPLE = [
    # (id, username, first name, last name, language)
    (7391046258, "zephyrine_quokka", "Ксенофонтия", "Пятиглазова", "ru"),
    (8012345671, "umbra_marmoset77", "Bartholomew", "Quillfeather", "en"),
    (6620198734, "velvet_axolotl", "Эвридика", "Шмельцер", "ru"),
]
TEXTS = ["квазипротон зеленеет", "marmalade heliograph", "/search чернослив-невидимка", "повесткой"]


class Capture(logging.Handler):
    """Every record of every logger, formatted, before any filter of ours."""

    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        text = record.getMessage()
        if record.exc_info:
            text += logging.Formatter().formatException(record.exc_info)
        self.lines.append(f"{record.name} {text}")


@pytest.fixture
def capture() -> Iterator[Capture]:
    setup_logging("DEBUG")
    handler = Capture()
    logging.getLogger().addHandler(handler)
    try:
        yield handler
    finally:
        logging.getLogger().removeHandler(handler)
        setup_logging("WARNING")


def identifiers() -> list[str]:
    found = []
    for ident, username, first, last, _ in PEOPLE:
        found += [str(ident), username, first, last]
    return found + [t.removeprefix("/search ") for t in TEXTS if t != "повесткой"] + [TOKEN, TOKEN.split(":")[1]]


def id_bytes(ident: int) -> list[bytes]:
    return [
        str(ident).encode(),
        struct.pack("<q", ident),
        struct.pack(">q", ident),
    ]


async def test_no_identifier_in_logs_or_database(emulator: BotApiEmulator, tmp_path: Path, capture: Capture) -> None:
    settings: Settings = make_settings(emulator, tmp_path / "privacy.sqlite3", log_level="DEBUG")
    app = build_application(settings)
    async with polling(app, poll_timeout=1):
        for ident, username, first, last, lang in PEOPLE:
            user = emulator.user(user_id=ident, first_name=first, last_name=last, username=username, language_code=lang)
            menu = await say(emulator, user, "/start")
            listed = await press(emulator, user, menu, "s:orgs:0")
            item = next(d for d in all_data(listed) if d.startswith("v:"))
            await press(emulator, user, listed, item)
            for text in TEXTS:
                await say(emulator, user, text)
            chooser = await say(emulator, user, "/language")
            await press(emulator, user, chooser, "l:en" if lang == "ru" else "l:ru")
            await press(emulator, user, chooser, "forged:data")
            emulator.inline_query(user, "повестка")
            await say(emulator, user, "/nosuchcommand")
            await emulator.wait_idle()
        await say(emulator, emulator.user(user_id=PEOPLE[0][0], first_name=PEOPLE[0][2]), "/forget")
    assert capture.lines, "the capture saw nothing: the test would prove nothing"
    logs = "\n".join(capture.lines)
    for needle in identifiers():
        assert needle not in logs, f"{needle!r} leaked into the logs"
    blob = on_disk(tmp_path / "privacy.sqlite3")
    assert len(blob) > 4096
    for ident, username, first, last, _ in PEOPLE:
        for needle_bytes in [*id_bytes(ident), username.encode(), first.encode(), last.encode()]:
            assert needle_bytes not in blob, f"{needle_bytes!r} is in the database file"
    for text in TEXTS[:2]:
        assert text.encode() not in blob
