"""Several machines, all on loopback: a real Redis (Debian's redis-server) as the broker,
three ``newsmon worker`` processes each in a folder of its own (no shared local
file), and a real three-node Elasticsearch cluster whose indices keep one replica.

What a team running newsmon on several machines would notice:
- every due site run happens once, on one of the workers, and copies of one story
  crawled by two workers at the same moment are one story with one canonical copy;
  each matching story is alerted once;
- a worker killed with SIGKILL in the middle of a site's crawl: its run is done
  again by another worker (late acknowledgement), recorded once (naming the try
  that died), every article once in the index, the ones the killed try had
  claimed included;
- an Elasticsearch node killed during a crawl: every article is still found, and the
  cluster is green again when the node is back.
"""
from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.request
import uuid
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path

import pytest

from alert_helpers import NO_BURST, add_archive_watch
from conftest import REPO, newsmon_env, run_newsmon
from elasticsearch_node import start_cluster
from mailserver import MailServer
from paged_site import build_paged_site
from redis_server import start_redis

pytestmark = pytest.mark.timeout(900)

VISIBILITY = 90         # s: a killed worker's task goes to another after this (the crawl limit is below it)
TIME_LIMIT = 60.0       # s per crawl: a fixture site takes 25-40 s with three crawls on a loaded 2-core machine
PAGED = "xinyi-gov"
PAGED_COPY = "xinyi-gov-mirror"      # the same county news under another name (a mirror site)
LASER = '"产业园" OR 激光 -招聘'
WAIT = 300.0            # s: longest wait for a run on a busy 2-core machine (a backstop, not a measure)


@dataclass
class Worker:
    name: str
    folder: Path
    proc: subprocess.Popen

    @property
    def log(self) -> str:
        return (self.folder / "worker.log").read_text("utf-8", "replace")

    def started_runs(self) -> list[str]:
        return re.findall(r"运行 (\w+) 开始", self.log)

    def crawl_processes(self) -> set[int]:
        """The crawl processes its runs went to (``crawler/crawlpool.py``)."""
        return {int(pid) for pid in re.findall(r"crawl \w+ starting in process (\d+)", self.log)}


def wait_for(what: str, check, timeout: float = WAIT, every: float = 0.5):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(every)
    raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}")


@pytest.fixture(scope="module")
def world(fixture_sites, tmp_path_factory):
    """Redis, the cluster, a mail server, a paged county site and its mirror, the index
    (one replica) with a watch, and three workers."""
    from crawler.fixtures.server import start_fixture_sites
    root = tmp_path_factory.mktemp("paged-sites")
    for name in (PAGED, PAGED_COPY):
        build_paged_site(root, name, articles=40, per_page=8)
    access = root.parent / "paged-access.log"
    redis = start_redis()
    mail = MailServer().start()
    cluster = start_cluster(3)
    workers: list[Worker] = []
    try:
        with start_fixture_sites(root=root, access_log=access, lifetime=3600) as paged:
            index_url = f"{cluster.url}/t-workers{uuid.uuid4().hex[:8]}"
            env = newsmon_env(NEWSMON_BROKER=redis.url, NEWSMON_INDEX=index_url,
                              NEWSMON_QUEUE_VISIBILITY_TIMEOUT=str(VISIBILITY), NEWSMON_QUEUE_RESTORE_INTERVAL="1",
                              NEWSMON_SITE_LOCK_TTL="5", NEWSMON_ES_REPLICAS="1", **mail.env(), **NO_BURST)
            add_archive_watch(index_url, "laser", "--query", LASER, "--email", "team@example.com",
                              "--mode", "immediate", **env)
            add_archive_watch(index_url, "morning", "--query", "激光", "--email", "digest@example.com",
                              "--mode", "digest", **env)
            _wait_for_replicas(cluster.url, index_url.rsplit("/", 1)[1])
            base = tmp_path_factory.mktemp("workers")
            for i in range(1, 4):
                folder = base / f"machine-{i}"
                folder.mkdir()
                workers.append(start_worker(f"w{i}@machine-{i}", folder, env))
            for worker in workers:
                wait_for(f"{worker.name} ready", lambda w=worker: "就绪" in w.log or w.proc.poll() is not None, 120)
                assert worker.proc.poll() is None, worker.log[-3000:]
            sites_file = tmp_path_factory.mktemp("scheduler") / "sites.yaml"
            fixture_sites.write_sites_file(sites_file)
            with sites_file.open("a", encoding="utf-8") as out:
                for name in (PAGED, PAGED_COPY):     # polite: ~0.2 s a page, so a crawl lasts a while
                    out.write(f"  - name: {name}\n    start_urls: [{paged.urls[name]}]\n"
                              f"    download_delay: 0.2\n")
            yield {"redis": redis, "cluster": cluster, "mail": mail, "workers": workers, "env": env,
                   "index_url": index_url, "sites_file": sites_file, "paged": paged, "fixture_sites": fixture_sites}
    finally:
        for worker in workers:
            if worker.proc.poll() is None:
                worker.proc.kill()
                worker.proc.wait(30)
        cluster.cleanup()
        mail.stop()
        redis.cleanup()


def start_worker(name: str, folder: Path, env: dict) -> Worker:
    """``newsmon worker`` on its own "machine": its own working folder, nothing shared on disk."""
    log = open(folder / "worker.log", "wb")
    proc = subprocess.Popen([sys.executable, "-m", "crawler", "worker", "--name", name],
                            cwd=folder, env=dict(env, PYTHONPATH=str(REPO)), stdout=log, stderr=subprocess.STDOUT)
    log.close()
    return Worker(name, folder, proc)


def _wait_for_replicas(es_url: str, prefix: str) -> None:
    """The watches made the index with NEWSMON_ES_REPLICAS=1 (what the README tells operators):
    each of its indices has one replica, all assigned."""
    settings = json.loads(urllib.request.urlopen(f"{es_url}/{prefix}-*/_settings", timeout=30).read())
    assert settings and {s["settings"]["index"]["number_of_replicas"] for s in settings.values()} == {"1"}
    health = json.loads(urllib.request.urlopen(f"{es_url}/_cluster/health/{prefix}-*?wait_for_status=green"
                                               f"&timeout=120s", timeout=130).read())
    assert health["status"] == "green", health


def enqueue(world, monkeypatch, *sites: str) -> None:
    """What the scheduler does for each due site with a broker set (``crawler.queue.dispatch``)."""
    from crawler.queue.dispatch import enqueue_crawl
    monkeypatch.setenv("NEWSMON_BROKER", world["redis"].url)
    for site in sites:
        assert enqueue_crawl(site, str(world["sites_file"]), world["index_url"], time_limit=TIME_LIMIT) == "queued"


def runs_of(index_url: str, site: str) -> list[dict]:
    from index import open_index
    from index.runs import recent_runs
    index = open_index(index_url)
    try:
        return recent_runs(index.state, site)
    finally:
        index.close()


def export(world) -> list[dict]:
    proc = run_newsmon("export", "--index", world["index_url"], **world["env"])
    assert proc.returncode == 0, proc.stderr
    return [json.loads(line) for line in proc.stdout.splitlines() if line.strip()]


@pytest.fixture(scope="module")
def parallel(world, gold):
    """Every fixture site due at once: one task each, the three workers take them together."""
    sites = sorted(world["fixture_sites"].urls)
    with pytest.MonkeyPatch.context() as monkeypatch:
        enqueue(world, monkeypatch, *sites)
        for site in sites:
            wait_for(f"the run of {site}", lambda s=site: runs_of(world["index_url"], s))
    return {"sites": sites, "runs": {site: runs_of(world["index_url"], site) for site in sites},
            "export": export(world)}


def test_each_due_run_happens_once_on_one_worker(world, parallel):
    started = Counter(run for w in world["workers"] for run in w.started_runs())
    runs = parallel["runs"]
    assert {site: [(r["status"], r.get("message")) for r in site_runs] for site, site_runs in runs.items()} \
        == {site: [("ok", None)] for site in runs}
    assert all(started[r[0]["run_id"]] == 1 for r in runs.values()), started      # once, on one worker
    assert len([w for w in world["workers"] if w.started_runs()]) >= 2           # the runs spread out
    # each worker (--crawls 1) ran its runs in one long-lived crawl process, not a fresh one per run
    assert {w.name: len(w.crawl_processes()) for w in world["workers"] if w.started_runs()} \
        == {w.name: 1 for w in world["workers"] if w.started_runs()}
    urls = Counter(line["url"] for line in parallel["export"])
    assert len(urls) >= 30 and max(urls.values()) == 1
    canonical = Counter()
    for line in parallel["export"]:
        canonical[line["story_id"]] += line["canonical"]
    assert set(canonical.values()) == {1}          # each story id has exactly one canonical copy


def test_copies_crawled_at_once_by_two_workers_are_one_story(world, parallel, gold):
    by_url = {line["url"]: line for line in parallel["export"]}
    story_ids, sites_of = defaultdict(set), defaultdict(set)
    for article in gold["articles"]:
        story_ids[article["story"]].add(by_url[world["fixture_sites"].url_of(article["site"], article["path"])]
                                        ["story_id"])
        sites_of[article["story"]].add(article["site"])
    assert sum(1 for names in sites_of.values() if len(names) > 1) >= 3     # copies on several sites
    assert {story: ids for story, ids in story_ids.items() if len(ids) != 1} == {}
    # and so one alert per matching story (a split story is alerted once per half)
    search = run_newsmon("search", LASER, "--json", "--limit", "1000", "--index", world["index_url"], **world["env"])
    alerted = [now_named(world["index_url"], m.message["X-Newsmon-Story"]) for m in world["mail"].to("team@example.com")]
    assert sorted(alerted) == sorted(s["story_id"] for s in json.loads(search.stdout))


def test_alerts_sent_once_across_workers(world, parallel):
    """Each crawl queues its own alerts and every worker may run a delivery task: none is sent twice."""
    from crawler.queue.dispatch import enqueue_alert_delivery
    mail = world["mail"]
    for _ in range(5):      # the scheduler's every-minute delivery task, sooner
        with pytest.MonkeyPatch.context() as monkeypatch:
            monkeypatch.setenv("NEWSMON_BROKER", world["redis"].url)
            assert enqueue_alert_delivery(index_url=world["index_url"]) == "queued"
    wait_for("the delivery tasks", lambda: sum(len(re.findall(r"newsmon\.deliver_alerts\[[^]]+\] succeeded", w.log))
                                               for w in world["workers"]) >= 5, 120)
    sent = Counter(m.message["X-Newsmon-Story"] for m in mail.to("team@example.com"))
    assert len(sent) >= 5 and max(sent.values()) == 1, sent


def test_digest_task_delivered_twice_sends_one_digest(world, parallel):
    from crawler.queue.dispatch import enqueue_digest
    with pytest.MonkeyPatch.context() as monkeypatch:
        monkeypatch.setenv("NEWSMON_BROKER", world["redis"].url)
        for _ in range(2):      # e.g. the task redelivered after its worker died
            assert enqueue_digest(index_url=world["index_url"], digest={}, source="test") == "queued"
    wait_for("both digest tasks", lambda: sum(len(re.findall(r"newsmon\.daily_digest\[[^]]+\] succeeded", w.log))
                                              for w in world["workers"]) >= 2, 180)
    [digest] = world["mail"].to("digest@example.com")
    assert "激光" in digest.message.get_body(("plain",)).get_content()


def now_named(index_url: str, story_id: str) -> str:
    from index import open_index
    index = open_index(index_url)
    try:
        return index.story_copies(story_id)[0].story_id
    finally:
        index.close()


def paged_urls(world, site: str) -> set[str]:
    return {world["paged"].url_of(site, path) for _s, _m, path, status in world["paged"].requests()
            if _s == site and status == 200 and re.search(r"/t\d{8}_\d+\.html$", path)}


def start_scheduler(world, folder: Path, site: str) -> subprocess.Popen:
    """The real scheduler (``python scheduler.py``) with the broker set, for one site due now."""
    sites_file = folder / "sites.yaml"
    sites_file.write_text(f"sites:\n  - name: {site}\n    start_urls: [{world['paged'].urls[site]}]\n"
                          f"    schedule: every 1h\n    download_delay: 0.2\n", encoding="utf-8")
    log = open(folder / "scheduler.log", "wb")
    proc = subprocess.Popen([sys.executable, str(REPO / "scheduler.py"), "--sites", str(sites_file), "--index",
                             world["index_url"], "--jitter", "0", "--time-limit", str(TIME_LIMIT)],
                            cwd=folder, env=dict(world["env"], PYTHONPATH=str(REPO)), stdout=log, stderr=subprocess.STDOUT)
    log.close()
    return proc


def test_worker_killed_mid_crawl_its_run_is_redone_once(world, tmp_path):
    from crawler.queue.locks import redis_client
    redis = redis_client(world["redis"].url)
    scheduler = start_scheduler(world, tmp_path, PAGED)
    try:
        holder = wait_for("a worker to take the paged site", lambda: redis.get("newsmon:lock:site:" + PAGED), 120, 0.1)
    finally:
        scheduler.send_signal(signal.SIGTERM)          # its one due run is queued: the leader's part is done
        assert scheduler.wait(60) == 0, (tmp_path / "scheduler.log").read_text("utf-8")
    assert re.search(rf"\[{PAGED}\] run \w+ queued", (tmp_path / "scheduler.log").read_text("utf-8"))
    run_id, name = holder.split("@", 1)
    victim = next(w for w in world["workers"] if w.name == name)
    wait_for("the crawl to be under way", lambda: len(paged_urls(world, PAGED)) >= 5, 120, 0.1)
    crawl_processes = victim.crawl_processes()
    assert crawl_processes
    victim.proc.send_signal(signal.SIGKILL)
    victim.proc.wait(10)
    # its crawl process dies with it (PR_SET_PDEATHSIG), not left crawling the site the redo crawls
    wait_for("the killed worker's crawl process to end", lambda: not any(map(alive, crawl_processes)), 60, 0.1)
    killed_at = time.monotonic()
    taken = wait_for("another worker to take the run", lambda: (redis.get("newsmon:lock:site:" + PAGED) or "")
                     .startswith(run_id + "@") and redis.get("newsmon:lock:site:" + PAGED) != holder, WAIT, 0.2)
    print(f"\nkilled worker's run taken again after {time.monotonic() - killed_at:.1f}s", file=sys.stderr)
    assert taken
    wait_for("the redone run to finish", lambda: redis.get("newsmon:done:" + run_id))
    runs = runs_of(world["index_url"], PAGED)
    assert len(runs) == 1 and runs[0]["run_id"] == run_id and runs[0]["status"] == "ok", runs
    assert runs[0]["trigger"] == "scheduled" and runs[0]["scheduled_for"]
    assert runs[0]["article_pages_fetched"] > 0 and "pipeline_exception" not in runs[0]["errors"]
    assert [t["worker"] for t in runs[0]["earlier_tries"]] == [name]      # the history shows the try that died
    starts = Counter(run for w in world["workers"] for run in w.started_runs())
    assert starts[run_id] == 2          # the killed try and the one that finished
    lines = [line for line in export(world) if line["site"] == PAGED]
    assert len(lines) == 40 and len({line["url"] for line in lines}) == 40     # every article, once
    # The killed try had claimed the dedup keys of the pages it got through; the redo owns
    # those claims and decides their stories (a copy stored elsewhere now joins, not splits).
    # Before: each such page raised in the redo (36 of 40 exported), later it went unclaimed.
    assert claimed_stories(world, [line["id"] for line in lines]) == {line["id"]: line["story_id"] for line in lines}
    assert "is gone; stopping its crawls" not in victim.log      # no orphan noticed its parent gone
    world["workers"].remove(victim)


def alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def claimed_stories(world, article_ids: list[str]) -> dict[str, str]:
    """The story each article's claim names (``index/elasticsearch/claims.py``), read in real time."""
    prefix = world["index_url"].rsplit("/", 1)[1]
    request = urllib.request.Request(f"{world['cluster'].url}/{prefix}-claims/_mget?_source_includes=story_id",
                                     data=json.dumps({"ids": ["a:" + i for i in article_ids]}).encode(),
                                     headers={"Content-Type": "application/json"})
    docs = json.loads(urllib.request.urlopen(request, timeout=30).read())["docs"]
    return {d["_id"][2:]: d["_source"]["story_id"] for d in docs if d.get("found")}


def test_elasticsearch_node_killed_during_crawl_loses_nothing(world, monkeypatch):
    cluster = world["cluster"]
    enqueue(world, monkeypatch, PAGED_COPY)
    wait_for("the mirror's crawl to be under way", lambda: len(paged_urls(world, PAGED_COPY)) >= 8, 120, 0.1)
    victim = cluster.nodes[-1]          # not the node the workers talk to: its shards' replicas take over
    victim.kill()
    runs = wait_for("the mirror's run", lambda: runs_of(world["index_url"], PAGED_COPY))
    assert runs[0]["status"] == "ok", runs
    lines = [line for line in export(world) if line["site"] == PAGED_COPY]
    assert len({line["url"] for line in lines}) == 40
    search = run_newsmon("search", lines[0]["title"], "--json", "--index", world["index_url"], **world["env"])
    assert search.returncode == 0, search.stderr
    assert any(c["site"] == PAGED_COPY for s in json.loads(search.stdout) for c in s["copies"])
    victim.restart()
    assert cluster.health("green", timeout=120)["status"] == "green"


def store_and_die(index_url: str, articles: list, spool_dir: str) -> None:
    """A crawl process killed with SIGKILL after its story stage: each page's dedup keys are
    claimed and its story decided, but the pages are still in the bulk buffer."""
    from benchmarks.dedup.run import record_of
    from index import open_index
    from pipelines.stories.clustering import StoryClusterer
    os.environ["NEWSMON_ES_SPOOL_DIR"] = spool_dir
    backend = open_index(index_url)
    clusterer = StoryClusterer(backend)
    for article in articles:
        clusterer.store(record_of(article))
    os.kill(os.getpid(), signal.SIGKILL)


def test_a_redone_page_owns_the_claims_its_killed_try_made(elasticsearch_node, tmp_path, monkeypatch):
    """The redo of a killed run stores the pages the killed try had claimed (the claims
    were its own, not another writer's), and decides their stories, so a copy another
    worker stores at the same moment joins the story instead of starting a second one."""
    import multiprocessing

    from benchmarks.dedup.run import record_of
    from conftest import es_index_url
    from index import open_index
    from pipelines.stories.clustering import StoryClusterer
    from test_concurrent_clustering import syndicated_pairs

    pairs = syndicated_pairs(tmp_path)[:3]
    url = es_index_url(elasticsearch_node, "redo")
    monkeypatch.setenv("NEWSMON_ES_SPOOL_DIR", str(tmp_path / "spool"))
    open_index(url).close()
    killed = multiprocessing.get_context("spawn").Process(
        target=store_and_die, args=(url, [origin for origin, _ in pairs], str(tmp_path / "spool-killed")))
    killed.start()
    killed.join(300)
    assert killed.exitcode == -signal.SIGKILL
    with open_index(url) as index:
        assert index.count_articles() == 0           # the killed try left claims, no article
    redo, other = open_index(url), open_index(url)   # two writers: the redo, and another worker
    try:
        redone = [StoryClusterer(redo).store(record_of(origin)) for origin, _ in pairs]
        assert all(a.new_story for a in redone)
        copies = [StoryClusterer(other).store(record_of(repost)) for _, repost in pairs]
    finally:
        redo.close()
        other.close()
    with open_index(url) as index:
        lines = {line["url"]: line for line in index.export()}
    assert len(lines) == 6                           # every page once
    assert [lines[o.url]["story_id"] for o, _ in pairs] == [a.story_id for a in redone]
    assert [lines[r.url]["story_id"] for _, r in pairs] == [a.story_id for a in redone]   # no split
    assert [(lines[o.url]["canonical"], lines[r.url]["canonical"]) for o, r in pairs] == [(True, False)] * 3
    assert all(c.match for c in copies)


def test_a_bad_replica_count_is_refused_in_chinese():
    """NEWSMON_ES_REPLICAS is checked before anything is created: a clear line, exit 1."""
    for bad in ("two", "-1"):
        proc = run_newsmon("search", LASER, "--index", "http://127.0.0.1:9/t-replicas", NEWSMON_ES_REPLICAS=bad)
        assert proc.returncode == 1 and "NEWSMON_ES_REPLICAS" in proc.stderr and "无效" in proc.stderr, proc.stderr
        assert len(proc.stderr.strip().splitlines()) == 1
