"""The privacy regression suite: every flow of the bot, run by distinctive people at DEBUG, leaves no trace of them.

Each flow is one async function in FLOWS, run in order against one bot. After each flow, and once more after the bot
has stopped, every file under the test's directory (the database, its -wal and -shm, anything else anyone wrote) is
searched for each person's identifiers: the id in decimal, as 8, 6 and 4 bytes in either byte order (SQLite keeps an
integer in 1 to 8 big-endian bytes), usernames, names, distinctive language codes and the texts they sent, and for the
token, the key (raw, base64, hex, and the two keys derived from it) and the webhook secret. Every log record of every
logger is searched for the same, both as it arrives (before the redacting filter) and as it is finally written.

A new flow is an async function taking a Run, appended to FLOWS; it should assert that it did what it says. A Run
holds the emulator, the bot and the people; run.restart() stops the bot and starts it again on the same database, and
the bot runs on the emulator's clock, so run.emu.advance() makes its deletions due.
"""

from __future__ import annotations

import base64
import hashlib
import io
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from pydantic import SecretStr

from bot.app import TropaApp, build_application, polling
from bot.config import Settings
from bot.flood import FloodGate
from bot.logs import setup_logging
from storage.crypto import Keys
from storage.deletions import DUE_STEP
from tests.e2e.conftest import TOKEN, all_data, button_data, make_settings, press, say
from tests.emulator import BotApiEmulator, FakeUser


@dataclass(frozen=True)
class Person:
    """Someone with identifiers distinctive enough that finding one anywhere is a finding."""

    id: int
    username: str
    first: str
    last: str
    language: str
    texts: tuple[str, ...]  # what they type: searches, inline queries, arguments

    def needles(self) -> list[bytes]:
        return [*id_forms(self.id), *(s.encode() for s in (self.username, self.first, self.last, *self.texts))]


PEOPLE = [
    Person(7391046258, "zephyrine_quokka", "Ксенофонтия", "Пятиглазова", "ru", ("квазипротон зеленеет",)),
    Person(8012345671, "umbra_marmoset77", "Bartholomew", "Quillfeather", "en", ("marmalade heliograph",)),
    Person(1514970647, "velvet_axolotl", "Эвридика", "Шмельцер", "tt-RU", ("чернослив-невидимка",)),
    Person(6620198734, "saffron_tapir_9", "Zebulon", "Aethelstan-Vry", "ba-RU", ("opalescent kumquat",)),
]
ADMIN = Person(9123456781, "octavia_pangolin", "Октавия", "Грифельдорф", "ru", ())
ADMIN_ALIAS = "anna"
GROUP_ID, GROUP_TITLE = -1001357924680, "Кружок зеленеющих квазипротонов"
KEY_BYTES = hashlib.sha256(b"tropa privacy suite key").digest()
KEY = base64.urlsafe_b64encode(KEY_BYTES).decode("ascii")
WEBHOOK_SECRET = "whsec_Tr0pa-privacy_suite_9f3c7a"


def id_forms(ident: int) -> list[bytes]:
    """Every way an integer id can sit in a file: decimal text, and fixed-width binary in both byte orders."""
    forms = [str(ident).encode()]
    for width in (8, 6, 4):
        if -(2 ** (8 * width - 1)) <= ident < 2 ** (8 * width - 1):
            forms += [ident.to_bytes(width, "little", signed=True), ident.to_bytes(width, "big", signed=True)]
    return forms


def secrets() -> list[bytes]:
    """The token, the key in every spelling, the keys derived from it, the webhook secret."""
    keys = Keys.from_master(KEY_BYTES)
    return [
        TOKEN.encode(),
        TOKEN.split(":", 1)[1].encode(),
        KEY_BYTES,
        KEY.encode(),
        KEY.rstrip("=").encode(),
        base64.b64encode(KEY_BYTES),
        KEY_BYTES.hex().encode(),
        keys.lookup_key,
        keys.seal_key,
        keys.lookup_key.hex().encode(),
        keys.seal_key.hex().encode(),
        WEBHOOK_SECRET.encode(),
    ]


def needles() -> list[bytes]:
    """Everything that must not turn up: each person's identifiers, the group's, every secret."""
    people = [n for person in (*PEOPLE, ADMIN) for n in person.needles()]
    languages = [p.language.encode() for p in PEOPLE if p.language not in ("ru", "en")]
    return [*people, *languages, *id_forms(GROUP_ID), GROUP_TITLE.encode(), *secrets()]


@dataclass
class Run:
    """What a flow works with: the emulator, the running bot, the people as the emulator knows them."""

    emu: BotApiEmulator
    settings: Settings
    people: list[FakeUser]
    admin: FakeUser
    app: TropaApp | None = None
    stack: AsyncExitStack = field(default_factory=AsyncExitStack)

    @property
    def bot(self) -> TropaApp:
        assert self.app is not None
        return self.app

    async def start(self) -> None:
        """The bot on the emulator's clock, so that emu.advance() makes deletions due."""
        app = build_application(self.settings, clock=self.emu.state.now)
        self.app = await self.stack.enter_async_context(polling(app, poll_timeout=1))

    async def rows(self, table: str) -> int:
        """How many rows a table of the bot's database holds."""
        assert self.bot.bot_data.db is not None
        async with self.bot.bot_data.db.execute(f"SELECT COUNT(*) FROM {table}") as cursor:
            row = await cursor.fetchone()
        assert row is not None
        return int(row[0])

    async def restart(self) -> None:
        """Stop the bot and start it again on the same database: what survives a restart is on disk."""
        await self.stack.aclose()
        self.stack = AsyncExitStack()
        await self.start()


Flow = Callable[[Run], Awaitable[None]]


async def reading(run: Run) -> None:
    """The menu, sections, items, related items, deep links, info pages, language, odd input, a group."""
    emu = run.emu
    for user, person in zip(run.people, PEOPLE, strict=True):
        menu = await say(emu, user, "/start")
        listed = await press(emu, user, menu, "s:orgs:0")
        item = await press(emu, user, listed, next(d for d in all_data(listed) if d.startswith("v:")))
        related = [d for d in all_data(item) if d.startswith("v:")]
        if related:
            await press(emu, user, item, related[0])
        await press(emu, user, item, "m")
        assert (await say(emu, user, "/start orgs_ovd-info")).shown.startswith(("ОВД-Инфо", "OVD-Info"))
        await say(emu, user, "/start tactics")
        await say(emu, user, f"/start {person.texts[0].split()[0]}")
        for page in ("/help", "/privacy", "/about"):
            await say(emu, user, page)
        chooser = await say(emu, user, "/language")
        await press(emu, user, chooser, "l:en")
        await press(emu, user, chooser, "l:ru")
        await press(emu, user, chooser, "x:" + person.texts[0][:20])  # forged button data
        await say(emu, user, "/nosuchcommand " + person.texts[0])
        emu.send_document(user, person.texts[0].encode(), f"{person.username}.txt", caption=person.first)
        emu.send_message(user, "/start", chat_type="supergroup", chat_id=GROUP_ID, title=GROUP_TITLE)
        await emu.wait_idle()
    assert "@tropa_test_bot" in emu.last_bot_message(GROUP_ID).shown


async def search(run: Run) -> None:
    """Plain text and /search, with and without results."""
    for user, person in zip(run.people, PEOPLE, strict=True):
        await say(run.emu, user, person.texts[0])
        await say(run.emu, user, "/search " + person.texts[0])
        found = await say(run.emu, user, "повестка")
        assert any(d.startswith("v:") for d in all_data(found))


async def inline(run: Run) -> None:
    """Inline queries with results, without, and empty."""
    answered = len(run.emu.inline_answers)
    for user, person in zip(run.people, PEOPLE, strict=True):
        for query in (person.texts[0], "повестка", ""):
            run.emu.inline_query(user, query)
    await run.emu.wait_idle()
    assert len(run.emu.inline_answers) == answered + 3 * len(PEOPLE)


async def subscription(run: Run) -> None:
    """Subscribe with buttons (daily and weekly), change the settings, turn sound on."""
    for number, user in enumerate(run.people):
        flow = await say(run.emu, user, "/subscribe")
        flow = await press(run.emu, user, flow, "b:t:14")
        flow = await press(run.emu, user, flow, "b:r:14")
        if number % 2:
            flow = await press(run.emu, user, flow, "b:w:14")
            flow = await press(run.emu, user, flow, f"b:h:14:{number % 7}")
            saved = await press(run.emu, user, flow, f"b:s:14:{number % 7}:{number + 6}")
        else:
            flow = await press(run.emu, user, flow, "b:h:14:d")
            saved = await press(run.emu, user, flow, f"b:s:14:d:{number + 6}")
        assert "UTC" in saved.shown
        settings = await say(run.emu, user, "/settings")
        settings = await press(run.emu, user, settings, "b:n:1")
        await press(run.emu, user, settings, button_data(settings, "🔕"))


async def digest(run: Run) -> None:
    """Something new for everyone, one person has blocked the bot: a forced delivery run."""
    db, deliverer = run.bot.bot_data.db, run.bot.bot_data.deliverer
    assert db is not None
    assert deliverer is not None
    await db.execute("UPDATE subscribers SET last_digest = last_digest - 3600")
    await db.execute("UPDATE items SET published_at = ? WHERE slug = 'ovd-info'", (int(time.time()),))
    await db.commit()
    blocked = run.people[-1]
    run.emu.block(blocked)
    report = await deliverer.run(force=True)
    run.emu.unblock(blocked)
    assert (report.sent, report.removed) == (len(PEOPLE) - 1, 1)


async def disappearing(run: Run) -> None:
    """Disappearing messages on (1 and 24 hours): deletions are owed, and on disk across a restart (scanned so)."""
    for hours, user, person in zip((1, 24, 1, 24), run.people, PEOPLE, strict=True):
        view = await say(run.emu, user, "/settings")
        await press(run.emu, user, view, f"d:{hours}")
        await say(run.emu, user, person.texts[0])
    await run.restart()
    assert await run.rows("deletions") > 0


async def disappeared(run: Run) -> None:
    """A day later the owed deletions are carried out, and their rows gone."""
    run.emu.advance(24 * 3600 + DUE_STEP)
    gone = run.bot.bot_data.disappearing
    assert gone is not None
    assert (await gone.run(run.bot.bot)).messages > 0
    assert await run.rows("deletions") == 0
    for user, person in zip(run.people, PEOPLE, strict=True):
        typed = [m for m in run.emu.messages(user) if m.text == person.texts[0]]
        assert typed[-1].deleted  # the earlier ones were sent before the choice: it does not reach back


async def wipe(run: Run) -> None:
    """/wipe, then keep what is stored, or forget it too."""
    for number, user in enumerate(run.people[:2]):
        await say(run.emu, user, "повестка")
        run.emu.send_message(user, "/wipe")
        offered = lambda: any("w:f" in m.callback_data() for m in run.emu.bot_messages(user))  # noqa: B023, E731
        await run.emu.wait_for(offered, timeout=20)
        run.emu.click(user, run.emu.last_bot_message(user).message_id, "w:f" if number else "w:k")
        await run.emu.wait_idle()  # the offer deletes itself after the choice
        assert [m for m in run.emu.messages(user) if m.text == "повестка" and not m.deleted] == []


async def flood(run: Run) -> None:
    """One person floods: a notice, then silence (the limit's buckets are keyed by HMAC, in memory only)."""
    gate = run.bot.bot_data.flood
    run.bot.bot_data.flood = FloodGate(6, 0.001)
    try:
        for number in range(10):
            run.emu.send_message(run.people[1], f"{PEOPLE[1].texts[0]} {number}")
        await run.emu.wait_idle()
    finally:
        run.bot.bot_data.flood = gate
    assert run.bot.bot_data.usage["flood_notice"] == 1


async def admin(run: Run) -> None:
    """An admin edits, previews, publishes, reads history, rolls back, announces, exports, imports, reads stats."""
    emu, boss = run.emu, run.admin
    await say(emu, boss, "/admin")
    editor = await say(emu, boss, "/edit meduza ru")
    editor = await press(emu, boss, editor, "e:f:title")
    editor = await say(emu, boss, "Медуза (правка)")
    await press(emu, boss, editor, "e:s")
    await say(emu, boss, "/drafts")
    await say(emu, boss, "/preview meduza ru")
    assert (await say(emu, boss, "/publish meduza ru")).shown.startswith("Опубликовано")
    await say(emu, boss, "/history meduza")
    await say(emu, boss, "/rollback meduza 1 ru")
    question = await say(emu, boss, "/delete vesna")
    await press(emu, boss, question, "a:keep:vesna")
    await say(emu, boss, "/new orgs brand-new-org")
    await say(emu, boss, "/cancel")
    await say(emu, boss, "/announce")
    question = await say(emu, boss, "Собрание в воскресенье")
    await press(emu, boss, question, "o:go")
    await emu.wait_for(lambda: "завершена" in emu.message(boss.id, question.message_id).shown, timeout=20)
    await say(emu, boss, "/export")
    archive = emu.last_bot_message(boss.id).document
    assert archive is not None
    emu.send_document(boss, emu.file_bytes(archive["file_id"]), "tropa-content.zip")
    await emu.wait_idle()
    assert emu.last_bot_message(boss.id).shown.startswith("Импорт")
    stats = await say(emu, boss, "/stats")
    subscribed = await run.rows("subscribers")
    assert subscribed > 0
    assert f"Подписчиков: {subscribed}" in stats.shown


async def forget(run: Run) -> None:
    """Everyone has everything deleted: with /forget, or the button in /settings."""
    answers = []
    for number, user in enumerate(run.people):
        settings = await say(run.emu, user, "/settings")
        if number % 2 and "b:f" in all_data(settings):
            answers.append((await press(run.emu, user, settings, "b:f")).shown)
        else:
            answers.append((await say(run.emu, user, "/forget")).shown)
        again = await say(run.emu, user, "/forget")
        assert again.shown.startswith(("Об этом чате ничего", "There was nothing"))
    assert any(answer.startswith(("Удалено всё", "Deleted everything")) for answer in answers)
    await run.restart()  # what is left on disk after the bot stopped and started again
    assert (await say(run.emu, run.people[0], "/settings")).shown.startswith(("У вас нет", "You are not"))


FLOWS: list[Flow] = [
    reading, search, inline, subscription, digest, disappearing, disappeared, wipe, flood, admin, forget,
]  # fmt: skip


class Capture(logging.Handler):
    """Every record of every logger, as it arrives: before the redacting filter rewrites it."""

    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        text = f"{record.name} {record.getMessage()} {record.args!r}"
        if record.exc_info:
            text += logging.Formatter().formatException(record.exc_info)
        self.lines.append(f"{text} {record.exc_text or ''} {record.stack_info or ''}")


@dataclass
class Logs:
    """What was logged: every record as it arrived, and the text the handler finally wrote."""

    raw: Capture
    written: io.StringIO

    def since(self, line: int) -> str:
        return "\n".join(self.raw.lines[line:])


@pytest.fixture
def logs() -> Iterator[Logs]:
    """The production logging setup at DEBUG, writing to a buffer, with a capture in front of its filter."""
    capture = Capture()
    root = logging.getLogger()
    root.addHandler(capture)  # first, so it sees each record before the redacting filter
    written = io.StringIO()
    setup_logging("DEBUG", stream=written, secrets=[TOKEN, KEY, WEBHOOK_SECRET])  # as `tropa` sets it up
    try:
        yield Logs(capture, written)
    finally:
        root.removeHandler(capture)
        setup_logging("WARNING")


def files_under(root: Path) -> dict[str, bytes]:
    """Every file under root, by relative path, as raw bytes."""
    return {str(path.relative_to(root)): path.read_bytes() for path in sorted(root.rglob("*")) if path.is_file()}


def leaks(text: str | bytes, where: str) -> list[str]:
    """Which needles the text or bytes contain, each named with where it was found."""
    blob = text if isinstance(text, bytes) else text.encode("utf-8", "surrogatepass")
    return [f"{needle!r} in {where}" for needle in needles() if needle in blob]


@pytest.fixture
async def run(
    emulator: BotApiEmulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, logs: Logs
) -> AsyncIterator[Run]:
    """The bot on a database in tmp_path/data, started once logging is captured (start-up logs count too)."""
    monkeypatch.chdir(tmp_path)  # anything written to the working directory is scanned too
    overrides: dict[str, object] = {
        "secret_key": SecretStr(KEY),
        "admin_ids": {ADMIN.id: ADMIN_ALIAS},
        "webhook_secret": SecretStr(WEBHOOK_SECRET),
        "digest_interval": 3600,
        "flood_burst": 100_000,
        "flood_rate": 100_000,
    }
    settings = make_settings(emulator, tmp_path / "data" / "tropa.sqlite3", **overrides)
    people = [emulator.user(p.id, p.first, p.last, p.username, p.language) for p in PEOPLE]
    boss = emulator.user(ADMIN.id, ADMIN.first, ADMIN.last, ADMIN.username, ADMIN.language)
    found = Run(emulator, settings, people, boss)
    await found.start()
    try:
        yield found
    finally:
        await found.stack.aclose()


async def test_no_flow_leaves_an_identifier_in_logs_or_files(run: Run, logs: Logs, tmp_path: Path) -> None:
    assert all(len(needle) >= 4 for needle in needles())  # shorter ones could turn up by chance
    found: list[str] = []
    for flow in FLOWS:
        line = len(logs.raw.lines)
        await flow(run)
        await run.emu.wait_idle()
        found += leaks(logs.since(line), f"the logs of {flow.__name__}")
        found += [
            leak
            for name, data in files_under(tmp_path).items()
            for leak in leaks(data, f"{name} after {flow.__name__}")
        ]
    await run.stack.aclose()
    files = files_under(tmp_path)
    found += [leak for name, data in files.items() for leak in leaks(data, f"{name} after the bot stopped")]
    found += leaks(logs.written.getvalue(), "the written log")
    assert found == []
    assert [(r.method, r.description) for r in run.emu.refused if r.error_code != 403] == []
    # The scans prove something only if they saw the logs, the database and what the flows sent.
    assert "event=digest_run" in logs.since(0)
    assert "data/tropa.sqlite3" in files
    assert len(files["data/tropa.sqlite3"]) > 100_000
