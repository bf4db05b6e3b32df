"""The command line as a user runs it: replay, run on a file, check, and bad input."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from tests.speech import Take


def satellite(
    *args: str, config: Path | None = None, stdin: bytes | None = None, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "satellite"]
    if config is not None:
        command += ["--config", str(config)]
    return (
        subprocess.run(
            [*command, *args], capture_output=True, text=stdin is None, input=stdin, timeout=timeout
        )
        if stdin is None
        else subprocess.run([*command, *args], capture_output=True, input=stdin, timeout=timeout)
    )


@pytest.fixture(scope="module")
def turn_wav(tmp_path_factory: pytest.TempPathFactory, models_dir: Path) -> tuple[Path, Take]:
    take = Take().silence(1.0).say("hey jarvis", "en-us", 150).silence(0.6)
    take.say("what time is it", "en-us", 150).silence(1.5)
    return take.write(tmp_path_factory.mktemp("audio") / "turn.wav"), take


def events(stdout: str) -> list[dict]:
    return [json.loads(line) for line in stdout.splitlines() if line.strip()]


def test_replay_jsonl_schema(turn_wav: tuple[Path, Take], tmp_path: Path) -> None:
    path, take = turn_wav
    silent = tmp_path / "silent.wav"
    Take().silence(3.0).write(silent)
    result = satellite("replay", "--jsonl", str(path), str(silent))
    assert result.returncode == 0, result.stderr
    out = events(result.stdout)
    assert [e["type"] for e in out][:2] == ["wake", "utterance"]
    wake, utterance = out[0], out[1]
    assert wake["file"] == str(path) and wake["model"] == "hey_jarvis" and wake["score"] >= 0.5
    start, end = take.span("what time is it")
    assert utterance["start"] == pytest.approx(start, abs=0.15)
    assert utterance["end"] == pytest.approx(end, abs=0.15)
    assert utterance["t"] >= utterance["end"]
    assert all(e["file"] != str(silent) for e in out)
    assert all({"type", "file", "t"} <= e.keys() for e in out)


def test_replay_resampled_stereo_file(turn_wav: tuple[Path, Take], tmp_path: Path) -> None:
    """A 44.1 kHz stereo file gives the same events as the 16 kHz original."""
    from satellite.audio.wavfile import resample, write_wav

    _, take = turn_wav
    audio = resample(take.audio.astype(np.float32), 16000, 44100)
    stereo = np.stack([audio, audio], axis=1).clip(-32768, 32767).astype(np.int16)
    other = tmp_path / "stereo44.wav"
    write_wav(other, stereo, 44100)
    result = satellite("replay", "--jsonl", str(other))
    assert [e["type"] for e in events(result.stdout)][:2] == ["wake", "utterance"]


def test_replay_stdin(turn_wav: tuple[Path, Take]) -> None:
    _, take = turn_wav
    result = satellite("replay", "--jsonl", "-", stdin=take.audio.tobytes())
    assert result.returncode == 0, result.stderr
    assert [e["type"] for e in events(result.stdout.decode())][:2] == ["wake", "utterance"]


def test_replay_bad_files_are_reported_and_the_rest_replayed(
    turn_wav: tuple[Path, Take], tmp_path: Path
) -> None:
    path, _ = turn_wav
    text = tmp_path / "notes.wav"
    text.write_text("not audio")
    empty = tmp_path / "empty.wav"
    empty.write_bytes(b"")
    missing = tmp_path / "missing.wav"
    result = satellite("replay", "--jsonl", str(text), str(empty), str(missing), str(path))
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    for bad in (text, empty, missing):
        assert str(bad) in result.stderr
    assert [e["type"] for e in events(result.stdout)][:2] == ["wake", "utterance"]


def test_run_daemon_on_a_file(turn_wav: tuple[Path, Take], tmp_path: Path) -> None:
    path, _ = turn_wav
    config = tmp_path / "config.yaml"
    config.write_text("mqtt:\n  enabled: false\n")
    result = satellite("run", "--input", str(path), "--output", "null", "--jsonl", config=config)
    assert result.returncode == 0, result.stderr
    types = [e["type"] for e in events(result.stdout)]
    assert types[:4] == ["wake", "utterance", "transcript", "intent"]


def test_run_without_audio_device_gives_a_message(tmp_path: Path, models_dir: Path) -> None:
    config = tmp_path / "config.yaml"
    config.write_text("audio:\n  input: no-such-microphone\n")
    result = satellite("run", config=config)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert "no-such-microphone" in result.stderr and "WAV file" in result.stderr


def test_bad_config_lists_every_problem(tmp_path: Path) -> None:
    config = tmp_path / "config.yaml"
    config.write_text("audio:\n  input_rate: x\nvad:\n  aggressiveness: 9\nbogus: 1\n")
    result = satellite("check", config=config)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert 'audio.input_rate: expected an integer, got "x"' in result.stderr
    assert "vad.aggressiveness: expected 0..3, got 9" in result.stderr
    assert "bogus: unknown key" in result.stderr


def test_check_reports_missing_model_and_device(tmp_path: Path) -> None:
    config = tmp_path / "config.yaml"
    config.write_text(
        f"models:\n  dir: {tmp_path / 'empty'}\naudio:\n  input: {tmp_path / 'nope.wav'}\n"
    )
    result = satellite("check", config=config)
    assert result.returncode == 1
    assert "model melspectrogram is missing: run `satellite models pull melspectrogram`" in (
        result.stdout
    )
    assert f"audio.input: cannot read {tmp_path / 'nope.wav'}" in result.stdout


def test_check_passes_with_models_and_file_io(tmp_path: Path, turn_wav: tuple[Path, Take]) -> None:
    path, _ = turn_wav
    config = tmp_path / "config.yaml"
    config.write_text(f"audio:\n  input: {path}\n  output: null\nmqtt:\n  enabled: false\n")
    result = satellite("check", config=config)
    assert result.returncode == 0, result.stdout
    for part in ("models", "audio", "skills", "mqtt"):
        assert f"{part}: ok" in result.stdout


def test_check_reports_unreachable_broker_and_bad_skill(tmp_path: Path, models_dir: Path) -> None:
    from tests.mqtt_fixtures import free_port

    skills = tmp_path / "skills"
    skills.mkdir()
    (skills / "broken.yaml").write_text('intents:\n  X:\n    sentences: ["go {nowhere}"]\n')
    config = tmp_path / "config.yaml"
    config.write_text(
        f"mqtt:\n  port: {free_port()}\nskills:\n  directories: [{skills}]\n"
        "audio:\n  output: null\n  input: '-'\n"
    )
    result = satellite("check", config=config)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert "mqtt: FAILED" in result.stdout and "skills: FAILED" in result.stdout
    assert "broken.yaml" in result.stdout


def test_corrupt_model_is_reported(tmp_path: Path, models_dir: Path, turn_wav) -> None:
    import shutil

    broken = tmp_path / "models"
    shutil.copytree(models_dir, broken, ignore=shutil.ignore_patterns("*.part"))
    target = next(broken.rglob("hey_jarvis*.onnx"))
    data = bytearray(target.read_bytes())
    data[1000:1100] = bytes(100)
    target.write_bytes(bytes(data))
    config = tmp_path / "config.yaml"
    config.write_text(f"models:\n  dir: {broken}\n")
    result = satellite("models", "verify", config=config)
    assert result.returncode == 1 and "hey_jarvis" in result.stdout + result.stderr
    assert "Traceback" not in result.stderr


def test_say_writes_speech_to_a_wav(tmp_path: Path) -> None:
    from satellite.audio.wavfile import read_wav

    out = tmp_path / "reply.wav"
    result = satellite("say", "Turned on the kitchen light.", "--output", str(out))
    assert result.returncode == 0, result.stderr
    audio = read_wav(out)
    assert len(audio) > 16000 * 0.8 and abs(audio.astype(int)).max() > 1000


def test_transcribe_gives_text_and_intent(tmp_path: Path, models_dir: Path) -> None:
    command = Take().silence(0.3).say("set a timer for five minutes", "en-us", 150).silence(0.5)
    chatter = Take().silence(0.3).say("how tall is the eiffel tower", "en-us", 150).silence(0.5)
    first, second = command.write(tmp_path / "a.wav"), chatter.write(tmp_path / "b.wav")
    result = satellite("transcribe", "--json", str(first), str(second))
    assert result.returncode == 0, result.stderr
    heard, other = events(result.stdout)
    assert heard["text"] == "set a timer for five minutes"
    assert heard["intent"] == {"name": "HassStartTimer", "slots": {"minutes": 5}}
    # Moonshine held to the skills hears the chatter, says it is no sentence of theirs and
    # keeps it from the templates
    assert other["out_of_grammar"] and not other["rejected"] and other["reason"]
    assert other["intent"] is None and heard["out_of_grammar"] is False


def test_run_jsonl_names_its_input(turn_wav: tuple[Path, Take], tmp_path: Path) -> None:
    path, _ = turn_wav
    config = tmp_path / "config.yaml"
    config.write_text("mqtt:\n  enabled: false\n")
    result = satellite("run", "--input", str(path), "--output", "null", "--jsonl", config=config)
    assert {e["file"] for e in events(result.stdout)} == {str(path)}
