"""Shared test helpers: the fixture content tree, validated variations of its items, raw database bytes."""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path
from typing import Any

from storage.content_files import ContentItem, load_tree

FIXTURE_CONTENT = Path(__file__).resolve().parent / "fixtures" / "content"


def fixture_items() -> list[ContentItem]:
    """Every item of tests/fixtures/content; the fixture tree itself must be clean."""
    items, problems = load_tree(FIXTURE_CONTENT)
    assert problems == [], problems
    return items


def find(items: list[ContentItem], section: str, slug: str, lang: str) -> ContentItem:
    """The one item with this key."""
    (found,) = [i for i in items if i.key == (section, slug, lang)]
    return found


def fixture_item(section: str, slug: str, lang: str) -> ContentItem:
    return find(fixture_items(), section, slug, lang)


def variant(item: ContentItem, *, slug: str | None = None, body: str | None = None, **meta: Any) -> ContentItem:
    """A copy of item with other front matter values, validated by the real model."""
    new_meta = type(item.meta).model_validate({**item.meta.model_dump(), **meta})
    return dataclasses.replace(item, slug=slug or item.slug, meta=new_meta, body=item.body if body is None else body)


def copy_tree(destination: Path) -> Path:
    """A writable copy of the fixture tree at destination/content."""
    root = destination / "content"
    shutil.copytree(FIXTURE_CONTENT, root)
    return root


def on_disk(db_path: Path) -> bytes:
    """The database file and its WAL as raw bytes: what someone who copies the disk would get."""
    data = b""
    for suffix in ("", "-wal"):
        path = db_path.with_name(db_path.name + suffix)
        if path.exists():
            data += path.read_bytes()
    return data
