# The workbook's commands. `make demo` runs the main job on the generated data set;
# `make test` runs the test suite. Both create .venv and install into it when needed.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.ferlib-installed
DATA ?= data
PROFILE ?= demo
## notebooks (and the gallery run) at a time in `make demo` and `make notebooks`, one CPU thread each
JOBS ?= 2

.PHONY: install test test-fast demo data figures notebooks check-outputs bench lab clean-runs

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[test]" "torch!=2.13.0+cpu"
	$(BIN)/python -c "import torch, torchvision, dlib, cv2; print('installed torch', torch.__version__, 'torchvision', torchvision.__version__)"
	touch $(STAMP)

install: $(STAMP)

## the tests (whole suite, smoke profile for the slow paths)
test: $(STAMP)
	$(BIN)/python -m pytest -q

## only the fast tests
test-fast: $(STAMP)
	$(BIN)/python -m pytest -q -m "not slow"

## the generated data sets the notebooks use, and the demo CNN's frame-level pre-training (made once, cached)
data: $(STAMP)
	$(BIN)/python -m ferlib pretrain
	$(BIN)/python -m ferlib synth --out $(DATA)/synth-lab-demo --course lab --subjects 30 --frames 16
	$(BIN)/python -m ferlib synth --out $(DATA)/synth-lab-return-demo --course lab-return --subjects 30 --frames 16

## redraw every figure from existing runs (no training; fails naming a missing run)
figures: $(STAMP)
	$(BIN)/python -m ferlib.synth_samples --out figures/synth_samples.png
	$(BIN)/python -m ferlib.run_notebooks --profile $(PROFILE) --data $(DATA) --figures figures --no-train

## run every notebook headlessly (papermill), JOBS at a time; the demo profile executes them in place (the
## committed notebooks carry the demo's outputs), other profiles write to notebooks/_executed
notebooks: $(STAMP)
	$(BIN)/python -m ferlib.run_notebooks --profile $(PROFILE) --data $(DATA) --figures figures --jobs $(JOBS)

## are the committed notebooks' outputs and the README's results those of this code and figures/?
check-outputs: $(STAMP)
	$(BIN)/python -m ferlib.run_notebooks --check
	$(BIN)/python -m ferlib.readme_results --check
	$(BIN)/python -m ferlib.gallery --check

## the main job on the embedded default: data, then every notebook (training what is missing) beside the
## gallery run (the papers' items that need a data set's layout: generated exports, reproduce; runs/gallery/),
## JOBS at a time (logs in runs/logs/)
demo: data
	$(BIN)/python -m ferlib.run_notebooks --profile demo --data $(DATA) --figures figures --jobs $(JOBS) --gallery
	$(BIN)/python -m ferlib.synth_samples --out figures/synth_samples.png
	$(BIN)/python -m ferlib.readme_results
	$(BIN)/python -m ferlib.gallery

## JupyterLab on the notebooks (settings in jupyter_lab_config.py: the repository is served, the notebooks
## run on this environment's Python, started in the repository root); on a machine without a browser:
##   make lab LAB_ARGS="--no-browser"   (then open the printed http://127.0.0.1:8888/lab?token=… URL)
LAB_ARGS ?=
## as root (usual in containers) JupyterLab needs --allow-root: added, with a line saying so
lab: $(STAMP)
	@if [ "$$(id -u)" = 0 ]; then echo "make lab: running as root, so JupyterLab is started with --allow-root"; fi
	$(BIN)/python -m jupyter lab --config="$(CURDIR)/jupyter_lab_config.py" $$([ "$$(id -u)" = 0 ] && echo --allow-root) $(LAB_ARGS)

## benchmarks (print ratios measured in one run)
bench: $(STAMP)
	$(BIN)/python benchmarks/bench_loader.py

clean-runs:
	rm -rf runs
