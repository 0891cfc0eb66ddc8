# The two commands a new user needs: `make run` and `make test`. Everything else they set up themselves.
PY := .venv/bin/python

.PHONY: run test serve env chromium bench load

env:
	@bash scripts/bootstrap.sh

## Run the dashboard on the embedded demo data (generated on first run), served by gunicorn as in
## production, one worker. PORT, HOST, POLICYCUBE_DATA configure it. `python app.py --debug` is the dev server.
run: env
	@bash scripts/run.sh

## Unit, engine and end-to-end browser tests (installs Chromium when missing).
test: env chromium
	@bash scripts/test.sh

## Production: gunicorn with several workers on the same app object.
serve: env
	@bash scripts/serve.sh

## Benchmark at 10x demo scale (issue 7): artifacts/bench/latest.md. BENCH_SCALE=1 for a quick run.
bench: env chromium
	@$(PY) -m scripts.bench

## Load and fault test (issues 15, 16): USERS demo users browse for DURATION s on `make serve`'s gunicorn;
## the worker streaming an export is SIGKILLed at KILL_AT s (KILL_AT= for none). Exit code 1 on a failed check.
USERS ?= 50
DURATION ?= 120
KILL_AT ?= 60
load: env chromium
	@$(PY) -m scripts.load --users $(USERS) --duration $(DURATION) $(if $(KILL_AT),--kill-worker-at $(KILL_AT))

chromium:
	@bash scripts/install_chromium.sh
