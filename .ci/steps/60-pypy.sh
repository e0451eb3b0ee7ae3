#!/usr/bin/env bash
# PyPy: the whole suite under Debian's PyPy (3.9) with the cffi extension built (required) and
# forced (EVENTSTREAM_BACKEND=c).  cffi is built into PyPy; pip picks the newest pytest and
# hypothesis that still support Python 3.9.
set -euo pipefail
cd "$(dirname "$0")/../.."
repo=$PWD

if ! command -v pypy3 >/dev/null || ! dpkg -s pypy3-dev >/dev/null 2>&1; then
    echo "::: installing Debian's pypy3 and pypy3-dev"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq pypy3 pypy3-dev >/dev/null
fi
pypy3 --version

work=$(mktemp -d /tmp/eventstream-pypy.XXXXXX)
trap 'rm -rf "$work"' EXIT
pypy3 -m venv "$work/venv"
py="$work/venv/bin/python"
"$py" -m pip install -q --upgrade pip
echo "::: pip install '.[test]' under PyPy, C extension required"
EVENTSTREAM_BUILD_EXT=require "$py" -m pip install -q "$repo[test]"
"$py" -m pip list --format=freeze | grep -i -E '^(eventstream|cffi|pytest|hypothesis)=' || true

# Run from an empty directory so the installed package, not the source tree, is imported.
mkdir "$work/run"
cd "$work/run"
export EVENTSTREAM_BACKEND=c
# Hypothesis runs several times slower under PyPy; the dev profile (100 examples per property
# instead of CI's 300) keeps this step to a few minutes. The CPython run covers the ci profile.
export HYPOTHESIS_PROFILE=${PYPY_HYPOTHESIS_PROFILE:-dev}
"$py" - <<'PY'
import platform, sys
import eventstream
print("eventstream", eventstream.__version__, "on", platform.python_implementation(),
      platform.python_version(), "BACKEND =", eventstream.BACKEND, "from", eventstream.__file__)
if platform.python_implementation() != "PyPy" or eventstream.BACKEND != "c":
    sys.exit("expected the C (cffi) backend under PyPy")
PY
echo "::: pytest under PyPy with EVENTSTREAM_BACKEND=c (hypothesis profile $HYPOTHESIS_PROFILE)"
"$py" -m pytest -p no:cacheprovider -q --durations=5 "$repo/tests"
