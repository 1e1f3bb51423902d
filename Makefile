# The two commands: `make demo` runs a whole virtual branch, `make test` runs every check.
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
DEMO_OUT ?= demo-out

.PHONY: demo test setup system-packages lint typecheck pytest bench clean

demo: setup
	$(BIN)/kiosk demo --out $(DEMO_OUT)

test: setup lint typecheck pytest

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

pytest:
	$(BIN)/pytest

bench: setup
	@for b in bench/*.py; do echo "== $$b"; $(BIN)/python $$b || exit 1; done

clean:
	rm -rf $(VENV) $(DEMO_OUT) .mypy_cache .ruff_cache .pytest_cache
