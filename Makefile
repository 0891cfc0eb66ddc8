# The two commands a new user needs: `make run` and `make test`. Everything else they set up themselves.
PY := .venv/bin/python

.PHONY: run test serve env chromium

env:
	@bash scripts/bootstrap.sh

## Run the dashboard on the embedded demo data (generated on first run). PORT, HOST, POLICYCUBE_DATA configure it.
run: env
	@$(PY) app.py

## Unit, engine and end-to-end browser tests (installs Chromium when missing).
test: env chromium
	@bash scripts/test.sh

## Production: gunicorn with several workers on the same app object.
serve: env
	@bash scripts/serve.sh

chromium:
	@bash scripts/install_chromium.sh
