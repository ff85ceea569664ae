"""Admins from Telegram: drafts, preview, publish, history, rollback, unpublish, delete, stats.

Everyone else sees admin commands behave exactly like unknown commands, and their forged admin buttons change nothing.
"""

from __future__ import annotations

import io
import logging
import struct
import zipfile
from pathlib import Path

from bot.app import TropaApp
from bot.config import REPO_ROOT
from bot.logs import setup_logging
from storage import content_archive, editorial
from tests.e2e.conftest import ADMIN_ID, KEY, TOKEN, all_data, press, say
from tests.e2e.test_privacy import Capture
from tests.emulator import BotApiEmulator
from tests.helpers import on_disk, variant

ADMIN_COMMANDS = [
    "/admin",
    "/stats",
    "/drafts",
    "/preview ovd-info",
    "/publish ovd-info",
    "/unpublish ovd-info",
    "/delete ovd-info",
    "/history ovd-info",
    "/rollback ovd-info 1",
]


async def test_admin_commands_are_unknown_to_everyone_else(emulator: BotApiEmulator, admin_bot: TropaApp) -> None:
    stranger = emulator.user(user_id=5559001, first_name="Eve", language_code="en")
    for command in ADMIN_COMMANDS:
        assert (
            await say(emulator, stranger, command)
        ).shown == "I don't know that command. Send /help to see what I can do."
    listed = await say(emulator, stranger, "/orgs")
    await press(emulator, stranger, listed, "a:del:ovd-info")
    answers = [a.get("text") for a in emulator.callback_answers.values()]
    assert answers == ["This button no longer works. Send /start to begin again."]
    assert (await say(emulator, stranger, "/start orgs_ovd-info")).shown.startswith("OVD-Info")


async def test_draft_preview_publish_history_rollback(emulator: BotApiEmulator, admin_bot: TropaApp) -> None:
    db = admin_bot.bot_data.db
    assert db is not None
    admin = emulator.user(user_id=ADMIN_ID, first_name="Anna", username="anna_admin", language_code="en")
    assert (await say(emulator, admin, "/admin")).shown.startswith("Admin commands")
    assert (await say(emulator, admin, "/drafts")).shown.startswith("No drafts")

    found = await editorial.latest(db, "ovd-info", "en")
    assert found is not None
    revision, item = found
    await editorial.save_draft(db, variant(item, title="OVD-Info (updated)"), "anna", revision)
    assert "ovd-info (en, orgs): revision 2, anna" in (await say(emulator, admin, "/drafts")).shown
    reader = emulator.user(user_id=5559002, first_name="Tom", language_code="en")
    assert (await say(emulator, reader, "/start orgs_ovd-info")).shown.startswith("OVD-Info\n")

    await say(emulator, admin, "/preview ovd-info en")
    preview, note = emulator.bot_messages(admin.id)[-2:]
    assert preview.shown.startswith("OVD-Info (updated)")
    assert "s:orgs:" in " ".join(all_data(preview))
    assert note.shown == "Preview of ovd-info (en), revision 2, draft, not yet published."

    assert (await say(emulator, admin, "/publish ovd-info en")).shown == "Published ovd-info: en."
    assert (await say(emulator, reader, "/start orgs_ovd-info")).shown.startswith("OVD-Info (updated)")
    assert any(b == "OVD-Info (updated)" for row in (await say(emulator, reader, "OVD-Info")).buttons for b, _ in row)

    history = (await say(emulator, admin, "/history ovd-info")).shown
    assert "en #2" in history
    assert "anna ✅" in history
    assert (await say(emulator, admin, "/rollback ovd-info 1")).shown.startswith("Revision 1 exists in both")
    assert (await say(emulator, admin, "/rollback ovd-info 1 en")).shown.startswith("ovd-info (en) is live again")
    assert (await say(emulator, reader, "/start orgs_ovd-info")).shown.startswith("OVD-Info\n")


async def test_publish_checks_both_languages(emulator: BotApiEmulator, admin_bot: TropaApp) -> None:
    db = admin_bot.bot_data.db
    assert db is not None
    admin = emulator.user(user_id=ADMIN_ID, first_name="Anna", language_code="en")
    found = await editorial.latest(db, "kovcheg", "en")
    assert found is not None
    await editorial.save_draft(db, variant(found[1], slug="new-helpers"), "anna", None)
    reply = (await say(emulator, admin, "/publish new-helpers")).shown
    assert reply.startswith("Not published: new-helpers has no ru version yet.")
    assert (await say(emulator, admin, "/publish new-helpers en")).shown == "Published new-helpers: en."
    for bad in ("/publish", "/publish NOPE", "/publish a b c", "/publish kovcheg de", "/rollback kovcheg x"):
        assert (await say(emulator, admin, bad)).shown.startswith("Usage:")
    assert (await say(emulator, admin, "/publish no-such-item")).shown == "There is no item with the slug no-such-item."


async def test_unpublish_and_delete_with_confirmation(emulator: BotApiEmulator, admin_bot: TropaApp) -> None:
    admin = emulator.user(user_id=ADMIN_ID, first_name="Anna", language_code="en")
    reader = emulator.user(user_id=5559003, first_name="Tom", language_code="en")
    assert (await say(emulator, admin, "/unpublish vesna")).shown.startswith("vesna is off the air (2 languages)")
    assert (await say(emulator, reader, "/start orgs_vesna")).shown.startswith("Tropa")
    assert (await say(emulator, admin, "/unpublish vesna")).shown == "vesna is not live."
    question = await say(emulator, admin, "/delete vesna")
    assert all_data(question) == ["a:del:vesna", "a:keep:vesna"]
    await press(emulator, admin, question, "a:keep:vesna")
    assert emulator.last_bot_message(admin.id).shown == "Kept vesna; nothing was deleted."
    await press(emulator, admin, question, "a:del:vesna")
    assert emulator.last_bot_message(admin.id).shown == "Deleted vesna and its history."
    assert (await say(emulator, admin, "/history vesna")).shown == "There is no item with the slug vesna."


async def test_stats_and_no_admin_id_anywhere(emulator: BotApiEmulator, admin_bot: TropaApp, tmp_path: Path) -> None:
    setup_logging("DEBUG")
    capture = Capture()
    logging.getLogger().addHandler(capture)
    try:
        admin = emulator.user(user_id=ADMIN_ID, first_name="Anna", username="anna_admin", language_code="ru")
        reader = emulator.user(user_id=5559004, first_name="Tom", language_code="en")
        await say(emulator, reader, "/orgs")
        flow = await say(emulator, reader, "/subscribe")
        await press(emulator, reader, flow, "b:s:15:d:7")
        db = admin_bot.bot_data.db
        assert db is not None
        found = await editorial.latest(db, "meduza", "ru")
        assert found is not None
        await editorial.save_draft(db, variant(found[1], body="Новый текст."), "anna", found[0])
        await say(emulator, admin, "/publish meduza ru")
        await say(emulator, admin, "/history meduza")
        editor = await say(emulator, admin, "/edit meduza ru")
        await press(emulator, admin, editor, "e:f:title")
        editor = await say(emulator, admin, "Медуза (правка)")
        await press(emulator, admin, editor, "e:s")
        await say(emulator, admin, "/announce")
        question = await say(emulator, admin, "Важное объявление")
        await press(emulator, admin, question, "o:go")
        await emulator.wait_for(lambda: "завершена" in emulator.message(admin.id, question.message_id).shown)
        await say(emulator, admin, "/export")
        stats = await say(emulator, admin, "/stats")
    finally:
        logging.getLogger().removeHandler(capture)
        setup_logging("WARNING")
    assert stats.shown.startswith("Статистика (только числа)\nПодписчиков: 1")
    assert "• Протест: 1" in stats.shown
    logs = "\n".join(capture.lines)
    blob = on_disk(tmp_path / "admin.sqlite3")
    for needle in (str(ADMIN_ID), "anna_admin", "Anna"):
        assert needle not in logs
        assert needle.encode() not in blob
    assert struct.pack("<q", ADMIN_ID) not in blob
    assert struct.pack(">q", ADMIN_ID) not in blob
    assert b"anna" in blob  # the alias is what gets recorded


async def test_export_then_import_gives_the_same_database(emulator: BotApiEmulator, admin_bot: TropaApp) -> None:
    admin = emulator.user(user_id=ADMIN_ID, first_name="Anna", language_code="en")
    await say(emulator, admin, "/export")
    sent = emulator.last_bot_message(admin.id)
    assert sent.document is not None
    assert sent.shown.startswith("All live content in the content/ file format: 118 files")
    archive = emulator.file_bytes(sent.document["file_id"])
    with zipfile.ZipFile(io.BytesIO(archive)) as opened:
        assert len(opened.namelist()) == 118
    db = admin_bot.bot_data.db
    assert db is not None
    before = await content_archive.published_items(db)

    emulator.send_document(admin, archive, "tropa-content.zip")
    await emulator.wait_idle()
    assert emulator.last_bot_message(admin.id).shown.startswith("Imported: 0 added, 0 updated, 118 unchanged, 0 kept")
    assert await content_archive.published_items(db) == before
    assert await content_archive.export_zip(db) == archive


async def test_one_bad_file_and_nothing_changes(emulator: BotApiEmulator, admin_bot: TropaApp) -> None:
    admin = emulator.user(user_id=ADMIN_ID, first_name="Anna", language_code="en")
    db = admin_bot.bot_data.db
    assert db is not None
    before = await content_archive.export_zip(db)
    good = (REPO_ROOT / "content" / "orgs" / "meduza" / "en.md").read_text(encoding="utf-8")
    changed = good.replace("title:", "title: Changed\ntitle_old:", 1)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("content/orgs/meduza/en.md", good.replace("Meduza", "Meduza (new)", 1))
        archive.writestr("content/orgs/meduza/ru.md", changed)
        archive.writestr("../../etc/passwd", "x")
    emulator.send_document(admin, buffer.getvalue(), "broken.zip")
    await emulator.wait_idle()
    reply = emulator.last_bot_message(admin.id).shown
    assert reply.startswith("Nothing imported: ")
    assert "../../etc/passwd" in reply
    assert await content_archive.export_zip(db) == before

    emulator.send_document(admin, b"\xff\xfe not utf-8", "orgs__meduza__en.md")
    await emulator.wait_idle()
    assert "UTF-8" in emulator.last_bot_message(admin.id).shown
    assert await content_archive.export_zip(db) == before


async def test_documents_from_others_are_not_imports(emulator: BotApiEmulator, admin_bot: TropaApp) -> None:
    stranger = emulator.user(user_id=5559005, first_name="Eve", language_code="en")
    emulator.send_document(stranger, b"---\ntitle: x\n---\nx", "orgs__meduza__en.md")
    await emulator.wait_idle()
    assert emulator.last_bot_message(stranger.id).shown.startswith("I understand text only")
    assert (await say(emulator, stranger, "/export")).shown.startswith("I don't know that command")


async def test_an_import_records_who_brought_it_in(emulator: BotApiEmulator, admin_bot: TropaApp) -> None:
    admin = emulator.user(user_id=ADMIN_ID, first_name="Anna", language_code="en")
    text = (REPO_ROOT / "content" / "orgs" / "chronicles" / "en.md").read_text(encoding="utf-8")
    emulator.send_document(
        admin, text.replace("\n---\n", "\n---\nA new first paragraph.\n\n", 1).encode(), "orgs__chronicles__en.md"
    )
    await emulator.wait_idle()
    assert emulator.last_bot_message(admin.id).shown.startswith("Imported: 0 added, 1 updated")
    history = (await say(emulator, admin, "/history chronicles")).shown
    assert "en #2" in history
    assert "anna ✅" in history


async def test_publish_refuses_a_related_slug_that_does_not_exist(
    emulator: BotApiEmulator, admin_bot: TropaApp
) -> None:
    db = admin_bot.bot_data.db
    assert db is not None
    admin = emulator.user(user_id=ADMIN_ID, first_name="Anna", language_code="en")
    found = await editorial.latest(db, "tvor", "en")
    assert found is not None
    await editorial.save_draft(db, variant(found[1], related=["no-such-thing"]), "anna", found[0])
    reply = (await say(emulator, admin, "/publish tvor en")).shown
    assert reply.startswith("Not published: fix these first.")
    assert "no published item has the slug 'no-such-thing'" in reply


async def test_stats_show_counts_and_no_secret(emulator: BotApiEmulator, admin_bot: TropaApp) -> None:
    admin = emulator.user(user_id=ADMIN_ID, first_name="Anna", language_code="en")
    await say(emulator, admin, "/start")
    stats = await say(emulator, admin, "/stats")
    assert stats.shown.startswith("Stats (counts only)")
    for secret in (TOKEN, TOKEN.partition(":")[2], KEY, KEY.rstrip("=")):
        assert secret not in (stats.html or "")
