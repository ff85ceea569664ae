"""storage.content_archive: deterministic export, and uploads that are parsed in memory and refused safely."""

from __future__ import annotations

import io
import stat
import struct
import zipfile
from collections.abc import AsyncIterator, Iterable
from pathlib import Path
from typing import Any, Literal

import aiosqlite
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from storage import content, content_archive, editorial
from storage.content_archive import export_zip, published_items, published_keys, read_upload
from storage.content_files import ContentItem, Problem, parse_text, to_text
from storage.db import connect
from storage.migrate import migrate
from tests.helpers import FIXTURE_CONTENT, find, fixture_items, variant

LETTERS_EN = (FIXTURE_CONTENT / "tactics" / "letters" / "en.md").read_bytes()
ALL_KEYS = {item.key for item in fixture_items()}


def fixture_files(prefix: str = "content/") -> dict[str, bytes]:
    """The fixture tree as zip entry names and bytes."""
    return {
        f"{prefix}{path.relative_to(FIXTURE_CONTENT).as_posix()}": path.read_bytes()
        for path in sorted(FIXTURE_CONTENT.rglob("*.md"))
    }


def zip_of(files: dict[str, bytes] | Iterable[tuple[zipfile.ZipInfo | str, bytes]]) -> bytes:
    """A zip made in memory; entries are names or prepared ZipInfo headers."""
    entries = files.items() if isinstance(files, dict) else files
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in entries:
            archive.writestr(name, data)
    return buffer.getvalue()


def patch_headers(data: bytes, *, local: tuple[int, str, int], central: tuple[int, str, int]) -> bytes:
    """Overwrite one field (offset, struct format, value) in every local and central directory header."""
    patched = bytearray(data)
    for signature, (offset, fmt, value) in ((b"PK\x03\x04", local), (b"PK\x01\x02", central)):
        start = patched.find(signature)
        while start >= 0:
            struct.pack_into(fmt, patched, start + offset, value)
            start = patched.find(signature, start + 4)
    return bytes(patched)


def by_key(items: list[ContentItem]) -> list[ContentItem]:
    return sorted(items, key=lambda i: i.key)


ZIP_OF_FIXTURE = zip_of(fixture_files())
FIXTURE_ITEMS = by_key(fixture_items())


def upload(files: dict[str, bytes] | Iterable[tuple[zipfile.ZipInfo | str, bytes]]) -> list[Problem]:
    """The problems read_upload finds in a zip of these files."""
    _, problems = read_upload("content.zip", zip_of(files))
    return problems


@pytest.fixture
async def fresh_db(tmp_path: Path) -> AsyncIterator[aiosqlite.Connection]:
    """A second, empty database to import an export into."""
    db = await connect(tmp_path / "other.sqlite3")
    try:
        await migrate(db)
        yield db
    finally:
        await db.close()


@pytest.fixture
def decompressed(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Record every entry a test's upload decompresses; refusals judged from headers must leave this empty."""
    opened: list[str] = []
    original = zipfile.ZipFile.open

    def spy(self: zipfile.ZipFile, name: Any, mode: Literal["r", "w"] = "r", *args: Any, **kwargs: Any) -> Any:
        if mode == "r":  # writestr opens entries too, to write them
            opened.append(name.filename if isinstance(name, zipfile.ZipInfo) else name)
        return original(self, name, mode, *args, **kwargs)

    monkeypatch.setattr(zipfile.ZipFile, "open", spy)
    return opened


# Export


async def test_export_holds_every_live_revision_in_the_content_file_format(loaded_db: aiosqlite.Connection) -> None:
    with zipfile.ZipFile(io.BytesIO(await export_zip(loaded_db))) as archive:
        names = archive.namelist()
        assert names == sorted(f"content/{s}/{slug}/{lang}.md" for s, slug, lang in ALL_KEYS)
        for item in fixture_items():
            text = archive.read(f"content/{item.section}/{item.slug}/{item.lang}.md").decode()
            assert text == to_text(item)
            assert parse_text(text, *item.key, "x") == item


async def test_export_is_deterministic(
    loaded_db: aiosqlite.Connection, fresh_db: aiosqlite.Connection, items: list[ContentItem]
) -> None:
    first = await export_zip(loaded_db)
    assert await export_zip(loaded_db) == first
    # Another database with the same content, imported at another moment, gives the same bytes.
    await content.import_items(fresh_db, list(reversed(items)))
    assert await export_zip(fresh_db) == first
    with zipfile.ZipFile(io.BytesIO(first)) as archive:
        infos = archive.infolist()
    assert [i.filename for i in infos] == sorted(i.filename for i in infos)
    assert {i.date_time for i in infos} == {(1980, 1, 1, 0, 0, 0)}
    assert {i.compress_type for i in infos} == {zipfile.ZIP_DEFLATED}
    assert {stat.S_IFMT(i.external_attr >> 16) for i in infos} == {stat.S_IFREG}


async def test_export_takes_the_live_revision_not_drafts_or_unpublished_items(
    loaded_db: aiosqlite.Connection, items: list[ContentItem]
) -> None:
    letters = find(items, "tactics", "letters", "ru")
    live = variant(letters, body="Пишите про книги и погоду.")
    await content.add_revision(loaded_db, live, origin="admin", author="admin", publish=True)
    await loaded_db.commit()
    latest = await editorial.latest(loaded_db, "letters", "ru")
    assert latest is not None
    await editorial.save_draft(loaded_db, variant(letters, body="Черновик."), "admin", latest[0])
    await editorial.unpublish(loaded_db, "stickers")

    exported, problems = read_upload("content.zip", await export_zip(loaded_db))
    assert problems == []
    assert find(exported, "tactics", "letters", "ru") == live
    assert {i.slug for i in exported} == {"letters", "summons", "helpers"}


async def test_an_empty_database_exports_an_empty_zip(db: aiosqlite.Connection) -> None:
    with zipfile.ZipFile(io.BytesIO(await export_zip(db))) as archive:
        assert archive.namelist() == []


async def test_export_then_import_into_a_fresh_database_gives_the_same_published_items(
    loaded_db: aiosqlite.Connection, fresh_db: aiosqlite.Connection, items: list[ContentItem]
) -> None:
    edited = variant(find(items, "orgs", "helpers", "en"), body="Edited in Telegram.\n\nSecond paragraph.", tags=["x"])
    await content.add_revision(loaded_db, edited, origin="admin", author="admin", publish=True)
    await loaded_db.commit()

    imported, problems = read_upload("content.zip", await export_zip(loaded_db))
    assert problems == []
    report = await content.import_items(fresh_db, imported)
    assert len(report.added) == 8

    def rows(found: list[ContentItem]) -> list[tuple[Any, ...]]:
        return [(i.section, i.slug, i.lang, i.meta, i.body) for i in found]

    assert rows(await published_items(fresh_db)) == rows(await published_items(loaded_db))
    assert find(await published_items(fresh_db), "orgs", "helpers", "en") == edited


async def test_importing_its_own_export_changes_nothing(
    loaded_db: aiosqlite.Connection, items: list[ContentItem]
) -> None:
    edited = variant(find(items, "tactics", "stickers", "en"), body="Edited in Telegram.")
    await content.add_revision(loaded_db, edited, origin="admin", author="admin", publish=True)
    await loaded_db.commit()
    imported, problems = read_upload("content.zip", await export_zip(loaded_db))
    assert problems == []
    report = await content.import_items(loaded_db, imported)
    assert not report.changed
    assert report.kept == ["tactics/stickers/en"]  # the admin's edit stays the latest revision


async def test_published_keys(loaded_db: aiosqlite.Connection) -> None:
    assert await published_keys(loaded_db) == ALL_KEYS
    await editorial.unpublish(loaded_db, "stickers")
    assert await published_keys(loaded_db) == ALL_KEYS - {("tactics", "stickers", "ru"), ("tactics", "stickers", "en")}


# Accepted uploads


@pytest.mark.parametrize("prefix", ["content/", ""])
def test_the_fixture_tree_as_a_zip_gives_the_fixture_items(prefix: str) -> None:
    items, problems = read_upload("content.zip", zip_of(fixture_files(prefix)))
    assert problems == []
    assert by_key(items) == by_key(fixture_items())


async def test_the_fixture_zip_imports(db: aiosqlite.Connection) -> None:
    items, problems = read_upload("Content.ZIP", zip_of(fixture_files()))
    assert problems == []
    report = await content.import_items(db, items)
    assert len(report.added) == 8
    assert await published_keys(db) == ALL_KEYS


def test_folders_dot_files_and_macos_metadata_are_ignored() -> None:
    files = [
        ("content/", b""),
        ("content/tactics/", b""),
        ("content/.DS_Store", b"\0\0\0\1Bud1"),
        ("__MACOSX/content/tactics/letters/._en.md", b"\0\5\26\7"),
        *fixture_files().items(),
    ]
    assert upload(files) == []


def test_a_single_file_for_an_item_already_published_in_the_other_language() -> None:
    items, problems = read_upload("tactics__letters__en.md", LETTERS_EN, ALL_KEYS - {("tactics", "letters", "en")})
    assert problems == []
    assert items == [find(fixture_items(), "tactics", "letters", "en")]


def test_a_single_file_needs_its_other_language_and_related_items_somewhere() -> None:
    items, problems = read_upload("tactics__letters__en.md", LETTERS_EN)
    assert [str(p) for p in problems] == [
        "tactics__letters__ru.md: file: is missing (every item needs ru and en)",
        "tactics__letters__en.md: related: no item has the slug 'helpers'",
    ]
    assert items == [find(fixture_items(), "tactics", "letters", "en")]  # for further checks; never to import


def test_existing_items_of_other_slugs_do_not_need_to_be_complete() -> None:
    existing = {("tactics", "letters", "ru"), ("orgs", "helpers", "ru"), ("orgs", "lonely", "ru")}
    _, problems = read_upload("tactics__letters__en.md", LETTERS_EN, existing)
    assert problems == []


def test_a_zip_of_one_language_counts_what_is_published() -> None:
    english = {name: data for name, data in fixture_files("").items() if name.endswith("/en.md")}
    _, problems = read_upload("en.zip", zip_of(english), ALL_KEYS)
    assert problems == []
    _, problems = read_upload("en.zip", zip_of(english))
    assert len(problems) == 4
    assert str(problems[0]) == "conscription/summons/ru.md: file: is missing (every item needs ru and en)"


def test_moving_one_language_to_another_section_is_refused() -> None:
    text = LETTERS_EN.replace(b"risk_inside: low\nrisk_abroad: low\nlaws: []\nwhere: both\n", b"")
    text = text.replace(b"related:", b"applies_to: [relatives]\nlaws: []\nrelated:")
    _, problems = read_upload("conscription__letters__en.md", text, ALL_KEYS)
    assert [str(p) for p in problems] == ["conscription__letters__ru.md: file: is missing (every item needs ru and en)"]


def test_a_byte_order_mark_is_accepted() -> None:
    _, problems = read_upload("tactics__letters__en.md", b"\xef\xbb\xbf" + LETTERS_EN, ALL_KEYS)
    assert problems == []


# Refusals: the content


def test_broken_yaml() -> None:
    broken = LETTERS_EN.replace(b"tags: [", b"tags: [[")
    _, problems = read_upload("tactics__letters__en.md", broken, ALL_KEYS)
    assert len(problems) == 1
    assert (problems[0].path, problems[0].field) == ("tactics__letters__en.md", "front matter")


def test_no_front_matter() -> None:
    _, problems = read_upload("tactics__letters__en.md", b"Just a body.\n", ALL_KEYS)
    assert [str(p) for p in problems] == [
        "tactics__letters__en.md: front matter: must start with a '---' front matter line"
    ]


def test_missing_fields_are_each_named() -> None:
    files = fixture_files()
    files["content/tactics/letters/en.md"] = LETTERS_EN.replace(b"summary:", b"#summary:").replace(
        b"where:", b"#where:"
    )
    assert [str(p) for p in upload(files)] == [
        "content/tactics/letters/en.md: summary: Field required",
        "content/tactics/letters/en.md: where: Field required",
    ]


@pytest.mark.parametrize("filename", ["tactics__letters__en.md", "content.zip"])
def test_text_that_is_not_utf8(filename: str) -> None:
    data = LETTERS_EN.replace(b"everyday", "éveryday".encode("latin-1"))
    if filename.endswith(".zip"):
        data = zip_of({"tactics/letters/en.md": data})
        name = "tactics/letters/en.md"
    else:
        name = filename
    _, problems = read_upload(filename, data, ALL_KEYS)
    assert problems == [Problem(name, "file", "is not UTF-8 text")]


def test_unknown_sections_and_languages() -> None:
    files = fixture_files("")
    files["news/letters2/en.md"] = LETTERS_EN
    files["tactics/letters/de.md"] = LETTERS_EN
    assert [str(p) for p in upload(files)] == [
        "news/letters2/en.md: section: must be one of tactics, conscription, orgs",
        "tactics/letters/de.md: lang: must be one of ru, en",
    ]


def test_files_at_the_wrong_depth() -> None:
    files = fixture_files()
    files["content/README.md"] = b"# readme"
    files["content/tactics/letters.md"] = LETTERS_EN
    files["content/tactics/letters/extra/en.md"] = LETTERS_EN
    files["content/tactics/letters/en.txt"] = LETTERS_EN
    assert [str(p) for p in upload(files)] == [
        "content/README.md: path: must be content/<section>/<slug>/<lang>.md",
        "content/tactics/letters.md: path: must be content/<section>/<slug>/<lang>.md",
        "content/tactics/letters/en.txt: path: must be content/<section>/<slug>/<lang>.md",
        "content/tactics/letters/extra/en.md: path: must be content/<section>/<slug>/<lang>.md",
    ]
    assert [str(p) for p in upload({"en.md": LETTERS_EN})] == [
        "en.md: path: must be <section>/<slug>/<lang>.md (optionally inside a content/ folder)"
    ]


def test_files_outside_the_content_folder_when_the_others_are_inside() -> None:
    files = fixture_files()
    files["tactics/letters/en.md"] = files.pop("content/tactics/letters/en.md")
    problems = upload(files)
    assert problems[0] == Problem(
        "tactics/letters/en.md", "path", "must be inside the content/ folder like the other files"
    )
    assert "content/tactics/letters/en.md: file: is missing (every item needs ru and en)" in map(str, problems)


@pytest.mark.parametrize("name", ["Tactics__letters__en.md", "tactics__Letters__en.md", "tactics__letters__EN.md"])
def test_a_single_file_name_is_validated_like_a_path(name: str) -> None:
    _, problems = read_upload(name, LETTERS_EN, ALL_KEYS)
    assert problems[0].path == name
    assert problems[0].field in {"section", "slug", "lang"}


@pytest.mark.parametrize(
    "name", ["en.md", "letters__en.md", "a__b__c__d.md", "tactics/letters/en.md", "content\\tactics__letters__en.md"]
)
def test_a_single_file_must_follow_the_naming_convention(name: str) -> None:
    assert read_upload(name, LETTERS_EN, ALL_KEYS) == (
        [],
        [Problem(name, "file name", "must be <section>__<slug>__<lang>.md, e.g. tactics__letters__ru.md")],
    )


@pytest.mark.parametrize("name", ["letters.txt", "content.tar.gz", "zip", ""])
def test_other_kinds_of_file(name: str) -> None:
    _, problems = read_upload(name, LETTERS_EN)
    assert problems == [
        Problem(
            name or "upload", "upload", "must be one <section>__<slug>__<lang>.md file or a .zip of a content/ folder"
        )
    ]


def test_the_same_entry_twice() -> None:
    files = list(fixture_files().items())
    with pytest.warns(UserWarning, match="Duplicate name"):
        problems = upload([*files, files[0]])
    assert problems == [Problem(files[0][0], "file", "appears more than once in the zip")]


# Refusals: unsafe entries


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("content/../tactics/letters/en.md", "must not contain '..'"),
        ("../../etc/cron.d/x.md", "must not contain '..'"),
        ("tactics/letters/..", "must not contain '..'"),
        ("/tactics/letters/en.md", "must be relative, not an absolute path"),
        ("/etc/passwd", "must be relative, not an absolute path"),
        ("C:/tactics/letters/en.md", "must not start with a drive letter"),
        ("c:tactics/letters/en.md", "must not start with a drive letter"),
        ("tactics\\letters\\en.md", "must use '/' between folders, not '\\'"),
        ("..\\..\\windows\\x.md", "must use '/' between folders, not '\\'"),
    ],
)
def test_unsafe_paths_are_refused(name: str, message: str, decompressed: list[str]) -> None:
    problems = upload([*fixture_files().items(), (name, LETTERS_EN)])
    assert problems == [Problem(name, "path", message)]
    assert name not in decompressed


def test_symlink_entries_are_refused(decompressed: list[str]) -> None:
    link = zipfile.ZipInfo("content/tactics/letters/en.md")
    link.create_system = 3
    link.external_attr = (stat.S_IFLNK | 0o777) << 16
    files = fixture_files()
    del files["content/tactics/letters/en.md"]
    problems = upload([(link, b"../../../../etc/passwd"), *files.items()])
    assert problems[0] == Problem(link.filename, "file", "is a symbolic link; only plain files are accepted")
    assert link.filename not in decompressed


def test_device_and_fifo_entries_are_refused() -> None:
    fifo = zipfile.ZipInfo("content/tactics/letters/en.md")
    fifo.external_attr = (stat.S_IFIFO | 0o644) << 16
    files = fixture_files()
    del files["content/tactics/letters/en.md"]
    assert upload([(fifo, LETTERS_EN), *files.items()])[0] == Problem(fifo.filename, "file", "is not a plain file")


def test_encrypted_entries_are_refused(decompressed: list[str]) -> None:
    data = zip_of({"tactics/letters/en.md": LETTERS_EN})
    encrypted = patch_headers(data, local=(6, "<H", 0x1), central=(8, "<H", 0x1))
    with zipfile.ZipFile(io.BytesIO(encrypted)) as archive:
        assert archive.infolist()[0].flag_bits & 0x1
    _, problems = read_upload("content.zip", encrypted, ALL_KEYS)
    assert problems == [Problem("tactics/letters/en.md", "file", "is encrypted; upload a zip without a password")]
    assert decompressed == []


@pytest.mark.parametrize("data", [b"", b"not a zip at all", b"PK\x03\x04" + b"\0" * 100, b"PK\x05\x06" + b"\xff" * 18])
def test_what_is_not_a_zip_is_refused(data: bytes) -> None:
    assert read_upload("content.zip", data) == ([], [Problem("content.zip", "zip", "is damaged or not a zip file")])


def test_a_truncated_zip_is_refused() -> None:
    data = zip_of(fixture_files())
    assert read_upload("content.zip", data[: len(data) - 30])[1] == [
        Problem("content.zip", "zip", "is damaged or not a zip file")
    ]


def test_a_damaged_entry_is_refused() -> None:
    data = zip_of({"tactics/letters/en.md": LETTERS_EN})
    start = data.index(b"PK\x03\x04") + 30 + len("tactics/letters/en.md")
    damaged = data[:start] + bytes(b ^ 0xFF for b in data[start : start + 20]) + data[start + 20 :]
    _, problems = read_upload("content.zip", damaged, ALL_KEYS)
    assert problems == [
        Problem("tactics/letters/en.md", "file", "cannot be read: the zip is damaged or uses unsupported compression")
    ]


def test_a_header_that_understates_the_size_is_caught_while_reading() -> None:
    data = zip_of({"tactics/letters/en.md": LETTERS_EN})
    # Claim 10 bytes: zipfile stops there, and the checksum then shows the lie.
    lying = patch_headers(data, local=(22, "<I", 10), central=(24, "<I", 10))
    _, problems = read_upload("content.zip", lying, ALL_KEYS)
    assert problems == [
        Problem("tactics/letters/en.md", "file", "cannot be read: the zip is damaged or uses unsupported compression")
    ]


def test_an_empty_zip_is_refused() -> None:
    assert upload({}) == [Problem("content.zip", "zip", "has no <section>/<slug>/<lang>.md files")]
    assert upload({"content/": b"", "content/.DS_Store": b"x"}) == [
        Problem("content.zip", "zip", "has no <section>/<slug>/<lang>.md files")
    ]


@given(st.data())
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_damaged_zips_never_raise(data: st.DataObject) -> None:
    valid = ZIP_OF_FIXTURE
    mutated = bytearray(valid)
    for _ in range(data.draw(st.integers(1, 8))):
        mutated[data.draw(st.integers(0, len(valid) - 1))] = data.draw(st.integers(0, 255))
    cut = data.draw(st.integers(0, len(mutated)))
    items, problems = read_upload("content.zip", bytes(mutated[:cut]))
    assert all(isinstance(p, Problem) for p in problems)
    # Damage is reported or caught by the checksums: nothing altered gets through unreported. (A damaged central
    # directory can hide entries, as zipfile does not compare its entry count; what is left is still intact.)
    assert problems or all(item in FIXTURE_ITEMS for item in items)


# Refusals: sizes


def test_more_than_2000_entries(decompressed: list[str]) -> None:
    files = [(f"content/tactics/s{n}/en.md", b"") for n in range(2001)]
    _, problems = read_upload("many.zip", zip_of(files))
    assert problems == [Problem("many.zip", "zip", "has more than 2,000 entries")]
    assert decompressed == []


def test_2000_entries_are_read() -> None:
    files = [(f"content/tactics/letters/f{n}", b"") for n in range(1992)]
    problems = upload([*fixture_files().items(), *files])
    assert len(problems) == 1992
    assert {p.message for p in problems} == {"must be content/<section>/<slug>/<lang>.md"}


def test_an_upload_over_5_mb() -> None:
    data = zip_of(fixture_files()) + b"\0" * 5_000_000
    assert read_upload("content.zip", data) == ([], [Problem("content.zip", "upload", "is over 5 MB")])
    assert read_upload("tactics__letters__en.md", b"x" * 5_000_001)[1] == [
        Problem("tactics__letters__en.md", "upload", "is over 5 MB")
    ]


def test_an_upload_over_a_lowered_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    data = zip_of(fixture_files())
    monkeypatch.setattr(content_archive, "MAX_UPLOAD_BYTES", len(data))
    assert read_upload("content.zip", data)[1] == []
    monkeypatch.setattr(content_archive, "MAX_UPLOAD_BYTES", len(data) - 1)
    assert read_upload("content.zip", data)[1] == [Problem("content.zip", "upload", f"is over {len(data) - 1:,} bytes")]


def test_a_file_over_the_limit_is_refused_from_its_header(
    monkeypatch: pytest.MonkeyPatch, decompressed: list[str]
) -> None:
    monkeypatch.setattr(content_archive, "MAX_FILE_BYTES", len(LETTERS_EN) - 1)
    files = {"tactics/letters/en.md": LETTERS_EN, "tactics/letters/ru.md": b"small"}
    _, problems = read_upload("content.zip", zip_of(files), ALL_KEYS)
    assert problems[0] == Problem("tactics/letters/en.md", "file", f"is over {len(LETTERS_EN) - 1:,} bytes")
    assert decompressed == ["tactics/letters/ru.md"]


def test_a_single_md_over_the_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(content_archive, "MAX_FILE_BYTES", len(LETTERS_EN) - 1)
    assert read_upload("tactics__letters__en.md", LETTERS_EN, ALL_KEYS)[1] == [
        Problem("tactics__letters__en.md", "file", f"is over {len(LETTERS_EN) - 1:,} bytes")
    ]
    monkeypatch.setattr(content_archive, "MAX_FILE_BYTES", len(LETTERS_EN))
    assert read_upload("tactics__letters__en.md", LETTERS_EN, ALL_KEYS)[1] == []


def test_a_file_over_1_mb() -> None:
    big = LETTERS_EN + b"\n".join(b"%d words of a long, varied body" % n for n in range(40_000))
    assert len(big) > 1_000_000
    _, problems = read_upload("content.zip", zip_of({"tactics/letters/en.md": big}), ALL_KEYS)
    assert problems == [Problem("tactics/letters/en.md", "file", "is over 1 MB")]


class CountingStream(io.BytesIO):
    def __init__(self, data: bytes) -> None:
        super().__init__(data)
        self.given = 0

    def read(self, size: int | None = -1) -> bytes:
        chunk = super().read(size)
        self.given += len(chunk)
        return chunk


def test_reading_stops_just_past_the_limit_whatever_the_header_said() -> None:
    stream = CountingStream(b"x" * 10_000_000)
    assert content_archive._read_capped(stream, 1000) is None
    assert stream.given == 1001
    assert content_archive._read_capped(CountingStream(b"x" * 1000), 1000) == b"x" * 1000


def test_a_zip_bomb_is_refused_before_decompressing(decompressed: list[str]) -> None:
    bomb = LETTERS_EN + b"\n" * 900_000  # under 1 MB, but over a thousand to one
    data = zip_of({"tactics/letters/en.md": bomb})
    assert len(data) < 5_000
    _, problems = read_upload("content.zip", data, ALL_KEYS)
    assert problems == [Problem("tactics/letters/en.md", "file", "is compressed more than 100 to 1 (a zip bomb?)")]
    assert decompressed == []


def test_a_huge_bomb_is_refused_before_decompressing(decompressed: list[str]) -> None:
    data = zip_of({"tactics/letters/en.md": b"\0" * 50_000_000})
    _, problems = read_upload("content.zip", data, ALL_KEYS)
    assert problems == [Problem("content.zip", "zip", "unpacks to over 20 MB")]
    assert decompressed == []


def test_total_uncompressed_size(monkeypatch: pytest.MonkeyPatch, decompressed: list[str]) -> None:
    files = fixture_files()
    total = sum(len(data) for data in files.values())
    monkeypatch.setattr(content_archive, "MAX_TOTAL_BYTES", total)
    assert upload(files) == []
    decompressed.clear()
    monkeypatch.setattr(content_archive, "MAX_TOTAL_BYTES", total - 1)
    assert upload(files) == [Problem("content.zip", "zip", f"unpacks to over {total - 1:,} bytes")]
    assert decompressed == []


def test_untrusted_names_are_printed_safely() -> None:
    name = "deep/tactics/letters/\x1b[31m" + "x" * 300 + ".md"
    (problem,) = [p for p in upload({name: LETTERS_EN}) if p.field == "path"]
    assert "\x1b" not in problem.path
    assert len(problem.path) == 200
