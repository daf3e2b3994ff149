# Two commands set everything up on a fresh machine:  make demo   and   make test
# Both create (or reuse) a local virtual environment in .venv and install what they need.

PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
# Reinstall only when pyproject.toml changes.
STAMP  := $(VENV)/.installed-$(shell cksum pyproject.toml | cut -d' ' -f1)
OUT    ?= out/demo

.PHONY: demo test bench venv sysdeps sample-media schema clean

venv: $(STAMP) sysdeps

# CJK font, poppler, HarfBuzz subsetter: installed when missing and possible (see the script).
sysdeps:
	@bash scripts/sysdeps.sh

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(PY) -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	rm -f $(VENV)/.installed-*
	touch $@

demo: $(STAMP) sysdeps
	$(VENV)/bin/examaudit demo --out $(OUT)

# pytest exits 5 when it collected nothing: a test command that tests nothing is a failure here.
test: $(STAMP) sysdeps
	$(PY) -m pytest; rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "make test: pytest collected no tests" >&2; exit 1; fi; exit $$rc

# Benchmarks print ratios (x real-time, x a naive baseline); they are not part of `make test`.
bench: $(STAMP)
	for b in benchmarks/bench_*.py; do echo "== $$b"; $(PY) $$b || exit 1; done

# Regenerates the committed demo data (footage, YAML, truth, records); cases.csv is kept.
sample-media: $(STAMP)
	rm -rf sample_media/EP-* sample_media/records
	$(PY) -c "from examaudit.scenarios.sample_set import build_sample_media as f; f('sample_media', seed=2024)"
	$(PY) -c "from examaudit.scenarios.sample_records import build_sample_records as f; f('sample_media', seed=2024)"

schema: $(STAMP)
	$(VENV)/bin/examaudit schema --out examaudit/schemas/findings.schema.json

clean:
	rm -rf out .pytest_cache
