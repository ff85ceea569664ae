"""The `tropa` command line: run, console, content, keygen, digest, rotate-key, backup, restore, migrate, health."""

from __future__ import annotations

import argparse
import asyncio
import base64
import gc
import logging
import secrets
import signal
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from telegram.error import InvalidToken

from bot.config import ConfigError, Settings, load_settings
from bot.logs import redact, setup_logging

if TYPE_CHECKING:
    from storage.backup import Summary

log = logging.getLogger("tropa")


def parser() -> argparse.ArgumentParser:
    """Every subcommand and its options."""
    top = argparse.ArgumentParser(prog="tropa", description="Tropa: sourced answers for anti-war activists.")
    sub = top.add_subparsers(dest="command")
    sub.add_parser("run", help="run the bot (webhook when TROPA_WEBHOOK_URL is set, else long polling); the default")
    console = sub.add_parser("console", help="chat with the bot in this terminal: no token, no network")
    console.add_argument("--lang", choices=["ru", "en"], default=None, help="the Telegram language of the console user")
    content = sub.add_parser("content", help="check or import the content files")
    content_sub = content.add_subparsers(dest="action", required=True)
    check = content_sub.add_parser("check", help="validate every file; exit 1 on any problem")
    check.add_argument("--dir", default=None, help="content folder (default: TROPA_CONTENT_DIR or the bundled one)")
    imp = content_sub.add_parser("import", help="load the files into the database (idempotent)")
    imp.add_argument("--dir", default=None, help="content folder (default: TROPA_CONTENT_DIR or the bundled one)")
    imp.add_argument("--force", action="store_true", help="let files overwrite newer edits made in the database")
    keygen = sub.add_parser("keygen", help="print a new TROPA_SECRET_KEY")
    keygen.add_argument("--webhook", action="store_true", help="print a new TROPA_WEBHOOK_SECRET instead")
    digest = sub.add_parser("digest", help="digest delivery")
    digest_sub = digest.add_subparsers(dest="action", required=True)
    once = digest_sub.add_parser("run-once", help="one delivery cycle, then exit (for cron and tests)")
    once.add_argument("--force", action="store_true", help="everyone is due now")
    rotate = sub.add_parser("rotate-key", help="re-seal every subscriber under a new key")
    rotate.add_argument("--new-key", default=None, help="the new key (default: make one and print it)")
    backup = sub.add_parser("backup", help="copy the database to PATH while the bot runs")
    backup.add_argument("path", type=Path, help="the file to write (readable by its owner only)")
    backup.add_argument("--force", action="store_true", help="replace PATH if it exists")
    restore = sub.add_parser("restore", help="put a backup in place of TROPA_DB_PATH (stop the bot first)")
    restore.add_argument("path", type=Path, help="the backup file")
    restore.add_argument("--force", action="store_true", help="replace the database at TROPA_DB_PATH")
    sub.add_parser("migrate", help="create TROPA_DB_PATH or bring its schema up to date")
    sub.add_parser("health", help="exit 0 if the database opens and its schema is current; one line otherwise")
    return top


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point: operator errors are one line and exit code 2."""
    args = parser().parse_args(argv)
    command = args.command or "run"
    try:
        if command == "keygen":
            from storage.crypto import new_master_key

            # 32 random bytes either way; a webhook secret may only use A-Z a-z 0-9 _ -, so no padding.
            made = secrets.token_urlsafe(32) if args.webhook else base64.urlsafe_b64encode(new_master_key()).decode()
            print(made)
            return 0
        settings = load_settings()
        quiet_console = command == "console" and "log_level" not in settings.model_fields_set
        # In the console, event lines would interleave with the chat; they show only when asked for.
        setup_logging("WARNING" if quiet_console else settings.log_level, secrets=settings.secrets())
        if command == "content":
            return content_command(settings, args)
        if command == "digest":
            return asyncio.run(digest_once(settings, force=args.force))
        if command == "rotate-key":
            return asyncio.run(rotate_key(settings, args.new_key))
        if command == "console":
            from bot.console import run_console

            return run_console(settings, args.lang)
        if command in ("backup", "restore", "migrate", "health"):
            return database_command(settings, args)
        return run(settings)
    except ConfigError as exc:
        print(f"tropa: {exc}", file=sys.stderr)
        return 2
    except InvalidToken:
        # Not the exception's text: python-telegram-bot puts the token in it.
        print("tropa: TROPA_BOT_TOKEN was refused by Telegram: copy it again from @BotFather", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except Exception:
        # Through the redacting handler: a traceback can quote a token, a key or an id.
        log.critical("event=crashed", exc_info=True)
        return 1


def run(settings: Settings) -> int:
    """Take updates until SIGINT or SIGTERM, then stop gracefully and exit 0."""
    from telegram.error import NetworkError

    from bot.app import build_application, serve

    settings.key()  # fail fast, before any network
    hook = settings.webhook()
    app = build_application(settings)
    # What is loaded by now lives as long as the process. Out of the collector's sight, a full collection takes
    # microseconds instead of some 30 ms, a stall that would cost 30 sends of a paid broadcast.
    gc.freeze()
    try:
        asyncio.run(serve(app, hook))
    except NetworkError as exc:
        # Not the operator's doing (no network yet, Telegram down): exit 1 so that a supervisor tries again.
        reason = redact(exc.message)  # a transport's message may name the URL, and the URL carries the token
        print(f"tropa: could not reach Telegram at TROPA_API_BASE_URL ({reason})", file=sys.stderr)
        return 1
    return 0


def database_command(settings: Settings, args: argparse.Namespace) -> int:
    """backup, restore, migrate and health: one line to say what happened or what is wrong."""
    from storage.backup import BackupError

    try:
        line = asyncio.run(database_action(settings, args))
    except BackupError as exc:
        print(f"tropa: {exc}", file=sys.stderr)
        return 1
    print(line)
    return 0


async def database_action(settings: Settings, args: argparse.Namespace) -> str:
    from storage import backup, subscribers
    from storage.crypto import Keys
    from storage.db import connect
    from storage.migrate import latest_version, migrate

    path = settings.db_path
    keys = Keys.from_master(settings.key()) if settings.secret_key is not None else None
    key_opens = (lambda db: subscribers.key_opens(db, keys)) if keys is not None else None
    if args.command == "backup":
        summary = await backup.backup(path, args.path, force=args.force)
        return f"backed up {path} to {args.path}: {describe(summary)}"
    if args.command == "restore":
        summary, applied = await backup.restore(args.path, path, force=args.force, key_opens=key_opens)
        upgraded = f", brought up to schema {latest_version()}" if applied else ""
        return f"restored {args.path} to {path}: {describe(summary)}{upgraded}"
    if args.command == "health":
        return f"healthy: {describe(await backup.health(path, key_opens))}"
    db = await connect(path)
    try:
        applied = await migrate(db)
    finally:
        await db.close()
    return (
        f"applied {', '.join(applied)}: schema {latest_version()}"
        if applied
        else f"schema {latest_version()}: up to date"
    )


def describe(summary: Summary) -> str:
    return f"schema {summary.version}, {summary.items} items, {summary.subscribers} subscribers"


def content_command(settings: Settings, args: argparse.Namespace) -> int:
    """`content check` prints `path: field: problem` lines; `content import` loads valid files."""
    from pathlib import Path

    from bot.content_check import check_tree
    from bot.i18n import Texts

    root = Path(args.dir) if args.dir else settings.content_dir
    items, problems = check_tree(root, Texts.load())
    for problem in problems:
        print(problem)
    if args.action == "check":
        sections = {i.section for i in items}
        print(f"{len(items)} files in {len(sections)} sections, {len(problems)} problems", file=sys.stderr)
        return 1 if problems else 0
    if problems:
        print("nothing imported: fix the problems above first", file=sys.stderr)
        return 1
    return asyncio.run(import_content(settings, items, force=args.force))


async def import_content(settings: Settings, items: list, force: bool) -> int:  # type: ignore[type-arg]
    """Import into TROPA_DB_PATH and report what changed."""
    from storage import content
    from storage.db import connect
    from storage.migrate import migrate

    db = await connect(settings.db_path)
    try:
        await migrate(db)
        report = await content.import_items(db, items, force=force)
    finally:
        await db.close()
    print(
        f"added {len(report.added)}, updated {len(report.updated)}, unchanged {len(report.unchanged)}, "
        f"kept database edits {len(report.kept)}"
    )
    for name in report.kept:
        print(f"kept (edited in the database; use --force to overwrite): {name}")
    return 0


async def digest_once(settings: Settings, *, force: bool) -> int:
    """One delivery run against TROPA_DB_PATH; prints the counts."""
    from bot.config import WRONG_KEY
    from bot.digest import Deliverer, make_bot
    from bot.disappearing import Disappearing
    from bot.i18n import Texts
    from storage import subscribers
    from storage.crypto import Keys
    from storage.db import connect
    from storage.migrate import migrate

    keys = Keys.from_master(settings.key())
    settings.token()
    db = await connect(settings.db_path)
    bot = make_bot(settings)
    try:
        await migrate(db)
        if not await subscribers.key_opens(db, keys):
            raise ConfigError(WRONG_KEY)
        # Digests to chats that chose disappearing messages are owed a deletion like any other message.
        gone = Disappearing(db, keys, time.time)
        await gone.load()
        bot.set_sent_hook(gone.note)
        await bot.initialize()
        gc.freeze()  # see run()
        deliverer = Deliverer(db, bot, keys, Texts.load(), settings)
        # SIGINT or SIGTERM (a cron job stopped, a shutdown): the sends in flight finish, the rest stay due.
        stopping: list[asyncio.Task[None]] = []
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, lambda: stopping.append(asyncio.create_task(deliverer.stop())))
        try:
            report = await deliverer.run(force=force)
            await asyncio.gather(*stopping)
        finally:
            for sig in (signal.SIGINT, signal.SIGTERM):
                loop.remove_signal_handler(sig)
    finally:
        await bot.shutdown()
        await db.close()
    if report.skipped_quiet:
        print("quiet hours: nothing sent; due digests wait for the end of the window")
    else:
        left = f", left for the next run {report.left}" if deliverer.stopping else ""
        print(
            f"due {report.due}, sent {report.sent}, nothing new {report.nothing_new}, "
            f"removed {report.removed}, failed {report.failed}{left}, {report.seconds:.1f} s"
        )
    return 0


async def rotate_key(settings: Settings, new_key: str | None) -> int:
    """Re-seal every subscriber under a new key in one transaction, then print the key to use from now on."""
    from bot.config import WRONG_KEY, decode_key
    from storage import subscribers
    from storage.crypto import Keys, new_master_key
    from storage.db import connect
    from storage.migrate import migrate

    old = Keys.from_master(settings.key())
    try:
        raw = decode_key(new_key) if new_key else new_master_key()
    except ValueError as exc:
        raise ConfigError(f"--new-key is invalid: {exc}") from None
    db = await connect(settings.db_path)
    try:
        await migrate(db)
        if not await subscribers.key_opens(db, old):
            raise ConfigError(WRONG_KEY)
        count = await subscribers.rotate(db, old, Keys.from_master(raw))
    finally:
        await db.close()
    print(f"re-sealed {count} subscribers; set TROPA_SECRET_KEY to the new key now, the old one no longer works:")
    print(base64.urlsafe_b64encode(raw).decode("ascii"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
