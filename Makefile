# saferprisons: the two commands in the README call these targets.
#
#   make demo   install, migrate, seed fictional demo data (first time only), run web + worker
#   make test   install, lint, project checks, tests on SQLite and PostgreSQL, browser journeys
#
# Each test stage is also a target of its own (make lint, make test-postgres, make test-e2e, ...).

SHELL := bash
.SHELLFLAGS := -euo pipefail -c
.ONESHELL:
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
MANAGE := $(PY) manage.py
PYTEST := $(VENV)/bin/pytest
RUFF := $(VENV)/bin/ruff

HOST ?= 127.0.0.1
PORT ?= 8000
DEMO_SIZE ?= demo
DEMO_SEED ?= 1
# Injected sensor events per hour across the demo's monitored cells (no movement, long bathroom
# stay, device silent, second person): enough to see alerts arrive within a few minutes.
DEMO_EVENT_RATE ?= 120
SIMULATOR_DELAY ?= 3
# Where the demo's SQLite database (unless DATABASE_URL is set) and its sign-in list live.
VAR_DIR ?= $(or $(SAFERPRISONS_VAR_DIR),var)
SIGN_INS := $(VAR_DIR)/demo-sign-ins.txt
# PostgreSQL for `make test-postgres`; pytest-django creates and drops test_<name> on it.
PG_TEST_URL ?= postgres://postgres@127.0.0.1:5432/saferprisons
PYTEST_ARGS ?=

# Prints how long a stage took: put $(STAGE_START) first in a recipe and $(STAGE_END) last.
# The commands in between are shown as they run (set -x).
STAGE_START = @SECONDS=0; echo "==> $@"; set -x
STAGE_END = { set +x; } 2>/dev/null; echo "<== $@ passed in $${SECONDS}s"

.PHONY: help install demo seed serve test lint check-migrations check-openapi check-deploy \
	test-sqlite test-postgres test-e2e clean

help:
	@echo "make demo    run the demo on http://$(HOST):$(PORT)/ (fictional data)"
	@echo "make test    everything CI runs: lint, checks, SQLite + PostgreSQL tests, browser tests"

# --- install (idempotent: does nothing when pyproject.toml / package-lock.json are unchanged) ---

$(PY):
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: pyproject.toml | $(PY)
	$(PIP) install --quiet --disable-pip-version-check -e '.[test]'
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund
	touch $@

install: $(VENV)/.installed node_modules/.installed

# --- the demo -------------------------------------------------------------------------------

seed serve: export SAFERPRISONS_VAR_DIR := $(abspath $(VAR_DIR))

# Seeds only an empty database: seed_demo refuses when prisons or people already exist.
# Its sign-in table is kept in $(SIGN_INS) so later runs can show it again.
seed: install
	@set -x
	$(MANAGE) migrate --noinput
	status=0
	$(MANAGE) shell --no-imports -c "import sys; from saferprisons.demo.services import has_domain_data; \
	sys.exit(3 if has_domain_data() else 0)" || status=$$?
	{ set +x; } 2>/dev/null
	if [ "$$status" = 0 ]; then
		mkdir -p $(VAR_DIR)
		$(MANAGE) seed_demo --size $(DEMO_SIZE) --seed $(DEMO_SEED) | tee $(SIGN_INS)
	elif [ "$$status" = 3 ]; then
		echo "The database already holds data: not seeding again" \
			"(to start afresh: $(MANAGE) seed_demo --flush --size $(DEMO_SIZE) --seed $(DEMO_SEED))."
	else
		exit "$$status"
	fi

# The worker runs in the background and is stopped (SIGTERM: it finishes its job first) when
# the web server stops, however it stops.
serve:
	@$(MANAGE) worker &
	worker=$$!
	# The sensor simulator plays the monitored demo cells over HTTP once the server is up.
	{ sleep $(SIMULATOR_DELAY); exec $(MANAGE) simulate_sensors --transport http \
		--server http://$(HOST):$(PORT) --event-rate $(DEMO_EVENT_RATE) --seed $(DEMO_SEED); } &
	simulator=$$!
	trap 'kill -TERM $$worker $$simulator 2>/dev/null || true; wait $$worker $$simulator 2>/dev/null || true' EXIT
	trap 'exit 130' INT TERM
	echo
	echo "saferprisons demo (all people, prisons and staff are fictional)"
	echo "  staff:  http://$(HOST):$(PORT)/"
	echo "  kiosk:  http://$(HOST):$(PORT)/kiosk/sign-in/"
	echo "  status: http://$(HOST):$(PORT)/status/ (background worker pid $$worker)"
	echo "  monitoring console: http://$(HOST):$(PORT)/monitoring/console/ (sensor simulator pid $$simulator)"
	if [ -s $(SIGN_INS) ]; then
		grep -A100 '^Staff sign-ins' $(SIGN_INS) || cat $(SIGN_INS)
	else
		echo "Sign in as officer.<prison code>, manager.<prison code>, ..., analyst.hq, auditor.hq"
		echo "or admin.hq with the demo password (README.md); kiosk PIN as printed by seed_demo."
	fi
	echo "Stop with Ctrl-C."
	echo
	mkdir -p $(VAR_DIR)/staticfiles  # STATIC_ROOT: WhiteNoise warns if it is missing
	# No access log: the simulator's six requests a second would bury everything else.
	$(VENV)/bin/uvicorn saferprisons.asgi:application --host $(HOST) --port $(PORT) --no-access-log

demo: seed
	$(MAKE) --no-print-directory serve

# --- the tests ------------------------------------------------------------------------------

# -k: a failing stage does not stop the others, so one run shows everything that fails.
test:
	@SECONDS=0
	echo "==> install"
	$(MAKE) --no-print-directory install
	echo "<== install done in $${SECONDS}s"
	$(MAKE) --no-print-directory -k lint check-migrations check-openapi check-deploy \
		test-sqlite test-postgres test-e2e \
		|| { echo "==> make test: FAILED after $${SECONDS}s (see the stages marked *** above)"; exit 1; }
	echo "==> make test: everything passed in $${SECONDS}s"

lint: install
	$(STAGE_START)
	$(RUFF) check .
	$(RUFF) format --check .
	$(STAGE_END)

check-migrations: install
	$(STAGE_START)
	$(MANAGE) makemigrations --check --dry-run
	$(STAGE_END)

check-openapi: install
	$(STAGE_START)
	$(MANAGE) export_openapi --check
	$(STAGE_END)

# Production settings with dummy values: fails on any deployment warning.
check-deploy: install
	$(STAGE_START)
	DJANGO_SETTINGS_MODULE=saferprisons.settings.production \
	SECRET_KEY="$$($(PY) -c 'import secrets; print(secrets.token_urlsafe(64))')" \
	ALLOWED_HOSTS=saferprisons.example.org \
	DATABASE_URL=postgres://saferprisons@db.example.org:5432/saferprisons \
	$(MANAGE) check --deploy --fail-level WARNING
	$(STAGE_END)

# Every test but the browser journeys, on the embedded SQLite database.
test-sqlite: install
	$(STAGE_START)
	env -u DATABASE_URL $(PYTEST) -q -rfEs -m "not e2e" $(PYTEST_ARGS)
	$(STAGE_END)

# The same on PostgreSQL, where the row-lock and concurrency tests also run.
test-postgres: install
	$(STAGE_START)
	DATABASE_URL=$(PG_TEST_URL) $(PYTEST) -q -rfEs -m "not e2e" $(PYTEST_ARGS)
	$(STAGE_END)

# Browser journeys in Debian's Chromium (never a downloaded browser), checked with axe-core.
test-e2e: install
	$(STAGE_START)
	env -u DATABASE_URL E2E_REQUIRE_BROWSER=1 $(PYTEST) -q -rfEs -m e2e tests/e2e $(PYTEST_ARGS)
	$(STAGE_END)

clean:
	rm -rf test-results var/staticfiles
