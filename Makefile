# Two commands on a fresh machine with Python 3.11+ and make: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8501

.PHONY: run test lint typecheck format bench screenshots clean

# A fingerprint of every tracked file's content against HEAD (empty outside a git checkout):
# `make test` compares it before and after pytest, so a test that rewrites a tracked file fails.
TRACKED_STATE = git diff HEAD --binary 2>/dev/null | git hash-object --stdin 2>/dev/null

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.runtime: requirements.txt | $(BIN)/python
	$(BIN)/python -m pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.dev: requirements.txt requirements-dev.txt | $(BIN)/python
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	touch $(VENV)/.runtime $@

run: $(VENV)/.runtime
	$(BIN)/python -m app.serve --server.port $(PORT) --browser.gatherUsageStats false

test: lint
	@before="$$($(TRACKED_STATE))"; \
	$(BIN)/python -m pytest || exit $$?; \
	if [ "$$($(TRACKED_STATE))" != "$$before" ]; then \
		echo "the tests changed tracked files:"; git status --short --untracked-files=no; exit 1; \
	fi

lint: typecheck  # checks only (style, formatting, types); `make format` fixes
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(VENV)/.dev  # mypy, basic mode; the files and options are in pyproject.toml
	$(BIN)/mypy

format: $(VENV)/.dev  # rewrites: import order and other safe fixes, then the formatter
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

screenshots: $(VENV)/.dev  # refresh docs/screenshots/ (the tests write elsewhere by default)
	UPDATE_SCREENSHOTS=1 $(BIN)/python -m pytest -n 0 tests/browser/test_browser.py -k "loads or play_advances"
	UPDATE_SCREENSHOTS=1 $(BIN)/python -m pytest -n 0 tests/browser/test_layout_browser.py -k "phone or presenter"

bench: $(VENV)/.dev  # the load items start servers with tests/programs.py (pytest)
	$(BIN)/python -m bench.run
	$(BIN)/python -m bench.run load --sessions 1,10,30
	$(BIN)/python -m bench.run heavy
	$(BIN)/python -m bench.run memory
	$(BIN)/python -m bench.run browser

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .mypy_cache bench/results.json
