# Two commands do all set-up on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install install-prod demo test lint typecheck unit browser deploy-tools bench faults clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

# A production install: Accord and its runtime dependencies with the PostgreSQL driver, no test
# tools, in PREFIX (default /opt/accord, where deploy/systemd/*.service look for it).
PREFIX ?= /opt/accord
install-prod:
	$(PYTHON) -m venv $(PREFIX)/.venv
	$(PREFIX)/.venv/bin/pip install --quiet --upgrade pip
	$(PREFIX)/.venv/bin/pip install --quiet '.[postgres]'

demo: $(STAMP) browser
	$(BIN)/accord demo

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks

typecheck: $(STAMP)
	$(BIN)/mypy --strict src

unit: $(STAMP)
	mkdir -p build
	$(BIN)/pytest --junitxml=build/junit.xml

# Chromium, CJK fonts and Pango for the browser tests and the briefing pack's PDF (WeasyPrint):
# installed with apt-get when missing and we are root on Debian; otherwise say so (in CI the
# browser and PDF tests then fail, never skip).
browser:
	@{ command -v chromium >/dev/null 2>&1 && ldconfig -p | grep -q libpangoft2; } || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
	      apt-get install -y -qq chromium fonts-noto-cjk libpango-1.0-0 libpangoft2-1.0-0; } || echo "could not install chromium"; \
	  else \
	    echo "chromium is missing and cannot be installed here (needs root and apt-get):"; \
	    echo "  apt-get install chromium fonts-noto-cjk libpango-1.0-0 libpangoft2-1.0-0   -- the browser tests fail in CI without it"; \
	  fi; }

# nginx (the reverse proxy of tests/ops/test_deploy.py) and systemd-analyze (which checks the
# units in deploy/systemd): installed like chromium above; in CI those tests fail without them.
deploy-tools:
	@{ command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ]; } && command -v systemd-analyze >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
	      apt-get install -y -qq nginx systemd openssl; } || echo "could not install nginx and systemd"; \
	  else \
	    echo "nginx or systemd-analyze is missing and cannot be installed here (needs root and apt-get):"; \
	    echo "  apt-get install nginx systemd openssl   -- the deployment tests fail in CI without them"; \
	  fi; }

test: lint typecheck browser deploy-tools unit

bench: $(STAMP)
	$(BIN)/python benchmarks/exchange.py

# The fault-injection run at full size (10,000 events, 20 kills, 10 % drop/duplicate/reorder/delay,
# clock skew, a full disk); prints a JSON summary, exits 1 if an invariant broke. `make test` runs
# only its bounded version (tests/faults/test_faults.py).
faults: $(STAMP)
	$(BIN)/python -m tests.faults.run

clean:
	rm -rf $(VENV) build .pytest_cache .mypy_cache .ruff_cache
