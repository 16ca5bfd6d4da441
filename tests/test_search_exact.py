"""Search answers are exact on both backends without reading texts: the full-text
index holds one token per character, punctuation and spaces included
(``index/exact_tokens.py``), so its phrase matches are the substring matches.
Checked against the definition (every copy tested with ``Query.matches``) on a
generated county-news corpus plus pages whose punctuation, Latin units, spaces
and title/body boundary used to make an FTS phrase match more or less than the
substring; totals, both orders, later pages and the watch chart's day counts."""
from __future__ import annotations

import pytest

from benchmarks.dedup.corpus import generate
from benchmarks.dedup.run import record_of
from index.query import parse_query
from index.story_search import LEAD_WINDOW, search_page
from test_index_contract import backend, make_record  # noqa: F401 (fixture)
from test_search_paths import expected_matches

PV = ("6月18日，宿豫区首个“光储充”一体化示范项目正式并网。项目装机容量620kW，配套储能500kWh，"
      "预计年发电量72.4万kWh，每年可减少二氧化碳排放约560吨。\n"
      "区发改委表示，将坚持项目为王，推动分布式光伏在工业园区屋顶全覆盖。")
PV_REPOST = ("转自宿豫发布：宿豫区首个光储充一体化示范项目正式并网，装机容量620 kW。"
             "下一步将围绕项目，为王牌产业做好能源保障。")
CITY = ("宿迁市Smart City 智慧城市运行管理中心上线试运行，汇聚城管、交通、应急等12个部门的数据，"
        "实现“一屏观全城、一网管全城”。")
MEETING_TITLE = "宿城区召开防汛工作推进会"
MEETING = "会议要求，各乡镇要压实防汛责任，备足防汛物资，确保安全度汛。"
# A long report that names 防汛 only well past its lead (LEAD_WINDOW): held, with no lead bonus.
ECONOMY_TITLE = "宿豫区召开上半年经济运行分析会"
ECONOMY = ("7月10日，宿豫区召开上半年经济运行分析会，通报全区主要经济指标完成情况，分析当前经济运行中存在的问题，"
           "安排部署下半年重点工作。会议指出，上半年全区地区生产总值同比增长6.1%，一般公共预算收入完成序时进度，"
           "规上工业增加值、固定资产投资、社会消费品零售总额等指标增速均高于全市平均水平。\n"
           + "会议强调，各部门要紧盯全年目标任务，持续优化营商环境，狠抓项目建设，扎实推进重点项目早开工、早投产、早见效；"
           * 6 + "\n同时，要统筹抓好安全生产和防汛工作，确保全区经济社会大局稳定。")

# (query, filters): each touches a case a phrase of dropped punctuation or whole
# Latin words got wrong, next to ordinary searches of the generated corpus.
SEARCHES: list[tuple[str, dict]] = [
    ('"项目为王"', {}),                    # not 项目，为王 (the repost)
    ('"项目，为王"', {}),                  # punctuation inside the term
    ("kw", {}),                            # inside 620kw and 500kwh
    ("kwh 并网", {}),
    ('"620 kw"', {}),                      # a space inside the term: only the repost
    ('"city 智慧"', {}),
    ('"city智慧"', {}),                    # no such substring
    ('"推进会会议"', {}),                  # would cross from the title into the body
    ("“光储充”", {}),                      # curly quotes are the phrase's quotes
    ("(光伏 -并网) OR 为王", {}),           # an OR holding an exclusion
    ("项目 -并网", {"since": "2024-01-01"}),
    ("会议 OR 防汛", {"sites": ["gov-3", "suyu"]}),
    ("项目", {"regions": ["宿迁市"]}),
    ("防汛 OR 耕地", {}),                  # 防汛 held past the economy report's lead (FTS says so)
    ("营商环境 防汛", {}),                 # the same, needed by the query
]


@pytest.fixture
def corpus(backend):  # noqa: F811 - the contract suite's fixture
    records = []
    for article in generate(300, seed=5):
        record = record_of(article)
        record.story_id, record.canonical = f"s-{article.story:06d}", article.origin
        records.append(record)
    pv = make_record("http://www.suyu.gov.cn/art/2024/6/18/art_4421_3301.html", "suyu",
                     "宿豫区首个光储充一体化示范项目并网", PV, "2024-06-18")
    # a story whose canonical copy is not in the index: two reposts, each its own date
    reposts = [make_record(f"http://www.sqxww.cn/content_{n}.htm", "suqian-news", "光储充示范项目并网",
                           PV_REPOST, day, story_id="s-orphan", canonical=False)
               for n, day in ((88201, "2024-06-19"), (88202, "2024-06-21"))]
    city = make_record("http://www.suqian.gov.cn/sqsrmzf/szyw/202405/t20240520_7733.html", "suqian",
                       "智慧城市运行管理中心上线", CITY, "2024-05-20")
    meeting = make_record("http://www.sczf.gov.cn/art/2024/7/3/art_1229_3456001.html", "suqian-sucheng",
                          MEETING_TITLE, MEETING, "2024-07-03")
    economy = make_record("http://www.suyu.gov.cn/art/2024/7/10/art_4421_3390.html", "suyu",
                          ECONOMY_TITLE, ECONOMY, "2024-07-10")
    for record in (pv, *reposts, city, meeting, economy):
        record.region = "江苏省宿迁市"
        records.append(record)
    for record in records:
        backend.upsert_article(record)
    backend.flush()
    return records


def test_pages_and_totals_are_the_definition(backend, corpus):  # noqa: F811
    hits = {}
    for text, filters in SEARCHES:
        expected = expected_matches(corpus, text, **filters)
        hits[text] = len(expected)
        query = parse_query(text)
        for sort in ("date", "relevance"):
            order = expected if sort == "date" else sorted(expected, key=lambda m: -m.score)
            for offset in (0, 5):
                page = search_page(backend, query, **filters, sort=sort, offset=offset, limit=5)
                assert page.total == len(expected), (text, filters)
                assert [s["story_id"] for s in page.stories] == [m.story_id for m in order[offset:offset + 5]], \
                    (text, filters, sort, offset)
        assert backend.match_stories(query, **filters) == expected, (text, filters)
    # the cases above really occur in the corpus
    assert hits['"项目为王"'] >= 1 and hits['"项目，为王"'] == 1 and hits['"620 kw"'] == 1
    assert hits["kw"] == 2 and hits['"city 智慧"'] == 1
    assert hits['"city智慧"'] == hits['"推进会会议"'] == 0
    assert hits["项目"] > 20
    economy = next(r for r in corpus if r.title == ECONOMY_TITLE)
    assert economy.norm_text.find("防汛") > LEAD_WINDOW and hits["防汛 OR 耕地"] >= 2


def test_the_orphan_story_is_listed_once_by_its_newest_copy(backend, corpus):  # noqa: F811
    page = search_page(backend, parse_query('"项目，为王"'))
    assert page.total == 1
    assert page.stories[0]["story_id"] == "s-orphan"
    assert page.stories[0]["snippet"]


def test_a_watch_chart_counts_the_matching_pages_per_day(backend, corpus):  # noqa: F811
    for text in ("kw", '"项目为王"', "项目 -并网"):
        query = parse_query(text)
        expected: dict[str, int] = {}
        for record in corpus:
            day = record.date[:10]
            if "2024-01-01" <= day <= "2024-12-31" and query.matches(record.norm_title + "\n" + record.norm_text):
                expected[day] = expected.get(day, 0) + 1
        assert backend.count_by_day(since="2024-01-01", until="2024-12-31", query=query) == expected, text
