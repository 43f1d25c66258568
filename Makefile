# The two commands of the README: `make serve` and `make test`. Everything else follows.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
HOST   ?= 127.0.0.1
PORT   ?= 8001
DB     := build/drugbeleid.db
AXE    := tests/axe/node_modules/axe-core/axe.min.js
VNU    := tests/vnu/node_modules/vnu-jar/build/dist/vnu.jar

# WORKERS: worker processes, each a whole site with its own response cache.
# CACHE=off: no response cache, every request runs Datasette (benchmarks of cache misses).
WORKERS ?= 1
CACHE   ?= on
# The site's public base URL: every absolute URL it writes (catalogue, sitemap, hreflang, data
# package) starts with it (docs/deploy.md, "Public base URL"). SERVER_NAMES: the other Host headers
# make serve-prod answers (host or host:port, space-separated; nginx answers any other with 421).
PUBLIC_BASE_URL ?= http://$(HOST):$(PORT)/
SERVER_NAMES    ?=
# The hardened Datasette settings are in serve/settings.json (reasons in docs/public-sql.md),
# read by the app factory serve/app.py; /-/settings.json serves them.

# content/: the site's texts and queries, one kind per file (docs/languages.md); an input like datasets/.
# The build publishes build/releases/<version>/ and switches build/current to it (scripts/publish.py);
# build/drugbeleid.db and the other stable paths are links through build/current. It builds only when
# the content of an input differs from the served build's (build/.built holds their fingerprint:
# scripts/build.py input_paths), so a commit, a checkout or a touched file that changes no byte
# builds nothing, and any changed byte (data, its stored date, releases/, metadata, pipeline) builds.

# Interface strings (serve/i18n.py): English in the templates and code, each other language in
# locale/<lang>/LC_MESSAGES/messages.po, compiled by the build to build/locale (not committed).
CATALOGUES := $(wildcard locale/*/LC_MESSAGES/messages.po)
COMPILED_CATALOGUES := $(patsubst locale/%.po,build/locale/%.mo,$(CATALOGUES))

.PHONY: install build images release serve serve-prod nginx test test-fast soak bench bench-html bench-hostile bench-scale bench-sql-processes passages add-source quote clean mqa fuzz catalogues

install: $(VENV)/.installed

# Two hashed lock files: requirements.txt, what the site needs (the only one deploy/Dockerfile
# installs), and requirements-dev.txt, what tests, lint and benchmarks add.
$(VENV)/.installed: requirements.txt requirements-dev.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check --require-hashes -r requirements.txt -r requirements-dev.txt
	touch $@

BUILD_COMMAND = $(BIN)/python -m scripts.build --datasets datasets --out $(DB) --site metadata.yml --content content --releases releases --if-changed

build: $(VENV)/.installed $(COMPILED_CATALOGUES)
	@$(BUILD_COMMAND)

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

# The charts of the current build as SVG and PNG in each language (scripts/images.py): a step of its
# own, not part of the data version; fonts from Debian's fonts-dejavu-core (.ci/run installs it).
images: build
	$(BIN)/python -m scripts.images --build build

# Record the current build as a release in releases/, dated today in datasets/release_date.txt
# (commit them, with the CHANGELOG.md entry); refused while what the build read is not committed.
release: $(VENV)/.installed $(COMPILED_CATALOGUES)
	@$(BUILD_COMMAND) --no-next-step
	@$(BIN)/python -m scripts.history --build build --releases releases --datasets datasets --site metadata.yml

# granian, not `datasette serve`: uvicorn's multi-worker mode loses TCP_NODELAY (PERF-NOTES);
# one server for 1 or N workers. serve/app.py builds the same Datasette (-i, inspect file, ...).
# serve.workers is granian's command line with its signal handling made safe (a second SIGTERM
# deadlocked granian's main process; a starting worker ignored SIGTERM: serve/workers.py).
# --workers-kill-timeout: a worker that does not stop gracefully within 5 s is killed.
# --respawn-failed-workers: a worker that dies (a crash, kill -9) is started again; a stop of the
# whole server (Ctrl-C, SIGTERM) never respawns one and exits 0 (serve/workers.py).
serve: build images
	@echo "serving http://$(HOST):$(PORT)/ with $(WORKERS) worker(s), response cache $(CACHE)"
	DRUGBELEID_DB=$(DB) RESPONSE_CACHE=$(CACHE) PUBLIC_BASE_URL=$(PUBLIC_BASE_URL) exec $(BIN)/python -m serve.workers --interface asgi \
	  --factory serve.app:create_app --workers $(WORKERS) --host $(HOST) --port $(PORT) \
	  --workers-kill-timeout 5 --respawn-failed-workers --log-level warning

# nginx (Debian's package) in front of WORKERS (default 2 here) granian workers, as one unit that
# Ctrl-C or SIGTERM stops; deploy/nginx.conf, serve/prod.py, docs/deploy.md "make serve-prod".
# PUBLIC_HOST: the Host visitors send (default HOST:PORT), under which the cache is warmed at each
# release (every page of the sitemap and the charts' data; about a minute here, docs/deploy.md).
# nginx is installed as .ci/run installs it (Debian's package, as root, never prompting); a user
# who is not root is told in one line what to run.
PROD_WORKERS := $(if $(filter file,$(origin WORKERS)),2,$(WORKERS))
NGINX ?= $(or $(shell command -v nginx 2>/dev/null),/usr/sbin/nginx)
# nginx first, before anything is built: a machine without it learns that at once.
nginx:
	@test -x "$(NGINX)" || { [ "$$(id -u)" -eq 0 ] && command -v apt-get >/dev/null \
	  && apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends nginx; } \
	  || { echo "make serve-prod needs nginx: run 'sudo apt-get install nginx' (or install it and set NGINX=/path/to/nginx)" >&2; exit 1; }

serve-prod: nginx build images
	PUBLIC_BASE_URL=$(PUBLIC_BASE_URL) exec $(BIN)/python -m serve.prod --host $(HOST) --port $(PORT) --workers $(PROD_WORKERS) \
	  --nginx "$$(test -x "$(NGINX)" && echo "$(NGINX)" || echo /usr/sbin/nginx)" \
	  $(foreach name,$(SERVER_NAMES),--server-name $(name)) $(if $(PUBLIC_HOST),--public-host "$(PUBLIC_HOST)")

# On both cores: one test file per worker process (pytest-xdist), so that a file's servers, browser
# and fixtures stay in one process; TEST_WORKERS=0 runs every test in pytest's own process.
TEST_WORKERS ?= 2
test: build images $(AXE) $(VNU)
	$(BIN)/python -m pytest -q -n $(TEST_WORKERS) --dist loadfile --durations=15 tests

# The in-process suite: no Chromium, nginx, wrk or npm, no server on a port (markers in pytest.ini).
test-fast: build images
	$(BIN)/python -m pytest -q -n $(TEST_WORKERS) --dist loadfile -m "not browser and not proxy and not live" tests

# axe-core for the accessibility tests, pinned in tests/axe/package-lock.json (npm ci: exactly the
# locked version, checked against its integrity hash); the tests inject it from this file.
$(AXE): tests/axe/package.json tests/axe/package-lock.json
	cd tests/axe && npm ci --no-audit --no-fund --ignore-scripts
	touch $@

# The Nu Html Checker for tests/test_html_valid.py, pinned in tests/vnu/package-lock.json the same
# way (its install script would download a Java runtime: skipped); run with the system's Java.
$(VNU): tests/vnu/package.json tests/vnu/package-lock.json
	cd tests/vnu && npm ci --no-audit --no-fund --ignore-scripts
	touch $@

# 60 s at concurrency 64 over the public mix with hostile queries (figures in BENCHMARKS.md).
soak: build
	$(BIN)/python bench/soak.py

# The site against the HTTP floor, a bare SQL app and stock Datasette, c=1/16/64 (~10 min; BENCHMARKS.md).
# Then uncached HTML table and row pages against stock Datasette under the same server (bench-html,
# about a minute), and the first request of a canonical page after a release, without and with the cache warmed
# by make serve-prod (bench/warming.py, about 2 minutes).
bench: build
	$(BIN)/python bench/bench.py
	$(BIN)/python -m bench.html_miss
	$(BIN)/python bench/warming.py

# The costly requests of docs/security.md against this checkout and, with BASELINE=<commit>, that
# commit too, side by side (about three minutes with a baseline): make bench-hostile BASELINE=75165c6
bench-hostile: build
	$(BIN)/python bench/hostile.py $(BASELINE)

# Uncached HTML table and row pages against stock Datasette, same granian command, interleaved,
# median of three runs (~1 minute; BENCHMARKS.md "HTML pages, cache misses").
bench-html: build
	$(BIN)/python -m bench.html_miss

# Visitor SQL in killable processes against Datasette's threads: the cost per query, a call the time
# limit cannot interrupt, a table page while four such calls run (about a minute; docs/security.md).
bench-sql-processes: build
	$(BIN)/python bench/query_processes.py

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
