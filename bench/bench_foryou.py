"""For you: how well each ranking finds a simulated reader's papers, and how fast ours is.

Simulated readers (issue 17), from ../shared/data/arxiv_corpus.jsonl.gz: an author with at
least 8 papers in the corpus, at least 3 of them before a cut-off date and at least one in the
30 days after it. The reader's profile is their papers before the cut-off; the candidates are
every paper published in the 30 days from the cut-off; the relevant candidates are the
author's own and their co-authors' (anyone who wrote a profile paper with them) in that window.
Only title and abstract are features: author names are switched off, so this measures content.

Rankings compared (nDCG@10, Recall@50, mean over readers):

* newest first;
* category match: candidates sharing the profile's arXiv categories (weighted by how often
  the profile has each), then newest first;
* embedding centroid: cosine to the mean MiniLM vector of the profile;
* arxiv-sanity-lite's tf-idf SVM: its TfidfVectorizer settings (bigrams, 10k features,
  min_df 5, max_df 0.5, sublinear tf) fitted on candidates + profile papers, and LinearSVC
  (C=0.01, class_weight balanced), profile papers positive, every candidate negative;
* ours: `dailypapers.foryou.model` as the site runs it.

Readers are split in two halves: the model's constants were tuned on the first half only
("tuning"); the second ("held-out") was not looked at while tuning. Then two readers of
different primary categories are mixed into one member with two profiles: each profile's
relevant papers are scored in the mixed list (profile=None) against what it gets alone.
Finally fit() and rank() are timed for 500 signals over 3,000 candidates and for 20 signals.

    .venv/bin/python bench/bench_foryou.py [--cutoff 2025-09-01] [--readers 800]

Paper vectors (the bundled MiniLM int8, as the site embeds papers) are cached in
bench/results/ (git-ignored .npy). Writes bench/results/foryou-<date>.md and prints it.
"""

from __future__ import annotations

import argparse
import gzip
import json
import math
import os
import random
import statistics
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np

BENCH = Path(__file__).resolve().parent
DATA = BENCH.parent.parent / "shared" / "data" / "arxiv_corpus.jsonl.gz"
RESULTS = BENCH / "results"

MIN_PAPERS = 8
MIN_PROFILE = 3
WINDOW_DAYS = 30


@dataclass
class Reader:
    author: str
    profile: list[str]  # arxiv ids before the cut-off
    relevant: set[str]  # arxiv ids of candidates by the author or a co-author
    category: str  # the profile's most common primary category


@dataclass
class World:
    rows: dict[str, dict[str, Any]]  # arxiv id -> corpus row (only the papers used)
    candidates: list[str]  # arxiv ids in the window
    readers: list[Reader]


def build_world(path: Path, cutoff: date, readers: int, seed: int) -> World:
    """The candidates of the window after `cutoff` and `readers` simulated readers."""
    with gzip.open(path, "rt", encoding="utf-8") as lines:
        rows = [
            row
            for row in map(json.loads, lines)
            if row.get("published") and row.get("abstract") and row.get("authors")
        ]
    start, end = cutoff.isoformat(), (cutoff + timedelta(days=WINDOW_DAYS)).isoformat()
    papers_of: dict[str, int] = Counter(name for row in rows for name in row["authors"])
    before: dict[str, list[dict[str, Any]]] = defaultdict(list)
    during: dict[str, list[dict[str, Any]]] = defaultdict(list)
    candidates = [row for row in rows if start <= row["published"] < end]
    for row in rows:
        if row["published"] < start:
            for name in row["authors"]:
                before[name].append(row)
    for row in candidates:
        for name in row["authors"]:
            during[name].append(row)
    eligible = sorted(
        name
        for name, count in papers_of.items()
        if count >= MIN_PAPERS and len(before[name]) >= MIN_PROFILE and during[name]
    )
    chosen = random.Random(seed).sample(eligible, min(readers, len(eligible)))
    simulated = []
    for name in chosen:
        coauthors = {other for row in before[name] for other in row["authors"]}
        relevant = {row["arxiv_id"] for other in coauthors for row in during[other]}
        primaries = Counter(row["categories"][0] for row in before[name] if row.get("categories"))
        simulated.append(
            Reader(
                author=name,
                profile=[row["arxiv_id"] for row in before[name]],
                relevant=relevant,
                category=primaries.most_common(1)[0][0] if primaries else "",
            )
        )
    used = {row["arxiv_id"] for row in candidates} | {
        arxiv_id for reader in simulated for arxiv_id in reader.profile
    }
    by_id = {row["arxiv_id"]: row for row in rows if row["arxiv_id"] in used}
    return World(by_id, [row["arxiv_id"] for row in candidates], simulated)


def paper_vectors(world: World, cache_dir: Path) -> dict[str, np.ndarray]:
    """Each used paper's MiniLM vector, embedded as the site embeds papers ("title. abstract").

    Cached in bench/results/ (git-ignored .npy: the vectors, and their arXiv ids); only papers
    not in the cache yet are embedded."""
    from dailypapers.search.embedder import Embedder
    from dailypapers.search.indexing import embedding_text

    cache = cache_dir / f"foryou-vectors-{Embedder.model_name}.npy"
    cached_ids = cache_dir / f"foryou-ids-{Embedder.model_name}.npy"
    known: dict[str, np.ndarray] = {}
    if cache.exists() and cached_ids.exists():
        known = dict(zip(np.load(cached_ids).tolist(), np.load(cache), strict=True))
    missing = sorted(set(world.rows) - set(known))
    if missing:
        embedder = Embedder.load(threads=1)
        started = time.perf_counter()
        matrix = embedder.embed(
            [embedding_text(world.rows[i]["title"], world.rows[i]["abstract"]) for i in missing]
        )
        rate = len(missing) / (time.perf_counter() - started)
        print(f"embedded {len(missing):,} papers at {rate:.1f}/s", flush=True)
        known.update(zip(missing, matrix, strict=True))
        cache_dir.mkdir(parents=True, exist_ok=True)
        ids = sorted(known)
        np.save(cache, np.stack([known[i] for i in ids]))
        np.save(cached_ids, np.array(ids))
    return {arxiv_id: known[arxiv_id] for arxiv_id in world.rows}


Ranking = Callable[[Reader], list[str]]  # a reader -> candidate arxiv ids, best first


def ndcg_at_10(ranked: Sequence[str], relevant: set[str]) -> float:
    gain = sum(1 / math.log2(i + 2) for i, paper in enumerate(ranked[:10]) if paper in relevant)
    ideal = sum(1 / math.log2(i + 2) for i in range(min(10, len(relevant))))
    return gain / ideal


def recall_at_50(ranked: Sequence[str], relevant: set[str]) -> float:
    return len(set(ranked[:50]) & relevant) / len(relevant)


def text_of(row: dict[str, Any]) -> str:
    return f"{row['title']}\n{row['abstract']}"


class Rankings:
    """The rankings compared, over one world's candidates."""

    def __init__(self, world: World, vectors: dict[str, np.ndarray]) -> None:
        from dailypapers.foryou.model import Candidates

        self.world = world
        self.vectors = vectors
        self.ids = {arxiv_id: number for number, arxiv_id in enumerate(sorted(world.rows))}
        self.arxiv_of = {number: arxiv_id for arxiv_id, number in self.ids.items()}
        self.cands = world.candidates
        self.matrix = np.stack([vectors[arxiv_id] for arxiv_id in self.cands])
        self.newest = sorted(
            self.cands, key=lambda a: (world.rows[a]["published"], a), reverse=True
        )
        self.newest_rank = {arxiv_id: i for i, arxiv_id in enumerate(self.newest)}
        started = time.perf_counter()
        self.candidates = Candidates([self.document(arxiv_id) for arxiv_id in self.cands])
        self.candidates_seconds = time.perf_counter() - started
        self._sanity = self._sanity_features()

    def document(self, arxiv_id: str) -> Any:
        from dailypapers.foryou.model import Document

        row = self.world.rows[arxiv_id]
        return Document(self.ids[arxiv_id], text_of(row), self.vectors[arxiv_id])

    def newest_first(self, reader: Reader) -> list[str]:
        return self.newest

    def category_match(self, reader: Reader) -> list[str]:
        weights = Counter(
            category
            for arxiv_id in reader.profile
            for category in self.world.rows[arxiv_id].get("categories") or ()
        )
        return sorted(
            self.cands,
            key=lambda a: (
                -sum(weights[c] for c in self.world.rows[a].get("categories") or ()),
                self.newest_rank[a],
            ),
        )

    def embedding_centroid(self, reader: Reader) -> list[str]:
        centroid = np.mean([self.vectors[a] for a in reader.profile], axis=0)
        return self._order(self.matrix @ centroid)

    def _sanity_features(self) -> Any:
        from sklearn.feature_extraction.text import TfidfVectorizer

        # arxiv-sanity-lite's compute.py settings (10k features), fitted on every paper here.
        vectorizer = TfidfVectorizer(
            input="content",
            encoding="utf-8",
            decode_error="replace",
            strip_accents="unicode",
            lowercase=True,
            analyzer="word",
            stop_words="english",
            token_pattern=r"(?u)\b[a-zA-Z_][a-zA-Z0-9_]+\b",
            ngram_range=(1, 2),
            max_features=10_000,
            norm="l2",
            use_idf=True,
            smooth_idf=True,
            sublinear_tf=True,
            max_df=0.5,
            min_df=5,
            dtype=np.float32,
        )
        everything = sorted(self.world.rows)
        x = vectorizer.fit_transform([text_of(self.world.rows[a]) for a in everything]).tocsr()
        self._sanity_row = {arxiv_id: i for i, arxiv_id in enumerate(everything)}
        return x

    def arxiv_sanity_svm(self, reader: Reader) -> list[str]:
        from scipy import sparse
        from sklearn.svm import LinearSVC

        x = self._sanity
        negatives = x[[self._sanity_row[a] for a in self.cands]]
        positives = x[[self._sanity_row[a] for a in reader.profile]]
        train = sparse.vstack([negatives, positives]).tocsr()
        labels = np.r_[np.zeros(negatives.shape[0]), np.ones(positives.shape[0])]
        # serve.py: LinearSVC(class_weight="balanced", max_iter=10000, tol=1e-6, C=0.01)
        svm = LinearSVC(class_weight="balanced", max_iter=10_000, tol=1e-6, C=0.01)
        svm.fit(train, labels)
        return self._order(svm.decision_function(negatives))

    def profile_of(self, reader: Reader, key: str = "upvotes") -> Any:
        from dailypapers.foryou.model import Profile

        papers = tuple(self.document(arxiv_id) for arxiv_id in reader.profile)
        return Profile(key, f"{reader.author}'s papers", papers)

    def ours(self, reader: Reader) -> list[str]:
        from dailypapers.foryou.model import fit

        model = fit(self.candidates, [self.profile_of(reader)])
        return [self.arxiv_of[pick.paper_id] for pick in model.rank()]

    def _order(self, scores: np.ndarray) -> list[str]:
        # ties (e.g. equal scores) go newest first, as every ranking here
        order = sorted(
            range(len(self.cands)), key=lambda i: (-scores[i], self.newest_rank[self.cands[i]])
        )
        return [self.cands[i] for i in order]


def score(ranking: Ranking, readers: Sequence[Reader]) -> tuple[float, float]:
    ndcg = recall = 0.0
    for reader in readers:
        ranked = ranking(reader)
        ndcg += ndcg_at_10(ranked, reader.relevant)
        recall += recall_at_50(ranked, reader.relevant)
    return ndcg / len(readers), recall / len(readers)


def mixed_pairs(readers: Sequence[Reader], seed: int) -> list[tuple[Reader, Reader]]:
    """Each reader with another of a different primary category (and no shared paper)."""
    rng = random.Random(seed)
    pairs = []
    for reader in readers:
        others = [
            other
            for other in readers
            if other.category
            and reader.category
            and other.category != reader.category
            and not set(other.profile) & set(reader.profile)
            and not other.relevant & reader.relevant
        ]
        if others:
            pairs.append((reader, rng.choice(others)))
    return pairs


def mixed(rankings: Rankings, pairs: Sequence[tuple[Reader, Reader]]) -> dict[str, float]:
    """Each profile's nDCG@10 and Recall@50 alone and in the mixed list (profile=None), with
    the two profiles' sizes told apart: the smaller and the larger of each pair."""
    from dailypapers.foryou.model import fit

    sums: dict[str, float] = defaultdict(float)
    for first, second in pairs:
        small, large = sorted((first, second), key=lambda r: len(r.profile))
        profiles = [rankings.profile_of(small, "small"), rankings.profile_of(large, "large")]
        model = fit(rankings.candidates, profiles)
        together = [rankings.arxiv_of[pick.paper_id] for pick in model.rank()]
        for name, reader in (("small", small), ("large", large)):
            alone = [rankings.arxiv_of[pick.paper_id] for pick in model.rank(name)]
            sums[f"{name} alone nDCG@10"] += ndcg_at_10(alone, reader.relevant)
            sums[f"{name} alone Recall@50"] += recall_at_50(alone, reader.relevant)
            sums[f"{name} mixed nDCG@10"] += ndcg_at_10(together, reader.relevant)
            sums[f"{name} mixed Recall@50"] += recall_at_50(together, reader.relevant)
            sums[f"{name} profile papers"] += len(reader.profile)
        top = model.rank()[:10]
        sums["both in the top 10"] += len({pick.profile for pick in top}) == 2
    return {key: value / len(pairs) for key, value in sums.items()}


def timings(rankings: Rankings, signals: int, runs: int, seed: int) -> dict[str, float]:
    """fit() and rank() over the candidates for a member with `signals` profile papers in
    three profiles (half upvotes, two collections) and 5% as many dismissed papers, the profile
    papers taken from outside the candidates (older papers: they go through the vocabulary).
    "fit": the papers are new to the candidates' features (their tf-idf rows are made);
    "refit": the same member after one more upvote, as after a vote."""
    from dailypapers.foryou.model import Profile, fit

    rng = random.Random(seed)
    outside = sorted(set(rankings.world.rows) - set(rankings.cands))
    times: dict[str, list[float]] = defaultdict(list)
    for _ in range(runs):
        chosen = rng.sample(outside, signals + 1)
        documents = [rankings.document(arxiv_id) for arxiv_id in chosen]
        dismissed = [
            rankings.document(a) for a in rng.sample(rankings.cands, max(1, signals // 20))
        ]
        for step, count in (("fit", signals), ("refit", signals + 1)):
            if step == "fit":  # the papers' tf-idf rows are not kept from an earlier fit
                rankings.candidates._kept.clear()
            split = [0, count // 2, count * 3 // 4, count]
            profiles = [
                Profile(key, key, tuple(documents[split[i] : split[i + 1]]))
                for i, key in enumerate(("upvotes", "collection:1", "collection:2"))
            ]
            started = time.perf_counter()
            model = fit(rankings.candidates, profiles, dismissed)
            fitted = time.perf_counter()
            model.rank()
            times[step].append(fitted - started)
            times["rank"].append(time.perf_counter() - fitted)
    return {
        f"{step} {figure}": (statistics.median if figure == "median" else _p95)(values)
        for step, values in times.items()
        for figure in ("median", "p95")
    }


def speed(rankings: Rankings, runs: int, seed: int) -> list[str]:
    load = ", ".join(f"{figure:.1f}" for figure in os.getloadavg())
    lines = [
        f"## Speed (one process, {datetime.now(UTC):%H:%M} UTC, load average {load} on"
        f" {os.cpu_count()} cores; the candidates' features built once in"
        f" {rankings.candidates_seconds * 1000:.0f} ms)",
        "",
        "| signals (3 profiles, + 5% dismissed) | candidates | fit median | fit p95"
        " | refit median | refit p95 | rank median | rank p95 |",
        "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for signals in (20, 500):
        timed = timings(rankings, signals, runs, seed)
        lines.append(
            f"| {signals} | {len(rankings.candidates):,} | "
            + " | ".join(
                f"{timed[f'{step} {figure}'] * 1000:.1f} ms"
                for step in ("fit", "refit", "rank")
                for figure in ("median", "p95")
            )
            + " |"
        )
    return lines


def _p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, math.ceil(0.95 * len(ordered)) - 1)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--cutoff", type=date.fromisoformat, default=date(2025, 9, 1))
    parser.add_argument("--readers", type=int, default=800)
    parser.add_argument("--seed", type=int, default=17)
    parser.add_argument("--runs", type=int, default=40, help="timed fits per size")
    parser.add_argument("--cache-dir", type=Path, default=RESULTS)
    parser.add_argument("--embed-only", action="store_true")
    parser.add_argument("--speed-only", action="store_true", help="only time fit() and rank()")
    args = parser.parse_args()
    world = build_world(args.data, args.cutoff, args.readers, args.seed)
    vectors = paper_vectors(world, args.cache_dir)
    if args.embed_only:
        return
    rankings = Rankings(world, vectors)
    if args.speed_only:
        report = "\n".join(speed(rankings, args.runs, args.seed)) + "\n"
        print(report)
        out = args.cache_dir / f"foryou-speed-{datetime.now(UTC):%Y%m%d-%H%M}.md"
        out.write_text(report)
        print(f"written to {out}")
        return
    half = len(world.readers) // 2
    halves = {"tuning": world.readers[:half], "held-out": world.readers[half:]}
    end = args.cutoff + timedelta(days=WINDOW_DAYS - 1)
    lines = [
        f"# For you: simulated readers ({datetime.now(UTC):%Y-%m-%d %H:%M} UTC)",
        "",
        f"`.venv/bin/python bench/bench_foryou.py --cutoff {args.cutoff} --readers"
        f" {args.readers} --seed {args.seed}`",
        "",
        f"Candidates: the {len(world.candidates):,} papers of {args.data.name} published"
        f" {args.cutoff} to {end}. Readers: {len(world.readers)} authors with >= {MIN_PAPERS}"
        f" papers, >= {MIN_PROFILE} before the cut-off and >= 1 in the window (tuning half:"
        f" the first {half}; held-out: the other {len(world.readers) - half}). Relevant: the"
        " author's and their co-authors' candidates. Text only: title + abstract.",
        "",
    ]
    for name, readers in halves.items():
        profile_sizes = [len(r.profile) for r in readers]
        relevant_sizes = [len(r.relevant) for r in readers]
        lines.append(
            f"{name}: {len(readers)} readers, profile papers median"
            f" {statistics.median(profile_sizes):g} (mean {statistics.mean(profile_sizes):.1f}),"
            f" relevant candidates median {statistics.median(relevant_sizes):g}"
            f" (mean {statistics.mean(relevant_sizes):.1f})"
        )
    lines += ["", "| ranking | tuning nDCG@10 | tuning Recall@50 | held-out nDCG@10"
              " | held-out Recall@50 |", "| --- | ---: | ---: | ---: | ---: |"]  # fmt: skip
    results: dict[str, list[float]] = {}
    for name, ranking in (
        ("newest first", rankings.newest_first),
        ("category match", rankings.category_match),
        ("embedding centroid (MiniLM)", rankings.embedding_centroid),
        ("arxiv-sanity-lite tf-idf SVM", rankings.arxiv_sanity_svm),
        ("ours (foryou/model.py)", rankings.ours),
    ):
        started = time.perf_counter()
        figures = [f for readers in halves.values() for f in score(ranking, readers)]
        results[name] = figures
        print(f"{name}: {figures} ({time.perf_counter() - started:.1f} s)", flush=True)
        lines.append(f"| {name} | " + " | ".join(f"{f:.3f}" for f in figures) + " |")
    svm = results["arxiv-sanity-lite tf-idf SVM"]
    ours = results["ours (foryou/model.py)"]
    lines += [
        "",
        f"Ours / SVM, nDCG@10: tuning {ours[0] / svm[0]:.2f}x, held-out {ours[2] / svm[2]:.2f}x;"
        f" Recall@50: tuning {ours[1] / svm[1]:.2f}x, held-out {ours[3] / svm[3]:.2f}x.",
        "",
    ]
    pairs = mixed_pairs(halves["held-out"], args.seed)
    figures = mixed(rankings, pairs)
    lines += [
        f"## Two readers mixed into one member ({len(pairs)} pairs of held-out readers of"
        " different primary categories; each reader one profile)",
        "",
        "| profile | papers (mean) | alone nDCG@10 | mixed nDCG@10 | alone Recall@50"
        " | mixed Recall@50 |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for name in ("small", "large"):
        lines.append(
            f"| the {'smaller' if name == 'small' else 'larger'} profile"
            f" | {figures[f'{name} profile papers']:.1f}"
            f" | {figures[f'{name} alone nDCG@10']:.3f} | {figures[f'{name} mixed nDCG@10']:.3f}"
            f" | {figures[f'{name} alone Recall@50']:.3f}"
            f" | {figures[f'{name} mixed Recall@50']:.3f} |"
        )
    lines += [
        "",
        f"Both profiles among the mixed top 10: {figures['both in the top 10']:.0%} of members.",
        "",
    ]
    lines += speed(rankings, args.runs, args.seed)
    report = "\n".join(lines) + "\n"
    print(report)
    out = args.cache_dir / f"foryou-{datetime.now(UTC):%Y%m%d}.md"
    out.write_text(report)
    print(f"written to {out}")


if __name__ == "__main__":
    main()
