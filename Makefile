# mediastack-harness — two commands on a fresh Debian/Ubuntu machine: `make setup`, then `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HARNESS := $(BIN)/harness
WORKERS ?= auto
SHARDS ?= 2
MARK ?=
PYTEST_ARGS ?=
REPORTS_DIR ?= $(or $(HARNESS_REPORTS_DIR),reports)
SUDO ?= $(if $(filter 0,$(shell id -u)),,sudo)
# The studio (examples/studio) is an outside adopter: it runs from a wheel built from this checkout,
# in a venv outside the checkout's tree.
STUDIO_VENV ?= $(or $(TMPDIR),/tmp)/mediastack-harness-studio-$(shell printf %s "$(CURDIR)" | md5sum | cut -c1-8)
# The pinned environment both venvs install in (pip constraints), and the tool that writes it.
LOCK := requirements/dev.lock
UV := uv==0.13.9
# The oldest versions the declared ranges allow (`make lock`), and the venv that tests them.
FLOORS_LOCK := requirements/floors.lock
# The Python that has build and twine (`make dist`): the dev venv's, or any with `make dist-tools`.
DIST_PYTHON ?= $(BIN)/python
# On a release (`make dist RELEASE_TAG=v1.2.3`): the tag must name the version built.
RELEASE_TAG ?=
FLOORS_VENV ?= $(or $(TMPDIR),/tmp)/mediastack-harness-floors-$(shell printf %s "$(CURDIR)" | md5sum | cut -c1-8)

.PHONY: setup venv lock engine images test test-unit test-integration test-integration-shards test-studio studio-venv studio-image \
	test-blender test-floors dist dist-tools \
	up down lint docs bench clean \
	report ci-tools ci-summary ci-logs ci-down

setup: venv engine images ## venv with test extras, Docker + Compose v2, the stack's images

venv: $(BIN)/.installed
$(BIN)/.installed: pyproject.toml $(LOCK)
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -c $(LOCK) -e '.[test]'
	touch $@

lock: ## re-resolve the pins from the declared ranges (uv): $(LOCK) and each image's constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet '$(UV)'
	$(BIN)/python requirements/lock.py --uv $(BIN)/uv

engine: venv
	$(HARNESS) engine ensure --install

images: venv
	$(HARNESS) images build --all

test: ## lint, the docs and the release build, unit tests, the integration suite as SHARDS shards merged into one report, the studio's and the director add-on's suites, the floors
	$(MAKE) lint
	$(MAKE) docs
	$(MAKE) dist
	$(BIN)/pytest -n $(WORKERS) --dist loadgroup tests/unit $(PYTEST_ARGS)
	$(MAKE) test-integration-shards
	$(MAKE) test-studio
	$(MAKE) test-blender
	$(MAKE) test-floors

test-blender: ## the director add-on's suites in real Blender (bpy) on the stack
	cd examples/blender_director && $(abspath $(HARNESS)) blender run director -- \
		-n $(WORKERS) --dist loadgroup -m blender $(PYTEST_ARGS)

studio-venv: ## the studio's own venv: the harness wheel built from here, the studio editable
	test -x $(STUDIO_VENV)/bin/python || $(PYTHON) -m venv $(STUDIO_VENV)
	rm -rf $(STUDIO_VENV)/dist
	$(BIN)/pip wheel --quiet --no-deps --wheel-dir $(STUDIO_VENV)/dist . && rm -rf build
	$(STUDIO_VENV)/bin/pip install --quiet -c $(LOCK) $(STUDIO_VENV)/dist/*.whl -e 'examples/studio[test]'
	$(STUDIO_VENV)/bin/pip install --quiet --force-reinstall --no-deps $(STUDIO_VENV)/dist/*.whl

studio-image: studio-venv ## the studio's image base, offline, as the README tells adopters
	cd examples/studio && $(STUDIO_VENV)/bin/harness images build-app studio-app:local \
		--source studio -r requirements.txt

test-studio: studio-image ## the studio's unit and integration suites, from examples/studio
	cd examples/studio && $(STUDIO_VENV)/bin/pytest -n $(WORKERS) --dist loadgroup tests $(PYTEST_ARGS)

test-floors: ## the unit tests at the dependency floors: `.[all]` and the test tools as in $(FLOORS_LOCK)
	rm -rf $(FLOORS_VENV)
	$(PYTHON) -m venv $(FLOORS_VENV)
	$(FLOORS_VENV)/bin/pip install --quiet '$(UV)'
	$(FLOORS_VENV)/bin/uv pip install --quiet --python $(FLOORS_VENV)/bin/python \
		-r $(FLOORS_LOCK) -e '.[all]'
	@# not tests/unit/blender: they run real Blender, and bpy (the blender extra) is not in `all`
	$(FLOORS_VENV)/bin/pytest -n $(WORKERS) --dist loadgroup tests/unit --ignore tests/unit/blender \
		$(PYTEST_ARGS)

dist: $(if $(filter $(BIN)/python,$(DIST_PYTHON)),venv) ## sdist, and the wheel built from it, into dist/; twine check
	rm -rf dist
	$(DIST_PYTHON) -m build --outdir dist .
	$(DIST_PYTHON) -m twine check --strict dist/*
	$(if $(RELEASE_TAG),test -f dist/mediastack_harness-$(RELEASE_TAG:v%=%)-py3-none-any.whl \
		|| { echo "tag $(RELEASE_TAG) is not the version in pyproject.toml" >&2; exit 1; })

dist-tools: ## build and twine alone, at the dev lock's versions, for DIST_PYTHON (the release workflow)
	$(DIST_PYTHON) -m pip install --quiet -c $(LOCK) build twine

test-unit:
	$(BIN)/pytest -n $(WORKERS) --dist loadgroup tests/unit $(PYTEST_ARGS)

test-integration: ## MARK=faults to pick a suite
	$(BIN)/pytest -n $(WORKERS) --dist loadgroup tests/integration $(if $(MARK),-m "$(MARK)") $(PYTEST_ARGS)

test-integration-shards: ## the integration suite as SHARDS duration-balanced shards, one after another (each its own run and stack), then one merged report
	rm -rf $(REPORTS_DIR)/shards $(REPORTS_DIR)/merged
	failed=0; for i in $$(seq $(SHARDS)); do \
		$(BIN)/pytest -n $(WORKERS) --dist loadgroup tests/integration --harness-shard $$i/$(SHARDS) \
			--harness-reports $(REPORTS_DIR)/shards $(PYTEST_ARGS) || failed=1; \
	done; \
	$(HARNESS) report merge $(REPORTS_DIR)/shards --out $(REPORTS_DIR)/merged || failed=1; \
	exit $$failed

up:
	$(HARNESS) up

down:
	$(HARNESS) down

docs: venv ## the documentation site (mkdocs.yml, docs/), strictly: any warning fails
	$(BIN)/mkdocs build --strict --site-dir $(or $(TMPDIR),/tmp)/mediastack-harness-site

lint:
	$(BIN)/ruff check harness mocks examples tests benchmarks requirements
	$(BIN)/mypy
	cd examples/studio && $(abspath $(BIN))/mypy

report: ## the newest run's summary and HTML path (RUN=<id> for another)
	$(HARNESS) report $(RUN) --dir $(REPORTS_DIR)

ci-tools: ## CI: what building the mocks image needs
	$(SUDO) apt-get update && $(SUDO) apt-get install -y debootstrap

ci-summary: ## CI: note in the job summary when no run wrote one
	@ls $(REPORTS_DIR)/*/summary.md >/dev/null 2>&1 || \
		echo "no mediastack-harness report: the run ended before pytest wrote one" \
		>> "$${GITHUB_STEP_SUMMARY:-/dev/stdout}"

ci-logs: ## CI: every harness container still present, and its logs, into $(REPORTS_DIR)/ci-logs
	mkdir -p $(REPORTS_DIR)/ci-logs
	docker ps -a --filter label=org.mediastack-harness.run > $(REPORTS_DIR)/ci-logs/containers.txt
	for c in $$(docker ps -aq --filter label=org.mediastack-harness.run); do \
		docker logs --tail 500 $$c > $(REPORTS_DIR)/ci-logs/$$(docker inspect -f '{{.Name}}' $$c | tr -d /).log 2>&1; \
	done

ci-down: ## CI: remove the stack and every run whose owner is gone
	$(HARNESS) down --all

bench:
	$(BIN)/python benchmarks/bench_stack.py

clean: down
	rm -rf $(VENV) .harness
