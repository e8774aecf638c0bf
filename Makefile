# Two commands do all the set-up: `make run` and `make test`.
# Everything is installed on demand; nothing is done by hand.

SHELL := /bin/bash
.SHELLFLAGS := -eo pipefail -c
.DEFAULT_GOAL := run

# Rasa 3.6 runs on Python 3.10 only; the knowledge side on 3.11.
PYTHON_RASA ?= $(shell bin/find-python 3.10)
PYTHON_APP ?= $(shell bin/find-python 3.11)

VENV_RASA := .venv/rasa
VENV_APP := .venv/app
RASA := $(VENV_RASA)/bin/rasa
PY := $(VENV_APP)/bin/python
# Debian's Chromium prints the kit to PDF and runs the browser tests; Playwright
# cannot download its own browser offline. Noto fonts cover Arabic and Cyrillic.
CHROMIUM := /usr/bin/chromium
# Debian's PostgreSQL: the tests run the desk's store on a real server too.
POSTGRESQL := /usr/bin/pg_ctlcluster
# Debian's nginx: the tests start the reverse proxy of deploy/ in front of stand-ins.
NGINX := /usr/sbin/nginx
# Debian's Redis: the tests share counts and Rasa's lock store across processes on it.
REDIS := /usr/bin/redis-server

# pip's notes about local mirrors that are absent say nothing useful.
QUIET_PIP := grep -v "is ignored: it is neither a file nor a directory" || true

.PHONY: user forget retention run run-cluster bench-cluster test test-fast install lint lint-content export format index train bench eval calibrate screenshots clean

run: install train index  ## start Rasa (:5005), the action server (:5055) and the web app (:8080)
	$(PY) -m bot.serve

run-cluster: install train index  ## a region on this machine: 2 Rasa, 2 action servers, 2 web apps, nginx, PostgreSQL, Redis
	$(PY) -m bot.serve_cluster

test: install lint lint-content  ## lint code and content, then every test (as CI does)
	$(PY) -m pytest

# Markers come from the fixtures a test uses (tests/conftest.py): no model, no
# browser, no server process; under a minute.
test-fast: $(VENV_APP)/.installed  ## unit tests only, for a quick check while working
	$(PY) -m pytest -m unit -q

install: $(VENV_RASA)/.installed $(VENV_APP)/.installed $(CHROMIUM) $(POSTGRESQL) $(NGINX) $(REDIS)

$(CHROMIUM):
	@echo "==> Installing Debian's chromium and Noto fonts (apt)"
	@if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
	  $$SUDO apt-get update -q && $$SUDO apt-get install -y -q chromium fonts-noto-core

$(POSTGRESQL):
	@echo "==> Installing Debian's PostgreSQL (apt)"
	@if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
	  $$SUDO apt-get update -q && $$SUDO apt-get install -y -q postgresql

$(NGINX):
	@echo "==> Installing Debian's nginx (apt), for the reverse-proxy test"
	@if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
	  $$SUDO apt-get update -q && $$SUDO apt-get install -y -q nginx

$(REDIS):
	@echo "==> Installing Debian's Redis (apt), for the tests of several processes"
	@if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
	  $$SUDO apt-get update -q && $$SUDO apt-get install -y -q redis-server

$(VENV_RASA)/.installed: bot/requirements-rasa.txt
	@echo "==> Creating the Rasa environment (Python 3.10, about 3 minutes)"
	@test -n "$(PYTHON_RASA)" || { echo "Python 3.10 not found: set PYTHON_RASA=/path/to/python3.10"; exit 1; }
	$(PYTHON_RASA) -m venv $(VENV_RASA)
	$(VENV_RASA)/bin/pip install --progress-bar on -q -r bot/requirements-rasa.txt 2>&1 | $(QUIET_PIP)
	@touch $@

$(VENV_APP)/.installed: pyproject.toml
	@echo "==> Creating the knowledge environment (Python 3.11, about 3 minutes)"
	@test -n "$(PYTHON_APP)" || { echo "Python 3.11 not found: set PYTHON_APP=/path/to/python3.11"; exit 1; }
	$(PYTHON_APP) -m venv $(VENV_APP)
	$(VENV_APP)/bin/pip install --progress-bar on -q -e '.[test]' 2>&1 | $(QUIET_PIP)
	@touch $@

# Rasa retrains only when its data changed (make compares the files' dates,
# Rasa its own fingerprint).
models/helpdesk.tar.gz: $(VENV_RASA)/.installed config.yml domain.yml $(wildcard bot/data/*.yml)
	@echo "==> Training the Rasa model (about 3-5 minutes)"
	$(RASA) train --fixed-model-name helpdesk --out models --data bot/data --domain domain.yml --config config.yml
	@touch $@

train: models/helpdesk.tar.gz  ## train the Rasa model if its data changed

index: $(VENV_APP)/.installed  ## build the knowledge index if the content changed
	$(PY) -m knowledge build

user: $(VENV_APP)/.installed  ## add a desk log-in (mediator, operator, editor or admin)
	@read -p "Username: " name; read -p "Role (mediator/operator/editor/admin): " role; \
	  read -p "Languages they speak (e.g. ar fr it): " langs; \
	  $(PY) -m connectors.desk users add "$$name" --role "$$role" --languages "$$langs"

forget: $(VENV_APP)/.installed  ## delete one person's conversation everywhere: make forget HANDOFF=<hand-off number> (or SENDER=<sender id>)
	@test -n "$(HANDOFF)$(SENDER)" || { echo "Name the person: make forget HANDOFF=<hand-off number on the desk>"; exit 2; }
	@if [ -n "$(HANDOFF)" ]; then $(PY) -m connectors.desk forget --handoff "$(HANDOFF)"; \
	  else $(PY) -m connectors.desk forget "$(SENDER)"; fi

retention: $(VENV_APP)/.installed  ## delete conversations older than privacy.retention_days now
	$(PY) -m connectors.desk retention

lint: $(VENV_APP)/.installed $(VENV_RASA)/.installed
	$(VENV_APP)/bin/ruff check .
	$(VENV_APP)/bin/ruff format --check .
	$(VENV_APP)/bin/lint-imports
	$(RASA) data validate --data bot/data --domain domain.yml --config config.yml

lint-content: $(VENV_APP)/.installed  ## check every knowledge entry (schema, topics, sources, age, length)
	$(PY) -m knowledge lint

export: install  ## printable welcome kit per language, HTML and PDF, into data/print
	$(PY) -m knowledge export --pdf

screenshots: $(VENV_APP)/.installed $(CHROMIUM)  ## the README's screenshots (widget, desk, dashboard) into docs/screenshots
	$(PY) -m tests.screenshots

format: $(VENV_APP)/.installed
	$(VENV_APP)/bin/ruff format .
	$(VENV_APP)/bin/ruff check --fix .

# Everyday first messages through the real dialogue (README "Understanding what
# people write"); a held-out set beside the development set is scored too.
# The first held-out set was scored once and then used: it is a development set now.
OPENINGS ?= tests/data/openings_dev.yml tests/data/openings_heldout.yml
OPENINGS_HELDOUT := tests/data/openings_heldout2.yml

eval: install train index  ## retrieval quality, emergency recall and false alarms, openings handled well
	$(PY) -m knowledge eval
	$(PY) -m tests.eval_openings $(OPENINGS) $(wildcard $(OPENINGS_HELDOUT))

calibrate: $(VENV_APP)/.installed  ## recompute the confidence threshold and emergency thresholds in helpdesk.yml
	$(PY) -m knowledge calibrate

# Side by side with a bare `rasa init` bot first, then our own figures, the
# retrieval quality of the encoder in use (models.encoder), and faults.
bench: install train  ## latency and memory figures (not a test)
	$(PY) -m tests.bench_versus
	$(PY) -m tests.bench
	$(PY) -m knowledge eval
	$(PY) -m tests.bench_faults

bench-cluster: install train  ## a region under load with one of each process killed (not a test; about 10 minutes)
	$(PY) -m tests.bench_cluster

clean:
	rm -rf .venv models data
