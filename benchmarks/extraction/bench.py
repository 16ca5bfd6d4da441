"""newsmon against public extractors on the dev set, side by side in one run.

Example:
    make bench-extraction                      # installs the peers (the ``bench`` extra), then runs this
    python benchmarks/extraction/bench.py [--worst 8] [--json results.json]

newsmon runs as its users run it in batch: one ``newsmon extract --jsonl
--from-list`` process for all pages (start-up paid once, included in its time).
Peers run in this process, each page timed on its own. Every extractor is
scored on the same pages with ``metrics.char_scores`` (difflib matching blocks
on whitespace-free NFKC text) and ``metrics.bigram_f1``; a page an extractor
crashes on, or refuses, scores 0 and is listed.

The closing lines check the issue's "Done when" (mean F1 >= 0.95, >= 0.03 above
every peer, no page < 0.5 that a peer gets > 0.8, no leaks, speed >= 1/2 of
trafilatura's) and the exit status is 1 when one fails.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from benchmarks.extraction.corpus import Page, corpus_digest, dev_set  # noqa: E402
from benchmarks.extraction.leaks import leaks_in  # noqa: E402
from benchmarks.extraction.metrics import bigram_f1, char_scores  # noqa: E402
from benchmarks.extraction.peers import load_peers  # noqa: E402

TARGET_F1, MARGIN, SPEED_RATIO = 0.95, 0.03, 0.5


@dataclass
class Run:
    name: str
    version: str
    texts: dict[str, str] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    seconds: float = 0.0
    scores: dict[str, tuple[float, float, float, float]] = field(default_factory=dict)  # P, R, F1, bigram

    def mean(self, i: int) -> float:
        return sum(s[i] for s in self.scores.values()) / max(len(self.scores), 1)


def run_newsmon(pages: list[Page]) -> tuple[Run, dict[str, dict]]:
    """One CLI process for the whole batch, as a user would run it."""
    from importlib.metadata import version
    run = Run("newsmon", version("newsmon"))
    with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False, encoding="utf-8") as fh:
        for p in pages:
            fh.write(f"{p.path}\t{p.url}\n")
        listing = fh.name
    cmd = [sys.executable, "-m", "crawler", "extract", "--jsonl", "--from-list", listing]
    start = time.perf_counter()
    out = subprocess.run(cmd, capture_output=True, text=True, encoding="utf-8", cwd=ROOT, check=False)
    run.seconds = time.perf_counter() - start
    os.unlink(listing)
    lines = [json.loads(line) for line in out.stdout.splitlines() if line.strip()]
    if len(lines) != len(pages):
        raise SystemExit(f"newsmon extract gave {len(lines)} lines for {len(pages)} pages:\n{out.stderr[-2000:]}")
    results = {}
    for p, line in zip(pages, lines):
        results[p.name] = line
        if "error" in line:
            run.errors[p.name] = line["error"]
        run.texts[p.name] = line.get("text") or ""
    return run, results


def run_peer(name: str, version: str, extract, pages: list[Page]) -> Run:
    run = Run(name, version)
    for p in pages:
        body = p.body()
        start = time.perf_counter()
        try:
            run.texts[p.name] = extract(body, p.url)
        except Exception as exc:  # noqa: BLE001 - a crash is a 0 for that page, noted
            run.texts[p.name] = ""
            run.errors[p.name] = f"{type(exc).__name__}: {str(exc)[:80]}"
        run.seconds += time.perf_counter() - start
    return run


def score(run: Run, pages: list[Page]) -> None:
    for p in pages:
        s = char_scores(run.texts.get(p.name, ""), p.gold["text"])
        run.scores[p.name] = (s.precision, s.recall, s.f1, bigram_f1(run.texts.get(p.name, ""), p.gold["text"]))


def main() -> int:
    ap = argparse.ArgumentParser(description="newsmon vs public extractors on the dev set")
    ap.add_argument("--worst", type=int, default=8, help="per-extractor worst pages to list")
    ap.add_argument("--json", type=Path, help="also write per-page scores here")
    args = ap.parse_args()
    pages = dev_set()
    real = sum(p.kind == "real" for p in pages)
    print(f"dev set: {len(pages)} pages ({real} stored real pages, {len(pages) - real} fixture-site articles), "
          f"corpus digest {corpus_digest(pages)}")
    newsmon, results = run_newsmon(pages)
    peers, missing = load_peers()
    runs = [newsmon] + [run_peer(n, v, fn, pages) for n, (v, fn) in peers.items()]
    for run in runs:
        score(run, pages)

    print(f"\n{'extractor':<18}{'version':<9}{'P':>7}{'R':>7}{'F1':>7}{'bigram':>8}{'real F1':>9}"
          f"{'fixt F1':>9}{'pages/s':>9}{'errors':>8}")
    for run in runs:
        real_f1 = [run.scores[p.name][2] for p in pages if p.kind == "real"]
        fix_f1 = [run.scores[p.name][2] for p in pages if p.kind == "fixture"]
        print(f"{run.name:<18}{run.version:<9}{run.mean(0):7.3f}{run.mean(1):7.3f}{run.mean(2):7.3f}{run.mean(3):8.3f}"
              f"{sum(real_f1) / max(len(real_f1), 1):9.3f}{sum(fix_f1) / max(len(fix_f1), 1):9.3f}"
              f"{len(pages) / max(run.seconds, 1e-9):9.1f}{len(run.errors):8d}")
    for name, reason in missing.items():
        print(f"{name:<18}{'-':<9}  {reason}")
    print("(newsmon: one `newsmon extract --jsonl --from-list` process, start-up included; peers in-process)")

    for run in runs:
        worst = sorted(run.scores.items(), key=lambda kv: kv[1][2])[:args.worst]
        print(f"\nworst pages, {run.name}:")
        for name, (p, r, f1, bg) in worst:
            note = f"  [{run.errors[name][:70]}]" if name in run.errors else ""
            print(f"  F1 {f1:.3f} (P {p:.3f} R {r:.3f})  {name}{note}")

    # The "Done when" checks.
    problems = []
    best_peer = max(runs[1:], key=lambda r: r.mean(2), default=None)
    if newsmon.mean(2) < TARGET_F1:
        problems.append(f"newsmon mean F1 {newsmon.mean(2):.3f} < {TARGET_F1}")
    if best_peer and newsmon.mean(2) < best_peer.mean(2) + MARGIN:
        problems.append(f"newsmon {newsmon.mean(2):.3f} not {MARGIN} above {best_peer.name} {best_peer.mean(2):.3f}")
    for p in pages:
        mine = newsmon.scores[p.name][2]
        beaten = [r.name for r in runs[1:] if r.scores[p.name][2] > 0.8]
        if mine < 0.5 and beaten:
            problems.append(f"{p.name}: newsmon {mine:.2f} while {', '.join(beaten)} > 0.8")
    leaks = [(p.name, hit) for p in pages for hit in leaks_in(results[p.name], p.gold)]
    problems += [f"leak in {name}: {hit}" for name, hit in leaks]
    traf = next((r for r in runs if r.name == "trafilatura"), None)
    if traf and (len(pages) / newsmon.seconds) < SPEED_RATIO * (len(pages) / traf.seconds):
        problems.append(f"newsmon {len(pages) / newsmon.seconds:.1f} pages/s < half of trafilatura's "
                        f"{len(pages) / traf.seconds:.1f}")
    titles = sum(results[p.name].get("title") == p.gold["title"] for p in pages)
    dates = sum((results[p.name].get("published") or "")[:10] == (p.gold.get("published") or "") for p in pages)
    print(f"\nnewsmon titles {titles}/{len(pages)}, dates {dates}/{len(pages)}, leaks {len(leaks)}")
    if best_peer:
        print(f"newsmon - best peer ({best_peer.name}) = {newsmon.mean(2) - best_peer.mean(2):+.3f} F1; "
              f"speed newsmon/trafilatura = {(traf.seconds / newsmon.seconds) if traf else float('nan'):.2f}x")
    if args.json:
        args.json.write_text(json.dumps({r.name: {"version": r.version, "seconds": r.seconds, "scores": r.scores,
                                                  "errors": r.errors} for r in runs}, ensure_ascii=False, indent=1))
    print("DONE-WHEN: " + ("all met" if not problems else "NOT met"))
    for problem in problems:
        print("  " + problem)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
