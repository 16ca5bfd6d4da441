"""The discovery benchmark's machinery: serve sites on loopback, crawl each with the real
``newsmon crawl`` (a sites file with only ``name`` and ``start_urls``), score what was
indexed against the gold, and count what the crawl asked of hosts outside its site.

Used by ``bench.py`` (``make bench-discovery``) and ``tests/test_discovery_families.py``.

* Fixture families: ``tests/fixtures/discovery/build.py`` builds them into a temporary
  folder; gold is its ``gold.json`` (recall and precision on article pages).
* Snapshots: ``../shared/devdata/sites/<host>/`` served as they are (no rewriting: all
  but a handful of their links are relative); gold is ``sites.json``: recall over
  ``reachable_articles`` that have article text (not ``low_text``), precision over every
  page ``sites.json`` calls an article.
* Off scope: every request a crawl of site S makes to another served host (the offsite
  host, another site) is counted at the servers' access log; a host name the crawl tries
  to resolve (snapshot link farms point at real domains) is counted by ``dnslog/`` in
  the crawl process and refused there, so the benchmark never leaves the machine.
"""
from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from urllib.parse import unquote, urlsplit

REPO = Path(__file__).resolve().parents[2]
FIXTURES = REPO / "tests" / "fixtures" / "discovery"
DEVDATA_SITES = REPO.parent / "shared" / "devdata" / "sites"
DNSLOG = Path(__file__).resolve().parent / "dnslog"
VALIDATION_SNAPSHOTS = ("www.fjmjzz.com", "www.gxpopss.cn", "www.zjgztb.com")   # devdata README's split
TARGETS = {"recall": 0.97, "precision": 0.98, "dead_links_recall": 0.95, "offscope": 0}


def _load(name: str, path: Path):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module      # (dataclasses look their module up)
    spec.loader.exec_module(module)
    return module


def server_module():
    return _load("newsmon_discovery_serve", FIXTURES / "serve.py")


def builder_module():
    return _load("newsmon_discovery_build", FIXTURES / "build.py")


def fixture_gold() -> dict:
    return json.loads((FIXTURES / "gold.json").read_text(encoding="utf-8"))


@dataclass
class SiteScore:
    site: str
    group: str                 # "family", "held-out", "dead-links", "dev", "validation"
    gold: int                  # gold articles recall is counted on
    found: int                 # of those, indexed
    indexed: int               # article pages indexed
    correct: int               # indexed pages that are articles by the gold
    pages_fetched: int
    errors: dict = field(default_factory=dict)
    offscope_requests: int = 0
    offscope_hosts: list = field(default_factory=list)
    offscope_sample: list = field(default_factory=list)   # "<host> <target>" requests that left the site
    seconds: float = 0.0
    exit_code: int = 0
    missed: list = field(default_factory=list)      # a sample of gold articles not indexed
    wrong: list = field(default_factory=list)       # a sample of indexed non-articles
    via: dict = field(default_factory=dict)         # gold reachable only via a feed/sitemap: {via: [found, gold]}

    @property
    def recall(self) -> float:
        return self.found / self.gold if self.gold else 0.0

    @property
    def precision(self) -> float:
        return self.correct / self.indexed if self.indexed else 0.0

    def to_dict(self) -> dict:
        return {**asdict(self), "recall": round(self.recall, 4), "precision": round(self.precision, 4)}


def page_key(url_or_path: str) -> str:
    """Path (+ query) as the gold spells it: ``/`` and ``dir/`` are ``dir/index.html``."""
    parts = urlsplit(url_or_path)
    path = unquote(parts.path or "/")
    if path.endswith("/"):
        path += "index.html"
    return path + (f"?{parts.query}" if parts.query else "")


def crawl_env(dns_log: Path) -> dict:
    env = dict(os.environ)
    env.update({"NEWSMON_ALLOW_HOSTS": "127.0.0.0/8", "NEWSMON_DOWNLOAD_DELAY": "0",
                "PYTHONIOENCODING": "utf-8", "NEWSMON_BENCH_DNS_LOG": str(dns_log),
                "PYTHONPATH": os.pathsep.join(p for p in (str(DNSLOG), env.get("PYTHONPATH", "")) if p)})
    return env


@dataclass
class CrawlRun:
    summary: dict
    exported: list[dict]
    seconds: float
    exit_code: int
    stderr: str
    offscope_requests: int
    offscope_hosts: list[str]
    offscope_sample: list[str]


def crawl_one(name: str, url: str, served, workdir: Path, timeout: float = 1800) -> CrawlRun:
    """One ``newsmon crawl`` of one site (its own process, index and DNS log)."""
    workdir.mkdir(parents=True, exist_ok=True)
    sites_file = workdir / f"{name}.yaml"
    sites_file.write_text(f"sites:\n  - name: {name}\n    start_urls: [{json.dumps(url)}]\n", encoding="utf-8")
    index_url = f"sqlite:///{workdir}/{name}.db"
    dns_log = workdir / f"{name}.dns.log"
    env = crawl_env(dns_log)
    before = len(served.requests())
    started = time.monotonic()
    proc = subprocess.run([sys.executable, "-m", "crawler", "crawl", "--sites", str(sites_file),
                           "--index", index_url, "--json", "-q"], cwd=REPO, env=env, capture_output=True,
                          text=True, encoding="utf-8", timeout=timeout)
    seconds = time.monotonic() - started
    try:
        summary = json.loads(proc.stdout)
    except ValueError:
        summary = {}
    exported = subprocess.run([sys.executable, "-m", "crawler", "export", "--index", index_url], cwd=REPO,
                              env=env, capture_output=True, text=True, encoding="utf-8", timeout=300)
    lines = [json.loads(line) for line in exported.stdout.splitlines() if line.strip()]
    elsewhere = [r for r in served.requests()[before:] if r[0] != name]
    hosts = sorted(set(dns_log.read_text(encoding="utf-8").split())) if dns_log.exists() else []
    sample = sorted({f"{site} {target}" for site, _m, target, _s in elsewhere})[:8]
    return CrawlRun(summary, lines, seconds, proc.returncode, proc.stderr, len(elsewhere), hosts, sample)


def score(name: str, group: str, run: CrawlRun, recall_gold: set[str], article_gold: set[str]) -> SiteScore:
    site = run.summary.get("sites", {}).get(name, {})
    indexed = {page_key(line["url"]) for line in run.exported if line.get("site") == name}
    errors = {k.split("/", 1)[1]: v for k, v in site.items() if k.startswith("errors/")}
    return SiteScore(
        site=name, group=group, gold=len(recall_gold), found=len(recall_gold & indexed), indexed=len(indexed),
        correct=len(indexed & article_gold), pages_fetched=int(site.get("pages_fetched", 0)), errors=errors,
        offscope_requests=run.offscope_requests + len(run.offscope_hosts), offscope_hosts=run.offscope_hosts,
        offscope_sample=run.offscope_sample,
        seconds=round(run.seconds, 1), exit_code=run.exit_code,
        missed=sorted(recall_gold - indexed)[:5], wrong=sorted(indexed - article_gold)[:5])


def fixture_groups(gold: dict) -> dict[str, str]:
    return {name: ("held-out" if info.get("held_out") else
                   "dead-links" if name == gold["dead_links_site"] else "family")
            for name, info in gold["sites"].items()}


def run_fixtures(workdir: Path, names=None, echo=print) -> list[SiteScore]:
    """Build the fixture families, serve them with the offsite host, crawl and score each."""
    gold = fixture_gold()
    built = builder_module().build(workdir / "sites")
    if built["articles"] != gold["articles"]:
        raise RuntimeError("tests/fixtures/discovery/gold.json is stale: rerun build.py --write-gold")
    groups = fixture_groups(gold)
    serve = server_module()
    scores = []
    with serve.start_sites(workdir / "sites", access_log=workdir / "access.log", offsite=True) as served:
        for name in names or list(gold["sites"]):
            articles = {a["path"] for a in gold["articles"] if a["site"] == name}
            run = crawl_one(name, served.urls[name], served, workdir / "runs")
            scores.append(score(name, groups[name], run, articles, articles))
            indexed = {page_key(line["url"]) for line in run.exported if line.get("site") == name}
            for a in gold["articles"]:
                if a["site"] == name and a.get("via"):
                    found_gold = scores[-1].via.setdefault(a["via"], [0, 0])
                    found_gold[0] += a["path"] in indexed
                    found_gold[1] += 1
            echo(format_row(scores[-1]))
    return scores


def snapshot_gold(entry: dict) -> tuple[set[str], set[str]]:
    """(recall gold: reachable articles with text, every article page) of a sites.json entry."""
    reachable = entry.get("reachable_articles", [])
    recall = {page_key(a["path"]) for a in reachable if not a.get("low_text")}
    every = {page_key(a["path"]) for a in reachable + entry.get("unreachable_articles", [])}
    return recall, every


def run_snapshots(workdir: Path, root: Path = DEVDATA_SITES, names=None, echo=print) -> list[SiteScore]:
    meta = json.loads((root / "sites.json").read_text(encoding="utf-8"))
    serve = server_module()
    scores = []
    workdir.mkdir(parents=True, exist_ok=True)
    with serve.start_sites(root, access_log=workdir / "snapshots-access.log", offsite=False,
                           host_base=40) as served:
        for name in names or sorted(meta):
            recall, every = snapshot_gold(meta[name])
            group = "validation" if name in VALIDATION_SNAPSHOTS else "dev"
            run = crawl_one(name, served.urls[name] + "index.html", served, workdir / "runs")
            scores.append(score(name, group, run, recall, every))
            echo(format_row(scores[-1]))
    return scores


HEADER = (f"{'site':<20} {'group':<10} {'recall':>7} {'prec.':>7} {'gold':>5} {'found':>5} {'indexed':>7} "
          f"{'pages':>6} {'off-scope':>9} {'secs':>6}  errors")


def format_row(s: SiteScore) -> str:
    errs = ", ".join(f"{k} {v}" for k, v in sorted(s.errors.items())) or "-"
    return (f"{s.site:<20} {s.group:<10} {s.recall:>7.3f} {s.precision:>7.3f} {s.gold:>5} {s.found:>5} "
            f"{s.indexed:>7} {s.pages_fetched:>6} {s.offscope_requests:>9} {s.seconds:>6.1f}  {errs}")
