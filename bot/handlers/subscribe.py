"""Digest subscriptions: /subscribe with buttons (topics, rhythm, day, hour), /settings and /unsubscribe.

/settings also shows the disappearing-messages choice, to everyone (bot/handlers/disappearing.py stores it).

The choices in progress travel in the buttons' callback data, so nothing is stored until the person saves.
"""

from __future__ import annotations

import datetime as dt

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import Application, CallbackQueryHandler, CommandHandler

from bot import keyboards
from bot.context import Context
from bot.handlers.common import PRIVATE, answer_query, reader_lang, respond, timed
from bot.handlers.fallback import unknown_button
from bot.handlers.forget import forget_everything
from bot.i18n import Texts
from bot.render import esc
from storage import subscribers
from storage.subscribers import ALL_TOPICS, TOPIC_BITS, TOPICS, Choice, Schedule, topic_names

DEFAULT_TOPICS = ALL_TOPICS


def summary(texts: Texts, lang: str, choice: Choice) -> str:
    """Topics, rhythm and hour, sound, next digest: in the reader's language."""
    t, schedule = texts, choice.schedule
    topics = ", ".join(t.label(lang, "topics", name) for name in topic_names(schedule.topics))
    hour = f"{schedule.hour:02d}"
    when = (
        t.get(lang, "summary_daily", hour=hour)
        if schedule.rhythm == "daily"
        else t.get(lang, "summary_weekly", hour=hour, weekday=t.label(lang, "weekdays", str(schedule.weekday)))
    )
    sound = t.get(lang, "sound_on_word" if choice.sound else "sound_off_word")
    upcoming = dt.datetime.fromtimestamp(choice.next_due, dt.UTC).strftime("%d.%m.%Y %H:%M")
    return "\n".join(
        esc(line)
        for line in (
            t.get(lang, "summary_topics", topics=topics),
            when,
            t.get(lang, "summary_sound", state=sound),
            t.get(lang, "summary_next", when=upcoming),
        )
    )


def topics_markup(texts: Texts, lang: str, mask: int) -> InlineKeyboardMarkup:
    """Toggle buttons with a check mark on the chosen topics, then Next."""
    rows = [
        [
            InlineKeyboardButton(
                ("✅ " if mask & TOPIC_BITS[name] else "▫️ ") + texts.label(lang, "topics", name),
                callback_data=f"b:t:{mask ^ TOPIC_BITS[name]}",
            )
        ]
        for name in TOPICS
    ]
    rows.append([InlineKeyboardButton(texts.get(lang, "sub_next"), callback_data=f"b:r:{mask}")])
    return InlineKeyboardMarkup(rows)


def rhythm_markup(texts: Texts, lang: str, mask: int) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [
            [InlineKeyboardButton(texts.get(lang, "sub_daily"), callback_data=f"b:h:{mask}:d")],
            [InlineKeyboardButton(texts.get(lang, "sub_weekly"), callback_data=f"b:w:{mask}")],
            [InlineKeyboardButton(texts.get(lang, "back"), callback_data=f"b:t:{mask}")],
        ]
    )


def weekday_markup(texts: Texts, lang: str, mask: int) -> InlineKeyboardMarkup:
    days = [
        InlineKeyboardButton(texts.label(lang, "weekdays_short", str(d)), callback_data=f"b:h:{mask}:{d}")
        for d in range(7)
    ]
    return InlineKeyboardMarkup(
        [days[:4], days[4:], [InlineKeyboardButton(texts.get(lang, "back"), callback_data=f"b:r:{mask}")]]
    )


def hour_markup(texts: Texts, lang: str, mask: int, day: str) -> InlineKeyboardMarkup:
    hours = [InlineKeyboardButton(f"{h:02d}", callback_data=f"b:s:{mask}:{day}:{h}") for h in range(24)]
    rows = [hours[i : i + 6] for i in range(0, 24, 6)]
    back = f"b:r:{mask}" if day == "d" else f"b:w:{mask}"
    rows.append([InlineKeyboardButton(texts.get(lang, "back"), callback_data=back)])
    return InlineKeyboardMarkup(rows)


def settings_markup(texts: Texts, lang: str, choice: Choice | None, disappear: int) -> InlineKeyboardMarkup:
    """The subscription's buttons (or Subscribe), the disappearing-messages choice, the menu."""
    t = texts
    if choice is None:
        rows = [[InlineKeyboardButton(t.get(lang, "subscribe_button"), callback_data=f"b:t:{DEFAULT_TOPICS}")]]
    else:
        sound = ("settings_sound_off", "b:n:0") if choice.sound else ("settings_sound_on", "b:n:1")
        rows = [
            [InlineKeyboardButton(t.get(lang, "settings_change"), callback_data=f"b:t:{choice.schedule.topics}")],
            [InlineKeyboardButton(t.get(lang, sound[0]), callback_data=sound[1])],
            [
                InlineKeyboardButton(t.get(lang, "settings_unsubscribe"), callback_data="b:u"),
                InlineKeyboardButton(t.get(lang, "settings_forget"), callback_data="b:f"),
            ],
        ]
    rows.append(keyboards.disappearing_row(t, lang, disappear))
    rows.append([InlineKeyboardButton(t.get(lang, "menu"), callback_data=keyboards.MENU)])
    return InlineKeyboardMarkup(rows)


def disappearing_html(texts: Texts, lang: str, seconds: int) -> str:
    """The choice in words and what it does."""
    t = texts
    after = t.label(lang, "disappear_after", str(seconds))
    state = t.get(lang, "disappear_state_on", after=after) if seconds else t.get(lang, "disappear_state_off")
    return t.get(lang, "disappear_title", state=esc(state)) + "\n" + esc(t.get(lang, "disappear_about"))


async def show_settings(update: Update, context: Context, lang: str) -> None:
    """The subscription (or an offer to subscribe) and the disappearing-messages choice, with buttons to change."""
    chat = update.effective_chat
    if chat is None:
        return
    t = context.texts
    choice = await subscribers.get(context.db, context.keys.lookup(chat.id))
    disappear = context.disappearing.after(chat.id)
    head = (
        esc(t.get(lang, "settings_none"))
        if choice is None
        else t.get(lang, "settings_view", summary=summary(t, lang, choice))
    )
    text = head + "\n\n" + disappearing_html(t, lang, disappear)
    await respond(update, context, text, settings_markup(t, lang, choice, disappear))


@timed("subscribe")
async def subscribe_command(update: Update, context: Context) -> None:
    """Start the flow with the current topics (or all of them) ticked."""
    lang = await reader_lang(update, context)
    chat = update.effective_chat
    current = await subscribers.get(context.db, context.keys.lookup(chat.id)) if chat else None
    mask = current.schedule.topics if current else DEFAULT_TOPICS
    await respond(
        update, context, context.texts.get(lang, "sub_topics_prompt"), topics_markup(context.texts, lang, mask)
    )


@timed("settings")
async def settings_command(update: Update, context: Context) -> None:
    """Show the subscription and what can be changed."""
    await show_settings(update, context, await reader_lang(update, context))


@timed("unsubscribe")
async def unsubscribe_command(update: Update, context: Context) -> None:
    """Stop the digest and delete the subscription."""
    chat = update.effective_chat
    if chat is None:
        return
    await unsubscribe(update, context, await reader_lang(update, context))


async def unsubscribe(update: Update, context: Context, lang: str) -> None:
    """Delete this chat's subscription and say whether there was one."""
    chat = update.effective_chat
    if chat is None:
        return
    removed = await subscribers.remove(context.db, context.keys.lookup(chat.id))
    await respond(update, context, esc(context.texts.get(lang, "unsubscribed" if removed else "not_subscribed")))


@timed("subscription_button")
async def subscription_button(update: Update, context: Context) -> None:
    """One step of the flow; every argument is checked, since callback data can be forged."""
    query, chat = update.callback_query, update.effective_chat
    parsed = keyboards.parse_callback(query.data if query else None)
    assert parsed is not None  # the pattern lets only well-formed data through
    if chat is None:  # a forged press on a message shared inline: no chat to subscribe
        await unknown_button(update, context)
        return
    lang = await reader_lang(update, context)
    t, step, args = context.texts, parsed.step, parsed.args
    mask = int(args[0]) if args and args[0].isdigit() else -1
    if step in "trwhs" and not 0 <= mask <= ALL_TOPICS:
        await answer_query(update, t.get(lang, "expired_button"), alert=True)
        return
    if step == "t":
        await answer_query(update)
        await respond(update, context, t.get(lang, "sub_topics_prompt"), topics_markup(t, lang, mask))
    elif step == "r":
        if mask == 0:
            await answer_query(update, t.get(lang, "sub_choose_one"), alert=True)
            return
        await answer_query(update)
        await respond(update, context, esc(t.get(lang, "sub_rhythm_prompt")), rhythm_markup(t, lang, mask))
    elif step == "w":
        await answer_query(update)
        await respond(update, context, esc(t.get(lang, "sub_weekday_prompt")), weekday_markup(t, lang, mask))
    elif step == "h" and len(args) == 2 and valid_day(args[1]):
        await answer_query(update)
        now = dt.datetime.now(dt.UTC).strftime("%H:%M")
        await respond(
            update, context, esc(t.get(lang, "sub_hour_prompt", now=now)), hour_markup(t, lang, mask, args[1])
        )
    elif step == "s" and len(args) == 3 and valid_day(args[1]) and args[2].isdigit() and int(args[2]) < 24 and mask:
        schedule = Schedule(
            mask, "daily" if args[1] == "d" else "weekly", None if args[1] == "d" else int(args[1]), int(args[2])
        )
        choice = await subscribers.save(context.db, context.keys, chat.id, schedule, lang, dt.datetime.now(dt.UTC))
        await answer_query(update)
        await respond(
            update,
            context,
            t.get(lang, "sub_saved", summary=summary(t, lang, choice)),
            InlineKeyboardMarkup([[InlineKeyboardButton(t.get(lang, "menu"), callback_data=keyboards.MENU)]]),
        )
    elif step == "v" and not args:
        await answer_query(update)
        await show_settings(update, context, lang)
    elif step == "n" and len(args) == 1 and args[0] in ("0", "1"):
        sound = args[0] == "1"
        changed = await subscribers.set_sound(context.db, context.keys.lookup(chat.id), sound)
        notice = ("sound_now_on" if sound else "sound_now_off") if changed else "not_subscribed"
        await answer_query(update, t.get(lang, notice))
        await show_settings(update, context, lang)
    elif step == "u" and not args:
        await answer_query(update)
        await unsubscribe(update, context, lang)
    elif step == "f" and not args:
        await answer_query(update)
        await forget_everything(update, context, lang)
    else:
        await answer_query(update, t.get(lang, "expired_button"), alert=True)


def valid_day(value: str) -> bool:
    """'d' for daily, or a weekday 0 (Monday) to 6."""
    return value == "d" or (value.isdigit() and int(value) <= 6)


def register(app: Application) -> None:  # type: ignore[type-arg]
    """/subscribe, /settings, /unsubscribe and the flow's buttons."""
    app.add_handler(CommandHandler("subscribe", subscribe_command, filters=PRIVATE))
    app.add_handler(CommandHandler("settings", settings_command, filters=PRIVATE))
    app.add_handler(CommandHandler("unsubscribe", unsubscribe_command, filters=PRIVATE))
    app.add_handler(CallbackQueryHandler(subscription_button, pattern=keyboards.kind_is("subscription")))
