#!/usr/bin/env python3
"""Capacity of one machine: the real scheduler on N generated sites, then the peer.

    python benchmarks/capacity/bench.py                # 1,000 sites, every 30m, 60 minutes
    python benchmarks/capacity/bench.py --quick        # 200 sites, every 3m, 8 minutes
    python benchmarks/capacity/bench.py --sites 1000 --schedule "every 30m" --minutes 60 \
        --round-seconds 1800 --max-crawls 100 --sites-per-process 50

1. ``siteserver.py`` serves the sites (one asyncio process, one 127.100.x.y address
   each, 50-300 ms per response, ``--new-per-round`` new articles per site every
   ``--round-seconds``).
2. ``python scheduler.py`` runs for ``--minutes`` on them (SQLite index); the run
   history gives site runs, pages, new articles and the scheduling lag (start -
   due); the process tree (scheduler + crawl processes) is sampled for RSS and CPU.
3. The peer (``peer.py``: bare Scrapy + trafilatura, same politeness) crawls the
   same sites once, alone on the machine.

The fetch rates compared are each crawler's first full pass over the sites: newsmon's
first scheduled round (first start to last end) and the peer's whole run.
Writes ``RESULTS.md`` (``--results``) and prints the numbers as JSON.
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
        self.peak_rss = max(self.peak_rss, rss)
        self.peak_processes = max(self.peak_processes, len(tree))
        self.cpu = max(self.cpu, cpu / TICK)


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


def run_newsmon(args, tmp: Path, sites_file: Path) -> dict:
    env = dict(os.environ, NEWSMON_ALLOW_HOSTS="127.100.0.0/16", NEWSMON_CHILD_QUIET="1",
               PYTHONIOENCODING="utf-8")
    index = f"sqlite:///{tmp}/newsmon.db"
    log = open(tmp / "scheduler.log", "w", encoding="utf-8")
    began = time.time()
    proc = subprocess.Popen([sys.executable, "scheduler.py", "--sites", str(sites_file), "--index", index,
                             "--max-crawls", str(args.max_crawls), "--sites-per-process", str(args.sites_per_process),
                             "--time-limit", str(args.time_limit)],
                            cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT)
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
    with sqlite3.connect(db) as conn:
        runs = [json.loads(row[0]) for row in conn.execute("SELECT doc FROM state WHERE kind = 'run'")]
    done = [r for r in runs if r["status"] not in ("missed", "skipped", "stopped")]
    lags = [_ts(r["started"]) - _ts(r["scheduled_for"]) for r in runs
            if r.get("scheduled_for") and r["status"] not in ("missed", "skipped")]
    hours = (ended - began) / 3600
    first = {}
    for r in sorted(done, key=lambda r: r["started"]):
        first.setdefault(r["site"], r)
    first_runs = list(first.values())
    # Steady state: every run but a site's first (its full crawl, all sites due at once)
    steady = [_ts(r["started"]) - _ts(r["scheduled_for"]) for r in done
              if r.get("scheduled_for") and first.get(r["site"]) is not r]
    first_span = (max(_ts(r["ended"]) for r in first_runs) - min(_ts(r["started"]) for r in first_runs)
                  if first_runs else float("nan"))
    statuses: dict[str, int] = {}
    for r in runs:
        statuses[r["status"]] = statuses.get(r["status"], 0) + 1
    pages = sum(r.get("pages_fetched", 0) for r in runs)
    return {
        "sites": args.sites, "schedule": args.schedule, "minutes": round((ended - began) / 60, 1),
        "site_runs": len(done), "site_runs_per_hour": round(len(done) / hours, 1), "statuses": statuses,
        "pages": pages, "pages_per_s": round(pages / (ended - began), 2),
        "new_articles": sum(r.get("articles_new", 0) for r in runs),
        "new_articles_per_s": round(sum(r.get("articles_new", 0) for r in runs) / (ended - began), 2),
        "lag_p50_s": round(pct(lags, 0.5), 1), "lag_p95_s": round(pct(lags, 0.95), 1),
        "lag_max_s": round(max(lags), 1) if lags else None,
        "steady_runs": len(steady), "steady_lag_p50_s": round(pct(steady, 0.5), 1),
        "steady_lag_p95_s": round(pct(steady, 0.95), 1),
        "peak_rss_mb": round(sampler.peak_rss / 2**20), "peak_processes": sampler.peak_processes,
        "cpu_seconds": round(sampler.cpu), "cores_used": round(sampler.cpu / (ended - began), 2),
        "first_round_sites": len(first_runs), "first_round_seconds": round(first_span, 1),
        "first_round_pages": sum(r.get("pages_fetched", 0) for r in first_runs),
        "first_round_pages_per_s": round(sum(r.get("pages_fetched", 0) for r in first_runs) / first_span, 2)
        if first_runs else None,
    }


def run_peer(args, tmp: Path, sites_file: Path) -> dict:
    proc = subprocess.Popen([sys.executable, str(HERE / "peer.py"), str(sites_file), str(tmp / "peer.jsonl"),
                             "--delay", str(args.delay), "--minutes", str(args.minutes)],
                            stdout=subprocess.PIPE, stderr=open(tmp / "peer.log", "w"), text=True)
    sampler = TreeSampler(proc.pid).start()
    out, _ = proc.communicate()
    sampler.stop()
    result = json.loads(out.strip().splitlines()[-1])
    result.update(pages_per_s=round(result["pages"] / result["seconds"], 2),
                  peak_rss_mb=round(sampler.peak_rss / 2**20), cpu_seconds=round(sampler.cpu),
                  cores_used=round(sampler.cpu / result["seconds"], 2))
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
    server, sites_file = start_server(args, tmp)
    try:
        result = {"newsmon": run_newsmon(args, tmp, sites_file), "settings": {
            "max_crawls": args.max_crawls, "sites_per_process": args.sites_per_process, "delay": args.delay,
            "initial_articles": args.initial, "new_per_round": args.new_per_round,
            "round_seconds": args.round_seconds}, "when": datetime.now().isoformat(timespec="seconds"),
            "workdir": str(tmp)}
        if not args.no_peer:
            result["peer"] = run_peer(args, tmp, sites_file)
            result["fetch_ratio"] = round(result["newsmon"]["first_round_pages_per_s"]
                                          / result["peer"]["pages_per_s"], 2)
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
    n, peer, cfg = result["newsmon"], result.get("peer"), result["settings"]
    rows = [("site runs / hour", n["site_runs_per_hour"], "-"),
            ("site runs (statuses)", f"{n['site_runs']} ({', '.join(f'{k} {v}' for k, v in n['statuses'].items())})", "-"),
            ("pages / s, whole run", n["pages_per_s"], "-"),
            ("new articles / s, whole run", n["new_articles_per_s"], "-"),
            ("scheduling lag p50 / p95 / max (s), all runs", f"{n['lag_p50_s']} / {n['lag_p95_s']} / {n['lag_max_s']}", "-"),
            ("scheduling lag p50 / p95 (s), not a site's first run",
             f"{n.get('steady_lag_p50_s')} / {n.get('steady_lag_p95_s')} ({n.get('steady_runs')} runs)", "-"),
            ("first full pass: pages, seconds", f"{n['first_round_pages']}, {n['first_round_seconds']}",
             f"{peer['pages']}, {peer['seconds']}" if peer else "-"),
            ("first full pass: pages / s", n["first_round_pages_per_s"], peer["pages_per_s"] if peer else "-"),
            ("peak RSS, whole process tree (MB)", n["peak_rss_mb"], peer["peak_rss_mb"] if peer else "-"),
            ("CPU (cores of 2, mean)", n["cores_used"], peer["cores_used"] if peer else "-")]
    lines = [f"# Capacity benchmark: latest run ({result['when']})", "",
             f"{n['sites']} generated sites, schedule `{n['schedule']}`, {n['minutes']} minutes of the real "
             f"scheduler (`--max-crawls {cfg['max_crawls']} --sites-per-process {cfg['sites_per_process']}`), "
             f"{cfg['initial_articles']} articles per site at the start, {cfg['new_per_round']} new every "
             f"{cfg['round_seconds']:g} s, download delay {cfg['delay']} s, 50-300 ms per response. "
             "Written by `benchmarks/capacity/bench.py`; the machine is shared, so read ratios.", "",
             "| | newsmon | peer (Scrapy + trafilatura) |", "|---|---|---|"]
    lines += [f"| {name} | {a} | {b} |" for name, a, b in rows]
    if "fetch_ratio" in result:
        lines += ["", f"Fetch rate, newsmon / peer (first full pass): **{result['fetch_ratio']}**"]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.exit(main())
