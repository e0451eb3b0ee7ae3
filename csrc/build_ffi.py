"""cffi builder for ``eventstream._eventstream_c`` (out-of-line API mode).

Used by setup.py through ``cffi_modules=["csrc/build_ffi.py:ffibuilder"]``.
The cdef is the region of csrc/eventstream.h between ``/* cffi:begin */`` and
``/* cffi:end */``, so the binding and the C contract cannot drift; the C sources
include the same header, so a prototype change that the cdef does not match is
a compile error.

Environment:
    EVENTSTREAM_STRICT_CFLAGS=1   add warnings-as-errors (CI only, never for end users)
    EVENTSTREAM_DEBUG_BUILD=1     -O0 -g3, assertions on
    EVENTSTREAM_EXTRA_CFLAGS      appended verbatim (e.g. sanitizer flags)
"""

from __future__ import annotations

import os
import pathlib
import re
import shlex
import sys

from cffi import FFI

CSRC = pathlib.Path(__file__).resolve().parent
ROOT = CSRC.parent
SOURCES = [
    "es_crc32.c",
    "es_crc32_x86.c",
    "es_crc32_arm.c",
    "es_utf8.c",
    "es_decode.c",
    "es_encode.c",
]


def cdef_region(header: pathlib.Path) -> str:
    """The text between the cffi markers of ``header``."""
    text = header.read_text()
    match = re.search(r"/\* cffi:begin \*/(.*?)/\* cffi:end \*/", text, re.S)
    if match is None:
        raise RuntimeError(f"{header}: no /* cffi:begin */ ... /* cffi:end */ region")
    return match.group(1)


def package_version() -> str:
    text = (ROOT / "eventstream" / "_version.py").read_text()
    match = re.search(r"""^__version__\s*=\s*["']([^"']+)["']""", text, re.M)
    if match is None:
        raise RuntimeError("eventstream/_version.py: no __version__")
    return match.group(1)


def compile_args() -> list[str]:
    msvc = sys.platform == "win32" and "GCC" not in sys.version
    if msvc:
        args = ["/O2"]
    elif os.environ.get("EVENTSTREAM_DEBUG_BUILD") == "1":
        args = ["-O0", "-g3", "-UNDEBUG"]
    else:
        args = ["-O3"]
    if os.environ.get("EVENTSTREAM_STRICT_CFLAGS") == "1" and not msvc:
        # The cffi-generated module is compiled with the same flags, so only
        # warnings it is clean of; csrc/ alone gets the full -Wpedantic
        # -Wconversion set from tests/c/Makefile.
        args += ["-Wall", "-Wextra", "-Wno-unused-parameter", "-Werror"]
    args += shlex.split(os.environ.get("EVENTSTREAM_EXTRA_CFLAGS", ""))
    return args


VERSION = package_version()

ffibuilder = FFI()
ffibuilder.cdef(
    cdef_region(CSRC / "eventstream.h")
    + "\nconst char *es_module_version(void);\n"
    # csrc/cffi_gil.h: the size from which a call releases the GIL, and a count of
    # the calls that did (for tests).
    + "#define ES_GIL_FREE_FROM ...\nunsigned long es_gil_free_calls(void);\n"
)
ffibuilder.set_source(
    "eventstream._eventstream_c",
    '#include "eventstream.h"\n'
    f'static const char *es_module_version(void) {{ return "{VERSION}"; }}\n'
    # Which calls release the GIL (big inputs only): see the file.
    '#include "cffi_gil.h"\n',
    # setuptools wants paths relative to the project root, where setup.py runs.
    sources=[f"csrc/{name}" for name in SOURCES],
    include_dirs=["csrc"],
    # A changed header rebuilds the module too (setuptools compares times).
    depends=sorted(f"csrc/{path.name}" for path in CSRC.glob("*.h")),
    extra_compile_args=compile_args(),
    extra_link_args=shlex.split(os.environ.get("EVENTSTREAM_EXTRA_LDFLAGS", "")),
)

if __name__ == "__main__":
    # Standalone build into the source tree (setup.py is the normal way).
    os.chdir(ROOT)
    ffibuilder.compile(tmpdir=".", verbose=True)
