"""arXiv identifiers in every form users paste them, and the ones that are not ids."""

import pytest

from dailypapers.papers.arxiv_ids import ArxivId, InvalidArxivId, parse_arxiv_id


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2510.00184", ArxivId("2510.00184")),
        ("2510.00184v2", ArxivId("2510.00184", 2)),
        ("arXiv:2510.00184", ArxivId("2510.00184")),
        ("ARXIV:2510.00184v3", ArxivId("2510.00184", 3)),
        ("  2510.00184 \n", ArxivId("2510.00184")),
        ("https://arxiv.org/abs/2510.00184v2", ArxivId("2510.00184", 2)),
        ("http://arxiv.org/pdf/2510.00184v2.pdf", ArxivId("2510.00184", 2)),
        ("https://arxiv.org/pdf/2510.00184", ArxivId("2510.00184")),
        ("arxiv.org/abs/2510.00184/", ArxivId("2510.00184")),
        ("https://export.arxiv.org/abs/hep-th/9901001", ArxivId("hep-th/9901001")),
        ("https://huggingface.co/papers/2510.00184", ArxivId("2510.00184")),
        ("hep-th/9901001", ArxivId("hep-th/9901001")),
        ("math.CA/0611800v2", ArxivId("math/0611800", 2)),
        ("arXiv:math.CA/0611800v2", ArxivId("math/0611800", 2)),
        ("0704.0001", ArxivId("0704.0001")),
        ("1412.8544v1", ArxivId("1412.8544", 1)),
    ],
)
def test_accepted_forms_normalise(text: str, expected: ArxivId) -> None:
    assert parse_arxiv_id(text) == expected


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("../../etc/passwd", "not an arXiv id"),
        ("9999.99999", "not a month"),
        ("2513.00001", "not a month"),
        ("", "empty"),
        ("2510.0018", "5 digits"),
        ("1412.12345", "4 digits"),
        ("0612.0001", "April 2007"),
        ("foo-bar/9901001", "not an arXiv archive"),
        ("2510.00184v0", "versions start at v1"),
        ("2510.00184; DROP TABLE papers", "not an arXiv id"),
        ("x" * 500, "too long"),
    ],
)
def test_malformed_ids_are_refused_with_a_reason(text: str, reason: str) -> None:
    with pytest.raises(InvalidArxivId, match=reason):
        parse_arxiv_id(text)


def test_str_keeps_the_version() -> None:
    assert str(parse_arxiv_id("arXiv:2510.00184v2")) == "2510.00184v2"
    assert str(parse_arxiv_id("math.CA/0611800")) == "math/0611800"


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("２５１０.00184", "not an arXiv id"),  # full-width digits
        ("2510.００１８４", "not an arXiv id"),
        ("٢٥١٠.٠٠١٨٤", "not an arXiv id"),  # Arabic-Indic digits
        ("hep-th/９９０１００１", "not an arXiv id"),
        ("2510.00184v２", "not an arXiv id"),
        ("2510.00184v99999999999999999999999", "versions go up to v9999"),
    ],
)
def test_only_ascii_digits_and_real_versions_make_an_id(text: str, reason: str) -> None:
    with pytest.raises(InvalidArxivId, match=reason):
        parse_arxiv_id(text)
