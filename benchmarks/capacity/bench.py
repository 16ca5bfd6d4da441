#!/usr/bin/env python3
"""Capacity of one machine: N generated sites crawled once by newsmon and by the peer, then the real scheduler.

    python benchmarks/capacity/bench.py                # 1,000 sites, every 30m, 60 minutes of scheduler
    python benchmarks/capacity/bench.py --quick        # 200 sites, every 3m, 8 minutes of scheduler
    python benchmarks/capacity/bench.py --sites 1000 --schedule "every 30m" --minutes 60 \
        --round-seconds 1800 --max-crawls 100 --sites-per-process 50

1. ``siteserver.py`` serves the sites (one asyncio process, one 127.100.x.y address
   each, 50-300 ms per response, ``--new-per-round`` new articles per site every
   ``--round-seconds``).
2. Burst, newsmon (``burst.py``): every site crawled once through the scheduler's
   crawl pool (same processes x sites per process, same politeness), all handed
   over at once: bound by capacity. Into the SQLite index the scheduler then uses.
3. Burst, the peer (``peer.py``: bare Scrapy + trafilatura, same politeness): the
   same sites once, alone on the machine.
4. ``python scheduler.py`` for ``--minutes`` on the same index (its sites crawled
   once: the steady state), sites' phases spread over the interval; the run
   history gives site runs, pages, new articles and the scheduling lag (start -
   due); the process tree (scheduler + crawl processes) is sampled for RSS and CPU.

The fetch rates compared are the two bursts' pages/s. Writes ``RESULTS.md``
(``--markdown``), appends to ``results.json`` and prints the numbers as JSON;
``progress.json`` in the work folder holds each phase's numbers as soon as it ends.
"""
from __future__ import annotations

import argparse
import json
import os
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
TICK = os.sysconf("SC_CLK_TCK")
PAGE = os.sysconf("SC_PAGE_SIZE")


class TreeSampler:
    """Peak RSS and CPU seconds of a process and all its descendants (from /proc)."""

    def __init__(self, pid: int, every: float = 2.0):
        self.pid, self.every = pid, every
        self.peak_rss = 0
        self.peak_processes = 0
        self.cpu = 0.0
        self.loads: list[float] = []        # the machine's 1-minute load average, every sample
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self) -> "TreeSampler":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._stop.wait(self.every):
            self.sample()

    def sample(self) -> None:
        stats = {}
        for entry in os.listdir("/proc"):
            if entry.isdigit():
                try:
                    raw = Path(f"/proc/{entry}/stat").read_text()
                except OSError:
                    continue
                fields = raw[raw.rindex(")") + 2:].split()
                stats[int(entry)] = fields
        tree, todo = set(), [self.pid]
        while todo:
            pid = todo.pop()
            tree.add(pid)
            todo += [p for p, f in stats.items() if int(f[1]) == pid and p not in tree]
        rss = sum(int(stats[p][21]) * PAGE for p in tree if p in stats)
        # live processes' own CPU, plus what the root has reaped from children that ended
        cpu = sum(int(stats[p][11]) + int(stats[p][12]) for p in tree if p in stats)
        if self.pid in stats:
            cpu += int(stats[self.pid][13]) + int(stats[self.pid][14])
        self.loads.append(os.getloadavg()[0])
        self.peak_rss = max(self.peak_rss, rss)
        self.peak_processes = max(self.peak_processes, len(tree))
        self.cpu = max(self.cpu, cpu / TICK)

    def numbers(self, seconds: float) -> dict:
        loads = self.loads or [os.getloadavg()[0]]
        return {"peak_rss_mb": round(self.peak_rss / 2**20), "peak_processes": self.peak_processes,
                "cpu_seconds": round(self.cpu), "cores_used": round(self.cpu / seconds, 2),
                "load_min": round(min(loads), 1), "load_mean": round(sum(loads) / len(loads), 1),
                "load_max": round(max(loads), 1)}


def start_server(args, tmp: Path) -> tuple[subprocess.Popen, Path]:
    sites_file = tmp / "sites.yaml"
    server = subprocess.Popen(
        [sys.executable, str(HERE / "siteserver.py"), "--sites", str(args.sites), "--sites-file", str(sites_file),
         "--schedule", args.schedule, "--round-seconds", str(args.round_seconds), "--delay", str(args.delay),
         "--new-per-round", str(args.new_per_round), "--initial", str(args.initial)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    if not server.stdout.readline():
        raise SystemExit("the generated-sites server did not start")
    return server, sites_file


def newsmon_env() -> dict:
    return dict(os.environ, NEWSMON_ALLOW_HOSTS="127.100.0.0/16", NEWSMON_CHILD_QUIET="1", PYTHONIOENCODING="utf-8")


def run_burst(args, tmp: Path, sites_file: Path) -> dict:
    """newsmon crawls every site once through the crawl pool (``burst.py``)."""
    proc = subprocess.Popen([sys.executable, str(HERE / "burst.py"), str(sites_file), f"sqlite:///{tmp}/newsmon.db",
                             "--max-crawls", str(args.max_crawls), "--sites-per-process", str(args.sites_per_process),
                             "--time-limit", str(args.time_limit)],
                            cwd=REPO, env=newsmon_env(), stdout=subprocess.PIPE,
                            stderr=open(tmp / "burst.log", "w", encoding="utf-8"), text=True)
    sampler = TreeSampler(proc.pid).start()
    out, _ = proc.communicate()
    sampler.stop()
    if proc.returncode != 0:
        raise SystemExit(f"newsmon's burst failed ({proc.returncode}): see {tmp / 'burst.log'}")
    result = json.loads(out.strip().splitlines()[-1])
    result.update(pages_per_s=round(result["pages"] / result["seconds"], 2), **sampler.numbers(result["seconds"]))
    return result


def run_newsmon(args, tmp: Path, sites_file: Path) -> dict:
    """The real scheduler for ``--minutes`` on the index the burst left."""
    index = f"sqlite:///{tmp}/newsmon.db"
    log = open(tmp / "scheduler.log", "w", encoding="utf-8")
    began = time.time()
    proc = subprocess.Popen([sys.executable, "scheduler.py", "--sites", str(sites_file), "--index", index,
                             "--max-crawls", str(args.max_crawls), "--sites-per-process", str(args.sites_per_process),
                             "--time-limit", str(args.time_limit)],
                            cwd=REPO, env=newsmon_env(), stdout=log, stderr=subprocess.STDOUT)
    sampler = TreeSampler(proc.pid).start()
    deadline = time.monotonic() + args.minutes * 60
    while time.monotonic() < deadline and proc.poll() is None:
        time.sleep(1)
    sampler.sample()
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=120)
    except subprocess.TimeoutExpired:
        proc.kill()
    sampler.stop()
    ended = time.time()
    return summarize(f"{tmp}/newsmon.db", began, ended, sampler, args)


def _ts(text: str) -> float:
    return datetime.fromisoformat(text).timestamp()


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))]


def summarize(db: str, began: float, ended: float, sampler: TreeSampler, args) -> dict:
    """The scheduled phase's numbers, from its runs in the history (the burst's are "manual")."""
    with sqlite3.connect(db) as conn:
        runs = [json.loads(row[0]) for row in conn.execute("SELECT doc FROM state WHERE kind = 'run'")]
    runs = [r for r in runs if r.get("trigger") == "scheduled"]
    done = [r for r in runs if r["status"] not in ("missed", "skipped", "stopped")]
    lags = [_ts(r["started"]) - _ts(r["scheduled_for"]) for r in runs
            if r.get("scheduled_for") and r["status"] not in ("missed", "skipped")]
    seconds = ended - began
    statuses: dict[str, int] = {}
    for r in runs:
        statuses[r["status"]] = statuses.get(r["status"], 0) + 1
    pages = sum(r.get("pages_fetched", 0) for r in runs)
    new = sum(r.get("articles_new", 0) for r in runs)
    # Runs started per minute of the phase: an even schedule keeps this flat
    per_minute: dict[int, int] = {}
    for r in runs:
        if r["status"] not in ("missed", "skipped"):
            minute = int((_ts(r["started"]) - began) // 60)
            per_minute[minute] = per_minute.get(minute, 0) + 1
    counts = [per_minute.get(m, 0) for m in range(int(seconds // 60))]
    return {
        "sites": args.sites, "schedule": args.schedule, "minutes": round(seconds / 60, 1),
        "site_runs": len(done), "site_runs_per_hour": round(len(done) / (seconds / 3600), 1), "statuses": statuses,
        "pages": pages, "pages_per_s": round(pages / seconds, 2),
        "new_articles": new, "new_articles_per_s": round(new / seconds, 3),
        "lag_p50_s": round(pct(lags, 0.5), 1), "lag_p95_s": round(pct(lags, 0.95), 1),
        "lag_max_s": round(max(lags), 1) if lags else None,
        "runs_started_per_minute_p50_max": [pct(counts, 0.5), max(counts)] if counts else None,
        **sampler.numbers(seconds),
    }


def run_peer(args, tmp: Path, sites_file: Path) -> dict:
    proc = subprocess.Popen([sys.executable, str(HERE / "peer.py"), str(sites_file), str(tmp / "peer.jsonl"),
                             "--delay", str(args.delay), "--minutes", str(args.minutes)],
                            stdout=subprocess.PIPE, stderr=open(tmp / "peer.log", "w"), text=True)
    sampler = TreeSampler(proc.pid).start()
    out, _ = proc.communicate()
    sampler.stop()
    result = json.loads(out.strip().splitlines()[-1])
    result.update(pages_per_s=round(result["pages"] / result["seconds"], 2), **sampler.numbers(result["seconds"]))
    return result


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="200 sites, every 3m, 8 minutes")
    ap.add_argument("--sites", type=int, default=1000)
    ap.add_argument("--schedule", default="every 30m")
    ap.add_argument("--minutes", type=float, default=60.0)
    ap.add_argument("--round-seconds", type=float, default=1800.0, help="new articles appear this often")
    ap.add_argument("--new-per-round", type=int, default=3)
    ap.add_argument("--initial", type=int, default=30)
    ap.add_argument("--delay", type=float, default=0.25)
    ap.add_argument("--max-crawls", type=int, default=100)
    ap.add_argument("--sites-per-process", type=int, default=50)
    ap.add_argument("--time-limit", type=float, default=900.0)
    ap.add_argument("--no-peer", action="store_true")
    ap.add_argument("--results", default=str(HERE / "results.json"), help="append the numbers here (JSON lines)")
    ap.add_argument("--markdown", default=str(HERE / "RESULTS.md"), help="the latest run, as a table")
    ap.add_argument("--render", help="only write --markdown from the last line of this results file")
    args = ap.parse_args(argv)
    if args.render:
        last = Path(args.render).read_text(encoding="utf-8").strip().splitlines()[-1]
        Path(args.markdown).write_text(markdown(json.loads(last)), encoding="utf-8")
        return 0
    if args.quick:
        args.sites, args.schedule, args.minutes, args.round_seconds = 200, "every 3m", 8.0, 180.0
    tmp = Path(tempfile.mkdtemp(prefix="newsmon-capacity-"))
    print(f"work folder: {tmp}", file=sys.stderr, flush=True)
    result = {"when": datetime.now().isoformat(timespec="seconds"), "workdir": str(tmp), "settings": {
        "sites": args.sites, "schedule": args.schedule, "minutes": args.minutes, "max_crawls": args.max_crawls,
        "sites_per_process": args.sites_per_process, "delay": args.delay, "initial_articles": args.initial,
        "new_per_round": args.new_per_round, "round_seconds": args.round_seconds}}

    def phase(name: str, numbers: dict) -> None:
        result[name] = numbers
        (tmp / "progress.json").write_text(json.dumps(result, ensure_ascii=False, indent=1), encoding="utf-8")
        print(f"{name}: {json.dumps(numbers, ensure_ascii=False)}", file=sys.stderr, flush=True)

    server, sites_file = start_server(args, tmp)
    try:
        phase("burst", run_burst(args, tmp, sites_file))
        if not args.no_peer:
            phase("peer", run_peer(args, tmp, sites_file))
            result["fetch_ratio"] = round(result["burst"]["pages_per_s"] / result["peer"]["pages_per_s"], 2)
        phase("newsmon", run_newsmon(args, tmp, sites_file))
    finally:
        server.stdin.close()
        server.wait(timeout=30)
    print(json.dumps(result, ensure_ascii=False, indent=1))
    with open(args.results, "a", encoding="utf-8") as f:
        f.write(json.dumps(result, ensure_ascii=False) + "\n")
    Path(args.markdown).write_text(markdown(result), encoding="utf-8")
    return 0


def markdown(result: dict) -> str:
    """RESULTS.md: the run's numbers, newsmon beside the peer."""
    n, burst, peer, cfg = result.get("newsmon"), result["burst"], result.get("peer"), result["settings"]
    lines = [f"# Capacity benchmark: latest run ({result['when']})", "",
             f"{cfg['sites']} generated sites, {cfg['initial_articles']} articles each at the start, "
             f"{cfg['new_per_round']} new every {cfg['round_seconds']:g} s; download delay {cfg['delay']} s, "
             f"50-300 ms per response; `--max-crawls {cfg['max_crawls']} --sites-per-process "
             f"{cfg['sites_per_process']}`. Written by `benchmarks/capacity/bench.py`; the machine is shared "
             "(load average below), so read ratios.", "",
             "## Burst: every site crawled once, all handed over at once (capacity-bound)", "",
             "| | newsmon (crawl pool) | peer (Scrapy + trafilatura) |", "|---|---|---|"]

    def both(key):
        return f"{burst.get(key)} | {peer.get(key) if peer else '-'}"
    lines += [f"| site runs (statuses) | {burst['runs']} ({statuses(burst)}) | {cfg['sites']} start URLs |",
              f"| pages, seconds | {burst['pages']}, {burst['seconds']} | "
              + (f"{peer['pages']}, {peer['seconds']} |" if peer else "- |"),
              f"| pages / s | {both('pages_per_s')} |", f"| peak RSS, whole process tree (MB) | {both('peak_rss_mb')} |",
              f"| CPU (cores of 2, mean) | {both('cores_used')} |",
              f"| load average min / mean / max | {load(burst)} | {load(peer) if peer else '-'} |"]
    if "fetch_ratio" in result:
        lines += ["", f"Fetch rate, newsmon / peer (burst pages/s): **{result['fetch_ratio']}**"]
    if n:
        lines += ["", f"## The scheduler: every site on `{n['schedule']}` for {n['minutes']} minutes, "
                  "continuing from the burst's index", "", "| | newsmon |", "|---|---|",
                  f"| site runs / hour | {n['site_runs_per_hour']} |",
                  f"| site runs (statuses) | {n['site_runs']} ({statuses(n)}) |",
                  f"| pages / s | {n['pages_per_s']} |", f"| new articles / s | {n['new_articles_per_s']} |",
                  f"| scheduling lag p50 / p95 / max (s) | {n['lag_p50_s']} / {n['lag_p95_s']} / {n['lag_max_s']} |",
                  f"| runs started per minute, median / max | {n['runs_started_per_minute_p50_max']} |",
                  f"| peak RSS, whole process tree (MB) | {n['peak_rss_mb']} |",
                  f"| CPU (cores of 2, mean) | {n['cores_used']} |",
                  f"| load average min / mean / max | {load(n)} |"]
    return "\n".join(lines) + "\n"


def load(numbers: dict) -> str:
    return f"{numbers.get('load_min')} / {numbers.get('load_mean')} / {numbers.get('load_max')}"


def statuses(numbers: dict) -> str:
    return ", ".join(f"{k} {v}" for k, v in numbers["statuses"].items())


if __name__ == "__main__":
    sys.exit(main())
