# The commands that matter on a fresh clone. `make help` lists them.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
KIND_CLUSTER ?= platform
STACK ?= local
# The local stack keeps its state in this folder: no Pulumi Cloud account needed.
export PULUMI_BACKEND_URL ?= file://$(CURDIR)/.pulumi-state

.PHONY: help setup lock test lint schema check-schema plan plan-all prereqs local-cluster up-local local-password destroy-local bench bench-docs

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-14s %s\n", $$1, $$2}'

# Installs exactly the lock, every file checked against its hash (pip --require-hashes); `make lock` writes it.
$(VENV)/.installed: requirements-dev.lock
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --require-hashes -r requirements-dev.lock
	touch $@

setup: $(VENV)/.installed ## create .venv with the program's and the tests' dependencies (hash-checked lock)

# One resolution for all three locks: the runtime and policy-pack locks are constrained to the dev lock's versions.
LOCK := $(VENV)/bin/uv pip compile --quiet --generate-hashes --universal --python-version 3.11
lock: setup ## re-resolve requirements*.txt into the hash-pinned *.lock files (after editing a requirements file)
	$(LOCK) -o requirements-dev.lock requirements-dev.txt
	$(LOCK) -c requirements-dev.lock -o requirements.lock requirements.txt
	$(LOCK) -c requirements-dev.lock -o policy/requirements.lock policy/requirements.txt

# The unit layer on both cores, then the real-API-server layer (one etcd + kube-apiserver for the session).
test: setup ## run the unit tests (mocked resources, no cloud, no credentials), then the real-API-server layer
	$(PY) -m pytest -n 2 --ignore=tests/integration
	$(PY) -m pytest tests/integration

lint: setup ## ruff, formatting, the type checker, and actionlint + zizmor on the workflows
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/basedpyright
	bash tools/lint_workflows.sh

schema: setup ## regenerate schema/stack-config.schema.json, docs/configuration.md and the fleet picture in docs/hub-and-spoke.md
	$(PY) -m tools.schema
	$(PY) -m tools.plan.fleet

check-schema: setup ## fail if the schema, docs/configuration.md or the fleet picture in docs/hub-and-spoke.md is stale
	$(PY) -m tools.schema --check
	$(PY) -m tools.plan.fleet --check

plan: setup ## credential-free plan of one stack: make plan STACK=prod
	$(PY) -m tools.plan --stack $(STACK) --out plan/$(STACK)

plan-all: setup ## credential-free plan of every shipped stack into plan/
	@for f in Pulumi.*.yaml; do s=$${f#Pulumi.}; s=$${s%.yaml}; $(PY) -m tools.plan --stack $$s --out plan/$$s || exit 1; done

# Tools the local targets install (.tools/bin, by tools/local/prereqs.py) or the Pulumi installer (~/.pulumi/bin).
LOCAL_PATH := $(CURDIR)/.tools/bin:$(HOME)/.pulumi/bin:$(PATH)
LOCAL_ENV := PATH="$(LOCAL_PATH)" PULUMI_CONFIG_PASSPHRASE="$${PULUMI_CONFIG_PASSPHRASE-}"
READY_TIMEOUT ?= 1500
# When `make up-local` started (epoch seconds), for the measured time to a ready platform.
UP_STARTED := $(shell date +%s)
READY_ARGS ?=

prereqs: ## check Docker, kind and the Pulumi CLI at once (installs kind and pulumi into .tools/ when missing)
	@$(PYTHON) tools/local/prereqs.py

local-cluster: ## create the kind cluster of the local stack unless it exists (tools/local/kind.yaml)
	@$(LOCAL_ENV) kind get clusters 2>/dev/null | grep -qx '$(KIND_CLUSTER)' || \
		$(LOCAL_ENV) kind create cluster --name '$(KIND_CLUSTER)' --config tools/local/kind.yaml --wait 120s

up-local: prereqs ## the local platform: kind, the in-cluster Git server, Argo CD and every service, then wait for it
	@$(MAKE) --no-print-directory setup local-cluster
	mkdir -p .pulumi-state
	$(LOCAL_ENV) pulumi stack select --create local
	$(LOCAL_ENV) pulumi up --yes --stack local
	$(LOCAL_ENV) $(PY) -m tools.local.ready --timeout $(READY_TIMEOUT) --started-at $(UP_STARTED) $(READY_ARGS)

local-password: setup ## print the Argo CD admin password of the local platform
	@$(PY) -m tools.local.ready --password

# `pulumi stack rm` deletes Pulumi.<stack>.yaml too unless --preserve-config (pulumi.com/docs/iac/cli/commands/
# pulumi_stack_rm): the local stack's file is part of this repository. --force drops state that still lists resources.
destroy-local: ## tear the local platform down (the stack's resources, then the kind cluster)
	@$(PYTHON) tools/local/prereqs.py --no-install
	@if $(LOCAL_ENV) kind get clusters 2>/dev/null | grep -qx '$(KIND_CLUSTER)'; then \
		if $(LOCAL_ENV) pulumi destroy --yes --stack local; then \
			$(LOCAL_ENV) kind delete cluster --name '$(KIND_CLUSTER)'; \
		else \
			echo "pulumi destroy failed (above); deleting the kind cluster '$(KIND_CLUSTER)' and the local stack's state anyway"; \
			$(LOCAL_ENV) kind delete cluster --name '$(KIND_CLUSTER)'; \
			$(LOCAL_ENV) pulumi stack rm --force --yes --preserve-config local; \
			exit 1; \
		fi; \
	else \
		echo "no kind cluster '$(KIND_CLUSTER)': forgetting the local stack's state, which only described it"; \
		$(LOCAL_ENV) pulumi stack rm --force --yes --preserve-config local || true; \
	fi

bench: setup ## benchmarks: cost per stack, scale sweep, time to a seeded platform -> out/benchmarks/; fails on a missed target
	$(VENV)/bin/pip install --quiet -r requirements-bench.txt
	$(PY) -m benchmarks

bench-docs: setup ## the same, rewriting the published figures in docs/benchmarks/
	$(VENV)/bin/pip install --quiet -r requirements-bench.txt
	$(PY) -m benchmarks --out docs/benchmarks
