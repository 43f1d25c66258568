# The two commands of the README: `make serve` and `make test`. Everything else follows.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
HOST   ?= 127.0.0.1
PORT   ?= 8001
DB     := build/drugbeleid.db
AXE    := tests/axe/node_modules/axe-core/axe.min.js

# WORKERS: worker processes, each a whole site with its own response cache.
# CACHE=off: no response cache, every request runs Datasette (benchmarks of cache misses).
WORKERS ?= 1
CACHE   ?= on
# The hardened Datasette settings are in serve/settings.json (reasons in README, "Public SQL"),
# read by the app factory serve/app.py; /-/settings.json serves them.

INPUTS := $(shell find datasets scripts releases -type f -not -path '*/__pycache__/*' 2>/dev/null) metadata.yml
# The build publishes build/releases/<version>/ and switches build/current to it (scripts/publish.py);
# build/drugbeleid.db and the other stable paths are links through build/current. The stamp tells
# make when the published release is older than its inputs (a link's target keeps its old mtime).
BUILT  := build/.built

# Interface strings (serve/i18n.py): English in the templates and code, each other language in
# locale/<lang>/LC_MESSAGES/messages.po, compiled by the build to build/locale (not committed).
CATALOGUES := $(wildcard locale/*/LC_MESSAGES/messages.po)
COMPILED_CATALOGUES := $(patsubst locale/%.po,build/locale/%.mo,$(CATALOGUES))

.PHONY: install build release serve serve-prod test soak bench bench-html bench-scale passages add-source quote clean mqa fuzz catalogues

install: $(VENV)/.installed

$(VENV)/.installed: requirements.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements.txt
	touch $@

build: $(BUILT) $(COMPILED_CATALOGUES)

$(BUILT): $(VENV)/.installed $(INPUTS)
	$(BIN)/python -m scripts.build --datasets datasets --out $(DB) --site metadata.yml --releases releases
	touch $@

build/locale/%.mo: locale/%.po $(VENV)/.installed
	@mkdir -p $(dir $@)
	$(BIN)/pybabel compile --statistics -i $< -o $@

# Every string marked in templates/, plugins/, serve/ and scripts/ (babel.cfg) into the catalogues:
# new strings are added untranslated, strings no longer used are dropped (tests/test_catalogues.py
# then names what lacks a translation).
catalogues: $(VENV)/.installed
	@mkdir -p build
	$(BIN)/pybabel extract -F babel.cfg --no-location --sort-output --omit-header \
	  -k _ -k gettext -k ngettext:1,2 -k pgettext:1c,2 -k N_ -o build/messages.pot .
	$(BIN)/pybabel update -i build/messages.pot -d locale -D messages --no-fuzzy-matching \
	  --ignore-obsolete --no-wrap

# Record the current build as a release in releases/ (commit it, with a CHANGELOG.md entry).
release: build
	$(BIN)/python -m scripts.history --build build --releases releases

# granian, not `datasette serve`: uvicorn's multi-worker mode loses TCP_NODELAY (PERF-NOTES);
# one server for 1 or N workers. serve/app.py builds the same Datasette (-i, inspect file, ...).
# serve.workers is granian's command line with its signal handling made safe (a second SIGTERM
# deadlocked granian's main process; a starting worker ignored SIGTERM: serve/workers.py).
# --workers-kill-timeout: a worker that does not stop gracefully within 5 s is killed.
serve: build
	@echo "serving http://$(HOST):$(PORT)/ with $(WORKERS) worker(s), response cache $(CACHE)"
	DRUGBELEID_DB=$(DB) RESPONSE_CACHE=$(CACHE) exec $(BIN)/python -m serve.workers --interface asgi \
	  --factory serve.app:create_app --workers $(WORKERS) --host $(HOST) --port $(PORT) \
	  --workers-kill-timeout 5 --log-level warning

# nginx (Debian's package) in front of WORKERS (default 2 here) granian workers, as one unit that
# Ctrl-C or SIGTERM stops; deploy/nginx.conf, serve/prod.py, docs/deploy.md "make serve-prod".
PROD_WORKERS := $(if $(filter file,$(origin WORKERS)),2,$(WORKERS))
serve-prod: build
	exec $(BIN)/python -m serve.prod --host $(HOST) --port $(PORT) --workers $(PROD_WORKERS)

test: build $(AXE)
	$(BIN)/python -m pytest -q tests

# axe-core for the accessibility tests, pinned in tests/axe/package-lock.json (npm ci: exactly the
# locked version, checked against its integrity hash); the tests inject it from this file.
$(AXE): tests/axe/package.json tests/axe/package-lock.json
	cd tests/axe && npm ci --no-audit --no-fund --ignore-scripts
	touch $@

# 60 s at concurrency 64 over the public mix with hostile queries (figures in BENCHMARKS.md).
soak: build
	$(BIN)/python bench/soak.py

# The site against the HTTP floor, a bare SQL app and stock Datasette, c=1/16/64 (~10 min; BENCHMARKS.md).
bench: build
	$(BIN)/python bench/bench.py

# Uncached HTML table and row pages against stock Datasette, same granian command, interleaved,
# median of three runs (~1 minute; BENCHMARKS.md "HTML pages, cache misses").
bench-html: build
	$(BIN)/python -m bench.html_miss

# The same pipeline and site on a synthetic database 1000x larger, in a temporary folder (BENCHMARKS.md).
bench-scale: build
	$(BIN)/python bench/scale.py

# The catalogue scored by data.europa.eu's MQA, indicator by indicator, with the access and download
# URLs checked live over HTTP against make serve on a free 127.0.0.1 port (docs/catalog.md, "MQA").
mqa: build
	$(BIN)/python -m scripts.mqa

# schemathesis with every phase (coverage included) over 5 seeds against make serve on a free
# 127.0.0.1 port, 15 minutes at most; totals per seed in build/fuzz.json (docs/api.md).
fuzz: build
	$(BIN)/python -m tests.fuzz

# Regenerate datasets/passages.csv from the source texts (the build checks it matches).
passages: $(VENV)/.installed
	$(BIN)/python -m scripts.passages datasets

# Add a source text (docs/maintaining.md): make add-source FILE=path ID=document-id [KIND=...]
# The values reach the script through the environment, so quotes and spaces in them are safe.
add-source: $(VENV)/.installed
	@test -n "$$FILE" -a -n "$$ID" || { echo 'usage: make add-source FILE=path ID=document-id [KIND=written_question|policy_note|presentation]' >&2; exit 2; }
	$(BIN)/python -m scripts.add_source --datasets datasets --file "$$FILE" --id "$$ID" --kind "$$KIND"

# Find a quote as the build checks it (docs/maintaining.md): make quote ID=document-id TEXT="..."
quote: $(VENV)/.installed
	@test -n "$$ID" || { echo 'usage: make quote ID=document-id TEXT="words to find"' >&2; exit 2; }
	@$(BIN)/python -m scripts.quote --datasets datasets --id "$$ID" --text "$$TEXT"

clean:
	rm -rf build
