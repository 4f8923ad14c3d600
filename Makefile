# Switchboard: `make run` serves the embedded demo, `make test` runs the whole suite.
# Needs Python 3.11 as `python3` and Node.js with npm; everything else comes from
# requirements/dev.lock and package-lock.json.

SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= python3
HOST ?= 127.0.0.1
PORT ?= 8000
# Extra arguments for pytest, e.g. `make test PYTEST_ARGS="tests/tickets -x"`.
PYTEST_ARGS ?=
# pytest-xdist processes: `auto` is one per core (about 1.8x faster on 2 cores);
# PYTEST_WORKERS=0 runs everything in one process, e.g. to use a debugger.
PYTEST_WORKERS ?= auto

VENV := .venv
BIN := $(VENV)/bin
# Pinned so every machine resolves and installs the lock files the same way.
UV_VERSION := 0.13.9
# Touched after each successful sync; make compares its time with the lock file's, so an
# unchanged lock costs nothing and the second `make run` starts in seconds.
SYNC_STAMP := $(VENV)/.dev-lock-synced
MANAGE := $(BIN)/python manage.py
NPM ?= npm
# Touched after each successful `npm ci`, like SYNC_STAMP: an unchanged lock costs nothing.
NODE_STAMP := node_modules/.package-lock-installed

.PHONY: help install run test lint migrate seed bench bench-email bench-webhooks bench-sla bench-help bench-workspace bench-rules

help:
	@echo "make run      set up, migrate, seed the demo and serve on http://$(HOST):$(PORT)"
	@echo "make test     set up and run the whole test suite"
	@echo "make lint     ruff check, ruff format --check and mypy"
	@echo "make migrate  apply database migrations"
	@echo "make seed     load the demo shop (idempotent)"
	@echo "make bench    ticket-list latency on PostgreSQL (bench/README.md)"
	@echo "make bench-email  email ingest throughput: SMTP to tickets with a Celery worker"
	@echo "make bench-webhooks  webhook ingest: signed posts through gunicorn to tickets"
	@echo "make bench-sla  SLA sweep over 1,000,000 open tickets on PostgreSQL"
	@echo "make bench-help  help-center search and article pages at 20,000 articles"
	@echo "make bench-rules  rule evaluation: events/s with 200 active rules vs none"
	@echo "make bench-workspace  workspace pages and live delivery at 1,000,000 tickets"

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))' \
		|| { echo "Switchboard needs Python 3.11 as '$(PYTHON)' (or: make PYTHON=python3.11 ...)." >&2; exit 1; }
	@$(PYTHON) -m venv $(VENV) \
		|| { echo "Could not create $(VENV); on Debian: apt-get install python3-venv" >&2; rm -rf $(VENV); exit 1; }

$(BIN)/uv: | $(BIN)/python
	$(BIN)/python -m pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

$(SYNC_STAMP): requirements/dev.lock | $(BIN)/uv
	$(BIN)/uv pip sync --quiet --python $(BIN)/python requirements/dev.lock
	@touch $@

# Front-end packages (htmx) from the committed lock, into node_modules/; settings.py serves
# their built files as static files. --ignore-scripts: no package runs code at install.
$(NODE_STAMP): package-lock.json package.json
	@command -v $(NPM) >/dev/null \
		|| { echo "Switchboard's front-end packages need Node.js and npm (on Debian: apt-get install nodejs npm)." >&2; exit 1; }
	$(NPM) ci --ignore-scripts --no-audit --no-fund --loglevel=error
	@touch $@

install: $(SYNC_STAMP) $(NODE_STAMP)

migrate: install
	$(MANAGE) migrate --noinput

seed: install
	$(MANAGE) seed_demo

# One uvicorn process serves pages, API, static files (whitenoise with DEBUG on) and
# WebSockets; no other service is needed. Django's ASGI handler has no lifespan support.
run: install
	$(MANAGE) migrate --noinput
	$(MANAGE) seed_demo
	exec $(BIN)/uvicorn helpdesk.asgi:application --host $(HOST) --port $(PORT) --lifespan off

# `--dist loadfile` keeps each test file in one process: tests/integration/test_celery_worker.py
# starts a Celery worker on the run's queue, and a second one in another process would take
# its tasks. (pytest-xdist's finer `loadgroup` does not group anything under pytest 9.)
# Browser and live-server tests run anywhere: each xdist process has its own test database
# and picks free ports. pytest's exit codes pass through make, so "no tests ran" (5) fails
# the target like a failing test.
test: install
	$(BIN)/pytest -n $(PYTEST_WORKERS) --dist loadfile $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy .

# Needs PostgreSQL (BENCH_POSTGRES_URL); extra options in BENCH_ARGS, e.g. "--tickets 2000".
BENCH_ARGS ?=
bench: install
	$(BIN)/python -m bench.ticket_list $(BENCH_ARGS)

# Needs PostgreSQL (BENCH_POSTGRES_URL) and Redis (BENCH_REDIS_URL, default db 13); extra
# options in BENCH_EMAIL_ARGS, e.g. "--emails 500".
BENCH_EMAIL_ARGS ?=
bench-email: install
	$(BIN)/python -m bench.email_ingest $(BENCH_EMAIL_ARGS)

# Needs PostgreSQL (BENCH_POSTGRES_URL) and Redis (BENCH_REDIS_URL, default db 13); extra
# options in BENCH_WEBHOOKS_ARGS, e.g. "--webhooks 2000".
BENCH_WEBHOOKS_ARGS ?=
bench-webhooks: install
	$(BIN)/python -m bench.webhook_ingest $(BENCH_WEBHOOKS_ARGS)

# Needs PostgreSQL (BENCH_POSTGRES_URL); extra options in BENCH_SLA_ARGS, e.g. "--due 5000".
BENCH_SLA_ARGS ?=
bench-sla: install
	$(BIN)/python -m bench.sla_sweep $(BENCH_SLA_ARGS)

# Needs PostgreSQL (BENCH_POSTGRES_URL); Redis for the page cache if one answers at
# BENCH_REDIS_URL (default db 13); extra options in BENCH_HELP_ARGS, e.g. "--articles 2000".
BENCH_HELP_ARGS ?=
bench-help: install
	$(BIN)/python -m bench.help_center $(BENCH_HELP_ARGS)

# Needs PostgreSQL (BENCH_POSTGRES_URL) and Redis (BENCH_REDIS_URL, default db 13); extra
# options in BENCH_WORKSPACE_ARGS, e.g. "--tickets 20000".
BENCH_WORKSPACE_ARGS ?=
bench-workspace: install
	$(BIN)/python -m bench.workspace $(BENCH_WORKSPACE_ARGS)

# Rule evaluation: events/s through the real handler with 200 active rules against none;
# SQLite by default, PostgreSQL with BENCH_POSTGRES_URL; options in BENCH_RULES_ARGS.
BENCH_RULES_ARGS ?=
bench-rules: install
	$(BIN)/python -m bench.rule_eval $(BENCH_RULES_ARGS)
