# newsmon: `make demo` and `make test` set everything up from nothing.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test install clean bench bench-dedup

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || { echo "newsmon needs Python 3.11+"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	@echo "Compiling story clustering's kernels (numba, once)..."
	$(BIN)/python -m pipelines.stories.warmup
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/newsmon demo

# The browser tests drive Debian's chromium (Playwright with executable_path).
CHROMIUM ?= /usr/bin/chromium
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
$(CHROMIUM):
	@echo "Installing Debian's chromium for the browser tests (apt-get)..."
	$(SUDO) apt-get update -qq
	$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium

# A CJK font, so screenshots of Chinese pages (the digest email) show text, not boxes.
CJK_FONT ?= /usr/share/fonts/truetype/wqy/wqy-zenhei.ttc
$(CJK_FONT):
	$(SUDO) apt-get update -qq
	$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq fonts-wqy-zenhei

# Old Word/WPS attachments are read with Debian's catdoc (antiword when catdoc gives nothing).
CATDOC ?= /usr/bin/catdoc
ANTIWORD ?= /usr/bin/antiword
$(CATDOC) $(ANTIWORD):
	$(SUDO) apt-get update -qq
	$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq catdoc antiword

# The task-queue tests (tests/test_workers.py) start Debian's redis-server as the broker.
REDIS_SERVER ?= /usr/bin/redis-server
$(REDIS_SERVER):
	$(SUDO) apt-get update -qq
	$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server

# tests/test_deploy.py checks deploy/systemd/ with Debian's systemd-analyze (no running systemd needed).
SYSTEMD_ANALYZE ?= /usr/bin/systemd-analyze
$(SYSTEMD_ANALYZE):
	$(SUDO) apt-get update -qq
	$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq systemd

# TEST_WORKERS pytest-xdist workers (most of a test's time is waiting on subprocesses, servers and
# Elasticsearch, so more workers than cores); a file's tests share a worker, the long files go
# first (tests/conftest.py). TEST_WORKERS=0 runs the suite in one process.
TEST_WORKERS ?= 4
test: $(STAMP) $(CHROMIUM) $(CJK_FONT) $(CATDOC) $(ANTIWORD) $(REDIS_SERVER) $(SYSTEMD_ANALYZE)
	NEWSMON_CHROMIUM=$(CHROMIUM) NEWSMON_REDIS_SERVER=$(REDIS_SERVER) NEWSMON_SYSTEMD_ANALYZE=$(SYSTEMD_ANALYZE) \
		$(BIN)/python -m pytest -q -p no:cacheprovider -n $(TEST_WORKERS) --dist loadfile --no-loadscope-reorder

bench: $(STAMP)
	$(BIN)/python benchmarks/extraction/eval_fixtures.py

clean:
	rm -rf $(VENV) data build *.egg-info

# newsmon vs public extractors (trafilatura, gne, readability-lxml, magic-html) on the dev set.
.PHONY: bench-extraction
bench-extraction: $(STAMP)
	$(BIN)/pip install --quiet -e '.[bench]'
	$(BIN)/python benchmarks/extraction/bench.py

# Empty, binary, 50 MB, deeply nested, wrong-charset and spam-cloud pages through `newsmon extract`.
.PHONY: bench-bad-inputs
bench-bad-inputs: $(STAMP)
	$(BIN)/python benchmarks/extraction/bad_inputs.py

# A real single-node Elasticsearch on 127.0.0.1 for local use (the one the tests start); Ctrl-C stops it.
.PHONY: es
es: $(STAMP)
	$(BIN)/python tests/elasticsearch_node.py

# Story clustering: newsmon (SQLite) vs plain datasketch MinHashLSH on a generated
# syndication corpus. SIZE=100000 or SIZE=1000000 (add BENCH_DEDUP_ARGS=--parallel
# to run both sides at once; 1M takes about an hour on 2 cores).
SIZE ?= 10000
bench-dedup: $(STAMP)
	$(BIN)/python -m benchmarks.dedup.run --size $(SIZE) $(BENCH_DEDUP_ARGS)

# Indexing speed: newsmon's Elasticsearch backend vs a bare streaming_bulk of the same documents,
# and search latency p50/p95 for the query table, SQLite vs Elasticsearch (starts its own node).
# SIZE as above (10000); the full run is SIZE=100000.
.PHONY: bench-indexing
bench-indexing: $(STAMP)
	$(BIN)/python -m benchmarks.indexing.bench --size $(SIZE) $(BENCH_INDEXING_ARGS)

# Fuzz decode -> extract -> clean (random bytes, mutated real pages, every charset).
# FUZZ_EXAMPLES=100000 by default; a crash or a hang saves the input under tests/artifacts/fuzz/.
FUZZ_EXAMPLES ?= 100000
.PHONY: fuzz
fuzz: $(STAMP)
	nice $(BIN)/python tests/fuzzing.py --examples $(FUZZ_EXAMPLES) $(FUZZ_ARGS)

# Peak RSS of a crawl of the hostile fault server next to a crawl of the fixture sites.
.PHONY: bench-crawl-safety
bench-crawl-safety: $(STAMP)
	$(BIN)/python -m benchmarks.crawl_safety.bench

# Web UI load test: `newsmon serve` on loopback, 20 clients x 30 s of searches on a 100k-article
# index (written once into data/bench-web/), against plain library calls.
.PHONY: bench-web
bench-web: $(STAMP)
	nice -n 10 $(BIN)/python -m benchmarks.web.bench --size $(or $(WEB_SIZE),100000) $(BENCH_WEB_ARGS)

# Alert matching: 1,000 watches against 10,000 new stories, newsmon's Aho–Corasick
# matcher vs the naive loop (every watch's Query.matches on every story), same run.
.PHONY: bench-alerts
bench-alerts: $(STAMP)
	$(BIN)/python -m benchmarks.alerts.bench $(BENCH_ALERTS_ARGS)

# Discovery (issue 18): real `newsmon crawl`s with only name + start_urls of the six generated CMS
# families, the 1,500-dead-link variant and the ten ../shared/devdata/sites snapshots, each on its
# own loopback address; recall, precision, pages, errors and off-scope requests per site.
# BENCH_DISCOVERY_ARGS="--only fixtures" or "--site NAME" narrows it.
.PHONY: bench-discovery
bench-discovery: $(STAMP)
	$(BIN)/python -m benchmarks.discovery.bench $(BENCH_DISCOVERY_ARGS)

# Capacity (issue 22): the real scheduler on 1,000 generated sites (every 30m, 60 minutes, one
# asyncio server, a 127.100.x.y address each), then bare Scrapy + trafilatura on the same sites;
# writes benchmarks/capacity/RESULTS.md. BENCH_CAPACITY_ARGS=--quick: 200 sites, every 3m, 8 minutes.
.PHONY: bench-capacity
bench-capacity: $(STAMP)
	$(BIN)/python benchmarks/capacity/bench.py $(BENCH_CAPACITY_ARGS)

# Search at scale (issue 22): the embedded index (as it is, and the search module of the commit
# before) against Elasticsearch on SCALE_SIZE generated articles (default 100000; the corpus is
# kept in data/bench-web/), one thread per query, then newsmon serve on each backend with 20
# clients, cache off and on. benchmarks/search_scale/RESULTS.md holds the numbers.
# BENCH_SEARCH_SCALE_ARGS=--es-url http://127.0.0.1:19200 reuses a node (make es) and its copy.
.PHONY: bench-search-scale
bench-search-scale: $(STAMP)
	nice -n 5 $(BIN)/python -m benchmarks.search_scale.bench --size $(or $(SCALE_SIZE),100000) $(BENCH_SEARCH_SCALE_ARGS)

# Scaling on the task queue (issue 23): 1 worker, then 3 workers (newsmon worker --crawls 1, each in its
# own folder) on 90 of the capacity benchmark's sites at 1-2 s a response, real Redis and one
# Elasticsearch node, 6 minutes a phase (~16 min); writes benchmarks/workers/RESULTS.md.
# BENCH_WORKERS_ARGS=--smoke: 12 sites, 1 minute a phase (~3 min).
.PHONY: bench-workers
bench-workers: $(STAMP) $(REDIS_SERVER)
	NEWSMON_REDIS_SERVER=$(REDIS_SERVER) $(BIN)/python benchmarks/workers/bench.py $(BENCH_WORKERS_ARGS)
