"""Admins write content from Telegram: /new <section> <slug> walks through every field; /edit <slug> [ru|en]
changes any field. The body can be sent as an ordinary formatted message: bold, italic and links are kept.

The result is always a draft (see /drafts, /preview, /publish). A session lives in memory only and times out.
"""

from __future__ import annotations

import datetime as dt
import warnings
from dataclasses import dataclass, field
from typing import Annotated, Any

from pydantic import TypeAdapter, ValidationError
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import (
    Application,
    BaseHandler,
    CallbackQueryHandler,
    CommandHandler,
    ConversationHandler,
    MessageHandler,
    filters,
)
from telegram.warnings import PTBUserWarning

from bot import keyboards
from bot.content_check import render_problems
from bot.context import Context
from bot.entities import from_message
from bot.handlers.admin import admins, alias
from bot.handlers.common import answer_query, reader_lang, respond, timed
from bot.handlers.fallback import unknown_button
from bot.i18n import LANGS
from bot.render import esc
from storage import editorial
from storage.content_files import MODELS, SECTIONS, SLUG_RE, ContentItem

EDITING, VALUE = range(2)
TIMEOUT_S = 15 * 60
COMMON = ["title", "summary", "body", "sources", "tags", "related", "reviewed"]
OWN = {
    "tactics": ["risk_inside", "risk_abroad", "laws", "where"],
    "conscription": ["applies_to", "laws"],
    "orgs": ["helps_with", "contacts", "status_in_russia", "countries"],
}
GUIDED = {"title", "summary", "body", "sources"}  # /new asks these, then every field of the section
ENUMS = {
    "risk_inside": ("low", "medium", "high"),
    "risk_abroad": ("low", "medium", "high"),
    "where": ("inside", "abroad", "both"),
}
LISTS = {"tags", "related", "laws", "countries", "applies_to", "helps_with"}


@dataclass
class Session:
    """One admin's edit in progress: what they started from and what they changed."""

    section: str
    slug: str
    lang: str
    base: int | None
    values: dict[str, Any]
    body: str
    asking: list[str] = field(default_factory=list)
    field: str | None = None


def fields_of(section: str) -> list[str]:
    return COMMON + OWN[section]


def parse_value(name: str, text: str) -> Any:
    """What an admin typed, as the front matter value it stands for."""
    text = text.strip()
    if name in LISTS:
        return [part.strip() for part in text.split(",") if part.strip()]
    if name == "sources":
        sources = []
        for line in filter(None, (x.strip() for x in text.splitlines())):
            parts = [p.strip() for p in line.split("|")]
            if len(parts) != 3:
                raise ValueError("each source is one line: title | https://address | YYYY-MM-DD")
            sources.append({"title": parts[0], "url": parts[1], "date": parts[2]})
        return sources
    if name == "contacts":
        contacts = []
        for line in filter(None, (x.strip() for x in text.splitlines())):
            kind, _, value = line.partition(" ")
            contacts.append({"kind": kind.lower(), "value": value.strip()})
        return contacts
    if name == "status_in_russia":
        label, _, since = text.partition(" ")
        return {"label": label.lower(), "since": since.strip() or None}
    return text


def check_field(section: str, name: str, value: Any) -> str | None:
    """Why the value is not acceptable for this field, in one sentence, or None."""
    info = MODELS[section].model_fields[name]
    try:
        adapter: TypeAdapter[Any] = TypeAdapter(Annotated[info.annotation, info])  # type: ignore[arg-type]
        adapter.validate_python(value)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        return f"{where + ': ' if where else ''}{str(first['msg']).removeprefix('Value error, ')}"
    return None


def shown_value(session: Session, name: str) -> str:
    """A field's current value, short, for the editor's overview."""
    value = session.body if name == "body" else session.values.get(name)
    if value in (None, [], ""):
        return "—"
    text = str(
        value
        if not isinstance(value, list)
        else ", ".join(str(v.get("title", v)) if isinstance(v, dict) else str(v) for v in value)
    )
    return text if len(text) <= 60 else text[:57] + "…"


def editor_markup(session: Session, texts: Any, lang: str) -> InlineKeyboardMarkup:
    names = fields_of(session.section)
    rows = [
        [InlineKeyboardButton(name, callback_data=f"e:f:{name}") for name in names[i : i + 3]]
        for i in range(0, len(names), 3)
    ]
    rows.append(
        [
            InlineKeyboardButton(texts.get(lang, "edit_save"), callback_data="e:s"),
            InlineKeyboardButton(texts.get(lang, "edit_cancel"), callback_data="e:x"),
        ]
    )
    return InlineKeyboardMarkup(rows)


async def show_editor(update: Update, context: Context, session: Session) -> int:
    lang = await reader_lang(update, context)
    lines = [
        context.texts.get(lang, "edit_header", slug=esc(session.slug), language=session.lang, section=session.section)
    ]
    lines += [f"<b>{esc(name)}</b>: {esc(shown_value(session, name))}" for name in fields_of(session.section)]
    await respond(update, context, "\n".join(lines), editor_markup(session, context.texts, lang))
    return EDITING


async def ask(update: Update, context: Context, session: Session, name: str) -> int:
    """Prompt for one field: buttons for a fixed choice, a format hint for the rest."""
    session.field = name
    lang = await reader_lang(update, context)
    hint = context.texts.get(lang, f"edit_hint_{name}") if name not in ENUMS else ""
    text = context.texts.get(lang, "edit_ask", field=esc(name), current=esc(shown_value(session, name)), hint=hint)
    markup = None
    if name in ENUMS:
        markup = InlineKeyboardMarkup([[InlineKeyboardButton(v, callback_data=f"e:v:{v}") for v in ENUMS[name]]])
    await respond(update, context, text, markup)
    return VALUE


def session_of(context: Context) -> Session | None:
    found = context.user_data.get("edit") if context.user_data is not None else None
    return found if isinstance(found, Session) else None


async def usage(update: Update, context: Context, text: str) -> int:
    lang = await reader_lang(update, context)
    await respond(update, context, esc(context.texts.get(lang, "admin_usage", usage=text)))
    return ConversationHandler.END


@timed("admin_edit")
async def edit_command(update: Update, context: Context) -> int:
    """Open the newest revision of one language of an item in the editor."""
    args = context.args or []
    if not args or not SLUG_RE.match(args[0]) or len(args) > 2 or (len(args) == 2 and args[1] not in LANGS):
        return await usage(update, context, "/edit slug [ru|en]")
    lang = args[1] if len(args) == 2 else await reader_lang(update, context)
    found = await editorial.latest(context.db, args[0], lang)
    if found is None:
        await respond(
            update, context, esc(context.texts.get(await reader_lang(update, context), "admin_no_item", slug=args[0]))
        )
        return ConversationHandler.END
    revision, item = found
    session = Session(item.section, item.slug, lang, revision, item.meta.model_dump(mode="json"), item.body)
    assert context.user_data is not None
    context.user_data["edit"] = session
    return await show_editor(update, context, session)


@timed("admin_new")
async def new_command(update: Update, context: Context) -> int:
    """Start a new item: choose its language, then answer for each field."""
    args = context.args or []
    if len(args) != 2 or args[0] not in SECTIONS or not SLUG_RE.match(args[1]):
        return await usage(update, context, "/new tactics|conscription|orgs slug")
    lang = await reader_lang(update, context)
    if await editorial.history(context.db, args[1]):
        await respond(update, context, esc(context.texts.get(lang, "edit_exists", slug=args[1])))
        return ConversationHandler.END
    assert context.user_data is not None
    context.user_data["edit"] = Session(
        args[0],
        args[1],
        "",
        None,
        {
            "tags": [],
            "related": [],
            "reviewed": dt.datetime.now(dt.UTC).date().isoformat(),
        },
        "",
    )
    markup = InlineKeyboardMarkup([[InlineKeyboardButton(code, callback_data=f"e:l:{code}") for code in LANGS]])
    await respond(update, context, esc(context.texts.get(lang, "edit_which_language")), markup)
    return EDITING


@timed("admin_edit_button")
async def editor_button(update: Update, context: Context) -> int | None:
    """A button of the editor: pick a field, pick a value, save, cancel."""
    session = session_of(context)
    parsed = keyboards.parse_callback(update.callback_query.data if update.callback_query else None)
    if session is None or parsed is None or alias(update, context) is None:
        await unknown_button(update, context)
        return None
    await answer_query(update)
    arg = parsed.args[0] if parsed.args else ""
    if parsed.step == "l" and arg in LANGS and not session.lang:
        session.lang = arg
        session.asking = [n for n in fields_of(session.section) if n in GUIDED or n in OWN[session.section]]
        return await ask(update, context, session, session.asking.pop(0))
    if parsed.step == "f" and arg in fields_of(session.section) and session.lang:
        return await ask(update, context, session, arg)
    if parsed.step == "v" and session.field in ENUMS and arg in ENUMS[session.field]:
        return await accept(update, context, session, arg)
    if parsed.step in "so" and session.lang:
        return await save(update, context, session, on_top=parsed.step == "o")
    if parsed.step == "x":
        return await finish(update, context, "edit_cancelled")
    return None


async def value_message(update: Update, context: Context) -> int:
    """The admin's answer to a prompt: text, or for the body a formatted message."""
    session, message = session_of(context), update.effective_message
    if session is None or session.field is None or message is None:
        return ConversationHandler.END
    if session.field == "body":
        return await accept(update, context, session, from_message(message))
    try:
        value = parse_value(session.field, message.text or "")
    except ValueError as exc:
        await respond(update, context, esc(str(exc)))
        return VALUE
    return await accept(update, context, session, value)


async def accept(update: Update, context: Context, session: Session, value: Any) -> int:
    """Keep a valid value and move on (to the next question of /new, or back to the editor)."""
    name = session.field
    assert name is not None
    problem = None if name == "body" else check_field(session.section, name, value)
    if name == "body" and not str(value).strip():
        problem = context.texts.get(await reader_lang(update, context), "edit_empty_body")
    if problem:
        await respond(update, context, esc(problem))
        return VALUE
    if name == "body":
        session.body = str(value)
    else:
        session.values[name] = value
    session.field = None
    if session.asking:
        return await ask(update, context, session, session.asking.pop(0))
    return await show_editor(update, context, session)


def build_item(session: Session, texts: Any, lang: str) -> tuple[ContentItem | None, list[str]]:
    """The session as an item, with everything `tropa content check` would say about it."""
    try:
        meta = MODELS[session.section].model_validate(session.values)
    except ValidationError as exc:
        return None, [
            f"{'.'.join(str(p) for p in e['loc'])}: {str(e['msg']).removeprefix('Value error, ')}" for e in exc.errors()
        ]
    item = ContentItem(session.section, session.slug, session.lang, meta, session.body)
    problems = [str(p) for p in render_problems([item], texts)]
    if not session.body.strip():
        problems.append(texts.get(lang, "edit_empty_body"))
    return item, problems


async def save(update: Update, context: Context, session: Session, *, on_top: bool) -> int:
    """Validate like `tropa content check`, then store a draft; a save that lost a race is told so."""
    lang = await reader_lang(update, context)
    t = context.texts
    item, problems = build_item(session, t, lang)
    if item is None or problems:
        text = esc(t.get(lang, "admin_publish_refused", problems="\n".join(problems)))
        await respond(update, context, text, editor_markup(session, t, lang))
        return EDITING
    base = session.base
    if on_top:
        latest = await editorial.latest(context.db, session.slug, session.lang)
        base = latest[0] if latest else None
    try:
        revision = await editorial.save_draft(context.db, item, alias(update, context) or "admin", base)
    except editorial.Conflict as conflict:
        markup = InlineKeyboardMarkup(
            [
                [
                    InlineKeyboardButton(t.get(lang, "edit_save_on_top"), callback_data="e:o"),
                    InlineKeyboardButton(t.get(lang, "edit_cancel"), callback_data="e:x"),
                ]
            ]
        )
        await respond(update, context, esc(t.get(lang, "edit_conflict", revision=conflict.latest)), markup)
        return EDITING
    return await finish(update, context, "edit_saved", slug=session.slug, language=session.lang, revision=revision)


async def finish(update: Update, context: Context, key: str, **values: object) -> int:
    if context.user_data is not None:
        context.user_data.pop("edit", None)
    lang = await reader_lang(update, context)
    await respond(update, context, context.texts.get(lang, key, **{k: esc(str(v)) for k, v in values.items()}))
    return ConversationHandler.END


async def cancel_command(update: Update, context: Context) -> int:
    """/cancel: leave the editor without saving."""
    return await finish(update, context, "edit_cancelled")


async def timed_out(update: Update, context: Context) -> None:
    """An editor left alone for too long: say so; nothing was saved."""
    if context.user_data is not None:
        context.user_data.pop("edit", None)
    chat = update.effective_chat
    if chat is not None:
        lang = await reader_lang(update, context)
        await chat.send_message(esc(context.texts.get(lang, "edit_timed_out")))


def register(app: Application) -> None:  # type: ignore[type-arg]
    """/new and /edit as one conversation per admin; anyone else never reaches it."""
    only = admins(app)
    button: BaseHandler[Update, Context, Any] = CallbackQueryHandler(editor_button, pattern=keyboards.kind_is("editor"))
    with warnings.catch_warnings():
        # Buttons are tracked per admin, not per message, on purpose: the editor is one message that is edited.
        warnings.filterwarnings("ignore", category=PTBUserWarning, message=".*per_message.*")
        conversation = ConversationHandler(
            entry_points=[
                CommandHandler("edit", edit_command, filters=only),
                CommandHandler("new", new_command, filters=only),
            ],
            states={
                EDITING: [button],
                VALUE: [button, MessageHandler(only & ~filters.COMMAND, value_message)],
                ConversationHandler.TIMEOUT: [MessageHandler(filters.ALL, timed_out), CallbackQueryHandler(timed_out)],
            },
            fallbacks=[CommandHandler("cancel", cancel_command, filters=only)],
            conversation_timeout=TIMEOUT_S,
            name=None,
            persistent=False,
        )
    app.add_handler(conversation)
    app.add_handler(CallbackQueryHandler(unknown_button, pattern=keyboards.kind_is("editor")))
