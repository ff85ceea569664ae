"""The `tropa` command line: run, console, content check|import, keygen."""

from __future__ import annotations

import argparse
import asyncio
import base64
import logging
import sys
from collections.abc import Sequence

from bot.config import ConfigError, Settings, load_settings
from bot.logs import setup_logging

log = logging.getLogger("tropa")


def parser() -> argparse.ArgumentParser:
    """Every subcommand and its options."""
    top = argparse.ArgumentParser(prog="tropa", description="Tropa: sourced answers for anti-war activists.")
    sub = top.add_subparsers(dest="command")
    sub.add_parser("run", help="run the bot (long polling); the default")
    console = sub.add_parser("console", help="chat with the bot in this terminal: no token, no network")
    console.add_argument("--lang", choices=["ru", "en"], default=None, help="the Telegram language of the console user")
    content = sub.add_parser("content", help="check or import the content files")
    content_sub = content.add_subparsers(dest="action", required=True)
    check = content_sub.add_parser("check", help="validate every file; exit 1 on any problem")
    check.add_argument("--dir", default=None, help="content folder (default: TROPA_CONTENT_DIR or the bundled one)")
    imp = content_sub.add_parser("import", help="load the files into the database (idempotent)")
    imp.add_argument("--dir", default=None, help="content folder (default: TROPA_CONTENT_DIR or the bundled one)")
    imp.add_argument("--force", action="store_true", help="let files overwrite newer edits made in the database")
    sub.add_parser("keygen", help="print a new TROPA_SECRET_KEY")
    digest = sub.add_parser("digest", help="digest delivery")
    digest_sub = digest.add_subparsers(dest="action", required=True)
    once = digest_sub.add_parser("run-once", help="one delivery cycle, then exit (for cron and tests)")
    once.add_argument("--force", action="store_true", help="everyone is due now")
    rotate = sub.add_parser("rotate-key", help="re-seal every subscriber under a new key")
    rotate.add_argument("--new-key", default=None, help="the new key (default: make one and print it)")
    return top


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point: operator errors are one line and exit code 2."""
    args = parser().parse_args(argv)
    command = args.command or "run"
    try:
        if command == "keygen":
            from storage.crypto import new_master_key

            print(base64.urlsafe_b64encode(new_master_key()).decode("ascii"))
            return 0
        settings = load_settings()
        quiet_console = command == "console" and "log_level" not in settings.model_fields_set
        # In the console, event lines would interleave with the chat; they show only when asked for.
        setup_logging("WARNING" if quiet_console else settings.log_level)
        if command == "content":
            return content_command(settings, args)
        if command == "digest":
            return asyncio.run(digest_once(settings, force=args.force))
        if command == "rotate-key":
            return asyncio.run(rotate_key(settings, args.new_key))
        if command == "console":
            from bot.console import run_console

            return run_console(settings, args.lang)
        return run(settings)
    except ConfigError as exc:
        print(f"tropa: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


def run(settings: Settings) -> int:
    """Long polling until SIGINT or SIGTERM."""
    from bot.app import ALLOWED_UPDATES, build_application

    settings.key()  # fail fast, before any network
    app = build_application(settings)
    app.run_polling(allowed_updates=ALLOWED_UPDATES)
    return 0


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
        await bot.initialize()
        report = await Deliverer(db, bot, keys, Texts.load(), settings).run(force=force)
    finally:
        await bot.shutdown()
        await db.close()
    if report.skipped_quiet:
        print("quiet hours: nothing sent; due digests wait for the end of the window")
    else:
        print(
            f"due {report.due}, sent {report.sent}, nothing new {report.nothing_new}, "
            f"removed {report.removed}, failed {report.failed}, {report.seconds:.1f} s"
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
