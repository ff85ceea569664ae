"""Reply markup and inline query result validation with Telegram's refusals."""

from __future__ import annotations

from typing import Any

from .errors import bad_request
from .validate import JSON, format_text, parse_mode_of, valid_url

INLINE_ACTIONS = (
    "url", "callback_data", "web_app", "login_url", "switch_inline_query", "switch_inline_query_current_chat",
    "switch_inline_query_chosen_chat", "copy_text", "callback_game", "pay",
)  # fmt: skip
MAX_BUTTONS = 100


def check_reply_markup(markup: Any, *, inline_only: bool = False) -> JSON | None:
    """Validate any of the four reply markups (only InlineKeyboardMarkup when inline_only)."""
    if markup is None:
        return None
    if not isinstance(markup, dict):
        raise bad_request("can't parse reply keyboard markup JSON object")
    if "inline_keyboard" in markup:
        _check_inline_keyboard(markup["inline_keyboard"])
        return markup
    if inline_only:
        raise bad_request("inline keyboard expected")
    if "keyboard" in markup:
        _check_reply_keyboard(markup["keyboard"])
    elif "remove_keyboard" in markup:
        if markup["remove_keyboard"] is not True:
            raise bad_request('can\'t parse reply keyboard markup: Field "remove_keyboard" must be true')
    elif "force_reply" in markup:
        if markup["force_reply"] is not True:
            raise bad_request('can\'t parse reply keyboard markup: Field "force_reply" must be true')
    else:
        raise bad_request("can't parse reply keyboard markup JSON object")
    return markup


def _rows(rows: Any, field: str) -> list[list[Any]]:
    if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
        raise bad_request(f'field "{field}" of the keyboard markup must be an Array of Arrays')
    if sum(len(row) for row in rows) > MAX_BUTTONS:
        raise bad_request("reply markup is too long")
    return rows


def _check_inline_keyboard(rows: Any) -> None:
    for row in _rows(rows, "inline_keyboard"):
        for button in row:
            check_inline_button(button)


def check_inline_button(button: Any) -> None:
    """One InlineKeyboardButton: text plus exactly one action field, data and URLs in bounds."""
    if not isinstance(button, dict):
        raise bad_request("can't parse inline keyboard button: InlineKeyboardButton must be an Object")
    text = button.get("text")
    if not isinstance(text, str):
        raise bad_request('can\'t parse inline keyboard button: Field "text" must be of type String')
    if not text.strip():
        raise bad_request("BUTTON_TEXT_INVALID")
    actions = [key for key in INLINE_ACTIONS if key in button]
    if not actions:
        raise bad_request("can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard")
    if len(actions) > 1:
        raise bad_request(
            f"can't parse inline keyboard button: exactly one of the optional fields must be used, got {actions}"
        )
    if "callback_data" in button:
        data = button["callback_data"]
        if not isinstance(data, str) or not 1 <= len(data.encode("utf-8")) <= 64:
            raise bad_request("BUTTON_DATA_INVALID")
    if "url" in button and not valid_url(button["url"]):
        raise bad_request("BUTTON_URL_INVALID")
    for key in ("switch_inline_query", "switch_inline_query_current_chat"):
        if key in button and not isinstance(button[key], str):
            raise bad_request(f'can\'t parse inline keyboard button: Field "{key}" must be of type String')
    for key in ("web_app", "login_url", "switch_inline_query_chosen_chat", "copy_text", "callback_game"):
        if key in button and not isinstance(button[key], dict):
            raise bad_request(f'can\'t parse inline keyboard button: Field "{key}" must be of type Object')
    if "web_app" in button and not str(button["web_app"].get("url", "")).lower().startswith("https://"):
        raise bad_request("BUTTON_URL_INVALID")


def _check_reply_keyboard(rows: Any) -> None:
    for row in _rows(rows, "keyboard"):
        for button in row:
            text = button if isinstance(button, str) else button.get("text") if isinstance(button, dict) else None
            if not isinstance(text, str) or not text:
                raise bad_request('can\'t parse keyboard button: Field "text" must be of type String')


def check_inline_results(results: Any) -> list[JSON]:
    """At most 50 InlineQueryResults with unique ids; articles fully validated."""
    if not isinstance(results, list):
        raise bad_request("can't parse inline query results JSON object")
    if len(results) > 50:
        raise bad_request("RESULTS_TOO_MUCH")
    ids: set[str] = set()
    for result in results:
        if not isinstance(result, dict):
            raise bad_request("can't parse InlineQueryResult: expected an Object")
        result_id = result.get("id")
        if not isinstance(result_id, str) or not 1 <= len(result_id.encode("utf-8")) <= 64:
            raise bad_request("RESULT_ID_INVALID")
        if result_id in ids:
            raise bad_request("RESULT_ID_DUPLICATE")
        ids.add(result_id)
        if not isinstance(result.get("type"), str):
            raise bad_request('can\'t parse InlineQueryResult: Field "type" must be of type String')
        if result["type"] == "article":
            _check_article(result)
        if result.get("reply_markup") is not None:
            check_reply_markup(result["reply_markup"], inline_only=True)
    return results


def _check_article(result: JSON) -> None:
    title = result.get("title")
    if not isinstance(title, str) or not title.strip():
        raise bad_request('can\'t parse InlineQueryResult: Field "title" must be of type String')
    content = result.get("input_message_content")
    if not isinstance(content, dict):
        raise bad_request('can\'t parse InlineQueryResult: Field "input_message_content" must be of type Object')
    if "message_text" in content:
        text = content["message_text"]
        if not isinstance(text, str):
            raise bad_request('can\'t parse InputMessageContent: Field "message_text" must be of type String')
        format_text(text, parse_mode_of(content), content.get("entities"))
    if "url" in result and not valid_url(result["url"]):
        raise bad_request("can't parse InlineQueryResult: Wrong URL")
