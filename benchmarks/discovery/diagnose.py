#!/usr/bin/env python3
"""Why was a gold article missed? For each dev snapshot, one real crawl (as ``bench.py``
runs it), then every missed gold article is put in one of three bins:

* ``not_requested``: discovery never asked for the page;
* ``not_handed``: fetched, but the spider did not read it as an article;
* ``refused``: handed to the pipelines and refused by extraction (the crawl's
  ``not an article <url>: ... (<reason>)`` / ``quarantined`` log lines), with the reason.

    python -m benchmarks.discovery.diagnose [--site HOST]... [--extraction-md FILE] [--json FILE]

Validation snapshots (``harness.VALIDATION_SNAPSHOTS``) and the extraction benchmark's
validation sites (``EXTRACTION_VALIDATION``) are refused: their pages are not to be read,
and this tool reads them.
"""
from __future__ import annotations

import argparse
import json
import re
import sys
import tempfile
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from benchmarks.discovery.harness import (  # noqa: E402
    DEVDATA_SITES, VALIDATION_SNAPSHOTS, crawl_one, page_key, score, server_module, snapshot_gold)

# The extraction benchmark's validation sites (benchmarks/extraction/gold): extraction is not
# tuned on them, so their refused pages are not listed either; bench.py gives their recall.
EXTRACTION_VALIDATION = ("www.jspn.js.cn", "www.lgedu.net")
_REFUSED = re.compile(r"not an article (\S+): (.*) \((\w+)\)\s*$")
_SPAM = re.compile(r"quarantined spam page (\S+): (.*)$")


def diagnose(name: str, meta: dict, served, workdir: Path) -> dict:
    recall, every = snapshot_gold(meta[name])
    before = len(served.requests())
    run = crawl_one(name, served.urls[name] + "index.html", served, workdir)
    requested = {page_key(t) for site, _m, t, _s in served.requests()[before:] if site == name}
    refused: dict[str, tuple[str, str]] = {}
    for line in run.stderr.splitlines():
        if m := _REFUSED.search(line):
            refused[page_key(m.group(1))] = (m.group(3), m.group(2))
        elif m := _SPAM.search(line):
            refused[page_key(m.group(1))] = ("spam", m.group(2))
    s = score(name, "dev", run, recall, every)
    indexed = {page_key(line["url"]) for line in run.exported if line.get("site") == name}
    bins: dict[str, list] = {"not_requested": [], "not_handed": [], "refused": []}
    for path in sorted(recall - indexed):
        if path in refused:
            bins["refused"].append([path, *refused[path]])
        elif path in requested:
            bins["not_handed"].append(path)
        else:
            bins["not_requested"].append(path)
    return {"site": name, "recall": round(s.recall, 4), "precision": round(s.precision, 4), "gold": s.gold,
            "found": s.found, "indexed": s.indexed, "pages": s.pages_fetched, **bins,
            "wrong": sorted(indexed - every),
            # refused pages gold does not call articles: what a looser extraction would let in
            "refused_other": sorted([path, *why] for path, why in refused.items() if path not in every)}


def extraction_markdown(results: list[dict]) -> str:
    lines = ["# Dev-snapshot articles refused by extraction (discovery benchmark)", "",
             "Written by `python -m benchmarks.discovery.diagnose --extraction-md ...` (dev snapshots "
             "only; the validation snapshots and the extraction benchmark's validation sites, "
             "www.jspn.js.cn and www.lgedu.net, are not read). Each URL below was found by discovery, fetched, "
             "handed to the pipelines as an article and refused there; gold (`sites.json`) calls it an "
             "article with text. Reason = the `ExtractionError.reason` (or `spam`).", ""]
    total = sum(len(r["refused"]) for r in results)
    gold = sum(r["gold"] for r in results)
    missed = sum(r["gold"] - r["found"] for r in results)
    lines += [f"{total} of {missed} missed gold articles ({gold} in all) are extraction refusals.", "",
              "| site | gold | missed | refused by extraction | reasons |", "|---|---|---|---|---|"]
    for r in results:
        reasons = Counter(x[1] for x in r["refused"])
        lines.append(f"| {r['site']} | {r['gold']} | {r['gold'] - r['found']} | {len(r['refused'])} | "
                     + (", ".join(f"{k} {v}" for k, v in reasons.most_common()) or "-") + " |")
    for r in results:
        if not r["refused"]:
            continue
        lines += ["", f"## {r['site']}", "", "| path | reason | message |", "|---|---|---|"]
        lines += [f"| `{p}` | {reason} | {msg.replace('|', '/')} |" for p, reason, msg in r["refused"]]
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--site", action="append")
    ap.add_argument("--extraction-md")
    ap.add_argument("--json")
    args = ap.parse_args(argv)
    meta = json.loads((DEVDATA_SITES / "sites.json").read_text(encoding="utf-8"))
    names = args.site or sorted(n for n in meta if n not in VALIDATION_SNAPSHOTS + EXTRACTION_VALIDATION)
    if set(names) & set(VALIDATION_SNAPSHOTS + EXTRACTION_VALIDATION):
        ap.error("validation snapshots are not diagnosed (their pages are not to be read)")
    results = []
    with tempfile.TemporaryDirectory(prefix="bench-diagnose-") as tmp:
        with server_module().start_sites(DEVDATA_SITES, access_log=Path(tmp) / "access.log", offsite=False,
                                         host_base=40) as served:
            for name in names:
                r = diagnose(name, meta, served, Path(tmp) / "runs")
                results.append(r)
                print(f"{name:<20} recall {r['recall']:.3f} precision {r['precision']:.3f}  "
                      f"not requested {len(r['not_requested'])}, not handed {len(r['not_handed'])}, "
                      f"refused {len(r['refused'])}, wrong {len(r['wrong'])}", flush=True)
    if args.json:
        Path(args.json).write_text(json.dumps(results, ensure_ascii=False, indent=1), encoding="utf-8")
    if args.extraction_md:
        Path(args.extraction_md).write_text(extraction_markdown(results), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
