# Every target creates .venv and installs the project on first use, so each works on a fresh machine.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# Test processes for `make test` (pytest-xdist): most of the suite's time is spent starting servers
# and waiting on them, so two workers on two cores roughly halve it. Each test file runs whole in
# one worker (its module-scoped servers are started once). TEST_WORKERS=0 runs in this process.
TEST_WORKERS ?= 2

.PHONY: demo test lint conformance reliability bench clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

demo: $(STAMP)  ## Label Studio stand-in on :8000 + naftiko serve (REST :8080, MCP :9090); DEMO_ARGS="--standin-port N"
	$(BIN)/python examples/demo.py $(DEMO_ARGS)

test: $(STAMP)  ## lint and type-check (mypy --strict, config in pyproject), then the whole test suite
	$(BIN)/ruff check naftiko_runtime tests bench examples
	$(BIN)/mypy
	$(BIN)/python -m pytest -q -n $(TEST_WORKERS) --dist loadfile

lint: $(STAMP)
	$(BIN)/ruff check naftiko_runtime tests bench examples
	$(BIN)/mypy
	$(BIN)/ruff format --check naftiko_runtime tests bench examples

conformance: $(STAMP)  ## the Naftiko scenarios and every corpus capability, end to end, as a table
	$(BIN)/python -m pytest -q tests/conformance -p no:randomly

reliability: $(STAMP)  ## the reliability suite and reload under load, long settings: fault table, fuzzing, slow clients, soak
	NAFTIKO_RELIABILITY=long $(BIN)/python -m pytest -q -s tests/reliability tests/reload/test_under_load.py -p no:randomly --timeout 1800

bench: $(STAMP)  ## every benchmark (quiet machine recommended)
	$(BIN)/python bench/run_all.py

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache build *.egg-info
