"""bot.console: `tropa console` as a real subprocess with a scripted stdin, and ConsoleApi/to_terminal in process."""

from __future__ import annotations

import asyncio
import io
import json
import os
import sqlite3
import subprocess
import sys
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

import pytest

from bot.console import BOT_USER, ConsoleApi, ConsoleRequest, to_terminal
from bot.i18n import Texts
from tests.helpers import FIXTURE_CONTENT

# The fixture tree has one organization (helpers), one conscription item (summons) and two tactics.
SCRIPTS = {
    "en": ["/orgs", "1", "summons", "@leaflets", "/nosuch", "/quit"],
    "ru": ["/orgs", "1", "повестка", "@листовки", "/nosuch", "/quit"],
}
EXPECTED = {
    # (the one org, its site rendered with the address, the search hit, the inline hit)
    "en": ("Helpers", "Site: example.org (https://example.org)", "You got a summons", "Leaflets and stickers"),
    "ru": ("Помощники", "Сайт: example.org (https://example.org)", "Пришла повестка", "Листовки и стикеры"),
}


@dataclass
class Run:
    result: subprocess.CompletedProcess[str]
    cwd: Path
    tmp: Path

    @property
    def out(self) -> str:
        return self.result.stdout


def console(tmp_path: Path, lines: list[str], *args: str, **env: str) -> Run:
    """Run `python -m bot console` in an empty cwd, with its own TMPDIR and no TROPA_* but the ones given."""
    cwd, tmp = tmp_path / "cwd", tmp_path / "tmp"
    cwd.mkdir(parents=True)
    tmp.mkdir()
    clean = {k: v for k, v in os.environ.items() if not k.startswith("TROPA_")}
    clean.update({"TMPDIR": str(tmp), "TROPA_CONTENT_DIR": str(FIXTURE_CONTENT)})
    clean.update({f"TROPA_{k.upper()}": v for k, v in env.items()})
    result = subprocess.run(
        [sys.executable, "-m", "bot", "console", *args],
        input="".join(f"{line}\n" for line in lines),
        cwd=cwd,
        env=clean,
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=60,
        check=False,
    )
    return Run(result, cwd, tmp)


def in_order(text: str, *parts: str) -> None:
    """Each part appears in text, after the previous one."""
    position = 0
    for part in parts:
        found = text.find(part, position)
        assert found >= 0, f"{part!r} not found after position {position} in:\n{text}"
        position = found + len(part)


def assert_clean_exit(run: Run) -> None:
    assert run.result.returncode == 0, run.result.stderr
    assert "Traceback" not in run.result.stderr
    assert " ERROR " not in run.result.stderr
    assert " WARNING " not in run.result.stderr


# The real command


@pytest.mark.parametrize("lang", ["en", "ru"])
def test_a_scripted_session(tmp_path: Path, texts: Texts, lang: str) -> None:
    run = console(tmp_path, SCRIPTS[lang], "--lang", lang)
    assert_clean_exit(run)
    org, site, summons, leaflets = EXPECTED[lang]
    other = "ru" if lang == "en" else "en"
    in_order(
        run.out,
        "Tropa console: type words to search",
        # /start is sent for the person: the welcome with the main menu as numbered buttons
        to_terminal(texts.get(lang, "welcome"), bold=False),
        f"[1] {texts.label(lang, 'section', 'tactics')}",
        f"[2] {texts.label(lang, 'section', 'conscription')}",
        f"[3] {texts.label(lang, 'section', 'orgs')}",
        f"[4] {texts.get(other, 'language_name')}",
        # /orgs lists the one organization, as a button
        f"{texts.label(lang, 'section', 'orgs')} · {texts.plural(lang, 'count_items', 1)}",
        f"[1] {org}",
        f"[2] {texts.get(lang, 'menu')}",
        # "1" presses it: the list message is edited into the item, with its links written out
        "(edited)",
        org,
        site,
        "Test source (https://example.org/source)",
        texts.get(lang, "back_to_list", section=texts.label(lang, "section_short", "orgs")),
        # plain words search
        texts.plural(lang, "count_results", 1),
        summons,
        f"[1] {summons}",
        # @words is inline mode
        f"(inline results) {leaflets}",
        # an unknown command gets the one sentence
        texts.get(lang, "unknown_command"),
    )
    assert run.out.count("(edited)") == 1
    assert "<b>" not in run.out
    assert "\033[1m" not in run.out  # stdout is a pipe, not a terminal: no ANSI codes


def test_no_database_is_left_behind(tmp_path: Path) -> None:
    run = console(tmp_path, ["/start", "summons", "/quit"], "--lang", "en", log_level="INFO")
    assert_clean_exit(run)
    assert "event=content_imported added=8" in run.result.stderr  # a fresh database was made and filled...
    assert list(run.cwd.iterdir()) == []  # ...not in the working directory
    assert list(run.tmp.iterdir()) == []  # ...and its temporary directory is gone
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cwd", "tmp"]


def test_end_of_input_ends_the_session(tmp_path: Path, texts: Texts) -> None:
    run = console(tmp_path, ["/help"], "--lang", "en")  # no /quit: stdin just ends
    assert_clean_exit(run)
    assert texts.get("en", "help").splitlines()[1] in run.out
    assert list(run.tmp.iterdir()) == []


def test_without_lang_the_person_writes_in_russian(tmp_path: Path, texts: Texts) -> None:
    run = console(tmp_path, ["/quit"])
    assert_clean_exit(run)
    assert to_terminal(texts.get("ru", "welcome"), bold=False) in run.out


def test_a_number_beyond_the_buttons_is_searched_as_text(tmp_path: Path, texts: Texts) -> None:
    run = console(tmp_path, ["9", "/quit"], "--lang", "en")
    assert_clean_exit(run)
    in_order(run.out, "[4] ", texts.get("en", "search_nothing"))


def test_the_db_path_variable_is_used(tmp_path: Path) -> None:
    db_path = tmp_path / "mine.sqlite3"
    first = console(tmp_path / "first", ["/orgs", "/quit"], "--lang", "en", db_path=str(db_path), log_level="INFO")
    assert_clean_exit(first)
    assert db_path.exists()
    with closing(sqlite3.connect(db_path)) as db:
        (count,) = db.execute("SELECT count(*) FROM items").fetchone()
    assert count == 8
    assert list(first.tmp.iterdir()) == []  # no throwaway database this time
    assert "event=content_imported" in first.result.stderr
    # The second run finds the content already in that file.
    second = console(tmp_path / "second", ["/orgs", "/quit"], "--lang", "en", db_path=str(db_path), log_level="INFO")
    assert_clean_exit(second)
    assert "event=content_imported" not in second.result.stderr
    assert "event=migrated" not in second.result.stderr
    assert "Helpers" in second.out


# to_terminal


@pytest.mark.parametrize(
    ("text_html", "expected"),
    [
        ('<a href="https://ovd.info">OVD-Info</a>', "OVD-Info (https://ovd.info)"),
        ('see <a href="http://x.org/p?a=1&amp;b=2">a</a>.', "see a (http://x.org/p?a=1&b=2)."),
        (
            '<a href="https://x.org">one</a> and <a href="https://y.org">two</a>',
            "one (https://x.org) and two (https://y.org)",
        ),
        ("<b>Tropa</b> &amp; <i>friends</i>", "Tropa & friends"),
        ("a &lt;b&gt; is text, not a tag", "a <b> is text, not a tag"),
        ("line one\n<code>code</code>", "line one\ncode"),
    ],
)
def test_to_terminal(text_html: str, expected: str) -> None:
    assert to_terminal(text_html, bold=False) == expected


def test_to_terminal_bold_on_a_terminal() -> None:
    assert to_terminal("<b>Tropa</b> and <b>more</b>", bold=True) == "\033[1mTropa\033[0m and \033[1mmore\033[0m"
    assert to_terminal("<b>Tropa</b>", bold=False) == "Tropa"


def test_to_terminal_shows_an_address_as_telegram_would() -> None:
    shown = to_terminal('<a href="https://e.org/?page=2&amp;section=news&amp;region=eu">x</a>', bold=False)
    assert shown == "x (https://e.org/?page=2&section=news&region=eu)"


# ConsoleApi in process


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def keyboard(*rows: list[dict[str, str]]) -> str:
    return json.dumps({"inline_keyboard": list(rows)})


@pytest.fixture
def out() -> io.StringIO:
    return io.StringIO()


@pytest.fixture
def api(out: io.StringIO) -> ConsoleApi:
    return ConsoleApi(out, "en")


async def test_send_message_prints_text_and_numbered_buttons(api: ConsoleApi, out: io.StringIO) -> None:
    markup = keyboard(
        [{"text": "Tactics", "callback_data": "s:tactics:0"}, {"text": "Orgs", "callback_data": "s:orgs:0"}],
        [{"text": "Site", "url": "https://example.org"}],
    )
    message = await api.call(
        "sendMessage", {"chat_id": 424242, "text": "<b>Hi</b> &amp; welcome", "reply_markup": markup}
    )
    assert message["message_id"] == 1
    assert message["from"] == BOT_USER
    assert message["text"] == "<b>Hi</b> &amp; welcome"
    assert message["reply_markup"] == json.loads(markup)
    assert out.getvalue() == "\nHi & welcome\n[1] Tactics   [2] Orgs\n[3] Site\n> "
    second = await api.call("sendMessage", {"chat_id": 424242, "text": "plain"})
    assert second["message_id"] == 2
    assert "reply_markup" not in second
    assert api.buttons == []  # the newest message has none


async def test_bold_is_ansi_only_on_a_terminal() -> None:
    terminal = Terminal()
    api = ConsoleApi(terminal, "en")
    await api.call("sendMessage", {"text": "<b>Hi</b>"})
    assert "\033[1mHi\033[0m" in terminal.getvalue()


async def test_a_number_presses_a_button(api: ConsoleApi) -> None:
    markup = keyboard([{"text": "Orgs", "callback_data": "s:orgs:0"}, {"text": "Menu", "callback_data": "menu"}])
    message = await api.call("sendMessage", {"text": "menu", "reply_markup": markup})
    api.type_line("2\n")
    update = api.updates.get_nowait()
    query = update["callback_query"]
    assert query["data"] == "menu"
    assert query["message"]["message_id"] == message["message_id"]
    assert query["message"]["reply_markup"] == json.loads(markup)
    assert query["from"]["language_code"] == "en"
    assert api.updates.empty()


async def test_a_link_button_is_shown_not_sent(api: ConsoleApi, out: io.StringIO) -> None:
    await api.call("sendMessage", {"text": "x", "reply_markup": keyboard([{"text": "Site", "url": "https://e.org"}])})
    api.type_line("1")
    assert api.updates.empty()
    assert out.getvalue().endswith("(link: https://e.org)\n")


@pytest.mark.parametrize("line", ["3", "0", "10"])
async def test_a_number_out_of_range_is_sent_as_text(api: ConsoleApi, line: str) -> None:
    markup = keyboard([{"text": "A", "callback_data": "a"}, {"text": "B", "callback_data": "b"}])
    await api.call("sendMessage", {"text": "two buttons", "reply_markup": markup})
    api.type_line(line)
    message = api.updates.get_nowait()["message"]
    assert message["text"] == line
    assert message["from"]["id"] == api.user["id"]
    assert "entities" not in message


async def test_typed_lines_become_updates(api: ConsoleApi) -> None:
    api.type_line("   \n")
    assert api.updates.empty()
    api.type_line("/search  summons\n")
    api.type_line("@  leaflets ")
    api.type_line("what about a summons")
    command, inline, text = (api.updates.get_nowait() for _ in range(3))
    assert [command["update_id"], inline["update_id"], text["update_id"]] == [1, 2, 3]
    assert command["message"]["text"] == "/search  summons"
    assert command["message"]["entities"] == [{"type": "bot_command", "offset": 0, "length": 7}]
    assert command["message"]["chat"] == {"id": 424242, "type": "private", "first_name": "You"}
    assert inline["inline_query"]["query"] == "leaflets"
    assert inline["inline_query"]["from"] == api.user
    assert text["message"]["text"] == "what about a summons"
    assert "entities" not in text["message"]


async def test_edit_replaces_text_and_buttons(api: ConsoleApi, out: io.StringIO) -> None:
    first = await api.call(
        "sendMessage", {"text": "list", "reply_markup": keyboard([{"text": "A", "callback_data": "a"}])}
    )
    await api.call("sendMessage", {"text": "other"})
    edited = await api.call(
        "editMessageText",
        {
            "message_id": first["message_id"],
            "text": '<b>Item</b> <a href="https://e.org">site</a>',
            "reply_markup": keyboard([{"text": "Back", "callback_data": "b"}]),
        },
    )
    assert edited["message_id"] == first["message_id"]
    assert edited["text"] == '<b>Item</b> <a href="https://e.org">site</a>'
    assert "edit_date" in edited
    assert api.messages[first["message_id"]]["reply_markup"] == {
        "inline_keyboard": [[{"text": "Back", "callback_data": "b"}]]
    }
    assert out.getvalue().endswith("\n(edited)\nItem site (https://e.org)\n[1] Back\n> ")
    assert api.buttons == [(first["message_id"], {"text": "Back", "callback_data": "b"})]
    # An edit without a keyboard removes it.
    await api.call("editMessageText", {"message_id": first["message_id"], "text": "bare"})
    assert "reply_markup" not in api.messages[first["message_id"]]
    assert api.buttons == []


async def test_callback_answers(api: ConsoleApi, out: io.StringIO) -> None:
    assert await api.call("answerCallbackQuery", {"callback_query_id": "1"}) is True
    assert out.getvalue() == ""
    assert await api.call("answerCallbackQuery", {"callback_query_id": "2", "text": "Language: English."}) is True
    assert out.getvalue() == "(Language: English.)\n"


async def test_inline_answers_list_titles(api: ConsoleApi, out: io.StringIO) -> None:
    results = json.dumps(
        [{"type": "article", "id": "a", "title": "One"}, {"type": "article", "id": "b", "title": "Two"}]
    )
    assert await api.call("answerInlineQuery", {"inline_query_id": "1", "results": results}) is True
    assert out.getvalue() == "\n(inline results) One; Two\n> "


async def test_get_me_and_quiet_methods(api: ConsoleApi, out: io.StringIO) -> None:
    assert await api.call("getMe", {}) == BOT_USER
    for method in ("deleteWebhook", "setMyCommands", "sendChatAction", "deleteMessage", "close"):
        assert await api.call(method, {}) is True
    assert out.getvalue() == ""
    with pytest.raises(LookupError):
        await api.call("sendPhoto", {})


async def test_get_updates_waits_then_returns_a_batch(api: ConsoleApi) -> None:
    assert await api.call("getUpdates", {"timeout": 0}) == []
    api.type_line("one")
    api.type_line("two")
    batch = await api.call("getUpdates", {"timeout": 5})
    assert [u["message"]["text"] for u in batch] == ["one", "two"]  # all that is queued, at once
    waiting = asyncio.create_task(api.call("getUpdates", {"timeout": 5}))
    await asyncio.sleep(0.01)
    assert not waiting.done()  # a long poll waits for the next line...
    api.type_line("three")
    batch = await asyncio.wait_for(waiting, 1)  # ...and returns as soon as it comes
    assert [u["message"]["text"] for u in batch] == ["three"]


async def test_console_request_answers_like_the_bot_api(api: ConsoleApi) -> None:
    request = ConsoleRequest(api)
    await request.initialize()
    status, body = await request.do_request("http://console.invalid/botTOKEN/getMe", "POST")
    assert status == 200
    assert json.loads(body) == {"ok": True, "result": BOT_USER}
    status, body = await request.do_request("http://console.invalid/botTOKEN/sendPhoto", "POST")
    assert status == 404
    assert json.loads(body)["ok"] is False
    assert request.read_timeout is None
    await request.shutdown()


async def test_settle_returns_once_the_bot_has_answered(api: ConsoleApi) -> None:
    async def bot() -> None:
        update = await api.updates.get()
        await api.call("sendMessage", {"text": f"echo {update['message']['text']}"})

    answering = asyncio.create_task(bot())
    api.type_line("hello")
    loop = asyncio.get_running_loop()
    started = loop.time()
    await api.settle(quiet=0.05, limit=2.0)
    assert loop.time() - started < 1.0
    await answering
    assert api.messages[2]["text"] == "echo hello"
