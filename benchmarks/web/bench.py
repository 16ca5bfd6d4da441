"""Load test of `newsmon serve` on loopback: concurrent clients searching a large index.

Example:
    python -m benchmarks.web.bench --size 100000 --clients 20 --seconds 30
    python -m benchmarks.web.bench --size 2000 --clients 5 --seconds 5     # a quick look

Steps, in one run on the same machine and the same index:
1. the corpus: ``--size`` articles of the seeded syndication generator
   (``benchmarks/dedup``: originals and their reposts, simplified and traditional)
   in an embedded index, grouped into stories by the generator's truth; kept in
   ``data/bench-web/`` and reused by later runs of the same size;
2. the request mix: for each corpus query of ``benchmarks/indexing/queries.py``,
   the JSON API (newest first and by relevance) and the HTML search page (page 1
   and page 2); each answer is checked against the library's ``search_page``;
3. baseline: the same searches as plain library calls (``search_page`` on the
   index, one thread, no HTTP, no cache) -- what the server can at best deliver
   on one core;
4. load: ``newsmon serve`` (its own process, under ``nice``), ``--clients``
   threads with keep-alive connections sending the mix for ``--seconds``,
   once with the match cache off (``--cache-seconds 0``: every request runs its
   whole search) and once with the default 30 s cache; throughput, latency
   p50/p95/p99 and errors (any non-200 or malformed answer) per run, and the
   latency of the requests sent after the first 10 s (once the cold searches
   of the start have been computed).
"""
from __future__ import annotations

import argparse
import http.client
import json
import os
import sys
import threading
import time
from pathlib import Path
from urllib.parse import urlencode, urlsplit

REPO = Path(__file__).resolve().parents[2]
sys.path[:0] = [str(REPO), str(REPO / "tests")]

from benchmarks.dedup.corpus import generate  # noqa: E402
from benchmarks.dedup.run import record_of  # noqa: E402
from benchmarks.indexing.bench import pct  # noqa: E402
from benchmarks.indexing.queries import CORPUS_QUERIES  # noqa: E402
from index import open_index, parse_query  # noqa: E402
from index.story_search import search_page  # noqa: E402

CORPUS_DIR = REPO / "data" / "bench-web"
WARM_AFTER = 10.0        # seconds: latency is also reported for requests sent after this


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def corpus(size: int, reuse: Path | None) -> Path:
    """The embedded index for ``size`` generated articles, built once and kept.

    Stories are the generator's truth (its story number and origin flag), not a
    clustering run: what is timed here is serving searches, and clustering 100k
    articles takes the best part of an hour on a shared 2-core machine
    (``benchmarks/dedup`` measures it)."""
    path = reuse or CORPUS_DIR / f"corpus-{size}.db"
    if path.exists():
        index = open_index(f"sqlite:///{path}")
        count = index.count_articles()
        index.close()
        if count != size:
            raise SystemExit(f"{path} holds {count} articles, not {size}: remove it or pass --reuse")
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".partial")
    partial.unlink(missing_ok=True)
    log(f"writing {size:,} generated articles into {path} (once) ...")
    index = open_index(f"sqlite:///{partial}")
    for n, article in enumerate(generate(size, seed=7), 1):
        record = record_of(article)
        record.story_id, record.canonical = f"s-{article.story:08d}", article.origin
        index.upsert_article(record)
        if n % 20_000 == 0:
            log(f"  {n:,}")
    index.close()
    partial.rename(path)
    return path


def request_mix() -> list[dict]:
    """Each corpus query as four requests: API by date, API by relevance, HTML page 1 and 2."""
    mix = []
    for text, filters in CORPUS_QUERIES:
        params = [("q", text)] + [("site", s) for s in filters.get("sites", [])]
        params += [(k, filters[k]) for k in ("since", "until") if k in filters]
        search = {"text": text, "sites": filters.get("sites"), "since": filters.get("since"),
                  "until": filters.get("until")}
        mix.append({**search, "kind": "api", "sort": "date", "offset": 0,
                    "path": "/api/search?" + urlencode(params + [("limit", 20)])})
        mix.append({**search, "kind": "api", "sort": "relevance", "offset": 0,
                    "path": "/api/search?" + urlencode(params + [("limit", 20), ("sort", "relevance")])})
        mix.append({**search, "kind": "html", "sort": "date", "offset": 0, "path": "/?" + urlencode(params)})
        mix.append({**search, "kind": "html", "sort": "date", "offset": 20,
                    "path": "/?" + urlencode(params + [("page", 2)])})
    return mix


def library_page(index, item: dict):
    return search_page(index, parse_query(item["text"]), sites=item["sites"], since=item["since"],
                       until=item["until"], sort=item["sort"], offset=item["offset"], limit=20)


def baseline(index_path: Path, mix: list[dict], seconds: float) -> tuple[dict, dict]:
    """Library calls in a loop for ``seconds``; also returns each request's expected answer."""
    index = open_index(f"sqlite:///{index_path}")
    expected = {item["path"]: library_page(index, item) for item in mix}      # warm-up and answers
    times, deadline, n = [], time.monotonic() + seconds, 0
    while time.monotonic() < deadline:
        item = mix[n % len(mix)]
        started = time.perf_counter()
        library_page(index, item)
        times.append((time.perf_counter() - started) * 1000)
        n += 1
    index.close()
    return summary(times, seconds, 0), expected


def summary(times_ms: list[float], seconds: float, errors: int) -> dict:
    return {"requests": len(times_ms), "per_s": round(len(times_ms) / seconds, 1), "errors": errors,
            "ms": {"p50": round(pct(times_ms, 50), 1), "p95": round(pct(times_ms, 95), 1),
                   "p99": round(pct(times_ms, 99), 1)}} if times_ms else {"requests": 0, "errors": errors}


def check(item: dict, status: int, body: bytes, expected) -> str | None:
    """Why an answer is wrong, or None."""
    if status != 200:
        return f"HTTP {status}"
    if item["kind"] == "api":
        answer = json.loads(body)
        if answer["total"] != expected.total or answer["stories"] != expected.stories:
            return "API answer differs from search_page"
    else:
        page = body.decode("utf-8")
        if f"共 <strong>{expected.total}</strong> 条报道" not in page and expected.total:
            return "HTML page lacks the total"
        if any(f"/story/{s['story_id']}?" not in page for s in expected.stories):
            return "HTML page lacks a story"
    return None


def load(base: str, mix: list[dict], expected: dict, clients: int, seconds: float) -> dict:
    host, port = urlsplit(base).hostname, urlsplit(base).port
    times: dict[str, list[float]] = {"api": [], "html": []}
    warm: list[float] = []           # requests sent after the first WARM_AFTER seconds
    errors: list[str] = []
    lock = threading.Lock()
    start = threading.Barrier(clients + 1)

    def client(number: int) -> None:
        conn = http.client.HTTPConnection(host, port, timeout=120)
        mine: dict[str, list[float]] = {"api": [], "html": []}
        mine_warm: list[float] = []
        wrong: list[str] = []
        start.wait()
        began = time.monotonic()
        deadline = began + seconds
        n = number * 7
        while time.monotonic() < deadline:
            item = mix[n % len(mix)]
            n += 1
            is_warm = time.monotonic() - began >= WARM_AFTER
            started = time.perf_counter()
            try:
                conn.request("GET", item["path"])
                response = conn.getresponse()
                body = response.read()
                elapsed = (time.perf_counter() - started) * 1000
                problem = check(item, response.status, body, expected[item["path"]])
            except (OSError, http.client.HTTPException, ValueError) as exc:
                problem, elapsed = f"{type(exc).__name__}: {exc}", None
                conn.close()
                conn = http.client.HTTPConnection(host, port, timeout=120)
            if problem:
                wrong.append(f"{item['path']}: {problem}")
            elif elapsed is not None:
                mine[item["kind"]].append(elapsed)
                if is_warm:
                    mine_warm.append(elapsed)
        conn.close()
        with lock:
            for kind in mine:
                times[kind] += mine[kind]
            warm.extend(mine_warm)
            errors.extend(wrong)

    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    for thread in threads:
        thread.start()
    start.wait()
    began = time.monotonic()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - began       # the last requests finish after the deadline
    for problem in errors[:5]:
        log(f"  error: {problem}")
    result = summary(times["api"] + times["html"], elapsed, len(errors))
    result["api_ms_p95"] = round(pct(times["api"], 95), 1) if times["api"] else None
    result["html_ms_p95"] = round(pct(times["html"], 95), 1) if times["html"] else None
    result[f"after_first_{WARM_AFTER:.0f}s"] = summary(warm, seconds - WARM_AFTER, 0)
    return result


def run(args: argparse.Namespace) -> dict:
    from web_server import serving
    path = corpus(args.size, args.reuse)
    mix = request_mix()
    log(f"baseline: library search_page, one thread, {args.baseline_seconds:.0f} s ...")
    library, expected = baseline(path, mix, args.baseline_seconds)
    result = {"articles": args.size, "clients": args.clients, "seconds": args.seconds,
              "requests_in_mix": len(mix), "library_one_thread": library}
    for cache in (0, 30):
        log(f"load: {args.clients} clients x {args.seconds:.0f} s, --cache-seconds {cache} ...")
        with serving(f"sqlite:///{path}", "--cache-seconds", str(cache), nice=args.nice) as base:
            result[f"server_cache_{cache}s"] = load(base, mix, expected, args.clients, args.seconds)
        log(f"  {json.dumps(result[f'server_cache_{cache}s'])}")
    result["ratio_server_no_cache_vs_library"] = round(
        result["server_cache_0s"]["per_s"] / library["per_s"], 2) if library["per_s"] else None
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", type=int, default=int(os.environ.get("SIZE", 100_000)))
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--baseline-seconds", type=float, default=30.0)
    parser.add_argument("--reuse", type=Path, help="an embedded index of this size (default: data/bench-web/)")
    parser.add_argument("--nice", type=int, default=10, help="niceness of the server (the machine is shared)")
    parser.add_argument("--json", dest="json_out", help="also write the result to this file")
    args = parser.parse_args(argv)
    result = run(args)
    text = json.dumps(result, ensure_ascii=False, indent=2)
    print(text)
    if args.json_out:
        Path(args.json_out).write_text(text + "\n", encoding="utf-8")
    errors = sum(v.get("errors", 0) for k, v in result.items() if k.startswith("server_"))
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
