"""Fuzzing: the real Application, through the emulator, fed thousands of generated updates of every kind.

Each example is a batch of updates shaped as Telegram sends them, with unknown fields at every level, random unicode
(right-to-left, zero-width, NUL, lone surrogates), texts far over 4,096 characters, forged and stale button data,
groups and channels, edits, inline queries. One bot runs for all examples. After each batch: no unhandled exception,
no request the emulator refused, a reply to every private text message, an answer to every button and inline query.

Hypothesis runs in a worker thread and hands each batch to the event loop the bot and the emulator run in, so a
failure shrinks to the smallest batch that shows it.
"""

from __future__ import annotations

import asyncio
import io
import logging
import string
import zipfile
from collections import Counter
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from telegram import Update

from bot.app import TropaApp, build_application, polling
from tests.e2e.conftest import ADMIN_ALIAS, ADMIN_ID, make_settings
from tests.emulator import BotApiEmulator, FakeUser, Msg, Req, command_entities, utf16_len

JSON = dict[str, Any]
EXAMPLES = 550
BATCH = 24

PEOPLE = [
    FakeUser(7391046258, "Ксенофонтия", "Пятиглазова", "zephyrine_quokka", "ru"),
    FakeUser(8012345671, "Bartholomew", "Quillfeather", "umbra_marmoset77", "en"),
    FakeUser(6620198734, "\u202eанидуЛ\u202c", None, None, None),
    FakeUser(5012345678, "\u200b", "\u0000", "z_w_s", "ru-RU"),
    FakeUser(4012345677, "שלום مرحبا", None, "rtl_name", "he"),
    FakeUser(3012345676, "🦊" * 30, "x" * 64, "fox_" + "x" * 28, "uk"),
    FakeUser(ADMIN_ID, "Anna", None, "anna_admin", "ru"),
]
GROUPS = [(-4001234567, "group", "Книжный клуб"), (-1001234500001, "supergroup", "Activists \u202eRTL\u202c")]
CHANNEL = (-1009876500001, "channel", "Новости")
OTHER_BOT = {"id": 5000000001, "is_bot": True, "first_name": "Other", "username": "other_bot"}
THIS_BOT = {"id": 123456789, "is_bot": True, "first_name": "Tropa Test", "username": "tropa_test_bot"}

COMMANDS = [
    "start", "tactics", "conscription", "orgs", "search", "subscribe", "settings", "unsubscribe", "language",
    "forget", "help", "privacy", "about", "wipe", "admin", "stats", "drafts", "preview", "publish", "unpublish",
    "delete", "history", "rollback", "new", "edit", "cancel", "export", "import", "announce", "nosuchcommand",
]  # fmt: skip
ARGS = [
    "orgs", "tactics_leaflets-stickers", "orgs_ovd-info", "conscription_", "orgs_OVD-INFO", "_", "orgs_ovd-info_x",
    "ovd-info", "ovd-info en", "ovd-info de", "orgs new-thing", "tactics Bad_Slug", "ovd-info 1", "ovd-info 999999",
    "ovd-info 1 en", "-1", "9" * 40, "orgs_\ud800", "orgs_ovd\u0000info",
]  # fmt: skip
WORDS = [
    "повестка", "повесткой", "листовки", "ОВД-Инфо", "отсрочка", "альтернативная служба", "summons", "leaflets",
    "ovd-info", "VPN", "deferment", "OR", "NEAR(", '"', "*", "^", "AND NOT", "col:", "-",
]  # fmt: skip
ODD = [
    "\u0000", "\u202e", "\u202d", "\u2066", "\u2067", "\u2069", "\u200b", "\u200c", "\u200d", "\u2060", "\ufeff",
    "\ud800", "\udbff", "\udc00", "\udfff", "\U0001f600", "\U0001f1f7\U0001f1fa", "e\u0301", "\u0085", "\u2028",
    "\x7f", "\r", "\n", "\t", "<b>", "</a>", "&amp;", "&", "<", "\\", "שלום", "مرحبا", "ё", "\U000e0001",
]  # fmt: skip
CALLBACK_PREFIXES = ["m", "n", "s:", "v:", "l:", "b:", "a:del:", "a:keep:", "e:", "o:", "d:", "w:", "x:", ""]
VALID_CALLBACKS = [
    "m", "n", "s:orgs:0", "s:tactics:1", "s:conscription:9999", "v:orgs:ovd-info", "v:tactics:leaflets-stickers",
    "v:orgs:no-such-item", "l:ru", "l:en", "b:t:15", "b:r:3", "b:w:5", "b:h:15:d", "b:h:1:6", "b:s:15:d:7",
    "b:s:8:3:23", "b:v", "b:n:1", "b:n:0", "b:u", "b:f", "a:del:vesna", "a:keep:vesna", "e:f:title", "e:v:low",
    "e:l:ru", "e:s", "e:o", "e:x", "o:go", "o:x", "o:stop", "d:0", "d:1", "d:24", "d:2", "w:f", "w:k", "w:x",
]  # fmt: skip
ENTITY_TYPES = [
    "bold", "italic", "underline", "strikethrough", "spoiler", "code", "pre", "text_link", "url", "mention", "hashtag",
    "text_mention", "custom_emoji", "blockquote", "expandable_blockquote",
]  # fmt: skip
MEDIA_KINDS = [
    "photo", "sticker", "voice", "audio", "video", "animation", "video_note", "location", "contact", "poll", "dice",
    "venue", "document", "story",
]  # fmt: skip
OTHER_KINDS = [
    "edited_message", "channel_post", "edited_channel_post", "chosen_inline_result", "my_chat_member", "chat_member",
    "message_reaction", "poll_answer", "chat_join_request", "unknown",
]  # fmt: skip
LANGUAGE_CODES = ["ru", "en", "uk", "be", "ru-RU", "EN", "zz-ZZ-x", "", "\u0000", "ру"]

odd_piece = st.one_of(st.characters(), st.sampled_from(ODD))


def odd_text(min_size: int = 0, max_size: int = 40) -> st.SearchStrategy[str]:
    """Text mixing any characters with the ones that break programs (several are more than one code point)."""
    return st.lists(odd_piece, min_size=min_size, max_size=max_size).map("".join)


short_text = odd_text(1, 40)
huge_text = st.builds(
    lambda piece, size: (piece * (size // len(piece) + 1))[:size],
    odd_text(1, 8),
    st.sampled_from([300, 301, 1024, 4095, 4096, 4097, 9000, 70_000]),
)
words_text = st.lists(st.sampled_from(WORDS) | odd_text(0, 8), min_size=1, max_size=6).map(" ".join)
wild_text = st.one_of(short_text, words_text, huge_text)
json_value = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | odd_text(0, 10),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
    max_leaves=6,
)
unknown_fields = st.dictionaries(
    st.text(string.ascii_lowercase + "_", min_size=1, max_size=10).map(lambda k: "future_" + k), json_value, max_size=2
)


@st.composite
def command_text(draw: st.DrawFn) -> str:
    command = "/" + draw(st.sampled_from(COMMANDS) | st.text(string.ascii_letters + "_", min_size=1, max_size=70))
    command += draw(st.sampled_from(["", "", "", "@tropa_test_bot", "@TROPA_TEST_BOT", "@other_bot"]))
    if draw(st.booleans()):
        command += draw(st.sampled_from([" ", "  ", "\n"])) + draw(st.sampled_from(ARGS) | wild_text)
    return command


@st.composite
def formatting(draw: st.DrawFn, text: str) -> list[JSON]:
    """Entities over valid UTF-16 ranges of the text, as a client that formats a message would send them."""
    length = utf16_len(text)
    entities = []
    for _ in range(draw(st.integers(0, 3))):
        offset = draw(st.integers(0, max(length - 1, 0)))
        entity: JSON = {
            "type": draw(st.sampled_from(ENTITY_TYPES)),
            "offset": offset,
            "length": draw(st.integers(1, max(length - offset, 1))),
        }
        if entity["type"] == "text_link":
            entity["url"] = draw(st.sampled_from(["https://example.org/a?b=c&d", "http://x.y", "tg://user?id=1"]))
        elif entity["type"] == "pre":
            entity["language"] = draw(st.sampled_from(["python", "", "<b>"]))
        elif entity["type"] == "text_mention":
            entity["user"] = {"id": 42, "is_bot": False, "first_name": draw(short_text)}
        elif entity["type"] == "custom_emoji":
            entity["custom_emoji_id"] = "5368324170671202286"
        entities.append(entity)
    return sorted(entities, key=lambda e: e["offset"])


@st.composite
def text_content(draw: st.DrawFn) -> JSON:
    text = draw(command_text() | wild_text)
    entities = command_entities(text) + draw(formatting(text))
    return {"text": text, "entities": entities} if entities else {"text": text}


def file_fields(draw: st.DrawFn, **more: Any) -> JSON:
    unique = draw(st.text(string.ascii_letters + string.digits, min_size=1, max_size=16))
    return {"file_id": "AgAD" + unique, "file_unique_id": unique, **more, **draw(unknown_fields)}


@st.composite
def media_content(draw: st.DrawFn) -> JSON:
    kind = draw(st.sampled_from(MEDIA_KINDS))
    place = {"latitude": draw(st.floats(-90, 90)), "longitude": draw(st.floats(-180, 180))}
    makers: dict[str, Callable[[], JSON]] = {
        "photo": lambda: {
            "photo": [file_fields(draw, width=90, height=90), file_fields(draw, width=1280, height=1280)]
        },
        "sticker": lambda: {
            "sticker": file_fields(draw, type="regular", width=512, height=512, is_animated=False, is_video=False)
        },
        "voice": lambda: {"voice": file_fields(draw, duration=draw(st.integers(0, 10**6)))},
        "audio": lambda: {"audio": file_fields(draw, duration=3, title=draw(short_text))},
        "video": lambda: {"video": file_fields(draw, width=640, height=480, duration=9)},
        "animation": lambda: {
            "animation": file_fields(draw, width=64, height=64, duration=1),
            "upload": (b"GIF89a", "a.gif"),
        },
        "video_note": lambda: {"video_note": file_fields(draw, length=240, duration=5)},
        "location": lambda: {"location": place},
        "contact": lambda: {"contact": {"phone_number": "+" + "7" * 11, "first_name": draw(short_text)}},
        "poll": lambda: {
            "poll": {
                "id": "5",
                "question": draw(short_text),
                "options": [
                    {"persistent_id": "a", "text": draw(short_text), "voter_count": 0},
                    {"persistent_id": "b", "text": "б", "voter_count": 1},
                ],
                "total_voter_count": 1,
                "is_closed": False,
                "is_anonymous": True,
                "type": "regular",
                "allows_multiple_answers": False,
                "allows_revoting": False,
                "members_only": False,
            }
        },
        "dice": lambda: {
            "dice": {"emoji": draw(st.sampled_from(["🎲", "🎯", "🏀"])), "value": draw(st.integers(1, 6))}
        },
        "venue": lambda: {"venue": {"location": place, "title": draw(short_text), "address": draw(short_text)}},
        "document": lambda: {"upload": (draw(st.binary(max_size=64)), draw(short_text))},
        "story": lambda: {"story": {"chat": {"id": 1, "type": "private"}, "id": 1}},
    }
    content = makers[kind]()
    if kind in ("photo", "video", "animation", "document", "voice", "audio") and draw(st.booleans()):
        content["caption"] = draw(wild_text)
    return content


@st.composite
def service_content(draw: st.DrawFn) -> JSON:
    member = {"id": draw(st.sampled_from([p.id for p in PEOPLE])), "is_bot": False, "first_name": draw(short_text)}
    return draw(
        st.sampled_from(
            [
                {"new_chat_members": [member]},
                {"new_chat_members": [THIS_BOT]},
                {"left_chat_member": member},
                {"new_chat_title": draw(short_text)},
                {"group_chat_created": True},
                {"delete_chat_photo": True},
                {"pinned_message": {"chat": {"id": 1, "type": "private"}, "message_id": 3, "date": 0}},
                {"message_auto_delete_timer_changed": {"message_auto_delete_time": 86400}},
                {"migrate_to_chat_id": -1001234500001},
                {"write_access_allowed": {"from_request": True}},
                {"users_shared": {"request_id": 1, "users": [{"user_id": 42}]}},
            ]
        )
    )  # fmt: skip


@st.composite
def admin_document(draw: st.DrawFn) -> JSON:
    """An upload the bot can download: random bytes, a content file, or a zip of them (only admins import)."""
    body = draw(
        st.sampled_from(
            [
                "---\ntitle: x\n---\nText.",
                "---\ntitle: [\n---",
                "no front matter",
                "---\ntitle: ОВД\nsummary: s\nsources: []\nreviewed: 2026-01-01\n---\n**b** [x](javascript:1)",
            ]
        )
        | odd_text(0, 200)
    )
    name = draw(st.sampled_from(["orgs__ovd-info__en.md", "tactics__new-one__ru.md", "x.md", "../../e.md", "a.zip"]))
    data = body.encode("utf-8", "surrogatepass")
    if name.endswith(".zip") or draw(st.booleans()):
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as archive:
            archive.writestr(draw(st.sampled_from(["content/orgs/ovd-info/en.md", "../x.md", "a/b/c/d/e.md"])), data)
        data, name = buffer.getvalue(), "content.zip"
    elif draw(st.booleans()):
        data = draw(st.binary(max_size=300))
    return {"upload": (data, name)}


def sender(user: FakeUser, language: str | None) -> JSON:
    found = user.to_api()
    found.pop("language_code", None)
    if language:
        found["language_code"] = language
    return found


@dataclass(frozen=True)
class Plan:
    """One update to be made concrete at feed time, when the chats and messages it refers to are known."""

    kind: str
    who: int
    where: str = "private"
    body: JSON = field(default_factory=dict)
    extra: JSON = field(default_factory=dict)
    language: str | None = None

    def __repr__(self) -> str:
        fields = (self.kind, self.who, self.where, clipped(self.body), clipped(self.extra), self.language)
        return "Plan({!r}, {}, {!r}, body={!r}, extra={!r}, language={!r})".format(*fields)

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        """How Hypothesis shows a failing example: the short repr, not 70,000 characters of one text."""
        printer.text(repr(self))


def clipped(value: Any) -> Any:
    """The value with long strings cut, for reports."""
    if isinstance(value, str) and len(value) > 60:
        return f"{value[:40]}…({len(value)} characters)"
    if isinstance(value, dict):
        return {key: clipped(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [clipped(item) for item in value]
    return value


def text(value: str) -> JSON:
    """A text message's content, with the command entity Telegram adds."""
    return {"text": value, "entities": command_entities(value)}


STALE_PRESS = {"message": "stale", "data": "v:orgs:ovd-info"}
people = st.integers(0, len(PEOPLE) - 1)
languages = st.sampled_from(LANGUAGE_CODES) | st.none()


@st.composite
def message_plan(draw: st.DrawFn) -> Plan:
    where = draw(st.sampled_from(["private"] * 6 + ["group", "supergroup"]))
    roll = draw(st.integers(0, 19))
    body = draw(text_content() if roll < 14 else admin_document() if roll < 16 else media_content() | service_content())
    modifiers: JSON = {}
    if draw(st.integers(0, 6)) == 0:
        origin = draw(st.sampled_from(["user", "hidden_user", "chat", "channel"]))
        modifiers["forward_origin"] = {
            "user": {"type": "user", "date": 1, "sender_user": {"id": 77, "is_bot": False, "first_name": "F"}},
            "hidden_user": {"type": "hidden_user", "date": 1, "sender_user_name": draw(short_text)},
            "chat": {"type": "chat", "date": 1, "sender_chat": {"id": -100500, "type": "supergroup", "title": "G"}},
            "channel": {"type": "channel", "date": 1, "chat": {"id": -100600, "type": "channel"}, "message_id": 9},
        }[origin]
    if draw(st.integers(0, 6)) == 0:
        modifiers["via_bot"] = OTHER_BOT
    if draw(st.integers(0, 5)) == 0:
        modifiers["reply_to"] = draw(st.sampled_from(["bot", "self", "gone"]))
    if draw(st.integers(0, 9)) == 0:
        modifiers["has_protected_content"] = True
        modifiers["media_group_id"] = "13"
    return Plan("message", draw(people), where, {**body, **modifiers}, draw(unknown_fields), draw(languages))


@st.composite
def callback_plan(draw: st.DrawFn) -> Plan:
    data = draw(
        st.one_of(
            st.sampled_from(VALID_CALLBACKS),
            st.builds(lambda p, tail: p + tail, st.sampled_from(CALLBACK_PREFIXES), odd_text(0, 20)),
            st.binary(min_size=1, max_size=64).map(lambda b: b.decode("utf-8", "replace")),
            odd_text(1, 64),
        )
    )
    body: JSON = {"message": draw(st.sampled_from(["live"] * 4 + ["stale", "inaccessible", "inline"]))}
    if draw(st.integers(0, 15)) == 0:
        body["game_short_name"] = "game"
    else:
        body["data"] = data
    where = draw(st.sampled_from(["private"] * 5 + ["group"]))
    return Plan("callback_query", draw(people), where, body, draw(unknown_fields), draw(languages))


@st.composite
def inline_plan(draw: st.DrawFn) -> Plan:
    body: JSON = {
        "query": draw(st.just("") | wild_text),
        "offset": draw(st.sampled_from(["", "0", "-1", "10", "9" * 30, "abc", "\u0000"]) | short_text),
    }
    chat_type = draw(st.sampled_from([None, "sender", "private", "group", "supergroup", "channel"]))
    if chat_type is not None:
        body["chat_type"] = chat_type
    return Plan("inline_query", draw(people), "private", body, draw(unknown_fields), draw(languages))


@st.composite
def other_plan(draw: st.DrawFn) -> Plan:
    kind = draw(st.sampled_from(OTHER_KINDS))
    where = "channel" if "channel" in kind else draw(st.sampled_from(["private", "group", "supergroup"]))
    body = draw(text_content() | media_content()) if kind.endswith(("message", "post")) else {}
    if kind in ("my_chat_member", "chat_member"):
        body = {"statuses": draw(st.lists(st.sampled_from(["member", "left", "kicked"]), min_size=2, max_size=2))}
    elif kind == "chosen_inline_result":
        body = {
            "result_id": draw(st.sampled_from(["orgs:ovd-info", "nothing"]) | short_text),
            "query": draw(short_text),
        }
    elif kind == "unknown":
        body = {"name": "future_update_" + draw(st.text(string.ascii_lowercase, min_size=1, max_size=8))}
        body["value"] = draw(json_value)
    return Plan(kind, draw(people), where, body, draw(unknown_fields), draw(languages))


plans = st.one_of(message_plan(), message_plan(), message_plan(), callback_plan(), inline_plan(), other_plan())


class Feeder:
    """Turns plans into raw updates against the emulator's current state and checks what the bot did."""

    def __init__(self, emu: BotApiEmulator, app: TropaApp, errors: list[str]) -> None:
        self.emu = emu
        self.app = app
        self.errors = errors
        self.fed: Counter[str] = Counter()
        self.queries: list[str] = []

    @staticmethod
    def chat(plan: Plan, where: str | None = None) -> JSON:
        """The Chat object of the plan's chat: the person's private chat, or the group or channel of that type."""
        where = where or plan.where
        if where == "private":
            user = PEOPLE[plan.who]
            found: JSON = {"id": user.id, "type": "private", "first_name": user.first_name}
            if user.username:
                found["username"] = user.username
            return found
        chat_id, chat_type, title = next(g for g in (*GROUPS, CHANNEL) if g[1] == where)
        return {"id": chat_id, "type": chat_type, "title": title}

    def bot_message(self, chat_id: int) -> Msg | None:
        """The bot's latest live message in the chat."""
        live = self.emu.bot_messages(chat_id)
        return live[-1] if live else None

    def own_message(self, chat_id: int) -> Msg | None:
        """The latest live message someone sent in the chat."""
        own = [m for m in self.emu.messages(chat_id) if not m.from_bot and not m.deleted]
        return own[-1] if own else None

    def message(self, plan: Plan, now: int) -> JSON:
        user, chat = PEOPLE[plan.who], self.chat(plan)
        body = dict(plan.body)
        message: JSON = {"date": now, "chat": chat}
        if chat["type"] == "channel":
            message["sender_chat"] = chat
        else:
            message["from"] = sender(user, plan.language)
        reply = body.pop("reply_to", None)
        if reply is not None:
            target = self.bot_message(chat["id"]) if reply == "bot" else None
            if reply == "self":
                target = self.own_message(chat["id"])
            if target is not None:
                message["reply_to_message"] = target.to_api(nested=True)
            else:
                message["reply_to_message"] = {"message_id": 999_999, "date": now - 10**6, "chat": chat}
        upload = body.pop("upload", None)
        if upload is not None:  # a file someone sent exists on Telegram's side: the bot can download it
            body["document"] = self.emu.upload(*upload)
        return {**message, **body, **plan.extra}

    def realise(self, plan: Plan) -> JSON:
        now = int(self.emu.state.now())
        user = PEOPLE[plan.who]
        if plan.kind in ("message", "channel_post"):
            return {plan.kind: self.message(plan, now)}
        if plan.kind in ("edited_message", "edited_channel_post"):
            edited = self.message(plan, now)
            own = self.own_message(edited["chat"]["id"])
            edited["message_id"] = own.message_id if own is not None else 1
            edited["edit_date"] = now
            return {plan.kind: edited}
        who = sender(user, plan.language)
        if plan.kind == "callback_query":
            query_id = self.emu.issue_query("callback", user)
            self.queries.append(query_id)
            chat = self.chat(plan)
            query: JSON = {"id": query_id, "from": who, "chat_instance": str(chat["id"] * 7 % 10**9), **plan.extra}
            query.update({k: v for k, v in plan.body.items() if k != "message"})
            shown, form = self.bot_message(chat["id"]), plan.body["message"]
            if shown is None and form in ("live", "stale"):
                form = "inaccessible"
            if shown is not None and form in ("live", "stale"):
                query["message"] = shown.to_api()
                if form == "stale":  # deleted since it was pressed: a race with /wipe or disappearing messages
                    self.emu.delete(chat["id"], shown.message_id)
            elif form == "inaccessible":
                query["message"] = {"chat": chat, "message_id": 5, "date": 0}
            else:
                query["inline_message_id"] = "AAAAAFk1"
            return {"callback_query": query}
        if plan.kind == "inline_query":
            query_id = self.emu.issue_query("inline", user)
            self.queries.append(query_id)
            return {"inline_query": {"id": query_id, "from": who, **plan.body, **plan.extra}}
        if plan.kind == "chosen_inline_result":
            return {"chosen_inline_result": {"from": who, **plan.body, **plan.extra}}
        chat = self.chat(plan)
        if plan.kind in ("my_chat_member", "chat_member"):
            target = self.emu.bot.to_api() if plan.kind == "my_chat_member" else who
            old, new = (
                {"status": s, "user": target, **({"until_date": 0} if s == "kicked" else {})}
                for s in plan.body["statuses"]
            )
            member = {"chat": chat, "from": who, "date": now, "old_chat_member": old, "new_chat_member": new}
            return {plan.kind: {**member, **plan.extra}}
        if plan.kind == "message_reaction":
            reaction = [{"type": "emoji", "emoji": "👍"}]
            return {
                "message_reaction": {
                    "chat": chat,
                    "message_id": 1,
                    "date": now,
                    "user": who,
                    "old_reaction": [],
                    "new_reaction": reaction,
                }
            }
        if plan.kind == "poll_answer":
            return {"poll_answer": {"poll_id": "5", "option_ids": [0], "option_persistent_ids": ["a"], "user": who}}
        if plan.kind == "chat_join_request":
            group = self.chat(plan, "supergroup")
            return {"chat_join_request": {"chat": group, "from": who, "user_chat_id": user.id, "date": now}}
        return {plan.body["name"]: plan.body["value"], **plan.extra}

    async def settle(self) -> None:
        """Until every update was fetched and handled and the bot has gone quiet."""
        processor = self.app.update_processor
        deadline = asyncio.get_running_loop().time() + 60
        while True:
            await self.emu.wait_idle(timeout=60, quiet=0.03)
            if self.app.update_queue.empty() and processor.current_concurrent_updates == 0:
                return
            if asyncio.get_running_loop().time() > deadline:
                raise TimeoutError(f"{processor.current_concurrent_updates} updates still being handled after 60 s")
            # A handler waiting on the database makes no request: give it the loop, or this would spin forever.
            await asyncio.sleep(0.01)

    async def feed(self, batch: list[Plan]) -> list[str]:
        """Send one batch and return every property it broke."""
        requests_before, refused_before, errors_before = len(self.emu.requests), len(self.emu.refused), len(self.errors)
        self.queries.clear()
        texts: Counter[int] = Counter()
        for plan in batch:
            raw = self.realise(plan)
            self.emu.send_update(raw)
            self.fed[plan.kind] += 1
            message = raw.get("message")
            if message is not None and message["chat"]["type"] == "private" and "text" in message:
                texts[message["chat"]["id"]] += 1
                self.fed["private text"] += 1
        await self.settle()
        problems = list(self.errors[errors_before:])
        # A press on a message deleted since is answered anew, but only after Telegram refused to edit it.
        stale = any(plan.body.get("message") == "stale" for plan in batch if plan.kind == "callback_query")
        expected = {"Bad Request: message to edit not found"} if stale else set()
        refused = [r for r in self.emu.refused[refused_before:] if r.description not in expected]
        problems += [f"refused: {r.method} {r.description}" for r in refused]
        replies = Counter(reply_chat(r) for r in self.emu.requests[requests_before:])
        problems += [f"{n} private texts, {replies[chat]} replies" for chat, n in texts.items() if replies[chat] < n]
        unanswered = [q for q in self.queries if not self.emu.state.queries[q].answered]
        problems += [f"{len(unanswered)} queries never answered"] if unanswered else []
        return problems


def reply_chat(request: Req) -> int | None:
    """The chat an accepted new message went to."""
    if request.ok and request.method in ("sendMessage", "sendDocument"):
        return int(request.params["chat_id"])
    return None


class ErrorCatcher(logging.Handler):
    """Every ERROR record of any logger: the error handler's, python-telegram-bot's, asyncio's."""

    def __init__(self, into: list[str]) -> None:
        super().__init__(level=logging.ERROR)
        self.into = into

    def emit(self, record: logging.LogRecord) -> None:
        self.into.append(f"{record.name}: {record.getMessage()}")


@pytest.fixture
async def errors() -> AsyncIterator[list[str]]:
    found: list[str] = []
    catcher = ErrorCatcher(found)
    root = logging.getLogger()
    root.addHandler(catcher)
    loop = asyncio.get_running_loop()
    previous = loop.get_exception_handler()
    loop.set_exception_handler(lambda _, context: found.append(f"asyncio: {context.get('message')}"))
    try:
        yield found
    finally:
        loop.set_exception_handler(previous)
        root.removeHandler(catcher)


@pytest.fixture
async def fuzzed_bot(emulator: BotApiEmulator, tmp_path: Path) -> AsyncIterator[TropaApp]:
    """One bot for every example; it takes every kind of update, not only those it asks Telegram for."""
    for person in PEOPLE:
        emulator.user(person.id, person.first_name, person.last_name, person.username, person.language_code)
    overrides: dict[str, object] = {
        "admin_ids": {ADMIN_ID: ADMIN_ALIAS},
        "flood_burst": 100_000,  # the flood limit is tested on its own; here every update must be handled
        "flood_rate": 100_000,
        "digest_interval": 3600,
    }
    app = build_application(make_settings(emulator, tmp_path / "fuzz.sqlite3", **overrides))
    async with polling(app, poll_timeout=1, allowed_updates=Update.ALL_TYPES):
        yield app


async def test_generated_updates_break_nothing(
    emulator: BotApiEmulator, fuzzed_bot: TropaApp, errors: list[str]
) -> None:
    loop = asyncio.get_running_loop()
    feeder = Feeder(emulator, fuzzed_bot, errors)

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.large_base_example],
    )
    @given(st.lists(plans, min_size=4, max_size=BATCH))
    # What the fuzz test found once, kept so that it is tried first every time.
    @example([Plan("message", 0, body=text("/orgs")), Plan("callback_query", 0, body=STALE_PRESS)])
    @example([Plan("callback_query", 1, body={"message": "inline", "data": data}) for data in ("l:en", "b:s:15:d:7")])
    @example([Plan("message", 2, body=text("/start orgs_\ud800")), Plan("message", 2, body=text("/start \udfff"))])
    @example([Plan("message", 3, body={"message_auto_delete_timer_changed": {"message_auto_delete_time": 3600}})])
    @example([Plan("message", who, body=text(command)) for who in range(6) for command in ("/forget", "/language")])
    @example([Plan("message", len(PEOPLE) - 1, body={"upload": (b"---\ntitle: x\n---\n", "../../e.md")})])
    def batch_breaks_nothing(batch: list[Plan]) -> None:
        problems = asyncio.run_coroutine_threadsafe(feeder.feed(batch), loop).result(timeout=300)
        assert problems == []

    await asyncio.to_thread(batch_breaks_nothing)
    # The run proves something only if it fed thousands of updates, of every kind.
    assert sum(feeder.fed.values()) - feeder.fed["private text"] >= 3000, feeder.fed
    assert feeder.fed["private text"] >= 1000, feeder.fed
    assert set(feeder.fed) >= {"edited_message", "channel_post", "my_chat_member", "chosen_inline_result", "unknown"}
