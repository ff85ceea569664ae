"""Admins keep content current: /drafts, /preview, /publish, /unpublish, /delete, /history, /rollback.

Publishing runs the same checks as `tropa content check`; every change records the admin's alias, never an id.
"""

from __future__ import annotations

import logging

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import Application, CallbackQueryHandler, CommandHandler

from bot import keyboards
from bot.content_check import render_problems
from bot.context import Context
from bot.handlers.admin import admins, alias
from bot.handlers.common import answer_query, reader_lang, respond, timed
from bot.handlers.fallback import unknown_button
from bot.i18n import LANGS
from bot.render import esc
from storage import content, editorial
from storage.content_files import SLUG_RE

log = logging.getLogger("tropa.editorial")


async def say(update: Update, context: Context, key: str, **values: object) -> None:
    """Reply with one locale string, every value escaped."""
    lang = await reader_lang(update, context)
    safe = {name: esc(str(value)) for name, value in values.items()}
    await respond(update, context, context.texts.get(lang, key, **safe))


async def parse(update: Update, context: Context, usage: str, *, extra: int = 0) -> tuple[str, list[str]] | None:
    """`slug` and at most `extra` more arguments from the command, or a usage line and None."""
    args = context.args or []
    if not args or not SLUG_RE.match(args[0]) or len(args) > 1 + extra:
        await say(update, context, "admin_usage", usage=usage)
        return None
    return args[0], args[1:]


@timed("admin_drafts")
async def drafts_command(update: Update, context: Context) -> None:
    """Items whose newest revision is not live."""
    lang = await reader_lang(update, context)
    found = await editorial.drafts(context.db)
    if not found:
        await say(update, context, "admin_drafts_none")
        return
    lines = [context.texts.get(lang, "admin_drafts_header")]
    lines += [esc(f"• {d.slug} ({d.lang}, {d.section}): revision {d.revision}, {d.author}") for d in found]
    await respond(update, context, "\n".join(lines))


@timed("admin_preview")
async def preview_command(update: Update, context: Context) -> None:
    """Exactly what readers will see of the newest revision, then which revision it was."""
    parsed = await parse(update, context, "/preview slug [ru|en]", extra=1)
    if parsed is None:
        return
    slug, rest = parsed
    lang = rest[0] if rest and rest[0] in LANGS else await reader_lang(update, context)
    found = await editorial.latest(context.db, slug, lang)
    if found is None:
        await say(
            update,
            context,
            "admin_no_item" if not await exists(context, slug) else "admin_no_lang",
            slug=slug,
            language=lang,
        )
        return
    revision, item = found
    live = await content.get_published(context.db, item.section, slug, lang)
    view = await context.views.render(item)
    await respond(update, context, view.html, view.markup)
    state = "admin_state_live" if live == item else "admin_state_draft"
    admin_lang = await reader_lang(update, context)
    await say(
        update,
        context,
        "admin_preview_note",
        slug=slug,
        language=lang,
        revision=revision,
        state=context.texts.get(admin_lang, state),
    )


@timed("admin_publish")
async def publish_command(update: Update, context: Context) -> None:
    """Check, then make the newest revision live: both languages unless one is named."""
    parsed = await parse(update, context, "/publish slug [ru|en]", extra=1)
    if parsed is None:
        return
    slug, rest = parsed
    if rest and rest[0] not in LANGS:
        await say(update, context, "admin_usage", usage="/publish slug [ru|en]")
        return
    langs = (rest[0],) if rest else LANGS
    newest = {lang: await editorial.latest(context.db, slug, lang) for lang in langs}
    if all(found is None for found in newest.values()):
        await say(update, context, "admin_no_item", slug=slug)
        return
    missing = [lang for lang, found in newest.items() if found is None]
    if missing:
        other = next(lang for lang in langs if lang not in missing)
        await say(update, context, "admin_need_both", slug=slug, language=missing[0], other=other)
        return
    items = [found[1] for found in newest.values() if found is not None]
    problems = [str(p) for p in render_problems(items, context.texts)]
    for item in items:
        known = await content.titles(context.db, item.meta.related, item.lang)
        problems += [
            f"{item.lang}: related: no published item has the slug {s!r}" for s in item.meta.related if s not in known
        ]
    if problems:
        await say(update, context, "admin_publish_refused", problems="\n".join(problems))
        return
    done = await editorial.publish(context.db, slug, langs)
    context.services.content_changed()
    log.info("event=published langs=%d", len(done))
    await say(update, context, "admin_published", slug=slug, langs=", ".join(done))


@timed("admin_unpublish")
async def unpublish_command(update: Update, context: Context) -> None:
    """Take an item off the air; its history stays."""
    slug = await known_slug(update, context, "/unpublish slug")
    if slug is None:
        return
    count = await editorial.unpublish(context.db, slug)
    context.services.content_changed()
    await say(update, context, "admin_unpublished" if count else "admin_not_live", slug=slug, count=count)


@timed("admin_delete")
async def delete_command(update: Update, context: Context) -> None:
    """Ask before deleting an item with its history."""
    slug = await known_slug(update, context, "/delete slug")
    if slug is None:
        return
    lang = await reader_lang(update, context)
    t = context.texts
    markup = InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(t.get(lang, "admin_delete_yes"), callback_data=f"a:del:{slug}"),
                InlineKeyboardButton(t.get(lang, "admin_delete_no"), callback_data=f"a:keep:{slug}"),
            ]
        ]
    )
    await respond(update, context, esc(t.get(lang, "admin_confirm_delete", slug=slug)), markup)


@timed("admin_button")
async def admin_button(update: Update, context: Context) -> None:
    """The delete confirmation; for anyone but an admin it is a button like any unknown one."""
    if alias(update, context) is None:
        await unknown_button(update, context)
        return
    parsed = keyboards.parse_callback(update.callback_query.data if update.callback_query else None)
    assert parsed is not None
    await answer_query(update)
    if parsed.step == "del":
        if await editorial.delete(context.db, parsed.slug):
            context.services.content_changed()
            await say(update, context, "admin_deleted", slug=parsed.slug)
        else:
            await say(update, context, "admin_no_item", slug=parsed.slug)
    else:
        await say(update, context, "admin_kept", slug=parsed.slug)


@timed("admin_history")
async def history_command(update: Update, context: Context) -> None:
    """Revisions of both languages with dates, who made them and which is live."""
    parsed = await parse(update, context, "/history slug")
    if parsed is None:
        return
    slug = parsed[0]
    lines = await editorial.history(context.db, slug)
    if not lines:
        await say(update, context, "admin_no_item", slug=slug)
        return
    lang = await reader_lang(update, context)
    text = [context.texts.get(lang, "admin_history_header", slug=esc(slug))]
    text += [
        esc(f"• {r.lang} #{r.revision} {r.created_at.replace('T', ' ')[:16]} {r.author}") + (" ✅" if r.live else "")
        for r in lines[:60]
    ]
    await respond(update, context, "\n".join(text))


@timed("admin_rollback")
async def rollback_command(update: Update, context: Context) -> None:
    """Bring an old revision back as a new live one."""
    usage = "/rollback slug revision [ru|en]"
    parsed = await parse(update, context, usage, extra=2)
    if parsed is None:
        return
    slug, rest = parsed
    if not rest or not rest[0].isdigit() or (len(rest) == 2 and rest[1] not in LANGS):
        await say(update, context, "admin_usage", usage=usage)
        return
    revision = int(rest[0])
    lines = await editorial.history(context.db, slug)
    langs = sorted({r.lang for r in lines if r.revision == revision})
    if len(rest) == 2:
        langs = [rest[1]] if rest[1] in langs else []
    if not langs:
        await say(update, context, "admin_no_revision" if lines else "admin_no_item", slug=slug, revision=revision)
        return
    if len(langs) > 1:
        await say(update, context, "admin_rollback_which", slug=slug, revision=revision)
        return
    who = alias(update, context) or "admin"
    new = await editorial.rollback(context.db, slug, langs[0], revision, who)
    context.services.content_changed()
    await say(update, context, "admin_rollback_done", slug=slug, language=langs[0], old=revision, new=new)


async def known_slug(update: Update, context: Context, usage: str) -> str | None:
    """The one slug the command names, if an item has it; otherwise say what is wrong and return None."""
    parsed = await parse(update, context, usage)
    if parsed is None:
        return None
    if not await exists(context, parsed[0]):
        await say(update, context, "admin_no_item", slug=parsed[0])
        return None
    return parsed[0]


async def exists(context: Context, slug: str) -> bool:
    """Whether any language of the item exists, published or not."""
    return bool(await editorial.history(context.db, slug))


def register(app: Application) -> None:  # type: ignore[type-arg]
    """The editorial commands, for admins only, and the delete confirmation."""
    only = admins(app)
    for name, callback in (
        ("drafts", drafts_command),
        ("preview", preview_command),
        ("publish", publish_command),
        ("unpublish", unpublish_command),
        ("delete", delete_command),
        ("history", history_command),
        ("rollback", rollback_command),
    ):
        app.add_handler(CommandHandler(name, callback, filters=only))
    app.add_handler(CallbackQueryHandler(admin_button, pattern=keyboards.kind_is("admin")))
