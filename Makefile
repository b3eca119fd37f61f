# mediastack-harness — two commands on a fresh Debian/Ubuntu machine: `make setup`, then `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HARNESS := $(BIN)/harness
WORKERS ?= auto
MARK ?=
PYTEST_ARGS ?=

.PHONY: setup venv engine images test test-unit test-integration up down lint bench clean

setup: venv engine images ## venv with test extras, Docker + Compose v2, the stack's images

venv: $(BIN)/.installed
$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

engine: venv
	$(HARNESS) engine ensure --install

images: venv
	$(HARNESS) images build

test: ## unit and integration tests under pytest-xdist
	$(BIN)/pytest -n $(WORKERS) --dist loadgroup tests/unit tests/integration $(PYTEST_ARGS)

test-unit:
	$(BIN)/pytest -n $(WORKERS) --dist loadgroup tests/unit $(PYTEST_ARGS)

test-integration: ## MARK=faults to pick a suite
	$(BIN)/pytest -n $(WORKERS) --dist loadgroup tests/integration $(if $(MARK),-m "$(MARK)") $(PYTEST_ARGS)

up:
	$(HARNESS) up

down:
	$(HARNESS) down

lint:
	$(BIN)/ruff check harness mocks tests benchmarks
	$(BIN)/mypy

bench:
	$(BIN)/python benchmarks/bench_stack.py

clean: down
	rm -rf $(VENV) .harness
