# One command to learn, one to test. Each creates or reuses .venv/ by itself.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
VPY := $(VENV)/bin/python
STAMP := $(VENV)/.course-installed
export JUPYTER_PREFER_ENV_PATH := 1
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: lab test bench grade venv exercises browser-deps clean-venv workshop doctor wheelhouse screenshots

$(STAMP): requirements.txt pyproject.toml tools/jupyterlab-overrides.json tools/install.sh
	bash tools/install.sh $(PYTHON) $(VENV)
	@touch $@

venv: $(STAMP)

lab: $(STAMP)
	$(VENV)/bin/jupyter lab --notebook-dir=. $(if $(filter 0,$(shell id -u)),--allow-root) notebooks/00_start_here.ipynb

# Tests run in parallel, one worker per CPU core (pytest-xdist; each worker and kernel uses one torch thread).
PYTEST_WORKERS ?= auto
test: $(STAMP) browser-deps
	$(VPY) -m pytest tests -n $(PYTEST_WORKERS) --dist worksteal $(PYTEST_ARGS)

# Runs with whatever Python is there, before or after the install, and says what to fix.
doctor:
	@if [ -x $(VPY) ]; then $(VPY) tools/doctor.py; else $(PYTHON) -c 'import sys; print("no .venv yet: run make lab (Python", sys.version.split()[0], "found)")'; fi

workshop: $(STAMP)
	$(VPY) tools/workshop.py $(WORKSHOP_ARGS)

# Every pinned package as wheels in wheelhouse/ (copy it to a USB stick or a share); `make lab` and
# `make test` then install from it with no network. COURSE_WHEELHOUSE=/path points elsewhere.
wheelhouse: $(STAMP)
	bash tools/wheelhouse.sh $(VPY) wheelhouse

# Runs notebooks in JupyterLab in Chromium and saves a PNG of every output under build/screenshots/.
screenshots: $(STAMP) browser-deps
	$(VPY) tools/screenshots.py $(NB)

bench: $(STAMP)
	$(VPY) benchmarks/run.py

grade: $(STAMP)
	@test -n "$(NB)" || { echo "usage: make grade NB=exercises/<notebook>.ipynb   or   make grade NB=<submissions folder> [CSV=grades.csv]"; exit 2; }
	@$(VPY) -m course_lib.grade "$(NB)" $(if $(CSV),--csv "$(CSV)",$(if $(wildcard $(NB)/.),--csv grades.csv))

exercises: $(STAMP)
	$(VPY) tools/make_exercises.py

browser-deps:
	@bash tools/ensure_chromium.sh

clean-venv:
	rm -rf $(VENV)
