#!/usr/bin/env bash
# CLI fuzzing smoke run (issue 16): the atheris target tests/fuzz/cli_fuzz.py drives the
# sniffer, the capture unwrapping, the scanner with every recovery option, inspect's walk,
# the payload renderer, encode's JSON reader and, for some inputs, the whole command.  Any
# exception that is not the CLI's typed error, an exit 3, or an input slower than
# CLI_FUZZ_PER_INPUT seconds fails the step.  Replays tests/fuzz/cli-regressions/ first.
# About 40 s with the defaults; tests/fuzz/cli_fuzz.py says how to run it for longer.
# Runs from the repository root with the project's virtualenv active (.ci/run).
set -euo pipefail
CLI_FUZZ_RUNS=${CLI_FUZZ_RUNS:-4000}
export CLI_FUZZ_PER_INPUT=${CLI_FUZZ_PER_INPUT:-5}
started=$(date +%s)

if ! python -c 'import atheris' 2>/dev/null; then
    pip install -q 'atheris' || {
        # atheris has wheels for CPython on Linux x86-64 only; elsewhere it needs clang
        echo "35-cli-fuzz: atheris is not installable here; install clang and retry" >&2
        exit 1
    }
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/corpus" "$work/new" "$work/artifacts"
python tests/fuzz/cli_fuzz.py --make-corpus "$work/corpus"
regressions=tests/fuzz/cli-regressions

echo "::: replaying the seeds and $regressions"
python tests/fuzz/cli_fuzz.py -runs=0 -timeout=30 "$work/corpus" \
    $(test -d "$regressions" && echo "$regressions") > "$work/replay.log" 2>&1 \
    || { tail -40 "$work/replay.log" >&2; exit 1; }

echo "::: atheris, ${CLI_FUZZ_RUNS} runs from seed 1"
status=0
python tests/fuzz/cli_fuzz.py -runs="$CLI_FUZZ_RUNS" -seed=1 -timeout=30 -rss_limit_mb=2048 \
    -artifact_prefix="$work/artifacts/" "$work/new" "$work/corpus" > "$work/fuzz.log" 2>&1 \
    || status=$?
grep -E '^Done|DONE' "$work/fuzz.log" || true
if [ "$status" -ne 0 ] || compgen -G "$work/artifacts/*" > /dev/null; then
    tail -40 "$work/fuzz.log" >&2
    for artifact in "$work"/artifacts/*; do
        [ -e "$artifact" ] && echo "artifact (base64): $(base64 -w0 "$artifact")" >&2
    done
    exit 1
fi
echo "::: CLI fuzz step passed in $(( $(date +%s) - started )) s"
