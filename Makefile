# The two commands of the README: `make serve` and `make test`. Everything else follows.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
HOST   ?= 127.0.0.1
PORT   ?= 8001
DB     := build/drugbeleid.db

# Hardened settings for public SQL (reasons in README, "Public SQL"); /-/settings.json serves them.
SETTINGS := --setting sql_time_limit_ms 1000 \
	--setting max_returned_rows 1000 \
	--setting default_page_size 100 \
	--setting suggest_facets off \
	--setting facet_time_limit_ms 200 \
	--setting default_facet_size 30 \
	--setting max_csv_mb 5 \
	--setting num_sql_threads 4 \
	--setting allow_download on

INPUTS := $(shell find datasets scripts -type f -not -path '*/__pycache__/*') metadata.yml

.PHONY: install build serve test soak passages clean

install: $(VENV)/.installed

$(VENV)/.installed: requirements.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements.txt
	touch $@

build: $(DB) build/inspect.json

$(DB) build/metadata.json build/release.json &: $(VENV)/.installed $(INPUTS)
	$(BIN)/python -m scripts.build --datasets datasets --out $(DB) --site metadata.yml

build/inspect.json: $(DB)
	$(BIN)/datasette inspect $(DB) --inspect-file $@

serve: build
	$(BIN)/datasette serve -i $(DB) --inspect-file build/inspect.json \
	  --metadata build/metadata.json --plugins-dir plugins --template-dir templates \
	  $(SETTINGS) --host $(HOST) --port $(PORT)

test: build
	$(BIN)/python -m pytest -q tests

# 60 s at concurrency 64 over the public mix with hostile queries (figures in BENCHMARKS.md).
soak: build
	$(BIN)/python bench/soak.py

# Regenerate datasets/passages.csv from the source texts (the build checks it matches).
passages: $(VENV)/.installed
	$(BIN)/python -m scripts.passages datasets

clean:
	rm -rf build
