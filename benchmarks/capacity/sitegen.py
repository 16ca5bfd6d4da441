"""Generated government news sites for the capacity benchmark, from the fixture templates.

Site ``i`` is a TRS WCM site (even ``i``: ``/xwdt/index.html``, ``index_1.html``...,
articles ``/xwdt/202612/t20261206_4100123.html``, UTF-8, the ``sucheng_*.j2``
templates) or a Hanweb JCMS site (odd ``i``: ``/col/col1229/index.html?uid=4321&pageNum=2``,
articles ``/art/2026/12/6/art_1229_3400123.html``, GBK declared gb2312, the
``pingqiao_*.j2`` templates). Its articles are numbered; article ``n`` exists
once ``n < initial + new_per_round * rounds_elapsed`` and lists show the newest
first, ``PER_PAGE`` a page, as real columns do. Texts are built from phrase
pools seeded by (site, article), so every article is its own, reproducibly.
"""
from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import jinja2
from markupsafe import Markup

PER_PAGE = 15
HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
# The fixture templates (moving from tests/fixtures to crawler/fixtures): whichever is there.
TEMPLATE_DIRS = [REPO / "crawler" / "fixtures" / "templates", REPO / "tests" / "fixtures" / "templates"]

PLACES = ["城南街道", "河西镇", "东关社区", "高新区", "经开区", "双河镇", "青龙乡", "北关街道", "白马镇", "新城片区",
          "龙泉街道", "石桥镇", "桃源乡", "临港园区", "古城街道", "柳林镇"]
SUBJECTS = ["区政府常务会议", "区委理论学习中心组", "区市场监管局", "区住建局", "区农业农村局", "区教育局",
            "区卫健委", "区应急管理局", "区生态环境分局", "区人社局", "区医保局", "区文旅局", "区交通运输局"]
ACTIONS = ["专题研究", "部署推进", "督导检查", "调研走访", "集中开展", "全面启动", "召开推进会研究", "组织开展"]
TOPICS = ["老旧小区改造", "高标准农田建设", "安全生产大检查", "城乡环境综合整治", "义务教育优质均衡",
          "稳岗就业服务", "乡村振兴示范村创建", "营商环境优化", "秸秆禁烧", "防汛备汛", "食品安全抽检",
          "医保基金监管", "重点项目建设", "文明城市创建", "冬季供暖保障", "消防安全隐患排查"]
CLAUSES = ["会议要求，各部门要压实责任、细化措施，确保各项任务按期完成",
           "截至目前，已累计完成投资{n}万元，惠及群众{m}户",
           "下一步，{place}将持续加大工作力度，推动{topic}提质增效",
           "现场，工作人员逐项查看台账资料，对发现的{k}处问题当场交办、限期整改",
           "据了解，今年以来{place}共排查整改问题{k}个，建立长效管理机制{j}项",
           "{subject}负责同志表示，要把{topic}作为民生实事抓紧抓实",
           "此次活动共发放宣传资料{m}余份，接受群众咨询{k}人次",
           "会上通报了{topic}工作进展情况，{place}作了交流发言",
           "该项目总投资{n}万元，建成后可新增就业岗位{k}个",
           "与会人员围绕{topic}中的难点问题深入讨论，提出意见建议{j}条"]


@dataclass(frozen=True)
class SiteShape:
    index: int
    host: str
    kind: str        # "trs" or "hanweb"
    name: str


def host_of(i: int) -> str:
    """Site ``i``'s own loopback address: 127.100.0.1, 127.100.0.2, ... (250 per /24)."""
    return f"127.{100 + i // 62500}.{(i // 250) % 250}.{i % 250 + 1}"


def site(i: int) -> SiteShape:
    kind = "trs" if i % 2 == 0 else "hanweb"
    return SiteShape(i, host_of(i), kind, f"bench-{kind}-{i:04d}")


class Pages:
    """Renders every page of every generated site; ``count(i)`` articles exist now."""

    def __init__(self, initial: int = 30, new_per_round: int = 3):
        folder = next(d for d in TEMPLATE_DIRS if d.is_dir())
        self.env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(folder)), autoescape=True)
        self.initial = initial
        self.new_per_round = new_per_round

    def count(self, rounds: int) -> int:
        return self.initial + self.new_per_round * rounds

    # -- articles -----------------------------------------------------------------
    def article(self, s: SiteShape, n: int) -> dict:
        rnd = random.Random(f"{s.index}/{n}")
        day = date(2026, 12, 6) - timedelta(days=max(0, 400 - n) // 3)
        place, subject, topic = rnd.choice(PLACES), rnd.choice(SUBJECTS), rnd.choice(TOPICS)
        title = f"{place}{rnd.choice(ACTIONS)}{topic}工作（第{n + 1}期）"
        paragraphs = []
        for _ in range(rnd.randint(4, 7)):
            clauses = rnd.sample(CLAUSES, 3)
            paragraphs.append("；".join(c.format(n=rnd.randint(120, 98000), m=rnd.randint(300, 20000),
                                                 k=rnd.randint(3, 400), j=rnd.randint(2, 30), place=place,
                                                 topic=topic, subject=subject) for c in clauses) + "。")
        if s.kind == "trs":
            art_id = 4100000 + n
            path = f"/xwdt/{day:%Y%m}/t{day:%Y%m%d}_{art_id}.html"
        else:
            art_id = 3400000 + n
            path = f"/art/{day.year}/{day.month}/{day.day}/art_1229_{art_id}.html"
        return dict(title=title, path=path, published=day.isoformat(), paragraphs=paragraphs, artid=str(art_id),
                    source=f"{subject}", author="", editor=rnd.choice(["王敏", "李静", "张伟", "刘洋"]))

    def article_page(self, s: SiteShape, n: int, total: int) -> str:
        a = self.article(s, n)
        arts = {k: self.article(s, k) for k in (n - 1, n + 1) if 0 <= k < total}
        y, m, d = a["published"].split("-")
        A = dict(a, date_display=a["published"], description=a["paragraphs"][0][:60], yyyymm=y + m,
                 compact=y + m + d, ym=f"{y}-{m}", dd=d, image=False, attachment=None, noise=[], spam_title=None)
        body = Markup("\n".join(f"<p style=\"text-indent: 2em\">{Markup.escape(p)}</p>" for p in a["paragraphs"]))
        related = [dict(path=r["path"], title=r["title"], published=r["published"]) for r in arts.values()]
        prefix = "sucheng" if s.kind == "trs" else "pingqiao"
        return self.env.get_template(f"{prefix}_article.j2").render(
            a=A, body=body, prev=arts.get(n - 1), next=arts.get(n + 1), related=related)

    # -- lists ----------------------------------------------------------------------
    def list_page(self, s: SiteShape, page: int, total: int) -> str | None:
        """List page ``page`` (0-based), newest first; None past the last."""
        npages = max(1, -(-total // PER_PAGE))
        if page >= npages:
            return None
        numbers = range(total - 1 - page * PER_PAGE, max(-1, total - 1 - (page + 1) * PER_PAGE), -1)
        items = []
        for n in numbers:
            a = self.article(s, n)
            href = "." + a["path"][len("/xwdt"):] if s.kind == "trs" else a["path"]
            items.append(dict(href=href, title=a["title"], published=a["published"], path=a["path"]))
        if s.kind == "trs":
            return self.env.get_template("sucheng_list.j2").render(items=items, page=page, npages=npages)
        return self.env.get_template("pingqiao_list.j2").render(items=items, page=page + 1, npages=npages,
                                                                per_page=PER_PAGE, total=total)

    def home(self, s: SiteShape, total: int) -> str:
        items = [dict(href=a["path"], title=a["title"], published=a["published"], path=a["path"])
                 for a in (self.article(s, n) for n in range(total - 1, max(-1, total - 8), -1))]
        prefix = "sucheng" if s.kind == "trs" else "pingqiao"
        return self.env.get_template(f"{prefix}_home.j2").render(items=items)

    # -- routing ----------------------------------------------------------------------
    def page(self, s: SiteShape, path: str, query: str, total: int) -> str | None:
        """The page at ``path?query`` of site ``s`` with ``total`` articles, or None (404)."""
        if path in ("/", "/index.html"):
            return self.home(s, total)
        if s.kind == "trs":
            if path in ("/xwdt/", "/xwdt/index.html"):
                return self.list_page(s, 0, total)
            if path.startswith("/xwdt/index_") and path.endswith(".html"):
                number = path[len("/xwdt/index_"):-5]
                return self.list_page(s, int(number), total) if number.isdigit() else None
            if path.startswith("/xwdt/") and "/t" in path and "_" in path:
                return self._article_at(s, path, 4100000, total)
            return None
        if path == "/col/col1229/index.html":
            params = dict(p.split("=", 1) for p in query.split("&") if "=" in p)
            number = params.get("pageNum", "1")
            return self.list_page(s, int(number) - 1, total) if number.isdigit() and int(number) >= 1 else None
        if path.startswith("/art/") and "/art_1229_" in path:
            return self._article_at(s, path, 3400000, total)
        return None

    def _article_at(self, s: SiteShape, path: str, base: int, total: int) -> str | None:
        digits = path.rsplit("_", 1)[-1].removesuffix(".html")
        if not digits.isdigit():
            return None
        n = int(digits) - base
        if not 0 <= n < total or self.article(s, n)["path"] != path:
            return None
        return self.article_page(s, n, total)


def encode(s: SiteShape, text: str) -> tuple[bytes, str]:
    """The page's bytes and Content-Type, in the encoding its template declares."""
    if s.kind == "hanweb":
        return text.encode("gbk", errors="xmlcharrefreplace"), "text/html; charset=gb2312"
    return text.encode("utf-8"), "text/html; charset=utf-8"


def etag(body: bytes) -> str:
    return '"' + hashlib.sha1(body).hexdigest()[:16] + '"'
