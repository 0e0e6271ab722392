# syntax=docker/dockerfile:1
# The production image: `scrapy crawlall` by default, any `scrapy` command possible.
#   docker build -t news-ingest .
#   docker run --rm -v "$PWD/data:/data" -v "$PWD/sources.toml:/app/sources.toml:ro" news-ingest
#   docker run --rm -v "$PWD/data:/data" news-ingest scrapy crawl article -a url=https://...
# PYTHON_IMAGE: any Debian-based image with python3 (>= 3.11) and its venv module.
ARG PYTHON_IMAGE=python:3.11-slim-bookworm

FROM ${PYTHON_IMAGE} AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1 PIP_ROOT_USER_ACTION=ignore
COPY requirements.lock /tmp/requirements.lock
# A CA bundle for pip can be passed as the build secret "pipcert" (for networks that
# intercept TLS); it is mounted for this step only and never stored in a layer.
RUN --mount=type=secret,id=pipcert,required=false \
    if [ -s /run/secrets/pipcert ]; then export PIP_CERT=/run/secrets/pipcert; fi \
    && python3 -m venv /opt/venv \
    && /opt/venv/bin/pip install --no-compile -r /tmp/requirements.lock \
    && /opt/venv/bin/python -m compileall -q /opt/venv/lib

FROM ${PYTHON_IMAGE}
# No compiler or build tools here: only the interpreter, the venv and the code.
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    NEWS_OUTPUT=/data/output \
    NEWS_STATE=/data/state/news.sqlite \
    NEWS_SOURCES=/app/sources.toml \
    NEWS_PROGRESS=off
RUN groupadd --gid 10001 crawler \
    && useradd --uid 10001 --gid 10001 --no-create-home --home-dir /app --shell /usr/sbin/nologin crawler \
    && mkdir -p /data \
    && chown 10001:10001 /data
COPY --from=build /opt/venv /opt/venv
WORKDIR /app
COPY scrapy.cfg sources.example.toml ./
COPY crawler ./crawler
COPY pipelines ./pipelines
COPY settings ./settings
COPY schema ./schema
USER 10001:10001
VOLUME ["/data"]
CMD ["scrapy", "crawlall"]
