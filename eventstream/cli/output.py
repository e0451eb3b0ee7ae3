"""Writing bytes out: to stdout (never a terminal) or to a file that appears only when complete."""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile
from typing import BinaryIO, Iterator

from .errors import usage_error


def _stdout_bytes() -> BinaryIO:
    stdout = sys.stdout
    if stdout is None:
        raise usage_error("there is no standard output (it is closed); use -o FILE")
    isatty = getattr(stdout, "isatty", None)
    try:
        terminal = isatty is not None and isatty()
    except ValueError:  # a closed stream
        terminal = False
    if terminal:
        raise usage_error(
            "refusing to write binary data to a terminal; use -o FILE or redirect the output"
        )
    sink = getattr(stdout, "buffer", None)
    if sink is None:
        raise usage_error("standard output does not take bytes; use -o FILE")
    return sink  # type: ignore[no-any-return]


@contextlib.contextmanager
def write_binary(path: str) -> Iterator[BinaryIO]:
    """A binary sink for ``path`` (``-``: stdout).

    A file is written under a temporary name and renamed when the block ends
    without an error, so a failed run leaves no half-written output behind.
    """
    if path == "-":
        sink = _stdout_bytes()
        yield sink
        sink.flush()
        return
    if os.path.exists(path) and not os.path.isfile(path):  # a device or a pipe: write to it
        try:
            with open(path, "wb") as handle:
                yield handle
        except OSError as exc:
            raise usage_error(f"cannot write {path}: {exc.strerror or exc}") from None
        return
    directory = os.path.dirname(os.path.abspath(path))
    try:
        fd, temporary = tempfile.mkstemp(prefix=".eventstream-", dir=directory)
    except OSError as exc:
        raise usage_error(f"cannot write {path}: {exc.strerror or exc}") from None
    try:
        with os.fdopen(fd, "wb") as handle:
            yield handle
        mask = os.umask(0)
        os.umask(mask)
        os.chmod(temporary, 0o666 & ~mask)
        os.replace(temporary, path)
    except OSError as exc:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise usage_error(f"cannot write {path}: {exc.strerror or exc}") from None
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise
