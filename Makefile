# Two commands do all set-up on a fresh machine with Python 3.11 and pip:
#   make lab    create .venv if missing, install the pinned versions (constraints.txt), open JupyterLab
#   make test   same set-up, then lint (ruff), unit tests, build --check, nbval on solutions/ and
#               notebooks/, and the browser test (skipped, saying so, where Chromium is missing)
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
NBVAL  := --nbval-lax --nbval-current-env --nbval-sanitize-with tests/notebooks/nbval_sanitize.cfg -p no:cacheprovider
JOBS   ?= 2
CHROMIUM ?= /usr/bin/chromium
BROWSER_TEST := tests/notebooks/test_browser.py
# JupyterLab refuses to run as root (containers, CI images) unless told to.
LAB_FLAGS := $(if $(filter 0,$(shell id -u)),--allow-root)

.PHONY: lab test setup lint unit nbval browser build check-build bench-quick sweep clean

setup: $(STAMP)

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

# Re-install whenever the dependencies (ranges: pyproject.toml) or their pins (constraints.txt)
# change.
$(STAMP): pyproject.toml constraints.txt | $(PY)
	$(PY) -m pip install --quiet -c constraints.txt -e ".[lab,test]"
	$(PY) -m ipykernel install --sys-prefix --name python3 --display-name "Python 3 (course)" >/dev/null
	touch $(STAMP)

lab: $(STAMP)
	$(VENV)/bin/jupyter lab --ServerApp.root_dir=notebooks $(LAB_FLAGS)

lint: $(STAMP)
	$(VENV)/bin/ruff check course_utils tests benchmarks

# JOBS pytest workers share the cores: one torch/OpenMP thread each (oversubscribed OpenMP
# threads spin-wait for each other; measured: nbval 6.6 min -> 2.4 min on 2 cores).
# --dist loadgroup: the modules that grade as an ordinary user share one worker (one xdist group).
unit nbval: export OMP_NUM_THREADS = 1

unit: $(STAMP)
	$(PY) -m pytest tests -q -n $(JOBS) --dist loadgroup --ignore=$(BROWSER_TEST)

check-build: $(STAMP)
	$(PY) -m course_utils build --check

# Notebook 09's chorales are parsed once here (cached outside the repository), so two parallel
# nbval workers never parse the music21 corpus at the same time.
nbval: $(STAMP)
	$(PY) -m course_utils data chorales --no-progress >/dev/null
	$(PY) -m pytest $(NBVAL) -q -n $(JOBS) --dist loadfile solutions notebooks

# The solutions in JupyterLab + headless Chromium (Debian's; needs root once to install it).
browser: $(STAMP)
	$(PY) -m course_utils data chorales --no-progress >/dev/null
	@if [ -x "$(CHROMIUM)" ]; then $(PY) -m pytest -q -p no:cacheprovider $(BROWSER_TEST); \
	else echo "browser test SKIPPED: no $(CHROMIUM); to enable it: (as root) apt-get install -y chromium fonts-dejavu-core"; fi

test: lint unit check-build nbval browser

# Maintainers: after editing solutions/, execute them and regenerate notebooks/.
build: $(STAMP)
	$(PY) -m course_utils build --execute

bench-quick: $(STAMP)
	$(PY) -m course_utils bench --device cpu --quick

clean:
	rm -rf $(VENV) .pytest_cache
