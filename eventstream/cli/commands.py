"""The subcommands: each takes the parsed arguments and a Context, and returns an exit status."""

from __future__ import annotations

import argparse
import os
from typing import Callable, Iterable, Iterator, List, NamedTuple, Optional, TextIO

from eventstream import Limits

from . import jsonlayout
from .captures import Stream, open_streams
from .color import Palette
from .errors import EXIT_INVALID, EXIT_OK, CliError, invalid_input, usage_error
from .frames import Frame
from .inputs import Rewound, Source, iter_raw_chunks, iter_text
from .inspector import Inspector
from .output import write_binary
from .readable import dumps_readable
from .render import Renderer, plural, safe_text
from .scan import Checked, Damaged, Event, Fault, Scanner, Skipped
from .signatures import ChainCheck
from .sniff import FILE, Sniffed, for_file
from .sniffing import sniff_safely


class Context(NamedTuple):
    out: TextIO
    err: TextIO
    palette: Palette
    limits: Limits


def _sources(args: argparse.Namespace) -> List[Source]:
    encoding = "base64" if args.base64 else "hex" if args.hex else "binary"
    files = args.files if isinstance(args.files, list) else [args.files]
    if files.count("-") > 1:
        raise usage_error("'-' (stdin) can be given once")
    return [Source(path, encoding) for path in files]


def _scanner(args: argparse.Namespace, ctx: Context, chain: Optional[ChainCheck] = None) -> Scanner:
    return Scanner(
        ctx.limits,
        keep_going=getattr(args, "keep_going", False),
        resync=getattr(args, "resync", False),
        nested=not getattr(args, "no_nested", False),
        count=getattr(args, "count", None),
        skip=getattr(args, "offset", 0) or 0,
        chain=chain,
    )


def _chain(args: argparse.Namespace) -> Optional[ChainCheck]:
    """The signature check asked for with --seed-signature (one per input)."""
    seed = getattr(args, "seed_signature", None)
    if seed is None:
        return None
    if not args.region:
        raise usage_error("--seed-signature needs --region (and --service if not transcribe)")
    return ChainCheck(seed, args.region, args.service)


def _end_of_chain(
    chain: Optional[ChainCheck], tally: Tally, scanner: Optional[Scanner]
) -> Optional[Fault]:
    """After the last stream: a signed stream must have ended with its end frame.

    Not asked when the run stopped early (a fault, ``--count``): the end was not reached.
    """
    if chain is None or scanner is None or tally.faults or scanner.counted:
        return None
    position = scanner.position
    fault = chain.finish(position, tally.messages)
    if fault is not None:
        tally.faults.append(fault)
    return fault


def _streams(source: Source, follow: bool = False, **options: object) -> Iterator[Stream]:
    chunks = iter_raw_chunks(source, follow=follow, **options)  # type: ignore[arg-type]
    return open_streams(chunks, unwrap=not follow)


def _not_a_stream(fault: Fault, raw: bytes) -> Optional[Sniffed]:
    """What the bytes at a fault are, when they are not an event stream at all."""
    if fault.depth == 0 and (
        fault.code == "prelude_crc" or (fault.code == "truncated" and len(raw) < 12)
    ):
        return sniff_safely(raw)
    return None


def describe_fault(name: str, fault: Fault, raw: bytes = b"") -> str:
    """The one-line reason ``verify`` prints (and ``dump`` starts its report with)."""
    found = _not_a_stream(fault, raw)
    if found is not None:
        return (
            f"{name}: not an event stream: the bytes at offset {fault.frame_offset} are "
            f"{found.what} ({safe_text(found.detail)})"
        )
    return f"{name}: invalid: message {fault.number}: {safe_text(fault.text)}"


def _report(ctx: Context, name: str, fault: Fault, raw: bytes) -> None:
    ctx.err.write(f"eventstream: {describe_fault(name, fault, raw)}\n")
    found = _not_a_stream(fault, raw)
    if found is not None:
        ctx.err.write(f"eventstream: hint: {safe_text(for_file(found.hint, name))}\n")
    if fault.code in ("payload_limit", "headers_limit", "header_value_limit"):
        option = {
            "payload_limit": "--max-payload",
            "headers_limit": "--max-header-block",
            "header_value_limit": "--max-header-value",
        }[fault.code]
        ctx.err.write(
            f"eventstream: hint: raise the limit with {option} SIZE, or lift all limits "
            "with --no-limits\n"
        )
        return
    shown = for_file(FILE, name)
    ctx.err.write(f"eventstream: for an annotated view of the bytes: eventstream inspect {shown}\n")


def _nothing(offset: int = 0) -> str:
    if offset:
        return f"no bytes after --offset {offset} (no messages)"
    return "the input is empty (0 bytes, no messages)"


def _empty(name: str, offset: int = 0) -> CliError:
    return invalid_input(f"{name}: {_nothing(offset)}")


def _each_file(
    sources: List[Source], ctx: Context, run_one: Callable[[Source], int], banner: bool
) -> int:
    """Run ``run_one`` on every input; a file that fails does not stop the others."""
    status = EXIT_OK
    for number, source in enumerate(sources):
        if banner and len(sources) > 1:
            ctx.out.write(("\n" if number else "") + f"==> {source.name} <==\n")
        try:
            result = run_one(source)
        except CliError as exc:
            if len(sources) == 1:
                raise
            ctx.err.write(f"eventstream: {exc.message}\n")
            result = exc.status
        status = max(status, result)
    return status


class Tally:
    """Counts over every stream of one input (a HAR file holds many)."""

    def __init__(self) -> None:
        self.messages = 0
        self.valid = 0
        self.bytes = 0
        self.skipped = 0
        self.faults: List[Fault] = []
        self.first_raw = b""
        self.label = ""

    def add(self, scanner: Scanner, label: str, first_raw: bytes) -> None:
        if scanner.faults and not self.faults:
            self.first_raw = first_raw
            self.label = label
        self.messages += scanner.messages
        self.valid += scanner.valid
        self.bytes += scanner.read_bytes
        self.skipped += scanner.skipped
        self.faults.extend(scanner.faults)

    def summary(self) -> str:
        nested = sum(1 for fault in self.faults if fault.depth)
        inside = f" ({nested} inside payloads)" if nested else ""
        skipped = f", {plural(self.skipped, 'byte')} skipped" if self.skipped else ""
        return (
            f"{plural(len(self.faults), 'fault')}{inside} in {plural(self.messages, 'message')}"
            f"{skipped}"
        )


def _scan(
    scanner: Scanner, chunks: Iterable[bytes], on_events: Callable[[List[Event]], None]
) -> bytes:
    """Feed every chunk; returns the bytes of the first fault (for describing it)."""
    first = b""

    def note(events: List[Event]) -> None:
        nonlocal first
        for event in events:
            if isinstance(event, Damaged) and not first:
                first = event.raw
        on_events(events)

    for chunk in chunks:
        note(scanner.feed(chunk))
        if scanner.done:
            break
    note(scanner.close())
    return first


def _fault_line(fault: Fault) -> str:
    kind = "FAULT in a nested message" if fault.depth else "FAULT"
    return f"{kind}: message {fault.number}: {safe_text(fault.text)}"


def _skip_line(event: Skipped) -> str:
    size = event.end - event.start
    where = f"bytes {event.start}-{event.end - 1}"
    if event.found:
        skipped = plural(size, "byte")
        return f"resync: skipped {skipped} ({where}); next valid prelude at byte {event.end}"
    return f"resync: skipped {plural(size, 'byte')} ({where}) to the end: no further valid prelude"


# ---------------------------------------------------------------- dump


def run_dump(args: argparse.Namespace, ctx: Context) -> int:
    sources = _sources(args)
    if args.follow and len(sources) > 1:
        raise usage_error("--follow reads one input")
    if args.json and args.json_readable:
        raise usage_error("--json and --json-readable are different layouts: choose one")
    return _each_file(sources, ctx, lambda source: _dump_one(args, ctx, source), True)


def _dump_one(args: argparse.Namespace, ctx: Context, source: Source) -> int:
    renderer = Renderer(
        ctx.palette,
        full=args.full,
        preview=args.preview,
        limits=ctx.limits,
        nested=not args.no_nested,
    )
    out = ctx.out
    machine = args.json or args.json_readable
    tally = Tally()
    shown = 0

    def show(events: List[Event]) -> None:
        nonlocal shown
        for event in events:
            if isinstance(event, Checked):
                frame = event.frame
                if args.json:
                    out.write(jsonlayout.dumps(frame) + "\n")
                elif args.json_readable:
                    out.write(dumps_readable(frame) + "\n")
                else:
                    if shown:
                        out.write("\n")
                    out.write("\n".join(renderer.frame_lines(frame, str(frame.number))) + "\n")
                shown += 1
                for fault in event.nested:
                    (ctx.err if machine else out).write(_fault_line(fault) + "\n")
            elif isinstance(event, Damaged) and not event.fatal:
                (ctx.err if machine else out).write(
                    ("" if machine or not shown else "\n") + _fault_line(event.fault) + "\n"
                )
                shown += 1
            elif isinstance(event, Skipped):
                (ctx.err if machine else out).write(_skip_line(event) + "\n")
        if events:
            out.flush()

    options = {"follow": args.follow, "idle_timeout": args.idle_timeout}
    scanner: Optional[Scanner] = None
    chain = _chain(args)
    try:
        for stream in _streams(source, **options):
            if stream.label and not machine:
                out.write(("\n" if shown else "") + f"--- {safe_text(stream.label)}\n")
                if stream.note:
                    out.write(ctx.palette.dim(f"    ({stream.note})") + "\n")
            scanner = _scanner(args, ctx, chain)
            raw = _scan(scanner, _restarts(stream.chunks, scanner, ctx, source, show), show)
            tally.add(scanner, stream.label, raw)
            if scanner.faults and not scanner.keep_going:
                break  # strict: the first fault ends the run, in a capture's parts too
    except KeyboardInterrupt:
        if not args.follow:
            raise
        pending = len(scanner.pending) if scanner is not None else 0
        tail = f"; {pending} bytes of an incomplete message were pending" if pending else ""
        ctx.err.write(
            f"eventstream: stopped following {source.name} after {shown} messages{tail}\n"
        )
        return EXIT_OK
    end = _end_of_chain(chain, tally, scanner)
    if end is not None:
        (ctx.err if machine else out).write(_fault_line(end) + "\n")
    if tally.faults:
        first = tally.faults[0]
        if len(tally.faults) == 1 and first.depth == 0 and not tally.skipped:
            _report(ctx, _named(source, tally.label), first, tally.first_raw)
        else:
            ctx.err.write(
                f"eventstream: {_named(source, tally.label)}: invalid: {tally.summary()}; "
                f"first: message {first.number}: {safe_text(first.text)}\n"
            )
        return EXIT_INVALID
    if tally.bytes == 0:
        raise _empty(source.name, getattr(args, "offset", 0))
    if not machine:
        out.write(
            ctx.palette.dim(
                f"\n{plural(tally.valid, 'message')}, {plural(tally.bytes, 'byte')}, all valid"
            )
            + "\n"
        )
    return EXIT_OK


def _named(source: Source, label: str) -> str:
    return f"{source.name} ({label})" if label else source.name


def _restarts(
    chunks: Iterable[bytes],
    scanner: Scanner,
    ctx: Context,
    source: Source,
    show: Callable[[List[Event]], None],
) -> Iterator[bytes]:
    """Chunks of a followed file; when it is truncated or replaced, start over like ``tail -f``."""
    for chunk in chunks:
        if isinstance(chunk, Rewound):
            show(scanner.close())
            ctx.err.write(f"eventstream: {source.name}: {chunk.reason}; reading from the start\n")
            scanner.restart()
            continue
        yield chunk


# ---------------------------------------------------------------- inspect


def run_inspect(args: argparse.Namespace, ctx: Context) -> int:
    sources = _sources(args)
    return _each_file(sources, ctx, lambda source: _inspect_one(args, ctx, source), True)


def _inspect_one(args: argparse.Namespace, ctx: Context, source: Source) -> int:
    faults: List[Fault] = []
    read = 0
    chain = _chain(args)
    scanner: Optional[Scanner] = None
    for number, stream in enumerate(_streams(source)):
        if stream.label:
            ctx.out.write(("\n" if number else "") + f"--- {safe_text(stream.label)}\n")
            if stream.note:
                ctx.out.write(ctx.palette.dim(f"    ({stream.note})") + "\n")
        inspector = Inspector(
            ctx.out,
            ctx.palette,
            limits=ctx.limits,
            full=args.full,
            faults_only=args.faults_only,
            preview=args.preview,
            name=source.name,
            nested=not args.no_nested,
        )
        scanner = _scanner(args, ctx, chain)
        faults.extend(inspector.run(scanner, stream.chunks))
        read += scanner.read_bytes
        if faults and not scanner.keep_going:
            break
    if read == 0 and not faults:
        raise _empty(source.name, getattr(args, "offset", 0))
    if chain is not None:
        tally = Tally()
        tally.faults = list(faults)
        end = _end_of_chain(chain, tally, scanner)
        if end is not None:
            faults.append(end)
            ctx.out.write(ctx.palette.bad(_fault_line(end)) + "\n")
        else:
            ctx.out.write(f"signatures: {plural(chain.checked, 'signed frame')} checked\n")
    return EXIT_OK if not faults else EXIT_INVALID


# ---------------------------------------------------------------- verify


def run_verify(args: argparse.Namespace, ctx: Context) -> int:
    sources = _sources(args)
    return _each_file(sources, ctx, lambda source: _verify_one(args, ctx, source), False)


def _verify_one(args: argparse.Namespace, ctx: Context, source: Source) -> int:
    tally = Tally()
    parts = 0
    chain = _chain(args)
    scanner: Optional[Scanner] = None
    for stream in _streams(source):
        scanner = _scanner(args, ctx, chain)
        raw = _scan(scanner, stream.chunks, lambda events: None)
        tally.add(scanner, stream.label, raw)
        parts += 1
        if scanner.faults and not scanner.keep_going:
            break
    name = source.name
    _end_of_chain(chain, tally, scanner)
    if tally.faults:
        if not args.quiet:
            first = tally.faults[0]
            line = describe_fault(_named(source, tally.label), first, tally.first_raw)
            if len(tally.faults) > 1 or tally.skipped:
                line = (
                    f"{name}: invalid: {tally.summary()}; first: message {first.number}: "
                    f"{safe_text(first.text)}"
                )
            ctx.err.write(line + "\n")
        return EXIT_INVALID
    if tally.bytes == 0:
        if not args.quiet:
            ctx.err.write(f"{name}: invalid: {_nothing(args.offset)}\n")
        return EXIT_INVALID
    if not args.quiet:
        counts = f"{plural(tally.valid, 'message')}, {plural(tally.bytes, 'byte')}"
        where = f" in {plural(parts, 'stream')} of a capture" if parts > 1 else ""
        signed = f", {plural(chain.checked, 'signature')} verified" if chain else ""
        ctx.out.write(f"{name}: OK, {counts}{where}{signed}\n")
    return EXIT_OK


# ---------------------------------------------------------------- encode


def run_encode(args: argparse.Namespace, ctx: Context) -> int:
    source = Source(args.file, json=True)
    written = 0
    with write_binary(args.output) as sink:
        try:
            limits = ctx.limits
            longest = 6 * (limits.max_payload + limits.max_header_block) + (1 << 16)
            values = jsonlayout.iter_json_values(iter_text(source), max_value=longest)
            for number, (line, value) in enumerate(values):
                where = f"message {number} (line {line})"
                described = jsonlayout.message_from_json(value, where)
                encoded = jsonlayout.encode_described(described, ctx.limits, verbatim=args.verbatim)
                for difference in encoded.differences:
                    action = (
                        "wrote the stated value" if args.verbatim else "wrote the encoded value"
                    )
                    ctx.err.write(f"eventstream: warning: {where}: {difference}; {action}\n")
                sink.write(encoded.data)
                written += 1
        except jsonlayout.LayoutError as exc:
            raise invalid_input(f"{source.name}: {exc}") from None
        if not written:
            raise invalid_input(f"{source.name}: no messages in the input (expected JSON objects)")
    return EXIT_OK


# ---------------------------------------------------------------- split


def split_name(prefix: str, index: int) -> str:
    """The file name of message ``index``: ``message-000000.eventstream`` by default."""
    return f"{prefix}{index:06d}.eventstream"


def run_split(args: argparse.Namespace, ctx: Context) -> int:
    (source,) = _sources(args)
    directory = args.out
    if os.sep in args.prefix or (os.altsep and os.altsep in args.prefix):
        raise usage_error("--prefix is a file name prefix, not a path")
    if os.path.exists(directory) and not os.path.isdir(directory):
        raise usage_error(f"--out {directory} is a file; split writes into a directory")
    written = 0
    created = False

    def write(frame: Frame) -> None:
        nonlocal written, created
        if not created:
            try:
                os.makedirs(directory, exist_ok=True)
            except OSError as exc:
                raise usage_error(f"cannot create {directory}: {exc.strerror or exc}") from None
            created = True
        path = os.path.join(directory, split_name(args.prefix, written))
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
        written += 1

    def take(events: List[Event]) -> None:
        for event in events:
            if isinstance(event, Checked):
                write(event.frame)

    tally = Tally()
    for stream in _streams(source):
        scanner = _scanner(args, ctx)
        raw = _scan(scanner, stream.chunks, take)
        tally.add(scanner, stream.label, raw)
        if scanner.faults:
            break
    if tally.faults:
        ctx.err.write(f"eventstream: wrote {written} messages to {directory} before the fault\n")
        _report(ctx, _named(source, tally.label), tally.faults[0], tally.first_raw)
        return EXIT_INVALID
    if tally.bytes == 0:
        raise _empty(source.name, getattr(args, "offset", 0))
    last = f" .. {split_name(args.prefix, written - 1)}" if written > 1 else ""
    ctx.out.write(f"wrote {written} messages to {directory}: {split_name(args.prefix, 0)}{last}\n")
    return EXIT_OK
