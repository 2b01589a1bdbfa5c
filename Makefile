# make demo   train (or reuse) the teacher, then the student alone and with CAKD
# make test   the test suite (about 25 minutes on 2 CPU cores)
# make test-slurm   a real 2-task Slurm job on a local one-node cluster
# Both create or reuse the virtualenv .venv with the pinned stack.
SHELL := /bin/bash
.SHELLFLAGS := -eo pipefail -c

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
REQUIREMENTS := requirements/cpu.txt requirements/runtime.txt \
	requirements/mminstall.txt requirements/tests.txt setup.py
FMNIST_SRC := /usr/share/datasets/fashion-mnist
FMNIST_PKG := $(FMNIST_SRC)/t10k-labels-idx1-ubyte.gz
DATA := data/fashion_mnist/.prepared
TEACHER_CKPT := checkpoints/vit-tiny_fashion-mnist.pth

.PHONY: demo test test-all test-install test-slurm doc-check venv data teacher clean-demo

venv: $(STAMP)

# One pip call: the pinned CPU stack (requirements/cpu.txt: torch and
# torchvision pinned together with the OpenMMLab stack, mmcv-lite), the
# tests' packages and the project in editable mode, whose own requirements
# are lower bounds that the pins satisfy. Reruns only when a requirement
# changes.
$(STAMP): $(REQUIREMENTS)
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q -r requirements/cpu.txt \
		-r requirements/tests.txt -e '.[lite]' \
		2>&1 | { grep -v 'is ignored: it is neither a file nor a directory' || true; }
	$(PY) -m pip install -q --no-deps openmim==0.3.9 \
		2>&1 | { grep -v 'is ignored: it is neither a file nor a directory' || true; }
	@touch $@

$(FMNIST_PKG):
	@if [ "$$(id -u)" = 0 ]; then \
		echo 'Installing Debian package dataset-fashion-mnist'; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
			apt-get install -y -qq dataset-fashion-mnist >/dev/null; \
	else \
		echo 'Fashion-MNIST is missing: run `sudo apt-get install -y dataset-fashion-mnist`' >&2; \
		exit 1; \
	fi

$(DATA): $(FMNIST_PKG) $(STAMP)
	$(PY) tools/dataset_converters/prepare_fashion_mnist.py --src $(FMNIST_SRC) \
		--out data/fashion_mnist
	@touch $@

data: $(DATA)

demo: $(DATA)
	$(PY) tools/demo.py

# Retrain the committed teacher (about 20 minutes on 2 CPU cores).
teacher: $(DATA)
	$(PY) tools/demo.py --retrain-teacher --teacher-only

test: $(DATA)
	$(PY) -m pytest -q tests

# Also the slow end-to-end tests.
test-all: $(DATA)
	$(PY) -m pytest -q -m "not install" tests

# Install the project into a fresh venv that already has another torch
# (network; a few minutes): pip keeps that torch.
test-install: $(STAMP)
	$(PY) -m pytest -q -m install tests/test_packaging.py

# A 2-task CAKD job through tools/slurm_train.sh / slurm_test.sh on a
# one-node Slurm cluster started here (Debian's slurm-wlm and munge), then
# stopped again.
SLURM_LOCAL_DIR ?= /tmp/mmcakd-slurm
test-slurm: $(DATA)
	SLURM_LOCAL_DIR=$(SLURM_LOCAL_DIR) tools/slurm_local/cluster.sh start
	SLURM_CONF=$(SLURM_LOCAL_DIR)/slurm.conf $(PY) -m pytest -q -m slurm \
		tests/test_tools/test_slurm.py; status=$$?; \
		SLURM_LOCAL_DIR=$(SLURM_LOCAL_DIR) tools/slurm_local/cluster.sh stop; \
		exit $$status

# Run every shell command of docs/*.md (a few minutes; starts and stops the
# local Slurm cluster of docs/cluster.md).
doc-check: $(DATA)
	$(PY) tools/misc/check_docs.py

clean-demo:
	rm -rf work_dirs/demo
