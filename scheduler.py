"""newsmon's scheduler entry point (``python scheduler.py`` = ``newsmon schedule``).

For now it runs one crawl cycle of the sites file and exits; the scheduler issue
turns it into the APScheduler daemon.
"""
from __future__ import annotations

import argparse
import sys


def main(argv: list[str] | None = None) -> int:
    from crawler.cli import configure_logging
    from crawler.runner import run_crawl
    from crawler.sites import SitesFileError, load_sites

    parser = argparse.ArgumentParser(prog="scheduler.py", description=__doc__)
    parser.add_argument("--sites", default="sites.yaml")
    parser.add_argument("--index", default=None)
    args = parser.parse_args(argv)
    configure_logging()
    try:
        sites = load_sites(args.sites).sites
    except SitesFileError as exc:
        print(f"Error: {exc}", file=sys.stderr)
        return 2
    summary = run_crawl(sites, args.index)
    print(summary.format())
    return 0 if summary.ok else 1


if __name__ == "__main__":
    sys.exit(main())
