"""bot.context: ShownMessages remembers what each message shows, bounded; Context fails clearly before start-up."""

from __future__ import annotations

import base64
import hashlib
from pathlib import Path
from typing import Any

import aiosqlite
import pytest
from pydantic import SecretStr
from telegram.ext import Application, ApplicationBuilder, ContextTypes

from bot.app import build_application, close_services, open_services
from bot.config import Settings
from bot.context import Context, Services, ShownMessages
from bot.i18n import Texts
from bot.views import Views
from storage.crypto import Keys
from storage.search import Searcher
from tests.conftest import EMULATOR_TOKEN
from tests.emulator import BotApiEmulator
from tests.helpers import FIXTURE_CONTENT

TOKEN = EMULATOR_TOKEN
KEY = bytes(range(32))


def key_of(chat: int, message: int) -> tuple[bytes, int]:
    return hashlib.sha256(str(chat).encode()).digest(), message


def digest(text: str) -> bytes:
    return hashlib.blake2b(text.encode(), digest_size=16).digest()


# ShownMessages


def test_nothing_is_the_same_before_it_is_remembered() -> None:
    shown = ShownMessages()
    assert not shown.same(key_of(1, 1), digest("menu"))


def test_remember_then_same() -> None:
    shown = ShownMessages()
    shown.remember(key_of(1, 1), digest("menu"))
    assert shown.same(key_of(1, 1), digest("menu"))
    assert not shown.same(key_of(1, 1), digest("orgs"))  # other content
    assert not shown.same(key_of(1, 2), digest("menu"))  # other message
    assert not shown.same(key_of(2, 1), digest("menu"))  # same message id in another chat


def test_remember_replaces_what_a_message_shows() -> None:
    shown = ShownMessages()
    shown.remember(key_of(1, 1), digest("menu"))
    shown.remember(key_of(1, 1), digest("orgs"))
    assert shown.same(key_of(1, 1), digest("orgs"))
    assert not shown.same(key_of(1, 1), digest("menu"))


def test_the_oldest_entries_go_first_past_the_limit() -> None:
    shown = ShownMessages()
    shown.LIMIT = 3
    for message in (1, 2, 3):
        shown.remember(key_of(1, message), digest(f"m{message}"))
    shown.remember(key_of(1, 4), digest("m4"))
    assert not shown.same(key_of(1, 1), digest("m1"))
    assert all(shown.same(key_of(1, m), digest(f"m{m}")) for m in (2, 3, 4))


def test_remembering_again_makes_an_entry_recent() -> None:
    shown = ShownMessages()
    shown.LIMIT = 3
    for message in (1, 2, 3):
        shown.remember(key_of(1, message), digest(f"m{message}"))
    shown.remember(key_of(1, 1), digest("m1 edited"))  # message 1 is now the most recent
    shown.remember(key_of(1, 4), digest("m4"))
    assert shown.same(key_of(1, 1), digest("m1 edited"))
    assert not shown.same(key_of(1, 2), digest("m2"))  # the least recently remembered went
    assert shown.same(key_of(1, 3), digest("m3"))
    assert shown.same(key_of(1, 4), digest("m4"))


def test_the_real_limit_bounds_memory() -> None:
    shown = ShownMessages()
    limit = ShownMessages.LIMIT
    assert limit == 50_000
    for message in range(limit + 10):
        shown.remember((b"chat", message), b"d")
    assert len(shown._seen) == limit
    assert not shown.same((b"chat", 9), b"d")
    assert shown.same((b"chat", 10), b"d")
    assert shown.same((b"chat", limit + 9), b"d")


def test_services_get_their_own_memory() -> None:
    first, second = Services(), Services()
    first.shown.remember(key_of(1, 1), digest("menu"))
    assert not second.shown.same(key_of(1, 1), digest("menu"))


# Context before and after services are set


@pytest.fixture
def bare_app() -> Application[Any, Context, Any, Any, Services, Any]:
    """An Application with our context types and nothing in bot_data, as PTB builds it."""
    app: Application[Any, Context, Any, Any, Services, Any] = (
        ApplicationBuilder().token(TOKEN).context_types(ContextTypes(context=Context, bot_data=Services)).build()
    )
    return app


@pytest.mark.parametrize(
    ("prop", "what"),
    [
        ("db", "the database"),
        ("settings", "settings"),
        ("texts", "texts"),
        ("keys", "keys"),
        ("views", "views"),
        ("searcher", "search"),
        ("deliverer", "digest delivery"),
    ],
)
def test_each_service_fails_clearly_before_it_is_set(
    bare_app: Application[Any, Context, Any, Any, Services, Any], prop: str, what: str
) -> None:
    context = Context(bare_app)
    with pytest.raises(RuntimeError) as caught:
        getattr(context, prop)
    assert str(caught.value) == f"{what} is not ready yet"


def test_services_are_the_bot_data(bare_app: Application[Any, Context, Any, Any, Services, Any]) -> None:
    context = Context(bare_app, chat_id=5, user_id=5)
    assert isinstance(context.services, Services)
    assert context.services is bare_app.bot_data
    texts = Texts.load()
    keys = Keys.from_master(KEY)
    bare_app.bot_data.texts = texts
    bare_app.bot_data.keys = keys
    assert context.texts is texts
    assert context.keys is keys
    with pytest.raises(RuntimeError, match="the database is not ready yet"):
        _ = context.db


def test_contexts_made_by_ptb_are_ours(bare_app: Application[Any, Context, Any, Any, Services, Any]) -> None:
    context = bare_app.context_types.context.from_error(None, ValueError("x"), bare_app)
    assert isinstance(context, Context)
    assert isinstance(context.services, Services)


@pytest.fixture
def emu(emulator: BotApiEmulator) -> BotApiEmulator:
    return emulator


def emulator_settings(emu: BotApiEmulator, db_path: Path) -> Settings:
    values: dict[str, object] = {
        "bot_token": SecretStr(TOKEN),
        "api_base_url": emu.base_url,
        "api_file_url": emu.base_file_url,
        "db_path": db_path,
        "secret_key": SecretStr(base64.urlsafe_b64encode(KEY).decode("ascii")),
        "content_dir": FIXTURE_CONTENT,
    }
    return Settings(_env_file=None, **values)  # type: ignore[arg-type,call-arg]


async def test_the_database_and_search_exist_only_between_post_init_and_post_shutdown(
    emu: BotApiEmulator, tmp_path: Path
) -> None:
    settings = emulator_settings(emu, tmp_path / "tropa.sqlite3")
    app = build_application(settings)
    context = Context(app)
    # build_application sets what needs no I/O...
    assert context.settings is settings
    assert isinstance(context.texts, Texts)
    assert context.keys.lookup(1) == Keys.from_master(KEY).lookup(1)
    # ...and what needs the database waits for post_init.
    for prop in ("db", "searcher", "views", "deliverer"):
        with pytest.raises(RuntimeError, match="is not ready yet"):
            getattr(context, prop)
    await app.initialize()
    try:
        await open_services(app)
        try:
            assert isinstance(context.db, aiosqlite.Connection)
            assert isinstance(context.searcher, Searcher)
            assert isinstance(context.views, Views)
            assert context.deliverer is app.bot_data.deliverer
            assert context.services.bot_username == "tropa_test_bot"
        finally:
            await close_services(app)
        with pytest.raises(RuntimeError, match="the database is not ready yet"):
            _ = context.db
        with pytest.raises(RuntimeError, match="digest delivery is not ready yet"):
            _ = context.deliverer
        await close_services(app)  # a second close is harmless
    finally:
        await app.shutdown()
