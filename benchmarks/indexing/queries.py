"""The queries the indexing benchmark times: the fixture sites' table (both backends must
agree on it; crawler.fixtures.queries, shared with the tests) and the generated corpus's.
"""
from __future__ import annotations

from crawler.fixtures.queries import QUERY_TABLE, SUBSTRING_EDGES  # noqa: F401 - the benchmarks' table too

# The same kinds of query, worded for the generated corpus of benchmarks/dedup
# (county reports: projects, meetings, vaccination, business environment), so the
# latency benchmark also times queries that hit thousands of stories.
CORPUS_QUERIES: list[tuple[str, dict]] = [
    ("项目", {}),
    ("項目 開工", {}),
    ('"项目为王"', {}),
    ("营商环境 OR 耕地保护", {}),
    ("疫苗接种 -龙游", {}),
    ("会议 -项目", {}),
    ("亿元", {"limit": 50}),
    ("专项督查组", {"sites": ["gov-16", "gov-29"]}),
    ("项目", {"since": "2024-02-01", "until": "2024-02-07"}),
    ("城乡环境综合整治", {"since": "2024-03-01"}),
]
