"""bot.__main__: the `tropa` command line, in process and as a real subprocess."""

from __future__ import annotations

import base64
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from bot.__main__ import main
from bot.config import decode_key
from tests.helpers import FIXTURE_CONTENT, copy_tree

TOKEN = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"
KEY = base64.urlsafe_b64encode(bytes(range(32))).decode("ascii")

pytestmark = pytest.mark.usefixtures("clean_env", "restore_logging")


def tropa(*args: str, cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    """Run `python -m bot` with no TROPA_* variables but the ones given."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("TROPA_")}
    clean.update({f"TROPA_{k.upper()}": v for k, v in env.items()})
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        cwd=cwd,
        env=clean,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def assert_one_line_operator_error(result: subprocess.CompletedProcess[str], variable: str) -> None:
    assert result.returncode == 2, result.stderr
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(f"tropa: {variable} ")
    assert "Traceback" not in result.stderr


# Real subprocesses: exit codes and exactly what a person sees


def test_keygen_prints_urlsafe_base64_of_32_bytes(tmp_path: Path) -> None:
    first, second = tropa("keygen", cwd=tmp_path), tropa("keygen", cwd=tmp_path)
    assert first.returncode == 0
    key = first.stdout.strip()
    assert first.stdout == key + "\n"
    assert len(base64.urlsafe_b64decode(key)) == 32
    assert set(key) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_=")
    assert decode_key(key) == base64.urlsafe_b64decode(key)
    assert second.stdout.strip() != key


def test_content_check_on_the_fixtures_exits_0(tmp_path: Path) -> None:
    result = tropa("content", "check", "--dir", str(FIXTURE_CONTENT), cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout == ""
    assert result.stderr.strip() == "8 files in 3 sections, 0 problems"


def test_content_check_on_a_broken_copy_exits_1_with_path_field_problem(tmp_path: Path) -> None:
    root = copy_tree(tmp_path)
    path = root / "tactics" / "letters" / "ru.md"
    path.write_text(path.read_text(encoding="utf-8").replace("risk_inside: low", "risk_inside: extreme"), "utf-8")
    (root / "orgs" / "helpers" / "en.md").unlink()
    result = tropa("content", "check", "--dir", str(root), cwd=tmp_path)
    assert result.returncode == 1
    lines = result.stdout.splitlines()
    assert "content/tactics/letters/ru.md: risk_inside: Input should be 'low', 'medium' or 'high'" in lines
    assert "content/orgs/helpers/en.md: file: is missing (every item needs ru and en)" in lines
    assert all(re.fullmatch(r"content/[a-z/.]+: [a-z_.0-9 ]+: \S.*", line) for line in lines), lines
    assert result.stderr.strip() == f"6 files in 3 sections, {len(lines)} problems"
    assert "Traceback" not in result.stderr


def test_content_check_reads_the_content_dir_variable(tmp_path: Path) -> None:
    result = tropa("content", "check", cwd=tmp_path, content_dir=str(FIXTURE_CONTENT))
    assert result.returncode == 0


def test_run_without_a_token_exits_2_with_one_line(tmp_path: Path) -> None:
    result = tropa("run", cwd=tmp_path, secret_key=KEY)
    assert_one_line_operator_error(result, "TROPA_BOT_TOKEN")
    assert "@BotFather" in result.stderr


def test_run_is_the_default_command(tmp_path: Path) -> None:
    assert_one_line_operator_error(tropa(cwd=tmp_path, secret_key=KEY), "TROPA_BOT_TOKEN")


def test_run_with_nothing_set_exits_2_with_one_line(tmp_path: Path) -> None:
    result = tropa("run", cwd=tmp_path)
    assert result.returncode == 2
    assert len(result.stderr.splitlines()) == 1
    assert result.stderr.startswith("tropa: TROPA_")


def test_run_without_a_key_exits_2_naming_it(tmp_path: Path) -> None:
    result = tropa("run", cwd=tmp_path, bot_token=TOKEN)
    assert_one_line_operator_error(result, "TROPA_SECRET_KEY")
    assert "tropa keygen" in result.stderr
    assert TOKEN not in result.stderr


@pytest.mark.parametrize("key", ["not-a-key", KEY[:-8], "ключ" * 11])
def test_malformed_key_exits_2_naming_it_without_echoing_it(tmp_path: Path, key: str) -> None:
    result = tropa("run", cwd=tmp_path, bot_token=TOKEN, secret_key=key)
    assert_one_line_operator_error(result, "TROPA_SECRET_KEY")
    assert key not in result.stderr
    assert TOKEN not in result.stderr


def test_malformed_token_exits_2_naming_it_without_echoing_it(tmp_path: Path) -> None:
    bad = "123456789:short-secret"
    result = tropa("run", cwd=tmp_path, bot_token=bad, secret_key=KEY)
    assert_one_line_operator_error(result, "TROPA_BOT_TOKEN")
    assert "short-secret" not in result.stderr


def test_config_errors_stop_content_commands_too(tmp_path: Path) -> None:
    result = tropa("content", "check", "--dir", str(FIXTURE_CONTENT), cwd=tmp_path, log_level="loud")
    assert_one_line_operator_error(result, "TROPA_LOG_LEVEL")


def test_a_dotenv_file_in_the_working_directory_is_used(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text(f"TROPA_SECRET_KEY={KEY}\n", encoding="utf-8")
    assert_one_line_operator_error(tropa("run", cwd=tmp_path), "TROPA_BOT_TOKEN")


# In process: the same entry point, faster, for the content commands


def test_content_import_is_idempotent(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("TROPA_DB_PATH", str(tmp_path / "tropa.sqlite3"))
    assert main(["content", "import", "--dir", str(FIXTURE_CONTENT)]) == 0
    assert capsys.readouterr().out == "added 8, updated 0, unchanged 0, kept database edits 0\n"
    assert main(["content", "import", "--dir", str(FIXTURE_CONTENT)]) == 0
    assert capsys.readouterr().out == "added 0, updated 0, unchanged 8, kept database edits 0\n"


def test_content_import_refuses_a_broken_tree(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    db_path = tmp_path / "tropa.sqlite3"
    monkeypatch.setenv("TROPA_DB_PATH", str(db_path))
    root = copy_tree(tmp_path)
    (root / "orgs" / "helpers" / "ru.md").write_bytes(b"\xff")
    assert main(["content", "import", "--dir", str(root)]) == 1
    captured = capsys.readouterr()
    assert captured.out.startswith("content/orgs/helpers/ru.md: file: is not UTF-8 text\n")
    assert "nothing imported" in captured.err
    assert not db_path.exists()


def test_in_process_config_error_returns_2(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("TROPA_SECRET_KEY", "nope")
    assert main(["keygen"]) == 0  # keygen needs no settings
    capsys.readouterr()
    assert main(["content", "check"]) == 2
    assert capsys.readouterr().err.startswith("tropa: TROPA_SECRET_KEY is invalid: ")


def test_unknown_subcommand_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as caught:
        main(["frobnicate"])
    assert caught.value.code == 2
    assert "invalid choice" in capsys.readouterr().err


# Digests and keys


def test_digest_run_once_needs_the_key_and_the_token(tmp_path: Path) -> None:
    assert_one_line_operator_error(tropa("digest", "run-once", cwd=tmp_path, bot_token=TOKEN), "TROPA_SECRET_KEY")
    assert_one_line_operator_error(tropa("digest", "run-once", cwd=tmp_path, secret_key=KEY), "TROPA_BOT_TOKEN")


def test_rotate_key_reseals_and_prints_the_new_key(tmp_path: Path) -> None:
    import asyncio
    import datetime as dt

    from storage import subscribers
    from storage.crypto import Keys
    from storage.db import connect
    from storage.migrate import migrate
    from storage.subscribers import Schedule

    db_path = tmp_path / "rotate.sqlite3"

    async def prepare() -> None:
        db = await connect(db_path)
        await migrate(db)
        await subscribers.save(
            db,
            Keys.from_master(decode_key(KEY)),
            42424242,
            Schedule(1, "daily", None, 5),
            "ru",
            dt.datetime.now(dt.UTC),
        )
        await db.close()

    asyncio.run(prepare())
    result = tropa("rotate-key", cwd=tmp_path, secret_key=KEY, db_path=str(db_path))
    assert result.returncode == 0, result.stderr
    first, new_key = result.stdout.splitlines()
    assert first.startswith("re-sealed 1 subscribers")
    assert decode_key(new_key) != decode_key(KEY)
    again = tropa("rotate-key", cwd=tmp_path, secret_key=KEY, db_path=str(db_path))
    assert_one_line_operator_error(again, "TROPA_SECRET_KEY")  # the old key no longer opens the sealed ids
    late = tropa("digest", "run-once", cwd=tmp_path, secret_key=KEY, bot_token=TOKEN, db_path=str(db_path))
    assert_one_line_operator_error(late, "TROPA_SECRET_KEY")
    bad = tropa("rotate-key", "--new-key", "short", cwd=tmp_path, secret_key=new_key, db_path=str(db_path))
    assert_one_line_operator_error_any(bad, "--new-key")


def assert_one_line_operator_error_any(result: subprocess.CompletedProcess[str], name: str) -> None:
    assert result.returncode == 2, result.stderr
    assert result.stderr.startswith(f"tropa: {name} ")
    assert len(result.stderr.splitlines()) == 1


def test_keygen_webhook_prints_a_secret_telegram_accepts(tmp_path: Path) -> None:
    result = tropa("keygen", "--webhook", cwd=tmp_path)
    assert result.returncode == 0
    secret = result.stdout.strip()
    assert result.stdout == secret + "\n"
    assert re.fullmatch(r"[A-Za-z0-9_-]{40,256}", secret)
    assert tropa("keygen", "--webhook", cwd=tmp_path).stdout.strip() != secret


def test_database_commands_answer_in_one_line(tmp_path: Path) -> None:
    db = str(tmp_path / "data" / "tropa.sqlite3")
    missing = tropa("health", cwd=tmp_path, db_path=db)
    assert (missing.returncode, missing.stdout) == (1, "")
    assert missing.stderr == f"tropa: {db}: no database there\n"
    assert not (tmp_path / "data").exists(), "health must not create a database"
    migrated = tropa("migrate", cwd=tmp_path, db_path=db)
    assert migrated.returncode == 0
    assert re.fullmatch(r"applied (\d{4}_\w+\.sql, )*\d{4}_\w+\.sql: schema \d+\n", migrated.stdout)
    assert tropa("migrate", cwd=tmp_path, db_path=db).stdout.endswith(": up to date\n")
    healthy = tropa("health", cwd=tmp_path, db_path=db, secret_key=KEY)
    assert (healthy.returncode, healthy.stderr) == (0, "")
    assert re.fullmatch(r"healthy: schema \d+, 0 items, 0 subscribers\n", healthy.stdout)
    copy = tmp_path / "copy.sqlite3"
    assert tropa("backup", str(copy), cwd=tmp_path, db_path=db).returncode == 0
    again = tropa("backup", str(copy), cwd=tmp_path, db_path=db)
    assert (again.returncode, again.stderr) == (
        1,
        f"tropa: {copy}: already exists: choose another name, or add --force to replace it\n",
    )
    assert tropa("backup", "--force", str(copy), cwd=tmp_path, db_path=db).returncode == 0
    (tmp_path / "notes.txt").write_text("not a database")
    refused = tropa("restore", "notes.txt", cwd=tmp_path, db_path=db)
    assert refused.returncode == 1
    assert refused.stderr.startswith("tropa: notes.txt: not a SQLite database")
    assert len(refused.stderr.splitlines()) == 1


def test_backup_needs_a_path(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["backup"])
    assert exited.value.code == 2
    assert "the following arguments are required: path" in capsys.readouterr().err
