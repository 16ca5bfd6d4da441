"""Dependencies as a user gets them: `pip install .` into a fresh venv with the pip that
`python3 -m venv` ships (23.2.1 with Python 3.11.7: not upgraded, that is the point),
then `newsmon extract` on a real page; and the user's broken state (lxml_html_clean
uninstalled, what pip < 23.3 left behind) as one line naming the package, never a
traceback nor a crawl of worse text.

The install is real (every dependency from the package index, into the venv), with
pip's own cache (``PIP_CACHE_DIR``, else ~/.cache/pip): ~30 s cold, ~26 s cached on
the 2-core machine, nearly all of it unpacking numpy, scipy, numba and llvmlite.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import REPO

# What `pip install .` reads from a checkout (pyproject.toml's packages, py-modules, readme).
SOURCE = ("pyproject.toml", "README.md", "scheduler.py", "crawler", "spiders", "pipelines", "index", "monitor", "netsafety")
PAGE = REPO / "tests" / "pages" / "readhub" / "topic-2019" / "body.html"
# A sentence of that page's body (the gold's last paragraph): real text, not a title or a menu.
BODY_SENTENCE = "三大运营商的上级主管部门已下发通知"
SITES = "sites:\n  - name: example-gov\n    start_urls: [http://127.0.0.1:9/]\n"


class FreshVenv:
    def __init__(self, root: Path):
        self.root = root
        self.src = root / "src"
        self.venv = root / "venv"
        self.bin = self.venv / "bin"
        self.env = _user_env()
        self.pip_version = ""
        self.install_seconds = 0.0

    def run(self, *args, timeout: float = 120, cwd: Path | None = None) -> subprocess.CompletedProcess:
        return subprocess.run([str(a) for a in args], capture_output=True, text=True, encoding="utf-8",
                              env=self.env, timeout=timeout, cwd=cwd or self.root)

    def pip(self, *args, timeout: float = 900) -> subprocess.CompletedProcess:
        return self.run(self.bin / "python", "-m", "pip", *args, timeout=timeout)


def _user_env() -> dict:
    """The environment of a shell, less what points into this checkout's venv."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME", "PIP_NO_CACHE_DIR", "PIP_USER")}
    env["PATH"] = os.pathsep.join(p for p in env.get("PATH", "").split(os.pathsep)
                                  if not p.startswith(str(REPO / ".venv")))
    env.setdefault("PIP_CACHE_DIR", str(Path.home() / ".cache" / "pip"))
    env.update({"PIP_DISABLE_PIP_VERSION_CHECK": "1", "PYTHONIOENCODING": "utf-8",
                "NEWSMON_ALLOW_HOSTS": "127.0.0.1"})
    return env


@pytest.fixture(scope="module")
def fresh(tmp_path_factory) -> FreshVenv:
    v = FreshVenv(tmp_path_factory.mktemp("fresh-install"))
    v.src.mkdir()
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info", "build")
    for name in SOURCE:   # a copy: pip builds in the source tree (build/, *.egg-info)
        path = REPO / name
        if path.is_dir():
            shutil.copytree(path, v.src / name, ignore=ignore)
        else:
            shutil.copy2(path, v.src / name)
    base = getattr(sys, "_base_executable", sys.executable)    # `python3`, not this venv's python
    made = v.run(base, "-m", "venv", v.venv, timeout=300)
    assert made.returncode == 0, made.stderr
    v.pip_version = v.pip("--version").stdout.split()[1]
    started = time.monotonic()
    installed = v.pip("install", v.src)
    v.install_seconds = time.monotonic() - started
    assert installed.returncode == 0, (f"pip {v.pip_version} could not install newsmon:\n"
                                       + installed.stdout[-3000:] + installed.stderr[-5000:])
    print(f"\npip {v.pip_version}: `pip install .` took {v.install_seconds:.1f}s")
    return v


def test_pip_install_with_the_venv_pip_extracts_real_text(fresh):
    # the package pip < 23.3 leaves out when it comes only as lxml's extra
    clean = fresh.run(fresh.bin / "python", "-c", "import lxml.html.clean, trafilatura, readability")
    assert clean.returncode == 0, f"pip {fresh.pip_version}: {clean.stderr}"
    result = fresh.run(fresh.bin / "newsmon", "extract", PAGE, "--json")
    assert result.returncode == 0, result.stderr
    article = json.loads(result.stdout)
    assert BODY_SENTENCE in article["text"], article
    assert article["title"] == "运营商 5G 手机促销方式曝光，禁止提供购机补贴"
    assert "Traceback" not in result.stderr


def _assert_one_line_naming(result: subprocess.CompletedProcess, package: str) -> None:
    output = result.stdout + result.stderr
    assert result.returncode != 0, output
    assert "Traceback" not in output, output
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, output
    assert package in lines[0] and f"-m pip install {package}" in lines[0], lines[0]
    assert "缺少" in lines[0], lines[0]


def test_a_missing_extractor_package_is_one_line_and_no_work(fresh):
    """The user's state after pip < 23.3: everything installed but lxml_html_clean."""
    removed = fresh.pip("uninstall", "-y", "lxml_html_clean")
    assert removed.returncode == 0, removed.stderr
    try:
        sites = fresh.root / "sites.yaml"
        sites.write_text(SITES, encoding="utf-8")
        index = f"sqlite:///{fresh.root / 'newsmon.db'}"
        newsmon = fresh.bin / "newsmon"
        for command in ([newsmon, "extract", PAGE, "--json"],
                        [newsmon, "crawl", "--sites", sites, "--index", index],
                        [newsmon, "schedule", "--sites", sites, "--index", index],
                        [fresh.bin / "python", fresh.src / "scheduler.py", "--sites", sites, "--index", index]):
            result = fresh.run(*command, cwd=fresh.src if command[0] != newsmon else None)
            _assert_one_line_naming(result, "lxml_html_clean")
            assert result.stdout == "", result.stdout     # nothing extracted, no crawl summary
        assert not (fresh.root / "newsmon.db").exists()   # stopped before any work
    finally:
        restored = fresh.pip("install", "lxml_html_clean")
        assert restored.returncode == 0, restored.stderr


# --- the same error from inside extraction, where an extractor is imported lazily ---------------

def _trafilatura_gone(*_args, **_kw):
    raise ModuleNotFoundError("No module named 'trafilatura'", name="trafilatura")


def test_an_import_error_inside_extraction_stops_extract_not_one_page(monkeypatch):
    import crawler.extract_batch as extract_cmd
    from pipelines.requirements import MissingExtractor
    monkeypatch.setattr(extract_cmd, "extract_article", _trafilatura_gone)
    with pytest.raises(MissingExtractor) as info:     # not {"error": "crash: ..."} for every page
        extract_cmd.extract_one(str(PAGE))
    message = str(info.value)
    assert "\n" not in message and "trafilatura" in message and "-m pip install trafilatura" in message


class _Stats(dict):
    def inc_value(self, key, n=1):
        self[key] = self.get(key, 0) + n

    def get_value(self, key, default=None):
        return self.get(key, default)

    def set_value(self, key, value):
        self[key] = value


def test_an_import_error_inside_extraction_stops_the_crawl_once(monkeypatch):
    from crawler.items import RawPage
    from pipelines import stages
    from pipelines.requirements import MissingExtractor
    monkeypatch.setattr(stages, "extract_article", _trafilatura_gone)
    stats = _Stats()
    pipeline = stages.ExtractPipeline(stats, {})
    for n in range(2):
        page = RawPage(url=f"http://a.gov.cn/{n}.html", site="a", status=200, headers={}, body=b"<p>x</p>",
                       fetched_at="2026-01-01T00:00:00")
        with pytest.raises(MissingExtractor):   # an item error: not "seen", fetched again next crawl
            pipeline.process_item(page)
    assert "trafilatura" in stats[stages.MISSING_EXTRACTOR_STAT]
    assert not any("extract_crash" in key for key in stats)


def test_an_unimportable_htmldate_is_not_a_quiet_missing_date(monkeypatch):
    from lxml import html
    from pipelines.extraction import dates
    from pipelines.requirements import MissingExtractor
    monkeypatch.setitem(sys.modules, "htmldate", None)     # `import htmldate` raises ImportError
    with pytest.raises(MissingExtractor) as info:
        dates._htmldate(html.fromstring("<html><body><p>x</p></body></html>"), "http://a.gov.cn/1.html")
    assert "htmldate" in str(info.value)


_CRAWL_WITHOUT_TRAFILATURA = """
import sys
import pipelines.stages as stages
def gone(*_args, **_kw):   # as if trafilatura went away after the start-up check
    raise ModuleNotFoundError("No module named 'trafilatura'", name="trafilatura")
stages.extract_article = gone
from crawler.cli import main
main(sys.argv[1:], prog_name="newsmon")
"""


def test_a_crawl_that_loses_an_extractor_stops_with_the_reason(fixture_sites, tmp_path):
    from conftest import newsmon_env
    sites = tmp_path / "sites.yaml"
    fixture_sites.write_sites_file(sites)
    index = f"sqlite:///{tmp_path / 'newsmon.db'}"
    result = subprocess.run([sys.executable, "-c", _CRAWL_WITHOUT_TRAFILATURA, "crawl", "--sites", str(sites),
                             "--index", index, "--json"], capture_output=True, text=True, encoding="utf-8",
                            env=newsmon_env(), timeout=300, cwd=REPO)
    assert result.returncode == 1, result.stderr[-3000:]
    assert "Traceback" not in result.stderr, result.stderr[-3000:]
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("Error: 缺少") and "-m pip install trafilatura" in last, last
    summary = json.loads(result.stdout)
    assert summary["finish_reason"] == "missing_extractor"
    assert summary["totals"].get("articles_indexed", 0) == 0
    assert "extract_crash" not in json.dumps(summary)
