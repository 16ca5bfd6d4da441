"""Extraction from stored raw pages, one test per page per field (web-poet style).

Each case is tests/pages/<site>/<case>/ with body.html (raw bytes), info.json
({url, headers}) and expected.json ({title, published, spam, with, without, text}).
A field the extractor is known to get wrong on a page is listed in the case's
``known_gaps`` ({"title": "why"}) and expected to fail (strictly: when it starts
passing, the test says so and the gap must be removed). ``text`` is the full gold
body scored by benchmarks/extraction (bench.py, test_quality_floors.py).
A failure names the field and the page: "test_published[njxfhn/seo-spam]".
Record a new case with benchmarks/extraction/record_page.py, then review the gold.
"""
from __future__ import annotations

import json
import re
from functools import lru_cache
from pathlib import Path

import pytest

from pipelines.extraction.quality import leaks_in, squeeze
from pipelines.article import Article
from pipelines.extract import extract_article

PAGES = Path(__file__).parent / "pages"
CASES = sorted(str(p.relative_to(PAGES)) for p in PAGES.glob("*/*") if (p / "expected.json").exists())


@lru_cache(maxsize=None)
def extracted(case: str) -> Article:
    d = PAGES / case
    info = json.loads((d / "info.json").read_text(encoding="utf-8"))
    return extract_article((d / "body.html").read_bytes(), info["url"], info.get("headers"))


def expected(case: str) -> dict:
    return json.loads((PAGES / case / "expected.json").read_text(encoding="utf-8"))


def check(case: str, field: str, ok: bool, message: str) -> None:
    """Assert, unless the field is a known gap of that page: then expect failure, strictly."""
    gap = expected(case).get("known_gaps", {}).get(field)
    if gap is None:
        assert ok, message
    elif ok:
        pytest.fail(f"{field} now passes on {case}: remove it from known_gaps ({gap})")
    else:
        pytest.xfail(f"known gap: {gap}")


def test_there_are_cases():
    assert len(CASES) >= 8


@pytest.mark.parametrize("case", CASES)
def test_title(case):
    got, want = extracted(case).title, expected(case)["title"]
    check(case, "title", got == want, f"title {got!r} != {want!r}")


@pytest.mark.parametrize("case", CASES)
def test_published(case):
    got, want = (extracted(case).published or "")[:10], expected(case)["published"] or ""
    check(case, "published", got == want, f"published {got!r} != {want!r}")


@pytest.mark.parametrize("case", CASES)
def test_spam_verdict(case):
    assert extracted(case).spam == expected(case).get("spam", False)


@pytest.mark.parametrize("case", CASES)
def test_with_snippets_once_in_order(case):
    text = squeeze(extracted(case).text)   # compared like the scores: NFKC, no whitespace
    position, problems = -1, []
    for snippet in map(squeeze, expected(case)["with"]):
        if text.count(snippet) != 1:
            problems.append(f"{snippet!r} appears {text.count(snippet)} times")
        elif text.index(snippet) < position:
            problems.append(f"{snippet!r} out of order")
        else:
            position = text.index(snippet)
    check(case, "with", not problems, "; ".join(problems))


@pytest.mark.parametrize("case", CASES)
def test_without_snippets(case):
    leaks = leaks_in(extracted(case).to_dict(), expected(case))
    check(case, "without", not leaks, f"leaked: {leaks}")


@pytest.mark.parametrize("case", CASES)
def test_paragraphs_are_clean_lines(case):
    for line in extracted(case).text.split("\n"):
        assert line == line.strip() and line
        assert not re.search(r"\s{3,}", line)


GOLD = Path(__file__).parents[1] / "crawler" / "fixtures" / "gold.json"


@pytest.mark.skipif(not GOLD.exists(), reason="fixture mini-internet not generated yet")
def test_fixture_sites_meet_quality_floors():
    """Mean body F1, titles and dates on the fixture sites stay above the pinned floors."""
    import importlib.util
    spec = importlib.util.spec_from_file_location(
        "eval_fixtures", Path(__file__).parents[1] / "benchmarks" / "extraction" / "eval_fixtures.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    summary = module.evaluate()
    assert summary["f1"] >= module.FLOORS["f1"], summary
    assert summary["title"] >= module.FLOORS["title"], summary
    assert summary["date"] >= module.FLOORS["date"], summary
    assert not summary["noise_hits"], summary["noise_hits"]
