"""Subscribing with buttons, changing settings, receiving a digest, unsubscribing and /forget, in both languages."""

from __future__ import annotations

import time

from bot.app import TropaApp
from bot.digest import Deliverer
from tests.e2e.conftest import all_data, press, say
from tests.emulator import BotApiEmulator


def deliverer(app: TropaApp) -> Deliverer:
    """The running bot's digest delivery."""
    assert app.bot_data.deliverer is not None
    return app.bot_data.deliverer


async def age_content(app: TropaApp) -> None:
    """Pretend the bundled content was published an hour ago, so what a test publishes now is newer."""
    db = app.bot_data.db
    assert db is not None
    await db.execute("UPDATE items SET published_at = published_at - 3600")
    await db.commit()


async def publish_now(app: TropaApp, slug: str, lang: str) -> None:
    """Make one item count as published now."""
    db = app.bot_data.db
    assert db is not None
    await db.execute("UPDATE items SET published_at = ? WHERE slug = ? AND lang = ?", (int(time.time()), slug, lang))
    await db.commit()


async def test_subscribe_with_buttons_and_get_a_digest(emulator: BotApiEmulator, bot: TropaApp) -> None:
    await age_content(bot)
    user = emulator.user(user_id=5558001, first_name="Tom", language_code="en")
    flow = await say(emulator, user, "/subscribe")
    assert flow.shown.startswith("Subscribe to a digest")
    assert all_data(flow)[:4] == ["b:t:14", "b:t:13", "b:t:11", "b:t:7"]  # all ticked; each button unticks one
    flow = await press(emulator, user, flow, "b:t:7")  # untick announcements
    flow = await press(emulator, user, flow, "b:t:6")  # untick tactics: conscription and orgs remain
    flow = await press(emulator, user, flow, "b:r:6")
    assert flow.shown == "How often?"
    flow = await press(emulator, user, flow, "b:w:6")
    flow = await press(emulator, user, flow, "b:h:6:2")
    assert flow.shown.startswith("At what hour?")
    saved = await press(emulator, user, flow, "b:s:6:2:9")
    assert "Every Wednesday at 09:00 UTC" in saved.shown
    assert "Topics: Conscription, Organizations" in saved.shown
    assert len(emulator.bot_messages(user.id)) == 1  # the whole flow edited one message

    await publish_now(bot, "idite-lesom", "en")
    await publish_now(bot, "leaflets-stickers", "en")  # tactics: not chosen
    report = await deliverer(bot).run(force=True)
    assert report.sent == 1
    await emulator.wait_idle()
    digest = emulator.last_bot_message(user.id)
    assert digest.shown.startswith("New in Tropa: 1 item")
    assert "Get Lost" in digest.shown or "Idite" in digest.shown
    assert "v:orgs:idite-lesom" in all_data(digest)
    assert digest.disable_notification is True

    again = await deliverer(bot).run(force=True)
    assert again.sent == 0
    assert again.nothing_new == 1


async def test_settings_sound_unsubscribe_in_russian(emulator: BotApiEmulator, bot: TropaApp) -> None:
    await age_content(bot)
    user = emulator.user(user_id=5558002, first_name="Ира", language_code="ru")
    none = await say(emulator, user, "/settings")
    assert none.shown.startswith("У вас нет подписки")
    flow = await press(emulator, user, none, "b:t:15")
    flow = await press(emulator, user, flow, "b:r:15")
    saved = await press(emulator, user, await press(emulator, user, flow, "b:h:15:d"), "b:s:15:d:23")
    assert "Каждый день в 23:00 UTC" in saved.shown
    view = await say(emulator, user, "/settings")
    assert "Звук: выключен" in view.shown
    view = await press(emulator, user, view, "b:n:1")
    assert "Звук: включён" in view.shown

    await publish_now(bot, "ovd-info", "ru")
    await deliverer(bot).run(force=True)
    await emulator.wait_idle()
    digest = emulator.last_bot_message(user.id)
    assert digest.shown.startswith("Новое в Тропе: 1 материал")
    assert digest.disable_notification in (None, False)

    assert (await say(emulator, user, "/unsubscribe")).shown.startswith("Вы отписались")
    assert (await say(emulator, user, "/unsubscribe")).shown.startswith("У вас нет подписки")
    assert (await deliverer(bot).run(force=True)).due == 0


async def test_forget_says_what_was_deleted(emulator: BotApiEmulator, bot: TropaApp) -> None:
    user = emulator.user(user_id=5558003, first_name="Tom", language_code="en")
    flow = await say(emulator, user, "/subscribe")
    await press(emulator, user, flow, "b:s:15:d:8")
    chooser = await say(emulator, user, "/language")
    await press(emulator, user, chooser, "l:en")
    forgot = await say(emulator, user, "/forget")
    assert forgot.shown == (
        "Deleted everything this bot held about this chat: your digest subscription, your language choice. "
        "Nothing else was stored."
    )
    assert (await say(emulator, user, "/forget")).shown.startswith("There was nothing")


async def test_forged_subscription_buttons_change_nothing(emulator: BotApiEmulator, bot: TropaApp) -> None:
    user = emulator.user(user_id=5558004, first_name="Tom", language_code="en")
    flow = await say(emulator, user, "/subscribe")
    for data in ("b:s:0:d:9", "b:s:99:d:9", "b:s:15:9:9", "b:s:15:d:24", "b:r:0", "b:h:15:8", "b:n:2", "b:t:16"):
        await press(emulator, user, flow, data)
    assert (await say(emulator, user, "/settings")).shown.startswith("You have no digest subscription")
    answers = [a.get("text", "") for a in emulator.callback_answers.values()]
    assert any("at least one topic" in a for a in answers)
