#!/usr/bin/env python3
"""Scaling on the task queue (issue 23): 3 ``newsmon worker``s against 1, in one run.

    python benchmarks/workers/bench.py                     # 90 sites, K=1, 6 minutes a phase (~16 min)
    python benchmarks/workers/bench.py --smoke             # 12 sites, 1 minute a phase (~3 min)
    python benchmarks/workers/bench.py --sites 90 --crawls 1 --minutes 6 --latency 1.0 2.0

1. The capacity benchmark's generated sites (``benchmarks/capacity/siteserver.py``,
   one asyncio process, a 127.100.x.y address a site) with a slow server: every
   response waits ``--latency`` seconds (default 1-2), no new articles during the run.
2. A real Redis (Debian's ``redis-server``, as the tests start it) and one real
   Elasticsearch node (the tests' integ-test-zip).
3. Phase A: 1 worker; phase B: 3 workers, each ``newsmon worker --crawls K`` in its own
   folder and process. Each phase has its own Redis database and its own fresh index,
   so both crawl the same sites from nothing (a short discarded 1-worker phase first warms
   Elasticsearch up, so phase A does not pay for its JIT). The real scheduler (``scheduler.py``,
   jitter 0) queues one run per site; the workers take them for ``--minutes``; then
   the workers are killed and the runs they finished in the window are counted.
4. Measured per phase: site runs finished (worker logs, checked against the run
   history in the index), their crawl time, pages served (the server's access log),
   CPU and peak RSS of each worker's process tree (worker + its crawl processes),
   the CPU of Redis, Elasticsearch, the site server and the whole machine, Redis
   commands and Elasticsearch operations. After both: the dispatch API's enqueue rate.

Appends the numbers to ``results.json`` (JSON lines) and rewrites ``RESULTS.md`` with
the latest run and the scaling model (``model.py``).
"""
from __future__ import annotations

import argparse
import json
import os
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
sys.path[:0] = [str(REPO), str(REPO / "tests")]

from benchmarks.capacity.bench import TreeSampler  # noqa: E402
from benchmarks.workers.model import markdown, model  # noqa: E402
from elasticsearch_node import start_node  # noqa: E402
from redis_server import start_redis  # noqa: E402
from slow_receiver import wait_for  # noqa: E402

TICK = os.sysconf("SC_CLK_TCK")
FINISHED = re.compile(r"运行 (\w+) 结束，用时 ([\d.]+) 秒：(\w+)")


def log(message: str) -> None:
    print(f"[{datetime.now():%H:%M:%S}] {message}", file=sys.stderr, flush=True)


def machine_busy() -> tuple[float, float]:
    """(busy, all) CPU seconds of the whole machine so far, from /proc/stat."""
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + fields[4]
    return (sum(fields) - idle) / TICK, sum(fields) / TICK


def tree_cpu(pid: int) -> float:
    sampler = TreeSampler(pid)
    sampler.sample()
    return sampler.cpu


def start_sites(args, tmp: Path) -> tuple[subprocess.Popen, Path, Path]:
    sites_file, access = tmp / "sites.yaml", tmp / "access.log"
    server = subprocess.Popen(
        [sys.executable, str(REPO / "benchmarks" / "capacity" / "siteserver.py"), "--sites", str(args.sites),
         "--latency", str(args.latency[0]), str(args.latency[1]), "--round-seconds", "1e9", "--new-per-round", "0",
         "--sites-file", str(sites_file), "--schedule", "every 6h", "--delay", str(args.delay),
         "--access-log", str(access)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    if not server.stdout.readline():
        raise SystemExit("the generated-sites server did not start")
    return server, sites_file, access


def es_ops(es_url: str) -> dict:
    """Operations the node has served so far (all indices: articles, claims, run history)."""
    with urllib.request.urlopen(f"{es_url}/_nodes/_local/stats/indices/indexing,get,search", timeout=30) as r:
        node = next(iter(json.loads(r.read())["nodes"].values()))["indices"]
    return {"index_ops": node["indexing"]["index_total"], "index_ms": node["indexing"]["index_time_in_millis"],
            "gets": node["get"]["total"], "searches": node["search"]["query_total"]}


def redis_ops(client) -> int:
    return int(client.info("stats")["total_commands_processed"])


@dataclass
class Worker:
    name: str
    folder: Path
    proc: subprocess.Popen
    sampler: TreeSampler | None = None

    @property
    def log(self) -> str:
        return (self.folder / "worker.log").read_text("utf-8", "replace")


def start_worker(name: str, folder: Path, env: dict, crawls: int) -> Worker:
    """``newsmon worker`` on its own "machine": its own folder, nothing shared on disk."""
    folder.mkdir(parents=True)
    with open(folder / "worker.log", "wb") as out:
        proc = subprocess.Popen([sys.executable, "-m", "crawler", "worker", "--name", name, "--crawls", str(crawls)],
                                cwd=folder, env=env, stdout=out, stderr=subprocess.STDOUT)
    return Worker(name, folder, proc)


def enqueue_with_scheduler(tmp: Path, env: dict, sites_file: Path, index_url: str, sites: int,
                           time_limit: float) -> dict:
    """The real scheduler queues one run per site (all due at once, jitter 0), then is stopped."""
    log_path = tmp / "scheduler.log"
    began = time.monotonic()
    with open(log_path, "wb") as out:
        proc = subprocess.Popen([sys.executable, str(REPO / "scheduler.py"), "--sites", str(sites_file),
                                 "--index", index_url, "--jitter", "0", "--time-limit", str(time_limit)],
                                cwd=tmp, env=env, stdout=out, stderr=subprocess.STDOUT)

    def queued() -> int:
        return len(re.findall(r"\] run \w+ queued", log_path.read_text("utf-8", "replace")))
    wait_for(lambda: queued() > 0, 180)         # AssertionError: see scheduler.log
    first = time.monotonic()
    wait_for(lambda: queued() >= sites, 180)
    last = time.monotonic()
    cpu = tree_cpu(proc.pid)
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(60)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
    return {"queued": queued(), "start_to_all_queued_s": round(last - began, 2),
            "first_to_last_queued_s": round(last - first, 2), "scheduler_cpu_s": round(cpu, 2)}


def run_phase(name: str, workers: int, args, ctx: dict, db: int, minutes: float) -> dict:
    tmp = ctx["tmp"] / name
    tmp.mkdir()
    index_url = f"{ctx['es'].url}/bench-workers-{name.lower()}-{uuid.uuid4().hex[:6]}"
    env = dict(os.environ, NEWSMON_BROKER=f"{ctx['redis'].url[:-2]}/{db}", NEWSMON_INDEX=index_url,
               NEWSMON_ALLOW_HOSTS="127.100.0.0/16", NEWSMON_CHILD_QUIET="1", PYTHONIOENCODING="utf-8",
               PYTHONPATH=str(REPO))
    log(f"phase {name}: starting {workers} worker(s), --crawls {args.crawls}")
    crew = [start_worker(f"w{i}@machine-{i}", tmp / f"machine-{i}", env, args.crawls) for i in range(1, workers + 1)]
    try:
        for w in crew:
            wait_for(lambda w=w: "就绪" in w.log or w.proc.poll() is not None, 240, 0.5)
            if w.proc.poll() is not None:
                raise SystemExit(f"{w.name} exited:\n{w.log[-3000:]}")
        for w in crew:
            w.sampler = TreeSampler(w.proc.pid, every=1.0).start()
        infra = {"redis": ctx["redis"].process.pid, "elasticsearch": ctx["es"].process.pid,
                 "site_server": ctx["server"].pid}
        cpu0 = {k: tree_cpu(pid) for k, pid in infra.items()}
        busy0, all0 = machine_busy()
        ops0, es0 = redis_ops(ctx["client"]), es_ops(ctx["es"].url)
        load0 = os.getloadavg()
        t0 = time.monotonic()
        enqueue = enqueue_with_scheduler(tmp, env, ctx["sites_file"], index_url, args.sites, args.time_limit)
        log(f"phase {name}: {enqueue['queued']} runs queued in {enqueue['start_to_all_queued_s']} s; "
            f"crawling for {minutes:g} min")
        while time.monotonic() < t0 + minutes * 60:
            dead = [w.name for w in crew if w.proc.poll() is not None]
            if dead:
                raise SystemExit(f"worker(s) died during phase {name}: {dead}")
            time.sleep(1)
        t1 = time.monotonic()
        for w in crew:
            w.sampler.sample()
            w.sampler.stop()
        cpu1 = {k: tree_cpu(pid) for k, pid in infra.items()}
        busy1, all1 = machine_busy()
        ops1, es1 = redis_ops(ctx["client"]), es_ops(ctx["es"].url)
        load1 = os.getloadavg()
        finished = [(m.group(1), float(m.group(2)), m.group(3)) for w in crew for m in FINISHED.finditer(w.log)]
        per_worker = [len(FINISHED.findall(w.log)) for w in crew]
    finally:
        for w in crew:       # the crawls die with their worker (PR_SET_PDEATHSIG)
            if w.proc.poll() is None:
                w.proc.kill()
                w.proc.wait(30)
    seconds = t1 - t0
    pages = served_pages(ctx["access"], t0, t1)
    history = run_history(index_url, {run_id for run_id, _, _ in finished})
    worker_cpu = sum(w.sampler.cpu for w in crew)
    runs = len(finished)
    pages_per_run = history["pages_fetched"] / max(1, history["runs"])
    return {
        "workers": workers, "crawls_per_worker": args.crawls, "slots": workers * args.crawls,
        "seconds": round(seconds, 1), "site_runs": runs, "site_runs_per_worker": per_worker,
        "statuses": {s: sum(1 for *_, st in finished if st == s) for s in sorted({st for *_, st in finished})},
        "site_runs_per_hour": round(runs / seconds * 3600, 1),
        "run_seconds_mean": round(statistics.mean(d for _, d, _ in finished), 1) if finished else None,
        "run_seconds_p95": round(sorted(d for _, d, _ in finished)[int(0.95 * (runs - 1))], 1) if finished else None,
        "requests_served": pages, "pages_per_s": round(pages / seconds, 2),
        # pages served / pages a finished run fetches: runs cut off at the end count in part
        "run_equivalents_per_hour": round(pages / max(1.0, pages_per_run) / seconds * 3600, 1),
        "history": history, "pages_per_run": round(pages_per_run, 1),
        "worker_cpu_s": round(worker_cpu, 1), "worker_cores": round(worker_cpu / seconds, 3),
        "worker_cpu_per_page_ms": round(1000 * worker_cpu / max(1, pages), 1),
        "worker_cpu_per_run_s": round(worker_cpu / max(1, pages) * pages_per_run, 2),
        "peak_rss_mb_per_worker": [round(w.sampler.peak_rss / 2**20) for w in crew],
        "infra_cpu_s": {k: round(cpu1[k] - cpu0[k], 1) for k in infra},
        "machine_cores_busy": round((busy1 - busy0) / (all1 - all0) * (os.cpu_count() or 1), 2),
        "load_average": [round(load0[0], 2), round(load1[0], 2)],
        "redis_commands": ops1 - ops0,
        "es_ops": {k: es1[k] - es0[k] for k in es0}, "enqueue": enqueue, "index": index_url,
    }


def served_pages(access: Path, t0: float, t1: float) -> int:
    """Requests the site server received in [t0, t1] (monotonic clock, shared by all processes),
    robots.txt left out."""
    count = 0
    for line in access.read_text("utf-8", "replace").splitlines():
        parts = line.split("\t")
        if len(parts) >= 3 and parts[1] != "/robots.txt" and t0 <= float(parts[2]) <= t1:
            count += 1
    return count


def run_history(index_url: str, run_ids: set[str]) -> dict:
    """The run documents the finished runs left in the index (the count must match the logs)."""
    from index import open_index
    from index.runs import RUN_KIND
    with open_index(index_url) as index:
        docs = [doc for _key, doc in index.state.scan(RUN_KIND) if doc["run_id"] in run_ids]
    return {"runs": len(docs), "ok": sum(d["status"] == "ok" for d in docs),
            "pages_fetched": sum(d.get("pages_fetched", 0) for d in docs),
            "articles_new": sum(d.get("articles_new", 0) for d in docs)}


def enqueue_rate(ctx: dict, index_url: str, count: int) -> dict:
    """The scheduler's side alone: ``enqueue_crawl`` (the dispatch API the scheduler's jobs
    call: it reads the sites file, sends the task and notes it in the index) ``count`` times
    into a database no worker reads, then emptied."""
    db = 3
    os.environ["NEWSMON_BROKER"] = f"{ctx['redis'].url[:-2]}/{db}"
    from crawler.queue.dispatch import enqueue_crawl
    from crawler.sites import load_sites
    names = [s.name for s in load_sites(str(ctx["sites_file"])).sites]
    enqueue_crawl(names[0], str(ctx["sites_file"]), index_url)         # connect once
    cpu0, began = time.process_time(), time.perf_counter()
    for i in range(count):
        assert enqueue_crawl(names[i % len(names)], str(ctx["sites_file"]), index_url) == "queued"
    wall, cpu = time.perf_counter() - began, time.process_time() - cpu0
    import redis
    redis.Redis.from_url(os.environ["NEWSMON_BROKER"]).flushdb()
    return {"tasks": count, "per_s": round(count / wall, 1), "cpu_ms_per_task": round(1000 * cpu / count, 2),
            "wall_ms_per_task": round(1000 * wall / count, 1),
            "sites_in_file": len(names)}


def commit() -> str:
    """The code measured: HEAD and whether the code folders differ from it (or, in an exported
    snapshot with no .git, NEWSMON_BENCH_COMMIT)."""
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True, text=True,
                              check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--", "crawler", "pipelines", "index", "monitor",
                                "scheduler.py"], cwd=REPO, capture_output=True, text=True).stdout.split("\n")
        changed = [line[3:] for line in dirty if line.strip()]
        return head + (f" + uncommitted changes in {', '.join(changed)}" if changed else "")
    except (OSError, subprocess.CalledProcessError):
        return os.environ.get("NEWSMON_BENCH_COMMIT", "unknown")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--smoke", action="store_true", help="12 sites, 1 minute a phase: does it all work?")
    ap.add_argument("--sites", type=int, default=90)
    ap.add_argument("--crawls", type=int, default=1, help="K: crawls each worker runs at once (the default 1)")
    ap.add_argument("--workers", type=int, default=3, help="workers in phase B")
    ap.add_argument("--minutes", type=float, default=6.0, help="length of each phase")
    ap.add_argument("--warmup", type=float, default=0.75,
                    help="minutes of a discarded 1-worker phase first (Elasticsearch's JIT, page caches)")
    ap.add_argument("--latency", type=float, nargs=2, default=[1.0, 2.0], metavar=("MIN", "MAX"))
    ap.add_argument("--delay", type=float, default=0.25, help="download_delay of every site")
    ap.add_argument("--time-limit", type=float, default=600.0)
    ap.add_argument("--results", default=str(HERE / "results.json"))
    ap.add_argument("--markdown", default=str(HERE / "RESULTS.md"))
    ap.add_argument("--render", metavar="RESULTS", help="only rewrite --markdown from the last line of this file")
    args = ap.parse_args(argv)
    if args.render:
        result = json.loads(Path(args.render).read_text(encoding="utf-8").strip().splitlines()[-1])
        result["model"] = model(result)
        Path(args.markdown).write_text(markdown(result), encoding="utf-8")
        return 0
    if args.smoke:
        args.sites, args.minutes, args.warmup = 12, 1.0, 0.25
    tmp = Path(tempfile.mkdtemp(prefix="newsmon-workers-"))
    log(f"work folder {tmp}; load average {os.getloadavg()[0]:.2f}")
    es = start_node(wait=False)
    redis_server = start_redis()
    server, sites_file, access = start_sites(args, tmp)
    import redis
    ctx = {"tmp": tmp, "es": es.wait_ready(), "redis": redis_server, "server": server, "sites_file": sites_file,
           "access": access, "client": redis.Redis.from_url(redis_server.url)}
    log(f"Elasticsearch {es.url}, Redis {redis_server.url}, {args.sites} sites up")
    try:
        warmup = run_phase("warmup", 1, args, ctx, db=4, minutes=args.warmup) if args.warmup else None
        phases = {"A": run_phase("A", 1, args, ctx, db=1, minutes=args.minutes),
                  "B": run_phase("B", args.workers, args, ctx, db=2, minutes=args.minutes)}
        result = {"when": datetime.now().isoformat(timespec="seconds"), "phases": phases,
                  "settings": {"sites": args.sites, "crawls": args.crawls, "minutes": args.minutes,
                               "latency": args.latency, "delay": args.delay, "time_limit": args.time_limit,
                               "es_heap": os.environ.get("NEWSMON_TEST_ES_JAVA_OPTS", "-Xms512m -Xmx512m"),
                               "cores": os.cpu_count()},
                  "enqueue_api": enqueue_rate(ctx, phases["B"]["index"], 3 * args.sites),
                  "commit": commit(),
                  "ratio": round(phases["B"]["site_runs_per_hour"] / max(0.1, phases["A"]["site_runs_per_hour"]), 2),
                  "ratio_by_pages": round(phases["B"]["run_equivalents_per_hour"]
                                          / max(0.1, phases["A"]["run_equivalents_per_hour"]), 2),
                  "warmup_site_runs": warmup and warmup["site_runs"],
                  "workdir": str(tmp)}
        result["model"] = model(result)
    finally:
        server.stdin.close()
        server.wait(30)
        redis_server.cleanup()
        es.cleanup()
    print(json.dumps(result, ensure_ascii=False, indent=1))
    with open(args.results, "a", encoding="utf-8") as f:
        f.write(json.dumps(result, ensure_ascii=False) + "\n")
    Path(args.markdown).write_text(markdown(result), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
