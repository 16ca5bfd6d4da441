"""Compile story clustering's numba kernels ahead of any crawl (``make install``).

The kernels (``pipelines/stories/minhash.py``, ``index/sqlite/band_kernels.py``) compile on
first use and numba caches them beside the code. Compiling inside a crawl costs
it ~7 s and ~150 MB of peak memory once, so installing runs this instead. It
clusters a repost into a throwaway index, which compiles every specialization a
crawl uses (a demo crawl and 3,000 benchmark articles after it compiled nothing new).

    python -m pipelines.stories.warmup
"""
from __future__ import annotations

import tempfile

import numpy as np

from index import open_index
from index.sqlite.band_kernels import RecentKeys
from index.base import ArticleRecord
from index.identity import article_id, canonical_url
from pipelines.stories.clustering import StoryClusterer, text_hash
from index.normalize import normalize_text


def compile_kernels(workdir: str) -> None:
    """Compile the kernels, or load them from numba's cache, by clustering a
    repost into a throwaway index in ``workdir``."""
    body = ("7月12日上午，宿城区召开激光产业园建设推进会，研究部署园区基础设施建设、"
            "重点项目招引和企业服务等工作。会议指出，激光产业园今年已签约项目12个，"
            "总投资38.6亿元。会议要求，各部门要压实责任，加快项目建设进度。")
    with open_index(f"sqlite:///{workdir}/kernels.db") as index:
        clusterer = StoryClusterer(index)
        for n, (text, source) in enumerate([(body, ""), ("宿迁网讯：" + body, "宿城区")]):
            url = f"http://www.example{n}.gov.cn/art/2024/7/12/{n}.html"
            key = canonical_url(url)
            record = ArticleRecord(
                id=article_id(key), url=url, canonical_url=key, site=f"site{n}", title="激光产业园建设推进会",
                text=text, norm_title=normalize_text("激光产业园建设推进会"), norm_text=normalize_text(text),
                text_hash=text_hash(text), published=f"2024-07-1{2 + n}", fetched_at="2024-07-14T08:00:00",
                source=source)
            clusterer.store(record)
    table = RecentKeys(4096, 16)              # and the recent-keys table's growth
    table.add(np.frombuffer(np.arange(40, dtype="<i8").tobytes(), dtype="<i8"), 1, 0)


if __name__ == "__main__":
    with tempfile.TemporaryDirectory() as workdir:
        compile_kernels(workdir)
