"""A small index of recent articles for the output tests (exports, watch feeds, charts):
real TRS-style government pages (``web/trs_article.html``) run through the real
extraction, dated relative to today in NEWSMON_TZ so the 30-day charts and feeds see
them. ``sucheng-gov`` has 5 articles three days ago and none two days ago."""
from __future__ import annotations

import html
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

from index import open_index
from index.base import ArticleRecord
from pipelines.extract import extract_article
from pipelines.records import build_record

TEMPLATE = (Path(__file__).parent / "web" / "trs_article.html").read_text(encoding="utf-8")
SITES = {"sucheng-gov": ("宿城区人民政府", "江苏省宿迁市宿城区", "http://www.sczf.gov.cn"),
         "sihong-gov": ("泗洪县人民政府", "江苏省宿迁市泗洪县", "http://www.sihong.gov.cn"),
         "suqian-news": ("宿迁网", "江苏省宿迁市", "http://www.sqxww.cn")}
LASER = ["宿城区召开激光产业园建设推进会，听取园区基础设施建设、项目招引和企业服务等方面工作汇报，研究部署下一阶段重点任务。",
         "会议指出，激光产业园是全区打造先进制造业集群的重要载体，今年以来园区累计签约项目12个，总投资达46.5亿元。",
         "会议强调，要紧盯激光器、光学元件、激光装备等细分领域，开展精准招商、产业链招商，力争年内再引进一批强链补链项目。"]
FLOOD = ["入汛以来，泗洪县严格落实防汛责任制，对全县23座小型水库、136公里河道堤防开展拉网式隐患排查，共发现并整改隐患点位47处。",
         "县防汛抗旱指挥部要求，各乡镇要严格执行24小时值班和领导带班制度，备足防汛物资，确保第一时间报告、第一时间处置。"]
ROADS = ["宿城区交通运输局近日对辖区农村公路开展集中养护，重点整治路面坑槽、边沟堵塞和标志标线缺失等问题。",
         "截至目前，全区已完成农村公路养护里程86公里，修补坑槽1200余平方米，清理边沟34公里，群众出行条件进一步改善。"]
# key: (site, days ago, time, title, paragraphs, story of)
ARTICLES = {
    "laser": ("sucheng-gov", 3, "09:30", "宿城区召开激光产业园建设推进会", LASER, None),
    "laser-repost": ("suqian-news", 3, "15:10", "宿城区召开激光产业园建设推进会", ["宿迁网讯："] + LASER, "laser"),
    "laser-sign": ("sucheng-gov", 3, "10:05", "宿城区激光产业园新签约3个光学元件项目",
                   ["宿城区激光产业园近日集中签约3个光学元件项目，总投资11.2亿元，涵盖激光晶体、精密光学镜片等产品。"] + LASER[2:], None),
    "laser-talent": ("sucheng-gov", 3, "14:20", "宿城区举办激光产业人才专场招聘会",
                     ["宿城区在激光产业园举办人才专场招聘会，23家激光企业提供岗位460个，吸引1200余名求职者到场。",
                      "招聘会现场设置政策咨询台，为求职者解读人才公寓、安家补贴等激光产业人才政策。"], None),
    "roads": ("sucheng-gov", 3, "16:45", "宿城区集中开展农村公路养护", ROADS, None),
    "roads-2": ("sucheng-gov", 3, "17:30", "宿城区农村公路养护进度过半", ROADS[1:] + ROADS[:1], None),
    "flood": ("sihong-gov", 1, "08:15", "泗洪县全面排查防汛隐患", FLOOD, None),
    "laser-old": ("sucheng-gov", 12, "11:00", "宿城区激光产业园标准厂房开工建设",
                  ["宿城区激光产业园标准厂房项目开工建设，新开工面积18万平方米，预计明年6月竣工交付。"] + LASER[1:2], None),
}


@dataclass
class Corpus:
    index_url: str
    today: date
    records: dict[str, ArticleRecord]

    def day(self, key: str) -> str:
        return (self.today - timedelta(days=ARTICLES[key][1])).isoformat()


def page(site: str, title: str, published: str, paragraphs: list[str]) -> bytes:
    name = SITES[site][0]
    body = "\n".join(f"      <p>{html.escape(p)}</p>" for p in paragraphs)
    return TEMPLATE.format(title=html.escape(title), site_name=name, published=published,
                           source=name, column="新闻动态", paragraphs=body).encode("utf-8")


def build_corpus(index_url: str, today: date) -> Corpus:
    records: dict[str, ArticleRecord] = {}
    with open_index(index_url) as index:
        for n, (key, (site, ago, at, title, paragraphs, story_of)) in enumerate(ARTICLES.items()):
            day = today - timedelta(days=ago)
            url = f"{SITES[site][2]}/xwdt/{day:%Y%m}/t{day:%Y%m%d}_{4120000 + n}.html"
            article = extract_article(page(site, title, f"{day.isoformat()} {at}", paragraphs), url,
                                      {"Content-Type": "text/html; charset=utf-8"})
            record = build_record(article, site=site, region=SITES[site][1],
                                  fetched_at=f"{day.isoformat()}T{at}:30+08:00")
            origin = records.get(story_of) if story_of else None
            record.story_id = origin.story_id if origin else "s-" + record.id[:16]
            record.canonical = origin is None
            index.upsert_article(record)
            records[key] = record
        index.flush()
    return Corpus(index_url, today, records)
