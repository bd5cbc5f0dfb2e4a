# Kefu: `make run` starts everything, `make test` proves it. `make help` lists all.
SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV    ?= .venv
PY      := $(VENV)/bin/python
RASA    := $(VENV)/bin/rasa
MODEL   := models/kefu.tar.gz
SPACY   := build/spacy/zh_kefu/kefu_fingerprint.txt
INSTALLED := $(VENV)/.installed

# Defaults for the variables endpoints.yml reads; `make run` (bot/runner/stack.py)
# sets the real ones. See README "Environment".
export KEFU_ACTION_URL     ?= http://127.0.0.1:5055/webhook
export KEFU_ACTION_TOKEN   ?=
export KEFU_REDIS_HOST     ?= 127.0.0.1
export KEFU_REDIS_PORT     ?= 6380
export KEFU_REDIS_DB       ?= 0
export KEFU_REDIS_PASSWORD ?=
export TF_CPP_MIN_LOG_LEVEL ?= 3
export RASA_TELEMETRY_ENABLED ?= false
export PYTHONDONTWRITEBYTECODE = 1

TRAIN_INPUTS := config.yml $(shell find domain data -type f -name '*.yml' 2>/dev/null) $(wildcard data/jieba/*) $(SPACY)

.PHONY: help install spacy train seed run test pytest validate conversations screenshots test-stories eval eval-external check accept lint reload bench browser nginx wrk cluster clean

help: ## List every target
	@grep -E '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-14s %s\n", $$1, $$2}'

install: $(INSTALLED) ## Create .venv with Python 3.10 and the pinned dependencies

$(INSTALLED): requirements.txt constraints.txt
	@test -x $(PY) || "$$(scripts/find_python310.sh)" -m venv $(VENV)
	$(PY) -m pip install -q --disable-pip-version-check pip==24.0 setuptools==70.3.0 wheel==0.45.1
	$(PY) -m pip install -q --disable-pip-version-check -r requirements.txt -c constraints.txt
	@touch $@

spacy: $(SPACY) ## Build the blank zh spaCy pipeline from data/patterns.yml

$(SPACY): data/patterns.yml bot/nlu/zh_pipeline.py core/patterns.py $(INSTALLED)
	$(PY) -m bot.nlu.zh_pipeline build
	@touch $@  # the build keeps an unchanged fingerprint file; make must still see it as new

train: $(MODEL) ## Train the model, only when data, domain or config changed

$(MODEL): $(TRAIN_INPUTS) $(INSTALLED)
	@mkdir -p models
	@start=$$(date +%s); \
	$(PY) -m kefu_check.train --domain domain --data data --config config.yml --out models --fixed-model-name kefu --quiet \
	  && echo "trained in $$(( $$(date +%s) - start )) s"
	@touch $@

seed: $(INSTALLED) ## Create the demo order database (SQLite) if missing
	@if [ -f scripts/seed_orders.py ]; then $(PY) scripts/seed_orders.py; fi

run: install spacy train seed ## Set up, train if needed and start the whole stack (Ctrl-C stops it)
	@$(PY) -m bot.runner.stack --dev-login

validate: install ## rasa data validate: its real warnings only (responses code utters are checked by kefu_check's unused-response rule)
	$(PY) -m kefu_check validate

pytest: install spacy train seed browser nginx ## Run the pytest suite
	$(PY) -m pytest -q

conversations: install spacy train seed ## Play every end-to-end conversation against the running stack (tests/conversations)
	$(PY) -m pytest -q -p no:cacheprovider tests/conversations

test-stories: install train ## Run the test conversations (tests/test_stories)
	$(RASA) test core --model $(MODEL) --stories tests/test_stories --fail-on-prediction-errors --out results/core --quiet

test: install spacy train seed validate browser nginx wrk ## Set up and run every test
	$(PY) -m pytest -q
	@if [ -d tests/test_stories ]; then $(MAKE) --no-print-directory test-stories; fi

check: install spacy ## Script editors: lint replies and data, validate, accuracy gate
	$(PY) -m kefu_check

lint: install ## Script editors: the reply and data linter only (seconds)
	$(PY) -m kefu_check lint

eval: install spacy train ## Evaluate on tests/nlu, write results/ (report, confusion matrix, summary)
	$(PY) -m kefu_check eval

eval-external: install spacy train ## Evaluate on ../shared/external-eval, write results/external/
	@$(PY) -m kefu_check eval --external

accept: install spacy train ## Accept the current evaluation as the baseline (tests/nlu/baseline.json)
	$(PY) -m kefu_check accept

reload: install spacy train ## Load the newly trained model into the running stack, no downtime
	$(PY) -m bot.runner.reload

bench: install spacy train seed wrk ## Benchmarks (~15-18 min): write bench/RESULTS.md and bench/latency.png
	@command -v redis-benchmark >/dev/null 2>&1 || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-tools >/dev/null; } || true
	$(PY) bench/run.py

SHOTS_RUN := results/browser-run
SHOTS_DOC := docs/screenshots
screenshots: install spacy train seed browser ## Refresh the README's screenshots (docs/screenshots/) from a browser-test run
	KEFU_SCREENSHOTS_DIR=$(SHOTS_RUN) $(PY) -m pytest -q -p no:cacheprovider tests/browser
	@mkdir -p $(SHOTS_DOC) && rm -f $(SHOTS_DOC)/*.png && cp $(SHOTS_RUN)/[0-9][0-9]-*.png $(SHOTS_DOC)/
	@echo "copied $$(ls $(SHOTS_DOC)/*.png | wc -l) screenshots to $(SHOTS_DOC)/; commit them with the change that altered the pages"

browser: ## Install Debian's chromium and CJK fonts for the browser tests when missing (never `playwright install`)
	@{ command -v chromium >/dev/null 2>&1 && fc-list 2>/dev/null | grep -qi "Noto Sans CJK"; } || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-cjk >/dev/null; }

SCALE ?= 2
cluster: install spacy train seed nginx ## Scale-out on one machine: SCALE (default 2) Rasa servers, action servers and bridges behind nginx
	@$(PY) -m bot.runner.cluster --rasa $(SCALE) --actions $(SCALE) --bridges $(SCALE)

nginx: ## Install Debian's nginx when missing (the scale-out test and deploy/nginx.conf.template put it in front of N of each service)
	@command -v nginx >/dev/null 2>&1 || test -x /usr/sbin/nginx || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends nginx >/dev/null; }

wrk: ## Install Debian's wrk when missing (make bench's 1-against-2-worker rounds; tests/test_bench_wrk.py)
	@command -v wrk >/dev/null 2>&1 || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends wrk >/dev/null; }

clean: ## Remove the venv, models, build output and runtime data
	rm -rf $(VENV) models build var results
