# `make demo` and `make test` set everything up on a fresh machine.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
TORCH_VERSION := 2.13.0
# Read once when make starts, so `make demo` reports its wall time including set-up.
START_TIME := $(shell date +%s)

WEB_STAMP := src/latentspace/server/static/index.html
WEB_SOURCES := $(wildcard web/src/* web/src/*/* web/index.html web/package.json web/vite.config.ts web/tsconfig.json)

.PHONY: demo test bench lint web chromium clean

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	# Install the CPU build of torch first: a bare `torch` requirement pulls a multi-GB CUDA build.
	$(PY) -m pip install --quiet torch==$(TORCH_VERSION)
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

# The explorer's frontend, built with the npm registry into the Python package.
$(WEB_STAMP): $(WEB_SOURCES) web/package-lock.json
	cd web && npm ci --no-audit --no-fund --loglevel=error && npm run build

web: $(WEB_STAMP)

# Browser tests drive Debian's Chromium; Playwright cannot download its own browser here.
chromium:
	@command -v chromium >/dev/null || { apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }

demo: $(STAMP) $(WEB_STAMP)
	@$(VENV)/bin/latentspace demo --out runs/demo --no-serve; status=$$?; \
	echo "make demo: wall time $$(( $$(date +%s) - $(START_TIME) )) s, set-up included"; \
	echo "Explore the run with: $(VENV)/bin/latentspace serve runs/demo"; exit $$status

# pytest exits with 5 when it collected no test; that must fail, not pass.
test: $(STAMP) $(WEB_STAMP) chromium
	$(PY) -m pytest -q; status=$$?; \
	if [ $$status -eq 5 ]; then echo "make test: pytest collected no tests" >&2; exit 1; fi; \
	exit $$status

bench: $(STAMP) $(WEB_STAMP) chromium
	$(PY) benchmarks/run.py

lint: $(STAMP)
	$(VENV)/bin/ruff check src tests benchmarks

clean:
	rm -rf $(VENV) runs build *.egg-info web/node_modules src/latentspace/server/static
