"""Model-loading settings that `llama_cpp.Llama` does not take as arguments.

`Llama.__init__` starts from `llama_model_default_params()` and sets only the fields it has
arguments for; `model_defaults` makes that function return other defaults while one model loads.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

_LOCK = threading.Lock()


@functools.cache
def cpu_has_amx() -> bool:
    """Whether this CPU has Intel AMX (Linux: the `amx_int8` flag in /proc/cpuinfo)."""
    try:
        text = Path("/proc/cpuinfo").read_text(encoding="ascii", errors="replace")
    except OSError:
        return False
    return any(line.startswith("flags") and " amx_int8" in line for line in text.splitlines())


@contextmanager
def model_defaults(**fields: Any) -> Iterator[None]:
    """Within the block, llama.cpp's default model parameters have `fields` set."""
    import llama_cpp.llama_cpp as low

    with _LOCK:
        original = low.llama_model_default_params

        def defaults() -> Any:
            params = original()
            for name, value in fields.items():
                setattr(params, name, value)
            return params

        low.llama_model_default_params = defaults
        try:
            yield
        finally:
            low.llama_model_default_params = original
