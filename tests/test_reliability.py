"""Never stuck, never deaf, nothing lost (issue 16): input that paces itself, turns bounded in
wall-clock time, SIGTERM that is obeyed in every state, honest retained state.

Each test reproduces a defect seen before the fix: file and piped input lost most turns; a
hanging HTTP action held `thinking` past its timeout and SIGTERM waited for it; after a crash
the retained `state` still said `listening`.
"""

from __future__ import annotations

import http.server
import json
import signal
import subprocess
import sys
import threading
import time
import wave
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from tests.live import LiveSatellite, take, write_config
from tests.mqtt_fixtures import Broker, Subscriber
from tests.speech import VOICES, Take

BASE = "satellite/kitchen/"
QUESTIONS = {"what time is it": "HassGetCurrentTime", "what day is it": "HassGetCurrentDate"}
EXIT_WAIT = 20.0
"""Bound on waiting for an exit: far above the 2 s it takes, far below the hanging action."""


def offline_config(tmp_path: Path, models_dir: Path, extra: str = "") -> Path:
    path = tmp_path / "config.yaml"
    path.write_text(
        f"site_id: kitchen\nmodels:\n  dir: {models_dir}\nmqtt:\n  enabled: false\n"
        f"skills:\n  state_dir: {tmp_path / 'state'}\nearcons:\n  enabled: false\n{extra}"
    )
    return path


def forty_turns() -> tuple[np.ndarray, list[str]]:
    """40 questions after the wake word, in turn from three espeak-ng voices."""
    parts, expected = [], []
    for i in range(40):
        text = list(QUESTIONS)[i % 2]
        parts.append(take(text, VOICES[i % 3], 160, 0.5, None, i).audio)
        expected.append(QUESTIONS[text])
    return np.concatenate(parts), expected


def run(config: Path, source: str, stdin: Path | None = None) -> tuple[list[dict], str]:
    command = [sys.executable, "-m", "satellite", "--config", str(config), "run"]
    command += ["--input", source, "--output", "null", "--jsonl"]
    with stdin.open("rb") if stdin else open("/dev/null", "rb") as feed:
        result = subprocess.run(command, stdin=feed, capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "Traceback" not in result.stderr
    return [json.loads(line) for line in result.stdout.splitlines()], result.stderr


@pytest.mark.parametrize("how", ["file", "pipe"])
def test_file_and_pipe_input_answer_every_turn(tmp_path: Path, models_dir: Path, how: str) -> None:
    """Before: 10 of 40 turns from a file, 11 of 40 from a pipe (the reader ran ahead and
    dropped the oldest audio, one warning per frame). Now the input waits for the pipeline."""
    audio, expected = forty_turns()
    wav = Take(audio=audio).write(tmp_path / "turns40.wav")
    raw = tmp_path / "turns40.raw"
    raw.write_bytes(audio.tobytes())
    # pocketsphinx hears all 40 takes (measured): the test is about pacing; held Moonshine,
    # the lite default, refuses one espeak take in 40 (recognition: issue 11)
    config = offline_config(tmp_path, models_dir, "stt:\n  engine: sphinx\n")
    events, log = run(config, str(wav)) if how == "file" else run(config, "-", raw)
    intents = [e["name"] for e in events if e["type"] == "intent"]
    replies = [e for e in events if e["type"] == "reply" and e["source"] == "skill"]
    assert len(replies) == 40, f"{len(replies)} of 40 turns answered"
    assert intents == expected
    assert "dropping" not in log and "dropped" not in log


class HangingServer:
    """A real HTTP server whose every answer waits until `release()` (bounded)."""

    def __init__(self) -> None:
        self.release_event = threading.Event()
        self.arrived = threading.Event()
        hang = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                hang.arrived.set()
                hang.release_event.wait(120)
                body = b"The garage door is open."
                try:
                    self.send_response(200)
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                except OSError:  # the satellite is gone (the SIGTERM test)
                    pass

            def log_message(self, *args: object) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def release(self) -> None:
        self.release_event.set()

    def close(self) -> None:
        self.release()
        self.server.shutdown()
        self.server.server_close()


GARAGE = """\
skill: garage
intents:
  GarageDoor:
    sentences:
      - "open the garage door"
    response: "{output}"
    action:
      http:
        url: "http://127.0.0.1:PORT/garage?do=open"
        timeout: 120
"""


@pytest.fixture
def hanging(tmp_path: Path) -> Iterator[tuple[HangingServer, Path]]:
    server = HangingServer()
    skills = tmp_path / "skills"
    skills.mkdir()
    (skills / "garage.yaml").write_text(GARAGE.replace("PORT", str(server.port)))
    try:
        yield server, skills
    finally:
        server.close()


def next_event(live: LiveSatellite, kind: str, timeout: float = 120) -> dict:
    while (event := live.events.get(timeout=timeout))["type"] != kind:
        pass
    return event


def garage_config(
    tmp_path: Path, port: int, models_dir: Path, skills: Path, thinking: float
) -> Path:
    config = write_config(tmp_path, port, models_dir)
    text = config.read_text().replace("skills:\n", f"skills:\n  directories: [{skills}]\n")
    config.write_text(text + f"timeouts:\n  thinking: {thinking}\n")
    return config


def test_hanging_action_is_abandoned_with_an_apology(
    tmp_path: Path, models_dir: Path, hanging: tuple[HangingServer, Path]
) -> None:
    """Before: `thinking` lasted as long as the action (30 s with a 20 s timeout). Now the turn
    is abandoned at the timeout while the action still hangs, the satellite apologises and
    listens again; the action's answer, when it comes, is still published."""
    server, skills = hanging
    with Broker(tmp_path / "broker") as broker, Subscriber(broker, [BASE + "#"]) as sub:
        config = garage_config(tmp_path, broker.port, models_dir, skills, thinking=5)
        live = LiveSatellite(config, tmp_path / "out.wav")
        try:
            sub.wait_for_payload(BASE + "availability", b"online", timeout=60)
            assert live.proc.stdin is not None
            live.proc.stdin.write(take("open the garage door", "en-us", 150, 0.5, None, 7).audio)
            live.proc.stdin.flush()
            assert next_event(live, "intent")["name"] == "GarageDoor"
            apology = next_event(live, "reply")
            assert not server.release_event.is_set() and server.arrived.is_set()
            assert apology["source"] == "timeout" and apology["text"].startswith("Sorry")
            states = [m.json()["state"] for m in sub.wait_for(BASE + "state", 4)]
            assert states[-1] == "idle" and "thinking" in states
            after = live.turn(take("what time is it", "en-us+m3", 160, 0.5, None, 8))
            assert [e["name"] for e in after if e["type"] == "intent"] == ["HassGetCurrentTime"]
            server.release()  # the action ends at last: its answer is published
            late = next_event(live, "reply")
            assert late == {**late, "source": "skill", "text": "The garage door is open."}
        finally:
            code = live.close()
    assert code == 0


def sigterm(live: LiveSatellite) -> float:
    """Send SIGTERM; the seconds until the process exited (bounded wait)."""
    start = time.monotonic()
    live.proc.send_signal(signal.SIGTERM)
    code = live.proc.wait(timeout=EXIT_WAIT)
    assert code == 0
    return time.monotonic() - start


def test_sigterm_ends_a_turn_stuck_in_a_hanging_action(
    tmp_path: Path, models_dir: Path, hanging: tuple[HangingServer, Path]
) -> None:
    """Before: SIGTERM waited for the hanging action (29.2 s). Now the satellite exits while
    the action still hangs (it has no end until the test releases it)."""
    server, skills = hanging
    with Broker(tmp_path / "broker") as broker, Subscriber(broker, [BASE + "#"]) as sub:
        config = garage_config(tmp_path, broker.port, models_dir, skills, thinking=300)
        live = LiveSatellite(config, tmp_path / "out.wav")
        sub.wait_for_payload(BASE + "availability", b"online", timeout=60)
        assert live.proc.stdin is not None
        live.proc.stdin.write(take("open the garage door", "en-us", 150, 0.5, None, 9).audio)
        live.proc.stdin.flush()
        next_event(live, "intent")
        assert server.arrived.wait(60)
        seconds = sigterm(live)
        assert not server.release_event.is_set()
        print(f"SIGTERM while thinking: exited after {seconds:.2f} s")
        assert sub.wait_for_payload(BASE + "availability", b"offline")


@pytest.mark.parametrize("state", ["idle", "listening"])
def test_sigterm_in_idle_and_listening(tmp_path: Path, models_dir: Path, state: str) -> None:
    with Broker(tmp_path / "broker") as broker, Subscriber(broker, [BASE + "#"]) as sub:
        live = LiveSatellite(write_config(tmp_path, broker.port, models_dir), tmp_path / "o.wav")
        sub.wait_for_payload(BASE + "availability", b"online", timeout=60)
        if state == "listening":  # the wake word, then nothing: the input stays open
            assert live.proc.stdin is not None
            live.proc.stdin.write(Take().silence(0.8).say("hey jarvis").silence(0.3).audio)
            live.proc.stdin.flush()
            next_event(live, "wake")
        _wait_state(sub, state)
        print(f"SIGTERM while {state}: exited after {sigterm(live):.2f} s")


LONG_REPLY = """\
skill: story
intents:
  Story:
    sentences:
      - "open the garage door"
    response: "STORY"
"""


def test_sigterm_while_speaking(tmp_path: Path, models_dir: Path) -> None:
    """A reply of 300 sentences keeps the satellite `speaking` for a while: SIGTERM then ends
    it as fast as in the other states."""
    skills = tmp_path / "skills"
    skills.mkdir()
    story = " ".join(f"This is sentence number {n} of a long story." for n in range(300))
    (skills / "story.yaml").write_text(LONG_REPLY.replace("STORY", story))
    with Broker(tmp_path / "broker") as broker, Subscriber(broker, [BASE + "#"]) as sub:
        config = write_config(tmp_path, broker.port, models_dir)
        text = config.read_text().replace("skills:\n", f"skills:\n  directories: [{skills}]\n")
        config.write_text(text)
        live = LiveSatellite(config, tmp_path / "o.wav")
        sub.wait_for_payload(BASE + "availability", b"online", timeout=60)
        assert live.proc.stdin is not None
        live.proc.stdin.write(take("open the garage door", "en-us", 150, 0.5, None, 7).audio)
        live.proc.stdin.flush()
        assert next_event(live, "intent")["name"] == "Story"
        _wait_state(sub, "speaking")
        seconds = sigterm(live)
        print(f"SIGTERM while speaking: exited after {seconds:.2f} s")
        live.reader.join(timeout=EXIT_WAIT)  # every event the satellite wrote is read
        with wave.open(str(tmp_path / "o.wav"), "rb") as spoken:
            said = spoken.getnframes() / spoken.getframerate()
        # cut short: 300 sentences are ten minutes of speech (a turn cut at shutdown may still
        # report its timings; what it said is the proof)
        assert said < 120, f"{said:.0f} s of the story were spoken"


def test_state_is_published_at_start_up(tmp_path: Path, models_dir: Path) -> None:
    """Before: after `kill -9` while listening, the retained state still said `listening`
    after the restart. Now the satellite publishes its state as soon as it runs."""
    with Broker(tmp_path / "broker") as broker, Subscriber(broker, []) as client:
        stale = {"type": "state", "state": "listening", "site_id": "kitchen"}
        client.publish(BASE + "state", json.dumps(stale), retain=True)
        live = LiveSatellite(write_config(tmp_path, broker.port, models_dir), tmp_path / "o.wav")
        try:
            with Subscriber(broker, [BASE + "state"]) as sub:
                message = _wait_state(sub, "idle")
            assert message["state"] == "idle"
        finally:
            assert live.close() == 0


def _wait_state(sub: Subscriber, state: str) -> dict:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        for message in sub.on(BASE + "state"):
            if message.json()["state"] == state:
                return dict(message.json())
        time.sleep(0.05)
    raise AssertionError(f"no state {state}: {[m.text for m in sub.on(BASE + 'state')]}")
