# Two commands set everything up on a fresh machine:  make demo   and   make test
# Both create (or reuse) a local virtual environment in .venv and install what they need.

PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
LOCK   := requirements.lock
# Reinstall only when pyproject.toml or the lock changes.
STAMP  := $(VENV)/.installed-$(shell cat pyproject.toml $(LOCK) | cksum | cut -d' ' -f1)
OUT    ?= out/demo

.PHONY: demo test test-postgres test-latest lock e2e fuzz audit-deps bench load venv sysdeps sample-media schema clean serve

venv: $(STAMP) sysdeps

# CJK font, poppler, HarfBuzz subsetter: installed when missing and possible (see the script).
sysdeps:
	@bash scripts/sysdeps.sh

# Installs exactly what requirements.lock names, checked against its hashes, so a new release
# upstream cannot change a fresh machine. --no-deps: the lock is complete, and it must leave
# exactly one OpenCV wheel (rapidocr's metadata has asked for the non-headless one before).
$(STAMP): pyproject.toml $(LOCK)
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check --require-hashes --no-deps -r $(LOCK)
	$(PY) -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .
	rm -f $(VENV)/.installed-*
	touch $@

# Refreshes the lock from pyproject.toml's ranges (all extras, every platform, Python >= 3.11).
lock: $(STAMP)
	$(PY) -m pip install --quiet --disable-pip-version-check uv
	$(VENV)/bin/uv pip compile pyproject.toml scripts/lock-build.in --extra dev --extra cluster \
	  --extra postgres --generate-hashes --universal --python-version 3.11 --upgrade \
	  --no-emit-package opencv-python -c scripts/lock-constraints.txt -o $(LOCK)

# The newest versions pyproject.toml allows, in a throwaway venv: drift seen on purpose, not by
# surprise. Not run by CI.
test-latest: sysdeps
	rm -rf out/venv-latest
	$(PYTHON) -m venv out/venv-latest
	out/venv-latest/bin/pip install --quiet --disable-pip-version-check --upgrade -e '.[dev,cluster]'
	out/venv-latest/bin/pip list 2>/dev/null | grep -iE '^(opencv|onnxruntime|rapidocr|av|numpy) '
	out/venv-latest/bin/python -m pytest

demo: $(STAMP) sysdeps
	$(VENV)/bin/examaudit demo --out $(OUT)

# pytest exits 5 when it collected nothing: a test command that tests nothing is a failure here.
test: $(STAMP) sysdeps
	$(PY) -m pytest; rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "make test: pytest collected no tests" >&2; exit 1; fi; exit $$rc

# The server tests (tests/server, not slow, not e2e) against PostgreSQL: a throwaway cluster in a temp
# dir (initdb, a free localhost port), one database per test, removed afterwards. Needs PostgreSQL's
# server binaries (PGBIN=.../bin if not in /usr/lib/postgresql/*/bin); as root it runs them as `postgres`.
# Not run by CI (.ci/run): its machines may lack PostgreSQL. Fuzz on it: scripts/pg-test.sh with the
# arguments of `make fuzz` (see docs/server.md).
test-postgres: $(STAMP)
	PY=$(PY) bash scripts/pg-test.sh

# pip-audit of requirements.lock; says "skipped" with the reason where no advisory database is reachable.
audit-deps: $(STAMP)
	$(PY) scripts/audit_deps.py

# schemathesis over every operation of /openapi.json as an admin (issue #18): zero 5xx, zero responses
# that break their schema. FUZZ_EXAMPLES per operation and mode; about a minute at 6. .ci/run calls it.
FUZZ_EXAMPLES ?= 6
fuzz: $(STAMP)
	EXAMAUDIT_FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) $(PY) -m pytest tests/server/test_fuzz_api.py -m slow -o addopts="" -q -s -p no:cacheprovider

# The browser test: Debian chromium driven by Playwright against `examaudit serve` on a free local
# port; screenshots of every page go to out/screenshots/. A few minutes; .ci/run calls it.
e2e: $(STAMP) sysdeps
	$(PY) -m pytest tests/e2e -m e2e -o addopts="" -q -p no:cacheprovider

# The audit server on ./examaudit-data (create the first user with `examaudit users add`, see README).
DATA ?= examaudit-data
serve: $(STAMP) sysdeps
	$(VENV)/bin/examaudit serve --data $(DATA)

# Benchmarks print ratios (x real-time, x a naive baseline); they are not part of `make test`.
bench: $(STAMP)
	for b in benchmarks/bench_*.py; do echo "== $$b"; $(PY) $$b || exit 1; done

# Load on a local `examaudit serve` (issue #18): 50 people browsing, 5 uploading by tus, 2 audits kept
# running, for 60 s; prints page latency against a one-person baseline, and exits 1 on any error.
# A few minutes with the setup; not in CI. Options: .venv/bin/python benchmarks/bench_load.py --help
load: $(STAMP)
	$(PY) benchmarks/bench_load.py

# Regenerates the committed demo data (footage, YAML, truth, records); cases.csv is kept.
sample-media: $(STAMP)
	rm -rf sample_media/EP-* sample_media/records
	$(PY) -c "from examaudit.scenarios.sample_set import build_sample_media as f; f('sample_media', seed=2024)"
	$(PY) -c "from examaudit.scenarios.sample_records import build_sample_records as f; f('sample_media', seed=2024)"

schema: $(STAMP)
	$(VENV)/bin/examaudit schema --out examaudit/schemas/findings.schema.json

clean:
	rm -rf out .pytest_cache
