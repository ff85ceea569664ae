"""BotApiEmulator: the public face of the loopback Bot API used by tests and benchmarks."""

from __future__ import annotations

import asyncio
import json
import re
import time
from collections.abc import Callable
from types import TracebackType
from typing import Any

from .faults import DelayRule, FaultRule
from .html_entities import utf16_len
from .methods import file_suffix
from .server import ApiServer
from .state import JSON, Chat, EmulatorState, FakeUser, Msg, PendingQuery, Req, StoredFile
from .validate import CANONICAL
from .webhook import REGISTERED, Delivery, WebhookPusher

DEFAULT_TOKEN = "123456789:AAtest-token-for-the-emulator-only_x"
_COMMAND_RE = re.compile(r"/[A-Za-z0-9_]{1,64}(@[A-Za-z0-9_]{3,32})?")
_MESSAGE_KEYS = ("message", "edited_message", "channel_post", "edited_channel_post")
_NEW_MESSAGE_KEYS = ("message", "channel_post")
ChatRef = int | FakeUser
_BUSY_SLACK = 0.03


def command_entities(text: str) -> list[JSON]:
    """The bot_command entity Telegram puts on a text that starts with a command, if it does."""
    match = _COMMAND_RE.match(text)
    return [{"type": "bot_command", "offset": 0, "length": utf16_len(match.group())}] if match else []


class BotApiEmulator:
    """A strict Telegram Bot API on 127.0.0.1 that a real python-telegram-bot Application can poll."""

    def __init__(
        self,
        token: str = DEFAULT_TOKEN,
        bot_username: str = "tropa_test_bot",
        *,
        bot_first_name: str = "Tropa Test",
        first_update_id: int = 1,
    ) -> None:
        self.token = token
        self.bot = FakeUser(int(token.split(":", 1)[0]), bot_first_name, username=bot_username, is_bot=True)
        self.state = EmulatorState(self.bot)
        self.state.updates.next_id = first_update_id
        self.state.updates.last_pushed = self.state.updates.handled_upto = first_update_id - 1
        self.server = ApiServer(token, self.state)
        self.webhook_pusher = WebhookPusher(self.state)
        self._query_ids: dict[int, str] = {}
        # Checks a test may add for work the emulator cannot see (a handler busy in its database thread): while any
        # says busy, the bot is not idle.
        self.busy_checks: list[Callable[[], bool]] = []

    async def start(self) -> None:
        """Bind 127.0.0.1 on a free port and serve in the running loop."""
        await self.server.start()

    async def stop(self) -> None:
        """Stop webhook deliveries, answer pending long-polls and shut the server down."""
        await self.webhook_pusher.stop()
        await self.server.stop()

    async def __aenter__(self) -> BotApiEmulator:
        await self.start()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.stop()

    @property
    def port(self) -> int:
        """The bound TCP port (0 before start)."""
        return self.server.port

    @property
    def base_url(self) -> str:
        """For ApplicationBuilder().base_url(...); PTB appends the token."""
        return f"http://127.0.0.1:{self.port}/bot"

    @property
    def base_file_url(self) -> str:
        """For ApplicationBuilder().base_file_url(...)."""
        return f"http://127.0.0.1:{self.port}/file/bot"

    def user(
        self,
        user_id: int,
        first_name: str = "Test",
        last_name: str | None = None,
        username: str | None = None,
        language_code: str | None = None,
        *,
        is_premium: bool | None = None,
    ) -> FakeUser:
        """A user who can write to the bot, click buttons and type inline queries."""
        user = FakeUser(user_id, first_name, last_name, username, language_code, is_premium=is_premium)
        self.state.users[user_id] = user
        return user

    def _chat_for(self, user: FakeUser, chat_type: str, chat_id: int | None, title: str | None = None) -> Chat:
        if chat_type == "private":
            if chat_id not in (None, user.id):
                raise ValueError("a private chat's id is the user's id")
            return self.state.private_chat(user)
        if chat_type not in ("group", "supergroup", "channel"):
            raise ValueError(f"unknown chat_type {chat_type!r}")
        if chat_id is None:
            chat_id = -user.id if chat_type == "group" else -(10**12 + user.id)
        if chat_id >= 0:
            raise ValueError("group, supergroup and channel ids are negative")
        return self.state.group_chat(chat_id, chat_type, title)

    def send_message(
        self,
        user: FakeUser,
        text: str,
        *,
        chat_type: str = "private",
        chat_id: int | None = None,
        entities: list[JSON] | None = None,
        reply_to: int | None = None,
        title: str | None = None,
    ) -> int:
        """Push a text message from user (commands get a bot_command entity); returns the update_id."""
        chat = self._chat_for(user, chat_type, chat_id, title)
        if entities is None:
            entities = command_entities(text)
        channel = chat.type == "channel"
        msg = Msg(
            message_id=chat.allocate_id(),
            chat=chat,
            sender=None if channel else user.to_api(),
            from_bot=False,
            date=int(self.state.now()),
            text=text,
            html=text,
            entities=entities,
            reply_to=chat.messages.get(reply_to) if reply_to is not None else None,
        )
        if channel:
            msg.extra["sender_chat"] = chat.to_api()
        chat.add(msg)
        return self.state.updates.push({"channel_post" if channel else "message": msg.to_api()})

    def backfill(self, user: FakeUser, count: int, *, age: float = 0.0) -> list[int]:
        """Put count earlier messages in the user's private chat, the user's and the bot's in turn, dated `age`
        seconds ago; no updates are pushed (they are history the bot already handled). Returns their ids."""
        chat = self._chat_for(user, "private", None)
        ids = []
        for number in range(count):
            from_bot = number % 2 == 1
            msg = Msg(
                message_id=chat.allocate_id(),
                chat=chat,
                sender=self.bot.to_api() if from_bot else user.to_api(),
                from_bot=from_bot,
                date=int(self.state.now() - age),
                text=f"earlier message {number + 1}",
                html=f"earlier message {number + 1}",
            )
            ids.append(chat.add(msg).message_id)
        return ids

    def upload(self, data: bytes, filename: str) -> JSON:
        """A file as a user uploads it: the Document object, which the bot can getFile and download."""
        file_id = self.state.new_id("BQAD")
        path = f"documents/upload_{len(self.state.files)}.{file_suffix(filename)}"
        stored = StoredFile(file_id, file_id[-16:], data, path, filename, None)
        self.state.files[file_id] = stored
        self.state.file_paths[path] = stored
        return stored.document()

    def send_document(self, user: FakeUser, data: bytes, filename: str, caption: str | None = None) -> int:
        """Push a private message with a document the user uploaded; the bot can getFile and download it."""
        chat = self._chat_for(user, "private", None)
        document = self.upload(data, filename)
        msg = Msg(
            message_id=chat.allocate_id(),
            chat=chat,
            sender=user.to_api(),
            from_bot=False,
            date=int(self.state.now()),
            caption=caption,
            document=document,
        )
        chat.add(msg)
        return self.state.updates.push({"message": msg.to_api()})

    def send_update(self, raw: JSON) -> int:
        """Push any raw update (update_id filled in if missing); well-formed chats/messages are remembered.

        A new message or channel post without a message_id gets its chat's next one, as Telegram would give it.
        An update never brings a deleted message back; an inaccessible message (date 0) only tells of its chat.
        """
        raw = dict(raw)
        self._absorb(raw)
        return self.state.updates.push(raw)

    def issue_query(self, kind: str, user: FakeUser) -> str:
        """A fresh callback ("callback") or inline ("inline") query id, as Telegram issues one, answerable once."""
        query_id = self.state.new_id("")
        self.state.queries[query_id] = PendingQuery(query_id, kind, user.id, self.state.now())
        return query_id

    def _absorb(self, raw: JSON) -> None:
        for key in _NEW_MESSAGE_KEYS:
            message = raw.get(key)
            if isinstance(message, dict) and "message_id" not in message:
                chat = self._chat_of(message)
                if chat is not None:
                    raw[key] = {"message_id": chat.allocate_id(), **message}
        candidates = [raw.get(key) for key in _MESSAGE_KEYS]
        callback = raw.get("callback_query")
        if isinstance(callback, dict):
            candidates.append(callback.get("message"))
        for message in candidates:
            try:
                self._absorb_message(message)
            except (TypeError, ValueError, KeyError, AttributeError):
                continue

    def _chat_of(self, message: JSON) -> Chat | None:
        """The chat a raw message names, remembered on first sight; None if it names none."""
        info = message.get("chat")
        if not isinstance(info, dict):
            return None
        chat_id, chat_type = info.get("id"), info.get("type")
        if not isinstance(chat_id, int) or isinstance(chat_id, bool) or not isinstance(chat_type, str):
            return None
        chat = self.state.chats.get(chat_id)
        if chat is None:
            fields: dict[str, Any] = {k: info.get(k) for k in ("title", "username", "first_name", "last_name")}
            chat = self.state.chats[chat_id] = Chat(chat_id, chat_type, **fields)
        return chat

    def _absorb_message(self, message: Any) -> None:
        if not isinstance(message, dict):
            return
        chat = self._chat_of(message)
        message_id = message.get("message_id")
        if chat is None or message.get("date") == 0 or not isinstance(message_id, int) or isinstance(message_id, bool):
            return
        earlier = chat.messages.get(message_id)
        if earlier is not None and earlier.deleted:
            return
        sender = message.get("from")
        known = {"message_id", "from", "chat", "date", "text", "entities"}
        date = message.get("date")
        chat.add(
            Msg(
                message_id=message_id,
                chat=chat,
                sender=sender if isinstance(sender, dict) else None,
                from_bot=bool(isinstance(sender, dict) and sender.get("id") == self.bot.id),
                date=date if isinstance(date, int) else int(self.state.now()),
                text=message.get("text") if isinstance(message.get("text"), str) else None,
                html=message.get("text") if isinstance(message.get("text"), str) else None,
                entities=list(message.get("entities") or []),
                extra={k: val for k, val in message.items() if k not in known},
            )
        )

    def delete(self, chat_id: ChatRef, message_id: int) -> None:
        """The person deleted a message (in a private chat, for both sides); the bot is not told."""
        self.message(chat_id, message_id).deleted = True

    def click(self, user: FakeUser, message_id: int, data: str, *, chat_id: int | None = None) -> int:
        """Push a callback_query from user on a message (default: in user's private chat) with any data."""
        chat = self.state.chats.get(user.id if chat_id is None else chat_id)
        msg = chat.messages.get(message_id) if chat is not None else None
        if chat is None or msg is None or msg.deleted:
            raise LookupError(f"no live message {message_id} in chat {chat_id or user.id}")
        query_id = self.issue_query("callback", user)
        callback = {
            "id": query_id,
            "from": user.to_api(),
            "message": msg.to_api(),
            "chat_instance": str((chat.id * 2654435761) % 10**18),
            "data": data,
        }
        update_id = self.state.updates.push({"callback_query": callback})
        self._query_ids[update_id] = query_id
        return update_id

    def inline_query(self, user: FakeUser, query: str, offset: str = "", *, chat_type: str | None = None) -> int:
        """Push an inline_query; the bot's answer lands in inline_answers[inline_query_id]."""
        query_id = self.issue_query("inline", user)
        inline: JSON = {"id": query_id, "from": user.to_api(), "query": query, "offset": offset}
        if chat_type is not None:
            inline["chat_type"] = chat_type
        update_id = self.state.updates.push({"inline_query": inline})
        self._query_ids[update_id] = query_id
        return update_id

    def last_update_id(self) -> int:
        """The update_id of the most recently pushed update."""
        return self.state.updates.last_pushed

    def query_id_of(self, update_id: int) -> str:
        """The callback/inline query id carried by an update pushed with click() or inline_query()."""
        return self._query_ids[update_id]

    async def wait_idle(self, timeout: float = 5.0, *, quiet: float = 0.15) -> None:  # noqa: ASYNC109
        """Wait until every pushed update was fetched, the bot made no request for `quiet` seconds and no busy check
        says busy."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        server, updates, pusher = self.server, self.state.updates, self.webhook_pusher
        unblocked_at = 0.0
        while True:
            now = time.monotonic()
            if any(busy() for busy in self.busy_checks):
                unblocked_at = now
            silent_for = now - max(server.last_activity, pusher.last_activity, unblocked_at)
            in_flight = server.in_flight + pusher.in_flight
            if updates.all_fetched and in_flight == 0 and silent_for >= quiet:
                return
            if loop.time() >= deadline:
                raise TimeoutError(
                    f"emulator not idle after {timeout}s: {updates.last_pushed - updates.handled_upto} updates "
                    f"not fetched, {in_flight} requests in flight, last request {silent_for:.3f}s ago"
                )
            step = min(max(quiet - silent_for, 0.002), 0.02)
            await asyncio.sleep(step)
            # A sleep that overshoots means the loop was busy (bot CPU work, a GC pause): not quiet time.
            if time.monotonic() - now > step + _BUSY_SLACK:
                unblocked_at = time.monotonic()

    async def wait_for(self, predicate: Callable[[], bool], timeout: float = 5.0) -> None:  # noqa: ASYNC109
        """Wait until predicate() is true; TimeoutError otherwise."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while not predicate():
            if loop.time() >= deadline:
                raise TimeoutError(f"condition not met within {timeout}s")
            await asyncio.sleep(0.005)

    def chat(self, chat_id: ChatRef) -> Chat | None:
        """The chat by id (or a user's private chat), if the bot has seen it."""
        return self.state.chats.get(chat_id.id if isinstance(chat_id, FakeUser) else chat_id)

    def messages(self, chat_id: ChatRef) -> list[Msg]:
        """Every message in the chat in order, the user's and deleted ones included."""
        chat = self.chat(chat_id)
        return list(chat.messages.values()) if chat is not None else []

    def message(self, chat_id: ChatRef, message_id: int) -> Msg:
        """One message by id."""
        chat = self.chat(chat_id)
        if chat is None or message_id not in chat.messages:
            raise LookupError(f"no message {message_id} in chat {chat_id}")
        return chat.messages[message_id]

    def bot_messages(self, chat_id: ChatRef) -> list[Msg]:
        """The bot's messages in the chat that are not deleted."""
        return [m for m in self.messages(chat_id) if m.from_bot and not m.deleted]

    def last_bot_message(self, chat_id: ChatRef) -> Msg:
        """The bot's latest live message in the chat."""
        messages = self.bot_messages(chat_id)
        if not messages:
            raise LookupError(f"the bot has no live messages in chat {chat_id}")
        return messages[-1]

    @property
    def requests(self) -> list[Req]:
        """Every request received, in arrival order."""
        return self.server.requests

    @property
    def refused(self) -> list[Req]:
        """Requests Telegram would refuse (ok=false not caused by injected faults)."""
        return self.server.refused

    def calls(self, method: str) -> list[Req]:
        """Requests of one method (case-insensitive name)."""
        return list(self.server.by_method.get(CANONICAL.get(method.lower(), method), []))

    def clear_requests(self) -> None:
        """Forget recorded requests and refusals (e.g. between benchmark rounds)."""
        self.server.clear_log()

    @property
    def my_commands(self) -> dict[str, list[JSON]]:
        """Default-scope commands by language_code ("" for all languages)."""
        default = json.dumps({"type": "default"})
        return {lang: cmds for (scope, lang), cmds in self.state.commands.items() if scope == default}

    @property
    def commands(self) -> dict[tuple[str, str], list[JSON]]:
        """All commands by (scope as canonical JSON, language_code)."""
        return self.state.commands

    @property
    def descriptions(self) -> dict[str, str]:
        """setMyDescription values by language_code."""
        return self.state.descriptions

    @property
    def short_descriptions(self) -> dict[str, str]:
        """setMyShortDescription values by language_code."""
        return self.state.short_descriptions

    @property
    def inline_answers(self) -> dict[str, JSON]:
        """answerInlineQuery params by inline_query_id."""
        return self.state.inline_answers

    @property
    def callback_answers(self) -> dict[str, JSON]:
        """answerCallbackQuery params by callback_query_id."""
        return self.state.callback_answers

    @property
    def chat_actions(self) -> list[tuple[int, str]]:
        """(chat_id, action) of every accepted sendChatAction."""
        return self.state.chat_actions

    @property
    def webhook(self) -> JSON | None:
        """The webhook set by setWebhook, if any."""
        return self.state.webhook

    def route_webhook(self, address: str) -> None:
        """Deliver updates to the webhook: requests to its https URL reach http://127.0.0.1:PORT (the proxy's job)."""
        self.webhook_pusher.set_route(address)

    def forge_webhook_secret(self, secret: str | None = REGISTERED) -> None:
        """Send this X-Telegram-Bot-Api-Secret-Token from now on (None: none at all; default: the registered one)."""
        self.webhook_pusher.secret = secret

    @property
    def webhook_deliveries(self) -> list[Delivery]:
        """Every POST made to the webhook, in order, with the answer."""
        return self.webhook_pusher.deliveries

    async def post_to_webhook(self, update: JSON, secret: str | None) -> int | None:
        """POST an update straight to the routed webhook, bypassing the queue, as a stranger who found the URL would.

        Returns the HTTP status (None if nothing answered).
        """
        hook = self.state.webhook
        if hook is None or self.webhook_pusher.route is None:
            raise LookupError("no webhook is set and routed")
        return await self.webhook_pusher.post(update, secret, self.webhook_pusher.target(hook))

    def file_bytes(self, file_id: str) -> bytes:
        """Bytes of an uploaded file."""
        return self.state.files[file_id].data

    @property
    def clock_offset(self) -> float:
        """Seconds added to real time for message dates and age checks."""
        return self.state.clock_offset

    @clock_offset.setter
    def clock_offset(self, value: float) -> None:
        self.state.clock_offset = value

    def advance(self, seconds: float) -> None:
        """Move the emulated clock forward."""
        self.state.clock_offset += seconds

    def fail(
        self,
        method: str,
        *,
        code: int,
        times: int = 1,
        retry_after: int | None = None,
        description: str | None = None,
        chat_id: int | None = None,
    ) -> None:
        """Answer the next `times` calls of method (optionally for one chat) with an error."""
        canonical = CANONICAL.get(method.lower(), method)
        self.server.faults.faults.append(FaultRule(canonical, code, times, retry_after, description, chat_id))

    def delay(self, method: str, seconds: float, times: int | None = None) -> None:
        """Hold back answers of method by `seconds` (the next `times` calls, or all)."""
        canonical = CANONICAL.get(method.lower(), method)
        self.server.faults.delays.append(DelayRule(canonical, seconds, times))

    def clear_faults(self) -> None:
        """Drop every pending fault and delay."""
        self.server.faults.clear()

    def block(self, chat_id: ChatRef) -> None:
        """The user blocked the bot: sends to the chat answer 403."""
        self.state.blocked.add(chat_id.id if isinstance(chat_id, FakeUser) else chat_id)

    def unblock(self, chat_id: ChatRef) -> None:
        """The user unblocked the bot."""
        self.state.blocked.discard(chat_id.id if isinstance(chat_id, FakeUser) else chat_id)

    def rate_limit(self, per_second: float | None, per_chat_per_second: float | None = 1.0) -> None:
        """Enable flood control for sends (None disables a limit); resets the sliding windows."""
        self.server.limiter.configure(per_second, per_chat_per_second)

    @property
    def paid_rate(self) -> float:
        """Per-second limit for sends with allow_paid_broadcast=true."""
        return self.server.limiter.paid_rate

    @paid_rate.setter
    def paid_rate(self, value: float) -> None:
        self.server.limiter.paid_rate = value
