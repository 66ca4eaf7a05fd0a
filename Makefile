# The README names two commands: `make demo` (the main job) and `make test` (every test).
# Both install what they need first (scripts/install-deps.sh is idempotent).
PY ?= python3
DATA_DIR ?= /var/lib/kubelite
EXAMPLE ?= examples/init-and-sidecar.yaml

.PHONY: deps demo test unit e2e lint bench clean-data

deps:
	./scripts/install-deps.sh

demo: deps
	DATA_DIR=$(DATA_DIR) ./scripts/demo.sh $(EXAMPLE)

lint:
	ruff check src tests bench devtools
	ruff format --check src tests bench devtools
	mypy
	lint-imports

unit:
	$(PY) -m pytest -q tests/unit tests/component tests/contracts -m "not e2e"

e2e:
	$(PY) -m pytest -q -m e2e

test: deps lint
	$(PY) -m pytest -q -ra

bench: deps
	$(PY) bench/runtime.py
	$(PY) bench/images.py
	$(PY) bench/api.py
	$(PY) bench/pods.py
	$(PY) bench/network.py
	$(PY) bench/proxy.py
	$(PY) bench/dns.py
	$(PY) bench/streams.py
	$(PY) bench/apiload.py
	$(PY) bench/jobs.py
	$(PY) bench/workloads.py
	$(PY) bench/cluster.py
