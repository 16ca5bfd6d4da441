"""Extraction quality on the fixture mini-internet, against crawler/fixtures/gold.json.

Example:
    python benchmarks/extraction/eval_fixtures.py [--verbose]

Prints per-page body F1 / title / date and the means, then exits non-zero when
a pinned floor is missed. Floors are pinned here and never lowered silently.
F1 is over character multisets of the body with whitespace removed, so line
wrapping does not count but every missing or extra character does.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from pipelines.extraction.quality import NOISE_MARKERS, char_f1  # noqa: E402
from pipelines.article import ExtractionError  # noqa: E402
from pipelines.extract import extract_article  # noqa: E402
from crawler.fixtures import server as fixture_server  # noqa: E402
import trafilatura  # noqa: E402

_SERVER = fixture_server

FIXTURES = ROOT / "crawler" / "fixtures"
FLOORS = {"f1": 0.97, "title": 0.95, "date": 0.95}


def fixture_file(site: str, path: str) -> Path:
    """The file the fixture server serves for ``path`` (one mapping: crawler/fixtures/server.py)."""
    found = _SERVER.fixture_file(site, path)
    if found is None:
        raise FileNotFoundError(f"{site}{path} is not in the fixture sites")
    return found


def peer_trafilatura(body: bytes, url: str) -> tuple[str, str]:
    """The peer, as its users call it: bytes in, its own decoding and defaults."""
    text = trafilatura.extract(body, url=url) or ""
    meta = trafilatura.extract_metadata(body, default_url=url)
    return text, (meta.title if meta and meta.title else "")


def evaluate(verbose: bool = False) -> dict:
    gold = json.loads((FIXTURES / "gold.json").read_text(encoding="utf-8"))
    rows, noise_hits, elapsed, peer_elapsed, peer_f1, peer_titles = [], [], 0.0, 0.0, 0.0, 0
    for g in gold["articles"]:
        body = fixture_file(g["site"], g["path"]).read_bytes()
        url = f"http://{g['site']}.test{g['path']}"
        start = time.perf_counter()
        try:
            art = extract_article(body, url, {"Content-Type": "text/html"})
            text, title, published = art.text, art.title, (art.published or "")[:10]
        except ExtractionError as exc:
            text, title, published = "", "", f"error:{exc.reason}"
        elapsed += time.perf_counter() - start
        start = time.perf_counter()
        peer_text, peer_title = peer_trafilatura(body, url)
        peer_elapsed += time.perf_counter() - start
        peer_f1 += char_f1(peer_text, g["text"])
        peer_titles += peer_title == g["title"]
        f1 = char_f1(text, g["text"])
        row = {"page": f"{g['site']}{g['path']}", "f1": f1, "title": title == g["title"],
               "date": published == g.get("published"), "got_title": title, "got_date": published}
        rows.append(row)
        noise_hits += [(row["page"], m) for m in NOISE_MARKERS if m in text or m in title]
        flag = "" if f1 >= 0.97 and row["title"] and row["date"] else "  <--"
        print(f"{f1:6.3f} title={'ok' if row['title'] else 'NO'} date={'ok' if row['date'] else 'NO'}  {row['page']}{flag}")
        if verbose and flag:
            print(f"        title: {title!r} want {g['title']!r}\n        date: {published!r} want {g.get('published')!r}")
    non_articles_ok, non_articles = 0, [e for e in gold.get("non_articles", []) if fixture_file(e["site"], e["path"]).is_file()]
    for e in non_articles:
        try:
            extract_article(fixture_file(e["site"], e["path"]).read_bytes(), f"http://{e['site']}.test{e['path']}")
            print(f"non_article=NO (extracted as an article)  {e['site']}{e['path']} ({e.get('kind')})")
        except ExtractionError:
            non_articles_ok += 1
    quarantined_ok = 0
    for q in gold.get("quarantined", []):
        try:
            art = extract_article(fixture_file(q["site"], q["path"]).read_bytes(), f"http://{q['site']}.test{q['path']}")
            ok = art.spam
        except ExtractionError:
            ok = True
        quarantined_ok += ok
        print(f"quarantine={'ok' if ok else 'NO'}  {q['site']}{q['path']} ({q.get('reason')})")
    n = max(len(rows), 1)
    summary = {
        "pages": len(rows),
        "f1": sum(r["f1"] for r in rows) / n,
        "title": sum(r["title"] for r in rows) / n,
        "date": sum(r["date"] for r in rows) / n,
        "ms_per_page": 1000 * elapsed / n,
        "peer_trafilatura": {"f1": peer_f1 / n, "title": peer_titles / n, "ms_per_page": 1000 * peer_elapsed / n},
        "noise_hits": noise_hits,
        "quarantined": f"{quarantined_ok}/{len(gold.get('quarantined', []))}",
        "non_articles_refused": f"{non_articles_ok}/{len(non_articles)}",
    }
    return summary


def main() -> int:
    ap = argparse.ArgumentParser(description="extraction quality on the fixture sites")
    ap.add_argument("--verbose", "-v", action="store_true")
    args = ap.parse_args()
    s = evaluate(args.verbose)
    print(f"\npages={s['pages']} mean_f1={s['f1']:.4f} titles={s['title']:.1%} dates={s['date']:.1%} "
          f"ms/page={s['ms_per_page']:.1f} quarantined={s['quarantined']} "
          f"non_articles_refused={s['non_articles_refused']} noise_hits={len(s['noise_hits'])}")
    peer = s["peer_trafilatura"]
    print(f"peer trafilatura {trafilatura.__version__}, same pages, same run: mean_f1={peer['f1']:.4f} "
          f"titles={peer['title']:.1%} ms/page={peer['ms_per_page']:.1f} "
          f"(newsmon/trafilatura time ratio {s['ms_per_page'] / max(peer['ms_per_page'], 1e-9):.2f})")
    for page, marker in s["noise_hits"]:
        print(f"  noise {marker!r} in {page}")
    failed = [k for k, floor in FLOORS.items() if s[k] < floor] + (["noise"] if s["noise_hits"] else [])
    if failed:
        print("BELOW FLOOR:", ", ".join(failed))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
