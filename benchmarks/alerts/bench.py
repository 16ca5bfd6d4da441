"""Alert matching: newsmon's Aho–Corasick matcher against the naive loop, same run.

    python -m benchmarks.alerts.bench [--stories 10000] [--watches 1000] [--seed 7]

1. Stories: ``--stories`` articles of the seeded syndication corpus
   (``benchmarks/dedup/corpus.py``: county reports and reposts, simplified and
   traditional), normalized as the pipeline stores them (``match_text``).
2. Watches: ``--watches`` seeded queries in the one query language over what
   monitoring teams watch (industries, companies, counties, towns, departments,
   meetings, campaigns -- the generator's own vocabulary, so they hit -- plus
   words the corpus never uses): one to three ANDed clauses, a third of them
   ``OR`` groups, some quoted, and a ``-`` exclusion in three watches out of ten.
3. Both sides see the same stories and watches, in the same process:
   naive = every watch's ``Query.matches`` on every story (what a loop over
   watches does); newsmon = ``WatchMatcher.match_text`` (one automaton pass per
   story, then only the watches whose anchor terms were found), alternating
   over chunks of 500 stories. The matcher's build time is reported apart. Both sides must return the same watches for every
   story, or the run fails.
"""
from __future__ import annotations

import argparse
import gc
import random
import sys
import time

from benchmarks.dedup import vocabulary as V
from benchmarks.dedup.corpus import generate
from index.query import parse_query
from monitor.matcher import WatchMatcher
from monitor.watches import Watch, validate_watch
from index.normalize import normalize_text

MISSING = ("无人机航拍", "量子通信", "冰雪旅游", "海上风电", "跨境电商", "碳汇交易", "数字人民币", "低空经济")


def stories(n: int, seed: int) -> list[str]:
    return [normalize_text(a.title) + "\n" + normalize_text(a.text) for a in generate(n, seed)]


def vocabulary(rng: random.Random) -> list[str]:
    """What monitoring teams watch for: industries, companies, places, departments,
    meetings and campaigns (the corpus generator's own vocabulary, so they hit),
    a few policy words, and words the corpus never uses (so some watches miss)."""
    words = list(V.INDUSTRIES) + list(V.MEETINGS) + list(V.WORK_TOPICS) + list(V.DEPARTMENTS)
    words += [a + b for a in V.COMPANIES_A for b in V.COMPANIES_B]
    words += [county for _province, _city, county in V.COUNTIES]
    words += [town + suffix for town in V.TOWN_NAMES for suffix in V.TOWN_SUFFIXES]
    words += ["招商引资", "乡村振兴", "营商环境", "安全生产", "重点项目", "减税降费", "产业园", "签约"]
    words += list(MISSING)
    rng.shuffle(words)
    return words


EXCLUDED = ("招聘", "会议", "督查", "培训", "公示", "招标")


def watch_queries(n: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    words = vocabulary(rng)
    queries = []
    for _ in range(n):
        clauses = []
        for _ in range(rng.choice((1, 1, 2, 2, 3))):
            if rng.random() < 0.35:
                clauses.append(" OR ".join(rng.sample(words, rng.choice((2, 3, 4)))))
            else:
                word = rng.choice(words)
                clauses.append(f'"{word}"' if rng.random() < 0.1 else word)
        if rng.random() < 0.3:
            clauses.append("-" + rng.choice(EXCLUDED))
        queries.append(" ".join(clauses))
    return queries


def run(n_stories: int, n_watches: int, seed: int) -> dict:
    t0 = time.perf_counter()
    texts = stories(n_stories, seed)
    watches = [validate_watch(Watch(f"w{i}", q, emails=["team@example.com"]))
               for i, q in enumerate(watch_queries(n_watches, seed))]
    queries = [(w.name, parse_query(w.query)) for w in watches]
    corpus_s = time.perf_counter() - t0
    gc.collect()
    gc.freeze()

    t0 = time.perf_counter()
    matcher = WatchMatcher(watches)
    build_s = time.perf_counter() - t0

    # The sides alternate over chunks of 500 stories, so a busy shared machine
    # slows both alike (the ratio is what this measures).
    fast, naive, fast_s, naive_s = [], [], 0.0, 0.0
    for start in range(0, len(texts), 500):
        chunk = texts[start:start + 500]
        t0 = time.perf_counter()
        fast += [[w.name for w in matcher.match_text(text)] for text in chunk]
        fast_s += time.perf_counter() - t0
        t0 = time.perf_counter()
        naive += [[name for name, query in queries if query.matches(text)] for text in chunk]
        naive_s += time.perf_counter() - t0

    if fast != naive:
        wrong = sum(1 for a, b in zip(fast, naive) if a != b)
        raise SystemExit(f"matcher and naive loop disagree on {wrong} stories")
    hits = sum(len(h) for h in fast)
    return {"stories": n_stories, "watches": n_watches, "terms": len(matcher._term_ids),
            "avg_chars": sum(map(len, texts)) / len(texts), "hits": hits,
            "stories_hit": sum(1 for h in fast if h), "corpus_s": corpus_s, "build_s": build_s,
            "fast_s": fast_s, "naive_s": naive_s,
            "fast_rate": n_stories / fast_s, "naive_rate": n_stories / naive_s,
            "fast_with_build_rate": n_stories / (fast_s + build_s)}


def report(r: dict) -> str:
    return "\n".join([
        f"{r['stories']:,} stories (avg {r['avg_chars']:.0f} chars of normalized title+body) x "
        f"{r['watches']:,} watches ({r['terms']:,} distinct terms); corpus built in {r['corpus_s']:.1f}s",
        f"matches: {r['hits']:,} (story, watch) pairs; {r['stories_hit']:,} stories hit at least one watch; "
        "both sides agree on every story",
        "",
        f"{'side':<36}{'seconds':>10}{'stories/s':>14}",
        f"{'naive loop (Query.matches per watch)':<36}{r['naive_s']:>10.2f}{r['naive_rate']:>14,.0f}",
        f"{'newsmon WatchMatcher':<36}{r['fast_s']:>10.2f}{r['fast_rate']:>14,.0f}",
        f"{'  + automaton build':<36}{r['build_s']:>10.2f}{r['fast_with_build_rate']:>14,.0f}",
        f"ratio newsmon / naive: {r['fast_rate'] / r['naive_rate']:.1f}x stories/s",
    ])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--stories", type=int, default=10_000)
    parser.add_argument("--watches", type=int, default=1_000)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)
    print(report(run(args.stories, args.watches, args.seed)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
