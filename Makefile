# Two commands: `make run` sets everything up and serves the demo portal on
# http://127.0.0.1:5000 with the production server (gunicorn); `make test` sets up
# and runs every test.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
PO := $(wildcard portal/translations/*/LC_MESSAGES/messages.po)
MO := $(PO:.po=.mo)
HOST ?= 127.0.0.1
PORT ?= 5000

export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD := 1

.PHONY: setup run test lint bench-relevance bench-speed bench-tracking bench-agent bench-expert bench-analytics bench-throughput bench-startup clean

setup: $(STAMP) $(MO)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test,bench]'
	touch $@

%.mo: %.po $(STAMP)
	$(BIN)/pybabel compile --use-fuzzy -i $< -o $@

# `serve --prepare` migrates the database, checks the articles and indexes what changed
# (nothing, when the folder is as it was) in the serving process itself: one start-up.
run: setup
	@echo "== Setting up (database, articles, search index), then serving the help center on http://$(HOST):$(PORT)/"
	PORTAL_SITE_NAME="$${PORTAL_SITE_NAME:-Вектор}" \
	PORTAL_SUPPORT_PHONE="$${PORTAL_SUPPORT_PHONE:-8 800 000-00-00}" \
	PORTAL_SUPPORT_EMAIL="$${PORTAL_SUPPORT_EMAIL:-support@vektor.example}" \
	PORTAL_BASE_URL="$${PORTAL_BASE_URL:-http://$(HOST):$(PORT)}" \
	PORTAL_TRUSTED_HOSTS="$${PORTAL_TRUSTED_HOSTS:-localhost,127.0.0.1}" \
	$(BIN)/portal serve --prepare --bind $(HOST):$(PORT)

# The suite runs on every CPU (pytest-xdist) and ends with its ten slowest tests;
# `pytest tests/test_x.py` runs one file alone.
test: setup
	$(BIN)/python -m pytest -n auto --durations=10

lint: setup
	$(BIN)/ruff check portal tests benchmarks
	$(BIN)/mypy

bench-relevance: setup
	$(BIN)/python benchmarks/relevance.py

bench-speed: setup
	$(BIN)/python benchmarks/search_speed.py

bench-tracking: setup
	$(BIN)/python benchmarks/tracking_and_tickets.py

bench-agent: setup
	$(BIN)/python benchmarks/agent_console.py

bench-expert: setup
	$(BIN)/python benchmarks/expert_console.py

bench-analytics: setup
	$(BIN)/python benchmarks/analytics.py

bench-throughput: setup
	$(BIN)/python benchmarks/throughput.py

bench-startup: setup
	$(BIN)/python benchmarks/startup.py

clean:
	rm -rf $(VENV) index/_* index/*.toc index/*.seg index/*.pst instance
