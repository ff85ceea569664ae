"""Generated content for benchmarks: many items with realistic Russian and English words."""

from __future__ import annotations

import datetime as dt
import random

from storage.content_files import ContentItem, Source, Tactic

RU_WORDS = (
    "повестка призыв отсрочка служба военкомат комиссариат реестр штраф запрет выезд паспорт адвокат юрист суд "
    "задержание протест листовка стикер пикет цветы память письмо заключённый политзаключённый помощь фонд "
    "эвакуация релокация психолог безопасность телефон проверка граница шифрование мессенджер канал новости "
    "организация статус агент экстремистский нежелательный донат перевод родственники коллеги разговор искусство "
    "выставка концерт волонтёр беженец контракт мобилизация резервист медкомиссия категория годность"
).split()
EN_WORDS = (
    "summons conscription deferment service office register fine ban exit passport lawyer court detention protest "
    "leaflet sticker picket flowers memorial letter prisoner political help fund evacuation relocation psychologist "
    "security phone check border encryption messenger channel news organization status agent extremist undesirable "
    "donation transfer relatives colleagues conversation art exhibition concert volunteer refugee contract "
    "mobilization reservist medical category fitness"
).split()
RU_ENDINGS = ("", "и", "ой", "у", "ами", "ах", "е")
VOCABULARY = 20000


SYLLABLES = {
    "ru": "ка ро ви на те ли мо да пра ста ни ко зе ве ры то лу ша бе ги".split(),
    "en": "ra mo ti en lo pa ver ston al ic ter ma ne sil ust or ad pen ux bri".split(),
}


def vocabulary(lang: str, size: int, seed: int) -> list[str]:
    """Domain words first (the frequent ones), then invented words: a long tail like real text has."""
    rng = random.Random(seed)
    words = list(RU_WORDS if lang == "ru" else EN_WORDS)
    syllables = SYLLABLES[lang]
    while len(words) < size:
        words.append("".join(rng.choice(syllables) for _ in range(rng.randint(2, 4))))
    return words


def zipf_weights(size: int) -> list[float]:
    """Word frequencies falling off as 1/rank, as in natural language."""
    return [1.0 / (rank + 10) for rank in range(size)]


def sentence(rng: random.Random, words: list[str], weights: list[float], n: int, lang: str) -> str:
    picked = rng.choices(words, weights=weights, k=n)
    if lang == "ru":
        picked = [w + rng.choice(RU_ENDINGS) if rng.random() < 0.3 else w for w in picked]
    return " ".join(picked).capitalize() + "."


def generate(count: int, seed: int = 7) -> list[ContentItem]:
    """count items (half Russian, half English), each with a title, summary, tags and a ~120-word body.

    Words follow a Zipf curve over 20,000 words per language whose most frequent ones are the domain words that
    queries use: each query word then matches a realistic share of items, not all of them.
    """
    rng = random.Random(seed)
    vocab = {lang: vocabulary(lang, VOCABULARY, seed) for lang in ("ru", "en")}
    weights = zipf_weights(VOCABULARY)
    items = []
    for number in range(count):
        lang = "ru" if number % 2 == 0 else "en"
        words = vocab[lang]
        meta = Tactic(
            title=sentence(rng, words, weights, 3, lang)[:60],
            summary=sentence(rng, words, weights, 12, lang)[:190],
            sources=[Source(title="Generated source", url="https://example.org/s", date="2025-01-01")],
            reviewed=dt.date(2026, 11, 22),
            tags=rng.choices(words, weights=weights, k=4),
            risk_inside="low",
            risk_abroad="low",
            laws=[],
            where="both",
        )
        body = "\n\n".join(" ".join(sentence(rng, words, weights, 10, lang) for _ in range(4)) for _ in range(3))
        items.append(ContentItem("tactics", f"gen-{number // 2}", lang, meta, body))
    return items


def queries(count: int, seed: int = 11) -> list[str]:
    """Realistic queries: one to three words, inflected, sometimes misspelled, in both languages."""
    rng = random.Random(seed)
    out = []
    for _ in range(count):
        words = RU_WORDS if rng.random() < 0.6 else EN_WORDS
        picked = [
            rng.choice(words) + (rng.choice(RU_ENDINGS) if words is RU_WORDS else "") for _ in range(rng.randint(1, 3))
        ]
        if rng.random() < 0.1:
            w = picked[0]
            i = rng.randrange(1, len(w))
            picked[0] = w[:i] + w[i + 1 :]
        out.append(" ".join(picked))
    return out
