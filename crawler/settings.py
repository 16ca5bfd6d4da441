"""Scrapy settings for newsmon (scrapy.cfg points here).

Components are wired here, not by imports: the pipeline order below IS the data
flow decode+extract+clean -> spam quarantine -> normalize -> dedup -> index.
"""
import os

BOT_NAME = "newsmon"
SPIDER_MODULES = ["spiders"]
NEWSPIDER_MODULE = "spiders"
USER_AGENT = "newsmon/0.1 (+news monitoring; respects robots.txt)"

ROBOTSTXT_OBEY = True
# Politeness per site: each site is its own download slot (see the spider), so
# these apply per site, not per IP (fixture sites share 127.0.0.1).
CONCURRENT_REQUESTS = 16
CONCURRENT_REQUESTS_PER_DOMAIN = 2
DOWNLOAD_DELAY = float(os.environ.get("NEWSMON_DOWNLOAD_DELAY", "0.25"))
DOWNLOAD_DELAY_JITTER = 0.5      # ±50%, so requests don't tick like a clock
DOWNLOAD_TIMEOUT = 30
DOWNLOAD_MAXSIZE = 10 * 1024 * 1024
DOWNLOAD_WARNSIZE = 4 * 1024 * 1024
REDIRECT_MAX_TIMES = 5
RETRY_TIMES = 2
COOKIES_ENABLED = False
TELNETCONSOLE_ENABLED = False
# Article pages that fail with 404 etc. reach the errback, which records them.
HTTPERROR_ALLOWED_CODES: list[int] = []

DOWNLOADER_MIDDLEWARES = {
    "crawler.middlewares.NetworkSafetyMiddleware": 50,
}
ITEM_PIPELINES = {
    "pipelines.stages.ExtractPipeline": 100,      # decode -> extract -> clean
    "pipelines.stages.QuarantinePipeline": 200,   # spam pages recorded, never indexed
    "pipelines.stages.NormalizePipeline": 300,    # simplified/folded form for matching
    "pipelines.stages.DedupPipeline": 400,        # exact + near-duplicate -> story_id
    "pipelines.stages.IndexPipeline": 500,        # write to the index backend
}

NEWSMON_INDEX = os.environ.get("NEWSMON_INDEX", "sqlite:///data/newsmon.db")
NEWSMON_ALLOW_HOSTS = os.environ.get("NEWSMON_ALLOW_HOSTS", "")
NEWSMON_DEDUP_WINDOW_DAYS = 30
NEWSMON_MAX_LIST_DEPTH = 6

REQUEST_FINGERPRINTER_IMPLEMENTATION = "2.7"
FEED_EXPORT_ENCODING = "utf-8"
LOG_FORMATTER = "crawler.logformatter.NewsmonLogFormatter"
LOG_LEVEL = "INFO"
