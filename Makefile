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
# The hardened Datasette settings are in serve/settings.json (reasons in docs/public-sql.md),
# read by the app factory serve/app.py; /-/settings.json serves them.

INPUTS := $(shell find datasets scripts releases -type f -not -path '*/__pycache__/*' 2>/dev/null) metadata.yml
# The build publishes build/releases/<version>/ and switches build/current to it (scripts/publish.py);
# build/drugbeleid.db and the other stable paths are links through build/current. The stamp tells
# make when the published release is older than its inputs (a link's target keeps its old mtime).
BUILT  := build/.built

.PHONY: install build release serve serve-prod test test-fast soak bench bench-scale passages add-source quote clean mqa fuzz

install: $(VENV)/.installed

# Two hashed lock files: requirements.txt, what the site needs (the only one deploy/Dockerfile
# installs), and requirements-dev.txt, what tests, lint and benchmarks add.
$(VENV)/.installed: requirements.txt requirements-dev.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check --require-hashes -r requirements.txt -r requirements-dev.txt
	touch $@

build: $(BUILT)

$(BUILT): $(VENV)/.installed $(INPUTS)
	$(BIN)/python -m scripts.build --datasets datasets --out $(DB) --site metadata.yml --releases releases
	touch $@

# Record the current build as a release in releases/ (commit it, with a CHANGELOG.md entry).
release: build
	$(BIN)/python -m scripts.history --build build --releases releases

# granian, not `datasette serve`: uvicorn's multi-worker mode loses TCP_NODELAY (PERF-NOTES);
# one server for 1 or N workers. serve/app.py builds the same Datasette (-i, inspect file, ...).
# serve.workers is granian's command line with its signal handling made safe (a second SIGTERM
# deadlocked granian's main process; a starting worker ignored SIGTERM: serve/workers.py).
# --workers-kill-timeout: a worker that does not stop gracefully within 5 s is killed.
# --respawn-failed-workers: a worker that dies (a crash, kill -9) is started again; a stop of the
# whole server (Ctrl-C, SIGTERM) never respawns one and exits 0 (serve/workers.py).
serve: build
	@echo "serving http://$(HOST):$(PORT)/ with $(WORKERS) worker(s), response cache $(CACHE)"
	DRUGBELEID_DB=$(DB) RESPONSE_CACHE=$(CACHE) exec $(BIN)/python -m serve.workers --interface asgi \
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
serve-prod: build
	@test -x "$(NGINX)" || { [ "$$(id -u)" -eq 0 ] && command -v apt-get >/dev/null \
	  && apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends nginx; } \
	  || { echo "make serve-prod needs nginx: run 'sudo apt-get install nginx' (or install it and set NGINX=/path/to/nginx)" >&2; exit 1; }
	exec $(BIN)/python -m serve.prod --host $(HOST) --port $(PORT) --workers $(PROD_WORKERS) \
	  --nginx "$$(test -x "$(NGINX)" && echo "$(NGINX)" || echo /usr/sbin/nginx)" \
	  $(if $(PUBLIC_HOST),--public-host "$(PUBLIC_HOST)")

test: build $(AXE)
	$(BIN)/python -m pytest -q tests

# The in-process suite: no Chromium, nginx, wrk or npm, no server on a port (markers in pytest.ini).
test-fast: build
	$(BIN)/python -m pytest -q -m "not browser and not proxy and not live" tests

# axe-core for the accessibility tests, pinned in tests/axe/package-lock.json (npm ci: exactly the
# locked version, checked against its integrity hash); the tests inject it from this file.
$(AXE): tests/axe/package.json tests/axe/package-lock.json
	cd tests/axe && npm ci --no-audit --no-fund --ignore-scripts
	touch $@

# 60 s at concurrency 64 over the public mix with hostile queries (figures in BENCHMARKS.md).
soak: build
	$(BIN)/python bench/soak.py

# The site against the HTTP floor, a bare SQL app and stock Datasette, c=1/16/64 (~10 min; BENCHMARKS.md).
# Then the first request of a canonical page after a release, without and with the cache warmed
# by make serve-prod (bench/warming.py, about 2 minutes).
bench: build
	$(BIN)/python bench/bench.py
	$(BIN)/python bench/warming.py

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
