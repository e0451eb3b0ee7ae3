#!/usr/bin/env bash
# Lint and types: ruff (lint + format) on the whole tree, mypy --strict on the package.
# Runs in the activated CI venv; the tools come pinned from the `dev` extra of pyproject.toml.
set -euo pipefail
cd "$(dirname "$0")/../.."

mapfile -t tools < <(python .ci/dev_requirement.py ruff mypy)
echo "::: installing ${tools[*]}"
python -m pip install -q "${tools[@]}"

echo "::: ruff check"
ruff check .
echo "::: ruff format --check"
ruff format --check .
echo "::: mypy --strict eventstream/"
# Against the source tree; the installed copy in the venv is not what is being checked.
mypy --strict eventstream/
