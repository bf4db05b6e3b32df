"""TensorFlow Lite's C API through ctypes: the one place that runs `.tflite` models.

The library is `libtensorflowlite_c`, as the `pymicro-wakeword` wheel ships it (Linux x86_64 and
aarch64, glibc 2.35 or newer) or any build of TensorFlow Lite's stable C API named by path. Only
what a quantised streaming model needs is bound: load, one thread, allocate, the first input and
output tensor with their shape, type and quantisation, copy in, invoke, copy out.

A streaming model keeps its state in resource variables inside the interpreter; `Interpreter
.reset` creates a new interpreter on the same loaded model, which starts from the initial state.
"""

from __future__ import annotations

import contextlib
import ctypes
import importlib.util
import platform
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import numpy as np

from satellite.errors import ModelError

WHEEL: Final = "pymicro-wakeword"
"""The package whose bundled TensorFlow Lite library is used when none is named."""
PLATFORMS: Final = (("linux", "x86_64"), ("linux", "aarch64"))
"""(sys.platform, machine) pairs the wheel has a library for."""
_TYPES: Final[dict[int, type[np.generic]]] = {1: np.float32, 3: np.uint8, 9: np.int8}
"""TfLiteType → numpy dtype, for the types a quantised model uses."""


class TfLiteError(ModelError):
    """TensorFlow Lite cannot be loaded here, or a model cannot be run with it."""


class _QuantizationParams(ctypes.Structure):
    _fields_ = (("scale", ctypes.c_float), ("zero_point", ctypes.c_int32))


_P = ctypes.c_void_p
_SIGNATURES: Final = {
    "TfLiteVersion": ([], ctypes.c_char_p),
    "TfLiteModelCreateFromFile": ([ctypes.c_char_p], _P),
    "TfLiteModelDelete": ([_P], None),
    "TfLiteInterpreterOptionsCreate": ([], _P),
    "TfLiteInterpreterOptionsSetNumThreads": ([_P, ctypes.c_int32], None),
    "TfLiteInterpreterOptionsDelete": ([_P], None),
    "TfLiteInterpreterCreate": ([_P, _P], _P),
    "TfLiteInterpreterDelete": ([_P], None),
    "TfLiteInterpreterAllocateTensors": ([_P], ctypes.c_int),
    "TfLiteInterpreterInvoke": ([_P], ctypes.c_int),
    "TfLiteInterpreterGetInputTensorCount": ([_P], ctypes.c_int32),
    "TfLiteInterpreterGetOutputTensorCount": ([_P], ctypes.c_int32),
    "TfLiteInterpreterGetInputTensor": ([_P, ctypes.c_int32], _P),
    "TfLiteInterpreterGetOutputTensor": ([_P, ctypes.c_int32], _P),
    "TfLiteTensorType": ([_P], ctypes.c_int),
    "TfLiteTensorNumDims": ([_P], ctypes.c_int32),
    "TfLiteTensorDim": ([_P, ctypes.c_int32], ctypes.c_int32),
    "TfLiteTensorByteSize": ([_P], ctypes.c_size_t),
    "TfLiteTensorQuantizationParams": ([_P], _QuantizationParams),
    "TfLiteTensorCopyFromBuffer": ([_P, _P, ctypes.c_size_t], ctypes.c_int),
    "TfLiteTensorCopyToBuffer": ([_P, _P, ctypes.c_size_t], ctypes.c_int),
}


def unsupported_platform(system: str, machine: str) -> str | None:
    """Why the wheel's library cannot run on `system`/`machine`, or None when it can."""
    machine = {"amd64": "x86_64", "arm64": "aarch64"}.get(machine.lower(), machine.lower())
    if (system, machine) in PLATFORMS:
        return None
    return (
        f"{WHEEL} ships TensorFlow Lite for Linux x86_64 and aarch64 only, not for "
        f"{system} {machine} (a 32-bit Raspberry Pi OS is armv7l: use the 64-bit one)"
    )


def wheel_library(system: str = sys.platform, machine: str = "") -> Path:
    """The TensorFlow Lite C library inside the installed `pymicro-wakeword` wheel, on
    `system` and `machine` (default: this one)."""
    problem = unsupported_platform(system, machine or platform.machine())
    if problem is not None:
        raise TfLiteError(problem)
    spec = importlib.util.find_spec(WHEEL.replace("-", "_"))
    if spec is None or not spec.submodule_search_locations:
        raise TfLiteError(
            f"the {WHEEL} package is not installed: pip install 'satellite[micro]' "
            f"(Python 3.11-3.13, glibc 2.35 or newer)"
        )
    folder = Path(next(iter(spec.submodule_search_locations))) / "lib"
    found = sorted(folder.glob("libtensorflowlite_c*.so*"))
    if not found:
        raise TfLiteError(f"no libtensorflowlite_c in {folder} (reinstall {WHEEL})")
    return found[0]


class TfLite:
    """The loaded library, with the signatures of the functions used here."""

    def __init__(self, path: Path) -> None:
        if not path.is_file():
            raise TfLiteError(f"TensorFlow Lite library not found: {path}")
        try:
            lib = ctypes.CDLL(str(path))
        except OSError as err:
            raise TfLiteError(f"cannot load TensorFlow Lite from {path}: {err}") from err
        for name, (args, result) in _SIGNATURES.items():
            try:
                function = getattr(lib, name)
            except AttributeError as err:
                raise TfLiteError(f"{path} is not TensorFlow Lite's C library: {err}") from err
            function.argtypes = args
            function.restype = result
        self.lib = lib
        self.path = path
        self.version = str(lib.TfLiteVersion().decode())


@dataclass(frozen=True)
class TensorInfo:
    shape: tuple[int, ...]
    dtype: type[np.generic]
    """np.float32, np.uint8 or np.int8."""
    scale: float
    zero_point: int


class Interpreter:
    """One model on one thread, with its first input and first output tensor."""

    def __init__(self, tflite: TfLite, path: Path) -> None:
        self._lib = tflite.lib
        self.path = path
        if not path.is_file():
            raise TfLiteError(f"model file not found: {path}")
        self._model = self._lib.TfLiteModelCreateFromFile(str(path).encode())
        if not self._model:
            raise TfLiteError(
                f"{path} is not a TensorFlow Lite model (damaged? `satellite models verify`)"
            )
        self._interpreter: int | None = None
        self.reset()
        self.input = self._info(self._input_tensor)
        self.output = self._info(self._output_tensor)
        self._out = np.empty(self.output.shape, self.output.dtype)

    def reset(self) -> None:
        """A fresh interpreter on the loaded model: every variable back to its initial value."""
        self._delete_interpreter()
        options = self._lib.TfLiteInterpreterOptionsCreate()
        self._lib.TfLiteInterpreterOptionsSetNumThreads(options, 1)
        self._interpreter = self._lib.TfLiteInterpreterCreate(self._model, options)
        self._lib.TfLiteInterpreterOptionsDelete(options)
        if not self._interpreter or self._lib.TfLiteInterpreterAllocateTensors(self._interpreter):
            raise TfLiteError(f"TensorFlow Lite cannot prepare {self.path}")
        counts = (
            self._lib.TfLiteInterpreterGetInputTensorCount(self._interpreter),
            self._lib.TfLiteInterpreterGetOutputTensorCount(self._interpreter),
        )
        if min(counts) < 1:
            raise TfLiteError(f"{self.path} has no input or no output tensor")
        self._input_tensor = self._lib.TfLiteInterpreterGetInputTensor(self._interpreter, 0)
        self._output_tensor = self._lib.TfLiteInterpreterGetOutputTensor(self._interpreter, 0)

    def _info(self, tensor: int) -> TensorInfo:
        kind = self._lib.TfLiteTensorType(tensor)
        if kind not in _TYPES:
            raise TfLiteError(f"{self.path}: tensor type {kind} is not supported here")
        dims = self._lib.TfLiteTensorNumDims(tensor)
        shape = tuple(int(self._lib.TfLiteTensorDim(tensor, i)) for i in range(dims))
        q = self._lib.TfLiteTensorQuantizationParams(tensor)
        return TensorInfo(shape, _TYPES[kind], float(q.scale), int(q.zero_point))

    def run(self, data: np.ndarray) -> np.ndarray:
        """Invoke on `data` (the input's shape and dtype, C-contiguous); the output, which the
        next call overwrites."""
        lib = self._lib
        if lib.TfLiteTensorCopyFromBuffer(self._input_tensor, data.ctypes.data, data.nbytes):
            raise TfLiteError(f"{self.path}: input of {data.nbytes} bytes does not fit")
        if lib.TfLiteInterpreterInvoke(self._interpreter):
            raise TfLiteError(f"TensorFlow Lite failed to run {self.path}")
        out = self._out
        lib.TfLiteTensorCopyToBuffer(self._output_tensor, out.ctypes.data, out.nbytes)
        return out

    def _delete_interpreter(self) -> None:
        if self._interpreter:
            self._lib.TfLiteInterpreterDelete(self._interpreter)
            self._interpreter = None

    def close(self) -> None:
        self._delete_interpreter()
        if self._model:
            self._lib.TfLiteModelDelete(self._model)
            self._model = None

    def __del__(self) -> None:
        with contextlib.suppress(Exception):  # at shutdown the library may be gone already
            self.close()
