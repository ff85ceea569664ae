"""Disappearing messages end to end: chosen in /settings, carried out when the emulator's clock says so, across
restarts, for digests too, and never stuck on what Telegram will not delete."""

from __future__ import annotations

import asyncio
from pathlib import Path

import aiosqlite

from bot.app import TropaApp, polling
from bot.disappearing import GIVE_UP_AFTER, Disappearing
from storage import deletions, prefs
from storage.deletions import DUE_STEP
from tests.e2e.conftest import answer_texts, on_emulator_time, press, say
from tests.e2e.digest_setup import add_subscribers
from tests.emulator import BotApiEmulator, FakeUser

HOUR, DAY = 3600, 86400


def gone(app: TropaApp) -> Disappearing:
    assert app.bot_data.disappearing is not None
    return app.bot_data.disappearing


def db_of(app: TropaApp) -> aiosqlite.Connection:
    assert app.bot_data.db is not None
    return app.bot_data.db


def live_ids(emu: BotApiEmulator, user: FakeUser) -> list[int]:
    return [m.message_id for m in emu.messages(user) if not m.deleted]


async def turn_on(emu: BotApiEmulator, user: FakeUser, hours: int) -> int:
    """Choose disappearing messages in /settings; the id of the /settings command (sent while it was off)."""
    view = await say(emu, user, "/settings")
    await press(emu, user, view, f"d:{hours}")
    return view.message_id - 1


async def test_messages_disappear_after_the_chosen_time(emulator: BotApiEmulator, tmp_path: Path) -> None:
    app = on_emulator_time(emulator, tmp_path / "d.sqlite3")
    async with polling(app, poll_timeout=1):
        user = emulator.user(user_id=5559001, first_name="Tom", language_code="en")
        view = await say(emulator, user, "/settings")
        assert view.shown.startswith("You have no digest subscription.")
        assert "Disappearing messages: off" in view.shown
        assert [d for row in view.buttons for _, d in row][-4:] == ["d:0", "d:1", "d:24", "m"]
        view = await press(emulator, user, view, "d:1")
        assert "Disappearing messages: after 1 hour" in view.shown
        assert answer_texts(emulator)[-1] == "From now on, messages in this chat disappear after 1 hour."
        command = view.message_id - 1
        menu = await say(emulator, user, "/start")
        await press(emulator, user, menu, "s:orgs:0")  # an edit: nothing new to delete
        await say(emulator, user, "повестка")
        owed = [i for i in live_ids(emulator, user) if i != command]
        assert len(owed) == 5  # the settings message, /start and the menu, the search and its results

        assert (await gone(app).run(app.bot)).rows == 0
        emulator.advance(HOUR - 60)
        assert (await gone(app).run(app.bot)).rows == 0
        assert live_ids(emulator, user) == [command, *owed]

        emulator.advance(60 + DUE_STEP)
        report = await gone(app).run(app.bot)
        assert report.messages == 5
        assert live_ids(emulator, user) == [command]  # sent while it was still off
        assert await deletions.count(db_of(app)) == 0
    assert emulator.refused == []


async def test_a_restart_in_between_changes_nothing(emulator: BotApiEmulator, tmp_path: Path) -> None:
    db_path = tmp_path / "restart.sqlite3"
    user = emulator.user(user_id=5559002, first_name="Ира", language_code="ru")
    async with polling(on_emulator_time(emulator, db_path), poll_timeout=1):
        view = await say(emulator, user, "/settings")
        view = await press(emulator, user, view, "d:24")
        assert "Исчезающие сообщения: через 24 часа" in view.shown
        await say(emulator, user, "/start")
    command = view.message_id - 1
    owed = [i for i in live_ids(emulator, user) if i != command]
    assert len(owed) == 3

    async with polling(on_emulator_time(emulator, db_path), poll_timeout=1) as app:
        await asyncio.sleep(1.5)  # the job's first run, soon after start-up: nothing is due yet
        assert (await gone(app).run(app.bot)).rows == 0
        assert gone(app).after(user.id) == DAY  # the choice came back from the database
        assert live_ids(emulator, user) == [command, *owed]

    emulator.advance(DAY + DUE_STEP)
    async with polling(on_emulator_time(emulator, db_path), poll_timeout=1) as app:
        # Nobody calls run(): the job does it on its own soon after start-up.
        await emulator.wait_for(lambda: live_ids(emulator, user) == [command], timeout=10)
        assert (await gone(app).run(app.bot)).rows == 0  # waits for the job's run to finish: nothing is left
        assert await deletions.count(db_of(app)) == 0
    assert emulator.refused == []


async def test_messages_past_48_hours_are_dropped_without_a_fuss(emulator: BotApiEmulator, tmp_path: Path) -> None:
    app = on_emulator_time(emulator, tmp_path / "late.sqlite3")
    async with polling(app, poll_timeout=1):
        user = emulator.user(user_id=5559003, first_name="Tom", language_code="en")
        await turn_on(emulator, user, 1)
        await say(emulator, user, "/help")
        before = live_ids(emulator, user)
        emulator.advance(49 * HOUR)  # the bot was down for two days
        report = await gone(app).run(app.bot)
        assert report.rows == 3  # deleteMessages skipped them and said True: nothing more can be done
        assert live_ids(emulator, user) == before
        assert await deletions.count(db_of(app)) == 0
        assert (await gone(app).run(app.bot)).rows == 0  # and nothing comes back
    assert emulator.refused == []


async def test_failures_are_tried_again_and_hopeless_rows_dropped(emulator: BotApiEmulator, tmp_path: Path) -> None:
    app = on_emulator_time(emulator, tmp_path / "fail.sqlite3")
    async with polling(app, poll_timeout=1):
        user = emulator.user(user_id=5559004, first_name="Tom", language_code="en")
        await turn_on(emulator, user, 1)  # one message owed: the settings message
        await gone(app).schedule(987654321012, [1, 2], HOUR)  # a chat Telegram no longer knows
        emulator.advance(HOUR + DUE_STEP)
        emulator.fail("deleteMessages", code=500, times=1, chat_id=user.id)
        first = await gone(app).run(app.bot)
        assert (first.rows, first.left) == (1, 1)  # the unknown chat is settled (refused for good), ours waits
        assert len(live_ids(emulator, user)) == 2
        second = await gone(app).run(app.bot)
        assert (second.rows, second.left) == (1, 0)
        assert len(live_ids(emulator, user)) == 1

        await say(emulator, user, "/help")
        emulator.advance(HOUR + DUE_STEP + GIVE_UP_AFTER + 1)
        emulator.fail("deleteMessages", code=502, times=10)
        late = await gone(app).run(app.bot)
        assert (late.rows, late.dropped, late.left) == (0, 2, 0)  # a day late: given up, not kept forever
        assert await deletions.count(db_of(app)) == 0
    assert [r.description for r in emulator.refused] == ["Bad Request: chat not found"]


async def test_turning_it_off_keeps_what_was_already_owed(emulator: BotApiEmulator, tmp_path: Path) -> None:
    app = on_emulator_time(emulator, tmp_path / "off.sqlite3")
    async with polling(app, poll_timeout=1):
        user = emulator.user(user_id=5559005, first_name="Tom", language_code="en")
        await turn_on(emulator, user, 1)
        owed = await say(emulator, user, "/about")
        view = await say(emulator, user, "/settings")
        view = await press(emulator, user, view, "d:0")
        assert "Disappearing messages: off" in view.shown
        assert (
            answer_texts(emulator)[-1] == "Disappearing messages are off. Messages already set to disappear still will."
        )
        kept = await say(emulator, user, "/help")
        assert app.bot_data.keys is not None
        assert await prefs.get_disappear(db_of(app), app.bot_data.keys.lookup(user.id)) == 0
        emulator.advance(HOUR + DUE_STEP)
        await gone(app).run(app.bot)
        assert emulator.message(user, owed.message_id).deleted
        assert not emulator.message(user, kept.message_id).deleted


async def test_pressing_the_current_choice_changes_nothing(emulator: BotApiEmulator, tmp_path: Path) -> None:
    app = on_emulator_time(emulator, tmp_path / "same.sqlite3")
    async with polling(app, poll_timeout=1):
        user = emulator.user(user_id=5559006, first_name="Tom", language_code="en")
        view = await say(emulator, user, "/settings")
        edits = view.edited
        view = await press(emulator, user, view, "d:0")
        assert answer_texts(emulator)[-1] == "That is already the setting."
        assert view.edited == edits
        assert await deletions.count(db_of(app)) == 0
    assert emulator.refused == []


async def test_digests_disappear_too(emulator: BotApiEmulator, tmp_path: Path) -> None:
    app = on_emulator_time(emulator, tmp_path / "digest.sqlite3")
    async with polling(app, poll_timeout=1):
        deliverer = app.bot_data.deliverer
        assert deliverer is not None
        await add_subscribers(db_of(app), deliverer.keys, emulator, [5559007, 5559008])
        await gone(app).choose(5559007, DAY)
        assert (await deliverer.run(force=True)).sent == 2
        digests = {chat: emulator.last_bot_message(chat).message_id for chat in (5559007, 5559008)}
        emulator.advance(DAY + DUE_STEP)
        assert (await gone(app).run(app.bot)).messages == 1
        assert emulator.message(5559007, digests[5559007]).deleted
        assert not emulator.message(5559008, digests[5559008]).deleted


async def test_forget_deletes_the_choice_and_what_was_owed_at_once(emulator: BotApiEmulator, tmp_path: Path) -> None:
    app = on_emulator_time(emulator, tmp_path / "forget.sqlite3")
    async with polling(app, poll_timeout=1):
        user = emulator.user(user_id=5559009, first_name="Tom", language_code="en")
        command = await turn_on(emulator, user, 24)
        await say(emulator, user, "/about")
        reply = await say(emulator, user, "/forget")
        # The settings message, /about and its answer, and /forget itself: all deleted now, not in a day.
        assert reply.shown == (
            "Deleted everything this bot held about this chat: your disappearing-messages choice, "
            "4 messages that were waiting to disappear (deleted now). Nothing else was stored."
        )
        assert live_ids(emulator, user) == [command, reply.message_id]
        assert gone(app).after(user.id) == 0
        assert await deletions.count(db_of(app)) == 0
        async with db_of(app).execute("SELECT COUNT(*) FROM prefs") as cursor:
            assert [tuple(row) for row in await cursor.fetchall()] == [(0,)]
        assert (await say(emulator, user, "/forget")).shown == "There was nothing stored about this chat."
    assert emulator.refused == []
