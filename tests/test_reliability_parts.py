"""The smaller defects of issue 16, each reproduced first, on real parts: the announcement
queue, URLs built from slots, the config's errors, a model damaged at its size, the live
input's drop report, the outbox's redeliveries."""

from __future__ import annotations

import http.server
import json
import logging
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

import pytest

from satellite.audio.sources import WavSource
from satellite.config import load_config
from satellite.errors import ConfigError
from satellite.mqtt.outbox import Outbox
from satellite.mqtt.topics import Outgoing
from satellite.skills import ActionRunner, Services, SkillSet
from satellite.skills.config import SkillsConfig
from satellite.tts import TtsConfig
from satellite.tts.earcon import EarconConfig
from satellite.voice.speaker import ANNOUNCE_QUEUE, Speaker
from tests.speech import Take
from tests.test_control import RealtimeSink

# ------------------------------------------------------------------ announcements


def test_announcements_are_bounded_and_stop_drops_those_waiting() -> None:
    """Before: the queue had no bound and `stop` left every waiting announcement to be said."""
    from satellite.app.loaders import open_tts

    sink = RealtimeSink()
    speaker = Speaker(open_tts(TtsConfig()), sink, EarconConfig(enabled=False))
    outcomes: list[bool] = []
    lock = threading.Lock()

    def done(said: bool) -> None:
        with lock:
            outcomes.append(said)

    speaking = threading.Thread(target=speaker.speak, args=("A long reply. " * 10,))
    speaking.start()  # holds the voice: the announcements wait behind it
    count = ANNOUNCE_QUEUE + 10
    for i in range(count):
        speaker.announce(f"announcement {i}", done)
    refused = len(outcomes)
    assert refused >= 9  # one more than the queue holds may be in the speaker's hands
    speaker.stop()
    speaking.join(10)
    speaker.close()
    assert len(outcomes) == count  # each one answered, exactly once
    assert outcomes.count(False) >= count - 1  # at most the one in hand was said


# ------------------------------------------------------------------ URLs from slots


class _Echo(http.server.BaseHTTPRequestHandler):
    paths: ClassVar[list[str]] = []

    def do_GET(self) -> None:
        self.paths.append(self.path)
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet."""


@pytest.fixture
def echo() -> Iterator[str]:
    _Echo.paths = []
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Echo)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_slot_values_are_escaped_in_http_urls(tmp_path: Path, echo: str) -> None:
    """Before: `rock & roll/x?admin=1` went into the URL as it was, adding a query field."""
    skills = tmp_path / "skills"
    skills.mkdir()
    (skills / "music.yaml").write_text(
        "intents:\n  Play:\n    sentences: ['play {song}']\n    response: '{output}'\n"
        f"    action: {{http: {{url: '{echo}/play?song={{song}}&room=kitchen'}}}}\n"
        "lists:\n  song: {values: [{in: rock and roll, out: 'rock & roll/x?admin=1'}]}\n"
    )
    config = SkillsConfig(directories=(str(skills),), state_dir=str(tmp_path), builtins=False)
    match = SkillSet(config).recognize("play rock and roll")
    assert match is not None
    assert ActionRunner(Services(config)).run(match).ok
    assert _Echo.paths == ["/play?song=rock%20%26%20roll%2Fx%3Fadmin%3D1&room=kitchen"]


# ------------------------------------------------------------------ the config


def problems(tmp_path: Path, text: str) -> list[str]:
    path = tmp_path / "config.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    return list(caught.value.problems)


def test_every_bad_value_of_a_section_is_reported(tmp_path: Path) -> None:
    """Before: only `timeouts.listening` was reported; the other two waited for the next try."""
    found = problems(tmp_path, "timeouts:\n  listening: -1\n  thinking: 0\n  speaking: -5\n")
    assert sorted(found) == [
        f"timeouts.{name}: expected a positive number of seconds"
        for name in ("listening", "speaking", "thinking")
    ]


def test_a_bad_type_does_not_hide_a_bad_value_beside_it(tmp_path: Path) -> None:
    found = problems(tmp_path, "timeouts:\n  listening: soon\n  thinking: -2\n")
    assert found == [
        'timeouts.listening: expected a number, got "soon"',
        "timeouts.thinking: expected a positive number of seconds",
    ]


@pytest.mark.parametrize("depth", [40, 100_000])
def test_deeply_nested_yaml_is_a_clear_error(tmp_path: Path, depth: int) -> None:
    """Before: a RecursionError traceback."""
    (found,) = problems(tmp_path, "audio: " + "[" * depth + "]" * depth + "\n")
    assert "nested" in found


def test_site_id_is_checked_with_mqtt_off(tmp_path: Path) -> None:
    for bad in ("a/b", "x+", "#", "", "tab\there"):
        (found,) = problems(tmp_path, f"site_id: {json.dumps(bad)}\nmqtt:\n  enabled: false\n")
        assert found.startswith("site_id: expected 1 to 64 printable characters")


# ------------------------------------------------------------------ a damaged model


def test_run_refuses_a_model_damaged_at_its_size(tmp_path: Path, models_dir: Path) -> None:
    """Before: `run` checked sizes only; a file with the right size and wrong bytes loaded."""
    from satellite.models.manifest import Manifest

    store = tmp_path / "models"
    store.mkdir()
    manifest = Manifest.load(models_dir / "manifest.yaml")
    lite = [f.path for name in manifest.profile("lite") for f in manifest.model(name).files]
    for name in ("manifest.yaml", *lite):  # Moonshine tiny among them
        (store / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(models_dir / name, store / name)
    wake = store / "hey_jarvis_v0.1.onnx"
    config = tmp_path / "config.yaml"
    config.write_text(
        f"models:\n  dir: {store}\nmqtt:\n  enabled: false\n"
        f"skills:\n  state_dir: {tmp_path / 'state'}\n"
    )
    audio = Take().silence(1.0).write(tmp_path / "quiet.wav")
    command = [sys.executable, "-m", "satellite", "--config", str(config), "run"]
    command += ["--input", str(audio), "--output", "null"]
    good = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert good.returncode == 0, good.stderr
    data = bytearray(wake.read_bytes())
    data[len(data) // 2] ^= 0xFF
    wake.write_bytes(bytes(data))
    bad = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert bad.returncode != 0
    assert "model hey_jarvis is damaged" in bad.stderr and "models pull" in bad.stderr
    assert "Traceback" not in bad.stderr


# ------------------------------------------------------------------ a live input that outruns


def test_a_live_input_that_outruns_the_pipeline_is_reported_once_per_interval(
    tmp_path: Path, models_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Before: one WARNING per dropped 80 ms frame (43,606 lines in 10 s)."""
    from satellite.app.build import build
    from satellite.app.daemon import QUEUE_SECONDS, Daemon, Tasks
    from satellite.config import Config

    audio = Take().silence(QUEUE_SECONDS * 4).write(tmp_path / "long.wav")
    config = Config.from_dict({"models": {"dir": str(models_dir)}, "mqtt": {"enabled": False}})
    satellite = build(config, live=False)
    with WavSource(audio) as source, caplog.at_level(logging.WARNING):
        # a file read as if it were a device: far faster than the pipeline takes it
        Daemon(satellite.pipeline, source, Tasks(), lambda: None, paced=False).run()
    warnings = [r.getMessage() for r in caplog.records if "behind" in r.getMessage()]
    assert 1 <= len(warnings) <= 3, warnings
    assert "dropped" in warnings[0] and "processing has taken no audio for" in warnings[0]


def test_a_file_is_read_at_the_pipeline_pace(tmp_path: Path, models_dir: Path) -> None:
    from satellite.app.build import build
    from satellite.app.daemon import QUEUE_SECONDS, Daemon, Tasks
    from satellite.config import Config

    seconds = QUEUE_SECONDS * 3
    audio = Take().silence(seconds).write(tmp_path / "long.wav")
    config = Config.from_dict({"models": {"dir": str(models_dir)}, "mqtt": {"enabled": False}})
    satellite = build(config, live=False)
    with WavSource(audio) as source:
        daemon = Daemon(satellite.pipeline, source, Tasks(), lambda: None, paced=True)
        daemon.run()
    assert daemon.drops.dropped == 0
    assert satellite.pipeline.listener.now == pytest.approx(seconds, abs=0.1)


# ------------------------------------------------------------------ the outbox


def test_messages_in_flight_at_a_disconnect_go_again_first_marked_redelivery() -> None:
    outbox = Outbox(limit=10)
    outbox.set_online(True)
    first = (Outgoing("s/k/wake", b'{"id":"a","site_id":"k"}'),)
    second = (Outgoing("s/k/reply", b'{"id":"b","site_id":"k"}'),)
    outbox.put(first)
    outbox.put(second)
    entry = outbox.next()
    assert entry is not None and entry.messages == first
    outbox.sent(7, entry.seq, entry.messages[0])
    outbox.set_online(False)
    assert outbox.take_back() == 1
    outbox.set_online(True)
    again = outbox.next()
    assert again is not None and again.redelivery
    assert again.messages[0].payload == b'{"id":"a","site_id":"k","redelivery":true}'
    later = outbox.next()
    assert later is not None and later.messages == second
    outbox.close()
