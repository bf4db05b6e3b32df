"""A satellite as a user runs it, for end-to-end tests: a config, speech, the daemon."""

from __future__ import annotations

import json
import queue
import subprocess
import sys
import threading
from pathlib import Path

from tests.speech import Take


def take(text: str, voice: str, speed: int, pause: float, noise: float | None, seed: int) -> Take:
    t = Take().silence(0.8).say("hey jarvis", voice, speed).silence(pause)
    t.say(text, voice, speed).silence(1.0)
    return t.with_noise(noise, seed) if noise is not None else t


def write_config(tmp_path: Path, port: int, models_dir: Path, mqtt_extra: str = "") -> Path:
    path = tmp_path / "config.yaml"
    path.write_text(
        f"site_id: kitchen\nmodels:\n  dir: {models_dir}\n"
        f"mqtt:\n  port: {port}\n  reconnect_max: 1\n  queue_dir: {tmp_path / 'queue'}\n"
        f"{mqtt_extra}"
        f"skills:\n  state_dir: {tmp_path / 'state'}\nearcons:\n  enabled: false\n"
    )
    return path


class LiveSatellite:
    """`satellite run --input -` in a subprocess: audio in through stdin, events out as JSON."""

    def __init__(self, config: Path, output: Path) -> None:
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "satellite",
                "--config",
                str(config),
                "run",
                "--input",
                "-",
                "--output",
                str(output),
                "--jsonl",
            ],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        self.events: queue.Queue[dict] = queue.Queue()
        self.reader = threading.Thread(target=self._read, daemon=True)
        """Puts each event line on `events`; it ends at the end of the output."""
        self.reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.events.put(json.loads(line))

    def turn(self, audio: Take) -> list[dict]:
        """Speak `audio`; the events of the turn it causes, up to its timings."""
        assert self.proc.stdin is not None
        self.proc.stdin.write(audio.audio.tobytes())
        self.proc.stdin.flush()
        got = [self.events.get(timeout=60)]
        while got[-1]["type"] != "timings":
            got.append(self.events.get(timeout=60))
        return got

    def close(self) -> int:
        """End of input: the daemon finishes and exits."""
        if self.proc.stdin:
            self.proc.stdin.close()
        return self.proc.wait(timeout=60)
