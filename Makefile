# Two commands do all set-up on a fresh machine with Python 3.11 and pip:
#   make lab    create .venv if missing, install the pinned versions, open JupyterLab
#   make test   same set-up, then lint (ruff), unit tests, build --check, nbval on solutions/ and notebooks/
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
NBVAL  := --nbval-lax --nbval-current-env --nbval-sanitize-with tests/notebooks/nbval_sanitize.cfg -p no:cacheprovider
JOBS   ?= 2
# JupyterLab refuses to run as root (containers, CI images) unless told to.
LAB_FLAGS := $(if $(filter 0,$(shell id -u)),--allow-root)

.PHONY: lab test setup lint unit nbval build check-build bench-quick sweep clean

setup: $(STAMP)

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

# Re-install whenever pyproject.toml (where the versions are pinned) changes.
$(STAMP): pyproject.toml | $(PY)
	$(PY) -m pip install --quiet -e ".[test]"
	$(PY) -m ipykernel install --sys-prefix --name python3 --display-name "Python 3 (course)" >/dev/null
	touch $(STAMP)

lab: $(STAMP)
	$(VENV)/bin/jupyter lab --ServerApp.root_dir=notebooks $(LAB_FLAGS)

lint: $(STAMP)
	$(VENV)/bin/ruff check course_utils tests benchmarks

unit: $(STAMP)
	$(PY) -m pytest tests -q -n $(JOBS)

check-build: $(STAMP)
	$(PY) -m course_utils build --check

nbval: $(STAMP)
	$(PY) -m pytest $(NBVAL) -q -n $(JOBS) --dist loadfile solutions notebooks

test: lint unit check-build nbval

# Maintainers: after editing solutions/, execute them and regenerate notebooks/.
build: $(STAMP)
	$(PY) -m course_utils build --execute

bench-quick: $(STAMP)
	$(PY) -m course_utils bench --device cpu --quick

clean:
	rm -rf $(VENV) .pytest_cache
