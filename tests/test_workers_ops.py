"""Running on several machines, day to day (issue 23 cases c and d, and operations), all on
loopback: a real Redis started with the very settings file the README tells operators to
install (deploy/backing/newsmon-redis.conf: append-only file), the real scheduler
(``python scheduler.py``) and real ``newsmon worker`` processes, each in a folder of its
own, on the session's Elasticsearch node (these cases need no cluster).

What an operator would notice:
- Redis restarted: the runs waiting in it run after it is back, once each; the scheduler and
  the worker stay up and say in Chinese that the broker went and came back;
- Redis back without its data: the scheduler notices the runs it queued that are nowhere and
  queues them again (late, same run); one lost past its period is recorded missed;
- while Redis is down, ``newsmon status`` and the Sources page say the queue cannot be read
  (无法读取) and answer everything else; otherwise they show how many tasks are queued and which
  worker ran each site's last run;
- a second scheduler started by mistake names the one that leads, waits, and takes over
  when it dies.
"""
from __future__ import annotations

import json
import re
import shutil
import signal
import subprocess
import sys
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from conftest import REPO, es_index_url, newsmon_env, run_newsmon
from paged_site import build_paged_site
from redis_server import RedisServer, start_redis
from test_workers import Worker, runs_of, start_worker, wait_for
from web_server import serving

pytestmark = pytest.mark.timeout(600)

REDIS_CONF = REPO / "deploy" / "backing" / "newsmon-redis.conf"
FIRST = ("ops-a-gov", "ops-b-gov", "ops-c-gov")     # queued while Redis restarts
LATER = ("ops-d-gov", "ops-e-gov")                  # queued, then Redis comes back empty
QUEUED = re.compile(r"\[([\w-]+)\] run (\w+) queued")


@dataclass
class Ops:
    redis: RedisServer
    index_url: str
    env: dict
    base: Path
    sites_file: Path
    paged: object
    workers: list[Worker] = field(default_factory=list)
    schedulers: list[subprocess.Popen] = field(default_factory=list)

    def worker(self, name: str) -> Worker:
        folder = self.base / name.split("@")[1]
        folder.mkdir()
        worker = start_worker(name, folder, self.env)
        self.workers.append(worker)
        wait_for(f"{name} ready", lambda: "就绪" in worker.log or worker.proc.poll() is not None, 120)
        assert worker.proc.poll() is None, worker.log[-3000:]
        return worker

    def scheduler(self, folder: str) -> tuple[subprocess.Popen, Path]:
        """The real scheduler, in a folder of its own (its job store lives there)."""
        (self.base / folder).mkdir()
        log_path = self.base / folder / "scheduler.log"
        with open(log_path, "wb") as log:
            proc = subprocess.Popen([sys.executable, str(REPO / "scheduler.py"), "--sites", str(self.sites_file),
                                     "--jitter", "0", "--reload-every", "1", "--time-limit", "120"],
                                    cwd=self.base / folder, env=dict(self.env, PYTHONPATH=str(REPO)),
                                    stdout=log, stderr=subprocess.STDOUT)
        self.schedulers.append(proc)
        return proc, log_path

    def add_sites(self, *names: str) -> None:
        with self.sites_file.open("a", encoding="utf-8") as out:
            for name in names:       # polite, so a crawl lasts a few seconds
                out.write(f"  - name: {name}\n    start_urls: [{self.paged.urls[name]}]\n"
                          f"    schedule: every 1h\n    download_delay: 0.3\n")

    def depth(self):
        from monitor.task_queue import queue_depth
        return queue_depth(self.redis.url)

    def waiting(self, url: str | None = None) -> set[str]:
        """The task ids waiting in the queue (the scheduler also queues alert deliveries each minute)."""
        from crawler.queue.locks import redis_client
        from monitor.task_queue import queue_keys
        client = redis_client(url or self.redis.url)
        return {json.loads(raw)["headers"]["id"] for key in queue_keys() for raw in client.lrange(key, 0, -1)}


@pytest.fixture(scope="module")
def ops(elasticsearch_node, tmp_path_factory):
    from crawler.fixtures.server import start_fixture_sites
    root = tmp_path_factory.mktemp("ops-sites")
    for name in FIRST + LATER:
        build_paged_site(root, name, articles=12, per_page=4)
    redis = start_redis(config=REDIS_CONF)
    base = tmp_path_factory.mktemp("ops")
    index_url = es_index_url(elasticsearch_node, "ops")
    env = newsmon_env(NEWSMON_BROKER=redis.url, NEWSMON_INDEX=index_url, NEWSMON_BROKER_CHECK="0.5",
                      NEWSMON_QUEUE_CHECK="1", NEWSMON_SITE_LOCK_TTL="3", NEWSMON_LEADER_TTL="3")
    sites_file = base / "sites.yaml"
    sites_file.write_text("sites:\n", encoding="utf-8")
    ops = None
    try:
        with start_fixture_sites(root=root, lifetime=3600) as paged:
            ops = Ops(redis, index_url, env, base, sites_file, paged)
            yield ops
    finally:
        for proc in (ops.schedulers + [w.proc for w in ops.workers]) if ops else []:
            if proc.poll() is None:
                proc.kill()
                proc.wait(30)
        redis.cleanup()


def log_of(path: Path) -> str:
    return path.read_text("utf-8", "replace")


def queued_runs(log: Path) -> dict[str, str]:
    return dict(QUEUED.findall(log_of(log)))


def test_readme_redis_settings_keep_the_queue_on_disk(ops):
    from crawler.queue.locks import redis_client
    client = redis_client(ops.redis.url)
    assert client.config_get("appendonly") == {"appendonly": "yes"}
    assert client.config_get("maxmemory-policy") == {"maxmemory-policy": "noeviction"}


def test_redis_restarted_queued_runs_run_once_and_everyone_reconnects(ops):
    worker = ops.worker("w1@machine-1")
    ops.add_sites(*FIRST)
    scheduler, log = ops.scheduler("scheduler-1")
    queued = wait_for("three runs queued", lambda: len(queued_runs(log)) == 3 and queued_runs(log), 120)
    # one crawl at a time on this worker: one run in its hands, two waiting in Redis
    wait_for("a run taken and two waiting", lambda: (d := ops.depth()).running == 1 and d.queued >= 2
             and len(ops.waiting() & set(queued.values())) == 2, 60, 0.1)
    ops.redis.kill()                          # a crash: SIGKILL
    for path in (log, worker.folder / "worker.log"):
        wait_for(f"{path.name} to say the broker is gone", lambda p=path: "任务队列" in log_of(p)
                 and "不可达" in log_of(p), 30, 0.1)
    ops.redis.start()                         # same port, same data folder
    for path in (log, worker.folder / "worker.log"):
        wait_for(f"{path.name} to say the broker is back", lambda p=path: "已恢复，重新连接成功" in log_of(p), 60)
    runs = {site: wait_for(f"the run of {site}", lambda s=site: runs_of(ops.index_url, s)) for site in FIRST}
    assert {site: [(r["run_id"], r["status"], r["worker"]) for r in site_runs] for site, site_runs in runs.items()} \
        == {site: [(queued[site], "ok", "w1@machine-1")] for site in FIRST}
    started = worker.started_runs()
    assert sorted(started) == sorted(queued.values())          # each run once, none lost, none twice
    assert scheduler.poll() is None and worker.proc.poll() is None


def test_redis_back_without_its_data_the_scheduler_queues_its_runs_again(ops):
    _scheduler, log = ops.schedulers[0], ops.base / "scheduler-1" / "scheduler.log"
    first = ops.workers[0]
    first.proc.send_signal(signal.SIGTERM)       # no worker for a while: the new runs wait in Redis
    assert first.proc.wait(60) == 0
    ops.add_sites(*LATER)                        # the scheduler re-reads its sites file: due now
    queued = wait_for("two more runs queued", lambda: {s: r for s, r in queued_runs(log).items() if s in LATER}
                      if set(LATER) <= set(queued_runs(log)) else None, 60)
    wait_for("both waiting in Redis", lambda: set(queued.values()) <= ops.waiting(), 30, 0.1)
    with serving(ops.index_url, **ops.env) as web:
        ops.redis.stop()
        shutil.rmtree(ops.redis.workdir / "appendonlydir")     # the disk lost: Redis comes back empty
        status = run_newsmon("status", "--index", ops.index_url, **ops.env)
        assert status.returncode == 0, status.stderr
        assert f"任务队列 {ops.redis.url}：无法读取（连接不上" in status.stdout
        assert all(site in status.stdout for site in FIRST)          # the rest of the status still answers
        page = urllib.request.urlopen(f"{web}/sources", timeout=60).read().decode("utf-8")
        assert "无法读取（连接不上）" in page and 'data-site="ops-a-gov"' in page
        ops.redis.start()
        assert not ops.waiting() & set(queued.values())
        requeued = wait_for("the scheduler to queue the lost runs again",
                            lambda: sorted(re.findall(r"\[([\w-]+)\] 运行 \w+（应于 [^）]+）已不在任务队列中.*已重新派发",
                                                      log_of(log))) == sorted(LATER), 60)
        assert requeued and set(queued.values()) <= ops.waiting()
        second = ops.worker("w2@machine-2")
        runs = {site: wait_for(f"the run of {site}", lambda s=site: runs_of(ops.index_url, s)) for site in LATER}
        assert {site: [(r["run_id"], r["status"], r["worker"]) for r in site_runs] for site, site_runs in runs.items()} \
            == {site: [(queued[site], "ok", "w2@machine-2")] for site in LATER}
        assert sorted(second.started_runs()) == sorted(queued.values())
        wait_for("the runs' tasks acknowledged", lambda: ops.depth().running == 0, 60)
        page = urllib.request.urlopen(f"{web}/sources", timeout=60).read().decode("utf-8")
    # the Sources page: which worker ran each site's last run, and the queue's depth
    for site, worker in [*((s, "w1@machine-1") for s in FIRST), *((s, "w2@machine-2") for s in LATER)]:
        row = re.search(rf'<tr [^>]*data-site="{site}">.*?</tr>', page, re.S).group(0)
        assert f'<td class="worker"><code>{worker}</code></td>' in row, row
    assert re.search(r'任务队列 <code>redis://127\.0\.0\.1:\d+/0</code>：排队 <strong class="queued">\d+</strong> 个任务，'
                     r'运行中 <strong class="running">\d+</strong> 个。', page)


def test_status_shows_each_sites_worker_and_the_queue(ops):
    proc = run_newsmon("status", "--index", ops.index_url, **ops.env)
    assert proc.returncode == 0, proc.stderr
    for site in FIRST:
        assert f"  {site}: 最近一次运行的采集节点 worker: w1@machine-1" in proc.stdout
    for site in LATER:
        assert f"  {site}: 最近一次运行的采集节点 worker: w2@machine-2" in proc.stdout
    # (the scheduler queues an alert delivery every minute, so the depth is not always 0)
    assert re.search(rf"任务队列 {re.escape(ops.redis.url)}：排队 \d+ 个任务，运行中 \d+ 个", proc.stdout)
    queue = json.loads(run_newsmon("status", "--json", "--index", ops.index_url, **ops.env).stdout)["queue"]
    assert queue["broker"] == ops.redis.url and queue["error"] is None and queue["queued"] >= 0
    as_json = json.loads(run_newsmon("status", "--json", "--index", ops.index_url, **ops.env).stdout)
    assert {s["name"]: s["last_run"]["worker"] for s in as_json["sites"]} == {
        **{site: "w1@machine-1" for site in FIRST}, **{site: "w2@machine-2" for site in LATER}}


def test_a_lost_run_past_its_period_is_recorded_missed(ops, elasticsearch_node, monkeypatch):
    """Found nowhere after Redis lost it, and too late to run: a missed run with the reason."""
    from datetime import timedelta

    from crawler.queue.dispatch import send
    from crawler.queue.ledger import QueuedRuns
    from crawler.queue.locks import redis_client
    from crawler.queue.settings import CRAWL_TASK
    from index.runs import RunInfo, iso, utc_now

    monkeypatch.setenv("NEWSMON_BROKER", ops.redis.url)
    monkeypatch.setenv("NEWSMON_SITE_LOCK_TTL", "1")
    monkeypatch.setenv("NEWSMON_QUEUE_CHECK", "0.2")
    index_url = es_index_url(elasticsearch_node, "lost")
    due = utc_now() - timedelta(hours=2)
    run = RunInfo(started=iso(due), trigger="scheduled", scheduled_for=iso(due), period_s=1800.0)
    ledger = QueuedRuns()
    ledger.remember(index_url, CRAWL_TASK, run.run_id, {"site": "sucheng-gov", "config": {}, "index_url": index_url,
                                                        "time_limit": 60.0, "run": run.__dict__})
    client = redis_client(ops.redis.url)
    [missed] = wait_for("the lost run recorded", lambda: ledger.check(client, send) or runs_of(index_url, "sucheng-gov"),
                        30, 0.1)
    assert (missed["run_id"], missed["status"], missed["scheduled_for"]) == (run.run_id, "missed", run.scheduled_for)
    assert "lost from the task queue" in missed["message"]
    assert run.run_id not in ops.waiting()           # not queued again: its period is long over
    ledger.close()


def test_a_digest_lost_with_redis_data_is_queued_again_until_sent(ops, elasticsearch_node, monkeypatch):
    """The day's digest queued, then Redis emptied: the scheduler sends it again, and forgets
    it once a worker marks it sent (each recipient is claimed in the index: never twice)."""
    from crawler.queue import ledger as ledger_module
    from crawler.queue.dispatch import enqueue_digest, send
    from crawler.queue.locks import mark_done, redis_client
    from index import open_index
    from monitor.task_queue import queue_keys

    broker = ops.redis.url[:-1] + "1"        # a database of its own: no running worker takes this digest
    monkeypatch.setenv("NEWSMON_BROKER", broker)
    monkeypatch.setenv("NEWSMON_SITE_LOCK_TTL", "1")
    monkeypatch.setenv("NEWSMON_QUEUE_CHECK", "0.2")
    ledger = ledger_module.QueuedRuns()
    monkeypatch.setattr(ledger_module, "LEDGER", ledger)
    index_url = es_index_url(elasticsearch_node, "digest")
    assert enqueue_digest(index_url=index_url, digest={}, source="scheduler") == "queued"
    [task_id] = ops.waiting(broker)
    client = redis_client(broker)
    client.flushdb()                          # Redis lost its data
    wait_for("the digest queued again", lambda: ledger.check(client, send) or task_id in ops.waiting(broker), 30, 0.1)
    client.delete(*queue_keys())              # a worker took it ...
    mark_done(client, "digest:" + task_id.removeprefix("digest-"), "w9@machine-9")      # ... and sent it

    def forgotten():
        ledger.check(client, send)
        with open_index(index_url) as index:
            return not index.state.scan(ledger_module.KIND)
    wait_for("the sent digest forgotten", forgotten, 30, 0.1)
    ledger.close()
    client.flushdb()


def test_a_second_scheduler_names_the_leader_waits_and_takes_over(ops):
    leader, leader_log = ops.schedulers[0], ops.base / "scheduler-1" / "scheduler.log"
    assert leader.poll() is None, log_of(leader_log)[-3000:]       # it lived through both Redis restarts
    for worker in ops.workers:       # nothing to crawl what the second one queues when it leads
        worker.proc.send_signal(signal.SIGTERM)
        worker.proc.wait(60)
    second, log = ops.scheduler("scheduler-2")
    wait_for("the second to say who leads", lambda: re.search(rf"另一个调度器 \S+:{leader.pid} 正在运行：本调度器等待",
                                                               log_of(log)) or second.poll() is not None, 120)
    assert second.poll() is None and "scheduler running" not in log_of(log)
    leader.send_signal(signal.SIGKILL)
    leader.wait(30)
    wait_for("the second to lead", lambda: "scheduler running" in log_of(log) or second.poll() is not None, 60)
    assert re.search(rf"调度器 \S+:{second.pid} 开始领导：之前的调度器已不在", log_of(log))
    second.send_signal(signal.SIGTERM)
    assert second.wait(60) == 0, log_of(log)[-3000:]


def test_the_status_page_reads_the_queue_the_workers_take_from():
    from crawler.queue.settings import QUEUE_NAME
    from monitor.task_queue import QUEUE_NAME as READ_BY_STATUS
    assert READ_BY_STATUS == QUEUE_NAME


@pytest.mark.parametrize("path", sorted((REPO / "deploy" / "backing").glob("*.service")), ids=lambda p: p.stem)
def test_systemd_accepts_the_redis_and_elasticsearch_units(path, tmp_path):
    """Checked as installed: Debian's redis-server, Elasticsearch unpacked where the unit expects it."""
    from elasticsearch_node import fetch_distribution
    from test_deploy import SYSTEMD_ANALYZE
    installed = tmp_path / path.name
    installed.write_text(path.read_text(encoding="utf-8").replace("/opt/elasticsearch", str(fetch_distribution())),
                         encoding="utf-8")
    checked = subprocess.run([SYSTEMD_ANALYZE, "verify", "--man=no", str(installed)],
                             capture_output=True, text=True, timeout=60)
    assert checked.returncode == 0 and checked.stdout + checked.stderr == "", checked.stdout + checked.stderr
    assert "Restart=" in path.read_text(encoding="utf-8")
