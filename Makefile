# stsys: `make run` serves the embedded default; `make test` runs the tests on real services.
SHELL := /bin/bash
# Debian's interpreter: python3-venv/python3-dev below are for it, and its libpython is linked in
# statically. A python3 built with --enable-shared and without --enable-optimizations (as pyenv
# builds here) cost 18% more web CPU per uncached search under load, in two alternating rounds
# (bench/interpreter.py → bench/results/interpreter.json).
PY ?= /usr/bin/python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
APT_PACKAGES := python3-venv python3-dev build-essential pkg-config libmariadb-dev nginx-light \
	chromium fonts-wqy-microhei systemd

# The test environment: real MariaDB, Redis, Elasticsearch (started by tests/services/*.sh).
export MARIADB_PORT ?= 3306
export REDIS_PORT ?= 6379
export ES_PORT ?= 9200
# the replica-router test's MariaDB pair (tests/services/mariadb_replica.sh)
export PAIR_PRIMARY_PORT ?= 3308
export PAIR_REPLICA_PORT ?= 3309
TEST_ENV := TESTING=true \
	DATABASE_URL=mysql://stsys:stsys@127.0.0.1:$(MARIADB_PORT)/stsys \
	REDIS_URL=redis://127.0.0.1:$(REDIS_PORT) \
	ELASTICSEARCH_URL=http://127.0.0.1:$(ES_PORT) \
	ELASTICSEARCH_INDEX_PREFIX=test_ \
	CELERY_TASK_ALWAYS_EAGER=true

.PHONY: help deps venv run serve services stop-services test lint format migrations-check demo frontend

help:
	@echo "make run    - set up and serve the embedded default on http://$(HOST):$(PORT)"
	@echo "make test   - set up, start MariaDB/Redis/Elasticsearch, run lint and pytest"

deps:
	@missing=""; for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then echo "== apt-get install$$missing"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; fi

$(BIN)/activate: requirements.txt requirements-dev.txt
	@$(MAKE) --no-print-directory deps
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -r requirements-dev.txt
	touch $(BIN)/activate

venv: $(BIN)/activate

# The real corpus for the question bank (npm chinese-poetry, MIT), read by import_poetry.
node_modules/chinese-poetry/package.json: package.json package-lock.json
	npm ci --no-audit --no-fund --ignore-scripts
	touch $@

demo: venv node_modules/chinese-poetry/package.json
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py load_areas
	$(BIN)/python manage.py load_demo

run: demo frontend
	@echo
	@echo "== stsys is starting on http://$(HOST):$(PORT)/"
	@echo "   API docs:  http://$(HOST):$(PORT)/api/docs/"
	@echo "   Admin:     http://$(HOST):$(PORT)/admin/"
	@$(BIN)/python manage.py demo_logins
	$(BIN)/python manage.py runserver $(HOST):$(PORT) --noreload

# The single-page app (frontend/), built once and served by Django.
FRONTEND_SRC := $(shell find frontend/src -type f 2>/dev/null) frontend/index.html \
	frontend/package.json frontend/package-lock.json frontend/vite.config.ts
frontend: frontend/dist/index.html
frontend/dist/index.html: $(FRONTEND_SRC)
	cd frontend && npm ci --no-audit --no-fund && npm run build
	touch $@

services:
	bash tests/services/mariadb.sh
	bash tests/services/redis.sh
	bash tests/services/elasticsearch.sh

stop-services:
	bash tests/services/stop.sh

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

migrations-check: venv
	$(BIN)/python manage.py makemigrations --check --dry-run

test: venv services frontend node_modules/chinese-poetry/package.json
	$(MAKE) --no-print-directory lint migrations-check
	$(TEST_ENV) $(BIN)/python -m pytest $(PYTEST_ARGS); rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "pytest collected no tests: failing"; exit 1; fi; exit $$rc

format: venv
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .
