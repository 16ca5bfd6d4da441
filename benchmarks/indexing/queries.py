"""The query table both backends must agree on (tests) and that the benchmark times.

Written against the fixture mini-internet's articles (crawler/fixtures/articles.yaml):
simplified and traditional script, phrases, OR, exclusions, Latin letters and
digits inside words, punctuation inside a phrase, and site/date filters.
Each entry is (query, filters).

``SUBSTRING_EDGES`` are substrings *inside* a Latin/number token ("kw" in "20kw",
"20" in "2021"), which whole-token prefilters miss; the tests check both backends
against the exact answer (every copy tested with ``Query.matches``).
"""
from __future__ import annotations

QUERY_TABLE: list[tuple[str, dict]] = [
    # simplified <-> traditional
    ("激光产业园", {}),
    ("激光產業園", {}),
    ("绵阳", {}),
    ("綿陽", {}),
    ("平桥区", {}),
    ("平橋區 項目", {}),
    ("新冠病毒疫苗", {}),
    ("疫苗接種 問答", {}),
    ("傳感智能製造", {}),
    ("衢州 綠色產業", {}),
    # phrases
    ('"第九次会办会"', {}),
    ('"三个一批"', {}),
    ('"小微企业所得税"', {}),
    ('"金属激光3D打印"', {}),
    ('"项目落地年"', {}),
    ('"涪江绵阳段"', {}),
    # OR
    ("防汛 OR 停水", {}),
    ("激光 OR 传感", {}),
    ("疫苗 OR 停电 OR 开学", {}),
    ("衢州 OR 洛江 OR 平桥", {}),
    # exclusions
    ("激光 -宿迁", {}),
    ("激光产业 -论坛", {}),
    ("项目 -平桥", {}),
    ("所得税 -个体工商户", {}),
    ("防汛 -2021", {}),
    # Latin letters and digits next to CJK, punctuation inside a phrase
    ("3d", {}),
    ("中小学生", {}),
    ("招商产业", {}),
    ("(2020)", {}),
    ("科技城 新区", {}),
    # filters
    ("激光", {"sites": ["sucheng-gov"]}),
    ("激光", {"sites": ["laser-industry", "mianyang-news"]}),
    ("项目", {"since": "2021-01-01"}),
    ("项目", {"until": "2020-12-31"}),
    ("疫苗", {"since": "2021-03-21", "until": "2021-03-21"}),
    ("所得税", {"sites": ["mianyang-news"], "since": "2021-04-09"}),
    ("激光", {"limit": 3}),
    ("区", {"limit": 5}),
    ("的", {"limit": 50}),
]

SUBSTRING_EDGES: list[tuple[str, dict]] = [
    ("kw", {}),
    ("20", {}),
    ('"8.6亿元"', {}),     # also inside "18.6亿元"
    ("万瓦", {}),          # control: a plain CJK substring
]

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
