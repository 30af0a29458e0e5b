# The two commands of the set-up contract: `make up` runs flowtape on the embedded servers,
# `make test` runs the tests. Both create .venv and install everything on first use.
PYTHON ?= python3
VENV := .venv
STAMP := $(VENV)/.installed

.PHONY: install up test lint bench clean

KERNELS := $(VENV)/.kernels
KERNEL_SOURCES := setup.py $(wildcard compute/*/kernel.py compute/*/kernel.pxd compute/*/layout.py)

$(STAMP): pyproject.toml setup.py
	@echo "installing dependencies (about a minute)"
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet -e ".[dev]"
	touch $(STAMP)

# The compiled kernels follow their sources (pip install -e . builds them the first time).
$(KERNELS): $(STAMP) $(KERNEL_SOURCES)
	$(VENV)/bin/python setup.py -q build_ext --inplace
	touch $(KERNELS)

# The tests verify the systemd units with systemd-analyze; a fresh machine may lack it.
SYSTEMD_ANALYZE := $(VENV)/.systemd-analyze
$(SYSTEMD_ANALYZE): $(STAMP) ops/deploy/ensure-systemd-analyze.sh
	sh ops/deploy/ensure-systemd-analyze.sh
	touch $(SYSTEMD_ANALYZE)

# The web UI's npm packages (bundled into web/vendor/) and Chromium for the browser tests.
WEB := $(VENV)/.web
$(WEB): $(STAMP) web/ensure-web.sh package.json package-lock.json
	sh web/ensure-web.sh
	touch $(WEB)

# The paid alpha stream's escrow and stable-token doubles, compiled by the pinned npm solc
# into payments/contracts/build/ (the escrow's ABI for the API, both bytecodes for the tests).
CONTRACTS := payments/contracts/build/StreamChannelEscrow.json
$(CONTRACTS): $(wildcard payments/contracts/*.sol) payments/contracts/build.js \
		payments/contracts/package.json payments/contracts/package-lock.json
	cd payments/contracts && npm ci --no-audit --no-fund --loglevel=error && node build.js

install: $(STAMP) $(KERNELS) $(SYSTEMD_ANALYZE) $(WEB) $(CONTRACTS)

up: $(STAMP) $(KERNELS) $(WEB) $(CONTRACTS)
	$(VENV)/bin/flowtape up

test: $(STAMP) $(KERNELS) $(SYSTEMD_ANALYZE) $(WEB) $(CONTRACTS)
	$(VENV)/bin/pytest

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports

bench: $(STAMP) $(KERNELS)
	for b in bench/bench_*.py; do $(VENV)/bin/python $$b || exit 1; done

clean:
	rm -rf $(VENV) .flowtape
