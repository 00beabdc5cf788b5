# A newcomer's two commands: `make demo` and `make test`. Everything else is for developers.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint format bench serve notebooks clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

## Migrate an SQLite database under var/, seed a demo catalog, print the accounts, serve.
demo: $(STAMP)
	$(BIN)/idlemarket demo

## The whole test suite (PostgreSQL and Redis parts run when TEST_DATABASE_URL / TEST_REDIS_URL are set).
test: $(STAMP)
	$(BIN)/python -m pytest

## Types, lint and the dependency direction.
lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

## Jupyter on the analysts' notebooks.
notebooks: $(STAMP)
	$(BIN)/python -m pip install --quiet jupyterlab
	$(BIN)/jupyter lab notebooks

serve: $(STAMP)
	$(BIN)/idlemarket serve

## Benchmarks, each beside its baseline; BENCH_POSTGRES_URL adds PostgreSQL (that database is wiped).
bench: $(STAMP)
	$(BIN)/python benchmarks/seed_bench.py
	$(BIN)/python benchmarks/api_bench.py
	$(BIN)/python benchmarks/ranking_bench.py
	$(BIN)/python benchmarks/web_bench.py

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
