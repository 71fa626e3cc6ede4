"""Whether a paper is on a followed topic: the cut-off of a digest's topic sections.

Search always ranks something first, however far from the topic; a digest must not. A paper is
on a topic when it carries the topic's phrase: its words together and in order, compared by a
light stem ("speculative decoding" finds "Speculative Decoders", "KV cache compression" finds
"KV-Cache Compression") in its title or keywords, or twice in its abstract (once is mostly in
passing). A long topic
(more than PHRASE_WORDS informative words: a description rather than a name) matches a paper
that holds every informative word. The figures of this rule are in docs/benchmarks.md ("Topic
digests"), from bench/bench_topics.py.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from dailypapers.search.query import STOPWORDS

_WORD = re.compile(r"[a-z0-9]+")
PHRASE_WORDS = 3  # a topic of up to this many informative words is a phrase
# An abstract that names the topic once mostly mentions it in passing ("unlike reinforcement
# learning, ..."); twice, it is about it. bench/bench_topics.py measured 1, 2 and 3.
ABSTRACT_MENTIONS = 2


def stem(word: str) -> str:
    """A light stem (plural, then a final e, then -ing, -ion, -ed, -er), enough to match a
    topic's wording: "decoding", "decoder" and "decode" are one word here, as are "cache" and
    "caches", "compression" and "compressed"."""
    for ending, keep in (("ies", "y"), ("sses", "ss"), ("es", "e"), ("s", "")):
        if word.endswith(ending) and len(word) > len(ending) + 2 and not word.endswith("ss"):
            word = word[: -len(ending)] + keep
            break
    if word.endswith("e") and len(word) > 4:
        word = word[:-1]
    for ending in ("ing", "ion", "ed", "er"):
        if word.endswith(ending) and len(word) > len(ending) + 3:
            return word[: -len(ending)]
    return word


def stem_text(text: str) -> str:
    """The text as its stemmed words, space-separated and padded, for phrase lookups."""
    return " " + " ".join(stem(word) for word in _WORD.findall(text.lower())) + " "


def topic_stems(topic: str) -> list[str]:
    """The words of a topic, stemmed, in order (stop words kept: they are part of a phrase)."""
    return [stem(word) for word in _WORD.findall(topic.lower())]


def topic_rank(wanted: list[str], title: str, abstract: str | None, keywords: Iterable[str]) -> int:
    """How squarely a paper is on a topic (`wanted` from `topic_stems`): 2 when its title or
    keywords carry the topic's phrase, 1 when its abstract says it twice, 0 when it is not on
    the topic (and is left out of the digest)."""
    if not wanted:
        return 0
    phrase = " " + " ".join(wanted) + " "
    if phrase in stem_text(title) or any(phrase in stem_text(k) for k in keywords):
        return 2
    text = stem_text(abstract or "")
    if text.count(phrase) >= ABSTRACT_MENTIONS:
        return 1
    informative = [word for word in wanted if word not in STOPWORDS]
    if len(informative) > PHRASE_WORDS:
        have = set(stem_text(title).split()) | set(text.split())
        return 1 if all(word in have for word in informative) else 0
    return 0
