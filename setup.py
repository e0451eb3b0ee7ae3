"""Build script: only what pyproject.toml cannot declare, i.e. the C extension.

``EVENTSTREAM_BUILD_EXT`` chooses what happens to ``eventstream._eventstream_c``:

* ``auto`` (default): build it; if that fails (no compiler, ...), install the
  pure-Python package anyway and say so loudly in the build output.
* ``require``: a failed build fails the install.  ``CIBUILDWHEEL=1`` implies it.
* ``skip``: do not build it (pure-Python install).

The extension itself is described in csrc/build_ffi.py (cffi, out-of-line API mode).
"""

from __future__ import annotations

import os
import platform
import sys
import sysconfig

from setuptools import setup
from setuptools.command.build_ext import build_ext

MODES = ("auto", "require", "skip")
mode = os.environ.get("EVENTSTREAM_BUILD_EXT", "").strip().lower() or "auto"
if mode not in MODES:
    sys.exit(f"EVENTSTREAM_BUILD_EXT={mode!r} is not one of {', '.join(MODES)}")
if mode == "auto" and os.environ.get("CIBUILDWHEEL") == "1":
    mode = "require"  # a wheel without its extension must never be published


def banner(text: str) -> None:
    line = "*" * 76
    print(f"\n{line}\n{text}\n{line}\n", file=sys.stderr, flush=True)


class OptionalBuildExt(build_ext):
    """build_ext that, in ``auto`` mode, turns a failed compile into a notice."""

    def run(self) -> None:
        try:
            super().run()
        except Exception as exc:  # compiler missing, headers missing, ...
            self._failed(exc)

    def build_extension(self, ext) -> None:  # type: ignore[no-untyped-def]
        try:
            super().build_extension(ext)
        except Exception as exc:
            self._failed(exc)
        else:
            banner(f"eventstream: built the C extension {ext.name}")

    def _failed(self, exc: Exception) -> None:
        if mode == "require":
            raise exc
        text = (
            "eventstream: WARNING: the C extension could not be built "
            f"({type(exc).__name__}: {exc}).\n"
            "Installing the pure-Python backend only (slower, same results).\n"
            "Set EVENTSTREAM_BUILD_EXT=require to make this an error."
        )
        banner(text)
        warn_on_terminal(text)
        self._make_wheel_pure()

    def _make_wheel_pure(self) -> None:
        """Tag the wheel py3-none-any: without its extension it is pure Python.

        bdist_wheel reads ``root_is_pure`` after the build, to choose the
        install scheme and the tag, so this reaches the wheel being built.
        """
        self.distribution.ext_modules = []
        bdist_wheel = self.distribution.command_obj.get("bdist_wheel")
        if bdist_wheel is not None:
            bdist_wheel.root_is_pure = True
            bdist_wheel.py_limited_api = False


def warn_on_terminal(text: str) -> None:
    """Show ``text`` on the user's terminal too.

    pip hides a successful build's output unless run with ``-v``, so a
    fallback to pure Python would otherwise go unseen.
    """
    try:
        with open("/dev/tty", "w") as tty:
            tty.write(f"\n{text}\n\n")
    except OSError:
        pass  # no terminal (CI, Windows): the build log has the banner


options = {}
if mode == "skip":
    banner("eventstream: EVENTSTREAM_BUILD_EXT=skip, pure-Python install")
else:
    options["cffi_modules"] = ["csrc/build_ffi.py:ffibuilder"]
    # cffi compiles for the stable ABI on CPython except debug and free-threaded builds; tag the
    # wheel to match (cp39-abi3: one wheel for CPython 3.9 and every later version).
    if (
        platform.python_implementation() == "CPython"
        and not sysconfig.get_config_var("Py_GIL_DISABLED")
        and not hasattr(sys, "gettotalrefcount")
    ):
        options["options"] = {"bdist_wheel": {"py_limited_api": "cp39"}}

setup(cmdclass={"build_ext": OptionalBuildExt}, **options)
