"""The subcommands: each takes the parsed arguments and a Context, and returns an exit status."""

from __future__ import annotations

import argparse
import os
import sys
from typing import List, NamedTuple, Optional, TextIO

from eventstream import DecodeError, Limits

from . import jsonlayout
from .color import Palette
from .errors import EXIT_INVALID, EXIT_OK, CliError, invalid_input, usage_error
from .frames import Frame, FrameReader
from .inputs import Source, iter_raw_chunks, read_all
from .inspector import Inspector
from .render import Renderer, plural, safe_text
from .sniff import FILE, Sniffed, for_file, sniff


class Context(NamedTuple):
    out: TextIO
    err: TextIO
    palette: Palette
    limits: Limits


def _source(args: argparse.Namespace) -> Source:
    encoding = "base64" if args.base64 else "hex" if args.hex else "binary"
    return Source(args.file, encoding)


def _not_a_stream(reader: FrameReader, error: DecodeError) -> Optional[Sniffed]:
    """What the bytes at a fault are, when they are not an event stream at all."""
    pending = reader.pending
    if error.code == "prelude_crc" or (error.code == "truncated" and len(pending) < 12):
        return sniff(pending)
    return None


def describe_error(name: str, reader: FrameReader, error: DecodeError) -> str:
    """The one-line reason ``verify`` prints (and ``dump`` starts its report with)."""
    found = _not_a_stream(reader, error)
    if found is not None:
        return (
            f"{name}: not an event stream: the bytes at offset {error.frame_offset} are "
            f"{found.what} ({safe_text(found.detail)})"
        )
    return f"{name}: invalid: message {reader.count}: {safe_text(str(error))}"


def _report(ctx: Context, name: str, reader: FrameReader, error: DecodeError) -> None:
    ctx.err.write(f"eventstream: {describe_error(name, reader, error)}\n")
    found = _not_a_stream(reader, error)
    if found is not None:
        ctx.err.write(f"eventstream: hint: {safe_text(for_file(found.hint, name))}\n")
    shown = for_file(FILE, name)
    ctx.err.write(f"eventstream: for an annotated view of the bytes: eventstream inspect {shown}\n")


def _empty(name: str) -> CliError:
    return invalid_input(f"{name}: the input is empty (0 bytes, no messages)")


# ---------------------------------------------------------------- dump


def run_dump(args: argparse.Namespace, ctx: Context) -> int:
    source = _source(args)
    renderer = Renderer(
        ctx.palette,
        full=args.full,
        preview=args.preview,
        limits=ctx.limits,
        nested=not args.no_nested,
    )
    reader = FrameReader(ctx.limits)
    out = ctx.out
    error: Optional[DecodeError] = None

    def show(frames: List[Frame]) -> None:
        for frame in frames:
            if args.json:
                out.write(jsonlayout.dumps(frame) + "\n")
            else:
                if frame.number:
                    out.write("\n")
                out.write("\n".join(renderer.frame_lines(frame, str(frame.number))) + "\n")
        if frames:
            out.flush()

    chunks = iter_raw_chunks(source, follow=args.follow, idle_timeout=args.idle_timeout)
    try:
        for chunk in chunks:
            frames, error = reader.feed(chunk)
            show(frames)
            if error is not None:
                break
        else:
            error = reader.close()
    except KeyboardInterrupt:
        if not args.follow:
            raise
        pending = len(reader.pending)
        tail = f"; {pending} bytes of an incomplete message were pending" if pending else ""
        ctx.err.write(
            f"eventstream: stopped following {source.name} after {reader.count} messages{tail}\n"
        )
        return EXIT_OK
    if error is not None:
        _report(ctx, source.name, reader, error)
        return EXIT_INVALID
    if reader.position == 0:
        raise _empty(source.name)
    if not args.json:
        out.write(
            ctx.palette.dim(
                f"\n{plural(reader.count, 'message')}, {plural(reader.position, 'byte')}, all valid"
            )
            + "\n"
        )
    return EXIT_OK


# ---------------------------------------------------------------- inspect


def run_inspect(args: argparse.Namespace, ctx: Context) -> int:
    source = _source(args)
    data = read_all(source)
    if not data:
        raise _empty(source.name)
    inspector = Inspector(
        data,
        ctx.out,
        ctx.palette,
        limits=ctx.limits,
        full=args.full,
        faults_only=args.faults_only,
        preview=args.preview,
        name=source.name,
    )
    error = inspector.run()
    return EXIT_OK if error is None else EXIT_INVALID


# ---------------------------------------------------------------- verify


def run_verify(args: argparse.Namespace, ctx: Context) -> int:
    source = _source(args)
    reader = FrameReader(ctx.limits)
    error: Optional[DecodeError] = None
    for chunk in iter_raw_chunks(source):
        _, error = reader.feed(chunk)
        if error is not None:
            break
    else:
        error = reader.close()
    if error is not None:
        if not args.quiet:
            ctx.err.write(describe_error(source.name, reader, error) + "\n")
        return EXIT_INVALID
    if reader.position == 0:
        if not args.quiet:
            ctx.err.write(f"{source.name}: invalid: the input is empty (0 bytes, no messages)\n")
        return EXIT_INVALID
    if not args.quiet:
        counts = f"{plural(reader.count, 'message')}, {plural(reader.position, 'byte')}"
        ctx.out.write(f"{source.name}: OK, {counts}\n")
    return EXIT_OK


# ---------------------------------------------------------------- encode


def run_encode(args: argparse.Namespace, ctx: Context) -> int:
    source = Source(args.file, json=True)
    raw = read_all(source)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise invalid_input(
            f"{source.name}: the input is not UTF-8 JSON (byte {exc.start}); "
            "encode reads the JSON lines that `eventstream dump --json` prints"
        ) from None
    parts: List[bytes] = []
    try:
        for number, (line, value) in enumerate(jsonlayout.iter_json_values(text)):
            where = f"message {number} (line {line})"
            described = jsonlayout.message_from_json(value, where)
            encoded = jsonlayout.encode_described(described, ctx.limits, verbatim=args.verbatim)
            for difference in encoded.differences:
                action = "wrote the stated value" if args.verbatim else "wrote the encoded value"
                ctx.err.write(f"eventstream: warning: {where}: {difference}; {action}\n")
            parts.append(encoded.data)
    except jsonlayout.LayoutError as exc:
        raise invalid_input(f"{source.name}: {exc}") from None
    if not parts:
        raise invalid_input(f"{source.name}: no messages in the input (expected JSON objects)")
    _write_binary(args.output, b"".join(parts))
    return EXIT_OK


def _write_binary(path: str, data: bytes) -> None:
    if path == "-":
        stdout = sys.stdout
        if stdout is None:
            raise usage_error("there is no standard output; use -o FILE")
        isatty = getattr(stdout, "isatty", None)
        if isatty is not None and isatty():
            raise usage_error(
                "refusing to write binary data to a terminal; use -o FILE or redirect the output"
            )
        sink = getattr(stdout, "buffer", None)
        if sink is None:
            raise usage_error("standard output does not take bytes; use -o FILE")
        sink.write(data)
        sink.flush()
        return
    try:
        with open(path, "wb") as handle:
            handle.write(data)
    except OSError as exc:
        raise usage_error(f"cannot write {path}: {exc.strerror or exc}") from None


# ---------------------------------------------------------------- split


def split_name(prefix: str, index: int) -> str:
    """The file name of message ``index``: ``message-000000.eventstream`` by default."""
    return f"{prefix}{index:06d}.eventstream"


def run_split(args: argparse.Namespace, ctx: Context) -> int:
    source = _source(args)
    directory = args.out
    if os.sep in args.prefix or (os.altsep and os.altsep in args.prefix):
        raise usage_error("--prefix is a file name prefix, not a path")
    try:
        os.makedirs(directory, exist_ok=True)
    except OSError as exc:
        raise usage_error(f"cannot create {directory}: {exc.strerror or exc}") from None
    reader = FrameReader(ctx.limits)
    written = 0

    def write(frame: Frame) -> None:
        path = os.path.join(directory, split_name(args.prefix, frame.number))
        mode = "wb" if args.force else "xb"
        try:
            with open(path, mode) as handle:
                handle.write(frame.raw)
        except FileExistsError:
            raise usage_error(
                f"{path} exists; use --force to overwrite or --prefix to rename"
            ) from None
        except OSError as exc:
            raise usage_error(f"cannot write {path}: {exc.strerror or exc}") from None

    error: Optional[DecodeError] = None
    for chunk in iter_raw_chunks(source):
        frames, error = reader.feed(chunk)
        for frame in frames:
            write(frame)
            written += 1
        if error is not None:
            break
    else:
        error = reader.close()
    if error is not None:
        ctx.err.write(f"eventstream: wrote {written} messages to {directory} before the fault\n")
        _report(ctx, source.name, reader, error)
        return EXIT_INVALID
    if reader.position == 0:
        raise _empty(source.name)
    last = f" .. {split_name(args.prefix, written - 1)}" if written > 1 else ""
    ctx.out.write(f"wrote {written} messages to {directory}: {split_name(args.prefix, 0)}{last}\n")
    return EXIT_OK
