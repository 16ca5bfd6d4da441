"""The devdata gold sample and its frozen dev/validation split.

``python benchmarks/extraction/devgold.py --sample`` writes ``gold/manifest.json`` once:
a random sample (seed ``SEED``) of article pages from ``../shared/devdata`` (11 per
site snapshot, every saved government page, the 9 library test pages), and for each
its split. The split is by *site* for the snapshots (4 of the 10 sites, drawn by the
seed, are validation: pages of one site share a template, so a page-level split
would leak it) and by page for the single saved pages. It was drawn before any
rule was written against these pages; the validation part is not read while the
extractor changes. Gold text is ``gold/<id>.txt`` (body paragraphs, one per line),
written by reading each page against design.md's quality rules.
"""
from __future__ import annotations

import argparse
import json
import random
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DEVDATA = ROOT.parent / "shared" / "devdata"
GOLD = Path(__file__).resolve().parent / "gold"
MANIFEST = GOLD / "manifest.json"
SEED = 20261206
PER_SITE = 11
VALIDATION_SITES = 4
VALIDATION_SHARE = 1 / 3


def snapshot_file(host: str, path: str) -> Path:
    rel = path.lstrip("/")
    if not rel or rel.endswith("/"):
        rel += "index.html"
    return DEVDATA / "sites" / host / rel


def sample() -> list[dict]:
    rng = random.Random(SEED)
    sites = json.loads((DEVDATA / "sites" / "sites.json").read_text(encoding="utf-8"))
    hosts = sorted(sites)
    validation_hosts = set(rng.sample(hosts, VALIDATION_SITES))
    pages = []
    for host in hosts:
        info = sites[host]
        articles = sorted(a["path"] for a in info["reachable_articles"])
        for path in sorted(rng.sample(articles, min(PER_SITE, len(articles)))):
            pages.append({"source": "sites", "family": info["cms_family"], "host": host,
                          "file": str(snapshot_file(host, path).relative_to(DEVDATA)),
                          "url": f"http://{info['original_host']}{path}",
                          "split": "validation" if host in validation_hosts else "dev"})
    saved = json.loads((DEVDATA / "homepages" / "homepages.json").read_text(encoding="utf-8"))
    order = list(range(len(saved)))
    rng.shuffle(order)
    held = set(order[:round(len(saved) * VALIDATION_SHARE)])
    for n, item in enumerate(saved):
        pages.append({"source": "homepages", "family": "government page", "host": item["host"],
                      "file": f"homepages/{item['file']}",
                      "url": item.get("page_url") or f"http://{item['host']}/",
                      "split": "validation" if n in held else "dev"})
    library = sorted(p for p in (DEVDATA / "extraction").glob("*/*.html"))
    held = set(rng.sample(range(len(library)), round(len(library) * VALIDATION_SHARE)))
    for n, path in enumerate(library):
        manifest = json.loads((path.parent / "manifest.json").read_text(encoding="utf-8"))
        entry = next((e for e in manifest.get("pages", []) if e.get("id") == path.stem), {})
        pages.append({"source": "extraction", "family": path.parent.name, "host": "",
                      "file": str(path.relative_to(DEVDATA)), "url": (entry.get("url") or "").split(" ")[0],
                      "split": "validation" if n in held else "dev"})
    for n, page in enumerate(pages):
        page["id"] = f"{n:03d}"
    return pages


def load() -> list[dict]:
    return json.loads(MANIFEST.read_text(encoding="utf-8"))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sample", action="store_true", help="draw the sample (refuses to redraw)")
    args = ap.parse_args(argv)
    if args.sample:
        if MANIFEST.exists():
            raise SystemExit(f"{MANIFEST} exists: the split is frozen")
        GOLD.mkdir(parents=True, exist_ok=True)
        MANIFEST.write_text(json.dumps(sample(), ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    pages = load()
    for split in ("dev", "validation"):
        print(split, sum(p["split"] == split for p in pages))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
