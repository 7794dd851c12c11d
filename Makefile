# Two commands on a fresh machine with Python 3.11+ and make: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8501

.PHONY: run test lint format bench screenshots clean

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

test: $(VENV)/.dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python -m pytest

format: $(VENV)/.dev
	$(BIN)/ruff format .

lint: $(VENV)/.dev
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
	rm -rf $(VENV) .pytest_cache .ruff_cache bench/results.json
