# The two commands a newcomer needs: `make demo` and `make test` (see README.md).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat requirements.txt requirements-dev.txt | cksum | cut -d' ' -f1)

.PHONY: demo demo-code test fuzz lint typecheck check venv clean-var

$(STAMP): requirements.txt requirements-dev.txt
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "Concord needs Python 3.11 or newer"'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements-dev.txt
	rm -f $(VENV)/.installed-*
	touch $(STAMP)

venv: $(STAMP)

## The running app with the demo partnership: web server, Celery worker and beat.
demo: venv
	$(BIN)/python -m devtools.services demo

## The whole suite; pass pytest arguments with ARGS="-k access -x".
test: venv
	$(BIN)/python -m devtools.services test $(ARGS)

## The API fuzzed against its schema for longer than `make test` does (the same test,
## config/tests/test_fuzz_api.py): CONCORD_FUZZ_EXAMPLES generated calls per operation and
## role, and Schemathesis's coverage phase; prints the counts.
fuzz: venv
	CONCORD_FUZZ_EXAMPLES=$${CONCORD_FUZZ_EXAMPLES:-200} CONCORD_FUZZ_COVERAGE=$${CONCORD_FUZZ_COVERAGE:-1} \
	  $(BIN)/python -m devtools.services test -n 0 -p no:randomly -s -q config/tests/test_fuzz_api.py $(ARGS)

## Static checks: lint, the floor plan (import contracts in pyproject.toml), types, Django's
## system checks, migrations in step with the models.
lint: venv typecheck
	$(BIN)/ruff check .
	$(BIN)/lint-imports --no-cache

## mypy with django-stubs and the DRF stubs ([tool.mypy] in pyproject.toml). The Django
## plugin imports the test settings, which need a DATABASE_URL: it is never connected to.
typecheck: venv
	CONCORD_ENV=test DATABASE_URL=postgresql://mypy@127.0.0.1:5432/mypy $(BIN)/mypy .

check: venv
	$(BIN)/python -m devtools.services run -- sh -c '\
	  CONCORD_ENV=test $(BIN)/python manage.py check --fail-level WARNING && \
	  CONCORD_ENV=test $(BIN)/python manage.py makemigrations --check --dry-run && \
	  CONCORD_ENV=test DJANGO_SETTINGS_MODULE=config.settings_test $(BIN)/python manage.py makemigrations --check --dry-run'

## Forget the embedded servers' data (the demo database included).
clean-var:
	rm -rf var/pg-* var/valkey-*

## The code the demo users' shared authenticator shows now (see README, "The demo").
demo-code: venv
	@$(BIN)/python -m devtools.demo_code
