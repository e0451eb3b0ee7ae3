#!/usr/bin/env bash
# Lint and types: `make lint` (ruff check + format on the whole tree, mypy --strict on the
# package, clang-format on csrc/ once a .clang-format exists). Runs in the activated CI venv;
# the Python tools come pinned from the `dev` extra of pyproject.toml.
set -euo pipefail
cd "$(dirname "$0")/../.."

mapfile -t tools < <(python .ci/dev_requirement.py ruff mypy)
echo "::: installing ${tools[*]}"
python -m pip install -q "${tools[@]}"
if [ -f .clang-format ] && ! command -v clang-format >/dev/null; then
    echo "::: installing clang-format"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq && apt-get install -y -qq clang-format >/dev/null
fi

echo "::: make lint"
# mypy runs against the source tree; the installed copy in the venv is not what is checked.
make lint
