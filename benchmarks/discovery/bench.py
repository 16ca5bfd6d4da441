#!/usr/bin/env python3
"""Discovery benchmark: does a zero-configuration crawl find a site's articles, only
them, and stay on the site? (issue 18)

    python -m benchmarks.discovery.bench [--only fixtures|snapshots] [--site NAME]...
                                         [--out data/bench-discovery]

Crawls, with the real ``newsmon crawl`` and a sites file holding only ``name`` and
``start_urls``: the six generated CMS families and the dead-links variant
(``tests/fixtures/discovery/``), and the ten snapshots of ``../shared/devdata/sites``.
Prints per site recall, precision, pages fetched, errors and off-scope requests; the
snapshots www.fjmjzz.com, www.gxpopss.cn and www.zjgztb.com are reported apart as
"validation" (never tune on them), as is the held-out fixture family. Writes
``results.json`` to ``--out``. See README.md here for the method.
"""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from benchmarks.discovery.harness import (  # noqa: E402
    DEVDATA_SITES, HEADER, TARGETS, SiteScore, format_row, run_fixtures, run_snapshots)


def _section(title: str, rows: list[SiteScore], echo=print) -> None:
    if not rows:
        return
    echo(f"\n## {title}\n{HEADER}")
    for row in rows:
        echo(format_row(row))
    gold, found = sum(r.gold for r in rows), sum(r.found for r in rows)
    indexed, correct = sum(r.indexed for r in rows), sum(r.correct for r in rows)
    echo(f"{'ALL':<20} {'':<10} {found / max(gold, 1):>7.3f} {correct / max(indexed, 1):>7.3f} {gold:>5} "
         f"{found:>5} {indexed:>7} {sum(r.pages_fetched for r in rows):>6} "
         f"{sum(r.offscope_requests for r in rows):>9}")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--only", choices=("fixtures", "snapshots"))
    ap.add_argument("--site", action="append", help="only this site (repeatable)")
    ap.add_argument("--out", default=str(REPO / "data" / "bench-discovery"))
    args = ap.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    scores: list[SiteScore] = []
    with tempfile.TemporaryDirectory(prefix="bench-discovery-") as tmp:
        if args.only != "snapshots":
            print(f"fixture families (targets: recall >= {TARGETS['recall']}, precision >= "
                  f"{TARGETS['precision']}, dead-links recall >= {TARGETS['dead_links_recall']}, 0 off-scope)")
            print(HEADER)
            scores += run_fixtures(Path(tmp) / "fixtures", names=args.site)
        if args.only != "fixtures":
            if DEVDATA_SITES.is_dir():
                print(f"\nsnapshots of {DEVDATA_SITES}")
                print(HEADER)
                names = [n for n in (args.site or []) if (DEVDATA_SITES / n).is_dir()] or None
                if not args.site or names:
                    scores += run_snapshots(Path(tmp) / "snapshots", names=names)
            else:
                print(f"\n(no snapshots: {DEVDATA_SITES} not found)")
    print("\n# Summary")
    _section("fixture families (dev)", [s for s in scores if s.group == "family"])
    _section("fixture family held out (validation)", [s for s in scores if s.group == "held-out"])
    _section("dead-links variant (1,500 dead article links, default 2,000-page budget)",
             [s for s in scores if s.group == "dead-links"])
    _section("devdata snapshots (dev)", [s for s in scores if s.group == "dev"])
    _section("devdata snapshots (validation)", [s for s in scores if s.group == "validation"])
    (out / "results.json").write_text(json.dumps([s.to_dict() for s in scores], ensure_ascii=False, indent=1),
                                      encoding="utf-8")
    print(f"\nwrote {out / 'results.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
