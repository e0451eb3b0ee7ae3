"""Audio input and credentials for the Transcribe examples (standard library only).

``open_audio(path, ...)`` reads a ``.wav`` file (16-bit PCM; its sample rate and channel
count are used), raw 16-bit little-endian PCM (a file, or ``-`` for stdin), or generates
silence; it yields chunks of ``chunk_ms`` milliseconds.  ``add_common_arguments`` and
``credentials_from_args`` give both examples the same command line.
"""

from __future__ import annotations

import argparse
import os
import sys
import wave
from typing import BinaryIO, Iterator, NamedTuple, Optional

from eventstream.sigv4 import Credentials, CredentialsError
from eventstream.transcribe import silence


class Audio(NamedTuple):
    chunks: Iterator[bytes]
    sample_rate: int
    channels: int
    chunk_seconds: float


def _read_chunks(source: BinaryIO, size: int) -> Iterator[bytes]:
    while True:
        chunk = source.read(size)
        if not chunk:
            return
        yield chunk


def _wav_chunks(path: str, frames: int) -> Iterator[bytes]:
    with wave.open(path, "rb") as wav:
        while True:
            chunk = wav.readframes(frames)
            if not chunk:
                return
            yield chunk


def _file_chunks(path: str, size: int) -> Iterator[bytes]:
    with open(path, "rb") as source:
        yield from _read_chunks(source, size)


def open_audio(
    path: Optional[str],
    *,
    silence_seconds: Optional[float] = None,
    sample_rate: int = 16000,
    channels: int = 1,
    chunk_ms: int = 100,
) -> Audio:
    """The audio to send: ``path`` (``.wav``, raw PCM or ``-``), or silence."""
    if chunk_ms <= 0:
        raise ValueError("chunk_ms must be positive")
    if path is not None and path.lower().endswith(".wav"):
        with wave.open(path, "rb") as wav:
            if wav.getsampwidth() != 2 or wav.getcomptype() != "NONE":
                raise ValueError(f"{path}: Transcribe takes 16-bit PCM WAV files")
            sample_rate, channels = wav.getframerate(), wav.getnchannels()
        frames = sample_rate * chunk_ms // 1000
        return Audio(_wav_chunks(path, frames), sample_rate, channels, chunk_ms / 1000)
    size = sample_rate * chunk_ms // 1000 * 2 * channels
    if path == "-":
        chunks = _read_chunks(sys.stdin.buffer, size)
    elif path is not None:
        chunks = _file_chunks(path, size)
    elif silence_seconds is not None:
        total = int(silence_seconds * 1000)
        chunks = (
            silence(min(chunk_ms, total - start), sample_rate, channels=channels)
            for start in range(0, total, chunk_ms)
        )
    else:
        raise ValueError("give an audio file, '-' for stdin, or --silence SECONDS")
    return Audio(chunks, sample_rate, channels, chunk_ms / 1000)


def add_common_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "audio", nargs="?", help="a .wav file, raw 16-bit little-endian PCM, or - for stdin"
    )
    parser.add_argument("--silence", type=float, metavar="SECONDS", help="send silence instead")
    parser.add_argument("--endpoint", help="URL of another server, e.g. a local test server")
    parser.add_argument(
        "--region",
        default=os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1",
    )
    parser.add_argument("--access-key", help="default: $AWS_ACCESS_KEY_ID")
    parser.add_argument("--secret-key", help="default: $AWS_SECRET_ACCESS_KEY")
    parser.add_argument("--session-token", help="default: $AWS_SESSION_TOKEN")
    parser.add_argument("--language-code", default="en-US")
    parser.add_argument("--sample-rate", type=int, default=16000, help="for raw PCM and silence")
    parser.add_argument("--channels", type=int, default=1, help="2: channel identification")
    parser.add_argument(
        "--stability",
        choices=("high", "medium", "low"),
        help="turn partial-results stabilization on at this level",
    )
    parser.add_argument("--chunk-ms", type=int, default=100, help="audio per event (ms)")
    parser.add_argument(
        "--pace",
        type=float,
        default=1.0,
        help="send audio at this multiple of real time's delay (0: as fast as possible)",
    )


def credentials_from_args(args: argparse.Namespace) -> Credentials:
    """Credentials from --access-key/--secret-key/--session-token, else the environment."""
    if args.access_key or args.secret_key:
        if not (args.access_key and args.secret_key):
            raise CredentialsError("give both --access-key and --secret-key")
        token = args.session_token or os.environ.get("AWS_SESSION_TOKEN") or None
        return Credentials(args.access_key, args.secret_key, token)
    credentials = Credentials.from_env()
    if args.session_token:
        return Credentials(credentials.access_key, credentials.secret_key, args.session_token)
    return credentials


def transcribe_options(args: argparse.Namespace) -> dict:  # type: ignore[type-arg]
    """The optional Transcribe parameters the common arguments ask for."""
    options: dict = {}  # type: ignore[type-arg]
    if args.stability:
        options["enable_partial_results_stabilization"] = True
        options["partial_results_stability"] = args.stability
    if args.channels > 1:
        options["enable_channel_identification"] = True
        options["number_of_channels"] = args.channels
    return options
