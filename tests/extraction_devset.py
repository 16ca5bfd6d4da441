"""The extraction dev set: one corpus for the tests, the benchmark and the quality gate
(tests/quality_gate.py). A test helper: benchmarks/extraction imports it from here.

Two sources, both with hand-written gold:

* stored real pages ``tests/pages/<site>/<case>/`` whose ``expected.json`` has a
  full ``text`` (title, published, body paragraphs in order; see
  tests/pages/README.md for where each page comes from and its licence);
* the fixture mini-internet's articles (``crawler/fixtures/gold.json``), read
  through the fixture server's own path mapping.

``corpus_digest()`` hashes every byte the scores depend on (page bytes, info,
gold), so a floor is only ever compared with the corpus it was measured on.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PAGES = ROOT / "tests" / "pages"
FIXTURES = ROOT / "crawler" / "fixtures"


@dataclass(frozen=True)
class Page:
    name: str                 # "shanxi-gov/article-2019" or "fixture:sucheng-gov/xwdt/…"
    path: Path                # the raw bytes on disk
    url: str
    headers: dict
    gold: dict = field(hash=False, compare=False)   # title, published, text, with, without, spam
    kind: str = "real"        # "real" (stored page), "fixture", or "devdata" (gold/manifest.json)
    split: str = "tuned"      # "tuned" (tests/pages + fixtures), "dev" or "validation" (gold/manifest.json)

    @property
    def is_article(self) -> bool:
        return self.gold.get("kind", "article") == "article"

    def body(self) -> bytes:
        return self.path.read_bytes()


def stored_pages() -> list[Page]:
    out = []
    for d in sorted(PAGES.glob("*/*")):
        exp = d / "expected.json"
        if not exp.exists():
            continue
        gold = json.loads(exp.read_text(encoding="utf-8"))
        if "text" not in gold:
            continue   # snippet-only cases are tested, not scored
        info = json.loads((d / "info.json").read_text(encoding="utf-8"))
        out.append(Page(str(d.relative_to(PAGES)), d / "body.html", info["url"],
                        info.get("headers") or {}, gold))
    return out


@lru_cache(maxsize=1)
def _fixture_server():
    from crawler.fixtures import server as fixture_server
    return fixture_server


def fixture_pages() -> list[Page]:
    gold_file = FIXTURES / "gold.json"
    if not gold_file.exists():
        return []
    out = []
    for g in json.loads(gold_file.read_text(encoding="utf-8"))["articles"]:
        path = _fixture_server().fixture_file(g["site"], g["path"])
        if path is None:
            raise FileNotFoundError(f"{g['site']}{g['path']} is not in the fixture sites")
        out.append(Page(f"fixture:{g['site']}{g['path']}", Path(path), f"http://{g['site']}.test{g['path']}",
                        {"Content-Type": "text/html"}, g, kind="fixture"))
    return out


def dev_set() -> list[Page]:
    return stored_pages() + fixture_pages()


def corpus_digest(pages: list[Page] | None = None) -> str:
    """sha256 over names, URLs, raw bytes and gold of every page, in name order."""
    h = hashlib.sha256()
    for page in sorted(pages if pages is not None else dev_set(), key=lambda p: p.name):
        h.update(page.name.encode() + b"\0" + page.url.encode() + b"\0")
        h.update(hashlib.sha256(page.body()).digest())
        h.update(json.dumps(page.gold, ensure_ascii=False, sort_keys=True).encode())
    return h.hexdigest()[:16]
