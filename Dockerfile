# First working draft of the production image (hardened in a later change).
ARG PYTHON_IMAGE=python:3.11-slim-bookworm

FROM ${PYTHON_IMAGE} AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1
WORKDIR /app
COPY requirements.lock .
RUN python -m venv /opt/venv \
    && /opt/venv/bin/pip install -r requirements.lock

FROM ${PYTHON_IMAGE}
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    NEWS_OUTPUT=/data/output
RUN groupadd --gid 10001 news \
    && useradd --create-home --uid 10001 --gid 10001 news \
    && mkdir -p /data \
    && chown news:news /data
COPY --from=build /opt/venv /opt/venv
WORKDIR /app
COPY scrapy.cfg ./
COPY crawler ./crawler
COPY pipelines ./pipelines
COPY settings ./settings
COPY schema ./schema
USER 10001:10001
VOLUME ["/data"]
CMD ["scrapy", "list"]
