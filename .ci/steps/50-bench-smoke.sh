#!/usr/bin/env bash
# Benchmark smoke test: proves the benchmarks run, measures nothing. Every body of issue 10's
# target table (both backends, the peers, the cffi floors, the 2-thread rows) and of the
# pytest-benchmark suite is checked against the canonical bytes/headers and run once, and the
# comparison table is rendered from that run. One callgrind count proves instructions.py works.
# Run by .ci/run with the project's virtualenv active (the package installed).
# Installs the `bench` extra's packages one by one: a peer that does not install is reported
# and left out; only pytest/pytest-benchmark are required.
set -euo pipefail
cd "$(dirname "$0")/../.."
started=$(date +%s)
say() { printf '50-bench-smoke: %s\n' "$*"; }

python -c 'import eventstream' 2>/dev/null || { say "eventstream is not installed in $(python -c 'import sys; print(sys.prefix)')" >&2; exit 1; }

# The bench extra, as written in pyproject.toml (markers included).
requirements=$(python - <<'PY'
import re
text = open("pyproject.toml", encoding="utf-8").read()
block = re.search(r"^bench\s*=\s*\[(.*?)\]", text, re.S | re.M).group(1)
for item in re.findall(r'"([^"]+)"', block):
    print(item)
PY
)

failed=()
while IFS= read -r req; do
    [ -n "$req" ] || continue
    if python -m pip install -q "$req" >/tmp/bench-smoke-pip.log 2>&1; then
        say "installed: $req"
    else
        case "$req" in
            pytest*) cat /tmp/bench-smoke-pip.log >&2; say "cannot install $req" >&2; exit 1 ;;
        esac
        failed+=("$req")
        say "NOT installed (left out of the comparison): $req"
        tail -n 3 /tmp/bench-smoke-pip.log | sed 's/^/    /'
    fi
done <<< "$requirements"

out=$(mktemp -d)
trap 'rm -rf "$out" /tmp/bench-smoke-pip.log' EXIT
say "make bench-smoke: targets.py --smoke, then compare.py --smoke (one round of every benchmark)"
make bench-smoke BENCH_OUT="$out"
test -s "$out/latest.md"
if python -c 'import matplotlib' 2>/dev/null; then test -s "$out/chart.png"; fi
if command -v valgrind >/dev/null; then
    say "one instruction count under callgrind"
    python benchmarks/instructions.py decode transcript c
else
    say "valgrind is not installed: instructions.py not exercised"
fi
if [ ${#failed[@]} -gt 0 ]; then say "peers/extras that did not install: ${failed[*]}"; fi
say "done in $(( $(date +%s) - started )) s"
