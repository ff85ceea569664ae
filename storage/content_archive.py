"""Content in and out as files: a .zip of the live revisions, and checked uploads of one .md file or a .zip.

An upload is untrusted. It is read in memory only (never extracted to disk); the limits below are checked from the
zip's headers before anything is decompressed, sizes again while reading; every refusal is a Problem, never an
exception. Uploads are all or nothing: import the items only when the problem list is empty.

Accepted uploads:
- one file named `<section>__<slug>__<lang>.md` (Telegram sends file names without folders, so the path is spelled
  with double underscores; slugs never contain `_`), e.g. `tactics__letters__ru.md`;
- a `.zip` of a content tree: `<section>/<slug>/<lang>.md` entries, all at the top or all inside one `content/`
  folder (what export_zip makes). Folder entries, dot files and macOS `__MACOSX/` metadata are ignored.
"""

from __future__ import annotations

import io
import re
import stat
import zipfile
from collections.abc import Callable, Set
from typing import IO

import aiosqlite

from storage import content_files
from storage.content_files import (
    ContentError,
    ContentItem,
    Problem,
    cross_check,
    from_stored,
    parse_text,
    path_of,
    to_text,
)

# Limits; module constants (read at call time) so tests can lower them.
MAX_UPLOAD_BYTES = 5_000_000
MAX_ENTRIES = 2_000
MAX_FILE_BYTES = content_files.MAX_FILE_BYTES
MAX_TOTAL_BYTES = 20_000_000
MAX_RATIO = 100

ROOT = "content"
FIXED_TIME = (1980, 1, 1, 0, 0, 0)  # the earliest time a zip can hold: exports do not depend on when they ran
CHUNK = 64 * 1024
FLAT_NAME = "<section>__<slug>__<lang>.md"
TREE_PATH = "<section>/<slug>/<lang>.md"
DRIVE_RE = re.compile(r"^[A-Za-z]:")
CONTROL_RE = re.compile(r"[\x00-\x1f\x7f]")

Shown = Callable[[str, str, str], str]  # how an upload spells (section, slug, lang) in its problems


# Export


async def published_items(db: aiosqlite.Connection) -> list[ContentItem]:
    """The live revision of every published item, ordered by section, slug and language."""
    sql = """
        SELECT items.section, items.slug, items.lang, rev.meta, rev.body FROM items
        JOIN revisions AS rev ON rev.item_id = items.id AND rev.revision = items.published_revision
        ORDER BY items.section, items.slug, items.lang
    """
    async with db.execute(sql) as cursor:
        rows = await cursor.fetchall()
    return [from_stored(r[0], r[1], r[2], r[3], r[4]) for r in rows]


async def published_keys(db: aiosqlite.Connection) -> set[tuple[str, str, str]]:
    """(section, slug, lang) of every published item: what read_upload's `existing` expects."""
    async with db.execute("SELECT section, slug, lang FROM items WHERE published_revision IS NOT NULL") as cursor:
        rows = await cursor.fetchall()
    return {(str(r[0]), str(r[1]), str(r[2])) for r in rows}


async def export_zip(db: aiosqlite.Connection) -> bytes:
    """A .zip of every live revision as content/<section>/<slug>/<lang>.md; the same database gives the same bytes."""
    files = sorted((path_of(item, ROOT), to_text(item).encode()) for item in await published_items(db))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in files:
            info = zipfile.ZipInfo(name, date_time=FIXED_TIME)
            info.create_system = 3  # Unix, whatever the platform, so the bytes do not depend on it
            info.external_attr = (stat.S_IFREG | 0o644) << 16
            archive.writestr(info, data, compress_type=zipfile.ZIP_DEFLATED, compresslevel=9)
    return buffer.getvalue()


# Upload


def read_upload(
    filename: str, data: bytes, existing: Set[tuple[str, str, str]] = frozenset()
) -> tuple[list[ContentItem], list[Problem]]:
    """Parse an uploaded .md or .zip into items and every problem; never raises on bad input.

    existing: (section, slug, lang) already published. They count as present when checking that an uploaded item
    has both languages and that its `related` slugs exist, so one language of a known item can be uploaded alone.
    Import the items only when the problems are empty; they are returned anyway so callers can add their own checks.
    """
    shown_name = _shown(filename) or "upload"
    if len(data) > MAX_UPLOAD_BYTES:
        return [], [Problem(shown_name, "upload", f"is over {_size(MAX_UPLOAD_BYTES)}")]
    suffix = filename.lower().rsplit(".", 1)[-1] if "." in filename else ""
    if suffix == "md":
        return _read_md(filename, shown_name, data, existing)
    if suffix == "zip":
        return _read_zip(shown_name, data, existing)
    return [], [Problem(shown_name, "upload", f"must be one {FLAT_NAME} file or a .zip of a content/ folder")]


def _read_md(
    filename: str, shown_name: str, data: bytes, existing: Set[tuple[str, str, str]]
) -> tuple[list[ContentItem], list[Problem]]:
    parts = filename[: -len(".md")].split("__")
    if "/" in filename or "\\" in filename or len(parts) != 3:
        return [], [Problem(shown_name, "file name", f"must be {FLAT_NAME}, e.g. tactics__letters__ru.md")]
    section, slug, lang = parts
    if len(data) > MAX_FILE_BYTES:
        return [], [Problem(shown_name, "file", f"is over {_size(MAX_FILE_BYTES)}")]
    items: list[ContentItem] = []
    problems = _parse(data, section, slug, lang, shown_name, items)
    problems += _cross_check(items, {(section, slug, lang)}, existing, _flat_name, "")
    return items, problems


def _read_zip(
    shown_name: str, data: bytes, existing: Set[tuple[str, str, str]]
) -> tuple[list[ContentItem], list[Problem]]:
    # Untrusted input: zipfile raises many kinds of errors on damaged archives, and every one must become a Problem.
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except Exception:
        return [], [Problem(shown_name, "zip", "is damaged or not a zip file")]
    with archive:
        return _read_archive(archive, shown_name, existing)


def _read_archive(
    archive: zipfile.ZipFile, shown_name: str, existing: Set[tuple[str, str, str]]
) -> tuple[list[ContentItem], list[Problem]]:
    infos = archive.infolist()
    if len(infos) > MAX_ENTRIES:
        return [], [Problem(shown_name, "zip", f"has more than {MAX_ENTRIES:,} entries")]
    if sum(info.file_size for info in infos) > MAX_TOTAL_BYTES:
        return [], [Problem(shown_name, "zip", f"unpacks to over {_size(MAX_TOTAL_BYTES)}")]
    problems: list[Problem] = []
    files: list[zipfile.ZipInfo] = []
    seen: set[str] = set()
    for info in sorted(infos, key=lambda i: i.orig_filename):
        name = _shown(info.orig_filename)
        problem = _entry_problem(info)
        if problem:
            problems.append(Problem(name, *problem))
        elif info.orig_filename in seen:
            problems.append(Problem(name, "file", "appears more than once in the zip"))
        elif not info.is_dir() and not _ignored(info.orig_filename):
            files.append(info)
        seen.add(info.orig_filename)
    if not files and not problems:
        return [], [Problem(shown_name, "zip", f"has no {TREE_PATH} files")]

    nested = any(info.orig_filename.startswith(f"{ROOT}/") for info in files)
    root = f"{ROOT}/" if nested else ""
    items: list[ContentItem] = []
    present: set[tuple[str, str, str]] = set()
    total = 0
    for info in files:
        name = _shown(info.orig_filename)
        if not info.orig_filename.startswith(root):
            problems.append(Problem(name, "path", f"must be inside the {ROOT}/ folder like the other files"))
            continue
        parts = info.orig_filename[len(root) :].split("/")
        if len(parts) != 3 or not parts[2].endswith(".md") or not all(parts):
            where = f"{ROOT}/{TREE_PATH}" if nested else f"{TREE_PATH} (optionally inside a {ROOT}/ folder)"
            problems.append(Problem(name, "path", f"must be {where}"))
            continue
        section, slug, lang = parts[0], parts[1], parts[2][: -len(".md")]
        present.add((section, slug, lang))
        try:
            with archive.open(info) as stream:
                text = _read_capped(stream, MAX_FILE_BYTES)
        except Exception:  # a bad CRC, a truncated stream, an unknown compression method: all damage
            problems.append(Problem(name, "file", "cannot be read: the zip is damaged or uses unsupported compression"))
            continue
        if text is None:
            problems.append(Problem(name, "file", f"is over {_size(MAX_FILE_BYTES)}"))
            continue
        # The headers' sum was checked above and zipfile stops at each header's size; this guards against both failing.
        total += len(text)
        if total > MAX_TOTAL_BYTES:
            return [], [Problem(shown_name, "zip", f"unpacks to over {_size(MAX_TOTAL_BYTES)}")]
        problems += _parse(text, section, slug, lang, name, items)

    def shown(section: str, slug: str, lang: str) -> str:
        return f"{root}{section}/{slug}/{lang}.md"

    return items, problems + _cross_check(items, present, existing, shown, root)


def _entry_problem(info: zipfile.ZipInfo) -> tuple[str, str] | None:
    """(field, message) for what makes one zip entry unsafe to read, judged from its headers alone."""
    name = info.orig_filename
    if "\x00" in name:
        return "path", "must not contain a NUL character"
    if "\\" in name:
        return "path", "must use '/' between folders, not '\\'"
    if name.startswith("/"):
        return "path", "must be relative, not an absolute path"
    if DRIVE_RE.match(name):
        return "path", "must not start with a drive letter"
    if ".." in name.split("/"):
        return "path", "must not contain '..'"
    kind = stat.S_IFMT(info.external_attr >> 16)  # Unix file type; 0 when the zip was made elsewhere
    if kind == stat.S_IFLNK:
        return "file", "is a symbolic link; only plain files are accepted"
    if kind not in (0, stat.S_IFREG, stat.S_IFDIR):
        return "file", "is not a plain file"
    if info.flag_bits & 0x1:
        return "file", "is encrypted; upload a zip without a password"
    if info.file_size > MAX_RATIO * max(info.compress_size, 1):
        return "file", f"is compressed more than {MAX_RATIO} to 1 (a zip bomb?)"
    if info.file_size > MAX_FILE_BYTES:
        return "file", f"is over {_size(MAX_FILE_BYTES)}"
    return None


def _ignored(name: str) -> bool:
    """Dot files and macOS Finder metadata: not content, and not worth refusing an upload over."""
    parts = name.split("/")
    return parts[0] == "__MACOSX" or any(part.startswith(".") for part in parts)


def _read_capped(stream: IO[bytes], limit: int) -> bytes | None:
    """At most limit bytes from stream, or None once it has more: never reads much past the limit."""
    data = bytearray()
    while chunk := stream.read(min(CHUNK, limit + 1 - len(data))):
        data += chunk
        if len(data) > limit:
            return None
    return bytes(data)


def _parse(data: bytes, section: str, slug: str, lang: str, name: str, items: list[ContentItem]) -> list[Problem]:
    """Parse one file into items, or return its problems."""
    try:
        text = data.decode("utf-8").removeprefix("\ufeff")
    except UnicodeDecodeError:
        return [Problem(name, "file", "is not UTF-8 text")]
    try:
        items.append(parse_text(text, section, slug, lang, name))
    except ContentError as exc:
        return exc.problems
    return []


def _cross_check(
    items: list[ContentItem],
    present: set[tuple[str, str, str]],
    existing: Set[tuple[str, str, str]],
    shown: Shown,
    root: str,
) -> list[Problem]:
    """content_files.cross_check, with what is already published counting as present."""
    uploaded = {(section, slug) for section, slug, _ in present}
    also = {key for key in existing if key[:2] in uploaded}
    problems = cross_check(items, ROOT, present | also)
    # cross_check knows only the uploaded items; a related slug that is already published is fine.
    known = {slug for _, slug, _ in existing}
    satisfied = {
        Problem(path_of(item, ROOT), "related", f"no item has the slug {other!r}")
        for item in items
        for other in item.meta.related
        if other in known
    }
    return [_relabel(p, shown, root) for p in problems if p not in satisfied]


def _relabel(problem: Problem, shown: Shown, root: str) -> Problem:
    """Respell a cross_check path (content/<section>/<slug>/<lang>.md, content/*/<slug>) the way the upload does."""
    rest = problem.path.removeprefix(f"{ROOT}/")
    parts = rest.split("/")
    if len(parts) == 3 and parts[2].endswith(".md"):
        return Problem(shown(parts[0], parts[1], parts[2][: -len(".md")]), problem.field, problem.message)
    return Problem(root + rest, problem.field, problem.message)


def _flat_name(section: str, slug: str, lang: str) -> str:
    return f"{section}__{slug}__{lang}.md"


def _shown(name: str) -> str:
    """An untrusted name made safe to print: no control characters, not endless."""
    name = CONTROL_RE.sub("?", name)
    return name if len(name) <= 200 else name[:199] + "…"


def _size(limit: int) -> str:
    return f"{limit // 1_000_000} MB" if limit % 1_000_000 == 0 else f"{limit:,} bytes"
