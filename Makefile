# The two commands of the README: `make demo` and `make test`. Everything lands in .venv.
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
# The example data: a local copy when one is there (offline machines, CI), else downloaded.
EXAMPLE_DATA ?= $(abspath ../shared/dataset_examples)
export LIGHTLY_STUDIO_EXAMPLE_DATA ?= $(if $(wildcard $(EXAMPLE_DATA)),$(EXAMPLE_DATA),)

.PHONY: install js test test-python test-js demo lint typecheck clean screenshots

# torch first, pinned: open_clip needs torchvision, and an open range pulls a multi-GB build.
$(STAMP): pyproject.toml package.json package-lock.json
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -q torch==2.14.1 torchvision==0.29.1
	npm ci --no-audit --no-fund
	$(PY) -m pip install -q -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

js: install
	npm run build

test-js: js
	npm run typecheck
	npm test

# Type check and lint first (lint runs typecheck): seconds, where the suite takes minutes.
test-python: js lint
	$(PY) -m pytest

test: test-js test-python

demo: js
	$(PY) -m lightly_studio._demo

# The pictures of docs/views.md and the README, taken by the browser tests at the moment they
# check what the picture shows (tests/conftest.py docs_shot).
screenshots: js
	LIGHTLY_STUDIO_DOCS_SCREENSHOTS=1 $(PY) -m pytest -q tests/server/test_app_browser.py \
		tests/server/test_evaluation_browser.py tests/classifier/test_classifier_browser.py \
		tests/video/test_player_browser.py tests/browser/test_query_box.py \
		tests/server/test_app_settings.py tests/browser/test_widget_layout.py

# lint = mypy (pyproject.toml [tool.mypy]) + the layer contract (lint-imports,
# [tool.importlinter]) + ruff's rules and its formatting.
lint: typecheck
	$(VENV)/bin/lint-imports
	$(PY) -m ruff check lightly_studio tests benchmarks
	$(PY) -m ruff format --check lightly_studio tests benchmarks

typecheck: install
	$(PY) -m mypy

clean:
	rm -rf $(VENV) node_modules lightly_studio/static/*.js .mypy_cache
