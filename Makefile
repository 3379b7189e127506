# TensorKart developer commands. `make demo` and `make test` are the two README commands.
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
REQS := requirements/dev.txt requirements/constraints.txt core/pyproject.toml cli/pyproject.toml \
        $(wildcard services/*/pyproject.toml)

.PHONY: setup test lint proto proto-check up demo bench compose-test clean plugin plugin-test n64-image

setup: $(STAMP)

$(STAMP): $(REQS)
	@test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip==26.3 setuptools==84.2.1 wheel==0.48.0
	$(PY) -m pip install -q --no-build-isolation -r requirements/dev.txt -c requirements/constraints.txt
	@touch $(STAMP)

proto: setup
	$(PY) tools/gen_protos.py

proto-check: setup
	$(PY) tools/gen_protos.py --check

lint: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

# The mupen64plus input plugin (emulator/input-plugin): built with -Wall -Wextra -Werror against
# Debian's libmupen64plus-dev headers; its tests are the parser under ASan+UBSan and a bounded
# libFuzzer run (FUZZ_SECONDS, default 20 s).
plugin:
	$(MAKE) -C emulator/input-plugin

plugin-test: plugin
	$(MAKE) -C emulator/input-plugin test

test: setup proto-check lint plugin-test
	$(VENV)/bin/pytest

up: setup
	$(VENV)/bin/tensorkart up

demo: setup
	$(PY) tools/demo.py

bench: setup
	$(PY) bench/run.py

# The n64 profile's image (the emulator frontend + our input plugin), built on Docker or the stand-in
# engine, and checked: the plugin attaches to the 2.5.9 core, a missing ROM is refused, and with
# TENSORKART_TEST_ROM a homebrew ROM's frames flow from the container's feed (not part of `make test`).
n64-image:
	bash tools/n64_image.sh

# The docker compose stack end to end (not part of `make test`; needs Docker or the stand-in engine).
compose-test:
	bash tools/compose_test.sh

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
	$(MAKE) -C emulator/input-plugin clean
