"""Search by /search and by plain text: inflections, no match, syntax characters, long and odd input."""

from __future__ import annotations

from bot.app import TropaApp
from tests.e2e.conftest import all_data, press, say
from tests.emulator import BotApiEmulator


async def test_russian_inflections_find_the_summons_items(emulator: BotApiEmulator, bot: TropaApp) -> None:
    user = emulator.user(user_id=5552001, first_name="Оля", language_code="ru")
    for query in ("/search повестка", "повесткой", "ПОВЕСТКИ", "/search повестку"):
        reply = await say(emulator, user, query)
        assert any(d.startswith("v:conscription:") for d in all_data(reply)), query
        assert reply.shown.startswith("Наш")


async def test_result_button_opens_the_item(emulator: BotApiEmulator, bot: TropaApp) -> None:
    user = emulator.user(user_id=5552002, first_name="Tom", language_code="en")
    reply = await say(emulator, user, "leaflets")
    first = next(d for d in all_data(reply) if d.startswith("v:"))
    view = await press(emulator, user, reply, first)
    assert "Sources" in view.shown


async def test_no_match_offers_the_sections(emulator: BotApiEmulator, bot: TropaApp) -> None:
    user = emulator.user(user_id=5552003, first_name="Tom", language_code="en")
    reply = await say(emulator, user, "xyzzyqwrt plugh")
    assert reply.shown.startswith("Nothing found")
    assert "s:orgs:0" in all_data(reply)


async def test_empty_search_asks_for_words(emulator: BotApiEmulator, bot: TropaApp) -> None:
    user = emulator.user(user_id=5552004, first_name="Оля", language_code="ru")
    reply = await say(emulator, user, "/search")
    assert reply.shown.startswith("Что ищем")


async def test_search_syntax_is_just_text(emulator: BotApiEmulator, bot: TropaApp) -> None:
    user = emulator.user(user_id=5552005, first_name="Tom", language_code="en")
    for query in ("summons AND", "OR OR", '"unclosed', "NEAR(a b)", "*", "(((", "a:b", "x' OR 1=1 --", "-", "^title"):
        reply = await say(emulator, user, query)
        assert reply.shown  # a reply, never an error


async def test_odd_and_huge_input(emulator: BotApiEmulator, bot: TropaApp) -> None:
    user = emulator.user(user_id=5552006, first_name="Tom", language_code="en")
    for query in ("🙂🙂🙂", "שלום עולם", "\u200b\u200b", "\u202eabc", "повестка " * 400, "a" * 4000):
        reply = await say(emulator, user, query)
        assert reply.shown
    assert (await say(emulator, user, "x " * 1990)).shown.startswith("That is too long")
