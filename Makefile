# Every command of the project. `make book` and `make test` set everything up themselves on a
# machine with Python 3.10+ and make: a virtual environment in .venv with the pinned stack.

PYTHON   ?= python3
VENV     ?= .venv
BIN      := $(VENV)/bin
PORT     ?= 8000
CHROMIUM ?= /usr/bin/chromium
STAMP    := $(VENV)/.installed
VENDOR   := _build/vendor
PYTEST   := $(BIN)/python -m pytest
# Tests and notebook runs: this checkout's cnnutils first (also in a git worktree sharing the
# environment), no network (tests/netguard), no progress bars, quiet Sphinx.
TESTENV  := PYTHONPATH=$(CURDIR):$(CURDIR)/tests/netguard TQDM_DISABLE=1 CHROMIUM=$(CHROMIUM)
NBVAL    := --nbval --nbval-current-env --nbval-sanitize-with tests/nbval_sanitize.cfg

.PHONY: help install vendor book test unit test-book test-site oldest-env test-oldest test-gpu experiments execute serve bench bench-conv bench-gpu gpu-wheels lint format browser lock clean

help:
	@echo "make book      install the pinned stack, build the site into _build/html"
	@echo "make test      install, build, lint, run every test tier: unit, book (nbval), site"
	@echo "make unit      the unit tier only: cnnutils against its oracles, doctests (about a minute)"
	@echo "make experiments  the longer runs over several seeds behind the chapters' comparisons"
	@echo "               (experiments/*.py; results in cnnutils/course/results/)"
	@echo "make execute   run the experiments, then re-run every notebook in a fresh kernel,"
	@echo "               outputs saved in place"
	@echo "make serve     serve _build/html on http://127.0.0.1:$(PORT)"
	@echo "make test-oldest  unit tests and every notebook's assertion cells on the oldest"
	@echo "               supported stack (requirements/oldest.txt, Python 3.11)"
	@echo "make test-gpu  nbval in lax mode plus the assertion cells, on CUDA"
	@echo "make bench     CPU benchmarks; they print ratios beside the machine's facts"
	@echo "make bench-conv  unfold vs F.conv2d, idle and beside one busy process (3 runs each)"
	@echo "make bench-gpu GPU benchmarks (benchmarks/bench_gpu.py; needs CUDA, under 5 minutes)"
	@echo "make gpu-wheels  download the wheels benchmarks/gpu_check.sh installs on an offline GPU machine"
	@echo "make lint      ruff (lint and format) over the package, tests, tools, benchmarks, notebooks"
	@echo "make lock      re-solve requirements/constraints.txt (needs the package registry)"

# The exact pins (numpy 2.4, scipy 1.17) need Python 3.11+; cnnutils itself installs on 3.10+.
$(BIN)/python:
	@$(PYTHON) -c "import sys; sys.exit(0 if sys.version_info >= (3, 11) else \
		'make needs Python 3.11+ for the pinned stack; set PYTHON=python3.11 or newer')"
	$(PYTHON) -m venv $(VENV)

# Re-install whenever the dependency declarations change.
$(STAMP): $(BIN)/python pyproject.toml requirements/constraints.txt
	$(BIN)/python -m pip install --quiet --disable-pip-version-check \
		-c requirements/constraints.txt -e ".[book,test]"
	@touch $@

install: $(STAMP)

# Browser assets from the npm registry, exact versions in requirements/package-lock.json, served at
# the site root through html_extra_path so the site needs no CDN: MathJax 3 for the maths, and
# RequireJS with the Jupyter widgets HTML manager (embed-amd.js and its fonts) for saved widgets.
# axe-core (the accessibility audit) goes to _build/axe instead: the site test injects it into
# each page it opens, and no page of the site ships it.
WIDGETS_DIST := _build/npm/node_modules/@jupyter-widgets/html-manager/dist
WIDGET_FONTS := notebooks/@jupyter-widgets/html-manager/dist
$(VENDOR)/.stamp: requirements/package.json requirements/package-lock.json
	rm -rf _build/npm $(VENDOR) _build/axe && mkdir -p _build/npm $(VENDOR)/widgets _build/axe
	cp requirements/package.json requirements/package-lock.json _build/npm/
	cd _build/npm && npm ci --silent --no-audit --no-fund
	cp _build/npm/node_modules/axe-core/axe.min.js _build/axe/
	cp -r _build/npm/node_modules/mathjax/es5 $(VENDOR)/mathjax
	cp _build/npm/node_modules/requirejs/require.js $(WIDGETS_DIST)/embed-amd.js $(VENDOR)/widgets/
	@# The manager's icon fonts load from <page folder>/@jupyter-widgets/html-manager/dist/, and
	@# only chapter pages (notebooks/) carry widgets.
	mkdir -p $(VENDOR)/$(WIDGET_FONTS)
	cp $(WIDGETS_DIST)/*.woff2 $(WIDGETS_DIST)/*.woff $(WIDGETS_DIST)/*.ttf \
		$(WIDGETS_DIST)/*.eot $(WIDGETS_DIST)/*.svg $(VENDOR)/$(WIDGET_FONTS)/
	@touch $@

vendor: $(VENDOR)/.stamp

# The API page documents this checkout's cnnutils (also in a git worktree sharing the environment).
book: install vendor
	PYTHONPATH=$(CURDIR) $(BIN)/jupyter-book build . --all -W --keep-going

# Debian's Chromium for the site test; Playwright never downloads a browser here.
browser:
	@if [ ! -x "$(CHROMIUM)" ]; then \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		$$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq chromium >/dev/null; \
	fi
	@test -x "$(CHROMIUM)" || { echo "no browser at $(CHROMIUM) (set CHROMIUM=...)"; exit 1; }

# The tiers: tests/unit (the package against its oracles, plus doctests), tests/book (notebook
# rules, exercises, conventions, and nbval over every chapter), tests/site (the built site in
# Chromium). `make test` runs all three in one pytest session, after lint.
UNIT     := cnnutils tests/unit
BOOK     := tests/book notebooks book

test: install lint book browser
	$(TESTENV) $(PYTEST) $(NBVAL) $(UNIT) $(BOOK) tests/site --durations=10

unit: install
	$(TESTENV) $(PYTEST) $(UNIT) --durations=5

test-book: install
	$(TESTENV) $(PYTEST) $(NBVAL) $(BOOK) --durations=10

test-site: install book browser
	$(TESTENV) $(PYTEST) tests/site

# The oldest supported stack: every lower bound of pyproject.toml pinned exactly in
# requirements/oldest.txt, in a second environment (Python 3.11: numpy 1.24 has no wheels for
# later Pythons), with cnnutils installed from this checkout (and imported from it first, through
# TESTENV). Every unit test and doctest runs, and every notebook under nbval's lax mode: all cells
# run, so the assertion cells hold the results on old numerics too. What tests the book's build
# rather than the package (the browser tests of the site, the conventions page's Sphinx anchors,
# the Sphinx extension) needs jupyter-book's stack and is left to make test.
OLDEST_PYTHON ?= python3.11
OLDEST := _build/oldest-venv
$(OLDEST)/.installed: pyproject.toml requirements/oldest.txt
	@command -v $(OLDEST_PYTHON) >/dev/null || { echo "make test-oldest needs $(OLDEST_PYTHON) (set OLDEST_PYTHON=...)"; exit 1; }
	rm -rf $(OLDEST) && $(OLDEST_PYTHON) -m venv $(OLDEST)
	$(OLDEST)/bin/python -m pip install --quiet --disable-pip-version-check \
		-r requirements/oldest.txt ".[test]"
	@touch $@

oldest-env: $(OLDEST)/.installed

test-oldest: $(OLDEST)/.installed
	$(OLDEST)/bin/python -c "import torch, numpy; print('oldest stack: torch', torch.__version__, 'numpy', numpy.__version__)"
	@# torch 2.3 imports triton, which imports setuptools after the standard library's distutils
	@# may already be loaded; setuptools then asserts unless it is told to use the stdlib's.
	$(TESTENV) SETUPTOOLS_USE_DISTUTILS=stdlib $(OLDEST)/bin/python -m pytest --nbval-lax --nbval-current-env \
		--nbval-sanitize-with tests/nbval_sanitize.cfg $(UNIT) notebooks --durations=10

# On a CUDA machine: every notebook runs; only NBVAL_CHECK_OUTPUT cells are compared, and the
# assertion cells carry the numerical checks with tolerances that allow TF32.
test-gpu: install
	$(BIN)/python -c "import torch, sys; sys.exit(0 if torch.cuda.is_available() else 'no CUDA device')"
	$(TESTENV) CNNUTILS_DEVICE=cuda $(PYTEST) notebooks --nbval-lax --nbval-current-env \
		--nbval-sanitize-with tests/nbval_sanitize.cfg

# Longer runs over several seeds, on the CPU (several minutes on two cores): the chapters read
# their results from cnnutils/course/results/.
experiments: install
	$(TESTENV) CNNUTILS_DEVICE=cpu $(BIN)/python experiments/alexnet.py

execute: experiments
	$(TESTENV) CNNUTILS_DEVICE=cpu $(BIN)/python tools/nbtool.py execute
	$(BIN)/python tools/nbtool.py errata

# Speed measurements, not tests: each prints times and ratios measured in one process.
bench: install
	for b in conv pooling lrn lenet5; do \
	  PYTHONPATH=$(CURDIR) $(BIN)/python benchmarks/bench_$$b.py || exit 1; done

# unfold vs F.conv2d alone: 3 runs on the machine as it is, 3 beside one busy process (~3 min).
bench-conv: install
	PYTHONPATH=$(CURDIR) $(BIN)/python benchmarks/bench_conv.py --only unfold --busy 0,1 --runs 3

# On a CUDA machine: matmul ceilings, F.conv2d, unfold vs cuDNN, AlexNet training; JSON too.
bench-gpu: install
	$(BIN)/python benchmarks/bench_gpu.py --json _build/bench_gpu.json

# Wheels (Python 3.12, x86-64) for the packages an offline GPU machine lacks; gpu_check.sh
# installs them from there with pip --no-index (see benchmarks/README.md).
gpu-wheels: install
	HERE_PYTHON=$(BIN)/python bash benchmarks/gpu_check.sh --fetch-wheels

serve:
	@test -f _build/html/index.html || { echo "no site yet: run make book"; exit 1; }
	$(BIN)/python -m http.server $(PORT) --bind 127.0.0.1 --directory _build/html

LINTED   := cnnutils tests tools benchmarks experiments

lint: install
	$(BIN)/ruff check $(LINTED) notebooks book
	$(BIN)/ruff format --check $(LINTED)

format: install
	$(BIN)/ruff format $(LINTED)
	$(BIN)/ruff check --fix $(LINTED) notebooks book

# Solve the stack afresh in a scratch environment and write the exact pins.
lock:
	rm -rf _build/lockenv && $(PYTHON) -m venv _build/lockenv
	_build/lockenv/bin/python -m pip install --quiet -e ".[book,test]"
	_build/lockenv/bin/python -m pip freeze --exclude-editable | grep -v '^cnnutils' \
		| sed '1i # Exact pins for CI and the book build: written by `make lock`; the package declares lower bounds only.' \
		> requirements/constraints.txt
	cd requirements && npm install --package-lock-only --silent --no-audit --no-fund

clean:
	rm -rf _build
