"""`tropa run` against the emulator: a key that does not open the database stops it with one line, exit 2."""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
import os
import signal
import socket
import sys
from pathlib import Path

from bot.app import build_application, polling
from bot.config import REPO_ROOT
from bot.i18n import Texts
from storage import subscribers
from storage.crypto import Keys
from storage.db import connect
from storage.migrate import migrate
from storage.subscribers import Schedule
from tests.e2e.conftest import TOKEN, make_settings, say
from tests.emulator import BotApiEmulator


async def test_a_wrong_key_stops_start_up(emulator: BotApiEmulator, tmp_path: Path) -> None:
    db_path = tmp_path / "sealed.sqlite3"
    db = await connect(db_path)
    try:
        await migrate(db)
        await subscribers.save(
            db, Keys.from_master(bytes(32)), 5551234, Schedule(1, "daily", None, 3), "en", dt.datetime.now(dt.UTC)
        )
    finally:
        await db.close()
    env = {k: v for k, v in os.environ.items() if not k.startswith("TROPA_")}
    env.update(
        {
            "TROPA_BOT_TOKEN": TOKEN,
            "TROPA_API_BASE_URL": emulator.base_url,
            "TROPA_DB_PATH": str(db_path),
            "TROPA_SECRET_KEY": base64.urlsafe_b64encode(bytes([7]) * 32).decode(),
        }
    )
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "run",
        env=env,
        cwd=REPO_ROOT,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    _, err = await asyncio.wait_for(process.communicate(), timeout=60)
    lines = err.decode().splitlines()
    assert process.returncode == 2, err.decode()
    assert lines[-1].startswith("tropa: TROPA_SECRET_KEY does not open the subscribers")
    assert "Traceback" not in err.decode()


async def test_descriptions_are_set_per_language_and_only_when_they_change(
    emulator: BotApiEmulator, tmp_path: Path
) -> None:
    texts = Texts.load()
    settings = make_settings(emulator, tmp_path / "d.sqlite3")
    async with polling(build_application(settings), poll_timeout=1):
        pass
    assert emulator.descriptions == {
        "ru": texts.get("ru", "bot_description"),
        "en": texts.get("en", "bot_description"),
        "": texts.get("en", "bot_description"),
    }
    assert emulator.short_descriptions == {
        "ru": texts.get("ru", "bot_short_description"),
        "en": texts.get("en", "bot_short_description"),
        "": texts.get("en", "bot_short_description"),
    }
    assert len(emulator.calls("setMyDescription")) == 3
    async with polling(build_application(settings), poll_timeout=1):
        pass
    assert len(emulator.calls("setMyDescription")) == 3  # a restart found them set and spent nothing
    assert len(emulator.calls("setMyShortDescription")) == 3


async def test_a_failed_description_does_not_stop_start_up(emulator: BotApiEmulator, tmp_path: Path) -> None:
    emulator.fail("setMyDescription", code=429, retry_after=30, times=3)
    async with polling(build_application(make_settings(emulator, tmp_path / "f.sqlite3")), poll_timeout=1):
        user = emulator.user(user_id=5551999, first_name="Tom", language_code="en")
        assert (await say(emulator, user, "/start")).shown.startswith("Tropa")


async def test_a_token_telegram_refuses_is_one_line_and_never_printed(emulator: BotApiEmulator, tmp_path: Path) -> None:
    refused = "987654321:AAnother-token-telegram-does-not-know_1"
    env = {k: v for k, v in os.environ.items() if not k.startswith("TROPA_")}
    env.update(
        {
            "TROPA_BOT_TOKEN": refused,
            "TROPA_API_BASE_URL": emulator.base_url,
            "TROPA_DB_PATH": str(tmp_path / "t.sqlite3"),
            "TROPA_SECRET_KEY": base64.urlsafe_b64encode(bytes([7]) * 32).decode(),
            "TROPA_LOG_LEVEL": "DEBUG",
        }
    )
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "run",
        env=env,
        cwd=REPO_ROOT,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), timeout=60)
    text = out.decode() + err.decode()
    assert process.returncode == 2, text
    assert (
        err.decode().splitlines()[-1] == "tropa: TROPA_BOT_TOKEN was refused by Telegram: copy it again from @BotFather"
    )
    assert "Traceback" not in text
    assert refused not in text
    assert refused.partition(":")[2] not in text
    assert env["TROPA_SECRET_KEY"] not in text


async def run_until_exit(env: dict[str, str]) -> tuple[int | None, str]:
    """`tropa run` with exactly these TROPA_* variables; its exit code and stderr."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("TROPA_")}
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "run",
        env={**clean, **env},
        cwd=REPO_ROOT,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    _, err = await asyncio.wait_for(process.communicate(), timeout=60)
    return process.returncode, err.decode()


def base_env(emulator: BotApiEmulator, tmp_path: Path) -> dict[str, str]:
    return {
        "TROPA_BOT_TOKEN": TOKEN,
        "TROPA_API_BASE_URL": emulator.base_url,
        "TROPA_DB_PATH": str(tmp_path / "t.sqlite3"),
        "TROPA_SECRET_KEY": base64.urlsafe_b64encode(bytes(32)).decode(),
    }


async def test_a_webhook_port_in_use_stops_start_up_with_one_line(emulator: BotApiEmulator, tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        env = {
            **base_env(emulator, tmp_path),
            "TROPA_WEBHOOK_URL": "https://tropa.example.org/hook",
            "TROPA_WEBHOOK_SECRET": "s3cr3t-for-the-test",
            "TROPA_PORT": str(port),
            "TROPA_LOG_LEVEL": "WARNING",
        }
        code, err = await run_until_exit(env)
    assert code == 2, err
    (line,) = err.splitlines()
    assert line.startswith(f"tropa: TROPA_PORT cannot be used: listening on 127.0.0.1 port {port} failed (")
    assert "s3cr3t-for-the-test" not in err


async def test_webhook_mode_without_a_secret_stops_before_any_network(emulator: BotApiEmulator, tmp_path: Path) -> None:
    env = {**base_env(emulator, tmp_path), "TROPA_WEBHOOK_URL": "https://tropa.example.org/hook"}
    code, err = await run_until_exit(env)
    assert code == 2
    assert err.startswith("tropa: TROPA_WEBHOOK_SECRET is not set: ")
    assert emulator.requests == []


async def test_ctrl_c_stops_the_bot_with_exit_code_0(emulator: BotApiEmulator, tmp_path: Path) -> None:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("TROPA_")}
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "run",
        env={**clean, **base_env(emulator, tmp_path), "TROPA_LOG_LEVEL": "WARNING"},
        cwd=REPO_ROOT,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        await emulator.wait_for(lambda: bool(emulator.calls("getUpdates")), timeout=60)
        process.send_signal(signal.SIGINT)
        _, err = await asyncio.wait_for(process.communicate(), timeout=10)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    assert process.returncode == 0, err.decode()
    assert err.decode() == ""


async def test_telegram_out_of_reach_at_start_is_one_line_and_exit_1(emulator: BotApiEmulator, tmp_path: Path) -> None:
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    env = {**base_env(emulator, tmp_path), "TROPA_API_BASE_URL": f"http://127.0.0.1:{port}/bot"}
    code, err = await run_until_exit(env)
    assert code == 1, err
    (line,) = err.splitlines()
    assert line.startswith("tropa: could not reach Telegram at TROPA_API_BASE_URL (")
    assert TOKEN not in err
