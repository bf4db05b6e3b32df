"""Model files: the manifest, the store that checks and fetches them, and where both live.

    store = open_store(config.models.dir, config.models.manifest)
    mel = store.path("melspectrogram")      # ModelError "model … is missing: run …" if absent
    store.pull(store.manifest.profile("lite"))
    problems = store.verify(["hey_jarvis"])

The implementation is in the modules beside this one: `manifest` (schema and validation),
`store` (status, verify, pull), `http` (resumable downloads), `packages` (npm/pip members),
`progress` and `locate`; `onnx` opens ONNX sessions for the engines.
"""

from satellite.errors import ModelError
from satellite.models.locate import find_manifest, open_store, packaged_manifest
from satellite.models.manifest import (
    KINDS,
    Manifest,
    ManifestError,
    ModelFile,
    ModelSpec,
    Source,
)
from satellite.models.progress import Progress, ProgressCallback, TerminalProgress
from satellite.models.store import (
    FileState,
    FileStatus,
    ModelStatus,
    ModelStore,
    PullError,
    PullResult,
    sha256_of,
)

__all__ = [
    "KINDS",
    "FileState",
    "FileStatus",
    "Manifest",
    "ManifestError",
    "ModelError",
    "ModelFile",
    "ModelSpec",
    "ModelStatus",
    "ModelStore",
    "Progress",
    "ProgressCallback",
    "PullError",
    "PullResult",
    "Source",
    "TerminalProgress",
    "find_manifest",
    "open_store",
    "packaged_manifest",
    "sha256_of",
]
