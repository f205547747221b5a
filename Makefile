# foldkit: `make demo` and `make test` need Python >= 3.11, make and a Rust toolchain (cargo);
# `make test` also runs browser tests in Debian's chromium, which it installs with apt as root.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
DEMO_OUT := demo-output
CARGO := cargo --locked
NATIVE := native/Cargo.toml
NATIVE_SOURCES := $(shell find native -name '*.rs' -not -path '*/target/*') $(wildcard native/*/Cargo.toml) native/Cargo.toml native/Cargo.lock

.PHONY: demo test lint fuzz bench clean wheel

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

$(VENV)/.installed: $(BIN)/python pyproject.toml $(NATIVE_SOURCES)
	$(BIN)/python -m pip install -q -e .
	$(BIN)/python -m compileall -q foldkit  # bytecode now, even where PYTHONDONTWRITEBYTECODE is set
	touch $@

$(VENV)/.installed-test: $(VENV)/.installed
	$(BIN)/python -m pip install -q -e '.[test]'
	touch $@

# `make wheel`: the abi3 wheel (CPython >= 3.11, native core included) and the sdist, into dist/.
# maturin tags the wheel with the oldest manylinux policy the extension's glibc symbols allow
# (manylinux_2_34 when built on glibc 2.36: see README "Install"); WHEEL_COMPAT=manylinux_2_xx
# asks for one and fails if the symbols are too recent. Built with the venv's interpreter, as
# the editable install is, so cargo reuses that build (no second compile).
DIST := dist
WHEEL_COMPAT ?=
PY_SOURCES := $(shell find foldkit -type f -not -name '*.pyc' -not -name '*.so' -not -path '*/__pycache__/*')

wheel: $(DIST)/.built

$(VENV)/.installed-maturin: $(BIN)/python
	$(BIN)/python -m pip install -q 'maturin>=1.7,<2'
	touch $@

$(DIST)/.built: $(VENV)/.installed-maturin pyproject.toml README.md $(PY_SOURCES) $(NATIVE_SOURCES)
	rm -rf $(DIST)
	$(BIN)/maturin build --locked --release --interpreter $(BIN)/python $(if $(WHEEL_COMPAT),--compatibility $(WHEEL_COMPAT)) --out $(DIST)
	@# the manifest named: without it maturin first prints "error: manifest path `Cargo.toml` does not exist", then finds pyproject's
	$(BIN)/maturin sdist --manifest-path native/py/Cargo.toml --out $(DIST)
	touch $@

demo: $(VENV)/.installed
	@mkdir -p $(DEMO_OUT)
	$(BIN)/foldkit fold fixtures/system-mixed.perf.zst -o $(DEMO_OUT)/system-mixed.folded
	@echo
	@echo "10 heaviest stacks:"
	@sort -t' ' -k2,2nr -s $(DEMO_OUT)/system-mixed.folded | head -10 | cut -c1-160
	@echo
	@echo "folded stacks: $(CURDIR)/$(DEMO_OUT)/system-mixed.folded"
	$(BIN)/foldkit flamegraph fixtures/system-mixed.perf.zst --all --title "system-mixed: whole machine, 5 s" -o $(DEMO_OUT)/system-mixed.svg
	@echo "flame graph (open it in a browser): $(CURDIR)/$(DEMO_OUT)/system-mixed.svg"
	$(BIN)/foldkit flamegraph fixtures/system-mixed.perf.zst --all --title "system-mixed: whole machine, 5 s" -o $(DEMO_OUT)/system-mixed.html
	@echo "the same in the canvas viewer (flame, icicle, sandwich, top table): $(CURDIR)/$(DEMO_OUT)/system-mixed.html"
	@echo "report of every capture in fixtures/ (open it in a browser):"
	@$(BIN)/foldkit report fixtures -o $(DEMO_OUT)/report --quiet

test: $(VENV)/.installed-test wheel
	@# browser tests need Debian's chromium: installed with apt when run as root (`apt-get update`
	@# may fail on one unsigned mirror while the others refresh, so the install is attempted
	@# regardless, and fails loudly if impossible); otherwise they are skipped (failed when CI is set)
	@test -x /usr/bin/chromium || [ "$$(id -u)" != 0 ] || { apt-get update -qq || true; DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; }
	@test -x /usr/bin/chromium || echo "note: /usr/bin/chromium is missing (as root: apt-get install chromium); the browser tests will be skipped, or fail if CI is set"
	$(BIN)/python -m ruff check foldkit tests benchmarks
	$(BIN)/python -m mypy
	$(CARGO) fmt --manifest-path $(NATIVE) --all --check
	$(CARGO) clippy --manifest-path $(NATIVE) --all-targets -- -D warnings
	$(CARGO) test --manifest-path $(NATIVE) -q
	$(BIN)/python -m pytest -q -n 2

lint: $(VENV)/.installed-test
	$(BIN)/python -m ruff check foldkit tests benchmarks
	$(BIN)/python -m mypy
	$(CARGO) fmt --manifest-path $(NATIVE) --all --check
	$(CARGO) clippy --manifest-path $(NATIVE) --all-targets -- -D warnings

# mutated real captures through every command: 0 tracebacks and 0 hangs expected (tests/support/fuzz.py)
FUZZ_COUNT ?= 10000
FUZZ_SEED ?= 1
fuzz: $(VENV)/.installed-test
	$(BIN)/python -m tests.support.fuzz --count $(FUZZ_COUNT) --seed $(FUZZ_SEED)

bench: $(VENV)/.installed
	$(BIN)/python benchmarks/bench_fold.py
	$(BIN)/python benchmarks/bench_compare.py
	$(BIN)/python benchmarks/bench_render.py
	$(BIN)/python benchmarks/bench_transform.py
	$(BIN)/python benchmarks/bench_report.py

clean:
	rm -rf $(VENV) $(DEMO_OUT) $(DIST) .pytest_cache native/target foldkit/_native*.so
