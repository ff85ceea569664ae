"""Chats, messages, users, files and the update queue of the emulator (pure data, no HTTP)."""

from __future__ import annotations

import asyncio
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any

JSON = dict[str, Any]
Entity = dict[str, Any]

UPDATE_TYPES = frozenset(
    {
        "message",
        "edited_message",
        "channel_post",
        "edited_channel_post",
        "business_connection",
        "business_message",
        "edited_business_message",
        "deleted_business_messages",
        "guest_message",
        "message_reaction",
        "message_reaction_count",
        "inline_query",
        "chosen_inline_result",
        "callback_query",
        "shipping_query",
        "pre_checkout_query",
        "purchased_paid_media",
        "poll",
        "poll_answer",
        "my_chat_member",
        "chat_member",
        "chat_join_request",
        "chat_boost",
        "removed_chat_boost",
        "managed_bot",
    }
)
# Telegram's default when allowed_updates was never set or set to [].
DEFAULT_ALLOWED = UPDATE_TYPES - {"chat_member", "message_reaction", "message_reaction_count"}


def _clip(value: object, limit: int = 80) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[:limit] + "…"


@dataclass
class FakeUser:
    """A Telegram user that talks to the bot."""

    id: int
    first_name: str
    last_name: str | None = None
    username: str | None = None
    language_code: str | None = None
    is_bot: bool = False
    is_premium: bool | None = None

    @property
    def user_id(self) -> int:
        """Alias of id."""
        return self.id

    def to_api(self) -> JSON:
        """The Bot API User object."""
        user: JSON = {"id": self.id, "is_bot": self.is_bot, "first_name": self.first_name}
        for key in ("last_name", "username", "language_code", "is_premium"):
            value = getattr(self, key)
            if value is not None:
                user[key] = value
        return user


@dataclass(eq=False)
class Chat:
    """A chat the bot knows about, with its messages indexed by id."""

    id: int
    type: str
    title: str | None = None
    username: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    messages: dict[int, Msg] = field(default_factory=dict)
    next_message_id: int = 1

    def __repr__(self) -> str:
        return f"Chat(id={self.id}, type={self.type!r}, messages={len(self.messages)})"

    def to_api(self) -> JSON:
        """The Bot API Chat object."""
        chat: JSON = {"id": self.id, "type": self.type}
        for key in ("title", "username", "first_name", "last_name"):
            value = getattr(self, key)
            if value is not None:
                chat[key] = value
        return chat

    def allocate_id(self) -> int:
        """The next message id in this chat."""
        message_id = self.next_message_id
        self.next_message_id += 1
        return message_id

    def add(self, msg: Msg) -> Msg:
        """Store a message, keeping the id counter ahead of it."""
        self.messages[msg.message_id] = msg
        self.next_message_id = max(self.next_message_id, msg.message_id + 1)
        return msg


@dataclass(eq=False)
class Msg:
    """A message in a chat, from the bot or from a user, in its current state."""

    message_id: int
    chat: Chat
    sender: JSON | None
    from_bot: bool
    date: int
    text: str | None = None
    html: str | None = None
    entities: list[Entity] = field(default_factory=list)
    reply_markup: JSON | None = None
    deleted: bool = False
    edited: int = 0
    edit_date: int | None = None
    disable_notification: bool = False
    protect_content: bool = False
    allow_paid_broadcast: bool = False
    parse_mode: str | None = None
    caption: str | None = None
    caption_html: str | None = None
    caption_entities: list[Entity] = field(default_factory=list)
    document: JSON | None = None
    message_thread_id: int | None = None
    link_preview_options: JSON | None = None
    reply_parameters: JSON | None = None
    reply_to: Msg | None = None
    extra: JSON = field(default_factory=dict)

    def __repr__(self) -> str:
        text = self.text if self.text is not None else self.caption
        flags = "".join(f" {name}" for name in ("deleted",) if self.deleted) + (
            f" edited={self.edited}" if self.edited else ""
        )
        return (
            f"Msg(chat_id={self.chat.id}, message_id={self.message_id}, from_bot={self.from_bot}{flags}, "
            f"text={_clip(text)}, buttons={self.buttons if self.reply_markup else None})"
        )

    @property
    def chat_id(self) -> int:
        """Id of the chat the message is in."""
        return self.chat.id

    @property
    def shown(self) -> str:
        """What a person sees: the text, else the caption, else nothing."""
        return self.text if self.text is not None else (self.caption or "")

    @property
    def buttons(self) -> list[list[tuple[str, str | None]]]:
        """Keyboard rows as (text, callback_data or url) pairs."""
        markup = self.reply_markup or {}
        rows = markup.get("inline_keyboard") or markup.get("keyboard") or []
        result: list[list[tuple[str, str | None]]] = []
        for row in rows:
            cells: list[tuple[str, str | None]] = []
            for button in row:
                if isinstance(button, str):
                    cells.append((button, None))
                else:
                    cells.append((str(button.get("text", "")), button.get("callback_data", button.get("url"))))
            result.append(cells)
        return result

    def callback_data(self) -> list[str]:
        """Every callback_data on the message's inline keyboard, in order."""
        return [data for row in self.buttons for _, data in row if data is not None]

    def to_api(self, *, nested: bool = False) -> JSON:
        """The Bot API Message object for the current state."""
        message: JSON = {"message_id": self.message_id}
        if self.sender is not None:
            message["from"] = self.sender
        message["chat"] = self.chat.to_api()
        message["date"] = self.date
        if self.message_thread_id is not None:
            message["message_thread_id"] = self.message_thread_id
        if self.reply_to is not None and not nested:
            message["reply_to_message"] = self.reply_to.to_api(nested=True)
        if self.edit_date is not None:
            message["edit_date"] = self.edit_date
        if self.protect_content:
            message["has_protected_content"] = True
        if self.text is not None:
            message["text"] = self.text
            if self.entities:
                message["entities"] = self.entities
        if self.link_preview_options:
            message["link_preview_options"] = self.link_preview_options
        if self.document is not None:
            message["document"] = self.document
        if self.caption:
            message["caption"] = self.caption
            if self.caption_entities:
                message["caption_entities"] = self.caption_entities
        message.update(self.extra)
        # Telegram only ever echoes inline keyboards back inside Message objects.
        if self.reply_markup is not None and "inline_keyboard" in self.reply_markup:
            message["reply_markup"] = self.reply_markup
        return message


@dataclass
class StoredFile:
    """An uploaded file, downloadable through getFile and the file URL."""

    file_id: str
    file_unique_id: str
    data: bytes
    file_path: str
    file_name: str | None = None
    mime_type: str | None = None

    def document(self) -> JSON:
        """The Bot API Document object."""
        doc: JSON = {"file_id": self.file_id, "file_unique_id": self.file_unique_id, "file_size": len(self.data)}
        if self.file_name:
            doc["file_name"] = self.file_name
        if self.mime_type:
            doc["mime_type"] = self.mime_type
        return doc


@dataclass
class PendingQuery:
    """A callback or inline query waiting for the bot's answer."""

    id: str
    kind: str
    user_id: int
    created: float
    answered: bool = False


@dataclass(eq=False)
class Req:
    """One Bot API request as the emulator saw and answered it."""

    method: str
    params: JSON
    time: float
    ok: bool = True
    error_code: int | None = None
    description: str | None = None
    result: Any = None
    duration: float = 0.0
    injected: bool = False
    ignored: list[str] = field(default_factory=list)
    content_type: str = ""

    def __repr__(self) -> str:
        outcome = "ok" if self.ok else f"{self.error_code} {self.description!r}"
        return f"Req({self.method} {outcome} params={_clip(repr(self.params), 300)})"


def update_type(update: JSON) -> str:
    """The update's kind (its payload key), or "unknown" for fuzzed shapes."""
    for key in update:
        if key in UPDATE_TYPES:
            return key
    return "unknown"


class UpdateQueue:
    """Pending updates with getUpdates offset/limit/allowed_updates semantics and long-poll waiting."""

    def __init__(self, first_id: int = 1) -> None:
        self._pending: deque[tuple[int, str, JSON]] = deque()
        self.next_id = first_id
        self.last_pushed = first_id - 1
        self.handled_upto = first_id - 1
        self.allowed: frozenset[str] = DEFAULT_ALLOWED
        self._waiters: list[asyncio.Future[None]] = []

    def __len__(self) -> int:
        return len(self._pending)

    @property
    def all_fetched(self) -> bool:
        """True once every pushed update was returned by getUpdates or dropped."""
        return self.handled_upto >= self.last_pushed

    def push(self, update: JSON) -> int:
        """Queue an update, assigning update_id if missing; wake long-polls."""
        update_id = update.get("update_id")
        if not isinstance(update_id, int) or isinstance(update_id, bool):
            update_id = self.next_id
            update = {"update_id": update_id, **update}
        self.next_id = max(self.next_id, update_id + 1)
        self.last_pushed = max(self.last_pushed, update_id)
        self._pending.append((update_id, update_type(update), update))
        self.wake()
        return update_id

    def wake(self) -> None:
        """Release every waiting long-poll."""
        waiters, self._waiters = self._waiters, []
        for waiter in waiters:
            if not waiter.done():
                waiter.set_result(None)

    def set_allowed(self, allowed: list[str] | None) -> None:
        """Apply getUpdates/setWebhook allowed_updates (None keeps the previous setting)."""
        if allowed is None:
            return
        self.allowed = frozenset(allowed) & UPDATE_TYPES or DEFAULT_ALLOWED

    def confirm(self, offset: int) -> None:
        """Forget updates below a positive offset, or all but the last -offset ones."""
        pending = self._pending
        if offset > 0:
            while pending and pending[0][0] < offset:
                pending.popleft()
            self.handled_upto = max(self.handled_upto, offset - 1)
        elif offset < 0:
            while len(pending) > -offset:
                self.handled_upto = max(self.handled_upto, pending.popleft()[0])

    def peek(self) -> JSON | None:
        """The oldest pending update a webhook should get, left pending; disallowed ones are skipped for good."""
        pending = self._pending
        while pending and pending[0][1] != "unknown" and pending[0][1] not in self.allowed:
            self.handled_upto = max(self.handled_upto, pending.popleft()[0])
        return pending[0][2] if pending else None

    def drop_all(self) -> None:
        """Forget every pending update (drop_pending_updates)."""
        self._pending.clear()
        self.handled_upto = self.last_pushed

    def take(self, limit: int) -> list[JSON]:
        """Up to limit unconfirmed allowed updates, oldest first; disallowed ones are skipped for good."""
        result: list[JSON] = []
        allowed = self.allowed
        pending = self._pending
        last_seen = None
        while pending and pending[0][1] != "unknown" and pending[0][1] not in allowed:
            last_seen = pending.popleft()[0]
        for update_id, kind, update in pending:
            if len(result) >= limit:
                break
            last_seen = update_id
            if kind == "unknown" or kind in allowed:
                result.append(update)
        if last_seen is not None:
            self.handled_upto = max(self.handled_upto, last_seen)
        return result

    async def wait(self, seconds: float) -> None:
        """Sleep until an update is pushed, wake() is called or `seconds` pass."""
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.append(waiter)
        try:
            await asyncio.wait_for(waiter, seconds)
        except TimeoutError:
            pass
        finally:
            if waiter in self._waiters:
                self._waiters.remove(waiter)


class EmulatorState:
    """Everything the emulated Telegram remembers about one bot."""

    def __init__(self, bot: FakeUser) -> None:
        self.bot = bot
        self.users: dict[int, FakeUser] = {}
        self.chats: dict[int, Chat] = {}
        self.updates = UpdateQueue()
        self.files: dict[str, StoredFile] = {}
        self.file_paths: dict[str, StoredFile] = {}
        self.queries: dict[str, PendingQuery] = {}
        self.clock_offset = 0.0
        self.webhook: JSON | None = None
        self.webhook_error: tuple[int, str] | None = None  # (date, message) of the last failed delivery
        self.commands: dict[tuple[str, str], list[JSON]] = {}
        self.descriptions: dict[str, str] = {}
        self.short_descriptions: dict[str, str] = {}
        self.inline_answers: dict[str, JSON] = {}
        self.callback_answers: dict[str, JSON] = {}
        self.chat_actions: list[tuple[int, str]] = []
        self.inline_edits: list[JSON] = []
        self.blocked: set[int | str] = set()
        self._counter = 0

    def now(self) -> float:
        """Emulated wall clock (real time plus clock_offset)."""
        return time.time() + self.clock_offset

    def new_id(self, prefix: str) -> str:
        """A fresh opaque identifier."""
        self._counter += 1
        return f"{prefix}{self.bot.id:x}{self._counter:08d}"

    def private_chat(self, user: FakeUser) -> Chat:
        """The user's private chat with the bot, created on first contact."""
        chat = self.chats.get(user.id)
        if chat is None:
            chat = Chat(
                user.id, "private", username=user.username, first_name=user.first_name, last_name=user.last_name
            )
            self.chats[user.id] = chat
        return chat

    def group_chat(self, chat_id: int, chat_type: str, title: str | None = None) -> Chat:
        """A group, supergroup or channel, created on first contact."""
        chat = self.chats.get(chat_id)
        if chat is None:
            chat = Chat(chat_id, chat_type, title=title or f"{chat_type.title()} {abs(chat_id)}")
            self.chats[chat_id] = chat
        return chat

    def find_chat(self, chat_ref: int | str) -> Chat | None:
        """Resolve a chat_id parameter: an id, or @username of a public supergroup/channel."""
        if isinstance(chat_ref, int):
            return self.chats.get(chat_ref)
        name = chat_ref.removeprefix("@").lower()
        for chat in self.chats.values():
            if chat.type in ("supergroup", "channel") and (chat.username or "").lower() == name:
                return chat
        return None
