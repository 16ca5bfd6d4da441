"""Search at scale: the embedded index (SQLite) against Elasticsearch on the same
generated corpus and the same queries, one thread and behind ``newsmon serve``.

Example:
    python -m benchmarks.search_scale.bench --size 100000
    python -m benchmarks.search_scale.bench --size 2000 --repeat 3 --seconds 5    # a quick look

Steps, in one run on the same machine:
1. the corpus: ``--size`` articles of the seeded syndication generator
   (``benchmarks/dedup``; county government news, simplified and traditional),
   grouped into stories by the generator's truth, in an embedded index kept in
   ``data/bench-web/corpus-<size>.db`` (``benchmarks/web`` builds and reuses the
   same file); the same records, as the documents ``ElasticsearchIndex`` stores,
   are bulk-written into Elasticsearch (a node started here, heap from
   ``NEWSMON_TEST_ES_JAVA_OPTS``, or ``--es-url``, where an index already holding
   the corpus is reused);
2. one thread, per query of ``benchmarks/indexing/queries.py``'s
   ``CORPUS_QUERIES``: ``search_page`` (the page of 20 plus the exact total, what
   the web UI and ``--json-total`` show) ``--repeat`` times after a warm-up, on
   SQLite as it is, on SQLite with the search module of ``--before`` (the
   commit before issue 22's search work: same file, same connection), and on
   Elasticsearch; totals and stories must be equal on all three;
3. ``newsmon serve`` on each backend, ``--clients`` threads for ``--seconds``,
   the request mix of ``benchmarks/web`` (API and HTML, date and relevance, page
   1 and 2, every answer checked against the library), with the match cache off
   and on;
4. disk per article (SQLite file, Elasticsearch store) and the server's peak RSS.
"""
from __future__ import annotations

import argparse
import importlib.util
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path[:0] = [str(REPO), str(REPO / "tests")]

from benchmarks.indexing.bench import pct  # noqa: E402
from benchmarks.indexing.queries import CORPUS_QUERIES  # noqa: E402
from benchmarks.web.bench import corpus, load, request_mix  # noqa: E402
from index import open_index, parse_query  # noqa: E402
from index.story_search import search_page  # noqa: E402

BEFORE = "fac07e0"          # the commit before exact tokens (candidates verified on their texts)
ES_PREFIX = "scale"          # + the size: one index per corpus on a reused node


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _module_at(revision: str, path: str, name: str, replace: tuple[str, str] = ("", "")):
    source = subprocess.run(["git", "show", f"{revision}:{path}"], cwd=REPO,
                            check=True, capture_output=True, text=True).stdout
    file = Path(tempfile.mkdtemp(prefix="newsmon-before-")) / f"{name}.py"
    file.write_text(source.replace(*replace), encoding="utf-8")
    spec = importlib.util.spec_from_file_location(name, file)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


class _BeforeSearch:
    """An open SQLite index answering ``match_stories`` with another commit's
    ``index/sqlite/search.py`` and ``fts.py`` (its queries read the same tables; on
    the exact tokens its FTS5 phrases find the true matches and fewer others, and
    it still checks every candidate's text), for ``search_page``."""

    def __init__(self, index, revision: str):
        _module_at(revision, "index/sqlite/fts.py", "before_fts")
        self.module = _module_at(revision, "index/sqlite/search.py", "before_search",
                                 ("from index.sqlite.fts import", "from before_fts import"))
        self.index = index

    def match_stories(self, query, scores=True, **filters):
        return self.module.match_stories(self.index._conn, self.index._lock, query, **filters)

    def story_copies(self, story_id):
        return self.index.story_copies(story_id)


def corpus_records(sqlite):
    """Every article of the embedded index as a record, streamed in rowid order
    (keyset pages of the rows: a million records do not fit in memory at once)."""
    from index.sqlite.backend import _RECORD_COLUMNS
    after = 0
    while True:
        with sqlite._lock:
            rows = sqlite._conn.execute(f"SELECT {_RECORD_COLUMNS} FROM articles WHERE rowid > ? "
                                        "ORDER BY rowid LIMIT 2000", (after,)).fetchall()
        if not rows:
            return
        yield from (sqlite._record(row) for row in rows)
        after = rows[-1][0]


def elasticsearch_copy(es_url: str, sqlite, size: int):
    """The corpus in Elasticsearch, written once per node and reused: the documents
    ``ElasticsearchIndex`` stores (``article_doc`` with each story's date), sent with
    ``streaming_bulk`` with refresh off until the end (the backend's own write path
    asks the node about stories whose canonical copy it has not seen yet, which on
    this shared machine ran at ~100 articles/s)."""
    from elasticsearch import Elasticsearch, helpers
    from index.elasticsearch.mapping import alias_name, article_doc, ensure_indices
    prefix = f"{ES_PREFIX}-{size}"
    client = Elasticsearch(es_url, request_timeout=600)
    try:
        articles = alias_name(prefix, "articles")
        stored = client.indices.get_alias(name=articles) if client.indices.exists_alias(name=articles) else {}
        ensure_indices(client, prefix)      # a reused index of an older mapping is upgraded here
        if stored and client.indices.get_alias(name=articles).keys() != stored.keys():
            log("  upgraded: merged into one segment like a fresh copy, so the numbers compare")
            client.indices.forcemerge(index=articles, max_num_segments=1, request_timeout=3600)
        if client.count(index=articles)["count"] != size:
            log(f"writing {size:,} articles into Elasticsearch ...")
            started = time.perf_counter()
            with sqlite._lock:
                story_date = dict(sqlite._conn.execute(
                    "SELECT story_id, sort_date FROM search_keys WHERE canonical = 1").fetchall())
            actions = ({"_index": articles, "_id": r.id, "_source": article_doc(r, story_date.get(r.story_id))}
                       for r in corpus_records(sqlite))
            client.indices.put_settings(index=articles, settings={"refresh_interval": "-1"})
            for n, _ in enumerate(helpers.streaming_bulk(client, actions, chunk_size=1000,
                                                         max_chunk_bytes=20 * 1024 * 1024), 1):
                if n % 50_000 == 0:
                    log(f"  {n:,} ({n / (time.perf_counter() - started):,.0f}/s)")
            client.indices.put_settings(index=articles, settings={"refresh_interval": "1s"})
            client.indices.refresh(index=articles)
            client.indices.forcemerge(index=articles, max_num_segments=1, request_timeout=3600)
            log(f"  {size / (time.perf_counter() - started):,.0f} articles/s")
    finally:
        client.close()
    index = open_index(f"{es_url}/{prefix}")
    if index.count_articles() != size:
        raise SystemExit(f"Elasticsearch holds {index.count_articles()} articles, not {size}")
    return index


def process_cpu_s(pid: int) -> float:
    """User + system CPU seconds a process has used (/proc/<pid>/stat)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def one_thread(sides: dict, repeat: int, node_pid: int | None = None) -> tuple[dict, dict, list[str], dict]:
    """search_page latency per query and side, the same of all queries' runs together
    (what a user of the mix sees), the disagreements between sides, and the CPU time
    of each run (this process's, plus the Elasticsearch node's for that side: on a
    shared machine CPU time is far less disturbed by the other jobs than wall time)."""
    result, disagree = {}, []
    every: dict[str, list[float]] = {side: [] for side in sides}
    cpu: dict[str, list[float]] = {side: [] for side in sides}
    for text, filters in CORPUS_QUERIES:
        query = parse_query(text)
        search = {k: filters[k] for k in ("sites", "since", "until") if k in filters}
        label = text + "".join(f" {k}={v}" for k, v in search.items())
        row, answers = {}, {}
        for side, index in sides.items():
            node = node_pid if side == "elasticsearch" else None
            answers[side] = search_page(index, query, **search).as_dict()     # warm-up and the answer
            times = []
            for _ in range(repeat):
                started, started_cpu = time.perf_counter(), time.process_time()
                node_cpu = process_cpu_s(node) if node else 0.0
                search_page(index, query, **search)
                times.append((time.perf_counter() - started) * 1000)
                cpu[side].append((time.process_time() - started_cpu
                                  + (process_cpu_s(node) - node_cpu if node else 0.0)) * 1000)
            row[side] = times
            every[side] += times
        first = next(iter(answers.values()))
        disagree += [f"{label}: {side}" for side, answer in answers.items() if answer != first]
        result[label] = {"total": first["total"], **{side: summary(t) for side, t in row.items()}}
        log(f"  {label}: total {first['total']}, " + ", ".join(
            f"{side} p50 {result[label][side]['p50']} ms" for side in sides))
    return (result, {side: summary(times) for side, times in every.items()}, disagree,
            {side: summary(times) for side, times in cpu.items()})


def summary(times_ms: list[float]) -> dict:
    return {"p50": round(pct(times_ms, 50), 1), "p95": round(pct(times_ms, 95), 1),
            "p99": round(pct(times_ms, 99), 1)}


def memory_kib(pid: int) -> dict:
    """Resident memory of a process now and at its peak (kB, /proc)."""
    status = Path(f"/proc/{pid}/status").read_text()
    return {key: int(line.split()[1]) for line in status.splitlines()
            for key in ("VmRSS", "VmHWM") if line.startswith(key + ":")}


def _server_pid() -> int:
    """``newsmon serve``, the one child process of this one (``nice`` execs it)."""
    mine = str(os.getpid())
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if fields[1] == mine and "serve" in (stat.parent / "cmdline").read_bytes().decode(errors="replace"):
            return int(stat.parent.name)
    raise RuntimeError("newsmon serve is not a child of this process")


def served(index_url: str, mix: list[dict], expected: dict, args) -> dict:
    from web_server import serving
    out = {}
    for cache in (0, 30):
        log(f"  {index_url.split(':')[0]}: {args.clients} clients x {args.seconds:.0f} s, --cache-seconds {cache}")
        with serving(index_url, "--cache-seconds", str(cache), nice=args.nice,
                     NEWSMON_ES_SPOOL_DIR=os.environ["NEWSMON_ES_SPOOL_DIR"]) as base:
            out[f"cache_{cache}s"] = load(base, mix, expected, args.clients, args.seconds)
            out[f"cache_{cache}s"]["server_memory_kib"] = memory_kib(_server_pid())
        log(f"    {json.dumps(out[f'cache_{cache}s'])}")
    return out


def es_node_pid(es_url: str) -> int | None:
    """The node's process id when it runs on this machine (its CPU time is read from /proc)."""
    from elasticsearch import Elasticsearch
    client = Elasticsearch(es_url, request_timeout=60)
    try:
        pid = next(iter(client.nodes.info(metric="process")["nodes"].values()))["process"]["id"]
        return pid if Path(f"/proc/{pid}/stat").exists() else None
    finally:
        client.close()


def es_memory(es_url: str) -> dict:
    """The node's JVM heap in use and its process's resident memory (peak too)."""
    from elasticsearch import Elasticsearch
    client = Elasticsearch(es_url, request_timeout=60)
    try:
        node = next(iter(client.nodes.stats(metric="jvm")["nodes"].values()))
        pid = next(iter(client.nodes.info(metric="process")["nodes"].values()))["process"]["id"]
        return {"heap_used_kib": node["jvm"]["mem"]["heap_used_in_bytes"] // 1024,
                "heap_max_kib": node["jvm"]["mem"]["heap_max_in_bytes"] // 1024, **memory_kib(pid)}
    finally:
        client.close()


def es_store_bytes(es_url: str, size: int) -> int:
    from elasticsearch import Elasticsearch
    client = Elasticsearch(es_url, request_timeout=60)
    try:
        stats = client.indices.stats(index=f"{ES_PREFIX}-{size}-*", metric="store")
        return stats["_all"]["primaries"]["store"]["size_in_bytes"]
    finally:
        client.close()


def checkpoint(result: dict, args) -> None:
    """What is measured so far, in ``--json`` (a long run cut short keeps its phases)."""
    if args.json_out:
        Path(args.json_out).write_text(json.dumps(result, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")


def run(args: argparse.Namespace) -> dict:
    workdir = Path(tempfile.mkdtemp(prefix="newsmon-scale-"))
    os.environ.setdefault("NEWSMON_ES_SPOOL_DIR", str(workdir / "spool"))
    path = corpus(args.size, args.reuse)
    sqlite = open_index(f"sqlite:///{path}")            # an older file is upgraded here (search_keys)
    node = None
    if not args.es_url:
        from elasticsearch_node import start_node
        log("starting Elasticsearch ...")
        node = start_node()
    es_url = args.es_url or node.url
    try:
        es = elasticsearch_copy(es_url, sqlite, args.size)
        result = {"articles": args.size, "before": args.before,
                  "disk_bytes_per_article": {"sqlite": round(path.stat().st_size / args.size),
                                             "elasticsearch": round(es_store_bytes(es_url, args.size) / args.size)}}
        sides = {"sqlite": sqlite, "sqlite_before": _BeforeSearch(sqlite, args.before), "elasticsearch": es}
        if args.no_before:
            del sides["sqlite_before"]
        log(f"one thread, search_page x {args.repeat} per query ...")
        result["one_thread_ms"], result["one_thread_pooled_ms"], disagree, result["one_thread_cpu_ms"] = one_thread(
            sides, args.repeat, es_node_pid(es_url))
        result["disagreements"] = disagree
        result["one_thread_memory_kib"] = {"sqlite_bench_process": memory_kib(os.getpid()),
                                           "elasticsearch_node": es_memory(es_url)}
        checkpoint(result, args)
        for problem in disagree:
            log(f"  disagree: {problem}")
        if args.seconds > 0:
            mix = request_mix()
            expected, mix_ms = {}, {side: [] for side in ("sqlite", "elasticsearch")}
            for item in mix:        # the mix as library calls, one thread: what the server is compared with
                answers = {}
                for side, index in (("sqlite", sqlite), ("elasticsearch", es)):
                    started = time.perf_counter()
                    answers[side] = search_page(
                        index, parse_query(item["text"]), sites=item["sites"], since=item["since"],
                        until=item["until"], sort=item["sort"], offset=item["offset"], limit=20)
                    mix_ms[side].append((time.perf_counter() - started) * 1000)
                expected[item["path"]] = answers["sqlite"]
                if answers["sqlite"].as_dict() != answers["elasticsearch"].as_dict():
                    result["disagreements"].append(f"mix {item['path']}: elasticsearch")
            result["one_thread_mix_ms"] = {side: summary(times) for side, times in mix_ms.items()}
            es.flush()
            result["server"] = {"sqlite": served(f"sqlite:///{path}", mix, expected, args)}
            checkpoint(result, args)
            result["server"]["elasticsearch"] = served(f"{es_url}/{ES_PREFIX}-{args.size}", mix, expected, args)
            result["server"]["elasticsearch"]["node_memory_kib"] = es_memory(es_url)
        ratios = {}
        pooled_ms = result["one_thread_pooled_ms"]
        ratios["sqlite_p95_vs_elasticsearch_p95"] = round(pooled_ms["sqlite"]["p95"] / pooled_ms["elasticsearch"]["p95"], 2)
        cpu_ms = result["one_thread_cpu_ms"]
        ratios["sqlite_cpu_p95_vs_elasticsearch_cpu_p95"] = round(cpu_ms["sqlite"]["p95"] / cpu_ms["elasticsearch"]["p95"], 2)
        if "sqlite_before" in pooled_ms:
            ratios["sqlite_p95_vs_before_p95"] = round(pooled_ms["sqlite"]["p95"] / pooled_ms["sqlite_before"]["p95"], 2)
        if "server" in result:
            for backend in ("sqlite", "elasticsearch"):
                server_p95 = result["server"][backend]["cache_0s"]["ms"]["p95"]
                ratios[f"{backend}_server_no_cache_p95_vs_one_thread_p95"] = round(server_p95 / pooled_ms[backend]["p95"], 2)
                ratios[f"{backend}_server_no_cache_p95_vs_one_thread_mix_p95"] = round(
                    server_p95 / result["one_thread_mix_ms"][backend]["p95"], 2)
        result["ratios"] = ratios
        es.close()
        return result
    finally:
        sqlite.close()
        if node is not None:
            node.cleanup()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", type=int, default=int(os.environ.get("SIZE", 100_000)))
    parser.add_argument("--repeat", type=int, default=5, help="timed runs of each query, one thread")
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=30.0, help="per server run; 0 skips the server runs")
    parser.add_argument("--es-url", help="use this node instead of starting one")
    parser.add_argument("--reuse", type=Path, help="an embedded index of this size (default: data/bench-web/)")
    parser.add_argument("--before", default=BEFORE, help="the commit whose SQLite search module is the 'before'")
    parser.add_argument("--no-before", action="store_true", help="skip the 'before' side (it reads every candidate)")
    parser.add_argument("--nice", type=int, default=0, help="niceness of the server added to this process's "
                        "(0: the same as the one-thread side it is compared with)")
    parser.add_argument("--json", dest="json_out", help="also write the result to this file")
    args = parser.parse_args(argv)
    result = run(args)
    text = json.dumps(result, ensure_ascii=False, indent=2)
    print(text)
    if args.json_out:
        Path(args.json_out).write_text(text + "\n", encoding="utf-8")
    errors = sum(run["errors"] for backend in result.get("server", {}).values() for run in backend.values()
                 if "errors" in run)
    return 1 if errors or result["disagreements"] else 0


if __name__ == "__main__":
    sys.exit(main())
