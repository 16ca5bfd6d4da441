"""Honest storage failures (issue 16, item 2).

A crawl that meets a full disk stops, exits non-zero and counts exactly what it
committed, none of which is lost; a read-only index is one line for every command;
a write lock held past every retry fails the crawl with the reason in its run
history and gets the web a 503 with Retry-After.

The full disk is a real size-capped tmpfs and the read-only index a real read-only
bind mount, each made in user+mount namespaces of their own (``unshare -rm``), so
no root is needed and nothing outlives the test.
"""
from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
import threading
from dataclasses import dataclass
from pathlib import Path

import httpx

from conftest import REPO, newsmon_env, run_newsmon
from index import open_index
from index.runs import recent_runs
from web_server import copy_of, serving

WATCH = {"name": "flood-duty", "query": "防汛", "emails": ["duty@example.com"]}


@dataclass
class Ran:
    out: str
    err: str
    rc: int

    def error_lines(self) -> list[str]:
        return [line for line in self.err.splitlines() if line.startswith("Error:")]


def in_own_mounts(script: str, out: Path, timeout: float = 600) -> dict[str, Ran]:
    """Run ``script`` (bash) in new user+mount namespaces, where it may mount; ``run NAME
    ARGS...`` in it runs ``newsmon ARGS...`` and keeps its output as ``NAME``."""
    out.mkdir(parents=True, exist_ok=True)
    prelude = f"""
PY={sys.executable}; OUT={out}
run() {{ local name=$1; shift; set +e; "$PY" -m crawler "$@" > "$OUT/$name.out" 2> "$OUT/$name.err"
         echo $? > "$OUT/$name.rc"; set -e; }}
"""
    proc = subprocess.run(["unshare", "--user", "--map-root-user", "--mount", "bash", "-euo", "pipefail", "-c",
                           prelude + script], capture_output=True, text=True, env=newsmon_env(), cwd=REPO,
                          timeout=timeout)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return {path.stem: Ran((out / f"{path.stem}.out").read_text(encoding="utf-8"),
                           (out / f"{path.stem}.err").read_text(encoding="utf-8"), int(path.read_text()))
            for path in out.glob("*.rc")}


def assert_one_line_failure(ran: Ran, *words: str) -> None:
    assert ran.rc != 0, ran.err[-2000:]
    assert "Traceback" not in ran.err and "sqlite3." not in ran.err, ran.err[-3000:]
    errors = ran.error_lines()
    assert len(errors) == 1, ran.err[-2000:]
    for word in words:
        assert word in errors[0], errors[0]


def test_a_full_disk_stops_the_crawl_counting_only_what_it_committed(crawl, fixture_sites, tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    fixture_sites.write_sites_file(tmp_path / "sites.yaml")
    index = f"sqlite:///{data}/newsmon.db"
    check = "import sqlite3, sys; print(sqlite3.connect(sys.argv[1]).execute('PRAGMA integrity_check').fetchone()[0])"
    ran = in_own_mounts(f"""
mount -t tmpfs -o size=512k newsmon-small-disk {data}     # room for a few articles, not 37
run crawl crawl --sites {tmp_path}/sites.yaml --index {index} --json
run export export --index {index}
"$PY" -c "{check}" {data}/newsmon.db > "$OUT/integrity.txt"
mount -o remount,size=64m {data}                          # space freed
run again crawl --sites {tmp_path}/sites.yaml --index {index} --json
run export_again export --index {index}
run status status --index {index} --json
""", tmp_path / "out")

    failed = ran["crawl"]
    assert_one_line_failure(failed, "抓取已停止", "磁盘空间已满", str(data / "newsmon.db"))
    summary = json.loads(failed.out)
    assert summary["finish_reason"] == "storage_error" and "磁盘空间已满" in summary["storage_error"]
    stored = [json.loads(line) for line in ran["export"].out.splitlines()]
    assert ran["export"].rc == 0, ran["export"].err
    # the summary is what the index holds: some articles, not all of them
    assert summary["totals"].get("articles_indexed", 0) == len(stored)
    assert 0 < len(stored) < len(crawl.export)
    assert {line["url"] for line in stored} < {line["url"] for line in crawl.export}
    assert (tmp_path / "out" / "integrity.txt").read_text().strip() == "ok"
    # The run history lives on the same full disk: recorded as failed, or said on stderr.
    history_lost = "run history not recorded" in failed.err and "磁盘空间已满" in failed.err

    again = ran["again"]
    assert again.rc == 0, again.err[-3000:]
    assert "Traceback" not in again.err
    everything = [json.loads(line) for line in ran["export_again"].out.splitlines()]
    assert sorted(line["url"] for line in everything) == sorted(line["url"] for line in crawl.export)
    new_again = json.loads(again.out)["totals"].get("articles_new", 0)
    assert len(stored) + new_again == len(crawl.export)       # nothing committed was lost or doubled
    statuses = {s["name"]: s for s in json.loads(ran["status"].out)["sites"]}
    assert {s["last_run"]["status"] for s in statuses.values()} == {"ok"}
    if not history_lost:
        assert {s["runs"] for s in statuses.values()} == {2}
    print(f"\nfull disk: {len(stored)} of {len(crawl.export)} articles committed before the disk filled; "
          f"run history {'not recorded (said on stderr)' if history_lost else 'recorded as failed'}")


def test_a_read_only_index_is_one_line_for_every_command(crawl, tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    index = copy_of(crawl.index_url, data)
    ran = in_own_mounts(f"""
mount --bind {data} {data} && mount -o remount,bind,ro {data}
run crawl crawl --sites {crawl.sites_file} --index {index}
run search search 激光 --index {index}
run export export --index {index}
run status status --index {index}
run watch_list watch list --index {index}
run watch_add watch add flood --query 防汛 --email duty@example.com --index {index}
run digest digest --dry-run --out {tmp_path}/digest.txt --index {index}
run serve serve --port 0 --index {index}
run schedule schedule --sites {crawl.sites_file} --index {index}
""", tmp_path / "out")
    assert set(ran) == {"crawl", "search", "export", "status", "watch_list", "watch_add", "digest", "serve",
                        "schedule"}
    for name, result in sorted(ran.items()):
        assert_one_line_failure(result, "只读", str(data))
    assert not ran["export"].out and not ran["search"].out.strip()


def hold_write_lock(db: Path) -> sqlite3.Connection:
    """Another process's long write transaction, as ``sqlite3`` would hold it."""
    holder = sqlite3.connect(db, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    holder.execute("INSERT INTO state(kind, key, doc, updated) VALUES ('test', 'held', '{}', '')")
    return holder


def test_a_lock_held_past_every_retry_fails_the_crawl_and_gets_a_503(crawl, tmp_path):
    index_url = copy_of(crawl.index_url, tmp_path)
    db = Path(index_url.removeprefix("sqlite:///"))
    token = "storage-test-token"
    with serving(index_url, NEWSMON_WEB_TOKEN=token) as base:
        holder = hold_write_lock(db)
        answers = []
        post = threading.Thread(target=lambda: answers.append(httpx.post(
            f"{base}/api/watches", json=WATCH, headers={"Authorization": f"Bearer {token}"}, timeout=60)))
        post.start()
        crawl_proc = subprocess.Popen(
            [sys.executable, "-m", "crawler", "crawl", "--sites", str(crawl.sites_file), "--index", index_url,
             "--json"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, encoding="utf-8",
            env=newsmon_env(NEWSMON_INCREMENTAL="0"), cwd=REPO)
        stderr = ""
        try:
            while "抓取停止" not in stderr:           # the crawl gave up on the lock...
                line = crawl_proc.stderr.readline()
                assert line, f"the crawl ended without meeting the lock: {stderr[-3000:]}"
                stderr += line
            post.join(60)
        finally:
            holder.rollback()                       # ...so its run history can be written
            holder.close()
        out, rest = crawl_proc.communicate(timeout=120)
        stderr += rest
    answer = answers[0]
    assert answer.status_code == 503, answer.text
    assert int(answer.headers["Retry-After"]) > 0 and "索引正忙" in answer.json()["error"]

    assert crawl_proc.returncode != 0
    assert "Traceback" not in stderr
    errors = [line for line in stderr.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1 and "索引正忙" in errors[0] and "database is locked" not in errors[0], stderr[-2000:]
    summary = json.loads(out)
    assert summary["totals"].get("articles_indexed", 0) == 0 and summary["finish_reason"] == "storage_error"
    with open_index(index_url) as index:
        runs = {site: recent_runs(index.state, site, limit=1)[0] for site in crawl.summary["sites"]}
    for site, run in runs.items():
        assert run["status"] == "failed" and "索引正忙" in run["message"], (site, run)
    # the same write goes through once the lock is free
    retried = run_newsmon("watch", "add", WATCH["name"], "--query", WATCH["query"], "--email", WATCH["emails"][0],
                          "--index", index_url)
    assert retried.returncode == 0, retried.stderr
