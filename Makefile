# Two commands do all set-up on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install demo test lint typecheck unit browser bench faults clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

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

test: lint typecheck browser unit

bench: $(STAMP)
	$(BIN)/python benchmarks/exchange.py

# The fault-injection run at full size (10,000 events, 20 kills, 10 % drop/duplicate/reorder/delay,
# clock skew, a full disk); prints a JSON summary, exits 1 if an invariant broke. `make test` runs
# only its bounded version (tests/faults/test_faults.py).
faults: $(STAMP)
	$(BIN)/python -m tests.faults.run

clean:
	rm -rf $(VENV) build .pytest_cache .mypy_cache .ruff_cache
