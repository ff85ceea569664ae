"""Privacy scans for disappearing messages, /wipe and the flood limit: at DEBUG, no identifier reaches a log, the
database file or its WAL, while deletions are pending and after they are done; no secret reaches logs or /stats."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.app import TropaApp, polling
from bot.logs import setup_logging
from storage.deletions import DUE_STEP
from tests.e2e.conftest import ADMIN_ID, KEY, TOKEN, on_emulator_time, press, say
from tests.e2e.test_privacy import Capture, id_forms
from tests.emulator import BotApiEmulator, FakeUser
from tests.helpers import on_disk

PEOPLE = [
    # (id, username, first name, last name, language)
    (7391046259, "quokka_zephyrine", "Ксенофонтия", "Пятиглазова", "ru"),
    (8012345672, "marmoset_umbra78", "Bartholomew", "Quillfeather", "en"),
    (6620198735, "axolotl_velvet", "Эвридика", "Шмельцер", "ru"),
]
TYPED = "квазипротон зеленеет"


@pytest.fixture
def capture() -> Iterator[Capture]:
    setup_logging("DEBUG", secrets=[TOKEN, KEY])
    handler = Capture()
    logging.getLogger().addHandler(handler)
    try:
        yield handler
    finally:
        logging.getLogger().removeHandler(handler)
        setup_logging("WARNING")


def assert_nothing_identifying(blob: bytes, logs: str) -> None:
    for ident, username, first, last, _ in PEOPLE:
        for needle in (str(ident), username, first, last):
            assert needle not in logs, f"{needle!r} is in the logs"
        for needle_bytes in [*id_forms(ident), username.encode(), first.encode(), last.encode()]:
            assert needle_bytes not in blob, f"{needle_bytes!r} is in the database file or its WAL"
    assert TYPED.encode() not in blob
    assert TYPED not in logs
    for secret in (TOKEN, TOKEN.partition(":")[2], KEY):
        assert secret not in logs


async def choose(emu: BotApiEmulator, user: FakeUser, hours: int) -> None:
    view = await say(emu, user, "/settings")
    await press(emu, user, view, f"d:{hours}")


async def wipe_and(emu: BotApiEmulator, user: FakeUser, step: str) -> None:
    emu.send_message(user, "/wipe")
    await emu.wait_for(lambda: any("w:f" in m.callback_data() for m in emu.bot_messages(user)), timeout=20)
    offer = emu.last_bot_message(user)
    emu.click(user, offer.message_id, f"w:{step}")
    await emu.wait_idle()


async def test_disappearing_wipe_and_flood_leave_no_identifier(
    emulator: BotApiEmulator, tmp_path: Path, capture: Capture
) -> None:
    db_path = tmp_path / "safety.sqlite3"
    app: TropaApp = on_emulator_time(emulator, db_path, flood_burst=6, flood_rate=0.001)
    async with polling(app, poll_timeout=1):
        users = [
            emulator.user(user_id=i, first_name=f, last_name=la, username=u, language_code=lang)
            for i, u, f, la, lang in PEOPLE
        ]
        anna, boris, vera = users
        await choose(emulator, anna, 1)
        await choose(emulator, boris, 24)
        for user in users:
            await say(emulator, user, TYPED)
        await wipe_and(emulator, anna, "f")
        await wipe_and(emulator, vera, "k")
        for n in range(8):  # Boris floods: a notice, then silence
            emulator.send_message(boris, f"{TYPED} {n}")
        await emulator.wait_idle()
        assert app.bot_data.usage["flood_notice"] == 1

        # Deletions are pending now (Boris's, Vera's offer): look at the disk as a seizure would find it.
        assert app.bot_data.db is not None
        await app.bot_data.db.commit()
        assert_nothing_identifying(on_disk(db_path), "\n".join(capture.lines))

        emulator.advance(24 * 3600 + DUE_STEP)
        assert app.bot_data.disappearing is not None
        assert (await app.bot_data.disappearing.run(app.bot)).messages > 0
        await choose(emulator, vera, 1)
        await say(emulator, vera, TYPED)
        await say(emulator, vera, "/forget")  # deletes what Vera is owed at once
    assert capture.lines, "the capture saw nothing: the test would prove nothing"
    blob = on_disk(db_path)
    assert len(blob) > 4096
    assert_nothing_identifying(blob, "\n".join(capture.lines))


async def test_stats_show_counts_and_no_secret(emulator: BotApiEmulator, admin_bot: TropaApp) -> None:
    admin = emulator.user(user_id=ADMIN_ID, first_name="Anna", language_code="en")
    await say(emulator, admin, "/start")
    stats = await say(emulator, admin, "/stats")
    assert stats.shown.startswith("Stats (counts only)")
    for secret in (TOKEN, TOKEN.partition(":")[2], KEY, KEY.rstrip("=")):
        assert secret not in (stats.html or "")
