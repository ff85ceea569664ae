"""UI strings (not content) per language, with real plural rules."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from importlib import resources
from typing import Any

LANGS = ("ru", "en")
DEFAULT_LANG = "en"


def plural_form(lang: str, n: int) -> str:
    """CLDR plural category for a whole number: ru one/few/many, en one/other."""
    n = abs(n)
    if lang == "ru":
        if n % 10 == 1 and n % 100 != 11:
            return "one"
        if 2 <= n % 10 <= 4 and not 12 <= n % 100 <= 14:
            return "few"
        return "many"
    return "one" if n == 1 else "other"


PLURAL_FORMS = {"ru": {"one", "few", "many"}, "en": {"one", "other"}}


def lang_from_code(language_code: str | None) -> str:
    """Russian for ru(-*) Telegram clients, English otherwise."""
    return "ru" if (language_code or "").lower().split("-")[0] == "ru" else "en"


@dataclass(frozen=True)
class Texts:
    """All locale tables, loaded once at start-up."""

    tables: dict[str, dict[str, Any]]

    @classmethod
    def load(cls) -> Texts:
        folder = resources.files("bot") / "locales"
        return cls({lang: tomllib.loads((folder / f"{lang}.toml").read_text(encoding="utf-8")) for lang in LANGS})

    def get(self, lang: str, key: str, /, **values: Any) -> str:
        """The string for key in lang, formatted with values."""
        entry = self.tables.get(lang, self.tables[DEFAULT_LANG])[key]
        if not isinstance(entry, str):
            raise TypeError(f"{key} is a plural entry: use plural()")
        return entry.format(**values) if values else entry

    def plural(self, lang: str, key: str, n: int, /, **values: Any) -> str:
        """The plural form of key for n, formatted with n and values."""
        entry = self.tables.get(lang, self.tables[DEFAULT_LANG])[key]
        return str(entry[plural_form(lang, n)]).format(n=n, **values)

    def label(self, lang: str, group: str, value: str) -> str:
        """A localised enum value (risk levels, statuses...), falling back to the raw value."""
        table = self.tables.get(lang, self.tables[DEFAULT_LANG]).get(group, {})
        return str(table.get(value, value))
