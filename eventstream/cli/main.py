"""Command-line parsing and the error boundary: bad input never ends in a traceback."""

from __future__ import annotations

import argparse
import contextlib
import errno
import io
import os
import re
import sys
import traceback
from typing import Callable, List, Optional, Sequence, TextIO

import eventstream
from eventstream.limits import (
    DEFAULT_MAX_HEADER_BLOCK,
    DEFAULT_MAX_HEADER_VALUE,
    DEFAULT_MAX_PAYLOAD,
    MAX_WIRE_MESSAGE_LENGTH,
    MAX_WIRE_VALUE_LENGTH,
)

from . import commands
from .color import Palette, want_color
from .errors import (
    EXIT_CODES_HELP,
    EXIT_INTERNAL,
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_USAGE,
    CliError,
    usage_error,
)
from .render import DEFAULT_PREVIEW

PROG = "eventstream"

DESCRIPTION = """\
Debug AWS event streams (application/vnd.amazon.eventstream): the binary framing
under Transcribe streaming, S3 Select, Kinesis SubscribeToShard, Bedrock and Lex."""

EXAMPLES = """\
examples:
  eventstream dump capture.bin                 every message: headers, payload, CRCs
  eventstream dump --json capture.bin > c.jsonl
  eventstream encode c.jsonl -o copy.bin       ... and back, byte for byte
  eventstream inspect broken.bin               annotated bytes, down to the faulty one
  eventstream verify -q capture.bin && echo ok
  eventstream dump --base64 response.txt       base64 or hex text (--hex) instead of bytes
  some-client | eventstream dump --follow -    messages as they arrive
  eventstream split capture.bin --out corpus/  one file per message
  eventstream verify out/*.eventstream         one verdict line per file
  eventstream dump --keep-going --resync x.bin every fault, not just the first
  eventstream dump capture.har                 HTTP and HAR captures are unwrapped
  eventstream dump --json-readable x.bin | jq .headers"""

_SIZE = re.compile(r"^\s*(\d+)\s*([kmg]?)(i?b)?\s*$", re.I)
_UNITS = {"": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30}


def parse_size(text: str) -> int:
    """``24M``, ``128k``, ``32767`` -> bytes (K, M, G are powers of 1024)."""
    match = _SIZE.match(text)
    if not match:
        raise argparse.ArgumentTypeError(f"not a size: {text!r} (use e.g. 32767, 128K, 24M)")
    return int(match.group(1)) * _UNITS[match.group(2).lower()]


def parse_seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {text!r}") from None
    if not value >= 0:
        raise argparse.ArgumentTypeError(f"seconds must be 0 or more, got {text!r}")
    return value


def parse_count(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more, got {text!r}")
    return value


class _Formatter(argparse.RawDescriptionHelpFormatter):
    def __init__(self, prog: str) -> None:
        super().__init__(prog, max_help_position=30)


def _input_options(parser: argparse.ArgumentParser, many: bool = True) -> None:
    if many:
        parser.add_argument(
            "files",
            metavar="FILE",
            nargs="+",
            help="input files, or '-' for stdin; HTTP/1.1 captures and HAR files are unwrapped",
        )
    else:
        parser.add_argument("files", metavar="FILE", help="input file, or '-' for stdin")
    encoding = parser.add_mutually_exclusive_group()
    encoding.add_argument(
        "--base64",
        action="store_true",
        help="the input is base64 text (whitespace and URL-safe alphabet accepted)",
    )
    encoding.add_argument(
        "--hex",
        action="store_true",
        help="the input is hex text (whitespace, 0x, \\x, commas and colons accepted)",
    )


def _recovery_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group(
        "damaged streams", "by default the first fault ends the run (exit 1)"
    )
    group.add_argument(
        "--keep-going",
        action="store_true",
        help="after a message whose prelude is intact (so its length can be trusted), "
        "go on to the next one, reporting every fault",
    )
    group.add_argument(
        "--resync",
        action="store_true",
        help="after a prelude that cannot be trusted, scan for the next valid prelude "
        "and report the bytes skipped",
    )
    group.add_argument(
        "--offset",
        type=parse_size,
        default=0,
        metavar="BYTES",
        help="start reading at this byte of the stream (K, M, G suffixes allowed)",
    )
    group.add_argument(
        "--count",
        type=parse_count,
        metavar="N",
        help="stop after N messages",
    )
    group.add_argument(
        "--no-nested",
        action="store_true",
        help="do not decode or check payloads that are themselves event-stream messages",
    )
    signed = parser.add_argument_group(
        "signatures",
        "check the :chunk-signature chain of SigV4-signed frames; credentials come from\n"
        "AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN",
    )
    signed.add_argument(
        "--seed-signature",
        metavar="HEX",
        help="signature of the request that opened the stream (X-Amz-Signature)",
    )
    signed.add_argument("--region", metavar="REGION", help="the region the stream was signed for")
    signed.add_argument(
        "--service", default="transcribe", metavar="NAME", help="signing name (default transcribe)"
    )


def _limit_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group(
        "limits", "bounds checked before anything is buffered (K, M, G suffixes: powers of 1024)"
    )
    group.add_argument(
        "--max-payload",
        type=parse_size,
        metavar="SIZE",
        default=DEFAULT_MAX_PAYLOAD,
        help="largest payload of one message (default 24M)",
    )
    group.add_argument(
        "--max-header-block",
        type=parse_size,
        metavar="SIZE",
        default=DEFAULT_MAX_HEADER_BLOCK,
        help="largest encoded header block (default 128K)",
    )
    group.add_argument(
        "--max-header-value",
        type=parse_size,
        metavar="SIZE",
        default=DEFAULT_MAX_HEADER_VALUE,
        help="longest string or bytes header value (default 32767)",
    )
    group.add_argument(
        "--no-limits", action="store_true", help="allow everything the wire format can express"
    )


def _color_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--color",
        choices=("auto", "always", "never"),
        default="auto",
        help="colour the output (auto: only on a terminal, and not if NO_COLOR is set)",
    )
    parser.add_argument(
        "--no-color",
        dest="color",
        action="store_const",
        const="never",
        help="same as --color never",
    )


def _view_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--full", action="store_true", help="show whole payloads, not a preview")
    parser.add_argument(
        "--preview",
        type=parse_count,
        default=DEFAULT_PREVIEW,
        metavar="BYTES",
        help=f"bytes of a binary payload shown without --full (default {DEFAULT_PREVIEW})",
    )


def _subparser(
    subparsers: argparse._SubParsersAction[argparse.ArgumentParser],
    name: str,
    summary: str,
    description: str,
    handler: Callable[[argparse.Namespace, commands.Context], int],
) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(
        name,
        help=summary,
        description=description,
        epilog=EXIT_CODES_HELP,
        formatter_class=_Formatter,
    )
    parser.set_defaults(handler=handler)
    return parser


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG,
        description=DESCRIPTION,
        epilog=EXAMPLES + "\n\n" + EXIT_CODES_HELP,
        formatter_class=_Formatter,
    )
    parser.add_argument(
        "--version",
        action="version",
        version=f"%(prog)s {eventstream.__version__} (backend: {eventstream.BACKEND})",
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")

    dump = _subparser(
        subparsers,
        "dump",
        "decode a stream and print each message",
        "Decode a stream and print each message: index, byte offset, lengths, CRCs,\n"
        "headers with their wire types, and the payload rendered by content\n"
        "(JSON pretty-printed, text, a hex preview, or a nested event-stream\n"
        "message such as a signed Transcribe audio event, decoded).",
        commands.run_dump,
    )
    _input_options(dump)
    dump.add_argument(
        "--json",
        action="store_true",
        help="one JSON object per message in the aws-c / Go SDK debug layout (what `encode` reads)",
    )
    dump.add_argument(
        "--json-readable",
        action="store_true",
        help="one JSON object per message with text strings, type names and JSON payloads "
        "inline (for jq; `encode` reads it too)",
    )
    dump.add_argument(
        "--follow",
        "-f",
        action="store_true",
        help="keep reading a growing file, from the start again if it is truncated or "
        "rotated; Ctrl-C stops (pipes end at EOF anyway)",
    )
    dump.add_argument(
        "--idle-timeout",
        type=parse_seconds,
        metavar="SECONDS",
        help="with --follow: stop after this long without new bytes",
    )
    _recovery_options(dump)
    _view_options(dump)
    _limit_options(dump)
    _color_options(dump)

    inspect = _subparser(
        subparsers,
        "inspect",
        "annotated hex view of every field; stops at the first fault",
        "Show every byte with what it is: the prelude (total_length, headers_length),\n"
        "each CRC with its computed value and OK/MISMATCH, each header's name, type,\n"
        "length and value, the payload.  At a fault it stops, shows the surrounding\n"
        "bytes and says what was expected there.  Input that is not an event stream\n"
        "(JSON, SSE, HTML, XML, an HTTP response head, gzip, text) is named as such.",
        commands.run_inspect,
    )
    _input_options(inspect)
    inspect.add_argument(
        "--faults-only",
        action="store_true",
        help="one line per valid message; annotate only the faulty one",
    )
    _recovery_options(inspect)
    _view_options(inspect)
    _limit_options(inspect)
    _color_options(inspect)

    verify = _subparser(
        subparsers,
        "verify",
        "exit 0 if every message is valid, else 1 with a one-line reason",
        "Check every message, and every message nested in a payload.  Prints one\n"
        "line per file (with the byte offset of the first fault) and exits 0 if every\n"
        "stream is valid, 1 if not.  Empty input is invalid.",
        commands.run_verify,
    )
    _input_options(verify)
    verify.add_argument(
        "--quiet", "-q", action="store_true", help="print nothing; use the exit status"
    )
    _recovery_options(verify)
    _limit_options(verify)

    encode = _subparser(
        subparsers,
        "encode",
        "JSON messages (the dump --json layout) to a binary stream",
        "Read messages in the `dump --json` or the `dump --json-readable` layout (told\n"
        "apart by themselves; JSON lines, pretty-printed objects or an array) and write\n"
        "the binary stream.  `eventstream dump --json X | eventstream encode -o Y`\n"
        "gives Y == X (and so does --json-readable).\n"
        "Lengths and CRCs are computed; stated ones that differ draw a warning.",
        commands.run_encode,
    )
    encode.add_argument(
        "file",
        metavar="FILE",
        nargs="?",
        default="-",
        help="JSON input; '-' or nothing reads stdin",
    )
    encode.add_argument(
        "-o",
        "--output",
        default="-",
        metavar="OUT",
        help="where to write the bytes (default: stdout, if it is not a terminal)",
    )
    encode.add_argument(
        "--verbatim",
        action="store_true",
        help="write total_length, headers_length and the CRCs exactly as stated, "
        "even if wrong (to build broken frames for tests)",
    )
    _limit_options(encode)

    split = _subparser(
        subparsers,
        "split",
        "write each message to its own file",
        "Write each message's exact bytes to DIR/PREFIX000000.eventstream,\n"
        "DIR/PREFIX000001.eventstream, ... (for fuzz corpora and test cases).\n"
        "Messages before a fault are written; the fault is reported (exit 1).",
        commands.run_split,
    )
    _input_options(split, many=False)
    split.add_argument(
        "--out",
        "-o",
        required=True,
        metavar="DIR",
        help="directory to write to (created when the first message is written)",
    )
    split.add_argument("--prefix", default="message-", help="file name prefix (default 'message-')")
    split.add_argument("--force", action="store_true", help="overwrite existing files")
    _limit_options(split)
    from .serve import add_serve_command  # the offline test servers of eventstream.testing

    add_serve_command(subparsers, _subparser)
    return parser


def _limits(args: argparse.Namespace) -> eventstream.Limits:
    if getattr(args, "no_limits", False):
        return eventstream.Limits.checked(
            MAX_WIRE_MESSAGE_LENGTH, MAX_WIRE_MESSAGE_LENGTH, MAX_WIRE_VALUE_LENGTH
        )
    if not hasattr(args, "max_payload"):
        return eventstream.DEFAULT_LIMITS
    try:
        return eventstream.Limits.checked(
            args.max_payload, args.max_header_block, args.max_header_value
        )
    except ValueError as exc:
        raise usage_error(f"bad limit: {exc}") from None


def _tolerant(stream: object) -> None:
    """Never fail on a character the terminal's encoding lacks."""
    reconfigure = getattr(stream, "reconfigure", None)
    if reconfigure is not None:
        with contextlib.suppress(ValueError, OSError):  # a detached or odd stream
            reconfigure(errors="backslashreplace")


class _Closed(io.TextIOBase):
    """Standard output when the process was started with it closed (``>&-``)."""

    def write(self, text: str) -> int:
        raise OSError(errno.EBADF, "standard output is closed")

    def isatty(self) -> bool:
        return False


def _silence_stdout() -> None:
    """After a broken pipe, stop Python from complaining when it flushes stdout at exit."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, AttributeError, ValueError):
        pass


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Run the CLI with ``argv`` (default ``sys.argv[1:]``); returns the exit status."""
    arguments: List[str] = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    try:
        args = parser.parse_args(arguments)
    except SystemExit as exc:  # --help, --version, or a usage error already printed
        return (
            exc.code if isinstance(exc.code, int) else (EXIT_OK if exc.code is None else EXIT_USAGE)
        )
    if args.command is None:
        parser.print_usage(sys.stderr)
        sys.stderr.write(
            f"{PROG}: error: choose a command (dump, inspect, verify, encode, split)\n"
        )
        return EXIT_USAGE
    out: TextIO = sys.stdout if sys.stdout is not None else _Closed()  # type: ignore[assignment]
    err: TextIO = sys.stderr if sys.stderr is not None else io.StringIO()
    _tolerant(out)
    _tolerant(err)
    try:
        if getattr(args, "idle_timeout", None) is not None and not args.follow:
            raise usage_error("--idle-timeout needs --follow")
        palette = Palette(want_color(getattr(args, "color", "never"), out))
        context = commands.Context(out, err, palette, _limits(args))
        status = int(args.handler(args, context))
        out.flush()  # a full disk shows here, while it can still be reported
        return status
    except CliError as exc:
        err.write(f"{PROG}: {exc.message}\n")
        return exc.status
    except KeyboardInterrupt:
        err.write(f"{PROG}: interrupted\n")
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        _silence_stdout()
        return EXIT_OK
    except OSError as exc:  # reading errors are CliErrors already: this is the output
        _silence_stdout()
        with contextlib.suppress(OSError, ValueError):
            err.write(f"{PROG}: cannot write the output: {exc.strerror or exc}\n")
        return EXIT_USAGE
    except Exception as exc:  # a bug: say so in one line, traceback on request
        err.write(
            f"{PROG}: internal error: {type(exc).__name__}: {exc}\n"
            f"{PROG}: this is a bug in eventstream {eventstream.__version__}; please report it "
            "(set EVENTSTREAM_DEBUG=1 for the traceback)\n"
        )
        if os.environ.get("EVENTSTREAM_DEBUG"):
            traceback.print_exc(file=err)
        return EXIT_INTERNAL
