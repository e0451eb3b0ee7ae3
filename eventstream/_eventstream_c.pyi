# Typing stub of the compiled cffi module (csrc/build_ffi.py): ``lib`` holds the
# functions and constants of the cdef region of csrc/eventstream.h.
from typing import Any

ffi: Any
lib: Any
