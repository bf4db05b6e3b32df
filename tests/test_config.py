"""Config: defaults, every kind of bad value reported with its key path, env secrets."""

from pathlib import Path

import pytest

from satellite.config import Config, load_config
from satellite.errors import ConfigError


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.yaml"
    path.write_text(text)
    return path


def problems(tmp_path: Path, text: str) -> list[str]:
    with pytest.raises(ConfigError) as info:
        load_config(write(tmp_path, text))
    return info.value.problems


def test_empty_file_gives_defaults(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, ""))
    assert config == Config()
    assert config.wake.models[0].name == "hey_jarvis"
    assert config.vad.aggressiveness == 3


def test_near_empty_file_overrides_one_value(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, "vad:\n  end_silence: 0.3\n"))
    assert config.vad.end_silence == 0.3
    assert config.vad.max_utterance == Config().vad.max_utterance


def test_wrong_type_names_key_and_value(tmp_path: Path) -> None:
    assert problems(tmp_path, "audio:\n  input_rate: x\n") == [
        'audio.input_rate: expected an integer, got "x"'
    ]


def test_all_problems_are_listed(tmp_path: Path) -> None:
    found = problems(tmp_path, "vad:\n  aggressiveness: 7\nwake:\n  refractory: no\nsite_id: [1]\n")
    assert "vad.aggressiveness: expected 0..3, got 7" in found
    assert "wake.refractory: expected a number, got False" in found
    assert "site_id: expected a string, got a list" in found


def test_unknown_keys_are_reported(tmp_path: Path) -> None:
    found = problems(tmp_path, "audoi:\n  input: x\nvad:\n  agressiveness: 1\n")
    assert any(p.startswith("audoi: unknown key") for p in found)
    assert any(p.startswith("vad.agressiveness: unknown key") for p in found)


def test_nested_list_item_errors_have_index(tmp_path: Path) -> None:
    found = problems(tmp_path, "wake:\n  models:\n    - name: alexa\n      threshold: 2\n")
    assert found == [
        "wake.models[0].threshold: expected a number between 0 and 1 (exclusive), got 2.0"
    ]


def test_literal_choice(tmp_path: Path) -> None:
    assert problems(tmp_path, "log_level: LOUD\n") == [
        'log_level: expected one of DEBUG, INFO, WARNING, ERROR, got "LOUD"'
    ]


def test_env_secret(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SAT_SITE", "kitchen")
    assert load_config(write(tmp_path, "site_id: ${SAT_SITE}\n")).site_id == "kitchen"
    monkeypatch.delenv("SAT_SITE")
    assert problems(tmp_path, "site_id: ${SAT_SITE}\n") == [
        "site_id: environment variable SAT_SITE is not set"
    ]


def test_yaml_syntax_error_has_line(tmp_path: Path) -> None:
    (problem,) = problems(tmp_path, "audio:\n  input: [unclosed\n")
    assert problem.startswith("line ") and "invalid YAML" in problem


def test_top_level_must_be_mapping(tmp_path: Path) -> None:
    assert problems(tmp_path, "- a\n- b\n") == ["config: expected a mapping, got a list"]


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        load_config(tmp_path / "nope.yaml")
    assert "cannot read" in info.value.problems[0]


def test_example_config_is_valid() -> None:
    example = Path(__file__).parent.parent / "config.example.yaml"
    load_config(example)
