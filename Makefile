# One command to learn, one to test. Each creates or reuses .venv/ by itself.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
VPY := $(VENV)/bin/python
STAMP := $(VENV)/.course-installed
export JUPYTER_PREFER_ENV_PATH := 1
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: lab test bench grade venv exercises browser-deps clean-venv

$(STAMP): requirements.txt pyproject.toml tools/jupyterlab-overrides.json
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info[:2] >= (3, 11) else "Python 3.11 or newer is needed, found " + sys.version.split()[0])'
	@test -x $(VPY) || $(PYTHON) -m venv $(VENV)
	$(VPY) -m pip install --upgrade --quiet pip
	$(VPY) -m pip install --quiet -r requirements.txt
	$(VPY) -m pip install --quiet --no-deps --no-build-isolation -e .
	$(VPY) -m ipykernel install --sys-prefix --name python3 --display-name "Python 3 (course)" >/dev/null
	mkdir -p $(VENV)/share/jupyter/lab/settings
	cp tools/jupyterlab-overrides.json $(VENV)/share/jupyter/lab/settings/overrides.json
	@touch $@

venv: $(STAMP)

lab: $(STAMP)
	$(VENV)/bin/jupyter lab --notebook-dir=. $(if $(filter 0,$(shell id -u)),--allow-root) notebooks/00_start_here.ipynb

# Tests run in parallel, one worker per CPU core (pytest-xdist; each worker and kernel uses one torch thread).
PYTEST_WORKERS ?= auto
test: $(STAMP) browser-deps
	$(VPY) -m pytest tests -n $(PYTEST_WORKERS) --dist worksteal $(PYTEST_ARGS)

bench: $(STAMP)
	$(VPY) benchmarks/run.py

grade: $(STAMP)
	@test -n "$(NB)" || { echo "usage: make grade NB=exercises/some_notebook.ipynb"; exit 2; }
	$(VPY) -m course_lib.grade "$(NB)"

exercises: $(STAMP)
	$(VPY) tools/make_exercises.py

browser-deps:
	@bash tools/ensure_chromium.sh

clean-venv:
	rm -rf $(VENV)
