"""/new and /edit from Telegram: guided fields, a formatted body kept, drafts, a lost race, forged buttons."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.app import TropaApp, build_application, polling
from storage import content, editorial
from tests.e2e.conftest import ADMIN_ID, all_data, make_settings, press, say
from tests.emulator import BotApiEmulator, FakeUser
from tests.helpers import variant


async def answer(emulator: BotApiEmulator, admin: FakeUser, text: str, entities: list[dict[str, object]] | None = None):  # type: ignore[no-untyped-def]
    emulator.send_message(admin, text, entities=entities)
    await emulator.wait_idle()
    return emulator.last_bot_message(admin.id)


async def test_new_item_field_by_field_keeps_formatting(emulator: BotApiEmulator, admin_bot: TropaApp) -> None:
    admin = emulator.user(user_id=ADMIN_ID, first_name="Boris", language_code="en")
    question = await say(emulator, admin, "/new tactics pickets-alone")
    assert question.shown == "Which language are you writing this version in?"
    prompt = await press(emulator, admin, question, "e:l:en")
    assert prompt.shown.startswith("title now")
    prompt = await answer(emulator, admin, "Solo pickets")
    assert prompt.shown.startswith("summary now")
    prompt = await answer(emulator, admin, "Standing alone with a sign is still prosecuted; know the risks first.")
    assert prompt.shown.startswith("body now")
    body = "Standing alone is bold and risky.\n\nRead the guide."
    entities = [
        {"type": "bold", "offset": 18, "length": 4},
        {"type": "text_link", "offset": 44, "length": 5, "url": "https://ovd.info/guide"},
    ]
    prompt = await answer(emulator, admin, body, entities)
    assert prompt.shown.startswith("sources now")
    prompt = await answer(emulator, admin, "not a source line")
    assert prompt.shown.startswith("each source is one line")
    prompt = await answer(emulator, admin, "OVD-Info guide | https://ovd.info/guide | 2025-01-10")
    assert prompt.shown.startswith("risk_inside now")
    prompt = await press(emulator, admin, prompt, "e:v:high")
    prompt = await press(emulator, admin, prompt, "e:v:low")
    prompt = await answer(emulator, admin, "KoAP 20.3.3, UK 207.3")
    editor = await press(emulator, admin, prompt, "e:v:inside")
    assert editor.shown.startswith("Editing pickets-alone (en, tactics)")
    saved = await press(emulator, admin, editor, "e:s")
    assert saved.shown.startswith("Saved as a draft: pickets-alone (en), revision 1.")
    db = admin_bot.bot_data.db
    assert db is not None
    found = await editorial.latest(db, "pickets-alone", "en")
    assert found is not None
    assert found[1].body == "Standing alone is **bold** and risky.\n\nRead the [guide](https://ovd.info/guide)."
    assert found[1].meta.laws == ["KoAP 20.3.3", "UK 207.3"]  # type: ignore[union-attr]
    assert await content.get_published(db, "tactics", "pickets-alone", "en") is None
    history = (await say(emulator, admin, "/history pickets-alone")).shown
    assert "anna" in history


async def test_edit_a_field_and_lose_a_race_without_losing_anything(
    emulator: BotApiEmulator, admin_bot: TropaApp
) -> None:
    admin = emulator.user(user_id=ADMIN_ID, first_name="Boris", language_code="en")
    db = admin_bot.bot_data.db
    assert db is not None
    editor = await say(emulator, admin, "/edit kovcheg en")
    assert "e:f:title" in all_data(editor)
    await press(emulator, admin, editor, "e:f:title")
    editor = await answer(emulator, admin, "Kovcheg (Ark), edited")
    found = await editorial.latest(db, "kovcheg", "en")
    assert found is not None
    await editorial.save_draft(db, variant(found[1], title="Someone else was faster"), "anna", found[0])
    clash = await press(emulator, admin, editor, "e:s")
    assert clash.shown.startswith("Not saved: someone saved revision 2")
    saved = await press(emulator, admin, clash, "e:o")
    assert saved.shown.startswith("Saved as a draft: kovcheg (en), revision 3.")
    titles = []
    for revision in (2, 3):
        rows = await db.execute_fetchall(
            "SELECT title FROM revisions JOIN items ON items.id = item_id WHERE slug='kovcheg' AND lang='en'"
            " AND revision = ?",
            (revision,),
        )
        titles += [row[0] for row in rows]
    assert titles == ["Someone else was faster", "Kovcheg (Ark), edited"]


async def test_bad_values_and_strangers(emulator: BotApiEmulator, admin_bot: TropaApp) -> None:
    admin = emulator.user(user_id=ADMIN_ID, first_name="Boris", language_code="en")
    editor = await say(emulator, admin, "/edit meduza")
    await press(emulator, admin, editor, "e:f:summary")
    assert (await answer(emulator, admin, "x" * 300)).shown.startswith("String should have at most 200 characters")
    await answer(emulator, admin, "/cancel")
    assert emulator.last_bot_message(admin.id).shown == "Left the editor; nothing was saved."
    for bad in ("/edit", "/edit NOPE", "/edit meduza de", "/new nowhere x-y", "/new orgs"):
        assert (await say(emulator, admin, bad)).shown.startswith("Usage:")
    assert (await say(emulator, admin, "/new orgs meduza")).shown == "meduza exists already: use /edit meduza."
    stranger = emulator.user(user_id=5559010, first_name="Eve", language_code="en")
    assert (await say(emulator, stranger, "/edit meduza")).shown.startswith("I don't know that command")
    listed = await say(emulator, stranger, "/orgs")
    await press(emulator, stranger, listed, "e:s")
    assert list(emulator.callback_answers.values())[-1]["text"].startswith("This button no longer works")


async def test_an_abandoned_editor_times_out(
    emulator: BotApiEmulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("bot.handlers.edit.TIMEOUT_S", 0.5)
    app = build_application(make_settings(emulator, tmp_path / "timeout.sqlite3", admin_ids={ADMIN_ID: "anna"}))
    async with polling(app, poll_timeout=1):
        admin = emulator.user(user_id=ADMIN_ID, first_name="Boris", language_code="en")
        editor = await say(emulator, admin, "/edit meduza")
        await press(emulator, admin, editor, "e:f:title")
        await emulator.wait_for(lambda: "closed" in emulator.last_bot_message(admin.id).shown, timeout=5)
        assert emulator.last_bot_message(admin.id).shown.startswith("The editor was left alone")
        db = app.bot_data.db
        assert db is not None
        assert await editorial.drafts(db) == []
