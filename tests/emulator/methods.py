"""Bot API method implementations over EmulatorState."""

from __future__ import annotations

import asyncio
import hashlib
import mimetypes
import re
from collections.abc import Awaitable, Callable
from typing import Any

from . import markup as mk
from . import validate as v
from .errors import BLOCKED, NOT_MODIFIED, QUERY_TOO_OLD, ApiError, bad_request
from .faults import RateLimiter
from .state import JSON, Chat, EmulatorState, Msg, StoredFile

Handler = Callable[[JSON], Awaitable[Any]]

MAX_UPLOAD = 50 * 1024 * 1024
QUERY_LIFETIME = 15 * 60
DELETE_WINDOW = 48 * 3600
CONFLICT_WEBHOOK = (
    "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first"
)
CONFLICT_POLL = "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running"


def file_suffix(name: str) -> str:
    """The extension Telegram keeps in a file_path, which it names itself whatever the uploader called the file."""
    suffix = re.sub(r"[^A-Za-z0-9]", "", name.rsplit(".", 1)[-1] if "." in name else "")[:10]
    return suffix or "bin"


class _Poll:
    """One getUpdates call that is long-polling."""

    def __init__(self, alive: Callable[[], bool]) -> None:
        self.alive = alive
        self.terminated = False


class BotApi:
    """The implemented methods; each takes decoded params and returns the result or raises ApiError."""

    def __init__(self, state: EmulatorState, limiter: RateLimiter) -> None:
        self.st = state
        self.limiter = limiter
        self.closing = False
        self._poll: _Poll | None = None
        self.handlers: dict[str, Handler] = {
            "getMe": self.get_me,
            "logOut": self.ok,
            "close": self.ok,
            "setWebhook": self.set_webhook,
            "deleteWebhook": self.delete_webhook,
            "getWebhookInfo": self.get_webhook_info,
            "sendMessage": self.send_message,
            "copyMessage": self.copy_message,
            "editMessageText": self.edit_message_text,
            "editMessageReplyMarkup": self.edit_message_reply_markup,
            "deleteMessage": self.delete_message,
            "deleteMessages": self.delete_messages,
            "answerCallbackQuery": self.answer_callback_query,
            "answerInlineQuery": self.answer_inline_query,
            "setMyCommands": self.set_my_commands,
            "getMyCommands": self.get_my_commands,
            "deleteMyCommands": self.delete_my_commands,
            "setMyDescription": self.set_my_description,
            "setMyShortDescription": self.set_my_short_description,
            "getMyDescription": self.get_my_description,
            "getMyShortDescription": self.get_my_short_description,
            "sendDocument": self.send_document,
            "getFile": self.get_file,
            "sendChatAction": self.send_chat_action,
        }

    def bot_user(self) -> JSON:
        """The bot as the sender of its messages."""
        return self.st.bot.to_api()

    def chat_of(self, params: JSON, key: str = "chat_id", *, sending: bool = False) -> Chat:
        """Resolve a chat parameter; refuse unknown chats and, for sends, blocked ones."""
        ref = params.get(key)
        if ref is None:
            raise bad_request(f"{key} is empty")
        if sending and ref in self.st.blocked:
            raise ApiError(403, BLOCKED)
        chat = self.st.find_chat(ref)
        if chat is None:
            raise bad_request("chat not found")
        if sending and chat.id in self.st.blocked:
            raise ApiError(403, BLOCKED)
        return chat

    def admit(self, chat: Chat, params: JSON) -> None:
        """Apply flood control to one send."""
        if self.limiter.enabled:
            error = self.limiter.check(chat.id, bool(params.get("allow_paid_broadcast")))
            if error is not None:
                raise error

    def reply_target(self, chat: Chat, params: JSON) -> Msg | None:
        """The message replied to, refusing a missing one unless allow_sending_without_reply."""
        reply = v.check_reply_parameters(params)
        if reply is None:
            return None
        target_chat = chat
        if reply.get("chat_id") is not None:
            found = self.st.find_chat(reply["chat_id"])
            if found is None:
                raise bad_request("chat not found")
            target_chat = found
        target = target_chat.messages.get(reply["message_id"])
        if target is None or target.deleted:
            if reply.get("allow_sending_without_reply"):
                return None
            raise bad_request("message to be replied not found")
        return target

    def new_bot_message(self, chat: Chat, params: JSON, reply_to: Msg | None) -> Msg:
        """A message from the bot with the common send options applied."""
        msg = Msg(
            message_id=chat.allocate_id(),
            chat=chat,
            sender=self.bot_user(),
            from_bot=True,
            date=int(self.st.now()),
            disable_notification=bool(params.get("disable_notification")),
            protect_content=bool(params.get("protect_content")),
            allow_paid_broadcast=bool(params.get("allow_paid_broadcast")),
            message_thread_id=params.get("message_thread_id"),
            reply_parameters=params.get("reply_parameters"),
            reply_to=reply_to,
        )
        return chat.add(msg)

    def message_of(self, params: JSON, missing: str) -> tuple[Chat, Msg]:
        """The chat and live message named by chat_id/message_id."""
        chat = self.chat_of(params)
        message_id = params.get("message_id")
        if message_id is None:
            raise bad_request("message identifier is not specified")
        msg = chat.messages.get(message_id)
        if msg is None or msg.deleted:
            raise bad_request(missing)
        return chat, msg

    def take_query(self, query_id: str, kind: str) -> None:
        """Mark a callback/inline query answered, refusing unknown, answered or expired ones."""
        query = self.st.queries.get(query_id)
        if query is None or query.kind != kind or query.answered or self.st.now() - query.created > QUERY_LIFETIME:
            raise bad_request(QUERY_TOO_OLD)
        query.answered = True

    async def ok(self, params: JSON) -> bool:
        """logOut/close: nothing to do."""
        return True

    async def get_me(self, params: JSON) -> JSON:
        """The bot's User with its capabilities."""
        return {
            **self.bot_user(),
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": True,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    async def set_webhook(self, params: JSON) -> bool:
        """Store the webhook; an empty url removes it like Telegram."""
        url = params.get("url", "")
        if not url:
            return await self.delete_webhook(params)
        if not url.lower().startswith("https://"):
            raise bad_request("bad webhook: An HTTPS URL must be provided for webhook")
        v.check_secret_token(params.get("secret_token"))
        allowed = self.allowed_updates(params)
        self.st.updates.set_allowed(allowed)
        if params.get("drop_pending_updates"):
            self.st.updates.drop_all()
        self.st.webhook = {
            "url": url,
            "secret_token": params.get("secret_token"),
            "max_connections": min(max(params.get("max_connections", 40), 1), 100),
            "allowed_updates": allowed,
        }
        return True

    async def delete_webhook(self, params: JSON) -> bool:
        """Remove the webhook, optionally dropping pending updates."""
        self.st.webhook = None
        if params.get("drop_pending_updates"):
            self.st.updates.drop_all()
        return True

    async def get_webhook_info(self, params: JSON) -> JSON:
        """WebhookInfo for the stored webhook (url "" when polling)."""
        hook = self.st.webhook
        info: JSON = {"url": "", "has_custom_certificate": False, "pending_update_count": len(self.st.updates)}
        if hook is not None:
            info["url"] = hook["url"]
            info["max_connections"] = hook["max_connections"]
            if hook["allowed_updates"] is not None:
                info["allowed_updates"] = hook["allowed_updates"]
            if self.st.webhook_error is not None:
                info["last_error_date"], info["last_error_message"] = self.st.webhook_error
        return info

    @staticmethod
    def allowed_updates(params: JSON) -> list[str] | None:
        """The allowed_updates list, if given."""
        allowed = params.get("allowed_updates")
        if allowed is not None and (not isinstance(allowed, list) or not all(isinstance(x, str) for x in allowed)):
            raise bad_request("can't parse allowed updates JSON object")
        return allowed

    async def get_updates(self, params: JSON, alive: Callable[[], bool]) -> list[JSON]:
        """Confirm by offset, return up to limit updates, long-polling up to timeout seconds."""
        if self.st.webhook is not None:
            raise ApiError(409, CONFLICT_WEBHOOK)
        queue = self.st.updates
        queue.set_allowed(self.allowed_updates(params))
        queue.confirm(params.get("offset", 0))
        limit = min(max(params.get("limit", 100), 1), 100)
        timeout = max(params.get("timeout", 0.0), 0.0)
        previous = self._poll
        if previous is not None:
            previous.terminated = True
            queue.wake()
        updates = queue.take(limit)
        if updates or timeout <= 0 or self.closing:
            return updates
        poll = self._poll = _Poll(alive)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        try:
            while not updates and not self.closing:
                remaining = deadline - loop.time()
                if remaining <= 0:
                    break
                await queue.wait(remaining)
                if poll.terminated:
                    if poll.alive():
                        raise ApiError(409, CONFLICT_POLL)
                    return []
                updates = queue.take(limit)
        finally:
            if self._poll is poll:
                self._poll = None
        return updates

    def shutdown(self) -> None:
        """Release every long-poll so the server can stop."""
        self.closing = True
        self.st.updates.wake()

    async def send_message(self, params: JSON) -> JSON:
        """sendMessage with text parsing, markup validation, reply and flood checks."""
        text, entities = v.format_text(params["text"], v.parse_mode_of(params), params.get("entities"))
        markup = mk.check_reply_markup(params.get("reply_markup"))
        preview = v.check_link_preview(params)
        chat = self.chat_of(params, sending=True)
        reply_to = self.reply_target(chat, params)
        self.admit(chat, params)
        msg = self.new_bot_message(chat, params, reply_to)
        msg.text, msg.html, msg.entities, msg.reply_markup = text, params["text"], entities, markup
        msg.parse_mode, msg.link_preview_options = params.get("parse_mode"), preview
        return msg.to_api()

    async def copy_message(self, params: JSON) -> JSON:
        """copyMessage: a bot message with the source's content and an optional new caption."""
        source_chat = self.chat_of(params, "from_chat_id")
        source = source_chat.messages.get(params["message_id"])
        if source is None or source.deleted:
            raise bad_request("message to copy not found")
        markup = mk.check_reply_markup(params.get("reply_markup"))
        caption, caption_entities = source.caption, source.caption_entities
        if "caption" in params:
            caption, caption_entities = v.format_text(
                params["caption"], v.parse_mode_of(params), params.get("caption_entities"), caption=True
            )
        chat = self.chat_of(params, sending=True)
        reply_to = self.reply_target(chat, params)
        self.admit(chat, params)
        msg = self.new_bot_message(chat, params, reply_to)
        msg.text, msg.html, msg.entities = source.text, source.html, list(source.entities)
        msg.document, msg.caption, msg.caption_entities = source.document, caption, caption_entities
        msg.reply_markup = markup
        msg.extra = dict(source.extra)
        return {"message_id": msg.message_id}

    async def send_document(self, params: JSON) -> JSON:
        """sendDocument: store the uploaded bytes (or reuse a file_id) and send a document message."""
        caption: str | None = None
        caption_entities: list[JSON] = []
        if "caption" in params:
            caption, caption_entities = v.format_text(
                params["caption"], v.parse_mode_of(params), params.get("caption_entities"), caption=True
            )
        markup = mk.check_reply_markup(params.get("reply_markup"))
        stored = self.input_file(params, "document")
        chat = self.chat_of(params, sending=True)
        reply_to = self.reply_target(chat, params)
        self.admit(chat, params)
        msg = self.new_bot_message(chat, params, reply_to)
        msg.document, msg.reply_markup = stored.document(), markup
        msg.caption, msg.caption_html, msg.caption_entities = caption or None, params.get("caption"), caption_entities
        return msg.to_api()

    def input_file(self, params: JSON, name: str) -> StoredFile:
        """Resolve an InputFile|String parameter to a stored file."""
        value = params[name]
        if isinstance(value, str) and value.startswith("attach://"):
            value = params.get(value.removeprefix("attach://"))
            if not isinstance(value, v.Upload):
                raise bad_request(f"there is no {name} in the request")
        if isinstance(value, v.Upload):
            if not value.data:
                raise bad_request("file must be non-empty")
            if len(value.data) > MAX_UPLOAD:
                raise ApiError(413, "Request Entity Too Large")
            return self.store_file(value.data, value.filename, value.content_type)
        known = self.st.files.get(value)
        if known is not None:
            return known
        if v.valid_url(value) and value.lower().startswith("http"):
            # Telegram would download the URL; the emulator never leaves loopback, so it stores a stub.
            return self.store_file(b"", value.rsplit("/", 1)[-1] or "file", None)
        raise bad_request("wrong file identifier/HTTP URL specified")

    def store_file(self, data: bytes, filename: str | None, content_type: str | None) -> StoredFile:
        """Keep bytes under a new file_id and file_path."""
        file_id = self.st.new_id("BQAC")
        unique = hashlib.sha1(data + file_id.encode(), usedforsecurity=False).hexdigest()[:16]
        name = filename or "file"
        mime = content_type or mimetypes.guess_type(name)[0]
        path = f"documents/file_{len(self.st.files)}.{file_suffix(name)}"
        stored = StoredFile(file_id, unique, data, path, filename, mime)
        self.st.files[file_id] = stored
        self.st.file_paths[path] = stored
        return stored

    async def get_file(self, params: JSON) -> JSON:
        """File with a file_path servable from the file URL."""
        stored = self.st.files.get(params["file_id"])
        if stored is None:
            raise bad_request("invalid file_id")
        return {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "file_size": len(stored.data),
            "file_path": stored.file_path,
        }

    async def edit_message_text(self, params: JSON) -> JSON | bool:
        """editMessageText with Telegram's not-found / not-editable / not-modified refusals."""
        if "text" not in params:
            raise bad_request("message text is empty")
        text, entities = v.format_text(params["text"], v.parse_mode_of(params), params.get("entities"))
        markup = mk.check_reply_markup(params.get("reply_markup"), inline_only=True)
        preview = v.check_link_preview(params)
        if "inline_message_id" in params:
            self.st.inline_edits.append(params)
            return True
        _, msg = self.message_of(params, "message to edit not found")
        if not msg.from_bot:
            raise bad_request("message can't be edited")
        if msg.text is None:
            raise bad_request("there is no text in the message to edit")
        if msg.text == text and msg.entities == entities and msg.reply_markup == markup:
            raise bad_request(NOT_MODIFIED)
        msg.text, msg.html, msg.entities, msg.reply_markup = text, params["text"], entities, markup
        msg.parse_mode, msg.link_preview_options = params.get("parse_mode"), preview
        msg.edited += 1
        msg.edit_date = int(self.st.now())
        return msg.to_api()

    async def edit_message_reply_markup(self, params: JSON) -> JSON | bool:
        """editMessageReplyMarkup; omitting reply_markup removes the keyboard."""
        markup = mk.check_reply_markup(params.get("reply_markup"), inline_only=True)
        if "inline_message_id" in params:
            self.st.inline_edits.append(params)
            return True
        _, msg = self.message_of(params, "message to edit not found")
        if not msg.from_bot:
            raise bad_request("message can't be edited")
        if msg.reply_markup == markup:
            raise bad_request(NOT_MODIFIED)
        msg.reply_markup = markup
        msg.edited += 1
        msg.edit_date = int(self.st.now())
        return msg.to_api()

    def delete_one(self, chat: Chat, message_id: int) -> None:
        """Delete a message or raise Telegram's refusal."""
        msg = chat.messages.get(message_id)
        if msg is None or msg.deleted:
            raise bad_request("message to delete not found")
        if self.st.now() - msg.date > DELETE_WINDOW:
            raise bad_request(
                "message can't be deleted for everyone" if chat.type == "private" else ("message can't be deleted")
            )
        msg.deleted = True

    async def delete_message(self, params: JSON) -> bool:
        """deleteMessage: own or user messages younger than 48 hours."""
        chat = self.chat_of(params)
        self.delete_one(chat, params["message_id"])
        return True

    async def delete_messages(self, params: JSON) -> bool:
        """deleteMessages: 1..100 ids, silently skipping the ones that can't be deleted."""
        chat = self.chat_of(params)
        for message_id in v.check_message_ids(params["message_ids"]):
            try:
                self.delete_one(chat, message_id)
            except ApiError:
                continue
        return True

    async def send_chat_action(self, params: JSON) -> bool:
        """sendChatAction with a known action."""
        action = params["action"]
        if action not in v.CHAT_ACTIONS:
            raise bad_request("wrong parameter action in request")
        chat = self.chat_of(params, sending=True)
        self.st.chat_actions.append((chat.id, action))
        return True

    async def answer_callback_query(self, params: JSON) -> bool:
        """answerCallbackQuery once per query, within 15 minutes, text up to 200 characters."""
        text = params.get("text", "")
        if len(text) > 200:
            raise bad_request("MESSAGE_TOO_LONG")
        if "url" in params and not v.valid_url(params["url"]):
            raise bad_request("URL_INVALID")
        self.take_query(params["callback_query_id"], "callback")
        self.st.callback_answers[params["callback_query_id"]] = params
        return True

    async def answer_inline_query(self, params: JSON) -> bool:
        """answerInlineQuery with validated results."""
        mk.check_inline_results(params["results"])
        if len(params.get("next_offset", "").encode("utf-8")) > 64:
            raise bad_request("NEXT_OFFSET_INVALID")
        button = params.get("button")
        if button is not None and (not isinstance(button, dict) or not button.get("text")):
            raise bad_request("can't parse InlineQueryResultsButton JSON object")
        self.take_query(params["inline_query_id"], "inline")
        self.st.inline_answers[params["inline_query_id"]] = params
        return True

    async def set_my_commands(self, params: JSON) -> bool:
        """Store commands per (scope, language); an empty list deletes them like Telegram."""
        commands = v.check_commands(params["commands"])
        key = (v.check_scope(params), v.check_language(params))
        if not commands:
            self.st.commands.pop(key, None)
        else:
            self.st.commands[key] = [{"command": c["command"], "description": c["description"]} for c in commands]
        return True

    async def get_my_commands(self, params: JSON) -> list[JSON]:
        """Commands for exactly this scope and language."""
        return list(self.st.commands.get((v.check_scope(params), v.check_language(params)), []))

    async def delete_my_commands(self, params: JSON) -> bool:
        """Forget commands for this scope and language."""
        self.st.commands.pop((v.check_scope(params), v.check_language(params)), None)
        return True

    async def set_my_description(self, params: JSON) -> bool:
        """Description up to 512 characters; empty deletes it."""
        return self._set_text(params, "description", self.st.descriptions, 512)

    async def set_my_short_description(self, params: JSON) -> bool:
        """Short description up to 120 characters; empty deletes it."""
        return self._set_text(params, "short_description", self.st.short_descriptions, 120)

    def _set_text(self, params: JSON, key: str, store: dict[str, str], limit: int) -> bool:
        lang = v.check_language(params)
        value = params.get(key, "")
        if len(value) > limit:
            raise bad_request(f"{key.replace('_', ' ')} is too long")
        if value:
            store[lang] = value
        else:
            store.pop(lang, None)
        return True

    async def get_my_description(self, params: JSON) -> JSON:
        """BotDescription for the language ("" when unset)."""
        return {"description": self.st.descriptions.get(v.check_language(params), "")}

    async def get_my_short_description(self, params: JSON) -> JSON:
        """BotShortDescription for the language ("" when unset)."""
        return {"short_description": self.st.short_descriptions.get(v.check_language(params), "")}
