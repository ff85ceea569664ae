"""`tropa content check`: every file parses, and every item renders to valid Telegram HTML that fits."""

from __future__ import annotations

from pathlib import Path

from bot.i18n import Texts
from bot.render import MESSAGE_LIMIT, html_problem, item_html, visible_length
from storage.content_files import ContentItem, Problem, load_tree, path_of


def render_problems(items: list[ContentItem], texts: Texts, root_name: str = "content") -> list[Problem]:
    """What Telegram would refuse about each item's rendered view."""
    problems = []
    for item in items:
        rendered = item_html(item, texts)
        problem = html_problem(rendered)
        if problem:
            problems.append(Problem(path_of(item, root_name), "body", f"renders to invalid Telegram HTML: {problem}"))
        length = visible_length(rendered)
        if length > MESSAGE_LIMIT:
            problems.append(
                Problem(
                    path_of(item, root_name), "body", f"renders to {length} characters, over Telegram's {MESSAGE_LIMIT}"
                )
            )
    return problems


def check_tree(root: Path, texts: Texts) -> tuple[list[ContentItem], list[Problem]]:
    """Parse and render-check a content tree."""
    if not root.is_dir():
        return [], [Problem(str(root), "path", "is not a directory")]
    items, problems = load_tree(root)
    return items, problems + render_problems(items, texts, root.name)
