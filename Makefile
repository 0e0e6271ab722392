# Two commands on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: install install-dev demo test quality lint format lock clean

$(BIN)/.runtime: requirements.lock pyproject.toml
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

## test: lint and the whole test suite
test: install-dev lint
	$(BIN)/python -m pytest

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
	rm -rf $(VENV) output .pytest_cache .ruff_cache
