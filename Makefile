# The two commands: `make demo` runs a whole virtual branch, `make test` runs every check.
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
DEMO_OUT ?= demo-out

.PHONY: demo test setup system-packages lint typecheck contracts pytest bench fuzz screens clean

# `make demo DEMO_ARGS=--serve`: after the scripted voters the screens stay up, driven by hand until Ctrl-C.
demo: setup
	$(BIN)/python -m harness.demo --out $(DEMO_OUT) $(DEMO_ARGS)

test: setup lint typecheck contracts pytest

setup: system-packages $(STAMP)

system-packages:
	@./scripts/install-system-packages

$(STAMP): pyproject.toml
	python3 -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	touch $(STAMP)

lint:
	$(BIN)/ruff check .

typecheck:
	$(BIN)/mypy

# The import graph: the layering in README (Layout), written as contracts in pyproject.toml.
contracts:
	$(BIN)/lint-imports

pytest:
	$(BIN)/pytest

bench: setup
	@for b in bench/*.py; do [ $$b = bench/fuzz.py ] && continue; echo "== $$b"; PYTHONPATH=. $(BIN)/python $$b || exit 1; done

# The long fuzz campaign: every target for 10^6 inputs (about 80 minutes on one core); FUZZ_ARGS to change it.
fuzz: setup
	PYTHONPATH=. $(BIN)/python bench/fuzz.py $(FUZZ_ARGS)

# The README's pictures: the browser tests with their screenshots written to docs/screens (other runs write them
# to a temporary folder, so a test run leaves the checkout as it was).
screens: setup
	SCREENSHOTS_TO=docs/screens $(BIN)/pytest -q tests/screen tests/dashboard \
		"tests/integration/test_demo.py::test_a_polling_day_keeps_every_rule_and_counts_each_case"

clean:
	rm -rf $(VENV) $(DEMO_OUT) .mypy_cache .ruff_cache .pytest_cache
