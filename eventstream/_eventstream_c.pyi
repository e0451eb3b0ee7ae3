# Type stub for the compiled cffi module (built from csrc/ by csrc/build_ffi.py).
# cffi's FFI and lib objects are dynamic: attribute access is checked at build time by the
# C compiler, not by mypy.
from typing import Any

ffi: Any
lib: Any
