"""atheris fuzz target for the command-line tool (issue 16).

Drives what the CLI does with hostile bytes: the sniffer, the capture
unwrapping (HTTP, chunked bodies, HAR), the scanner with every recovery
option, ``inspect``'s walk and annotated view, the payload renderer, and the
JSON reader of ``encode`` (both layouts) -- and, for one input in eight, the
whole command in-process through ``eventstream.cli.main``.

Fails on:
- an exception that is not the CLI's own typed error (CliError, LayoutError),
- ``main()`` returning 3 (the "internal error, this is a bug" exit),
- an input that takes longer than ``--per-input`` seconds (default 2) in the
  harness's own clock (libFuzzer's ``-timeout`` catches a hang that never
  returns).

The last byte of each input is the control byte: bits 0-2 pick the target,
bit 3 --keep-going, bit 4 --resync, bit 5 small limits, bit 6 --no-nested,
bit 7 --faults-only / --json-readable.

Run (from the repository root)::

    python tests/fuzz/cli_fuzz.py --make-corpus build/cli-corpus
    nice -n 10 python tests/fuzz/cli_fuzz.py -max_total_time=1800 -timeout=10 \\
        -rss_limit_mb=2048 build/cli-artifacts-corpus build/cli-corpus

``.ci/steps/35-cli-fuzz.sh`` runs it briefly in CI.
"""

from __future__ import annotations

import base64
import contextlib
import io
import json
import os
import sys
import tempfile
import time
from typing import Any, List

PER_INPUT = float(os.environ.get("CLI_FUZZ_PER_INPUT", "2"))
_HERE = os.path.dirname(os.path.abspath(__file__))


def _import() -> Any:
    import atheris

    with atheris.instrument_imports(include=["eventstream"]):
        import eventstream.cli.captures
        import eventstream.cli.commands
        import eventstream.cli.inspector
        import eventstream.cli.jsonlayout
        import eventstream.cli.main
        import eventstream.cli.render
        import eventstream.cli.scan
        import eventstream.cli.sniffing
        import eventstream.cli.walk  # noqa: F401
    return atheris


def _small_limits() -> Any:
    import eventstream

    return eventstream.Limits.checked(64, 64, 8)


def _scan_and_inspect(data: bytes, control: int) -> None:
    from eventstream.cli.color import PLAIN
    from eventstream.cli.inspector import Inspector
    from eventstream.cli.scan import Scanner

    limits = _small_limits() if control & 0x20 else None
    options = {"keep_going": bool(control & 0x08), "resync": bool(control & 0x10)}
    nested = not control & 0x40
    step = 1 + (data[0] if data else 0) % 97
    chunks = [data[i : i + step] for i in range(0, len(data), step)]
    inspector = Inspector(
        io.StringIO(), PLAIN, limits=limits, faults_only=bool(control & 0x80), nested=nested
    )
    inspector.run(Scanner(limits, nested=nested, **options), chunks)  # type: ignore[arg-type]
    # the scanner alone, fed in one piece, must agree on the faults
    one = Scanner(limits, nested=nested, **options)  # type: ignore[arg-type]
    one.feed(data)
    one.close()


def _walk(data: bytes, control: int) -> None:
    from eventstream.cli.walk import Walker

    walker = Walker(data, _small_limits() if control & 0x20 else None)
    pos = 0
    for index in range(64):
        if pos >= len(data):
            break
        walk = walker.walk_frame(pos, len(data), index)
        if walk.fault is not None:
            break
        pos = walk.end


def _render(data: bytes, control: int) -> None:
    from eventstream.cli.render import Renderer, pretty_json

    kinds = ("application/json", "text/plain", "application/xml", None)
    renderer = Renderer(full=bool(control & 0x80), nested=not control & 0x40)
    renderer.payload_view(data, kinds[control >> 3 & 3])
    with contextlib.suppress(ValueError):
        pretty_json(data.decode("utf-8", "replace"))


def _sniff_and_captures(data: bytes, control: int) -> None:
    from eventstream.cli.captures import open_streams
    from eventstream.cli.errors import CliError
    from eventstream.cli.sniffing import sniff_safely

    sniff_safely(data)
    step = 1 + (data[-1] if data else 0) % 61
    chunks = [data[i : i + step] for i in range(0, len(data), step)]
    try:
        for stream in open_streams(chunks):
            for _ in stream.chunks:
                pass
    except CliError:
        pass


def _json_layout(data: bytes, control: int) -> None:
    import eventstream
    from eventstream.cli import jsonlayout

    text = data.decode("utf-8", "replace")
    if control & 0x08:  # wrap the bytes in a readable-layout object, to reach deeper
        text = json.dumps({"headers": [], "payload_base64": base64.b64encode(data).decode()})
        text += "\n" + data.decode("latin-1")
    pieces = [text[i : i + 7] for i in range(0, len(text), 7)] if control & 0x10 else text
    try:
        for number, (_, value) in enumerate(jsonlayout.iter_json_values(pieces, 1 << 20)):
            described = jsonlayout.message_from_json(value, f"message {number}")
            jsonlayout.encode_described(
                described, eventstream.DEFAULT_LIMITS, verbatim=bool(control & 0x80)
            )
            if number > 32:
                break
    except jsonlayout.LayoutError:
        pass


_COMMANDS = (
    ["verify"],
    ["dump"],
    ["dump", "--json"],
    ["dump", "--json-readable"],
    ["inspect"],
    ["inspect", "--faults-only"],
    ["encode"],
    ["split"],
)


def _main(data: bytes, control: int) -> None:
    from eventstream.cli import main

    command = list(_COMMANDS[(data[0] if data else 0) % len(_COMMANDS)])
    with tempfile.TemporaryDirectory() as scratch:
        path = os.path.join(scratch, "input")
        with open(path, "wb") as handle:
            handle.write(data)
        argv = [*command, path]
        if command[0] == "encode":
            argv += ["-o", os.path.join(scratch, "out")]
        elif command[0] == "split":
            argv += ["--out", os.path.join(scratch, "split")]
        else:
            if control & 0x08:
                argv.append("--keep-going")
            if control & 0x10:
                argv.append("--resync")
            if control & 0x40:
                argv.append("--no-nested")
        if control & 0x20:
            argv += ["--max-payload", "64", "--max-header-value", "8"]
        saved = sys.stdout, sys.stderr
        sys.stdout = io.TextIOWrapper(io.BytesIO(), encoding="utf-8")
        sys.stderr = io.StringIO()
        try:
            status = main(argv)
            report = sys.stderr.getvalue()
        finally:
            sys.stdout, sys.stderr = saved
    if status == 3:
        raise AssertionError(f"exit 3 for {argv[:-1]}: {report}")


_TARGETS = (
    _scan_and_inspect,
    _scan_and_inspect,
    _walk,
    _render,
    _sniff_and_captures,
    _json_layout,
    _json_layout,
    _main,
)


def test_one_input(data: bytes) -> None:
    if not data:
        return
    control, body = data[-1], data[:-1]
    target = _TARGETS[control & 0x07]
    started = time.monotonic()
    target(body, control)
    elapsed = time.monotonic() - started
    if elapsed > PER_INPUT:
        raise AssertionError(f"{target.__name__} took {elapsed:.2f} s on {len(body)} bytes")


# ---------------------------------------------------------------- seed corpus


def make_corpus(directory: str) -> int:
    """Seeds: the sample, the conformance vectors, captures and JSON, each under every target."""
    import eventstream
    from eventstream import Message

    root = os.path.dirname(os.path.dirname(_HERE))
    seeds: List[bytes] = []
    sample = os.path.join(root, "samples", "transcribe-session.eventstream")
    with open(sample, "rb") as handle:
        stream = handle.read()
    seeds += [stream, stream[:600], stream[:251]]
    vectors = os.path.join(root, "tests", "vectors")
    for base, _, files in os.walk(vectors):
        if os.sep + "encoded" + os.sep in base + os.sep:
            for name in sorted(files):
                with open(os.path.join(base, name), "rb") as handle:
                    seeds.append(handle.read())
    one = eventstream.encode(Message({":content-type": "application/json"}, b'{"a":[1.10]}'))
    seeds.append(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n%x\r\n" % len(one) + one)
    seeds.append(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % len(one) + one)
    har = {
        "log": {
            "entries": [
                {
                    "_webSocketMessages": [
                        {
                            "type": "send",
                            "time": 1.5,
                            "opcode": 2,
                            "data": base64.b64encode(one).decode(),
                        }
                    ]
                }
            ]
        }
    }
    seeds.append(json.dumps(har).encode())
    seeds.append(b'{"headers": [{"name": "a", "type": "string", "value": "b"}], "payload_json": 1}')
    seeds.append(b'{"total_length": 16, "headers": [], "payload": "", "message_crc": 0}')
    seeds.append(b"<!DOCTYPE html><title>502</title>" + b"<!--a-->" * 8)
    seeds.append(b"data: x\n\n")
    os.makedirs(directory, exist_ok=True)
    count = 0
    for number, seed in enumerate(seeds):
        for control in (0, 1, 2, 3, 4, 5, 6, 7, 0x18, 0x29):
            with open(os.path.join(directory, f"seed-{number:03d}-{control:02x}"), "wb") as out:
                out.write(seed + bytes([control]))
            count += 1
    return count


def main() -> None:
    if len(sys.argv) == 3 and sys.argv[1] == "--make-corpus":
        print(f"{make_corpus(sys.argv[2])} seeds written to {sys.argv[2]}")
        return
    atheris = _import()
    atheris.Setup(sys.argv, test_one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
