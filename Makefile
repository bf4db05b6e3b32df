# Two commands do everything on a fresh Debian/Raspberry Pi OS machine:
#   make run    installs what is missing, pulls the default models, starts the satellite
#   make test   installs what is missing, pulls the default models, runs lint, types and tests

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
CONFIG ?= $(wildcard config.yaml)
ARGS ?=

.PHONY: run test setup system-deps venv models lint typecheck pytest clean

run: setup
	$(BIN)/satellite $(if $(CONFIG),--config $(CONFIG)) run $(ARGS)

test: setup lint typecheck pytest

setup: system-deps venv models

system-deps:
	@scripts/install-system-deps.sh

venv: $(BIN)/.installed

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev,full]'
	touch $@

models: venv
	$(BIN)/satellite models pull --profile lite

lint: venv
	$(BIN)/ruff check satellite tests

typecheck: venv
	$(BIN)/mypy

pytest: venv
	$(BIN)/pytest -q

clean:
	rm -rf $(VENV) build *.egg-info
