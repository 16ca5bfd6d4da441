"""A seeded syndication corpus: original reports and their reposts, with the truth.

Example:
    python -m benchmarks.dedup.corpus --size 2000 --seed 7 | head -3

What it models (templates and vocabulary in ``vocabulary.py``, no network):
1. originals on county government sites (meeting, project and work reports),
   written from sentence templates with places, people, companies and numbers;
2. reposts on city news sites, provincial portals, industry portals and other
   county sites: relay lead-ins ("宿迁网讯："), editor lines ("（责任编辑：王敏）"),
   1-3 edited sentences (synonyms, inserted openers, dropped or added sentences),
   truncation with "（全文略）", traditional script (OpenCC s2t), new titles,
   published the same day up to six days later, with a 来源 line naming the origin;
3. distinct-but-similar stories that must stay apart: one city-wide meeting
   template reported by two or three counties on the same day (only place names
   differ), and a county's monthly economic bulletin (only the numbers differ).

Articles come out in crawl order (fetch time), which is not publication order: a
repost is often fetched before its origin. Each article carries its true story
and, for siblings, the family of look-alike stories it belongs to.
"""
from __future__ import annotations

import argparse
import heapq
import json
import random
import sys
from dataclasses import asdict, dataclass
from datetime import date, datetime, timedelta
from typing import Iterator

import opencc

from benchmarks.dedup import vocabulary as V

MAX_ARTICLES_PER_DAY = 2000  # density of a national monitor: what the 30-day window holds at 1M
MIN_DAYS = 60                # small corpora still span two bulletin months
START = date(2024, 1, 1)


@dataclass
class GeneratedArticle:
    url: str
    site: str
    region: str | None
    title: str
    text: str
    published: str
    fetched_at: str
    source: str | None
    story: int                 # truth: the story this copy belongs to
    family: int                # look-alike group (template/bulletin siblings), -1 if none
    origin: bool               # truth: this copy is the story's origin


@dataclass
class Site:
    name: str
    host: str
    region: str | None
    county: tuple[str, str, str] | None


def _sites() -> tuple[list[Site], list[Site]]:
    """County government sites (where originals appear) and relay sites."""
    counties = [Site(f"gov-{i:02d}", f"www.gov{i:02d}.gov.cn", "".join(c), c)
                for i, c in enumerate(V.COUNTIES)]
    cities = sorted({(p, c) for p, c, _ in V.COUNTIES})
    relays = [Site(f"news-{i:02d}", f"www.news{i:02d}.cn", p + c, None) for i, (p, c) in enumerate(cities)]
    provinces = sorted({p for p, _, _ in V.COUNTIES})
    relays += [Site(f"portal-{i:02d}", f"www.portal{i:02d}.com.cn", p, None) for i, p in enumerate(provinces)]
    relays += [Site(f"industry-{i}", f"www.industry{i}.com", None, None) for i in range(6)]
    return counties, relays


class Generator:
    def __init__(self, size: int, seed: int):
        self.size, self.rng = size, random.Random(seed)
        self.county_sites, self.relay_sites = _sites()
        self.s2t = opencc.OpenCC("s2t")
        self.story = 0
        self.family = 0
        self.serial = 0
        self.per_day = max(20, min(MAX_ARTICLES_PER_DAY, size // MIN_DAYS))

    # -- slots and sentences ---------------------------------------------------------

    def name(self) -> str:
        return self.rng.choice(V.SURNAMES) + self.rng.choice(V.GIVEN)

    def town(self) -> str:
        return self.rng.choice(V.TOWN_NAMES) + self.rng.choice(V.TOWN_SUFFIXES)

    def slots(self, county: tuple[str, str, str], day: date) -> dict:
        r = self.rng
        d1, d2, d3 = r.sample(V.DEPARTMENTS, 3)
        i1, i2 = r.sample(V.INDUSTRIES, 2)
        numbers = {f"n{i}": r.randint(2, 400) for i in range(1, 11)}
        pcts = {f"pct{i}" if i else "pct": round(r.uniform(1.5, 15.0), 1) for i in range(13)}
        return {
            **numbers, **pcts, "province_short": county[0][:2], "city": county[1][:-1],
            "county": county[2], "unit": county[2][-1], "date": f"{day.month}月{day.day}日",
            "ampm": r.choice(("上午", "下午", "")), "month": day.month, "year": day.year,
            "meeting": r.choice(V.MEETINGS), "topic": r.choice(V.WORK_TOPICS),
            "purpose": r.choice(V.PURPOSES), "principle": r.choice(V.PRINCIPLES),
            "verb_done": r.choice(V.VERBS_DONE), "industry": i1, "industry2": i2,
            "company": r.choice(V.COMPANIES_A) + r.choice(V.COMPANIES_B), "dept1": d1, "dept2": d2,
            "dept3": d3, "town": self.town(), "town2": self.town(), "leader": self.name(),
            "leader2": self.name(), "leader_title": r.choice(V.TITLES), "leader2_title": r.choice(V.TITLES),
            "money": round(r.uniform(1, 300), 1), "money2": round(r.uniform(1, 300), 1),
            "money3": round(r.uniform(1, 300), 1),
        }

    def pick_templates(self, kind: str) -> list[str]:
        """2-4 formulaic sentences of the kind, in order, with 4-8 free sentences among them."""
        r = self.rng
        pool = V.KINDS[kind]
        chosen = [pool[i] for i in sorted(r.sample(range(len(pool)), r.randint(2, 4)))]
        for _ in range(r.randint(4, 8)):
            chosen.insert(r.randint(1, len(chosen)), self.free_sentence())
        return chosen

    def free_sentence(self) -> str:
        """A sentence template composed from parts (its slots are filled with the story's)."""
        r = self.rng
        (verb, obj), (verb2, obj2) = r.sample(V.ACTIONS, 2)
        # The parts carry slots ({county}, {n1}...): format leaves them for the story's values.
        return r.choice(V.FREE_FORMS).format(
            subject=r.choice(V.SUBJECTS), adverb=r.choice(V.ADVERBS), verb=verb, object=obj,
            verb2=verb2, object2=obj2, result=r.choice(V.RESULTS), goal=r.choice(V.GOALS),
            time=r.choice(V.TIME_PHRASES))

    def bulletin_templates(self, site: Site) -> list[str]:
        """Each county's statistics bureau words its bulletin its own way, the same
        every month: a per-county choice of the bulletin sentences plus two of its own."""
        own = random.Random(site.name)
        saved, self.rng = self.rng, own
        try:
            extra = [self.free_sentence() for _ in range(2)]
        finally:
            self.rng = saved
        chosen = [V.BULLETIN[0]] + own.sample(V.BULLETIN[1:], 4)
        return chosen[:3] + extra + chosen[3:]

    @staticmethod
    def title(kind: str, s: dict) -> str:
        return {"meeting": "{county}召开{meeting}", "project": "{county}{company}{industry}项目开工",
                "work": "{county}扎实开展{topic}",
                "bulletin": "{year}年{month}月{county}经济运行情况"}[kind].format(**s)

    # -- stories -----------------------------------------------------------------------

    def origin(self, site: Site, day: date, title: str, sentences: list[str], family: int) -> GeneratedArticle:
        self.story += 1
        self.serial += 1
        r = self.rng
        published = day.isoformat() + (f"T{r.randint(7, 18):02d}:{r.choice((0, 15, 30, 45)):02d}"
                                        if r.random() < 0.6 else "")
        source = r.choice((f"{site.county[2]}融媒体中心", f"{site.county[2]}人民政府", None))
        return GeneratedArticle(
            url=f"http://{site.host}/art/{day.year}/{day.month}/{day.day}/art_{self.serial}.html",
            site=site.name, region=site.region, title=title, text=self.paragraphs(sentences),
            published=published, fetched_at="", source=source, story=self.story, family=family,
            origin=True)

    def paragraphs(self, sentences: list[str]) -> str:
        out, i = [], 0
        while i < len(sentences):
            n = self.rng.randint(1, 3)
            out.append("".join(sentences[i:i + n]))
            i += n
        return "\n".join(out)

    def reposts(self, origin: GeneratedArticle, sentences: list[str], county: tuple[str, str, str]) -> list[GeneratedArticle]:
        r = self.rng
        if r.random() < 0.3:
            return []
        count = r.randint(8, 25) if r.random() < 0.03 else min(25, 1 + int(r.expovariate(0.8)))
        sites = r.sample([s for s in self.relay_sites + self.county_sites if s.name != origin.site],
                         count)
        day = date.fromisoformat(origin.published[:10])
        copies = []
        for site in sites:
            self.serial += 1
            when = day + timedelta(days=0 if r.random() < 0.25 else r.randint(1, 6))
            published = when.isoformat() + (f"T{r.randint(7, 21):02d}:{r.randint(0, 59):02d}"
                                             if r.random() < 0.6 else "")
            copies.append(GeneratedArticle(
                url=f"http://{site.host}/news/{when:%Y%m}/{self.serial}.htm", site=site.name,
                region=site.region, title=self.repost_title(origin.title, county),
                text=self.repost_text(sentences, county), published=published, fetched_at="",
                source=origin.source if origin.source and r.random() < 0.7 else None,
                story=origin.story, family=origin.family, origin=False))
        return copies

    def repost_title(self, title: str, county: tuple[str, str, str]) -> str:
        r = self.rng.random()
        if r < 0.5:
            return title
        if r < 0.7:
            return f"{county[1][:-1]}：{title}"
        if r < 0.85:
            return f"【{county[2]}】{title.replace(county[2], '')}"
        return title + "（图）"

    def repost_text(self, sentences: list[str], county: tuple[str, str, str]) -> str:
        r = self.rng
        body = list(sentences)
        if r.random() < 0.45:                      # 1-3 edited sentences
            for _ in range(r.randint(1, 3)):
                i = r.randrange(len(body))
                op = r.random()
                if op < 0.45:
                    old, new = r.choice(V.SYNONYMS)
                    body[i] = body[i].replace(old, new) if old in body[i] else r.choice(V.INSERTIONS) + body[i]
                elif op < 0.7:
                    body[i] = r.choice(V.INSERTIONS) + body[i]
                elif op < 0.85 and len(body) > 3 and i > 0:
                    del body[i]
                else:
                    body.insert(i + 1, r.choice(V.EXTRA_SENTENCES))
        if r.random() < 0.15:                      # truncated: the first 35-85% and a tail
            keep = max(2, round(len(body) * r.uniform(0.35, 0.85)))
            body = body[:keep] + [r.choice(V.TRUNCATION_TAILS)]
        fill = {"city": county[1][:-1], "county": county[2], "province_short": county[0][:2],
                "name": self.name(), "name2": self.name(), "name3": self.name()}
        text = self.paragraphs(body)
        if r.random() < 0.45:
            text = r.choice(V.LEAD_INS).format(**fill) + text
        if r.random() < 0.5:
            text += "\n" + r.choice(V.EDITOR_LINES).format(**fill)
        if r.random() < 0.15:
            text = self.s2t.convert(text)
        return text

    def day_of_stories(self, day: date) -> list[GeneratedArticle]:
        """Originals published on ``day`` with all their copies."""
        r = self.rng
        out: list[GeneratedArticle] = []
        while len(out) < self.per_day:
            roll = r.random()
            if roll < 0.8:                           # an ordinary report
                site = r.choice(self.county_sites)
                kind = r.choice(("meeting", "project", "work"))
                s = self.slots(site.county, day)
                sentences = [t.format(**s) for t in self.pick_templates(kind)]
                o = self.origin(site, day, self.title(kind, s), sentences, -1)
                out += [o] + self.reposts(o, sentences, site.county)
            elif roll < 0.92:                        # one city-wide template, 2-3 counties, same day
                self.family += 1
                first = r.choice(self.county_sites)
                peers = [c for c in self.county_sites if c.county[1] == first.county[1]]
                sites = r.sample(peers, min(len(peers), r.randint(2, 3)))
                if len(sites) < 2:
                    continue
                kind = r.choice(("meeting", "work"))
                s = self.slots(first.county, day)
                templates = self.pick_templates(kind)
                for site in sites:                   # only the places change
                    local = dict(s, county=site.county[2], unit=site.county[2][-1],
                                 town=self.town(), town2=self.town())
                    sentences = [t.format(**local) for t in templates]
                    o = self.origin(site, day, self.title(kind, local), sentences, self.family)
                    out += [o] + self.reposts(o, sentences, site.county)
            else:                                    # monthly bulletin: this month and the next
                self.family += 1
                site = r.choice(self.county_sites)
                s = self.slots(site.county, day)
                month_later = day + timedelta(days=r.randint(26, 29))
                templates = self.bulletin_templates(site)
                for when in (day, month_later):
                    fresh = self.slots(site.county, when)        # new numbers, same everything else
                    numbers = {k: v for k, v in fresh.items() if k.startswith(("n", "pct", "money"))}
                    local = dict(s, **numbers, month=when.month, year=when.year)
                    sentences = [t.format(**local) for t in templates]
                    o = self.origin(site, when, self.title("bulletin", local), sentences, self.family)
                    out += [o] + self.reposts(o, sentences, site.county)
        return out

    def articles(self) -> Iterator[GeneratedArticle]:
        """``size`` articles in crawl order: by fetch time, 0-60 hours after publication."""
        pending: list[tuple[str, int, GeneratedArticle]] = []
        emitted, day, tiebreak = 0, START, 0
        while emitted < self.size:
            for article in self.day_of_stories(day):
                published = datetime.fromisoformat(article.published[:10])
                article.fetched_at = (published + timedelta(minutes=self.rng.randint(0, 3600))
                                      ).isoformat(timespec="seconds") + "+00:00"
                tiebreak += 1
                heapq.heappush(pending, (article.fetched_at, tiebreak, article))
            day += timedelta(days=1)
            # Nothing generated later is published before ``day`` except the next
            # bulletins, which are fetched after ``day`` anyway.
            horizon = day.isoformat()
            while pending and pending[0][0] < horizon and emitted < self.size:
                yield heapq.heappop(pending)[2]
                emitted += 1


def generate(size: int, seed: int = 7) -> Iterator[GeneratedArticle]:
    return Generator(size, seed).articles()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Print a generated syndication corpus as JSON lines.")
    parser.add_argument("--size", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)
    for article in generate(args.size, args.seed):
        sys.stdout.write(json.dumps(asdict(article), ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
