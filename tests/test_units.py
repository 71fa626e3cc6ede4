"""Small pieces with sharp edges: LaTeX display, periods, trending, highlights, record checks."""

from __future__ import annotations

from datetime import date

import pytest

from dailypapers.display.filters import authors_short, split_abstract
from dailypapers.display.highlight import highlight
from dailypapers.display.latex import render_latex
from dailypapers.papers.periods import (
    InvalidPeriod,
    month_period,
    parse_day,
    parse_month,
    parse_week,
    week_period,
)
from dailypapers.papers.records import RejectedRecord, build_record, collapse_whitespace
from dailypapers.papers.trending import trending_score


@pytest.mark.parametrize(
    ("latex", "html"),
    [
        ("$\\alpha$-divergence", '<span class="math">α</span>-divergence'),
        ("$O(n^2)$ time", '<span class="math">O(n<sup>2</sup>)</span> time'),
        ("$x_{i}^{2}$", '<span class="math">x<sub>i</sub><sup>2</sup></span>'),
        ("97.3\\% of cases", "97.3% of cases"),
        ("identity--layout and ``quotes''", "identity–layout and “quotes”"),
        ("\\emph{very} \\textbf{bold}", "very bold"),
        ("a < b & c > d", "a &lt; b &amp; c &gt; d"),
        ("$<script>$", '<span class="math">&lt;script&gt;</span>'),
        ("costs \\$5", "costs $5"),
        ("", ""),
    ],
)
def test_latex_is_shown_as_escaped_unicode(latex: str, html: str) -> None:
    assert str(render_latex(latex)) == html


def test_unbalanced_or_huge_math_is_left_as_escaped_text() -> None:
    assert str(render_latex("price $5 only")) == "price $5 only"
    long_math = "$" + "x" * 400 + "$"
    assert str(render_latex(long_math)) == long_math


@pytest.mark.parametrize(
    ("text", "start", "end"),
    [
        ("2025-W01", date(2024, 12, 30), date(2025, 1, 5)),  # ISO week 1 starts in December
        ("2026-W53", date(2026, 12, 28), date(2027, 1, 3)),  # 2026 has 53 ISO weeks
        ("2025-W40", date(2025, 9, 29), date(2025, 10, 5)),
    ],
)
def test_iso_weeks(text: str, start: date, end: date) -> None:
    period = parse_week(text)
    assert (period.start, period.end, period.label) == (start, end, text)
    assert week_period(start + (end - start) / 2).label == text


@pytest.mark.parametrize("text", ["2025-W60", "2025-W00", "2025-53", "2025W01", "2025-W1"])
def test_bad_weeks(text: str) -> None:
    with pytest.raises(InvalidPeriod, match="week"):
        parse_week(text)


def test_months_and_days() -> None:
    february = parse_month("2024-02")
    assert (february.start, february.end) == (date(2024, 2, 1), date(2024, 2, 29))
    assert month_period(date(2025, 12, 31)).end == date(2025, 12, 31)
    assert parse_day("2025-09-30") == date(2025, 9, 30)
    for bad in ("2025-13", "2025-00", "25-01", "2025-1"):
        with pytest.raises(InvalidPeriod):
            parse_month(bad)
    for bad in ("2025-13-45", "2025-02-30", "2025-9-30", "yesterday", "2025-09-30T00:00"):
        with pytest.raises(InvalidPeriod):
            parse_day(bad)


def test_trending_prefers_fresh_votes_and_counts_stars_a_little() -> None:
    today = date(2026, 8, 21)
    yesterday = date(2026, 8, 20)
    assert trending_score(10, None, today, today) > trending_score(20, None, yesterday, today)
    assert trending_score(10, None, yesterday, today) > trending_score(
        10, None, date(2026, 8, 1), today
    )
    with_stars = trending_score(10, 10_000, today, today)
    assert (
        trending_score(10, None, today, today) < with_stars < trending_score(19, None, today, today)
    )
    # a featured date after the anchor counts as today, never as a negative age
    assert trending_score(5, None, date(2026, 9, 1), today) == trending_score(5, None, today, today)


def test_highlight_marks_stems_and_whole_short_words_only() -> None:
    html = str(
        highlight("GANs for crystal structures; the form of a gan", ("gan", "structures", "for"))
    )
    assert "<mark>structures</mark>" in html and "<mark>gan</mark>" in html
    assert "<mark>for</mark>" in html and "<mark>form</mark>" not in html
    assert (
        str(highlight("<b>structure</b>", ("structure",)))
        == "&lt;b&gt;<mark>structure</mark>&lt;/b&gt;"
    )


def test_abstract_preview_never_cuts_inside_math() -> None:
    text = "word " * 50 + "$a + b + c + d + e + f$ tail " + "more " * 40
    preview, rest = split_abstract(text)
    assert preview.count("$") % 2 == 0 and preview + rest == text
    assert split_abstract("short") == ("short", "")
    assert split_abstract(None) == ("", "")


def test_authors_short() -> None:
    assert authors_short(["A", "B"]) == "A, B"
    assert authors_short(["A", "B", "C", "D"]) == "A, B, C, D"
    assert authors_short([str(i) for i in range(10)]) == "0, 1, 2 and 7 more"


def test_records_normalise_and_refuse() -> None:
    record = build_record(
        arxiv_id="arXiv:2510.00184v2", title="  A\n  title ", authors=[" Ann  Lee ", "", "Bo"],
        categories=["cs.LG", "cs.AI"], github_url="https://github.com/\nowner/repo",
        published_date="2025-09-30T17:59:01.000Z", upvotes=0,
    )  # fmt: skip
    assert (record.arxiv_id, record.version, record.title) == ("2510.00184", 2, "A title")
    assert record.authors == ["Ann Lee", "Bo"]
    assert record.github_url == "https://github.com/owner/repo"
    assert record.published_date == date(2025, 9, 30)
    assert collapse_whitespace(" a\tb\n c  d ") == "a b c d"
    bad = [
        ({"arxiv_id": None, "title": "x"}, "arXiv id is missing"),
        ({"arxiv_id": 2510.00184, "title": "x"}, "must be text"),
        ({"arxiv_id": "2510.00184", "title": "x", "upvotes": True}, "upvotes"),
        ({"arxiv_id": "2510.00184", "title": "x", "authors": "Ann, Bo"}, "list of text"),
        ({"arxiv_id": "2510.00184", "title": "x\x00"}, "NUL"),
        ({"arxiv_id": "2510.00184", "title": "x", "project_page": "ftp://x"}, "http"),
        ({"arxiv_id": "2510.00184", "title": "x" * 2001}, "title is 2,001 characters"),
    ]
    for fields, reason in bad:
        with pytest.raises(RejectedRecord, match=reason):
            build_record(**fields)


def test_rate_limits_count_a_sliding_window_across_a_boundary(database) -> None:  # type: ignore[no-untyped-def]
    """Eleven log-in attempts within seconds: the eleventh is refused even when a fixed window
    ends among them (5 before the minute turns, 6 after)."""
    from dailypapers.web.ratelimit import LOGIN, hit

    engine = database.kw["bind"]
    boundary = 1_800_000_000 // 60 * 60 + 60.0
    decisions = [hit(engine, LOGIN, "10.0.0.1", now=boundary - 1 + i * 0.2) for i in range(5)]
    decisions += [hit(engine, LOGIN, "10.0.0.1", now=boundary + 0.5 + i * 0.2) for i in range(6)]
    assert [d.allowed for d in decisions] == [True] * 10 + [False]
    # An hour later the old windows no longer count.
    assert hit(engine, LOGIN, "10.0.0.1", now=boundary + 3600).allowed
