# Two commands on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: install install-dev demo s3-demo docs test test-tools quality lint format lock clean

$(BIN)/.runtime: requirements.lock pyproject.toml setup.py
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements.lock
	# the project itself, editable: the `news-ingest` command, usable from any directory
	$(BIN)/pip install --quiet --disable-pip-version-check --no-deps -e .
	touch $@

$(BIN)/.dev: $(BIN)/.runtime requirements-dev.lock
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements-dev.lock
	touch $@

install: $(BIN)/.runtime
install-dev: $(BIN)/.dev

## demo: install, serve the bundled demo site on 127.0.0.1, crawl it into a fresh ./output/demo-<time>/
demo: install
	$(BIN)/python -m demo.run $(if $(DEMO_OUTPUT),--into $(DEMO_OUTPUT))

## s3-demo: the demo crawl into a local S3 server (SeaweedFS from the dev tools, free loopback ports)
s3-demo: install-dev
	$(BIN)/python -m demo.s3

## docs: the documentation site (docs/, mkdocs.yml) built strictly into site/: a broken link or page fails
docs: install-dev
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict --quiet

## test: lint, the docs built strictly and the whole test suite (as root, installs the system tools the tests need first)
## TEST_WORKERS: test processes at once (most tests wait on crawls, servers and outages they stage)
TEST_WORKERS ?= 3
test: test-tools install-dev lint docs
	$(BIN)/python -m pytest -n $(TEST_WORKERS) --dist loadfile

# System programs some tests run: podman and debootstrap (the image build test), the PostgreSQL
# server (initdb, pg_ctl: the shared state store tests start a server of their own) and promtool
# (Debian's prometheus package: the alert rules' unit tests). Installed
# with apt-get when missing and root; otherwise one line says which tests cannot run.
PG_INITDB = { command -v initdb || ls /usr/lib/postgresql/*/bin/initdb; } >/dev/null 2>&1
test-tools:
	@missing=""; \
	{ command -v podman && command -v debootstrap; } >/dev/null 2>&1 || missing="podman debootstrap"; \
	$(PG_INITDB) || missing="$$missing postgresql"; \
	command -v promtool >/dev/null 2>&1 || missing="$$missing prometheus"; \
	missing=$$(echo $$missing); \
	if [ -z "$$missing" ]; then exit 0; fi; \
	if [ "$$(id -u)" = 0 ]; then \
	    echo "test-tools: installing $$missing (apt-get)"; \
	    apt-get update -qq && \
	    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	else \
	    case " $$missing " in *" podman "*) \
	        echo "test-tools: podman or debootstrap missing and not root: the image build test cannot run";; esac; \
	    case " $$missing " in *" prometheus "*) \
	        echo "test-tools: promtool missing and not root: the alert rule tests (tests/test_monitoring.py) cannot run; install the package prometheus";; esac; \
	    case " $$missing " in *" postgresql "*) \
	        echo "test-tools: PostgreSQL server (initdb) missing and not root: the PostgreSQL tests (tests/test_state_stores.py, tests/test_scaling_out.py, tests/test_hostile_state.py, tests/test_hostile_learning.py) are skipped; install the package postgresql";; esac; \
	fi

## quality: record quality on the development corpora (../shared/devcorpus), ours against trafilatura and htmldate
quality: install
	$(BIN)/python -m bench.quality $(if $(CORPUS),--corpus $(CORPUS))

lint: install-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/hadolint Dockerfile

format: install-dev
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

## lock: re-pin every dependency from requirements.in / requirements-dev.in
lock:
	rm -rf .lockenv && $(PYTHON) -m venv .lockenv
	.lockenv/bin/pip install --quiet -r requirements.in
	{ echo "# Pinned runtime dependencies (installed by make, .ci/run and the Dockerfile). Regenerate with 'make lock'."; \
	  .lockenv/bin/pip freeze; } > requirements.lock
	.lockenv/bin/pip install --quiet -r requirements-dev.in
	{ echo "# Pinned test and lint tools, on top of the runtime pins."; echo "-r requirements.lock"; \
	  .lockenv/bin/pip freeze | grep -vxFf requirements.lock; } > requirements-dev.lock
	rm -rf .lockenv

clean:
	rm -rf $(VENV) output site .pytest_cache .ruff_cache
