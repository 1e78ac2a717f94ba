# The two commands: `make run` and `make test`. Everything else supports them.
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

# A Python 3.12 or newer: python3 (which .python-version points at pyenv's 3.12 on Debian 12),
# pyenv's 3.12 or 3.13 directly, else python3.13 or python3.12 on the PATH (Debian 13).
# Each candidate is run, since a pyenv shim can exist and still fail.
PYTHON ?= $(shell for p in python3 $$HOME/.pyenv/versions/3.12*/bin/python3 $$HOME/.pyenv/versions/3.13*/bin/python3 python3.13 python3.12; do \
	$$p -c 'import sys; sys.exit(sys.version_info < (3, 12))' >/dev/null 2>&1 && { echo $$p; break; }; done)

.PHONY: run serve test lint format install migrate demo bench messages clean

$(PY):
	@if [ -z "$(PYTHON)" ]; then \
		echo "No Python 3.12 or newer found. Install python3.12 (pyenv) or python3.13 and try again."; exit 1; fi
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

$(STAMP): $(PY) requirements.txt requirements-dev.txt
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $(STAMP)

install: $(STAMP)

migrate: install
	DEBUG=1 $(PY) manage.py migrate --no-input

demo: migrate
	DEBUG=1 $(PY) manage.py load_demo

run: demo
	@echo "Serving on http://127.0.0.1:8000 (demo accounts are listed in README.md)"
	DEBUG=1 $(PY) manage.py runserver 127.0.0.1:8000

# Production: gunicorn with config/gunicorn.conf.py and the background-task worker side by
# side, with the reminders' sweep every REMINDER_SECONDS, configured by the environment and
# ENV_FILE if it exists (README.md, Production).
# It refuses to start with DEBUG on or without SECRET_KEY; when either process ends, or on
# Ctrl-C or SIGTERM, all stop.
ENV_FILE ?= .env
# How often make serve enqueues the pre-visit reminders that have come due (as the
# systemd timer in docs/deploy.md does on a server).
REMINDER_SECONDS ?= 900

serve:
	@set -a; if [ -f "$(abspath $(ENV_FILE))" ]; then . "$(abspath $(ENV_FILE))"; fi; set +a; \
	case "$${DEBUG,,}" in 1|true|yes|on) \
		echo "make serve: DEBUG is on. Production runs with DEBUG off; make run is for development." >&2; exit 1;; \
	esac; \
	if [ -z "$$SECRET_KEY" ]; then \
		echo "make serve: SECRET_KEY is not set (in the environment or $(ENV_FILE)). See README.md, Production." >&2; exit 1; \
	fi; \
	export TASKS_BACKEND=database; \
	$(MAKE) --no-print-directory install && \
	$(PY) manage.py migrate --no-input && \
	$(PY) manage.py collectstatic --no-input --verbosity 0 || exit 1; \
	$(PY) manage.py db_worker & worker=$$!; \
	$(VENV)/bin/gunicorn --config config/gunicorn.conf.py & web=$$!; \
	( trap 'kill $$! 2>/dev/null; exit 0' TERM; \
	  while :; do $(PY) manage.py send_previsit_reminders || true; sleep $(REMINDER_SECONDS) & wait $$!; done ) & reminders=$$!; \
	trap 'kill -TERM $$web $$worker $$reminders 2>/dev/null' INT TERM; \
	wait -n $$web $$worker; status=$$?; \
	kill -TERM $$web $$worker $$reminders 2>/dev/null; wait; exit $$status

# axe-core (npm) for the browser tests' accessibility checks.
node_modules/axe-core/axe.min.js: package.json
	@if command -v npm >/dev/null; then npm install --no-audit --no-fund --silent; \
	else echo "npm not found: the accessibility checks in the browser tests will be skipped"; fi

test: install node_modules/axe-core/axe.min.js
	$(VENV)/bin/pytest

# The benchmark (not part of make test): the app under gunicorn on PostgreSQL, measured
# from outside against baselines run beside it (README.md, Benchmark). DATABASE_URL names
# the database, default clinic_bench; each size gets its own (clinic_bench_1000).
BENCH_SIZES ?= 100,1000
BENCH_OPTIONS ?=

bench: install
	$(PY) bench/serving.py --sizes $(BENCH_SIZES) $(BENCH_OPTIONS)

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: install
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

# The patient pages' translations (README.md, Translations): gathers every marked text into
# locale/<language>/LC_MESSAGES/django.po, then compiles the .mo files that are committed
# beside them (so that installing needs no gettext). Needs GNU gettext (Debian: gettext).
messages: install
	DEBUG=1 $(PY) manage.py makemessages --all --no-location --no-obsolete \
		--ignore=.venv --ignore=node_modules --ignore=bench --ignore=tests --ignore=docs --ignore=staticfiles
	DEBUG=1 $(PY) manage.py compilemessages --ignore=.venv --ignore=node_modules

clean:
	rm -rf $(VENV) db.sqlite3 staticfiles
