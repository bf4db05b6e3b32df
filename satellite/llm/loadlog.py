"""llama.cpp's own words on why a model did not load.

llama-cpp-python raises a bare "Failed to load model from file" and, unless verbose, hides
llama.cpp's log, which says why ("unknown model architecture: 'mamba9'", "tensor … data is
not within the file bounds"). `LoadLog` catches the log while a model loads and gives back its
error, so the message can name the file and the reason.
"""

from __future__ import annotations

import ctypes
from types import TracebackType
from typing import Any, Final

_MARK: Final = "error loading model"


class LoadLog:
    """A context manager: llama.cpp's log while it is active."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self._callback: Any = None

    def __enter__(self) -> LoadLog:
        import llama_cpp

        def catch(level: int, text: bytes, _user: ctypes.c_void_p) -> None:
            self.lines.append(text.decode("utf-8", "replace"))

        self._callback = llama_cpp.llama_log_callback(catch)  # kept alive while llama.cpp holds it
        llama_cpp.llama_log_set(self._callback, ctypes.c_void_p(0))
        return self

    def __exit__(
        self, kind: type[BaseException] | None, err: BaseException | None, tb: TracebackType | None
    ) -> None:
        import llama_cpp
        from llama_cpp import _logger

        llama_cpp.llama_log_set(_logger.llama_log_callback, ctypes.c_void_p(0))

    def reason(self) -> str:
        """The most specific error llama.cpp gave (empty when it logged none)."""
        lines = [" ".join(line.split()) for line in "".join(self.lines).splitlines()]
        for line in reversed(lines):
            if _MARK in line:
                return line[line.rindex(_MARK) + len(_MARK) :].lstrip(": ")[:300]
        errors = [line for line in lines if "error" in line.lower() or "failed" in line.lower()]
        return errors[-1][:300] if errors else ""
