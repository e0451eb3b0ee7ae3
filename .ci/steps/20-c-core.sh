#!/usr/bin/env bash
# The C core: its format (clang-format), unit tests (plain, debug, ASan+UBSan), strict-warning compiles with gcc
# and clang, a short libFuzzer run, AArch64 cross builds and tests under qemu, the
# build policy (EVENTSTREAM_BUILD_EXT), and the Python suite against an ASan+UBSan
# build of the extension.  Run by .ci/run with the project's .venv active.
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
t0=$(date +%s)
stamp() { echo "::: 20-c-core: $1 ($(( $(date +%s) - t0 )) s)"; }

apt_updated=
apt_install() {
    export DEBIAN_FRONTEND=noninteractive
    [ -n "$apt_updated" ] || { apt-get update -qq; apt_updated=1; }
    apt-get install -y -qq "$@" >/dev/null
}

# clang and its sanitizer runtime (Debian: clang + libclang-rt-N-dev).
asan_runtime() { clang -print-file-name=libclang_rt.asan-x86_64.so 2>/dev/null || true; }
if ! command -v clang >/dev/null || [ ! -f "$(asan_runtime)" ]; then
    stamp "installing clang"
    apt_install clang
    major=$(clang --version | sed -n 's/.*clang version \([0-9]*\).*/\1/p' | head -n1)
    apt_install "libclang-rt-${major}-dev" || true
fi
runtime=$(asan_runtime)
[ -f "$runtime" ] || { echo "no ASan runtime for clang ($runtime)" >&2; exit 1; }

stamp "clang-format: csrc/ follows .clang-format (es_crc32_tables.h is generated)"
command -v clang-format >/dev/null || apt_install clang-format
clang-format --version
clang-format --dry-run --Werror csrc/es_*.c csrc/es_internal.h csrc/eventstream.h

stamp "C unit tests: strict compiles (gcc, clang), -O2, debug, ASan+UBSan"
make -s -C tests/c clean
make -s -C tests/c strict test debug asan VECTORS="$root/tests/vectors"

stamp "libFuzzer on the decoder (30 s)"
make -s -C tests/c fuzz FUZZ_SECONDS=30 VECTORS="$root/tests/vectors" 2>&1 | tail -n 3

stamp "AArch64: cross compiles and the C tests under qemu (the ARMv8 CRC32 path)"
if ! command -v aarch64-linux-gnu-gcc >/dev/null || ! command -v qemu-aarch64 >/dev/null; then
    apt_install gcc-aarch64-linux-gnu qemu-user || echo "::: could not install the AArch64 cross tools; ARM checks skipped"
fi
if command -v aarch64-linux-gnu-gcc >/dev/null && command -v qemu-aarch64 >/dev/null; then
    make -s -C tests/c arm VECTORS="$root/tests/vectors"
fi

# Clean copies of the tracked files: an in-place build in the work tree must not leak
# into these builds.
copy_tree() { mkdir -p "$1" && git ls-files -z | xargs -0 cp --parents -t "$1"; }

stamp "build policy: auto falls back, require fails, skip builds pure Python; the sdist builds"
export PIP_DISABLE_PIP_VERSION_CHECK=1
# --no-build-isolation builds need pyproject's build requirements in this environment.
pip install -q "setuptools>=77" wheel "cffi>=1.15"  # the versions pyproject.toml builds with
copy_tree "$work/policy"
(
    cd "$work/policy"
    CC=false EVENTSTREAM_BUILD_EXT=auto pip wheel -v --no-build-isolation --no-deps \
        -w "$work/auto" . >"$work/auto.log" 2>&1 || { cat "$work/auto.log"; exit 1; }
    grep -q "the C extension could not be built" "$work/auto.log" || { echo "auto: no notice" >&2; exit 1; }
    python - "$work"/auto/*.whl <<'PY'
import sys, zipfile
names = zipfile.ZipFile(sys.argv[1]).namelist()
sys.exit("auto: the wheel has a compiled module" if any("_eventstream_c" in n for n in names) else 0)
PY
    ls "$work"/auto/*-py3-none-any.whl >/dev/null  # the fallback wheel is tagged pure Python
    if CC=false EVENTSTREAM_BUILD_EXT=require pip wheel -q --no-build-isolation --no-deps \
        -w "$work/require" . >"$work/require.log" 2>&1; then
        echo "EVENTSTREAM_BUILD_EXT=require succeeded without a compiler" >&2; exit 1
    fi
    EVENTSTREAM_BUILD_EXT=skip pip wheel -q --no-build-isolation --no-deps -w "$work/skip" . >/dev/null 2>&1
    ls "$work"/skip/*-py3-none-any.whl >/dev/null
    # An sdist carries what the extension is built from (MANIFEST.in).
    python setup.py -q sdist -d "$work/sdist" >/dev/null 2>&1
    mkdir "$work/unpacked" && tar xzf "$work"/sdist/*.tar.gz -C "$work/unpacked"
    cd "$work"/unpacked/*/
    EVENTSTREAM_BUILD_EXT=require pip wheel -q --no-build-isolation --no-deps -w "$work/fromsdist" . \
        >"$work/sdist.log" 2>&1 || { cat "$work/sdist.log"; exit 1; }
    python - "$work"/fromsdist/*.whl <<'PY'
import sys, zipfile
names = zipfile.ZipFile(sys.argv[1]).namelist()
sys.exit(0 if any("_eventstream_c" in n for n in names) else "the sdist built no extension")
PY
)

stamp "extension built with clang, strict warnings, ASan+UBSan"
copy_tree "$work/src"
(
    cd "$work/src"
    CC=clang LDSHARED="clang -shared" EVENTSTREAM_STRICT_CFLAGS=1 \
    EVENTSTREAM_EXTRA_CFLAGS="-O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=all" \
    EVENTSTREAM_EXTRA_LDFLAGS="-fsanitize=address,undefined" \
        python csrc/build_ffi.py >"$work/asan-build.log" 2>&1 || { cat "$work/asan-build.log"; exit 1; }
    ls eventstream/_eventstream_c*.so >/dev/null
)

stamp "Python suite on the C backend, ASan+UBSan build"
(
    cd "$work/src"
    PYTHONPATH="$work/src" EVENTSTREAM_BACKEND=c HYPOTHESIS_PROFILE=dev EVENTSTREAM_SANITIZED=1 \
    LD_PRELOAD="$runtime" ASAN_OPTIONS=detect_leaks=0:abort_on_error=1 \
    UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
        python -m pytest -q -p no:cacheprovider -k "not python" tests
)
stamp "done"
