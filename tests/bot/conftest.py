"""Bot fixtures: locale tables, a clean TROPA_* environment, and logging put back as it was."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.i18n import Texts
from bot.logs import NOISY_LOGGERS


@pytest.fixture(scope="session")
def texts() -> Texts:
    return Texts.load()


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """No TROPA_* variables, no systemd credentials and a working directory with no .env file."""
    for name in list(os.environ):
        if name.startswith("TROPA_") or name == "CREDENTIALS_DIRECTORY":
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.fixture
def restore_logging() -> Iterator[None]:
    """setup_logging changes global state: undo it after the test."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    levels = {name: logging.getLogger(name).level for name in NOISY_LOGGERS}
    try:
        yield
    finally:
        for handler in [h for h in root.handlers if h not in handlers]:
            root.removeHandler(handler)
        root.setLevel(level)
        for name, old in levels.items():
            logging.getLogger(name).setLevel(old)
