"""bot.content_check: every file parses, and every item renders to HTML Telegram accepts within its limit."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot import content_check
from bot.content_check import check_tree, render_problems
from bot.i18n import Texts
from bot.render import MESSAGE_LIMIT
from storage.content_files import ContentItem
from tests.helpers import FIXTURE_CONTENT, copy_tree, fixture_item, fixture_items, variant


def test_fixture_tree_is_clean(texts: Texts) -> None:
    items, problems = check_tree(FIXTURE_CONTENT, texts)
    assert problems == []
    assert len(items) == 8


def test_a_missing_folder_is_one_problem(texts: Texts, tmp_path: Path) -> None:
    missing = tmp_path / "nowhere"
    assert [str(p) for p in check_tree(missing, texts)[1]] == [f"{missing}: path: is not a directory"]


def test_a_file_is_not_a_folder(texts: Texts, tmp_path: Path) -> None:
    file = tmp_path / "content"
    file.write_text("x", encoding="utf-8")
    items, problems = check_tree(file, texts)
    assert items == []
    assert [p.field for p in problems] == ["path"]


def test_parse_problems_are_reported(texts: Texts, tmp_path: Path) -> None:
    root = copy_tree(tmp_path)
    (root / "orgs" / "helpers" / "en.md").unlink()
    _, problems = check_tree(root, texts)
    assert [str(p) for p in problems] == ["content/orgs/helpers/en.md: file: is missing (every item needs ru and en)"]


def test_a_body_too_long_for_one_message_is_reported(texts: Texts, tmp_path: Path) -> None:
    root = copy_tree(tmp_path)
    path = root / "tactics" / "letters" / "en.md"
    path.write_text(path.read_text(encoding="utf-8") + "\n" + "word " * 900 + "\n", encoding="utf-8")
    items, problems = check_tree(root, texts)
    assert len(items) == 8  # the file parses; it just renders too long
    (problem,) = problems
    assert problem.path == "content/tactics/letters/en.md"
    assert problem.field == "body"
    assert problem.message.startswith("renders to ")
    assert problem.message.endswith(f"characters, over Telegram's {MESSAGE_LIMIT}")


def test_length_is_counted_in_utf16_units(texts: Texts) -> None:
    base = fixture_item("tactics", "letters", "en")
    fits = render_problems([base], texts)
    assert fits == []
    # 1,900 emoji are 3,800 UTF-16 units: with the rest of the view they pass 4,096 though under 4,096 code points.
    emoji = variant(base, body="😀" * 1900 + "\n\n" + base.body)
    (problem,) = render_problems([emoji], texts)
    assert problem.field == "body"
    assert "over Telegram's 4096" in problem.message


def test_invalid_html_is_reported(texts: Texts, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(item: ContentItem, texts: Texts) -> str:
        return "<b>unclosed"

    monkeypatch.setattr(content_check, "item_html", broken)
    (problem,) = render_problems([fixture_item("orgs", "helpers", "ru")], texts)
    assert str(problem) == "content/orgs/helpers/ru.md: body: renders to invalid Telegram HTML: unclosed <b>"


def test_render_problems_use_the_folder_name(texts: Texts) -> None:
    item = variant(fixture_item("orgs", "helpers", "ru"), body="слово " * 1000)
    (problem,) = render_problems([item], texts, "mine")
    assert problem.path == "mine/orgs/helpers/ru.md"


def test_every_fixture_item_renders_clean(texts: Texts) -> None:
    assert render_problems(fixture_items(), texts) == []
