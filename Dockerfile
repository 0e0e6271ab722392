# syntax=docker/dockerfile:1
# The production image: `news-ingest crawlall` by default, any `news-ingest` (or `scrapy`) command possible.
#   docker build -t news-ingest .
#   mkdir -p data && sudo chown 10001:10001 data     # the image runs as uid 10001: /data must be writable by it
#   docker run --rm -v "$PWD/data:/data" -v "$PWD/sources.toml:/app/sources.toml:ro" news-ingest
#   docker run --rm -v "$PWD/data:/data" news-ingest news-ingest crawl article -a url=https://...
# PYTHON_IMAGE: any Debian-based image with python3 (>= 3.11) and its venv module.
ARG PYTHON_IMAGE=python:3.11-slim-bookworm

FROM ${PYTHON_IMAGE} AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1 PIP_ROOT_USER_ACTION=ignore
COPY requirements.lock /tmp/requirements.lock
# A CA bundle for pip can be passed as the build secret "pipcert" (for networks that
# intercept TLS); it is mounted for the pip steps only and never stored in a layer.
RUN --mount=type=secret,id=pipcert,required=false \
    if [ -s /run/secrets/pipcert ]; then export PIP_CERT=/run/secrets/pipcert; fi \
    && python3 -m venv /opt/venv \
    && /opt/venv/bin/pip install --no-compile -r /tmp/requirements.lock
# The project itself, into the venv: the `news-ingest` command, and the package news_ingest in
# site-packages (crawler, pipelines, settings and the record schema inside it; see setup.py). A code change rebuilds
# from here on only. --no-deps: every dependency is already installed, pinned, above.
WORKDIR /src
COPY pyproject.toml setup.py MANIFEST.in README.md CHANGELOG.md ./
COPY news_ingest ./news_ingest
COPY crawler ./crawler
COPY pipelines ./pipelines
COPY settings ./settings
COPY schema ./schema
RUN --mount=type=secret,id=pipcert,required=false \
    if [ -s /run/secrets/pipcert ]; then export PIP_CERT=/run/secrets/pipcert; fi \
    && /opt/venv/bin/pip install --no-compile --no-deps . \
    && /opt/venv/bin/python -I -c "import news_ingest.pipelines.validate as v; assert v.SCHEMA_PATH.is_file(), v.SCHEMA_PATH" \
    && /opt/venv/bin/python -m compileall -q /opt/venv/lib

FROM ${PYTHON_IMAGE}
# No compiler or build tools here: only the interpreter and the venv (the project is installed in it).
# SCRAPY_SETTINGS_MODULE: plain `scrapy crawlall` works too, from any directory, without scrapy.cfg.
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    SCRAPY_SETTINGS_MODULE=news_ingest.settings.base \
    NEWS_OUTPUT=/data/output \
    NEWS_STATE=/data/state/news.sqlite \
    NEWS_SOURCES=/app/sources.toml \
    NEWS_PROGRESS=off
RUN groupadd --gid 10001 crawler \
    && useradd --uid 10001 --gid 10001 --no-create-home --home-dir /app --shell /usr/sbin/nologin crawler \
    && mkdir -p /data \
    && chown 10001:10001 /data
COPY --from=build /opt/venv /opt/venv
# Checks that /data (state, lock, output, spool) is writable before a crawl: one line and exit 2 if not.
COPY --chmod=0755 deploy/entrypoint.sh /usr/local/bin/news-ingest-entrypoint
WORKDIR /app
COPY sources.example.toml ./
USER 10001:10001
VOLUME ["/data"]
ENTRYPOINT ["/usr/local/bin/news-ingest-entrypoint"]
CMD ["news-ingest", "crawlall"]
