"""Story clustering benchmark: newsmon's clusterer on the real SQLite backend, side
by side with a plain datasketch MinHashLSH, on one generated syndication corpus.

Example:
    python -m benchmarks.dedup.run --size 10000           # make bench-dedup
    python -m benchmarks.dedup.run --size 100000
    python -m benchmarks.dedup.run --size 1000000 --parallel   # both sides at once, ~1 h on 2 cores

Each side runs in its own process (so peak memory is its own) over the same
seeded corpus (``corpus.py``) and reports:
- pairwise precision/recall against the generator's truth, and how many pairs
  of look-alike stories (same template in another county, next month's
  bulletin) it merged;
- throughput: articles per CPU second of insert+lookup (the process's own
  user+system time, so other work on a shared machine does not skew the ratio;
  wall-clock rates are printed beside it). Baseline: normalize, shingle,
  ``MinHash.update_batch``, ``MinHashLSH.query`` + ``insert``, union-find over
  the candidates. newsmon's dedup: ``assign`` (signatures, the lookup, reading
  and verifying candidates, the story and its origin) plus writing the
  article's band keys into the SQLite file (``sqlite_dedup.store``, timed inside
  ``upsert_article``). The whole ``upsert_article`` (also the article row and
  the full-text index search needs, which the baseline has no counterpart of)
  is reported beside it. Building the articles (extraction's normalize stage)
  is not timed for either side;
- peak RSS of the process, and for newsmon the index file size per article;
- newsmon only: how often the canonical copy is the true origin.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from benchmarks.dedup.corpus import GeneratedArticle, generate  # noqa: E402
from pipelines.stories.quality import pair_scores  # noqa: E402
from index.base import ArticleRecord  # noqa: E402
from pipelines.article import Article  # noqa: E402
from pipelines.records import build_record  # noqa: E402

PROGRESS_EVERY = 100_000


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024   # Linux: KiB


def record_of(a: GeneratedArticle) -> ArticleRecord:
    article = Article(url=a.url, title=a.title, text=a.text, published=a.published, source=a.source)
    return build_record(article, site=a.site, fetched_at=a.fetched_at, region=a.region)


def progress(side: str, n: int, seconds: float) -> None:
    if n % PROGRESS_EVERY == 0:
        print(f"  [{side}] {n:,} articles, {n / seconds:,.0f}/s", file=sys.stderr, flush=True)


class _Timed:
    """Wall and CPU seconds spent in a function, called from inside code we do not
    change (``upsert_article`` writes the dedup keys with ``sqlite_dedup.store``)."""

    def __init__(self, function):
        self.function, self.seconds, self.cpu = function, 0.0, 0.0

    def __call__(self, *args, **kwargs):
        start, start_cpu = time.perf_counter(), time.process_time()
        try:
            return self.function(*args, **kwargs)
        finally:
            self.seconds += time.perf_counter() - start
            self.cpu += time.process_time() - start_cpu


def run_newsmon(size: int, seed: int, workdir: Path) -> dict:
    from index import open_index
    from index.sqlite import dedup as sqlite_dedup
    from pipelines.stories.clustering import StoryClusterer
    db = workdir / "bench-dedup.db"
    index = open_index(f"sqlite:///{db}")
    clusterer = StoryClusterer(index)
    store_keys = sqlite_dedup.store = _Timed(sqlite_dedup.store)
    truth, families, ids, origins = [], [], [], set()
    assign_s = total_s = assign_cpu = total_cpu = 0.0
    for n, article in enumerate(generate(size, seed), 1):
        record = record_of(article)
        start, start_cpu = time.perf_counter(), time.process_time()
        assignment = clusterer.assign(record)
        middle, middle_cpu = time.perf_counter(), time.process_time()
        index.upsert_article(record)
        end, end_cpu = time.perf_counter(), time.process_time()
        assign_s += middle - start
        total_s += end - start
        assign_cpu += middle_cpu - start_cpu
        total_cpu += end_cpu - start_cpu
        truth.append(article.story)
        families.append(article.family)
        ids.append(record.id)
        if article.origin:
            origins.add(record.id)
        progress("newsmon", n, total_cpu)
    start, start_cpu = time.perf_counter(), time.process_time()
    index.flush()
    total_s += time.perf_counter() - start
    total_cpu += time.process_time() - start_cpu
    exported = [(line["id"], line["story_id"], line["canonical"]) for line in index.export()]
    index.close()
    canonical = {article for article, _story, is_canonical in exported if is_canonical}
    story_of = {article: story for article, story, _canonical in exported}
    predicted = [story_of[i] for i in ids]   # as stored at the end: a story takes its origin's id
    size_of_story = {}
    for story in truth:
        size_of_story[story] = size_of_story.get(story, 0) + 1
    multi = {i for i, story in zip(ids, truth) if i in origins and size_of_story[story] > 1}
    db_bytes = sum(p.stat().st_size for p in workdir.glob("bench-dedup.db*"))
    # dedup = what the baseline does: find the story (assign) and store the keys
    return {"side": "newsmon", "articles": len(ids), "seconds": assign_s + store_keys.seconds,
            "cpu_seconds": assign_cpu + store_keys.cpu, "stored_seconds": total_s,
            "stored_cpu_seconds": total_cpu,
            "scores": pair_scores(truth, predicted, families).__dict__,
            "origin_is_canonical": len(multi & canonical) / len(multi) if multi else 1.0,
            "peak_rss_mb": peak_rss_mb(), "index_bytes": db_bytes}


def run_baseline(size: int, seed: int) -> dict:
    """The plain use of datasketch: every LSH candidate is the same story."""
    from datasketch import MinHash, MinHashLSH
    from index.normalize import dedup_form
    lsh = MinHashLSH(threshold=0.5, num_perm=128)
    parent: dict[int, int] = {}

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    truth, families, seconds, cpu = [], [], 0.0, 0.0
    for n, article in enumerate(generate(size, seed)):
        record = record_of(article)
        start, start_cpu = time.perf_counter(), time.process_time()
        text = dedup_form(record.norm_text)
        minhash = MinHash(num_perm=128)
        minhash.update_batch([text[i:i + 5].encode("utf-8") for i in range(max(1, len(text) - 4))])
        parent[n] = n
        for other in lsh.query(minhash):
            parent[find(other)] = find(n)
        lsh.insert(n, minhash)
        seconds += time.perf_counter() - start
        cpu += time.process_time() - start_cpu
        truth.append(article.story)
        families.append(article.family)
        progress("baseline", n + 1, cpu)
    predicted = [find(i) for i in range(len(truth))]
    return {"side": "baseline", "articles": len(truth), "seconds": seconds, "cpu_seconds": cpu,
            "scores": pair_scores(truth, predicted, families).__dict__, "peak_rss_mb": peak_rss_mb()}


def child(args: argparse.Namespace) -> None:
    rss_at_start = peak_rss_mb()
    if args.side == "newsmon":
        with tempfile.TemporaryDirectory(dir=args.workdir) as workdir:
            result = run_newsmon(args.size, args.seed, Path(workdir))
    else:
        result = run_baseline(args.size, args.seed)
    result["rss_at_start_mb"] = rss_at_start
    Path(args.result).write_text(json.dumps(result), encoding="utf-8")


def spawn(side: str, args: argparse.Namespace, result: Path) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "benchmarks.dedup.run", "--side", side,
                             "--size", str(args.size), "--seed", str(args.seed),
                             "--result", str(result), "--workdir", args.workdir], cwd=ROOT)


def report(size: int, results: list[dict]) -> str:
    """The table. Throughput is articles per CPU second of the timed work (the
    process's user+system time): the machine is shared, and CPU time is what each
    side itself spends whatever else runs; wall-clock articles/s are shown too."""
    lines = [f"story clustering, {size:,} generated articles "
             f"(pairwise scores against the generator's truth)",
             f"{'':<22}{'precision':>10}{'recall':>8}{'F1':>8}{'siblings merged':>17}"
             f"{'articles/s':>12}{'(wall)':>9}{'peak RSS':>11}"]
    for r in results:
        s = r["scores"]
        name = "newsmon (sqlite)" if r["side"] == "newsmon" else "datasketch MinHashLSH"
        f1 = 2 * s["precision"] * s["recall"] / ((s["precision"] + s["recall"]) or 1)
        lines.append(f"{name:<22}{s['precision']:>10.4f}{s['recall']:>8.4f}{f1:>8.4f}"
                     f"{s['sibling_stories_merged']:>8} / {s['sibling_stories']:<6}"
                     f"{r['articles'] / r['cpu_seconds']:>12,.0f}{r['articles'] / r['seconds']:>9,.0f}"
                     f"{r['peak_rss_mb']:>8,.0f} MB")
    by_side = {r["side"]: r for r in results}
    if "newsmon" in by_side:
        n = by_side["newsmon"]
        lines.append(f"newsmon with the article row and its full-text index (what search needs): "
                     f"{n['articles'] / n['stored_cpu_seconds']:,.0f} articles/s "
                     f"({n['articles'] / n['stored_seconds']:,.0f} wall)")
        lines.append(f"newsmon: index file {n['index_bytes'] / n['articles']:,.0f} bytes/article (text, FTS, "
                     f"dedup keys); RSS growth {(n['peak_rss_mb'] - n['rss_at_start_mb']) * 2**20 / n['articles']:,.0f} "
                     f"bytes/article; origin is the canonical copy in {n['origin_is_canonical']:.1%} "
                     f"of multi-copy stories")
    if len(by_side) == 2:
        b, n = by_side["baseline"], by_side["newsmon"]
        rate = b["articles"] / b["cpu_seconds"]
        speedup = (n["articles"] / n["cpu_seconds"]) / rate
        wall = (n["articles"] / n["seconds"]) / (b["articles"] / b["seconds"])
        stored = (n["articles"] / n["stored_cpu_seconds"]) / rate
        lines.append(f"baseline: RSS growth {(b['peak_rss_mb'] - b['rss_at_start_mb']) * 2**20 / b['articles']:,.0f} "
                     f"bytes/article (in-memory LSH)")
        lines.append(f"newsmon/baseline dedup throughput: {speedup:.2f}x (wall clock: {wall:.2f}x); "
                     f"with newsmon's article storage: {stored:.2f}x")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--sides", default="newsmon,baseline")
    parser.add_argument("--parallel", action="store_true", help="run both sides at once (2+ cores)")
    parser.add_argument("--workdir", default=tempfile.gettempdir(), help="where the SQLite file goes")
    parser.add_argument("--json", action="store_true", help="print the raw results as JSON")
    parser.add_argument("--side", help=argparse.SUPPRESS)
    parser.add_argument("--result", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.side:
        child(args)
        return 0
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        sides = args.sides.split(",")
        paths = {side: Path(tmp) / f"{side}.json" for side in sides}
        procs = []
        for side in sides:
            procs.append(spawn(side, args, paths[side]))
            if not args.parallel and procs[-1].wait():
                return procs[-1].returncode
        if any(p.wait() for p in procs):
            return 1
        results = [json.loads(paths[side].read_text(encoding="utf-8")) for side in sides]
    print(json.dumps(results, indent=2) if args.json else report(args.size, results))
    print(f"(wall time {time.perf_counter() - started:,.0f} s; seed {args.seed}; cores {os.cpu_count()})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
