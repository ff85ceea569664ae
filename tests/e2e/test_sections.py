"""Section lists, pagination, item views, related items and Back, in both languages."""

from __future__ import annotations

from bot.app import TropaApp
from bot.flood import FloodGate
from storage.content_files import load_tree
from tests.e2e.conftest import BUNDLED, all_data, press, say
from tests.emulator import BotApiEmulator


async def test_section_lists_in_both_languages(emulator: BotApiEmulator, bot: TropaApp) -> None:
    ru = emulator.user(user_id=5551001, first_name="Ира", language_code="ru")
    en = emulator.user(user_id=5551002, first_name="Tom", language_code="en")
    for command, ru_title, en_title in (
        ("/tactics", "Формы протеста", "Tactics and their risks"),
        ("/conscription", "Призыв и повестки", "Conscription and summonses"),
        ("/orgs", "Организации", "Organizations that help"),
    ):
        assert (await say(emulator, ru, command)).shown.startswith(ru_title)
        assert (await say(emulator, en, command)).shown.startswith(en_title)


async def test_pagination_edits_the_same_message(emulator: BotApiEmulator, bot: TropaApp) -> None:
    user = emulator.user(user_id=5551003, first_name="Tom", language_code="en")
    first = await say(emulator, user, "/orgs")
    assert "s:orgs:1" in all_data(first)
    items_on_first = [d for d in all_data(first) if d.startswith("v:")]
    second = await press(emulator, user, first, "s:orgs:1")
    assert second.message_id == first.message_id
    assert second.edited >= 1
    items_on_second = [d for d in all_data(second) if d.startswith("v:")]
    assert items_on_second
    assert not set(items_on_first) & set(items_on_second)
    counter = [text for row in second.buttons for text, data in row if data == "n"]
    assert counter
    assert counter[0].startswith("2/")


async def test_page_counter_and_double_taps_change_nothing(emulator: BotApiEmulator, bot: TropaApp) -> None:
    user = emulator.user(user_id=5551004, first_name="Tom", language_code="en")
    first = await say(emulator, user, "/orgs")
    edits = first.edited
    after = await press(emulator, user, first, "n")
    assert after.edited == edits
    again = await press(emulator, user, first, "s:orgs:0")  # the page that is already shown
    assert again.edited == edits
    assert len(emulator.callback_answers) == 2


async def test_item_view_and_back(emulator: BotApiEmulator, bot: TropaApp) -> None:
    user = emulator.user(user_id=5551005, first_name="Ира", language_code="ru")
    listed = await say(emulator, user, "/tactics")
    item_data = next(d for d in all_data(listed) if d.startswith("v:tactics:"))
    item = await press(emulator, user, listed, item_data)
    assert item.message_id == listed.message_id
    assert "Риск в России" in item.shown
    assert "Источники" in item.shown
    assert "Проверено" in item.shown
    back = next(d for d in all_data(item) if d.startswith("s:tactics:"))
    again = await press(emulator, user, item, back)
    assert again.shown.startswith("Формы протеста")
    assert len(emulator.bot_messages(user.id)) == 1


async def test_every_item_opens_in_both_languages(emulator: BotApiEmulator, bot: TropaApp) -> None:
    bot.bot_data.flood = FloodGate(burst=1000, rate=1000.0)  # this script taps faster than anyone: see test_flood
    items, _ = load_tree(BUNDLED)
    for lang, user_id in (("ru", 5551006), ("en", 5551007)):
        user = emulator.user(user_id=user_id, first_name="X", language_code=lang)
        shown = await say(emulator, user, "/start")
        for item in (i for i in items if i.lang == lang):
            shown = await press(emulator, user, shown, f"v:{item.section}:{item.slug}")
            assert shown.shown.startswith(item.meta.title)
            assert item.meta.sources[0].url in (shown.html or "")


async def test_related_items_open(emulator: BotApiEmulator, bot: TropaApp) -> None:
    user = emulator.user(user_id=5551008, first_name="Tom", language_code="en")
    view = await say(emulator, user, "/start tactics_leaflets-stickers")
    related = [d for d in all_data(view) if d.startswith("v:")]
    assert related, "a tactic names the organizations that support it"
    before = view.shown  # Msg objects are live: read the text before the edit
    opened = await press(emulator, user, view, related[0])
    assert opened.message_id == view.message_id
    assert opened.shown.startswith("OVD-Info")
    assert opened.shown != before


async def test_stale_item_button_shows_the_section(emulator: BotApiEmulator, bot: TropaApp) -> None:
    user = emulator.user(user_id=5551009, first_name="Tom", language_code="en")
    listed = await say(emulator, user, "/orgs")
    after = await press(emulator, user, listed, "v:orgs:deleted-long-ago")
    answers = list(emulator.callback_answers.values())
    assert "no longer available" in answers[-1].get("text", "")
    assert after.shown.startswith("Organizations that help")


async def test_forged_buttons_get_a_clear_answer(emulator: BotApiEmulator, bot: TropaApp) -> None:
    user = emulator.user(user_id=5551010, first_name="Tom", language_code="en")
    listed = await say(emulator, user, "/orgs")
    before = listed.shown
    for data in ("x", "v:admin:x", "s:orgs:99999", "s:secret:0", "l:fr", "v:orgs:" + "a" * 50, "' OR 1=1 --"):
        await press(emulator, user, listed, data)
    assert len(emulator.callback_answers) == 7
    assert emulator.last_bot_message(user.id).shown.startswith("Organizations") or before


async def test_a_button_on_a_message_deleted_since_answers_in_a_new_message(
    emulator: BotApiEmulator, bot: TropaApp
) -> None:
    # Found by the fuzz test: the edit Telegram refuses was an error and an apology instead of the item.
    user = emulator.user(user_id=5551020, first_name="Tom", language_code="en")
    listed = await say(emulator, user, "/orgs")
    emulator.click(user, listed.message_id, "v:orgs:ovd-info")
    emulator.delete(user, listed.message_id)  # by the person, /wipe or disappearing messages, before the bot answers
    await emulator.wait_idle()
    reply = emulator.last_bot_message(user.id)
    assert reply.message_id != listed.message_id
    assert reply.shown.startswith("OVD-Info")
    assert len(emulator.callback_answers) == 1
    assert [r.description for r in emulator.refused] == ["Bad Request: message to edit not found"]
    emulator.clear_requests()  # that refusal is the only way to learn the message is gone
