"""/wipe end to end: everything deletable goes, nothing fails on the rest, the offer to forget, progress, bounds."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from bot.app import TropaApp, polling
from bot.handlers import wipe
from storage import deletions, prefs
from storage.deletions import DUE_STEP
from tests.e2e.conftest import on_emulator_time, press, say
from tests.emulator import BotApiEmulator, FakeUser


def live(emu: BotApiEmulator, user: FakeUser) -> list[int]:
    return [m.message_id for m in emu.messages(user) if not m.deleted]


async def wiped(emu: BotApiEmulator, user: FakeUser) -> int:
    """Send /wipe and wait until the offer to forget is shown (a wipe may pause: idle is not done); its id."""
    emu.send_message(user, "/wipe")
    await emu.wait_for(lambda: any("w:f" in m.callback_data() for m in emu.bot_messages(user)), timeout=20)
    await emu.wait_idle()
    return next(m.message_id for m in reversed(emu.messages(user)) if m.text == "/wipe")


def chunks_sent(emu: BotApiEmulator) -> list[list[int]]:
    return [list(r.params["message_ids"]) for r in emu.calls("deleteMessages")]


async def stored(app: TropaApp, user: FakeUser) -> tuple[str | None, int]:
    assert app.bot_data.db is not None
    assert app.bot_data.keys is not None
    lookup = app.bot_data.keys.lookup(user.id)
    return await prefs.get_lang(app.bot_data.db, lookup), await prefs.get_disappear(app.bot_data.db, lookup)


async def test_wipe_deletes_what_it_may_and_nothing_fails_on_the_rest(emulator: BotApiEmulator, tmp_path: Path) -> None:
    user = emulator.user(user_id=5560001, first_name="Tom", language_code="en")
    old = emulator.backfill(user, 30, age=49 * 3600)  # past Telegram's 48 hours: they stay
    recent = emulator.backfill(user, 250, age=3600)
    app = on_emulator_time(emulator, tmp_path / "wipe.sqlite3")
    async with polling(app, poll_timeout=1):
        chooser = await say(emulator, user, "/language")
        await press(emulator, user, chooser, "l:en")
        view = await say(emulator, user, "/settings")
        await press(emulator, user, view, "d:24")
        emulator.message(user, recent[5]).deleted = True  # one the person deleted already
        top = await wiped(emulator, user)

        offer = emulator.last_bot_message(user)
        assert offer.message_id == top + 1
        assert offer.shown.startswith("This chat is wiped.")
        assert [d for row in offer.buttons for _, d in row] == ["w:f", "w:k"]
        assert live(emulator, user) == [*old, offer.message_id]
        chunks = chunks_sent(emulator)
        assert len(chunks) == math.ceil(top / 100)
        assert all(1 <= len(c) <= 100 for c in chunks)
        assert chunks[0][0] == top  # newest first
        assert sorted(i for c in chunks for i in c) == list(range(1, top + 1))
        assert emulator.refused == []

        emulator.click(user, offer.message_id, "w:f")
        await emulator.wait_idle()
        answer = list(emulator.callback_answers.values())[-1]
        assert answer["show_alert"] is True
        assert answer["text"] == (
            "Deleted: your language choice, your disappearing-messages choice. Nothing about this chat is stored now."
        )
        assert live(emulator, user) == old  # the offer went too
        assert await stored(app, user) == (None, 0)
        assert app.bot_data.db is not None
        assert await deletions.count(app.bot_data.db) == 0
    assert emulator.refused == []


async def test_keep_deletes_the_offer_and_keeps_the_settings(emulator: BotApiEmulator, tmp_path: Path) -> None:
    user = emulator.user(user_id=5560002, first_name="Ира", language_code="ru")
    app = on_emulator_time(emulator, tmp_path / "keep.sqlite3")
    async with polling(app, poll_timeout=1):
        chooser = await say(emulator, user, "/language")
        await press(emulator, user, chooser, "l:ru")
        await wiped(emulator, user)
        offer = emulator.last_bot_message(user)
        assert offer.shown.startswith("Чат очищен.")
        emulator.click(user, offer.message_id, "w:k")
        await emulator.wait_idle()
        assert list(emulator.callback_answers.values())[-1]["text"] == "Настройки оставлены."
        assert live(emulator, user) == []
        assert await stored(app, user) == ("ru", 0)
    assert emulator.refused == []


async def test_an_offer_left_alone_deletes_itself(emulator: BotApiEmulator, tmp_path: Path) -> None:
    user = emulator.user(user_id=5560003, first_name="Tom", language_code="en")
    app = on_emulator_time(emulator, tmp_path / "alone.sqlite3")
    async with polling(app, poll_timeout=1):
        await wiped(emulator, user)
        assert len(live(emulator, user)) == 1
        emulator.advance(wipe.OFFER_SECONDS + DUE_STEP)
        assert app.bot_data.disappearing is not None
        await app.bot_data.disappearing.run(app.bot)
        assert live(emulator, user) == []
    assert emulator.refused == []


async def test_a_long_wipe_shows_progress(emulator: BotApiEmulator, tmp_path: Path) -> None:
    user = emulator.user(user_id=5560004, first_name="Tom", language_code="en")
    emulator.backfill(user, 600)
    emulator.delay("deleteMessages", 0.35)
    app = on_emulator_time(emulator, tmp_path / "long.sqlite3")
    async with polling(app, poll_timeout=1):
        await wiped(emulator, user)
        texts = [str(r.params["text"]) for r in emulator.calls("editMessageText")]
        assert any(t.startswith("Deleting the messages in this chat: ") and " of 601 checked" in t for t in texts)
        assert texts[-1].startswith("<b>This chat is wiped.</b>")
        assert len(live(emulator, user)) == 1
    assert emulator.refused == []


async def test_the_wipe_goes_back_a_bounded_number_of_ids(
    emulator: BotApiEmulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(wipe, "SPAN", 250)
    user = emulator.user(user_id=5560005, first_name="Tom", language_code="en")
    emulator.backfill(user, 400)
    app = on_emulator_time(emulator, tmp_path / "bound.sqlite3")
    async with polling(app, poll_timeout=1):
        top = await wiped(emulator, user)
        lowest = min(i for c in chunks_sent(emulator) for i in c)
        assert lowest == top - 250 + 1
        assert live(emulator, user) == [*range(1, lowest), top + 1]


async def test_telegram_asking_to_wait_is_waited_for(emulator: BotApiEmulator, tmp_path: Path) -> None:
    user = emulator.user(user_id=5560006, first_name="Tom", language_code="en")
    emulator.backfill(user, 150)
    emulator.fail("deleteMessages", code=429, retry_after=1, times=1)
    app = on_emulator_time(emulator, tmp_path / "wait.sqlite3")
    async with polling(app, poll_timeout=1):
        await wiped(emulator, user)
        assert emulator.last_bot_message(user).shown.startswith("This chat is wiped.")
        assert len(live(emulator, user)) == 1


async def test_a_wipe_telegram_never_answers_says_so(
    emulator: BotApiEmulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(wipe, "ATTEMPTS", 2)
    user = emulator.user(user_id=5560007, first_name="Tom", language_code="en")
    emulator.backfill(user, 120)
    emulator.fail("deleteMessages", code=500, times=2)  # the first call, twice
    app = on_emulator_time(emulator, tmp_path / "down.sqlite3")
    async with polling(app, poll_timeout=1):
        top = await wiped(emulator, user)
        offer = emulator.last_bot_message(user)
        assert offer.shown.startswith("Not quite finished: Telegram did not answer for a while")
        assert live(emulator, user) == [*range(top - 99, top + 1), offer.message_id]  # the newest hundred stayed


async def test_wipe_is_for_private_chats_only(emulator: BotApiEmulator, bot: TropaApp) -> None:
    user = emulator.user(user_id=5560008, first_name="Tom", language_code="en")
    emulator.send_message(user, "/wipe", chat_type="group", chat_id=-5560008)
    await emulator.wait_idle()
    assert emulator.calls("deleteMessages") == []
