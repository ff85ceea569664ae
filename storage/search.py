"""Full-text search: Snowball stems in an FTS5 index, with typo correction on a miss."""

from __future__ import annotations

import difflib
import re
from collections import defaultdict
from dataclasses import dataclass
from functools import lru_cache

import aiosqlite
import snowballstemmer

WORD_RE = re.compile(r"[^\W_]+", re.UNICODE)
CYRILLIC_RE = re.compile(r"[а-я]")
MAX_QUERY_WORDS = 12
MIN_TYPO_SIMILARITY = 0.74

_STEMMERS = {"ru": snowballstemmer.stemmer("russian"), "en": snowballstemmer.stemmer("english")}
# Words that carry no meaning for search; keeps "как получить отсрочку" from requiring "как".
STOPWORDS = frozenset(
    (
        "и в во не что он на я с со как а то все она так его но да ты к у же вы за бы по только ее мне было "
        "вот от меня еще нет о из ему теперь когда даже ну вдруг ли если уже или ни быть был него до вас "
        "нибудь опять уж вам ведь там потом себя ничего ей может они тут где есть надо ней для мы тебя их чем "
        "была сам чтоб без будто чего раз тоже себе под будет ж тогда кто этот того потому этого какой совсем "
        "ним здесь этом один почти мой тем чтобы нее сейчас были куда зачем всех никогда можно при наконец "
        "два об другой хоть после над больше тот через эти нас про всего них какая много разве три эту моя "
        "впрочем хорошо свою этой перед иногда лучше чуть том нельзя такой им более всегда конечно всю между "
        "мне что делать a an the and or of to in on for with is are be by at as it this that what how do does "
        "i my me we if can from about not no "
    ).split()
)


@lru_cache(maxsize=65536)
def stem(word: str) -> str:
    """Stem one lowercased word with the stemmer of its script."""
    lang = "ru" if CYRILLIC_RE.search(word) else "en"
    return str(_STEMMERS[lang].stemWord(word))


def words(text: str) -> list[str]:
    """Lowercased words with ё folded to е."""
    return WORD_RE.findall(text.lower().replace("ё", "е"))


def stems(text: str) -> str:
    """The text as space-separated stems, for the index."""
    return " ".join(stem(w) for w in words(text))


def query_stems(query: str) -> list[str]:
    """The meaningful stems of a query: no stopwords, no duplicates, at most a dozen."""
    seen: dict[str, None] = {}
    for word in words(query)[: MAX_QUERY_WORDS * 3]:
        if word in STOPWORDS or (len(word) < 2 and not word.isdigit()):
            continue
        seen.setdefault(stem(word), None)
    return list(seen)[:MAX_QUERY_WORDS]


def match_expression(terms: list[str], joiner: str) -> str:
    """An FTS5 expression in which every term is a quoted string, so syntax is just text."""
    parts = [f'"{t}"*' if len(t) >= 3 else f'"{t}"' for t in terms]
    return f" {joiner} ".join(parts)


@dataclass(frozen=True)
class Hit:
    section: str
    slug: str
    lang: str
    title: str
    summary: str


class Searcher:
    """Search over published items; holds a small vocabulary cache for typo correction."""

    WEIGHTS = "10.0, 4.0, 6.0, 1.0"  # title, summary, tags, body

    def __init__(self, db: aiosqlite.Connection) -> None:
        self.db = db
        self._vocab: set[str] | None = None
        self._grams: dict[str, set[str]] = {}

    def invalidate(self) -> None:
        """Forget the vocabulary after content changes."""
        self._vocab = None
        self._grams = {}

    async def search(self, query: str, lang: str, limit: int = 8) -> list[Hit]:
        """Best published matches in `lang`; falls back to the other language's text, then to typo correction."""
        terms = query_stems(query)
        if not terms:
            return []
        hits = await self._run(terms, lang, limit)
        if not hits:
            fixed = await self._correct(terms)
            if fixed != terms:
                hits = await self._run(fixed, lang, limit)
        return hits

    async def _run(self, terms: list[str], lang: str, limit: int) -> list[Hit]:
        found: dict[tuple[str, str], Hit] = {}
        for joiner in ("AND", "OR") if len(terms) > 1 else ("AND",):
            for hit in await self._query(match_expression(terms, joiner), lang, limit):
                found.setdefault((hit.section, hit.slug), hit)
            if len(found) >= limit:
                break
        return list(found.values())[:limit]

    async def _query(self, expression: str, lang: str, limit: int) -> list[Hit]:
        # Rank matches in either language, show them in the reader's: an English word finds a Russian reader's item.
        sql = f"""
            SELECT shown.section, shown.slug, shown.lang, rev.title, rev.summary,
                bm25(search, {self.WEIGHTS}) AS score
            FROM search
            JOIN items AS hit ON hit.id = search.rowid
            JOIN items AS shown
                ON shown.section = hit.section AND shown.slug = hit.slug AND shown.lang = :lang
            JOIN revisions AS rev ON rev.item_id = shown.id AND rev.revision = shown.published_revision
            WHERE search MATCH :expr
            ORDER BY score LIMIT :limit
        """
        async with self.db.execute(sql, {"expr": expression, "lang": lang, "limit": limit * 2}) as cursor:
            rows = await cursor.fetchall()
        hits: dict[tuple[str, str], Hit] = {}
        for r in rows:
            hits.setdefault((r[0], r[1]), Hit(r[0], r[1], r[2], r[3], r[4]))
        return list(hits.values())[:limit]

    async def _correct(self, terms: list[str]) -> list[str]:
        vocab = await self._vocabulary()
        fixed = []
        for term in terms:
            if term in vocab or len(term) < 4 or any(v.startswith(term) for v in self._prefixed(term)):
                fixed.append(term)
                continue
            candidates = set().union(*(self._grams.get(g, set()) for g in trigrams(term)))
            best = difflib.get_close_matches(term, candidates, n=1, cutoff=MIN_TYPO_SIMILARITY)
            fixed.append(best[0] if best else term)
        return fixed

    def _prefixed(self, term: str) -> set[str]:
        return self._grams.get(f"^{term[:2]}", set())

    async def _vocabulary(self) -> set[str]:
        if self._vocab is None:
            async with self.db.execute("SELECT term FROM search_vocab") as cursor:
                vocab = {str(row[0]) for row in await cursor.fetchall()}
            grams: dict[str, set[str]] = defaultdict(set)
            for term in vocab:
                for gram in trigrams(term):
                    grams[gram].add(term)
                grams[f"^{term[:2]}"].add(term)
            self._vocab, self._grams = vocab, dict(grams)
        return self._vocab


def trigrams(term: str) -> set[str]:
    """Character trigrams of a padded term."""
    padded = f"  {term} "
    return {padded[i : i + 3] for i in range(len(padded) - 2)}
