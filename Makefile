# wirewatch — two commands do all set-up: `make demo` and `make test`.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
WIREWATCH := $(VENV)/bin/wirewatch
STAMP := $(VENV)/.installed-stamp
PYTEST_ARGS ?=

.PHONY: install system-deps lint test demo reliability broker-start broker-stop clean

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev]'
	@touch $(STAMP)

install: $(STAMP)

# Debian packages the tests run (CI starts from a clean machine): one line per tool, "command -v TOOL ||
# add its package"; apt-get runs only when something is missing.
system-deps:
	@missing=; \
	command -v promtool >/dev/null || missing="$$missing prometheus"; \
	command -v prometheus >/dev/null || missing="$$missing prometheus"; \
	command -v chromium >/dev/null || missing="$$missing chromium"; \
	if [ -n "$$missing" ]; then \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing; \
	fi

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy
	$(WIREWATCH) schemas --check
	$(WIREWATCH) dashboards --check
	$(WIREWATCH) docs --check

# Runs $(1) against the real dev broker: a broker that already answers is reused; one this recipe started is
# stopped again, whatever the outcome.
with_broker = started=0; \
	if ! $(WIREWATCH) kafka status >/dev/null 2>&1; then $(WIREWATCH) kafka start; started=1; fi; \
	rc=0; $(1) || rc=$$?; \
	if [ $$started = 1 ]; then $(WIREWATCH) kafka stop; fi; \
	exit $$rc

# The whole suite, integration tests and the short reliability scenarios included.
test: lint system-deps
	@$(call with_broker,$(PY) -m pytest $(PYTEST_ARGS))

# The full reliability scenarios, one after the other (about 30 minutes; figures in docs/reliability.md).
reliability: install
	@$(call with_broker,$(WIREWATCH) bench reliability)

demo: install
	$(WIREWATCH) demo

broker-start: install
	$(WIREWATCH) kafka start

broker-stop: install
	$(WIREWATCH) kafka stop

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache build *.egg-info
