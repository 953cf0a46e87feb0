# Cloister — set-up and everyday commands. Everything lives in .venv; nothing is fetched at run time.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
PIP    := $(PY) -m pip
# torch is pinned here, not in pyproject: on this CPU machine the pin takes the local CPU wheel,
# on a user's Linux machine it takes the matching CUDA build. An unpinned torch pulls several GB.
TORCH_PIN := torch==2.13.0

.PHONY: run test demo bench screenshots build dist dist-check clean lint

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip

$(VENV)/.installed-app: pyproject.toml | $(VENV)/bin/python
	$(PIP) install --quiet $(TORCH_PIN)
	$(PIP) install --quiet -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(VENV)/bin/python
	$(PIP) install --quiet $(TORCH_PIN)
	$(PIP) install --quiet -e '.[test]'
	touch $(VENV)/.installed-app $@

## make run: install (first time) and open the desktop app on its embedded defaults
run: $(VENV)/.installed-app
	$(VENV)/bin/cloister

## make test: install with test extras, type-check engine/ and privacy/, run the whole suite (headless Qt)
test: $(VENV)/.installed-test
	$(VENV)/bin/mypy
	QT_QPA_PLATFORM=offscreen $(PY) -m pytest -q

## make demo: the whole flow headless on the bundled sample data and base model
demo: $(VENV)/.installed-app
	$(VENV)/bin/cloister demo

## make bench: every benchmark (slow: tens of minutes on a 2-core CPU); figures in bench/RESULTS.md
bench: $(VENV)/.installed-test
	$(PIP) install --quiet -e '.[test,onnx,bench]'
	$(PY) bench/bench_import.py
	$(PY) bench/bench_vault.py
	$(PY) bench/bench_train.py
	$(PY) bench/bench_predict.py
	$(PY) bench/bench_pii.py
	QT_QPA_PLATFORM=offscreen $(PY) bench/bench_gui.py

screenshots: $(VENV)/.installed-test
	QT_QPA_PLATFORM=offscreen $(PY) docs/make_screenshots.py

## make build: the PyInstaller one-folder app in build/dist/ (~6 minutes on 2 cores)
build: $(VENV)/.installed-test
	$(PIP) install --quiet -e '.[build]'
	$(VENV)/bin/pyinstaller --noconfirm --log-level WARN --distpath build/dist --workpath build/work build.spec

## make dist: installers in dist/ (tarball with install.sh, .deb, SBOM, SHA256SUMS)
dist: build
	$(PY) packaging/make_dist.py

## make dist-check: install the artefacts in a temporary root and run them with no network
dist-check:
	bash packaging/dist_check.sh

lint: $(VENV)/.installed-test
	$(VENV)/bin/lint-imports pyproject.toml

clean:
	rm -rf build dist .pytest_cache
