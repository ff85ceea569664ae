"""content/<section>/<slug>/<lang>.md files <-> validated pydantic models."""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

SECTIONS = ("tactics", "conscription", "orgs")
LANGS = ("ru", "en")
SLUG_RE = re.compile(r"^[a-z][a-z0-9-]{1,39}$")
DATE_RE = re.compile(r"^\d{4}(-\d{2}(-\d{2})?)?$")
URL_RE = re.compile(r"^https?://[^\s<>\"']+$")
MAX_FILE_BYTES = 1_000_000

Risk = Literal["low", "medium", "high"]
Section = Literal["tactics", "conscription", "orgs"]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class Source(Strict):
    title: str = Field(min_length=3, max_length=200)
    url: str
    date: str

    @field_validator("url")
    @classmethod
    def _http(cls, value: str) -> str:
        if not URL_RE.match(value):
            raise ValueError("must be an http(s) URL")
        return value

    @field_validator("date", mode="before")
    @classmethod
    def _date(cls, value: Any) -> Any:
        if isinstance(value, dt.date):
            return value.isoformat()
        if isinstance(value, int):
            value = str(value)
        if isinstance(value, str) and not DATE_RE.match(value):
            raise ValueError("must be YYYY, YYYY-MM or YYYY-MM-DD")
        return value


class Common(Strict):
    title: str = Field(min_length=3, max_length=64)
    summary: str = Field(min_length=10, max_length=200)
    sources: list[Source] = Field(min_length=1)
    reviewed: dt.date
    tags: list[str] = Field(default_factory=list)
    related: list[str] = Field(default_factory=list)

    @field_validator("summary")
    @classmethod
    def _one_line(cls, value: str) -> str:
        if "\n" in value:
            raise ValueError("must be one line")
        return value

    @field_validator("related")
    @classmethod
    def _slugs(cls, value: list[str]) -> list[str]:
        for slug in value:
            if not SLUG_RE.match(slug):
                raise ValueError(f"{slug!r} is not a valid slug")
        return value


class Tactic(Common):
    risk_inside: Risk
    risk_abroad: Risk
    laws: list[str]
    where: Literal["inside", "abroad", "both"]


class Conscription(Common):
    applies_to: list[
        Literal["conscripts", "reservists", "contract_soldiers", "mobilized", "relatives", "objectors", "emigrants"]
    ] = Field(min_length=1)
    laws: list[str]


class Contact(Strict):
    kind: Literal["site", "telegram", "email", "phone"]
    value: str = Field(min_length=3, max_length=200)

    @field_validator("value")
    @classmethod
    def _shape(cls, value: str, info: Any) -> str:
        kind = info.data.get("kind")
        ok = {
            "site": URL_RE.match(value) is not None,
            "telegram": re.match(r"^@[A-Za-z][A-Za-z0-9_]{3,31}$", value) is not None,
            "email": re.match(r"^[^@\s]+@[^@\s]+\.[a-z]{2,}$", value) is not None,
            "phone": re.match(r"^\+?[\d ()-]{6,20}$", value) is not None,
        }.get(kind, True)
        if not ok:
            raise ValueError(f"is not a valid {kind} contact")
        return value


class Status(Strict):
    label: Literal["none", "foreign_agent", "undesirable", "extremist", "terrorist", "unconfirmed"]
    since: str | None = None

    @field_validator("since", mode="before")
    @classmethod
    def _date(cls, value: Any) -> Any:
        return Source._date(value)


class Org(Common):
    helps_with: list[
        Literal[
            "legal",
            "conscription",
            "evacuation",
            "relocation",
            "political_prisoners",
            "psychological",
            "digital_security",
            "media",
            "diaspora",
            "protest",
            "research",
        ]
    ] = Field(min_length=1)
    contacts: list[Contact]
    status_in_russia: Status
    countries: list[str]


Meta = Tactic | Conscription | Org
MODELS: dict[str, type[Tactic] | type[Conscription] | type[Org]] = {
    "tactics": Tactic,
    "conscription": Conscription,
    "orgs": Org,
}


@dataclass(frozen=True)
class ContentItem:
    """One language of one item, as read from a file or the database."""

    section: str
    slug: str
    lang: str
    meta: Meta
    body: str

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.section, self.slug, self.lang)

    def digest(self) -> str:
        """A hash of the content, to tell whether a file changed since it was imported."""
        return hashlib.sha256(f"{self.meta.model_dump_json()}\n{self.body}".encode()).hexdigest()


@dataclass(frozen=True)
class Problem:
    """One thing wrong with one file, printed as `path: field: what is wrong`."""

    path: str
    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.field}: {self.message}"


class ContentError(Exception):
    """A file that does not parse into a valid item."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("; ".join(map(str, problems)))
        self.problems = problems


def split_front_matter(text: str) -> tuple[str, str]:
    """Split `---\\nyaml\\n---\\nbody` into its two parts."""
    if not text.startswith("---\n"):
        raise ValueError("must start with a '---' front matter line")
    end = text.find("\n---\n", 3)
    if end < 0:
        if text.endswith("\n---"):
            end = len(text) - 4
        else:
            raise ValueError("front matter has no closing '---' line")
    return text[4 : end + 1], text[end + 5 :]


def parse_text(text: str, section: str, slug: str, lang: str, path: str) -> ContentItem:
    """Parse one file's text into a ContentItem or raise ContentError."""
    if section not in SECTIONS:
        raise ContentError([Problem(path, "section", f"must be one of {', '.join(SECTIONS)}")])
    if lang not in LANGS:
        raise ContentError([Problem(path, "lang", f"must be one of {', '.join(LANGS)}")])
    if not SLUG_RE.match(slug):
        raise ContentError([Problem(path, "slug", "must be 2-40 of a-z, 0-9 and '-', starting with a letter")])
    try:
        head, body = split_front_matter(text.replace("\r\n", "\n"))
        data = yaml.safe_load(head)
    except (ValueError, yaml.YAMLError) as exc:
        first_line = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise ContentError([Problem(path, "front matter", first_line)]) from None
    if not isinstance(data, dict):
        raise ContentError([Problem(path, "front matter", "must be a YAML mapping")])
    try:
        meta = MODELS[section].model_validate(data)
    except ValidationError as exc:
        raise ContentError(
            [
                Problem(
                    path,
                    ".".join(str(p) for p in err["loc"]) or "front matter",
                    str(err["msg"]).removeprefix("Value error, "),
                )
                for err in exc.errors()
            ]
        ) from None
    body = body.strip()
    if not body:
        raise ContentError([Problem(path, "body", "is empty")])
    return ContentItem(section, slug, lang, meta, body)


def parse_file(path: Path, root: Path) -> ContentItem:
    """Parse content/<section>/<slug>/<lang>.md."""
    rel = path.relative_to(root)
    shown = str(Path(root.name) / rel)
    if len(rel.parts) != 3 or rel.suffix != ".md":
        raise ContentError([Problem(shown, "path", "must be <section>/<slug>/<lang>.md")])
    if path.stat().st_size > MAX_FILE_BYTES:
        raise ContentError([Problem(shown, "file", "is over 1 MB")])
    try:
        text = path.read_bytes().decode("utf-8")
    except UnicodeDecodeError:
        raise ContentError([Problem(shown, "file", "is not UTF-8 text")]) from None
    return parse_text(text, rel.parts[0], rel.parts[1], rel.stem, shown)


def load_tree(root: Path) -> tuple[list[ContentItem], list[Problem]]:
    """Parse every file under root; return the good items and every problem."""
    items: list[ContentItem] = []
    problems: list[Problem] = []
    present: set[tuple[str, str, str]] = set()
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root)
        if path.is_dir() or any(part.startswith(".") for part in rel.parts):
            continue
        if len(rel.parts) == 3:
            present.add((rel.parts[0], rel.parts[1], rel.stem))
        try:
            items.append(parse_file(path, root))
        except ContentError as exc:
            problems.extend(exc.problems)
    problems.extend(cross_check(items, root.name, present))
    return unambiguous(items), problems


def unambiguous(items: list[ContentItem]) -> list[ContentItem]:
    """Leave out items whose slug is used in more than one section: no import can tell which one is meant."""
    sections: dict[str, set[str]] = {}
    for item in items:
        sections.setdefault(item.slug, set()).add(item.section)
    return [item for item in items if len(sections[item.slug]) == 1]


def cross_check(
    items: list[ContentItem], root_name: str = "content", present: set[tuple[str, str, str]] | None = None
) -> list[Problem]:
    """Checks across files: both languages, unique slugs, related slugs that exist.

    present: (section, slug, lang) of every file found, parsed or not, so a broken file is not also "missing".
    """
    problems = []
    by_slug: dict[str, set[str]] = {}
    langs: dict[tuple[str, str], set[str]] = {}
    for section, slug, lang in present or set():
        langs.setdefault((section, slug), set()).add(lang)
    for item in items:
        by_slug.setdefault(item.slug, set()).add(item.section)
        langs.setdefault((item.section, item.slug), set()).add(item.lang)
    for slug, sections in sorted(by_slug.items()):
        if len(sections) > 1:
            used = ", ".join(sorted(sections))
            problems.append(Problem(f"{root_name}/*/{slug}", "slug", f"is used in several sections: {used}"))
    for (section, slug), have in sorted(langs.items()):
        if section not in SECTIONS:
            continue
        for lang in LANGS:
            if lang not in have:
                path = f"{root_name}/{section}/{slug}/{lang}.md"
                problems.append(Problem(path, "file", "is missing (every item needs ru and en)"))
    for item in items:
        for other in item.meta.related:
            if other not in by_slug:
                problems.append(Problem(path_of(item, root_name), "related", f"no item has the slug {other!r}"))
            elif other == item.slug:
                problems.append(Problem(path_of(item, root_name), "related", "an item cannot relate to itself"))
    return problems


def path_of(item: ContentItem, root_name: str = "content") -> str:
    """Where the item lives in the content tree."""
    return f"{root_name}/{item.section}/{item.slug}/{item.lang}.md"


class _Dumper(yaml.SafeDumper):
    """Writes strings with line-breaking characters YAML would fold (NEL, LS, PS) in escaped double quotes."""


def _represent_str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = '"' if any(ch in value for ch in "\x85\u2028\u2029") else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _represent_str)


def to_text(item: ContentItem) -> str:
    """Serialise an item back to the file format."""
    data = item.meta.model_dump(mode="json", exclude_defaults=False)
    head = yaml.dump(data, Dumper=_Dumper, allow_unicode=True, sort_keys=False, width=1000)
    return f"---\n{head}---\n{item.body.strip()}\n"


def from_stored(section: str, slug: str, lang: str, meta_json: str, body: str) -> ContentItem:
    """Rebuild an item from its database columns."""
    import json

    return ContentItem(section, slug, lang, MODELS[section].model_validate(json.loads(meta_json)), body)
