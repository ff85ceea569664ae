"""Full-text search: Snowball stems in an FTS5 index, with typo correction on a miss."""

from __future__ import annotations

import bisect
import difflib
import re
from collections import Counter, defaultdict
from dataclasses import dataclass
from functools import lru_cache

import aiosqlite
import snowballstemmer

WORD_RE = re.compile(r"[^\W_]+", re.UNICODE)
CYRILLIC_RE = re.compile(r"[а-я]")
MAX_QUERY_WORDS = 12
MIN_TYPO_SIMILARITY = 0.74
META_COLUMNS = "title summary tags"

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


def match_expression(terms: list[str], joiner: str, columns: str = "") -> str:
    """An FTS5 expression in which every term is a quoted string, so syntax is just text."""
    parts = [f'"{t}"*' if len(t) >= 3 else f'"{t}"' for t in terms]
    expression = f" {joiner} ".join(parts)
    return f"{{{columns}}} : ({expression})" if columns else expression


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
        self._vocab: Vocabulary | None = None

    def invalidate(self) -> None:
        """Forget the vocabulary after content changes."""
        self._vocab = None

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
        # Best first, and each pass only when the ones before found too few: every word in the title, summary
        # or tags; every word anywhere; then some of the words in the title, summary or tags. Searching the
        # short columns first is both more relevant and much cheaper than ranking every body that mentions a word.
        passes = [("AND", META_COLUMNS), ("AND", "")]
        if len(terms) > 1:
            passes.append(("OR", META_COLUMNS))
        found: dict[tuple[str, str], Hit] = {}
        for joiner, columns in passes:
            for hit in await self._query(match_expression(terms, joiner, columns), lang, limit):
                found.setdefault((hit.section, hit.slug), hit)
            if len(found) >= limit:
                break
        return list(found.values())[:limit]

    async def _query(self, expression: str, lang: str, limit: int) -> list[Hit]:
        # Rank inside FTS alone (cheap), then show the best in the reader's language: an English word
        # finds a Russian reader's item through its English version.
        ranked_sql = f"SELECT rowid FROM search WHERE search MATCH ? ORDER BY bm25(search, {self.WEIGHTS}) LIMIT ?"
        async with self.db.execute(ranked_sql, (expression, limit * 2)) as cursor:
            ranked = [int(row[0]) for row in await cursor.fetchall()]
        if not ranked:
            return []
        shown_sql = f"""
            SELECT hit.id, shown.section, shown.slug, shown.lang, rev.title, rev.summary
            FROM items AS hit
            JOIN items AS shown ON shown.section = hit.section AND shown.slug = hit.slug AND shown.lang = ?
            JOIN revisions AS rev ON rev.item_id = shown.id AND rev.revision = shown.published_revision
            WHERE hit.id IN ({",".join("?" * len(ranked))})
        """
        async with self.db.execute(shown_sql, (lang, *ranked)) as cursor:
            rows = {int(r[0]): Hit(r[1], r[2], r[3], r[4], r[5]) for r in await cursor.fetchall()}
        hits: dict[tuple[str, str], Hit] = {}
        for rowid in ranked:
            hit = rows.get(rowid)
            if hit is not None:
                hits.setdefault((hit.section, hit.slug), hit)
        return list(hits.values())[:limit]

    async def _correct(self, terms: list[str]) -> list[str]:
        vocabulary = await self._vocabulary()
        return [vocabulary.closest(term) for term in terms]

    async def _vocabulary(self) -> Vocabulary:
        if self._vocab is None:
            async with self.db.execute("SELECT term FROM search_vocab") as cursor:
                self._vocab = Vocabulary([str(row[0]) for row in await cursor.fetchall()])
        return self._vocab


class Vocabulary:
    """Every indexed stem, with a trigram index to find the nearest one to a misspelled word."""

    CANDIDATES = 40

    def __init__(self, terms: list[str]) -> None:
        self.terms = sorted(set(terms))
        self.known = set(self.terms)
        grams: dict[str, list[str]] = defaultdict(list)
        for term in self.terms:
            for gram in trigrams(term):
                grams[gram].append(term)
        self.grams = dict(grams)

    def has_prefix(self, prefix: str) -> bool:
        """True if some indexed stem starts with prefix (the reader may still be typing)."""
        at = bisect.bisect_left(self.terms, prefix)
        return at < len(self.terms) and self.terms[at].startswith(prefix)

    def closest(self, term: str) -> str:
        """The indexed stem nearest to term, or term itself when it is known or nothing is near."""
        if len(term) < 4 or term in self.known or self.has_prefix(term):
            return term
        shared: Counter[str] = Counter()
        for gram in trigrams(term):
            shared.update(self.grams.get(gram, ()))
        candidates = [t for t, _ in shared.most_common(self.CANDIDATES)]
        best = difflib.get_close_matches(term, candidates, n=1, cutoff=MIN_TYPO_SIMILARITY)
        return best[0] if best else term


def trigrams(term: str) -> set[str]:
    """Character trigrams of a padded term."""
    padded = f"  {term} "
    return {padded[i : i + 3] for i in range(len(padded) - 2)}
