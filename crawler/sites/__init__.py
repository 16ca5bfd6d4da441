"""The sites file (design.md's contract): ``sites.yaml`` read, validated and turned into
``SiteConfig`` objects that the crawl, the scheduler and the commands use.

``config`` parses and validates it (``load_sites``, ``parse_sites``, ``parse_schedule``;
a bad file is a ``SitesFileError`` naming the file, line and field, never a traceback);
``bounded_yaml`` is the YAML loader under it, bounded so a hostile or broken file fails
in milliseconds (depth, alias expansion, tags). The names below are the package's API:
importers write ``from crawler.sites import load_sites``.
"""
from crawler.sites.config import (
    SiteConfig, SitesFile, SitesFileError, load_sites, parse_schedule, parse_sites, read_sites_file,
)

__all__ = ["SiteConfig", "SitesFile", "SitesFileError", "load_sites", "parse_schedule", "parse_sites",
           "read_sites_file"]
