"""The benchmark's own pages: ``gold/manifest.json``'s dev and validation splits, beside the
dev set the tests score (tests/extraction_devset.py, re-exported here for bench.py).
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests"))

from extraction_devset import Page, corpus_digest, dev_set  # noqa: E402,F401 - bench.py's corpus too

GOLD = Path(__file__).resolve().parent / "gold"
DEVDATA = ROOT.parent / "shared" / "devdata"


def _shipped_gold(entry: dict) -> dict | None:
    """Gold that ships with a library page (``NNN.gold.txt``: paragraphs split by blank lines)."""
    html = DEVDATA / entry["file"]
    gold_txt = html.with_name(html.stem + ".gold.txt")
    if not gold_txt.exists():
        return None
    info = json.loads((html.parent / "manifest.json").read_text(encoding="utf-8"))
    meta = next((p for p in info.get("pages", []) if p.get("id") == html.stem), {})
    paragraphs = [" ".join(block.split()) for block in gold_txt.read_text(encoding="utf-8").split("\n\n")]
    return {"id": entry["id"], "kind": "article", "title": meta.get("title") or "",
            "published": (meta.get("publish_date") or meta.get("date") or "")[:10] or None,
            "text": "\n".join(p for p in paragraphs if p), "notes": f"shipped gold {gold_txt.name}"}


def manifest_pages(split: str) -> tuple[list[Page], int]:
    """Pages of ``gold/manifest.json`` in ``split`` ("dev" or "validation") that have gold
    (``gold/<id>.json``, else gold shipped beside a library page), and how many entries the
    split has in all (gold is written progressively; the benchmark scores what exists)."""
    manifest_file = GOLD / "manifest.json"
    if not manifest_file.exists():
        return [], 0
    entries = [e for e in json.loads(manifest_file.read_text(encoding="utf-8")) if e["split"] == split]
    out = []
    for e in entries:
        gold_file = GOLD / f"{e['id']}.json"
        try:
            gold = json.loads(gold_file.read_text(encoding="utf-8")) if gold_file.exists() else _shipped_gold(e)
        except (OSError, ValueError):
            gold = None   # a gold file being written right now
        if not gold or "text" not in gold:
            continue
        gold.setdefault("title", "")
        gold.setdefault("published", None)
        out.append(Page(f"{e['id']}", DEVDATA / e["file"], e["url"], {}, gold, kind="devdata", split=split))
    return out, len(entries)
