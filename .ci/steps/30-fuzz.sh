#!/usr/bin/env bash
# Fuzzing smoke run (issue 6): builds the libFuzzer harnesses over the C core, replays
# the regression corpus through them and through the gcc/ASan replay programs, fuzzes
# each harness for FUZZ_SECONDS, then runs the atheris harness (C vs Python backend)
# for ATHERIS_RUNS inputs from a fixed seed.  Any crash or disagreement fails CI.
# About 4 minutes with the defaults on 2 cores; tests/fuzz/README.md says how to run longer.
# Runs from the repository root with the project's virtualenv active (.ci/run).
set -euo pipefail
FUZZ_SECONDS=${FUZZ_SECONDS:-45}
ATHERIS_RUNS=${ATHERIS_RUNS:-40000}
started=$(date +%s)

# clang with libFuzzer and the sanitizer runtimes (Debian: clang + libclang-rt-*-dev).
have_libfuzzer() {
    command -v clang >/dev/null && command -v gcc >/dev/null || return 1
    printf 'int LLVMFuzzerTestOneInput(const char *d, unsigned long n) { (void)d; (void)n; return 0; }\n' \
        > /tmp/es-fuzz-probe.c
    clang -fsanitize=fuzzer,address,undefined -o /tmp/es-fuzz-probe /tmp/es-fuzz-probe.c 2>/dev/null
}
if ! have_libfuzzer; then
    echo "::: installing clang and its libFuzzer/sanitizer runtimes"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq clang gcc make >/dev/null
    # The runtimes come with clang on some releases and in libclang-rt-N-dev on others.
    major=$(clang --version | sed -n 's/.*clang version \([0-9]*\).*/\1/p' | head -1)
    apt-get install -y -qq "libclang-rt-${major}-dev" >/dev/null 2>&1 || true
    have_libfuzzer || { echo "clang cannot link -fsanitize=fuzzer" >&2; exit 1; }
fi
rm -f /tmp/es-fuzz-probe /tmp/es-fuzz-probe.c

python -c 'import atheris' 2>/dev/null || pip install -q 'atheris'

cd tests/fuzz
echo "::: building the harnesses and replay programs"
make -s fuzzers replay corpus
echo "::: replaying tests/fuzz/regressions and tests/fuzz/corpus (gcc + ASan/UBSan)"
make -s regress
for h in decode fixcrc roundtrip; do
    # libFuzzer run over the same files: the clang build sees them too.
    ./build/fuzz_$h -runs=0 regressions/$h $(test -d corpus/$h && echo corpus/$h) \
        > build/replay-$h.log 2>&1 || { tail -40 build/replay-$h.log >&2; exit 1; }
done

echo "::: libFuzzer, ${FUZZ_SECONDS} s per harness"
status=0
make -s smoke FUZZ_SECONDS="$FUZZ_SECONDS" > build/smoke.log 2>&1 || status=$?
grep -E '^:::|DONE|ERROR|fuzz check|SUMMARY' build/smoke.log || true
[ "$status" -eq 0 ] || { tail -40 build/smoke.log >&2; exit "$status"; }
for h in decode fixcrc roundtrip; do
    if compgen -G "build/artifacts/$h/*" >/dev/null; then
        echo "fuzz_$h left artifacts:" build/artifacts/$h/* >&2
        exit 1
    fi
done

echo "::: atheris, C vs Python backend, ${ATHERIS_RUNS} runs from seed 1"
mkdir -p build/atheris-corpus build/artifacts/python
(cd /tmp && EVENTSTREAM_BACKEND=c python -c 'import eventstream, sys; sys.exit(eventstream.BACKEND != "c")') \
    || { echo "the C backend is not importable: the differential run needs it" >&2; exit 1; }
status=0
python atheris_differential.py -runs="$ATHERIS_RUNS" -seed=1 -timeout=20 \
    -artifact_prefix=build/artifacts/python/ build/atheris-corpus build/corpus/python \
    $(test -d corpus/python && echo corpus/python) > build/atheris.log 2>&1 || status=$?
grep -E '^Done|DONE' build/atheris.log || true
[ "$status" -eq 0 ] || { tail -40 build/atheris.log >&2; exit "$status"; }
echo "::: fuzz step passed in $(( $(date +%s) - started )) s"
