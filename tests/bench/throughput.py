"""Updates handled per second, side by side in one run, each bot in its own process against the emulator:
a bare python-telegram-bot echo bot (the framework's own ceiling) and Tropa (`tropa run`) answering /search and
item buttons. Tropa/echo must be at least 0.8. Also: cold start of `tropa run` to its first getUpdates with the
bundled corpus and a fresh database (at most 2 s).

Run: .venv/bin/python -m tests.bench.throughput
"""

from __future__ import annotations

import asyncio
import base64
import itertools
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path

from bot.config import REPO_ROOT
from tests.emulator import BotApiEmulator, FakeUser

TOKEN = "123456789:AAbenchmark-token-for-the-emulator_x"
KEY = base64.urlsafe_b64encode(bytes(32)).decode("ascii")
USERS = 200
UPDATES = 3000
ROUNDS = 3
QUERIES = [
    "повестка",
    "отсрочка",
    "листовки",
    "leaflets",
    "summons",
    "политзаключённые письма",
    "OVD-Info",
    "альтернативная служба",
    "leave Russia",
    "VPN",
]
RATIO_FLOOR = 0.8
CPU_MS: dict[str, list[float]] = defaultdict(list)  # the bot process's CPU milliseconds per update
COLD_START_LIMIT_S = 2.0


def tropa_process(emu: BotApiEmulator, folder: Path) -> subprocess.Popen[bytes]:
    folder.mkdir(parents=True, exist_ok=True)
    env = {
        **os.environ,
        "TROPA_BOT_TOKEN": TOKEN,
        "TROPA_API_BASE_URL": emu.base_url,
        "TROPA_SECRET_KEY": KEY,
        "TROPA_DB_PATH": str(folder / "bench.sqlite3"),
        "TROPA_CONTENT_DIR": str(REPO_ROOT / "content"),
        "TROPA_LOG_LEVEL": "WARNING",
    }
    return subprocess.Popen([sys.executable, "-m", "bot", "run"], env=env, cwd=folder)


def echo_process(emu: BotApiEmulator, transport: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "tests.bench.echo_bot", emu.base_url, TOKEN, transport], cwd=REPO_ROOT
    )


async def started(emu: BotApiEmulator, process: subprocess.Popen[bytes]) -> float:
    """Seconds from now until the process first calls getUpdates."""
    begin = time.perf_counter()
    await emu.wait_for(lambda: bool(emu.calls("getUpdates")) or process.poll() is not None, timeout=60)
    if process.poll() is not None:
        raise RuntimeError(f"the bot exited with {process.returncode}")
    return time.perf_counter() - begin


async def stop(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM, and keep serving the emulator while the bot shuts down cleanly."""
    process.terminate()
    try:
        await asyncio.to_thread(process.wait, 15)
    except subprocess.TimeoutExpired:
        process.kill()
        await asyncio.to_thread(process.wait)


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time a process has used so far (Linux)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def answered(emu: BotApiEmulator) -> int:
    return len(emu.calls("sendMessage")) + len(emu.calls("answerCallbackQuery"))


async def timed_drain(emu: BotApiEmulator, target: int) -> float:
    begin = time.perf_counter()
    await emu.wait_for(lambda: answered(emu) >= target, timeout=300)
    return time.perf_counter() - begin


async def echo_rate(transport: str) -> float:
    async with BotApiEmulator(token=TOKEN) as emu:
        process = echo_process(emu, transport)
        try:
            await started(emu, process)
            users = [emu.user(user_id=900000 + i, first_name="E") for i in range(USERS)]
            emu.clear_requests()
            cpu = cpu_seconds(process.pid)
            for i in range(UPDATES):
                emu.send_message(users[i % USERS], QUERIES[i % len(QUERIES)])
            rate = UPDATES / await timed_drain(emu, UPDATES)
            CPU_MS[f"echo-{transport}"].append((cpu_seconds(process.pid) - cpu) * 1000 / UPDATES)
            return rate
        finally:
            await stop(process)


async def tropa_rate(folder: Path) -> float:
    """Half the updates are searches (typed text), half are item buttons pressed on a section list."""
    async with BotApiEmulator(token=TOKEN) as emu:
        process = tropa_process(emu, folder)
        try:
            await started(emu, process)
            users = [
                emu.user(user_id=800000 + i, first_name="T", language_code="ru" if i % 2 else "en")
                for i in range(USERS)
            ]
            for user in users:
                emu.send_message(user, "/orgs")
            await emu.wait_for(lambda: len(emu.calls("sendMessage")) >= USERS, timeout=60)
            emu.clear_requests()
            plan = press_plan(emu, users)
            cpu = cpu_seconds(process.pid)
            for i in range(UPDATES):
                user = users[i % USERS]
                if i % 2:
                    message_id, data = next(plan[user.id])
                    emu.click(user, message_id, data)
                else:
                    emu.send_message(user, QUERIES[i % len(QUERIES)])
            seconds = await timed_drain(emu, UPDATES)
            CPU_MS["tropa"].append((cpu_seconds(process.pid) - cpu) * 1000 / UPDATES)
            await emu.wait_idle(timeout=30)
            if emu.refused:
                raise AssertionError(f"refused: {emu.refused[:3]}")
            return UPDATES / seconds
        finally:
            await stop(process)


def press_plan(emu: BotApiEmulator, users: list[FakeUser]) -> dict[int, Iterator[tuple[int, str]]]:
    """For each user, the item buttons of their section list, in turn, forever."""
    plan: dict[int, Iterator[tuple[int, str]]] = {}
    for user in users:
        message = emu.last_bot_message(user.id)
        items = [d for row in message.buttons for _, d in row if d and d.startswith("v:")]
        plan[user.id] = itertools.cycle([(message.message_id, d) for d in items])
    return plan


async def cold_start(folder: Path) -> float:
    """From starting `tropa run` (a new process, a new database) to its first getUpdates."""
    async with BotApiEmulator(token=TOKEN) as emu:
        process = tropa_process(emu, folder)
        try:
            return await started(emu, process)
        finally:
            await stop(process)


async def measure() -> dict[str, float]:
    rates: dict[str, list[float]] = {"echo": [], "echo_tuned": [], "echo_aiohttp": [], "tropa": []}
    with tempfile.TemporaryDirectory() as folder:
        for number in range(ROUNDS):
            rates["echo"].append(await echo_rate("default"))
            rates["tropa"].append(await tropa_rate(Path(folder) / f"round{number}"))
            rates["echo_tuned"].append(await echo_rate("httpx-tuned"))
            rates["echo_aiohttp"].append(await echo_rate("aiohttp"))
        starts = [await cold_start(Path(folder) / f"start{n}") for n in range(3)]
    figures = {name: statistics.median(values) for name, values in rates.items()}
    figures["cold_start_s"] = statistics.median(starts)
    return figures


def main() -> int:
    figures = asyncio.run(measure())
    ratio = figures["tropa"] / figures["echo"]
    print(f"updates/s, median of {ROUNDS} rounds of {UPDATES}, each bot in its own process:")
    cpu = {name: statistics.median(values) for name, values in CPU_MS.items()}
    print(
        f"  echo bot, PTB defaults (httpx):          {figures['echo']:7.0f}   ({cpu['echo-default']:.2f} ms CPU each)"
    )
    print(
        f"  echo bot, httpx with a small pool:       {figures['echo_tuned']:7.0f}   "
        f"({cpu['echo-httpx-tuned']:.2f} ms CPU each)"
    )
    print(
        f"  echo bot, Tropa's aiohttp transport:     {figures['echo_aiohttp']:7.0f}   "
        f"({cpu['echo-aiohttp']:.2f} ms CPU each)"
    )
    print(f"  Tropa, /search and item buttons (50/50): {figures['tropa']:7.0f}   ({cpu['tropa']:.2f} ms CPU each)")
    print(
        f"  ratio Tropa / echo (PTB defaults): {ratio:.2f} (floor {RATIO_FLOOR}); "
        f"Tropa / echo on the same transport: {figures['tropa'] / figures['echo_aiohttp']:.2f}"
    )
    print(
        f"cold start of `tropa run` to its first getUpdates: {figures['cold_start_s']:.2f} s "
        f"(limit {COLD_START_LIMIT_S} s)"
    )
    return 0 if ratio >= RATIO_FLOOR and figures["cold_start_s"] <= COLD_START_LIMIT_S else 1


if __name__ == "__main__":
    sys.exit(main())
