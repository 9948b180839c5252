# MEG — one command to run, one to test.
VENV ?= .venv
PY := $(VENV)/bin/python
PYTHON ?= python3
TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/meg
TEST_REDIS_URL ?= redis://127.0.0.1:6379/15

.PHONY: install run test lint bench clean

$(VENV)/.installed: pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[dev]"
	touch $@

install: $(VENV)/.installed

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
