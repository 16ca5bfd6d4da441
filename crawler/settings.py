"""Scrapy settings for newsmon (scrapy.cfg points here).

Components are wired here, not by imports: the pipeline order below IS the data
flow decode+extract+clean -> spam quarantine -> normalize -> dedup -> index
-> alerts.
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
# Whole-download deadline (connect + headers + body), so a slow-loris server that
# trickles bytes forever is cut off too; env override for tests and slow networks.
DOWNLOAD_TIMEOUT = float(os.environ.get("NEWSMON_DOWNLOAD_TIMEOUT", "30"))
DNS_TIMEOUT = 10
# The network-safety check on the address actually connected to (DNS rebinding).
TWISTED_DNS_RESOLVER = "crawler.resolver.SafeResolver"
# Scrapy (>= 2.11) also applies DOWNLOAD_MAXSIZE to the *decompressed* body, in
# 64 KiB steps, so a gzip/deflate/br/zstd bomb stops at 10 MiB of output.
DOWNLOAD_MAXSIZE = 10 * 1024 * 1024
DOWNLOAD_WARNSIZE = 4 * 1024 * 1024
REDIRECT_MAX_TIMES = 5
RETRY_TIMES = 2
NEWSMON_RETRY_BACKOFF = float(os.environ.get("NEWSMON_RETRY_BACKOFF", "1"))   # seconds, doubled per retry
NEWSMON_RETRY_MAX_DELAY = 60     # cap on Retry-After and backoff waits
COOKIES_ENABLED = False
TELNETCONSOLE_ENABLED = False
# Article pages that fail with 404 etc. reach the errback, which records them.
HTTPERROR_ALLOWED_CODES: list[int] = []

DOWNLOADER_MIDDLEWARES = {
    # First: every hop (redirect, meta refresh) stays inside the site, checked before
    # robots.txt (100) or DNS is asked about another host; then dead link families.
    "crawler.scope.ScopeMiddleware": 40,
    "crawler.budget.BudgetMiddleware": 45,
    # Last before the download (sees the final URL of every hop) and first to see
    # its errors (a refused address is unsafe_url, not a DNS failure to retry).
    "crawler.middlewares.NetworkSafetyMiddleware": 950,
    # Scrapy's retry, waiting before each retry (Retry-After, else backoff).
    "scrapy.downloadermiddlewares.retry.RetryMiddleware": None,
    "crawler.backoff.BackoffRetryMiddleware": 550,
    "crawler.incremental.ConditionalRequestMiddleware": 60,   # known articles: only if changed
    # Anti-bot challenges: seen after decompression (590), before meta refresh (580) and retry;
    # a challenged site moves up to a real browser (crawler/ladder.py, crawler/browser.py).
    "crawler.ladder.FetchLadder": 585,
}
EXTENSIONS = {
    "pipelines.stages.SharedIndex": 100,                      # the crawl's one index connection
    "crawler.incremental.SeenPagesRecorder": 500,             # remembers pages for the next run
    "crawler.runs.RunQualityStats": 500,                      # extraction quality, for source health
    "crawler.shape_memory.ShapeMemory": 500,                  # learned article URL shapes, kept per site
    "crawler.zero_articles.NoArticlesWarning": 500,           # a site with 0 articles: its shapes + a pattern
    "crawler.site_names.SiteNames": 500,                      # the name a site gives itself, for display
}
SPIDER_MIDDLEWARES = {
    "crawler.resume.ResumeMiddleware": 950,   # only with NEWSMON_JOBDIR (newsmon crawl --jobdir)
    "crawler.incremental.StopAtSeenListMiddleware": 940,      # stop paging at known articles
    # Last on the spider's output: an article page waits for its attachment files.
    "crawler.attachments.AttachmentMiddleware": 30,
}
ITEM_PIPELINES = {
    "pipelines.attachment_stage.AttachmentPipeline": 90,   # attachment files -> text (worker processes)
    "pipelines.stages.ExtractPipeline": 100,      # decode -> extract -> clean (+ attachment texts)
    "pipelines.stages.QuarantinePipeline": 200,   # spam pages recorded, never indexed
    "pipelines.stages.NormalizePipeline": 300,    # simplified/folded form for matching
    "pipelines.stages.StoryPipeline": 400,        # exact + near-duplicate -> story, stored in the index
    "pipelines.alerts.AlertPipeline": 600,        # match watches, queue alerts (monitor/alerts.py)
}

NEWSMON_INDEX = os.environ.get("NEWSMON_INDEX", "sqlite:///data/newsmon.db")
NEWSMON_ALLOW_HOSTS = os.environ.get("NEWSMON_ALLOW_HOSTS", "")
NEWSMON_DEDUP_WINDOW_DAYS = 30
NEWSMON_MAX_LIST_DEPTH = 6
NEWSMON_JOBDIR = None              # crash-safe resume directory (crawler/resume.py)
NEWSMON_CHECKPOINT_ITEMS = 20      # with a jobdir: flush the index every N items
# Conditional requests for known articles, no paging past known ones; NEWSMON_INCREMENTAL=0
# makes one crawl fetch and re-extract everything (e.g. after an extractor upgrade).
# Attachments (PDF, DOC/DOCX, WPS, XLS/XLSX) of article pages: fetched, read, searched with
# the article (crawler/attachments.py, pipelines/attachments/). Limits per file and page:
NEWSMON_ATTACHMENTS_ENABLED = os.environ.get("NEWSMON_ATTACHMENTS", "1") != "0"
NEWSMON_ATTACHMENT_MAX_FILES = 5                   # per article page
NEWSMON_ATTACHMENT_MAX_BYTES = 20 * 1024 * 1024    # per file (its download_maxsize)
NEWSMON_ATTACHMENT_MAX_PAGES = 50                  # PDF pages read
NEWSMON_ATTACHMENT_TIMEOUT = float(os.environ.get("NEWSMON_ATTACHMENT_TIMEOUT", "20"))   # s per file
# The fetch ladder (crawler/ladder.py): a site whose plain fetches meet an anti-bot challenge
# moves up to Debian's chromium (Playwright, started only when a site needs it); NEWSMON_BROWSER=0
# records such sites as blocked instead. The timeout waits through the challenge's reload.
NEWSMON_BROWSER_ENABLED = os.environ.get("NEWSMON_BROWSER", "1") != "0"
NEWSMON_BROWSER_TIMEOUT = float(os.environ.get("NEWSMON_BROWSER_TIMEOUT", "60"))   # s per page
# Lists filled by script (not challenges): per site and run, at most this many browser
# renders and this much browser time; then the site stays on plain fetching (crawler.ladder).
NEWSMON_BROWSER_MAX_PAGES = int(os.environ.get("NEWSMON_BROWSER_MAX_PAGES", "10"))
NEWSMON_BROWSER_BUDGET_SECONDS = float(os.environ.get("NEWSMON_BROWSER_BUDGET_SECONDS", "60"))
NEWSMON_CHROMIUM = os.environ.get("NEWSMON_CHROMIUM", "/usr/bin/chromium")
# A challenged site opens its first page in the browser on later runs, for this many days
# after the last challenge it was seen to send (index/fetch_rungs.py); 0: no memory.
NEWSMON_LADDER_MEMORY_DAYS = float(os.environ.get("NEWSMON_LADDER_MEMORY_DAYS", "7"))
NEWSMON_INCREMENTAL_ENABLED = os.environ.get("NEWSMON_INCREMENTAL", "1") != "0"

REQUEST_FINGERPRINTER_IMPLEMENTATION = "2.7"
FEED_EXPORT_ENCODING = "utf-8"
LOG_FORMATTER = "crawler.logformatter.NewsmonLogFormatter"
LOG_LEVEL = "INFO"
