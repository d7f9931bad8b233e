# Every target bootstraps .venv idempotently: a stamp file records the installed inputs.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DOCS_STAMP := $(VENV)/.installed-docs

.PHONY: setup demo test lint docs bench weights clean

setup: $(STAMP)

$(STAMP): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install -q -c constraints.txt torch==2.13.0
	$(BIN)/pip install -q -c constraints.txt -e ".[dev,classical,tune,app,export]"
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/denoisekit demo --out runs/demo

test: $(STAMP)
	$(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks

# the documentation site, built strictly (any warning fails) into site/; no network needed
$(DOCS_STAMP): $(STAMP) pyproject.toml constraints.txt
	$(BIN)/pip install -q -c constraints.txt -e ".[docs]"
	touch $(DOCS_STAMP)

docs: $(DOCS_STAMP)
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict --site-dir site

bench: $(STAMP)
	$(BIN)/python benchmarks/train_throughput.py --out runs/bench

# retrain a shipped model through all its stages: make weights MODEL=gray-blind
weights: $(STAMP)
	$(BIN)/python benchmarks/train_pretrained.py $(MODEL)

clean:
	rm -rf runs .pytest_cache site
