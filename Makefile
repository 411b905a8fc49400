# Two commands for a new user: `make run` (the portal on the embedded default) and
# `make test` (the whole suite on PostgreSQL and Redis, then the browser walks again on the
# embedded default). Both set up what they need.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test test-embedded test-scale bench bench-fairness bench-draw bench-scale messages check-services chromium nginx wrk clean

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip

$(VENV)/.runtime: requirements.txt | $(VENV)/bin/python
	$(PY) -m pip install -q -r requirements.txt
	touch $@

$(VENV)/.dev: requirements.txt requirements-dev.txt | $(VENV)/bin/python
	$(PY) -m pip install -q -r requirements-dev.txt
	touch $@ $(VENV)/.runtime

# The embedded default: SQLite, local-memory cache, Celery on a file-based broker.
run: export DJANGO_DEBUG = 1
run: export DATABASE_URL = sqlite:///$(CURDIR)/db.sqlite3
run: export REDIS_URL =
run: export CELERY_BROKER_URL = filesystem://
run: $(VENV)/.runtime
	@mkdir -p .celery/broker .celery/processed
	$(PY) manage.py migrate --noinput
	$(PY) manage.py seed_demo
	@# The worker runs in its own session (setsid, where there is one) so that Ctrl+C reaches
	@# only the web server; the trap then stops the worker with one TERM and waits for it
	@# (its embedded beat hangs when every process of the group is signalled at once).
	@# Its log (stderr) goes to .celery/worker.log; its output (stdout: the e-mails it sends, by
	@# the console backend) comes to this console, next to the web server's.
	@$$(command -v setsid) $(VENV)/bin/celery --quiet -A mpaspor worker -Q urgent,default,bulk --beat --loglevel=INFO --concurrency=2 \
		--schedule=.celery/beat-schedule 2>.celery/worker.log & \
	worker=$$!; \
	trap 'trap - INT TERM EXIT; kill -TERM $$worker 2>/dev/null; wait $$worker' INT TERM EXIT; \
	$(PY) manage.py demo_banner --url http://$(HOST):$(PORT)/; \
	$(PY) manage.py runserver $(HOST):$(PORT)

chromium:
	@test -x /usr/bin/chromium || { echo "Installing Debian's Chromium for the browser tests..."; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }

# The bench's load generator (C, with Lua scripts for bodies that differ per request).
wrk:
	@command -v wrk >/dev/null || { echo "Installing Debian's wrk for the bench..."; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null; }

# The whole suite on PostgreSQL and Redis (DATABASE_URL / REDIS_URL, or their local defaults),
# then every browser walk on the embedded default.
test: $(VENV)/.dev chromium
	$(PY) -m pytest -n 2 --create-db $(PYTEST_ARGS)
	@$(MAKE) --no-print-directory test-embedded

# The browser walks (tests/e2e) on what `make run` uses: SQLite, the file broker, no Redis (a
# local-memory cache). Each worker's SQLite database is a file in pytest's temporary folder
# (tests/conftest.py; the file named here is never opened), so nothing is left in the checkout.
# Tasks run eagerly, as in every test.
test-embedded: export DATABASE_URL = sqlite:///$(CURDIR)/.celery/embedded-tests.sqlite3
test-embedded: export REDIS_URL =
test-embedded: export CELERY_BROKER_URL = filesystem://
test-embedded: $(VENV)/.dev chromium
	$(PY) -m pytest -n 2 tests/e2e

# Regenerate the Indonesian and English catalogues after changing translatable strings.
messages: $(VENV)/.dev
	$(PY) manage.py makemessages -l id -l en --ignore=.venv --ignore=bench --ignore=tests
	$(PY) manage.py compilemessages --ignore=.venv

clean:
	rm -rf $(VENV) db.sqlite3* .celery staticfiles

# The quota-release burst on the production stack (gunicorn, PostgreSQL, its own Redis on
# BENCH_REDIS_PORT, a Celery worker): writes bench/results.json and bench/REPORT.md. On demand
# only, never part of `make test`. Needs PostgreSQL at BENCH_DATABASE_URL (it drops that database).
bench: $(VENV)/.dev wrk
	$(PY) bench/run.py $(BENCH_ARGS)
	$(PY) bench/report.py

# The fairness model of first come against the draw, and the draw's planning time (no servers).
bench-fairness: $(VENV)/.dev
	$(PY) bench/fairness.py

# The draw of 100,000 entries on 10,000 places on PostgreSQL: close, plan, application (its own database).
bench-draw: $(VENV)/.dev
	$(PY) bench/draw_scale.py

nginx:
	@command -v nginx >/dev/null || test -x /usr/sbin/nginx || { echo "Installing Debian's nginx for the scale tests..."; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx-light >/dev/null; }

# Beyond one machine, on this one (tests/scale/): a PostgreSQL primary and its streaming replica
# (pg_basebackup, PostgreSQL 15 from Debian), its own Redis, two gunicorn nodes behind nginx, two
# beats. Not part of `make test` (a few minutes); the router's unit tests are.
SCALE_PRIMARY_PORT ?= 5441
SCALE_REPLICA_PORT ?= 5442
SCALE_REDIS_PORT ?= 6392
test-scale bench-scale: export SCALE_PRIMARY_PORT := $(SCALE_PRIMARY_PORT)
test-scale bench-scale: export SCALE_REPLICA_PORT := $(SCALE_REPLICA_PORT)
test-scale bench-scale: export SCALE_REDIS_PORT := $(SCALE_REDIS_PORT)
test-scale: $(VENV)/.dev nginx
	DJANGO_SECRET_KEY=collectstatic-only $(PY) manage.py collectstatic --noinput -v0
	$(PY) -m tests.scale.cluster up
	SCALE_TESTS=1 DATABASE_URL=postgres://postgres@127.0.0.1:$(SCALE_PRIMARY_PORT)/mpaspor \
		REPLICA_DATABASE_URL=postgres://postgres@127.0.0.1:$(SCALE_REPLICA_PORT)/mpaspor \
		REDIS_URL=redis://127.0.0.1:$(SCALE_REDIS_PORT)/0 CELERY_BROKER_URL=redis://127.0.0.1:$(SCALE_REDIS_PORT)/0 \
		$(PY) -m pytest -n 0 --create-db tests/scale $(PYTEST_ARGS); \
		status=$$?; $(PY) -m tests.scale.cluster down; exit $$status

# One web node against two on this machine (bench/scale.py), on the scale cluster: writes
# bench/scale-results.json and bench/SCALE.md. On demand only.
bench-scale: $(VENV)/.dev nginx
	DJANGO_SECRET_KEY=collectstatic-only $(PY) manage.py collectstatic --noinput -v0
	$(PY) -m tests.scale.cluster up
	$(PY) -m bench.scale; status=$$?; $(PY) -m tests.scale.cluster down; exit $$status
