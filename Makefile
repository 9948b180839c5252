# MEG — one command to run, one to test.
VENV ?= .venv
PY := $(VENV)/bin/python
PYTHON ?= python3
TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/meg
TEST_REDIS_URL ?= redis://127.0.0.1:6379/15

.PHONY: install run test lint bench clean messages compilemessages

$(VENV)/.installed: pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[dev]"
	touch $@

install: $(VENV)/.installed compilemessages

# The English catalogue (French is the source language). `make messages` adds new strings to
# locale/en/LC_MESSAGES/django.po: translate them (tests/i18n fails while one is missing).
MESSAGES_IGNORE := --ignore=.venv --ignore=sandboxes --ignore=tests --ignore=benchmarks \
	--ignore=devtools --ignore=var --ignore=staticfiles
messages: $(VENV)/.installed
	$(PY) manage.py makemessages -l en --no-location --no-obsolete $(MESSAGES_IGNORE)

## the .mo is committed too; this rebuilds it from the .po with gettext's msgfmt, when installed
compilemessages: $(VENV)/.installed
	@if command -v msgfmt >/dev/null; then \
		$(PY) manage.py compilemessages -l en --ignore=.venv --ignore=sandboxes; \
	else echo "msgfmt absent (apt-get install gettext): the committed .mo is used"; fi

## make run: the embedded mode (SQLite, no server to install), demo data, http://127.0.0.1:8000
run: install
	mkdir -p var
	$(PY) manage.py migrate --noinput
	$(PY) manage.py seed_demo
	@echo "MEG : http://127.0.0.1:8000  (Ctrl+C pour arrêter)"
	CELERY_BROKER_URL=filesystem:// $(VENV)/bin/honcho -f Procfile.dev start

## make test: the whole suite on PostgreSQL (and Redis where needed)
test: install
	DATABASE_URL=$(TEST_DATABASE_URL) REDIS_URL=$(TEST_REDIS_URL) \
		$(VENV)/bin/pytest --create-db $(PYTEST_ARGS)

lint: install
	$(VENV)/bin/ruff check .

## make bench: prints the figures of DESIGN §10 (not a test: nothing asserts speed)
bench: install
	DATABASE_URL=$(TEST_DATABASE_URL) $(PY) -m benchmarks.run $(BENCH_ARGS)

clean:
	rm -rf var staticfiles .pytest_cache .ruff_cache
