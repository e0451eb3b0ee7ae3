"""Exit codes and the one exception type the CLI turns into an exit status."""

from __future__ import annotations

EXIT_OK = 0
"""Every message is valid (or the command did its job)."""
EXIT_INVALID = 1
"""The input is not a valid event stream (for ``encode``: not valid message JSON)."""
EXIT_USAGE = 2
"""Bad options, or a file that cannot be read or written."""
EXIT_INTERNAL = 3
"""A bug in eventstream itself."""
EXIT_INTERRUPTED = 130
"""Stopped with Ctrl-C (outside ``--follow``, where Ctrl-C is the normal way to stop)."""

EXIT_CODES_HELP = """\
exit status:
  0    success: every message is valid
  1    invalid input: not a valid event stream (encode: not valid message JSON;
       --base64/--hex: text that does not decode), or empty input
  2    usage or I/O error: bad options, a missing or unreadable file, unwritable output
  3    internal error (a bug in eventstream; please report it)
  130  interrupted (Ctrl-C)"""


class CliError(Exception):
    """An error to report on one line and turn into an exit status."""

    def __init__(self, message: str, status: int = EXIT_USAGE) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


def usage_error(message: str) -> CliError:
    return CliError(message, EXIT_USAGE)


def invalid_input(message: str) -> CliError:
    return CliError(message, EXIT_INVALID)
