#!/usr/bin/env bash
# The client examples: the typed one passes mypy --strict, and every example runs (loopback only).
# Their libraries (websockets, aiohttp, httpx, botocore) come with the `test` extra.
set -euo pipefail
cd "$(dirname "$0")/../.."

mapfile -t tools < <(python .ci/dev_requirement.py mypy)
python -m pip install -q "${tools[@]}"

echo "::: mypy --strict examples/typed_websocket_client.py"
mypy --strict examples/typed_websocket_client.py

for example in typed_websocket_client.py s3_select_body.py botocore_buffer.py; do
    echo "::: python examples/$example"
    timeout 120 python "examples/$example"
done
echo "::: python examples/s3_select_body.py --corrupt 120 (records before the fault are processed)"
timeout 120 python examples/s3_select_body.py --corrupt 120
