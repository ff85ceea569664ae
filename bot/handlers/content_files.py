"""Admins move content in and out as files: /export sends a .zip; a .md or .zip sent as a document is imported.

An import is all or nothing, and follows the same rule as `tropa content import`: a file never overwrites an edit
made here since (it is reported as kept).
"""

from __future__ import annotations

import datetime as dt
import logging

from telegram import InputFile, Update
from telegram.ext import Application, CommandHandler, MessageHandler, filters

from bot.content_check import render_problems
from bot.context import Context
from bot.handlers.admin import admins, alias
from bot.handlers.common import reader_lang, respond, timed
from bot.render import esc
from storage import content, content_archive

log = logging.getLogger("tropa.files")
SHOWN_PROBLEMS = 30


@timed("admin_export")
async def export_command(update: Update, context: Context) -> None:
    """Send every live item as a zip in the content/ format."""
    chat = update.effective_chat
    if chat is None:
        return
    lang = await reader_lang(update, context)
    data = await content_archive.export_zip(context.db)
    count = len(await content_archive.published_keys(context.db))
    name = f"tropa-content-{dt.datetime.now(dt.UTC).date().isoformat()}.zip"
    caption = esc(context.texts.get(lang, "admin_export_caption", count=count))
    await chat.send_document(InputFile(data, filename=name), caption=caption)


@timed("admin_import_help")
async def import_command(update: Update, context: Context) -> None:
    """Say how to send the files."""
    await respond(update, context, esc(context.texts.get(await reader_lang(update, context), "admin_import_prompt")))


@timed("admin_import")
async def import_document(update: Update, context: Context) -> None:
    """Check the uploaded file completely, then import it, or change nothing and list every problem."""
    message = update.effective_message
    document = message.document if message else None
    if document is None:
        return
    lang = await reader_lang(update, context)
    t = context.texts
    limit = content_archive.MAX_UPLOAD_BYTES
    if document.file_size and document.file_size > limit:
        await respond(update, context, esc(t.get(lang, "admin_import_too_big", limit=limit // 1_000_000)))
        return
    file = await document.get_file()
    data = bytes(await file.download_as_bytearray())
    existing = await content_archive.published_keys(context.db)
    items, problems = content_archive.read_upload(document.file_name or "upload", data, existing)
    problems += render_problems(items, t)
    if problems:
        listed = "\n".join(str(p) for p in problems[:SHOWN_PROBLEMS])
        text = t.get(lang, "admin_import_refused", count=len(problems), problems=listed)
        await respond(update, context, esc(text))
        return
    # The file's origin decides how it reconciles with edits made here; the alias records who brought it in.
    report = await content.import_items(context.db, items, author=alias(update, context) or "admin")
    context.services.content_changed()
    log.info("event=imported added=%d updated=%d kept=%d", len(report.added), len(report.updated), len(report.kept))
    await respond(
        update,
        context,
        esc(
            t.get(
                lang,
                "admin_import_done",
                added=len(report.added),
                updated=len(report.updated),
                unchanged=len(report.unchanged),
                kept=len(report.kept),
            )
        ),
    )


def register(app: Application) -> None:  # type: ignore[type-arg]
    """/export, /import and documents from admins."""
    only = admins(app)
    app.add_handler(CommandHandler("export", export_command, filters=only))
    app.add_handler(CommandHandler("import", import_command, filters=only))
    app.add_handler(MessageHandler(only & filters.Document.ALL, import_document))
