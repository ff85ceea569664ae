"""bot.updates: one chat's updates one at a time in arrival order, other chats in parallel, no lock left behind."""

from __future__ import annotations

import asyncio
import datetime as dt

import pytest
from telegram import CallbackQuery, Chat, InlineQuery, Message, Update, User

from bot.updates import PerChatProcessor

WAIT = 2.0  # seconds: generous for a deadlock to show, never reached when the code is right


def message_update(update_id: int, chat_id: int, text: str = "hi") -> Update:
    """A real Update with a message in a private chat (chat id == user id) or a group (negative id)."""
    user = User(abs(chat_id), "Test", is_bot=False)
    chat = Chat(chat_id, Chat.PRIVATE if chat_id > 0 else Chat.GROUP)
    message = Message(update_id, dt.datetime.now(dt.UTC), chat, from_user=user, text=text)
    return Update(update_id, message=message)


def inline_update(update_id: int, user_id: int) -> Update:
    """An inline query: a user, no chat."""
    return Update(update_id, inline_query=InlineQuery(str(update_id), User(user_id, "Test", False), "q", ""))


def chatless_update(update_id: int) -> Update:
    """An update with neither chat nor user."""
    return Update(update_id)


@pytest.fixture
async def processor() -> PerChatProcessor:
    instance = PerChatProcessor()
    await instance.initialize()
    return instance


async def test_one_chats_updates_run_one_at_a_time_in_arrival_order(processor: PerChatProcessor) -> None:
    log: list[str] = []

    async def handle(name: str) -> None:
        log.append(f"start {name}")
        for _ in range(3):  # yield to the loop: anything allowed to interleave would do it here
            await asyncio.sleep(0)
        log.append(f"end {name}")

    names = [str(n) for n in range(1, 7)]
    await asyncio.wait_for(
        asyncio.gather(*(processor.process_update(message_update(int(n), 42), handle(n)) for n in names)), WAIT
    )
    assert log == [entry for n in names for entry in (f"start {n}", f"end {n}")]
    assert processor._locks == {}


async def test_a_slow_first_update_still_goes_first(processor: PerChatProcessor) -> None:
    """A double tap: the second press waits for the first press's answer even if the first is slow."""
    done: list[int] = []
    release = asyncio.Event()

    async def slow() -> None:
        await release.wait()
        done.append(1)

    async def fast() -> None:
        done.append(2)

    first = asyncio.create_task(processor.process_update(message_update(1, 42), slow()))
    second = asyncio.create_task(processor.process_update(message_update(2, 42), fast()))
    for _ in range(5):
        await asyncio.sleep(0)
    assert done == []  # the fast update is queued behind the slow one
    assert processor._locks[42][1] == 2  # two updates of this chat in flight, one lock
    release.set()
    await asyncio.wait_for(asyncio.gather(first, second), WAIT)
    assert done == [1, 2]
    assert processor._locks == {}


async def test_different_chats_run_concurrently(processor: PerChatProcessor) -> None:
    chats = [42, 43, -100500, 7]
    barrier = asyncio.Barrier(len(chats))
    inside: list[int] = []

    async def handle(chat_id: int) -> None:
        inside.append(chat_id)
        await barrier.wait()  # only returns once every chat's handler is running at the same time

    await asyncio.wait_for(
        asyncio.gather(*(processor.process_update(message_update(n, c), handle(c)) for n, c in enumerate(chats))),
        WAIT,
    )
    assert sorted(inside) == sorted(chats)
    assert processor._locks == {}


async def test_a_busy_chat_does_not_hold_up_another(processor: PerChatProcessor) -> None:
    release = asyncio.Event()
    other_done = asyncio.Event()

    async def stuck() -> None:
        await release.wait()

    async def other() -> None:
        other_done.set()

    busy = asyncio.create_task(processor.process_update(message_update(1, 42), stuck()))
    queued = asyncio.create_task(processor.process_update(message_update(2, 42), stuck()))
    await asyncio.wait_for(processor.process_update(message_update(3, 43), other()), WAIT)
    assert other_done.is_set()
    assert list(processor._locks) == [42]
    release.set()
    await asyncio.wait_for(asyncio.gather(busy, queued), WAIT)
    assert processor._locks == {}


async def test_the_lock_table_is_empty_after_many_chats(processor: PerChatProcessor) -> None:
    async def handle() -> None:
        await asyncio.sleep(0)

    updates = [message_update(n, 1000 + n % 17) for n in range(200)]
    await asyncio.wait_for(asyncio.gather(*(processor.process_update(u, handle()) for u in updates)), WAIT)
    assert processor._locks == {}


async def test_updates_with_no_chat_and_no_user_still_run_and_take_no_lock(processor: PerChatProcessor) -> None:
    barrier = asyncio.Barrier(2)
    ran: list[int] = []

    async def handle(number: int) -> None:
        assert processor._locks == {}
        await barrier.wait()  # two chatless updates are not serialised against each other
        ran.append(number)

    await asyncio.wait_for(
        asyncio.gather(
            processor.process_update(chatless_update(1), handle(1)),
            processor.process_update(chatless_update(2), handle(2)),
        ),
        WAIT,
    )
    assert sorted(ran) == [1, 2]
    assert processor._locks == {}


async def test_an_update_that_is_not_an_update_object_still_runs(processor: PerChatProcessor) -> None:
    ran: list[str] = []

    async def handle() -> None:
        ran.append("custom")

    await processor.process_update("a custom update pushed with update_queue.put", handle())
    assert ran == ["custom"]
    assert processor._locks == {}


async def test_an_inline_query_is_keyed_by_its_user(processor: PerChatProcessor) -> None:
    """No chat, but a user: serialised with that user's private chat, which has the same id."""
    log: list[str] = []
    release = asyncio.Event()

    async def message() -> None:
        await release.wait()
        log.append("message")

    async def inline() -> None:
        log.append("inline")

    first = asyncio.create_task(processor.process_update(message_update(1, 5150), message()))
    second = asyncio.create_task(processor.process_update(inline_update(2, 5150), inline()))
    for _ in range(5):
        await asyncio.sleep(0)
    assert log == []
    assert list(processor._locks) == [5150]
    release.set()
    await asyncio.wait_for(asyncio.gather(first, second), WAIT)
    assert log == ["message", "inline"]
    assert processor._locks == {}


async def test_a_callback_query_is_keyed_by_its_message_chat(processor: PerChatProcessor) -> None:
    pressed_in: list[int] = []
    chat_message = message_update(1, -4242).message
    assert chat_message is not None
    query = CallbackQuery("q1", User(99, "Test", False), "ci", message=chat_message, data="x")
    update = Update(2, callback_query=query)

    async def handle() -> None:
        pressed_in.extend(processor._locks)

    await processor.process_update(update, handle())
    assert pressed_in == [-4242]
    assert processor._locks == {}


async def test_an_exception_releases_the_lock(processor: PerChatProcessor) -> None:
    ran: list[str] = []

    async def broken() -> None:
        await asyncio.sleep(0)
        raise ValueError("handler failed")

    async def next_one() -> None:
        ran.append("next")

    failing = asyncio.create_task(processor.process_update(message_update(1, 42), broken()))
    waiting = asyncio.create_task(processor.process_update(message_update(2, 42), next_one()))
    with pytest.raises(ValueError, match="handler failed"):
        await asyncio.wait_for(failing, WAIT)
    await asyncio.wait_for(waiting, WAIT)
    assert ran == ["next"]
    assert processor._locks == {}
    # And the chat is not stuck afterwards.
    await asyncio.wait_for(processor.process_update(message_update(3, 42), next_one()), WAIT)
    assert ran == ["next", "next"]
    assert processor._locks == {}


async def test_a_cancelled_update_releases_the_lock(processor: PerChatProcessor) -> None:
    release = asyncio.Event()
    ran: list[str] = []

    async def stuck() -> None:
        await release.wait()

    async def after() -> None:
        ran.append("after")

    never_started = stuck()
    holder = asyncio.create_task(processor.process_update(message_update(1, 42), stuck()))
    waiter = asyncio.create_task(processor.process_update(message_update(2, 42), never_started))
    for _ in range(5):
        await asyncio.sleep(0)
    waiter.cancel()  # cancelled while waiting for the lock
    holder.cancel()  # cancelled while holding it
    results = await asyncio.gather(holder, waiter, return_exceptions=True)
    assert all(isinstance(r, asyncio.CancelledError) for r in results)
    never_started.close()  # cancelled before it ran: close it so it is not reported as never awaited
    assert processor._locks == {}
    await asyncio.wait_for(processor.process_update(message_update(3, 42), after()), WAIT)
    assert ran == ["after"]


async def test_concurrency_limit_is_respected() -> None:
    processor = PerChatProcessor(max_concurrent_updates=2)
    assert processor.max_concurrent_updates == 2
    running = 0
    peak = 0

    async def handle() -> None:
        nonlocal running, peak
        running += 1
        peak = max(peak, running)
        for _ in range(3):
            await asyncio.sleep(0)
        running -= 1

    updates = [message_update(n, 100 + n) for n in range(6)]
    await asyncio.wait_for(asyncio.gather(*(processor.process_update(u, handle()) for u in updates)), WAIT)
    assert peak == 2
    assert processor._locks == {}
