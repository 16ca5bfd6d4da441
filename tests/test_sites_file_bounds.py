"""A hostile or oversized sites file: the real ``newsmon crawl`` and ``newsmon
schedule`` refuse it with the one-line ``file:line: message`` error, quickly and
in little memory (peak RSS of the child process), never with a traceback. A
realistic 3,000-site file still loads, and anchors within bounds still work."""
from __future__ import annotations

import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from conftest import REPO, newsmon_env
from crawler.sites import SitesFileError, load_sites
from procmem import wait_with_peak_rss

SITE = "sites:\n  - name: bomb\n    start_urls: {urls}\n    region: {region}\n    schedule: {schedule}\n"


def laughs(levels: int) -> str:
    """Billion laughs: a<n> expands to 9**(n+1) strings; the text is under 1 KB."""
    return "\n".join(['a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]'] + [
        f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 9) + "]" for i in range(1, levels)]) + "\n"


# a0..a8: the definitions themselves cross the budget, at a6 (line 7). a0..a5 stay under
# it (~2.1 million characters each), so three aliases of a5 cross it where they are used.
LAUGHS, SMALL_LAUGHS, USE = laughs(9), laughs(6), "[*a5, *a5, *a5]"


def site(urls="[http://www.a.gov.cn/]", region="江苏省", schedule='"every 1h"') -> str:
    return SITE.format(urls=urls, region=region, schedule=schedule)


def hostile_files(tmp: Path) -> dict[str, tuple[Path, str]]:
    """name -> (file, what its error must contain)."""
    pwned = tmp / "pwned"
    deep_flow = "[" * 10_000 + "]" * 10_000
    deep_block = "  " + "- " * 10_000 + "v\n"       # compact nested block sequences, one line
    texts = {
        "billion laughs in region": (LAUGHS + site(region="*a8"), ":7: 别名展开后超过"),
        "billion laughs in start_urls": (LAUGHS + site(urls="*a8"), ":7: 别名展开后超过"),
        "alias bomb used in region": (SMALL_LAUGHS + site(region=USE), ":10: 别名展开后超过"),
        "alias bomb used in start_urls": (SMALL_LAUGHS + site(urls=USE), ":9: 别名展开后超过"),
        "alias bomb used in watches": (SMALL_LAUGHS + site() + f"watches:\n  - name: w\n    query: {USE}\n",
                                       ":14: 别名展开后超过"),
        "python tag": (site(region=f'!!python/object/apply:os.system ["touch {pwned}"]'),
                       ":4: 不支持的 YAML 标签 !!python/object/apply:os.system"),
        "10,000-deep flow nesting in schedule": (site(schedule=deep_flow), ":5: 嵌套超过 32 层"),
        "10,000-deep block nesting in watches": (site() + "watches:\n" + deep_block, ":7: 嵌套超过 32 层"),
        "self-referencing alias": (site(region="&loop [*loop]"), ":4: 别名 *loop 引用了包含它自身的节点"),
        "a million one-character list items": (site(region="[" + ",".join(["1"] * 1_000_000) + "]"),
                                                ":4: 超过 250,000 个 YAML 节点"),
    }
    files = {}
    for name, (text, expected) in texts.items():
        path = tmp / (name.replace(" ", "-").replace(",", "") + ".yaml")
        path.write_text(text, encoding="utf-8")
        files[name] = (path, expected)
    big = tmp / "50mb.yaml"
    entry = "".join(f"  - name: s{i}\n    start_urls: [http://s{i}.gov.cn/]\n    region: 江苏省宿迁市宿城区\n"
                    for i in range(1000))
    big.write_text("sites:\n" + entry * (50 * 2**20 // len(entry.encode()) + 1), encoding="utf-8")
    assert big.stat().st_size > 50 * 2**20
    files["50 MB file"] = (big, ": 站点文件超过 5 MB 上限")
    return files


@dataclass
class Run:
    returncode: int
    stderr: str
    stdout: str
    seconds: float
    peak_mb: float


def run_measured(*args) -> Run:
    started = time.monotonic()
    proc = subprocess.Popen([sys.executable, "-m", "crawler", *map(str, args)], cwd=REPO, env=newsmon_env(),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    # The error is one short line, so the pipes cannot fill while we poll the memory.
    peak = wait_with_peak_rss(proc)
    seconds = time.monotonic() - started
    return Run(proc.returncode, proc.stderr.read().decode("utf-8"), proc.stdout.read().decode("utf-8"),
               seconds, peak)


@pytest.fixture(scope="module")
def hostile(tmp_path_factory):
    return hostile_files(tmp_path_factory.mktemp("hostile"))


CASES = ["billion laughs in region", "billion laughs in start_urls", "alias bomb used in region",
         "alias bomb used in start_urls", "alias bomb used in watches", "python tag",
         "10,000-deep flow nesting in schedule", "10,000-deep block nesting in watches",
         "self-referencing alias", "a million one-character list items", "50 MB file"]


@pytest.mark.parametrize("command", ["crawl", "schedule"])
@pytest.mark.parametrize("case", CASES)
def test_hostile_sites_file_gives_one_line_error_in_little_memory(hostile, tmp_path, case, command):
    path, expected = hostile[case]
    run = run_measured(command, "--sites", path, "--index", f"sqlite:///{tmp_path}/newsmon.db")
    print(f"{command} {case}: {run.seconds:.2f}s {run.peak_mb:.0f} MB")
    assert run.returncode in (1, 2), run.stderr[-2000:]
    assert "Traceback" not in run.stderr + run.stdout
    lines = run.stderr.strip().splitlines()
    assert lines == [lines[0]] and lines[0].startswith(f"Error: {path}"), run.stderr[-2000:]
    assert expected in lines[0], lines[0]
    assert run.peak_mb < 200, f"{run.peak_mb:.0f} MB"
    assert not (path.parent / "pwned").exists()


def test_realistic_3000_site_file_loads_whole(tmp_path):
    lines = ["sites:"]
    for i in range(3000):
        lines += [f"  - name: site-{i:04d}", f"    start_urls: [https://www.site{i}.gov.cn/, https://www.site{i}.gov.cn/xwzx/]",
                  f"    region: 江苏省宿迁市宿城区第{i}街道", '    schedule: "every 30m"']
        if i % 5 == 0:
            lines += [f"    allowed_prefixes: [https://www.site{i}.gov.cn/xwzx/]", r"    article_url_pattern: '/t\d{8}_\d+\.html$'",
                      "    encoding: gb18030", '    selectors: {title: "h1.title", body: "#zoom", date: ".pubdate"}',
                      "    max_pages: 500", "    download_delay: 1.5", "    concurrency: 2"]
    lines += ["watches:"] + [f"  - name: w{i}\n    query: 激光 产业园 -招聘\n    email: team@example.com" for i in range(50)]
    path = tmp_path / "sites.yaml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    started = time.perf_counter()
    sites = load_sites(path)
    seconds = time.perf_counter() - started
    assert len(sites.sites) == 3000 and sites.sites[5].selectors["body"] == "#zoom"
    assert len(sites.watches) == 50 and sites.watch_lines[:2] == [len(lines) - 49, len(lines) - 46]
    print(f"3000 sites loaded in {seconds:.2f}s")   # a figure for the log, not a timed assertion (~0.25 s; the old loader ~3.7 s)


def write(tmp_path, text):
    path = tmp_path / "sites.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_anchors_within_bounds_still_work(tmp_path):
    text = ("cms: &trs {title: h1.title, body: '#zoom'}\nsites:\n"
            + "".join(f"  - name: s{i}\n    start_urls: [http://s{i}.gov.cn/]\n    selectors: *trs\n" for i in range(200)))
    sites = load_sites(write(tmp_path, text))
    assert {s.selectors["body"] for s in sites.sites} == {"#zoom"}


@pytest.mark.parametrize("text, message", [
    ("sites:\n  - name: a\n    start_urls: [http://a.gov.cn/]\n    region: [江苏省, 宿迁市]\n",
     ":4: site 'a': field 'region': 必须是一段文本"),
    ("sites:\n  - name: a\n    start_urls: [[http://a.gov.cn/]]\n", ":3: site 'a': field 'start_urls': 必须是 URL"),
    ("sites:\n  - name: a\n    start_urls: [http://a.gov.cn/]\n    max_pages: !!int ten\n",
     ":4: site 'a': field 'max_pages': invalid literal"),
    ("sites:\n  - name: a\n    start_urls: [http://a.gov.cn/]\n    region: 2021-02-30\n",
     ":4: site 'a': field 'region': day is out of range"),
    ("sites:\n  - ? [a]\n    : b\n", ":2: 键必须是普通文本"),
    ("sites:\n  - name: a\n    start_urls: [http://a.gov.cn/]\nwatches: 3\n", ":4: 'watches' 必须是列表"),
    ("sites:\n  - name: a\n    start_urls: [http://a.gov.cn/]\ndigest: [a]\n", ":4: 'digest' 必须是映射"),
    ("sites:\n  - name: a\n    start_urls: [http://a.gov.cn/]\n    region: !custom x\n", ":4: 不支持的 YAML 标签 !custom"),
])
def test_values_that_cannot_be_used_are_one_line_errors(tmp_path, text, message):
    path = write(tmp_path, text)
    with pytest.raises(SitesFileError) as err:
        load_sites(path)
    assert str(err.value).startswith(f"{path}:") and message in str(err.value), str(err.value)
    assert "\n" not in str(err.value)
