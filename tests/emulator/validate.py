"""Per-method parameter decoding and validation with Telegram's refusals."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, TypeGuard

from .errors import bad_request
from .html_entities import URL_PREFIXES, HtmlParseError, parse_html, sort_entities, trim_formatted, utf16_len

JSON = dict[str, Any]

# Field lists of the reference Bot API JSON; kinds: i int, f float, s string, b bool, c chat id,
# j JSON object/array, file InputFile|String; "!" marks required. getUpdates.timeout is a float
# here (an emulator extension so tests can long-poll for fractions of a second).
_SPECS = {
    "getMe": "",
    "logOut": "",
    "close": "",
    "deleteWebhook": "drop_pending_updates:b",
    "setWebhook": "url:s! certificate:file ip_address:s max_connections:i allowed_updates:j "
    "drop_pending_updates:b secret_token:s",
    "getWebhookInfo": "",
    "getUpdates": "offset:i limit:i timeout:f allowed_updates:j",
    "sendMessage": "business_connection_id:s chat_id:c! message_thread_id:i direct_messages_topic_id:i text:s! "
    "parse_mode:s entities:j link_preview_options:j disable_notification:b protect_content:b "
    "allow_paid_broadcast:b message_effect_id:s suggested_post_parameters:j reply_parameters:j reply_markup:j",
    "copyMessage": "chat_id:c! message_thread_id:i direct_messages_topic_id:i from_chat_id:c! message_id:i! "
    "video_start_timestamp:i caption:s parse_mode:s caption_entities:j show_caption_above_media:b "
    "disable_notification:b protect_content:b allow_paid_broadcast:b message_effect_id:s "
    "suggested_post_parameters:j reply_parameters:j reply_markup:j",
    "editMessageText": "business_connection_id:s chat_id:c message_id:i inline_message_id:s text:s parse_mode:s "
    "entities:j link_preview_options:j rich_message:j reply_markup:j",
    "editMessageReplyMarkup": "business_connection_id:s chat_id:c message_id:i inline_message_id:s reply_markup:j",
    "deleteMessage": "chat_id:c! message_id:i!",
    "deleteMessages": "chat_id:c! message_ids:j!",
    "answerCallbackQuery": "callback_query_id:s! text:s show_alert:b url:s cache_time:i",
    "answerInlineQuery": "inline_query_id:s! results:j! cache_time:i is_personal:b next_offset:s button:j",
    "setMyCommands": "commands:j! scope:j language_code:s",
    "getMyCommands": "scope:j language_code:s",
    "deleteMyCommands": "scope:j language_code:s",
    "setMyDescription": "description:s language_code:s",
    "setMyShortDescription": "short_description:s language_code:s",
    "getMyDescription": "language_code:s",
    "getMyShortDescription": "language_code:s",
    "sendDocument": "business_connection_id:s chat_id:c! message_thread_id:i direct_messages_topic_id:i "
    "document:file! thumbnail:file caption:s parse_mode:s caption_entities:j disable_content_type_detection:b "
    "disable_notification:b protect_content:b allow_paid_broadcast:b message_effect_id:s "
    "suggested_post_parameters:j reply_parameters:j reply_markup:j",
    "getFile": "file_id:s!",
    "sendChatAction": "business_connection_id:s chat_id:c! message_thread_id:i action:s!",
}


def _parse_spec(spec: str) -> dict[str, tuple[str, bool]]:
    fields: dict[str, tuple[str, bool]] = {}
    for item in spec.split():
        name, kind = item.split(":")
        fields[name] = (kind.rstrip("!"), kind.endswith("!"))
    return fields


FIELDS: dict[str, dict[str, tuple[str, bool]]] = {name: _parse_spec(spec) for name, spec in _SPECS.items()}
CANONICAL: dict[str, str] = {name.lower(): name for name in FIELDS}

_MISSING = {
    "chat_id": "chat_id is empty",
    "text": "message text is empty",
    "message_id": "message identifier is not specified",
    "document": "there is no document in the request",
    "action": "wrong parameter action in request",
    "from_chat_id": "from_chat_id is empty",
}
_JSON_LABELS = {
    "reply_markup": "reply keyboard markup",
    "entities": "entities",
    "caption_entities": "caption entities",
    "commands": "commands",
    "results": "inline query results",
    "scope": "BotCommandScope",
    "link_preview_options": "link preview options",
    "reply_parameters": "reply parameters",
    "message_ids": "message identifiers",
    "allowed_updates": "allowed updates",
}
_INT_RE = re.compile(r"\s*[+-]?\d+\s*")
_FLOAT_RE = re.compile(r"\s*[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?\s*")
ENTITY_TYPES = frozenset(
    {
        "mention", "hashtag", "cashtag", "bot_command", "url", "email", "phone_number", "bold", "italic",
        "underline", "strikethrough", "spoiler", "blockquote", "expandable_blockquote", "code", "pre",
        "text_link", "text_mention", "custom_emoji", "date_time",
    }
)  # fmt: skip
CHAT_ACTIONS = frozenset(
    {
        "typing", "upload_photo", "record_video", "upload_video", "record_voice", "upload_voice", "upload_document",
        "choose_sticker", "find_location", "record_video_note", "upload_video_note",
    }
)  # fmt: skip
SCOPES = {
    "default": (),
    "all_private_chats": (),
    "all_group_chats": (),
    "all_chat_administrators": (),
    "chat": ("chat_id",),
    "chat_administrators": ("chat_id",),
    "chat_member": ("chat_id", "user_id"),
}
MAX_TEXT = 4096
MAX_CAPTION = 1024
_COMMAND_RE = re.compile(r"[a-z0-9_]{1,32}")
_LANG_RE = re.compile(r"[a-z]{2}")


@dataclass
class Upload:
    """A file part of a multipart request."""

    filename: str | None
    content_type: str | None
    data: bytes

    def __repr__(self) -> str:
        return f"Upload(filename={self.filename!r}, content_type={self.content_type!r}, size={len(self.data)})"


def _decode_value(name: str, kind: str, value: Any) -> Any:
    if kind == "file":
        return value if isinstance(value, Upload) else _as_string(value)
    if isinstance(value, Upload):
        raise bad_request(f'parameter "{name}" can\'t be a file')
    if kind == "s":
        return _as_string(value)
    if kind in ("i", "c"):
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        if isinstance(value, str) and _INT_RE.fullmatch(value):
            return int(value)
        if kind == "c" and isinstance(value, str):
            return value.strip()
        raise bad_request(f'parameter "{name}" must be an Integer')
    if kind == "f":
        if isinstance(value, int | float) and not isinstance(value, bool):
            return float(value)
        if isinstance(value, str) and _FLOAT_RE.fullmatch(value):
            return float(value)
        raise bad_request(f'parameter "{name}" must be a Number')
    if kind == "b":
        if isinstance(value, bool):
            return value
        lowered = str(value).strip().lower()
        if lowered in ("true", "1"):
            return True
        if lowered in ("false", "0"):
            return False
        raise bad_request(f'parameter "{name}" must be a Boolean')
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            raise bad_request(f"can't parse {_JSON_LABELS.get(name, name)} JSON object") from None
    return value


def _as_string(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    return json.dumps(value, ensure_ascii=False)


def decode_params(method: str, raw: Mapping[str, Any]) -> tuple[JSON, list[str]]:
    """Typed parameters of a known method, plus the names Telegram would silently ignore."""
    fields = FIELDS[method]
    params: JSON = {}
    ignored: list[str] = []
    for name, value in raw.items():
        spec = fields.get(name)
        if spec is None:
            ignored.append(name)
            params[name] = value
            continue
        if value is None or value == "":
            continue
        params[name] = _decode_value(name, spec[0], value)
    for name, (_, required) in fields.items():
        if required and name not in params:
            raise bad_request(_MISSING.get(name, f'parameter "{name}" is required'))
    return params, ignored


def parse_mode_of(params: JSON, key: str = "parse_mode") -> str | None:
    """The normalized parse mode, refusing unknown ones."""
    mode = params.get(key)
    if mode is None:
        return None
    if not isinstance(mode, str):
        raise bad_request("unsupported parse_mode")
    lowered = mode.strip().lower()
    if lowered in ("", "none"):
        return None
    if lowered not in ("html", "markdown", "markdownv2"):
        raise bad_request("unsupported parse_mode")
    return lowered


def format_text(text: str, parse_mode: str | None, entities: Any, *, caption: bool = False) -> tuple[str, list[JSON]]:
    """Parse text with its parse_mode or explicit entities and apply Telegram's empty/length rules."""
    if parse_mode == "html":
        try:
            plain, parsed = parse_html(text)
        except HtmlParseError as err:
            raise bad_request(f"can't parse entities: {err}") from None
    elif parse_mode is not None:
        plain, parsed = text, []
    else:
        plain, parsed = text, check_entities(entities, text)
    plain, parsed = trim_formatted(plain, parsed)
    limit = MAX_CAPTION if caption else MAX_TEXT
    if not plain and not caption:
        raise bad_request("message text is empty")
    if utf16_len(plain) > limit:
        raise bad_request("message caption is too long" if caption else "message is too long")
    return plain, parsed


def check_entities(entities: Any, text: str) -> list[JSON]:
    """Validate explicit MessageEntity objects, clipped to the text like Telegram does."""
    if entities is None:
        return []
    if not isinstance(entities, list):
        raise bad_request("can't parse entities: expected an Array of MessageEntity")
    total = utf16_len(text)
    result: list[JSON] = []
    for entity in entities:
        if not isinstance(entity, dict):
            raise bad_request("can't parse MessageEntity: expected an Object")
        kind, offset, length = entity.get("type"), entity.get("offset"), entity.get("length")
        if kind not in ENTITY_TYPES:
            raise bad_request("can't parse MessageEntity: Unsupported type specified")
        if not _is_int(offset) or not _is_int(length) or offset < 0 or length < 0:
            raise bad_request('can\'t parse MessageEntity: Field "offset" and "length" must be non-negative Numbers')
        if kind == "text_link" and not valid_url(entity.get("url"), allow_mailto=True):
            raise bad_request("can't parse MessageEntity: Wrong URL specified for text_link")
        if kind == "text_mention" and not (isinstance(entity.get("user"), dict) and _is_int(entity["user"].get("id"))):
            raise bad_request('can\'t parse MessageEntity: Field "user" must be of type Object')
        if kind == "custom_emoji" and not isinstance(entity.get("custom_emoji_id"), str):
            raise bad_request('can\'t parse MessageEntity: Field "custom_emoji_id" must be of type String')
        end = min(offset + length, total)
        if end > offset:
            result.append({**entity, "length": end - offset})
    return sort_entities(result)


def _is_int(value: Any) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)


def valid_url(url: Any, *, allow_mailto: bool = False) -> bool:
    """An http(s)/tg (optionally mailto) URL with something after the scheme."""
    if not isinstance(url, str) or any(ch.isspace() for ch in url):
        return False
    prefixes = URL_PREFIXES if allow_mailto else URL_PREFIXES[:3]
    lowered = url.lower()
    return any(lowered.startswith(prefix) and len(url) > len(prefix) for prefix in prefixes)


def check_object(params: JSON, name: str) -> JSON | None:
    """A JSON-object parameter (link_preview_options, reply_parameters...), or None."""
    value = params.get(name)
    if value is None:
        return None
    if not isinstance(value, dict):
        raise bad_request(f"can't parse {_JSON_LABELS.get(name, name)} JSON object")
    return value


def check_reply_parameters(params: JSON) -> JSON | None:
    """ReplyParameters with an Integer message_id."""
    value = check_object(params, "reply_parameters")
    if value is not None and not _is_int(value.get("message_id")):
        raise bad_request('can\'t parse reply parameters: Field "message_id" must be of type Number')
    return value


def check_link_preview(params: JSON) -> JSON | None:
    """LinkPreviewOptions with Boolean flags and an optional String url."""
    value = check_object(params, "link_preview_options")
    if value is None:
        return None
    for key in ("is_disabled", "prefer_small_media", "prefer_large_media", "show_above_text"):
        if key in value and not isinstance(value[key], bool):
            raise bad_request(f'can\'t parse link preview options: Field "{key}" must be of type Boolean')
    if "url" in value and not isinstance(value["url"], str):
        raise bad_request('can\'t parse link preview options: Field "url" must be of type String')
    return value


def check_commands(commands: Any) -> list[JSON]:
    """A list of at most 100 BotCommand objects with valid names and descriptions."""
    if not isinstance(commands, list):
        raise bad_request("can't parse commands JSON object")
    if len(commands) > 100:
        raise bad_request("BOT_COMMANDS_TOO_MUCH")
    seen: set[str] = set()
    for command in commands:
        if not isinstance(command, dict):
            raise bad_request("can't parse BotCommand: expected an Object")
        name, description = command.get("command"), command.get("description")
        if not isinstance(name, str) or not isinstance(description, str):
            raise bad_request('can\'t parse BotCommand: Field "command" and "description" must be of type String')
        if not _COMMAND_RE.fullmatch(name) or name in seen:
            raise bad_request("BOT_COMMAND_INVALID")
        if not 1 <= len(description.strip()) <= 256 or len(description) > 256:
            raise bad_request("BOT_COMMAND_DESCRIPTION_INVALID")
        seen.add(name)
    return commands


def check_language(params: JSON) -> str:
    """The optional two-letter language_code ("" when absent)."""
    code = params.get("language_code", "")
    if code and not _LANG_RE.fullmatch(code):
        raise bad_request("LANG_CODE_INVALID")
    return str(code)


def check_scope(params: JSON) -> str:
    """A canonical key for the optional BotCommandScope."""
    scope = params.get("scope")
    if scope is None:
        return json.dumps({"type": "default"})
    if not isinstance(scope, dict) or scope.get("type") not in SCOPES:
        raise bad_request("can't parse BotCommandScope: Unsupported type specified")
    for key in SCOPES[scope["type"]]:
        if key not in scope:
            raise bad_request(f'can\'t parse BotCommandScope: Field "{key}" must be specified')
    return json.dumps(scope, sort_keys=True)


def check_message_ids(ids: Any) -> list[int]:
    """1..100 integer message identifiers."""
    if not isinstance(ids, list) or not all(_is_int(item) for item in ids):
        raise bad_request("can't parse message identifiers JSON object")
    if not 1 <= len(ids) <= 100:
        raise bad_request("too many message identifiers specified" if ids else "message identifiers are empty")
    return list(ids)


def check_secret_token(token: Any) -> None:
    """Webhook secret_token: 1-256 characters of A-Z, a-z, 0-9, _ and -."""
    if token is not None and not re.fullmatch(r"[A-Za-z0-9_-]{1,256}", str(token)):
        raise bad_request("secret token contains unallowed characters")
