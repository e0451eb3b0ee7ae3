#!/usr/bin/env bash
# The command-line tool on the shipped sample: what the README's debugging section promises.
# Run by .ci/run with the project's virtualenv active (the package installed).
set -euo pipefail
cd "$(dirname "$0")/../.."

sample=samples/transcribe-session.eventstream
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

step() { printf '40-cli: %s\n' "$*"; }

step "the sample is what samples/make_sample.py generates"
python samples/make_sample.py --check

step "dump, inspect and verify succeed on the sample"
eventstream dump "$sample" > "$work/dump.txt"
grep -q "message 0 at byte 0: signed frame wrapping event AudioEvent" "$work/dump.txt"
grep -q "exception BadRequestException" "$work/dump.txt"
eventstream inspect "$sample" > "$work/inspect.txt"
grep -q "8 messages, 2570 bytes: all valid" "$work/inspect.txt"
eventstream verify "$sample"
python -m eventstream verify --quiet "$sample"

step "dump --json | encode reproduces the sample byte for byte"
eventstream dump --json "$sample" | eventstream encode -o "$work/copy.eventstream"
cmp "$sample" "$work/copy.eventstream"

step "verify and inspect of a corrupted copy exit 1 and name the byte"
python samples/make_sample.py --corrupt "$work/broken.eventstream" > /dev/null
status=0
eventstream verify "$work/broken.eventstream" 2> "$work/verify.txt" || status=$?
if [ "$status" -ne 1 ]; then
    echo "40-cli: verify of the corrupted copy exited $status, expected 1" >&2
    exit 1
fi
grep -q "message checksum mismatch" "$work/verify.txt"
status=0
eventstream inspect "$work/broken.eventstream" > "$work/broken.txt" || status=$?
[ "$status" -eq 1 ] || { echo "40-cli: inspect exited $status, expected 1" >&2; exit 1; }
grep -q "FAULT at byte 902" "$work/broken.txt"

step "dump --json-readable | encode reproduces the sample too; a hand-written frame encodes"
eventstream dump --json-readable "$sample" | eventstream encode -o "$work/readable.eventstream"
cmp "$sample" "$work/readable.eventstream"
echo '{"headers": {":event-type": "X"}, "payload_json": {}}' > "$work/hand.json"
eventstream encode "$work/hand.json" -o "$work/hand.eventstream"
eventstream verify "$work/hand.eventstream"

step "several files, one verdict line each; --keep-going reads past the damaged message"
status=0
eventstream verify "$sample" "$work/broken.eventstream" > "$work/many.txt" 2>&1 || status=$?
[ "$status" -eq 1 ] && [ "$(wc -l < "$work/many.txt")" -eq 2 ]
eventstream dump --keep-going "$work/broken.eventstream" > "$work/keep.txt" 2>&1 || true
grep -q "message 7 at byte 2487" "$work/keep.txt"

step "an HTTP capture of the sample is unwrapped"
printf 'HTTP/1.1 200 OK\r\nContent-Type: application/vnd.amazon.eventstream\r\n\r\n' \
    | cat - "$sample" > "$work/capture.http"
eventstream verify "$work/capture.http"

step "ok"
