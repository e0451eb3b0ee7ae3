"""``eventstream serve transcribe|bedrock``: an offline test server from the command line."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
from typing import Any, Callable, Optional, TextIO

from .errors import EXIT_OK, CliError, usage_error

__all__ = ["add_serve_command", "run_serve"]

DESCRIPTION = """\
Start an offline server that behaves like an AWS event-stream service, for testing a
client without an AWS account (loopback only unless --host says otherwise).  It prints
its URL and the test credentials to sign with, then serves until Ctrl-C or --duration.

  transcribe  Amazon Transcribe streaming: WebSocket (presigned URL) and HTTP/2 (h2c);
              answers with the scripted transcript (needs: pip install 'eventstream[server]')
  bedrock     Bedrock response streams over HTTP/1.1: POST /model/ID/converse-stream
              or /model/ID/invoke-with-response-stream; --fault makes every answer fail"""


# The fault kinds of eventstream.testing.servers.bedrock.BEDROCK_FAULTS (a test keeps the two
# lists equal): spelled out here so that building the CLI's parser imports no server code.
FAULT_KINDS = (
    "exception",
    "error-frame",
    "stop",
    "cut",
    "drop",
    "json-error",
    "throttle",
    "html",
    "trickle",
)


def add_serve_command(subparsers: Any, make_subparser: Callable[..., Any]) -> None:
    """Register ``serve`` with the CLI's own subparser helper."""
    parser = make_subparser(
        subparsers,
        "serve",
        "run an offline Transcribe or Bedrock test server",
        DESCRIPTION,
        run_serve,
    )
    parser.add_argument("service", choices=("transcribe", "bedrock"), help="what to imitate")
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument(
        "--allow-remote",
        action="store_true",
        help="allow a --host that is not a loopback address",
    )
    parser.add_argument(
        "--port", type=_port, default=0, help="port (default: a free one, printed at start)"
    )
    parser.add_argument(
        "--http2-port", type=_port, default=0, help="transcribe: the HTTP/2 port (default: free)"
    )
    parser.add_argument(
        "--script",
        metavar="FILE",
        help="text file, one phrase per line: transcribe's final segments, bedrock's answers",
    )
    parser.add_argument(
        "--seconds-per-word",
        type=float,
        default=0.25,
        metavar="S",
        help="transcribe: audio that makes one scripted word heard (default 0.25)",
    )
    parser.add_argument(
        "--audio-timeout",
        type=float,
        default=15.0,
        metavar="S",
        help="transcribe: seconds without audio before the timeout exception (default 15)",
    )
    parser.add_argument("--region", default="us-east-1", help="transcribe: signing region")
    parser.add_argument(
        "--tls",
        action="store_true",
        help="transcribe: wss:// and HTTP/2 over TLS with a throwaway self-signed certificate "
        "(its file is printed; needs the openssl command)",
    )
    parser.add_argument(
        "--fault",
        metavar="KIND[@N]",
        help="bedrock: fail every answer, N frames in: " + ", ".join(FAULT_KINDS),
    )
    parser.add_argument(
        "--duration",
        type=float,
        metavar="S",
        help="stop by itself after S seconds (default: run until Ctrl-C)",
    )


def _port(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a port number: {text!r}") from None
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"port must be 0 to 65535, got {value}")
    return value


def run_serve(args: argparse.Namespace, context: Any) -> int:
    server = _build(args)
    # Ctrl-C is the normal way to stop; the server closes on the way out.
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_serve(server, args.service, args.duration, context.out))
    context.err.write("eventstream: server stopped\n")
    return EXIT_OK


def _build(args: argparse.Namespace) -> Any:
    if args.duration is not None and not args.duration > 0:
        raise usage_error("--duration must be more than 0 seconds")
    try:
        if args.service == "bedrock":
            from ..testing.servers.bedrock import BedrockServer, parse_fault

            if args.http2_port or args.tls:
                raise usage_error("--http2-port and --tls are for transcribe")
            fault = parse_fault(args.fault) if args.fault else None
            return BedrockServer(
                args.script,
                fault=fault,
                host=args.host,
                port=args.port,
                allow_remote=args.allow_remote,
            )
        if args.fault:
            raise usage_error("--fault is for bedrock")
        try:
            from ..testing.servers.transcribe import TranscribeServer
        except ImportError as exc:
            raise CliError(str(exc)) from None
        return TranscribeServer(
            args.script,
            region=args.region,
            seconds_per_word=args.seconds_per_word,
            audio_timeout=args.audio_timeout,
            host=args.host,
            port=args.port,
            http2_port=args.http2_port,
            allow_remote=args.allow_remote,
            tls=args.tls,
        )
    except (ValueError, OSError) as exc:
        raise usage_error(f"serve {args.service}: {exc}") from None


async def _serve(server: Any, service: str, duration: Optional[float], out: TextIO) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    with contextlib.suppress(NotImplementedError, AttributeError, RuntimeError):
        loop.add_signal_handler(signal.SIGTERM, stop.set)
    try:
        await server.start()
    except (OSError, RuntimeError) as exc:
        raise usage_error(f"cannot start: {exc}") from None
    try:
        _announce(server, service, out)
        if duration is None:
            await stop.wait()
        else:
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(stop.wait(), duration)
    finally:
        await server.close()


def _announce(server: Any, service: str, out: TextIO) -> None:
    if service == "bedrock":
        lines = [
            f"bedrock test server on {server.endpoint}",
            f"  ConverseStream:                POST {server.url('MODEL', 'converse-stream')}",
            "  InvokeModelWithResponseStream: "
            f"POST {server.url('MODEL', 'invoke-with-response-stream')}",
            "  fault: " + (f"{server.fault.kind}@{server.fault.after}" if server.fault else "none"),
        ]
    else:
        creds = server.credentials
        lines = [
            "transcribe test server",
            f"  websocket: {server.websocket_endpoint}/stream-transcription-websocket",
            f"  http2:     {server.http2_endpoint}/stream-transcription "
            + ("(TLS, ALPN h2)" if server.tls else "(h2c, prior knowledge)"),
            f"  region:    {server.region}",
            *(
                [f"  certificate to trust: {server.certificate.cert_file}"]
                if server.certificate
                else []
            ),
            "  test credentials (sign with these):",
            f"    AWS_ACCESS_KEY_ID={creds.access_key}",
            f"    AWS_SECRET_ACCESS_KEY={creds.secret_key}",
            f"  a presigned URL valid for 300 s: {server.websocket_url()}",
        ]
    out.write("\n".join(lines) + "\n")
    out.flush()
