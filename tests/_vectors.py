"""Loading the conformance vectors in tests/vectors (see its README and NOTICE)."""

from __future__ import annotations

import base64
import json
import uuid
from pathlib import Path
from typing import Dict, List, NamedTuple, Tuple

from eventstream import Header, HeaderType

ROOT = Path(__file__).parent / "vectors"


class Positive(NamedTuple):
    name: str
    raw: bytes
    expected: Dict  # the decoded JSON description


def _header_from_json(item: Dict) -> Header:
    """A Header from the vector JSON layout (value encodings in the vectors README)."""
    htype = HeaderType(item["type"])
    value = item["value"]
    if htype in (HeaderType.BYTES, HeaderType.STRING, HeaderType.UUID):
        raw = base64.b64decode(value)
        if htype is HeaderType.STRING:
            value = raw.decode("utf-8")
        elif htype is HeaderType.UUID:
            value = uuid.UUID(bytes=raw)
        else:
            value = raw
    return Header(item["name"], htype, value)


def expected_headers(description: Dict) -> List[Header]:
    return [_header_from_json(item) for item in description["headers"]]


def expected_payload(description: Dict) -> bytes:
    return base64.b64decode(description["payload"])


def positive_vectors() -> List[Positive]:
    found = []
    for encoded_dir, decoded_dir in (
        (ROOT / "encoded" / "positive", ROOT / "decoded" / "positive"),
        (ROOT / "smithy-rs" / "encoded" / "positive", ROOT / "smithy-rs" / "decoded" / "positive"),
    ):
        for path in sorted(encoded_dir.iterdir()):
            description = json.loads((decoded_dir / path.name).read_text())
            found.append(
                Positive(
                    f"{encoded_dir.parent.parent.name}/{path.name}", path.read_bytes(), description
                )
            )
    return found


def main_negative_vectors() -> List[Tuple[str, bytes, str]]:
    """(name, bytes, expected error text) of the aws-sdk-go negative set."""
    return [
        (path.name, path.read_bytes(), (ROOT / "decoded" / "negative" / path.name).read_text())
        for path in sorted((ROOT / "encoded" / "negative").iterdir())
    ]


def smithy_negative_vectors() -> List[Tuple[str, bytes]]:
    return [
        (path.name, path.read_bytes())
        for path in sorted((ROOT / "smithy-rs" / "encoded" / "negative").iterdir())
    ]
