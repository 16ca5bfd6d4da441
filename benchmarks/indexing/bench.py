"""Indexing and search speed: newsmon's Elasticsearch backend against bare
``helpers.streaming_bulk``, and search latency embedded (SQLite) vs Elasticsearch.

Example:
    python -m benchmarks.indexing.bench --size 2000
    python -m benchmarks.indexing.bench --size 100000 --es-url http://127.0.0.1:19200

Steps, all in one run on the same machine and the same node:
1. generate ``--size`` clean articles (the seeded syndication corpus of
   ``benchmarks/dedup``) and cluster them into the embedded index, as a crawl
   would: that fixes story ids, canonical flags and LSH bands, and it is the
   SQLite side of the search benchmark;
2. bulk throughput, alternating ``--rounds`` times: the same documents sent by a
   bare ``streaming_bulk`` (prebuilt actions, same mapping, chunking and final
   refresh) and through ``ElasticsearchIndex.upsert_article`` + ``flush()``
   (building documents, buffering, story fields, spool bookkeeping, refresh);
   the ratio is newsmon / bare, best round against best round, and the median of
   the per-round ratios (the sides alternate who goes first; indices are dropped
   once measured, so neither inherits the other's merges);
3. dedup lookups while indexing: ``StoryClusterer`` over the Elasticsearch backend
   as it is (lookups read the write buffer) vs refreshing before every lookup
   (a flush per article);
4. search latency p50/p95 for the query tables (``queries.py``) on both indexes,
   which must return the same stories.
"""
from __future__ import annotations

import argparse
import gc
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path[:0] = [str(REPO), str(REPO / "tests")]

from elasticsearch import Elasticsearch, helpers  # noqa: E402

from benchmarks.dedup.corpus import generate  # noqa: E402
from benchmarks.dedup.run import record_of  # noqa: E402
from benchmarks.indexing.queries import CORPUS_QUERIES, QUERY_TABLE  # noqa: E402
from index import open_index, parse_query  # noqa: E402
from index.elasticsearch.mapping import alias_name, article_doc, ensure_indices  # noqa: E402
from pipelines.stories.clustering import StoryClusterer  # noqa: E402


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def build_embedded(size: int, workdir: Path, reuse: Path | None = None):
    """Cluster the generated corpus into SQLite; return the index and its records.
    ``reuse``: an embedded index an earlier run built for the same size (clustering
    100k articles takes ~10 minutes); its records come back in fetch order."""
    if reuse:
        sqlite = open_index(f"sqlite:///{reuse}")
        records = sorted((sqlite.get_article(line["id"]) for line in sqlite.export()),
                         key=lambda r: (r.fetched_at, r.id))
        if len(records) == size:
            return sqlite, records
        raise SystemExit(f"{reuse} holds {len(records)} articles, not {size}")
    sqlite = open_index(f"sqlite:///{workdir}/bench.db")
    clusterer = StoryClusterer(sqlite)
    started = time.perf_counter()
    crawl_order: dict[str, None] = {}
    for n, article in enumerate(generate(size, seed=7), 1):
        record = record_of(article)
        clusterer.store(record)
        crawl_order[record.id] = None
        if n % 20_000 == 0:
            log(f"  clustered {n:,} ({n / (time.perf_counter() - started):,.0f}/s)")
    sqlite.flush()
    # Final records (story ids, canonical flags, bands), in the order the crawl met them.
    return sqlite, [sqlite.get_article(article_id) for article_id in crawl_order]


def bare_bulk(client: Elasticsearch, prefix: str, docs: list[dict], chunk_docs: int, chunk_bytes: int) -> float:
    ensure_indices(client, prefix)
    index = alias_name(prefix, "articles")
    actions = [{"_index": index, "_id": d["id"], "_source": d} for d in docs]
    started = time.perf_counter()
    for ok, item in helpers.streaming_bulk(client, actions, chunk_size=chunk_docs, max_chunk_bytes=chunk_bytes,
                                           raise_on_error=True):
        pass
    client.indices.refresh(index=index)
    return time.perf_counter() - started


def newsmon_bulk(url: str, records) -> tuple[float, object]:
    index = open_index(url)              # creating the indices is not timed, as for the bare side
    started = time.perf_counter()
    for record in records:
        index.upsert_article(record)
    index.flush()
    return time.perf_counter() - started, index


def clustering_rate(url: str, records, flush_every_article: bool) -> float:
    index = open_index(url)
    clusterer = StoryClusterer(index)
    started = time.perf_counter()
    for record in records:
        fresh = type(record)(**{**record.to_dict(), "story_id": "", "canonical": False, "lsh_bands": []})
        clusterer.store(fresh)
        if flush_every_article:
            index.flush()
    index.close()
    return len(records) / (time.perf_counter() - started)


def latencies(index, table, repeat: int) -> tuple[list[float], list]:
    times, results = [], []
    for text, filters in table:
        query = parse_query(text)
        results.append(index.search(query, **filters))        # warm-up, and the answer to compare
        for _ in range(repeat):
            started = time.perf_counter()
            index.search(query, **filters)
            times.append((time.perf_counter() - started) * 1000)
    return times, results


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def run(args: argparse.Namespace) -> dict:
    workdir = Path(tempfile.mkdtemp(prefix="newsmon-bench-"))
    os.environ["NEWSMON_ES_SPOOL_DIR"] = str(workdir / "spool")
    node = None
    if not args.es_url:
        from elasticsearch_node import start_node
        log("starting Elasticsearch ...")
        node = start_node()
    es_url = args.es_url or node.url
    client = Elasticsearch(es_url, request_timeout=120)
    try:
        log(f"clustering {args.size:,} generated articles into SQLite ...")
        sqlite, records = build_embedded(args.size, workdir, args.reuse)
        docs = [article_doc(r) for r in records]
        # The corpus (records, prebuilt documents) is millions of objects that neither side
        # creates while timed; keep the collector from rescanning them (it would bill the
        # side that allocates, newsmon, for the benchmark's own memory).
        gc.collect()
        gc.freeze()
        megabytes = sum(len(json.dumps(d, ensure_ascii=False).encode()) for d in docs) / 1e6
        bare_times, newsmon_times, es_index = [], [], None
        run_id = workdir.name.rsplit("-", 1)[-1].lower()      # fresh indices on a reused node
        for round_ in range(args.rounds):
            # Alternate who goes first, and drop each index once measured, so neither side
            # inherits the other's background merges.
            for side in (("bare", "newsmon") if round_ % 2 == 0 else ("newsmon", "bare")):
                prefix = f"bench-{run_id}-{side}-{round_}"
                if side == "bare":
                    bare_times.append(bare_bulk(client, prefix, docs, 500, 5 * 1024 * 1024))
                else:
                    seconds, index = newsmon_bulk(f"{es_url}/{prefix}", records)
                    newsmon_times.append(seconds)
                    if es_index is not None:
                        es_index.close()
                        client.indices.delete(index=f"{es_index.conn.prefix}-*")
                    es_index = index
                if side == "bare":
                    client.indices.delete(index=f"{prefix}-*")
            log(f"  round {round_ + 1}: bare {len(docs) / bare_times[-1]:,.0f} docs/s, "
                f"newsmon {len(docs) / newsmon_times[-1]:,.0f} docs/s")
        sample = records[:min(len(records), args.cluster_sample)]
        buffered = clustering_rate(f"{es_url}/bench-{run_id}-cluster-a", sample, flush_every_article=False)
        refreshed = clustering_rate(f"{es_url}/bench-{run_id}-cluster-b", sample, flush_every_article=True)
        table = QUERY_TABLE + CORPUS_QUERIES
        sqlite_ms, sqlite_results = latencies(sqlite, table, args.repeat)
        es_ms, es_results = latencies(es_index, table, args.repeat)
        agree = sum(a == b for a, b in zip(sqlite_results, es_results))
        for (text, filters), a, b in zip(table, sqlite_results, es_results):
            if a != b:
                log(f"  disagree: {text} {filters}: sqlite {len(a)} stories, elasticsearch {len(b)}")
        bare_rate, newsmon_rate = len(docs) / min(bare_times), len(docs) / min(newsmon_times)
        return {
            "articles": len(docs), "megabytes": round(megabytes, 1), "elasticsearch": es_url,
            "bulk_docs_per_s": {"bare_streaming_bulk": round(bare_rate), "newsmon": round(newsmon_rate)},
            "bulk_ratio": round(newsmon_rate / bare_rate, 3),            # best round against best round
            "bulk_ratio_median": round(statistics.median(b / n for b, n in zip(bare_times, newsmon_times)), 3),
            "cluster_and_index_per_s": {"read_write_buffer": round(buffered), "refresh_every_article": round(refreshed),
                                        "sample": len(sample)},
            "search_ms": {"queries": len(table), "runs_each": args.repeat,
                          "sqlite": {"p50": round(pct(sqlite_ms, 50), 2), "p95": round(pct(sqlite_ms, 95), 2)},
                          "elasticsearch": {"p50": round(pct(es_ms, 50), 2), "p95": round(pct(es_ms, 95), 2)}},
            "queries_agreeing": f"{agree}/{len(table)}",
            "stories_found": sum(len(r) for r in sqlite_results),
        }
    finally:
        client.close()
        if node is not None:
            node.cleanup()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", type=int, default=int(os.environ.get("SIZE", 2000)), help="articles (default 2000)")
    parser.add_argument("--es-url", help="use this node instead of starting one")
    parser.add_argument("--rounds", type=int, default=2, help="alternating bulk rounds per side")
    parser.add_argument("--repeat", type=int, default=5, help="timed runs per query")
    parser.add_argument("--cluster-sample", type=int, default=1000, help="articles for the dedup-lookup comparison")
    parser.add_argument("--json", dest="json_out", help="also write the result to this file")
    parser.add_argument("--reuse", type=Path, help="an embedded index (bench.db) of an earlier run of this size")
    args = parser.parse_args(argv)
    result = run(args)
    text = json.dumps(result, ensure_ascii=False, indent=2)
    print(text)
    if args.json_out:
        Path(args.json_out).write_text(text + "\n", encoding="utf-8")
    return 0 if result["queries_agreeing"].split("/")[0] == result["queries_agreeing"].split("/")[1] else 1


if __name__ == "__main__":
    sys.exit(main())
