"""Multi-machine mode set up wrong, as a user would meet it: a SQLite index with a broker
(scheduler and worker stop with one line in Chinese), a broker that is down (the
worker does not start; the scheduler records the due run as missed, with the reason,
and goes on), and no broker at all (the scheduler's jobs stay local, as before)."""
from __future__ import annotations

import subprocess
import sys

from conftest import REPO, newsmon_env
from redis_server import start_redis


def run(*args, **env) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, *args], capture_output=True, text=True, encoding="utf-8",
                          env=newsmon_env(**env), timeout=120, cwd=REPO)


def sites_file(tmp_path):
    path = tmp_path / "sites.yaml"
    path.write_text("sites:\n  - name: sucheng-gov\n    start_urls: [http://127.0.0.1:9/]\n"
                    "    region: 江苏省宿迁市宿城区\n    schedule: every 30m\n", encoding="utf-8")
    return path


def test_sqlite_index_with_a_broker_stops_scheduler_and_worker_with_one_line(tmp_path):
    index = f"sqlite:///{tmp_path}/newsmon.db"
    broker = {"NEWSMON_BROKER": "redis://127.0.0.1:6379/0"}
    worker = run("-m", "crawler", "worker", "--index", index, **broker)
    scheduler = run("scheduler.py", "--sites", sites_file(tmp_path), "--index", index, **broker)
    for proc in (worker, scheduler):
        assert proc.returncode == 2, proc.stderr
        lines = proc.stderr.strip().splitlines()
        assert len(lines) == 1 and "NEWSMON_BROKER" in lines[0] and "Elasticsearch" in lines[0], proc.stderr
        assert "不能用本机的 sqlite 索引" in lines[0]
    assert not (tmp_path / "newsmon.db").exists()       # nothing was started on the local index


def test_worker_with_its_broker_down_says_so_and_does_not_start(tmp_path):
    redis = start_redis()
    url = redis.url
    redis.cleanup()                       # a broker that was there and is gone
    proc = run("-m", "crawler", "worker", "--index", "http://127.0.0.1:9/", NEWSMON_BROKER=url)
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [proc.stderr.strip()]
    assert proc.stderr.startswith(f"错误：无法连接任务队列 {url}")


def test_due_run_with_the_broker_down_is_recorded_missed_not_lost(tmp_path, monkeypatch):
    from crawler.queue.dispatch import enqueue_crawl
    from index import open_index
    from index.runs import MISSED, recent_runs

    redis = start_redis()
    monkeypatch.setenv("NEWSMON_BROKER", redis.url)
    redis.cleanup()
    index = f"sqlite:///{tmp_path}/newsmon.db"
    assert enqueue_crawl("sucheng-gov", str(sites_file(tmp_path)), index, time_limit=60.0) == MISSED
    with open_index(index) as opened:
        runs = recent_runs(opened.state, "sucheng-gov")
    assert [r["status"] for r in runs] == [MISSED]
    assert "broker unreachable" in runs[0]["message"]


def test_without_a_broker_the_scheduler_runs_jobs_locally(tmp_path, monkeypatch):
    from crawler.daemon import SchedulerConfig, build_jobs
    from crawler.sites import load_sites

    config = SchedulerConfig(sites_file=str(sites_file(tmp_path)), index_url=f"sqlite:///{tmp_path}/newsmon.db")
    monkeypatch.delenv("NEWSMON_BROKER", raising=False)
    local = {spec.id: spec.func for spec in build_jobs(config, load_sites(config.sites_file))}
    assert local["crawl:sucheng-gov"] == "crawler.child:crawl_site"
    monkeypatch.setenv("NEWSMON_BROKER", "redis://127.0.0.1:6379/0")
    queued = {spec.id: spec.func for spec in build_jobs(config, load_sites(config.sites_file))}
    assert queued == {"crawl:sucheng-gov": "crawler.queue.dispatch:enqueue_crawl",
                      "alerts:deliver": "crawler.queue.dispatch:enqueue_alert_delivery",
                      "digest:daily": "crawler.queue.dispatch:enqueue_digest"}


def test_two_schedulers_one_leads_the_second_says_so_waits_and_takes_over(tmp_path, elasticsearch_node):
    import signal

    from conftest import es_index_url

    redis = start_redis()
    env = newsmon_env(NEWSMON_BROKER=redis.url, NEWSMON_LEADER_TTL="3", PYTHONPATH=str(REPO))
    args = [sys.executable, str(REPO / "scheduler.py"), "--sites", str(sites_file(tmp_path)),
            "--index", es_index_url(elasticsearch_node, "leader")]
    procs, logs = [], []
    try:
        for name in ("first", "second"):
            folder = tmp_path / name
            folder.mkdir()
            logs.append(folder / "scheduler.log")
            with open(logs[-1], "wb") as log:
                procs.append(subprocess.Popen(args, cwd=folder, env=env, stdout=log, stderr=subprocess.STDOUT))
            wait_for_line(logs[-1], "scheduler running" if name == "first" else "另一个调度器", procs[-1])
        first, second = procs
        assert second.poll() is None and "scheduler running" not in logs[1].read_text("utf-8")
        first.send_signal(signal.SIGKILL)            # the leader dies without a goodbye
        first.wait(30)
        wait_for_line(logs[1], "scheduler running", second)
        assert "开始领导" in logs[1].read_text("utf-8")
        second.send_signal(signal.SIGTERM)
        assert second.wait(60) == 0
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
        redis.cleanup()


def wait_for_line(log, text: str, proc, timeout: float = 120.0) -> None:
    import time
    deadline = time.monotonic() + timeout
    while text not in log.read_text("utf-8", "replace"):
        assert proc.poll() is None, log.read_text("utf-8", "replace")[-3000:]
        assert time.monotonic() < deadline, f"no {text!r} within {timeout:.0f}s:\n" + log.read_text("utf-8")[-3000:]
        time.sleep(0.2)
