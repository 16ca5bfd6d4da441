"""Quality gate: newsmon's own scores on the dev set against pinned floors (no peers).

Example:
    python tests/quality_gate.py            # measure, compare with quality_floors.json
    python tests/quality_gate.py --pin      # raise the floors to what is measured now
    python tests/quality_gate.py --pin --allow-regression   # lower one, on purpose

A test helper (tests/test_quality_floors.py runs the check), not a benchmark: the
benchmark with peers is benchmarks/extraction/bench.py. quality_floors.json holds the
floors (mean F1s, share of pages above 0.9, and one F1 floor per page) *and* the corpus
digest they were measured on, in one file: a changed corpus (new page, edited gold) makes
the gate fail until the floors are re-pinned, and ``--pin`` refuses to lower a floor
without ``--allow-regression`` (trafilatura's tests/eval_gate.py habit).
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from extraction_devset import corpus_digest, dev_set  # noqa: E402
from pipelines.extraction.quality import char_f1, leaks_in  # noqa: E402
from pipelines.article import ExtractionError  # noqa: E402
from pipelines.extract import extract_article  # noqa: E402

FLOORS = Path(__file__).with_name("quality_floors.json")
# Measured slightly below what we get, so float noise never fails the gate; a real
# regression of one page out of ~80 does.
SLACK = 0.002


def measure() -> dict:
    pages = dev_set()
    f1, leaks = {}, []
    for p in pages:
        try:
            result = extract_article(p.body(), p.url, p.headers).to_dict()
        except ExtractionError as exc:
            result = {"error": exc.reason}
        f1[p.name] = char_f1(result.get("text") or "", p.gold["text"])
        leaks += [f"{p.name}: {hit}" for hit in leaks_in(result, p.gold)
                  if not p.gold.get("known_gaps", {}).get("without")]
    real = [v for k, v in f1.items() if not k.startswith("fixture:")]
    fixture = [v for k, v in f1.items() if k.startswith("fixture:")]
    return {
        "corpus_digest": corpus_digest(pages),
        "pages": len(pages),
        "scores": {
            "mean_f1": sum(f1.values()) / len(f1),
            "real_f1": sum(real) / len(real),
            "fixture_f1": sum(fixture) / len(fixture),
            "pages_above_0.9": sum(v >= 0.9 for v in f1.values()) / len(f1),
        },
        "leaks": leaks,
        "per_page": f1,
    }


def load_floors() -> dict:
    return json.loads(FLOORS.read_text(encoding="utf-8"))


def problems(measured: dict, pinned: dict) -> list[str]:
    out = []
    if measured["corpus_digest"] != pinned["corpus_digest"]:
        out.append(f"corpus changed (digest {measured['corpus_digest']} != pinned {pinned['corpus_digest']}): "
                   "re-measure and re-pin with `python tests/quality_gate.py --pin`")
    for name, floor in pinned["floors"].items():
        if measured["scores"][name] < floor:
            out.append(f"{name} {measured['scores'][name]:.4f} below floor {floor:.4f}")
    out += [f"page {name} F1 {score:.4f} below its floor {floor:.4f}"
            for name, score, floor in pages_below_floor(measured, pinned)]
    out += [f"leak (not a known gap) {leak}" for leak in measured["leaks"]]
    return out


def pages_below_floor(measured: dict, pinned: dict) -> list[tuple[str, float, float]]:
    """(page, F1, floor) for every page scoring under its own pinned floor: one page can
    regress badly while the mean barely moves."""
    floors = pinned.get("page_floors", {})
    return [(name, measured["per_page"].get(name, 0.0), floor) for name, floor in sorted(floors.items())
            if measured["per_page"].get(name, 0.0) < floor]


def _raise_floors(old: dict, measured: dict, allow_regression: bool) -> tuple[dict, list[str]]:
    new = {k: round(max(v - SLACK, 0.0), 4) for k, v in measured.items()}
    lowered = [f"{k}: {old[k]} -> {new[k]}" for k in new if k in old and new[k] < old[k]]
    return {k: max(new[k], old.get(k, 0.0)) if not allow_regression else new[k] for k in new}, lowered


def pin(measured: dict, allow_regression: bool) -> list[str]:
    pinned = load_floors() if FLOORS.exists() else {}
    floors, lowered = _raise_floors(pinned.get("floors", {}), measured["scores"], allow_regression)
    page_floors, lowered_pages = _raise_floors(pinned.get("page_floors", {}), measured["per_page"], allow_regression)
    lowered += [f"page {item}" for item in lowered_pages]
    if lowered and not allow_regression:
        return [f"refusing to lower floors without --allow-regression: {', '.join(lowered)}"]
    FLOORS.write_text(json.dumps({"corpus_digest": measured["corpus_digest"], "pages": measured["pages"],
                                  "floors": floors, "page_floors": page_floors},
                                 ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    return []


def main() -> int:
    ap = argparse.ArgumentParser(description="newsmon extraction quality gate")
    ap.add_argument("--pin", action="store_true", help="write quality_floors.json from this measurement")
    ap.add_argument("--allow-regression", action="store_true", help="let --pin lower a floor")
    args = ap.parse_args()
    measured = measure()
    print(json.dumps({k: v for k, v in measured.items() if k != "per_page"}, ensure_ascii=False, indent=2))
    errors = pin(measured, args.allow_regression) if args.pin else problems(measured, load_floors())
    for error in errors:
        print("FAIL:", error)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
