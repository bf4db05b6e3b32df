"""The packages the synthetic-model builders need, imported only when a builder runs.

RANDOM-WEIGHT STAND-INS: see `satellite.bench.synthetic`.
"""

from __future__ import annotations

import importlib
from typing import Final

from satellite.errors import ModelError

INSTALL_HINT: Final = "pip install 'satellite[full]'"


def require(*modules: str) -> None:
    """Import each of `modules`, or raise a ModelError naming the first missing one."""
    for name in modules:
        try:
            importlib.import_module(name)
        except ImportError as err:
            raise ModelError(f"building synthetic models needs {name}: {INSTALL_HINT}") from err
