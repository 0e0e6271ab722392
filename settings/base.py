"""Every default of the news pipeline, grouped by component.

Scrapy settings first, then the ``NEWS_*`` settings of each component. The
environment overrides ``NEWS_*`` settings in one place, at the end of this file
(see ``settings/environment.py``); ``-s NAME=VALUE`` overrides both.
"""

from __future__ import annotations

from crawler.run.logjson import install as _install_json_logs
from settings.environment import checked_overrides as _environment_overrides

_install_json_logs()

# --- Scrapy ------------------------------------------------------------------
BOT_NAME = "news"
SPIDER_MODULES = ["crawler.spiders"]
COMMANDS_MODULE = "crawler.commands"
NEWSPIDER_MODULE = "crawler.spiders"
# {contact} is replaced by NEWS_CONTACT_URL (and dropped when that is empty).
USER_AGENT = "news-ingest/0.1 (news ingestion crawler; +{contact})"
ROBOTSTXT_OBEY = True
LOG_LEVEL = "INFO"
LOG_FORMATTER = "crawler.run.logformatter.NewsLogFormatter"
TWISTED_REACTOR = "twisted.internet.asyncioreactor.AsyncioSelectorReactor"
FEED_EXPORT_ENCODING = "utf-8"

# Politeness and robustness: bounded waits and sizes so one bad host or page
# cannot stall or exhaust the crawl.
CONCURRENT_REQUESTS = 16
CONCURRENT_REQUESTS_PER_DOMAIN = 4
# A response gives one article or a list of links; Scrapy starts this many tasks per
# response to process its output, which at the default of 100 costs more than the output.
CONCURRENT_ITEMS = 4
AUTOTHROTTLE_ENABLED = True
AUTOTHROTTLE_START_DELAY = 0.5
AUTOTHROTTLE_TARGET_CONCURRENCY = 2.0
DOWNLOAD_TIMEOUT = 30
DOWNLOAD_MAXSIZE = 10 * 1024 * 1024
DOWNLOAD_WARNSIZE = 2 * 1024 * 1024
REDIRECT_MAX_TIMES = 10
RETRY_TIMES = 2
COOKIES_ENABLED = False
# No listening ports in a crawler that runs from cron and in containers.
TELNETCONSOLE_ENABLED = False
# The run summary logs the stats (a JSON object in JSON logs, DEBUG in text logs) and
# writes them to _runs/<run_id>.json; Scrapy's repr dump would repeat them.
STATS_DUMP = False
REMOTE_CONTROL_ENABLED = False

ITEM_PIPELINES = {
    "pipelines.extract.ExtractArticlePipeline": 100,
    "pipelines.dates.NormalizeDatesPipeline": 200,
    "pipelines.validate.ValidateRecordPipeline": 300,
    "pipelines.boilerplate.LearnedBoilerplatePipeline": 400,
    "pipelines.dedupe.DedupeArticlePipeline": 800,
    "pipelines.sink.JsonlSinkPipeline": 900,
    # counts each written article's lines for the template learning (after the sink: only what was written)
    "pipelines.boilerplate.CountTemplatePipeline": 950,
}
DOWNLOADER_MIDDLEWARES = {
    # before robots.txt (100): a refused host gets no robots.txt request either
    "crawler.middlewares.address_guard.AddressGuardMiddleware": 50,
    # after the guard, before robots.txt: a known article costs neither a robots.txt nor a page request
    "crawler.middlewares.seen.SeenUrlMiddleware": 60,
    "scrapy.downloadermiddlewares.useragent.UserAgentMiddleware": None,
    "scrapy.downloadermiddlewares.offsite.OffsiteMiddleware": None,
    "crawler.middlewares.offsite.CountedOffsiteMiddleware": 51,
    "crawler.middlewares.user_agent.ContactUserAgentMiddleware": 500,
    # robots.txt over DOWNLOAD_MAXSIZE: its first 500 KiB are read (RFC 9309), not allow-all;
    # nearer the downloader than HttpCompressionMiddleware (590), which it decompresses for
    "crawler.middlewares.robots_size.RobotsTxtSizeMiddleware": 595,
    # nearer the downloader than RetryMiddleware (550): it sees a 429/503 first
    "crawler.middlewares.retry_after.RetryAfterMiddleware": 560,
}
# Checks the address every connection uses (see crawler/middlewares/address_guard.py).
TWISTED_DNS_RESOLVER = "crawler.middlewares.address_guard.GuardedResolver"
EXTENSIONS = {
    "crawler.run.settings_check.SettingsCheck": -10,
    # Scrapy's AutoThrottle, except that a 404 or 410 may lower the delay as a 200 does
    "scrapy.extensions.throttle.AutoThrottle": None,
    "crawler.extensions.throttle.NewsAutoThrottle": 0,
    "crawler.run.logjson.JsonLogs": 0,
    "crawler.extensions.banner.RunBanner": 5,
    # after the banner: a state whose site group locks cannot be taken stops the start there
    "crawler.extensions.groups.GroupClaim": 6,
    "crawler.extensions.drops.DropStats": 10,
    "crawler.extensions.progress.Progress": 800,
    # before the summary: it reports what the health check finds
    "crawler.extensions.health.SourceHealth": 850,
    "crawler.extensions.summary.RunSummary": 900,
    # after the summary: the metrics are the summary's figures
    "crawler.extensions.metrics.RunMetrics": 950,
}

# --- Run ---------------------------------------------------------------------
# Identifies this run in part file names and in the run summary; empty: a new
# sortable id (UTC time plus a random suffix) per run.
NEWS_RUN_ID = ""

# --- Shards (N `crawlall` workers over one shared state) ----------------------
# This worker's part of the sources, "I/N" with I from 0 (as `crawlall --shard I/N`); empty: all.
NEWS_SHARD = ""
# With Kubernetes' JOB_COMPLETION_INDEX (an Indexed Job), the shard count N: the index comes from there.
NEWS_SHARDS = 0

# --- Sources and discovery ---------------------------------------------------
# The sources file (TOML) read by `scrapy crawl news`.
NEWS_SOURCES = "sources.toml"
# Defaults for sources that do not set max_depth / max_pages.
NEWS_DISCOVERY_MAX_DEPTH = 2
NEWS_DISCOVERY_MAX_PAGES = 1000
# Distinct query strings followed per URL path by link following (faceted navigation traps).
NEWS_DISCOVERY_MAX_QUERY_VARIANTS = 3
# Sitemaps fetched per source and run (indexes fan out), and their largest size once decompressed.
NEWS_DISCOVERY_MAX_SITEMAPS = 50
NEWS_SITEMAP_MAXSIZE = 50 * 1024 * 1024

# --- Politeness and safety ---------------------------------------------------
# Longest Retry-After (seconds) of a 429 or 503 that is waited for, by every request to that
# site; a longer one ends the request as http_error.
NEWS_RETRY_AFTER_MAX = 120.0
# A URL where site owners can reach whoever runs the crawler; goes into the User-Agent.
NEWS_CONTACT_URL = ""
# Allow requests to loopback, private and link-local addresses (the demo and tests need it).
NEWS_ALLOW_PRIVATE_NETWORKS = False

# --- State (incremental runs) ------------------------------------------------
# Remember emitted articles: skip them before download, drop unchanged copies,
# version changed ones. `scrapy crawl article` turns it off for one-off crawls.
NEWS_STATE_ENABLED = True
# The state store: a SQLite file (WAL).
NEWS_STATE = "./state/news.sqlite"
# Seconds a PostgreSQL state that stops answering during a run (a restart, a failover) is waited
# for, retrying with growing waits while the crawl pauses; after that the run fails.
NEWS_STATE_RETRY_SECONDS = 30.0
# Seconds after publication during which an emitted story is fetched again for updates...
NEWS_REFRESH_WINDOW = 24 * 3600
# ...at most once per this many seconds.
NEWS_REFRESH_INTERVAL = 3600
# Keep copies of an article's text under another URL, marked duplicate_of, instead of dropping them.
NEWS_DEDUPE_KEEP_DUPLICATES = False

# --- Extract -----------------------------------------------------------------
# Bodies shorter than this many words are not articles (stubs, empty pages).
NEWS_EXTRACT_MIN_WORDS = 50
# CSS selectors removed from every page before extraction (site template boilerplate).
NEWS_EXTRACT_STRIP: list[str] = []
# trafilatura's trade-off: "precision" (less noise), "balanced" or "recall". Whichever it is, a body far
# shorter than the page's text is extracted again favouring recall (see the `text` field in docs/reference/record.md).
NEWS_EXTRACT_FAVOR = "balanced"
# Worker processes for extraction and dates: -1 one per available core, 0 none (in the crawl's thread).
NEWS_EXTRACT_WORKERS = -1
# Seconds a page may take in a worker; over it, one more try in a fresh worker, then extract_timeout.
NEWS_EXTRACT_TIMEOUT = 30.0
# Pages waiting for a worker before downloads pause (backpressure); 0: twice the workers.
NEWS_EXTRACT_MAX_PENDING = 0
# Functions `fn(page, record) -> record` run in the worker after extraction (custom fields).
NEWS_EXTRACT_PLUGINS: list[str] = []

# --- Learned template lines (per source; needs NEWS_STATE_ENABLED) ------------
# Learn what each source's template repeats inside its bodies and take it out of later records.
NEWS_BOILERPLATE_LEARN = True
# A paragraph is template once it was in at least this many different written articles of the source...
NEWS_BOILERPLATE_MIN_PAGES = 10
# ...making up at least this share of the source's recent articles...
NEWS_BOILERPLATE_MIN_SHARE = 0.3
# ...and only once the source has this many written articles counted (a few pages teach nothing).
NEWS_BOILERPLATE_MIN_ARTICLES = 20
# "Recent": every count is halved when a source's article count reaches this.
NEWS_BOILERPLATE_WINDOW = 400
# Fingerprints kept per source (the rarest and oldest go first): the bound on the learning's size.
NEWS_BOILERPLATE_MAX_LINES = 5000
# Lines and counted articles held in memory over all sources (the least recently used source is
# saved and let go first): the bound on the learning's memory, about 140 bytes each.
NEWS_BOILERPLATE_MEMORY_LINES = 200000

# --- Source health (per source and run, against its recent runs) -------------
NEWS_HEALTH_ENABLED = True
# Recent runs a run is compared with, and how many a source needs before it is judged.
NEWS_HEALTH_HISTORY_RUNS = 10
NEWS_HEALTH_MIN_RUNS = 3
# An unhealthy source fails the run (exit 1) only when this is on; else it is a warning.
NEWS_HEALTH_FAIL_RUN = False

# --- Per-page bounds (what one hostile page may cost) -------------------------
# Characters of markup parsed; beyond this a page is cut off (news/extract/html_truncated).
NEWS_PAGE_MAX_HTML_CHARS = 3_000_000
# A <script> block longer than this (JSON-LD included) is not read (news/extract/json_ld_skipped).
NEWS_PAGE_MAX_JSON_LD_CHARS = 1_000_000
# Elements nested deeper than this are unwrapped, their text kept (news/extract/markup_flattened).
NEWS_PAGE_MAX_DEPTH = 250
# Links of one listing page considered for following; the rest are counted as news/discovery/links_capped.
NEWS_DISCOVERY_MAX_LINKS_PER_PAGE = 5000

# --- Dates -------------------------------------------------------------------
# IANA zone for times printed without an offset; empty: such times give only
# published_date unless the page states an offset elsewhere.
NEWS_DATES_TIMEZONE = ""
# Day/month order for numeric dates (DMY, MDY, YMD); empty: from the page locale.
NEWS_DATES_DATE_ORDER = ""
# Allowed clock skew, in seconds, for dates slightly in the future.
NEWS_DATES_MAX_SKEW = 600
# Dates before this year are implausible for a news article and are ignored.
NEWS_DATES_MIN_YEAR = 1995

# --- Validate ----------------------------------------------------------------
# JSON Schema every record must satisfy; empty: the schema bundled with the code.
NEWS_VALIDATE_SCHEMA = ""

# --- Sink --------------------------------------------------------------------
NEWS_SINK_ENABLED = True
# Output root: a local folder, or s3://bucket/prefix.
NEWS_OUTPUT = "./output"
# One-off crawls (`crawl article`) write under this folder of NEWS_OUTPUT, apart from the
# stream of `crawlall`; empty: into NEWS_OUTPUT itself.
NEWS_ONEOFF_FOLDER = "oneoff"
# `news-ingest archive --cc-news YYYY/MM`: where Common Crawl's CC-NEWS is read from (its month's
# warc.paths.gz and the files it lists); s3://commoncrawl/ reads it from AWS with your credentials.
NEWS_CC_NEWS_BASE = "https://data.commoncrawl.org/"
# A part is closed and made visible after this many records or bytes.
NEWS_SINK_MAX_ITEMS = 10_000
NEWS_SINK_MAX_BYTES = 128 * 1024 * 1024
# "" for plain .jsonl, "gzip" for .jsonl.gz.
NEWS_SINK_COMPRESS = ""
# Keep the raw pages: each written record's page as WARC request and response records, in a
# .warc.gz file beside its part (same name), put in place with it; the record's warc_file and
# warc_record_id say where. `news-ingest archive` reads them back.
NEWS_WARC_OUTPUT = False
# With NEWS_OUTPUT=s3://...: where parts wait for their upload; empty: "spool" beside NEWS_STATE.
NEWS_SINK_SPOOL = ""

# --- S3 (credentials, region and endpoint only through AWS_* variables, config files or roles) ---
# Parts above this size are uploaded in parts of this size (boto3 managed transfer).
NEWS_S3_MULTIPART_THRESHOLD = 64 * 1024 * 1024
# botocore "standard" retry mode: attempts per request, for transient errors.
NEWS_S3_MAX_ATTEMPTS = 5
# Optional server-side encryption ("AES256" or "aws:kms"), its KMS key, and a storage class.
NEWS_S3_SSE = ""
NEWS_S3_SSE_KMS_KEY_ID = ""
NEWS_S3_STORAGE_CLASS = ""

# --- Logs, metrics, progress -------------------------------------------------
# "text" (Scrapy's readable lines) or "json" (one JSON object a line, for log collectors).
NEWS_LOG_FORMAT = "text"
# Prometheus text-format metrics written at the end of each run (node_exporter textfile
# collector), e.g. /var/lib/node_exporter/textfile/news.prom; empty: none.
NEWS_METRICS_FILE = ""
# Live progress on an interactive terminal: "auto" (only when stderr is a terminal), "on", "off".
NEWS_PROGRESS = "auto"
# Seconds between two progress updates.
NEWS_PROGRESS_INTERVAL = 1.0

# --- Summary and exit code ---------------------------------------------------
# Log a summary when the spider closes and write <output>/_runs/<run_id>.json.
NEWS_SUMMARY_ENABLED = True
# A run whose failed fetches (errors / attempts) exceed this share fails (exit code 1).
NEWS_MAX_ERROR_RATE = 0.5
# The lock that keeps two `scrapy crawlall` runs from overlapping; empty: NEWS_STATE + ".lock".
NEWS_LOCK_FILE = ""
# After SIGTERM or SIGINT: requests not yet sent are cancelled at once, and downloads and pages in
# progress get this many seconds to finish before the run stops anyway (the next run completes
# what was left open). Below the time the supervisor waits before SIGKILL (docker stop: 10 s).
NEWS_SHUTDOWN_GRACE = 8.0
# Accept NEWS_* names that are no setting (an environment shared with other NEWS_* variables);
# off: a misspelt name (-s NEWS_OUTPT=..., env NEWS_OUPUT) stops the run at start.
NEWS_IGNORE_UNKNOWN_SETTINGS = False

_overridden, SETTINGS_PROBLEMS = _environment_overrides(globals())
globals().update(_overridden)
