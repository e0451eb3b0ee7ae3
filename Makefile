# Developer entry points; .ci/steps call the same targets.  See CONTRIBUTING.md.
#
#   make dev          editable install with the test, dev (ruff, mypy) and bench extras
#   make test         the whole suite on both backends (HYPOTHESIS_PROFILE=dev: quick)
#   make test-pure    the suite forced onto the pure-Python backend, C tests deselected
#   make lint         ruff check, ruff format --check, mypy --strict, and c-format
#   make c-format     clang-format --dry-run on csrc/ (once a .clang-format exists)
#   make c-test       the C core's unit tests: strict compiles, -O2 and debug builds
#   make asan         the C unit tests under AddressSanitizer + UndefinedBehaviorSanitizer
#   make fuzz-smoke   libFuzzer harnesses: replay the regressions, then FUZZ_SECONDS each
#   make bench        issue 10's target table (benchmarks/targets.py; ~5 minutes)
#   make bench-smoke  every benchmark body checked and run once (what CI runs)
#
# Variables: PYTHON (default: python), HYPOTHESIS_PROFILE (dev; CI uses ci), FUZZ_SECONDS (10),
# PYTEST_ARGS (e.g. PYTEST_ARGS="-k decoder tests/test_decoder.py").

PYTHON ?= python
HYPOTHESIS_PROFILE ?= dev
FUZZ_SECONDS ?= 10
PYTEST_ARGS ?=
VECTORS := $(CURDIR)/tests/vectors
CLANG_FORMAT ?= clang-format
C_FORMATTED = $(wildcard csrc/es_*.c) csrc/es_internal.h csrc/eventstream.h csrc/cffi_gil.h benchmarks/thread_ceiling.c

export HYPOTHESIS_PROFILE

.PHONY: dev test test-pure lint c-format c-test asan fuzz-smoke bench bench-smoke

dev:
	$(PYTHON) -m pip install -e '.[test,dev,bench]'
	$(PYTHON) -c 'import eventstream; print("eventstream backend:", eventstream.BACKEND)'

test:
	$(PYTHON) -m pytest -q -x $(PYTEST_ARGS)

test-pure:
	EVENTSTREAM_BACKEND=python $(PYTHON) -m pytest -q -x --no-c-backend $(PYTEST_ARGS)

lint: c-format
	ruff check .
	ruff format --check .
	mypy --strict eventstream/

# The hand-written C (es_crc32_tables.h is generated), once the project has a .clang-format.
c-format:
	@if [ ! -f .clang-format ]; then \
	    echo "c-format: no .clang-format yet; C formatting not checked"; \
	elif command -v $(CLANG_FORMAT) >/dev/null; then \
	    echo "$(CLANG_FORMAT) --dry-run --Werror $(C_FORMATTED)"; \
	    $(CLANG_FORMAT) --dry-run --Werror $(C_FORMATTED); \
	else \
	    echo "c-format: $(CLANG_FORMAT) is not installed; C formatting not checked" >&2; \
	fi

c-test:
	$(MAKE) -C tests/c strict test debug VECTORS=$(VECTORS)

asan:
	$(MAKE) -C tests/c asan VECTORS=$(VECTORS)

fuzz-smoke:
	$(MAKE) -C tests/fuzz fuzzers replay corpus PYTHON=$(PYTHON)
	$(MAKE) -C tests/fuzz regress
	$(MAKE) -C tests/fuzz smoke FUZZ_SECONDS=$(FUZZ_SECONDS) PYTHON=$(PYTHON)

bench:
	$(PYTHON) benchmarks/targets.py --out benchmarks/results/targets-latest.md

bench-smoke:
	$(PYTHON) benchmarks/targets.py --smoke
	$(PYTHON) benchmarks/thread_ceiling.py --calls 1 --reps 1
	$(PYTHON) benchmarks/compare.py --smoke --out $${BENCH_OUT:-/tmp/eventstream-bench-smoke}
