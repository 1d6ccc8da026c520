# Two commands for a newcomer: `make demo` and `make test`. Everything else is plumbing.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   ?= .venv
BIN     = $(VENV)/bin
STAMP   = $(VENV)/.installed-$(shell sha256sum pyproject.toml | cut -c1-12)

.PHONY: demo test lint typecheck services clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	rm -f $(VENV)/.installed-* && touch $@

## make demo: venv, install, load the seed plan into the default SQLite database, show it.
demo: $(STAMP)
	$(BIN)/ecoplan demo

## services: what the tests need from the machine, installed and started idempotently:
## PostgreSQL running, Debian chromium and a CJK font for the browser tests, poppler's pdftoppm
## to look at rendered report pages.
services:
	@if [ ! -x /usr/bin/chromium ] || [ ! -d /usr/share/fonts/truetype/wqy ] || ! command -v pdftoppm >/dev/null 2>&1; then \
	  if command -v apt-get >/dev/null 2>&1; then \
	    (apt-get update -qq && apt-get install -y -qq chromium fonts-wqy-zenhei poppler-utils >/dev/null) \
	      || echo "chromium/poppler could not be installed: browser and page-render tests will be skipped"; \
	  fi; \
	fi
	@if command -v pg_ctlcluster >/dev/null 2>&1; then \
	  for v in $$(ls /etc/postgresql 2>/dev/null); do \
	    pg_ctlcluster --skip-systemctl-redirect $$v main start 2>/dev/null || true; \
	  done; \
	fi

lint: $(STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench

typecheck: $(STAMP)
	$(BIN)/mypy

## make test: install what tests need, lint, type-check, run the whole suite.
test: $(STAMP) services lint typecheck
	$(BIN)/pytest -n 2 -q

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
