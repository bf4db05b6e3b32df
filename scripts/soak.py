"""The soak: hours of mixed audio through `satellite run --input -`, a fuzzer on every inbound
topic, the broker stopped and started; every turn answered, no event lost, memory flat.

    python scripts/soak.py --minutes 3 --out soak-3m.json           # the quick check
    nohup python scripts/soak.py --minutes 60 --out soak-1h.json > soak-1h.log 2>&1 &

What it does, on a private Mosquitto (never the system's) and a satellite of the lite profile
with the models of `models.dir` (`$SATELLITE_MODELS` or the checkout's `models/`):

- audio: an endless mix, written to the satellite's stdin as fast as it reads it (the pipe
  blocks: the pipeline sets the pace): a command after "hey jarvis" (espeak-ng, several
  voices, some with noise), speech without the wake word, silence, pink noise;
- a fuzzer publishes on every inbound topic (ours, Hermes, Home Assistant's birth, the saved
  mute and volume states): malformed, oversized, wrong-site and harmless valid messages (`say`,
  `volume`); it sends no valid `mute`, `stop` or `listen`, which would rightly cut turns short;
- the broker is stopped every `--outage-every` seconds for `--outage` seconds, by SIGTERM and
  by SIGKILL in turn;
- at the end the input stops, the satellite is stopped with SIGTERM and the time it took to
  exit is measured.

The report (JSON, `--out`): turns expected / answered (a reply) / understood (the intent of
the command), events produced (`--jsonl`) / delivered (unique ids a persistent subscriber got)
per type, lost ids, duplicates and whether they were marked `redelivery`, RSS every minute and
its drift after the warm-up, the longest time spent in each state (wall clock), every result.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from satellite.config import default_models_dir  # noqa: E402
from satellite.mqtt.topics import EVENT_TOPICS  # noqa: E402
from tests.live import take  # noqa: E402
from tests.mqtt_fixtures import Broker, Subscriber  # noqa: E402
from tests.noises import pink  # noqa: E402
from tests.speech import VOICES, Take, speak  # noqa: E402

SITE = "kitchen"
BASE = f"satellite/{SITE}"
COMMANDS = {
    "what time is it": "HassGetCurrentTime",
    "set the volume to forty percent": "HassSetVolume",
    "set a timer for ten minutes": "HassStartTimer",
    "what day is it": "HassGetCurrentDate",
}
CHATTER = (
    "the weather was lovely at the seaside last week",
    "could you pass me the salt please",
    "we should paint the fence before the winter",
)
WARM_UP_MINUTES = 5
NOT_TURN_REPLIES = ("say", "timer", "timeout")
RECONNECT = 5.0
"""Seconds after the broker is back within which the satellite has reconnected."""


def write_config(folder: Path, port: int) -> Path:
    path = folder / "config.yaml"
    path.write_text(
        f"site_id: {SITE}\nmodels:\n  dir: {default_models_dir()}\n"
        f"mqtt:\n  port: {port}\n  reconnect_max: 2\n  queue_dir: {folder / 'queue'}\n"
        f"skills:\n  state_dir: {folder / 'state'}\nearcons:\n  enabled: false\n"
        "log_level: INFO\n",
        encoding="utf-8",
    )
    return path


class Feeder:
    """Writes the mixed audio to the satellite's stdin until `stop`; counts what it fed."""

    def __init__(self, proc: subprocess.Popen[bytes], seed: int) -> None:
        self.proc = proc
        self.rng = random.Random(seed)
        self.expected: Counter[str] = Counter()
        self.segments: Counter[str] = Counter()
        self.audio_seconds = 0.0
        self.pending = ""
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, name="feeder", daemon=True)

    def _segment(self, n: int) -> np.ndarray:
        kind = self.rng.choice(("command", "command", "chatter", "silence", "noise"))
        self.segments[kind] += 1
        if kind == "command":
            text = self.rng.choice(list(COMMANDS))
            voice = self.rng.choice(VOICES[:3])
            noise = self.rng.choice((None, None, 20.0))
            self.pending = COMMANDS[text]  # expected once it has been fed whole
            return take(text, voice, 160, 0.5, noise, n).silence(1.5).audio
        if kind == "chatter":
            t = Take().silence(0.5)
            t.audio = np.concatenate([t.audio, speak(self.rng.choice(CHATTER))])
            return t.silence(1.0).audio
        seconds = self.rng.uniform(2.0, 6.0)
        if kind == "silence":
            return np.zeros(round(seconds * 16000), np.int16)
        return (pink(round(seconds * 16000), n) * 600).astype(np.int16)

    def _run(self) -> None:
        assert self.proc.stdin is not None
        n = 0
        try:
            while not self.stop.is_set():
                audio = self._segment(n)
                n += 1
                for start in range(0, len(audio), 16000):  # 1 s at a time: stops promptly
                    if self.stop.is_set():
                        break
                    self.proc.stdin.write(audio[start : start + 16000].tobytes())
                else:
                    self.proc.stdin.flush()
                    self.audio_seconds += len(audio) / 16000
                    if self.pending:
                        self.expected[self.pending] += 1
                self.pending = ""
        except (BrokenPipeError, ValueError, OSError):
            pass


def fuzz_messages(rng: random.Random) -> list[tuple[str, bytes]]:
    """One round of the fuzzer: something on every inbound topic."""
    big = b'{"text": "' + b"a" * rng.choice((70_000, 200_000)) + b'"}'
    junk = bytes(rng.randrange(256) for _ in range(rng.randrange(1, 64)))
    deep = b"[" * 5000 + b"]" * 5000
    ours = [f"{BASE}/{name}" for name in ("say", "listen", "stop", "mute", "volume")]
    hermes = [
        "hermes/tts/say",
        "hermes/hotword/toggleOn",
        "hermes/hotword/toggleOff",
        "hermes/dialogueManager/startSession",
        "hermes/dialogueManager/continueSession",
        "hermes/dialogueManager/endSession",
    ]
    bad = (big, junk, deep, b"null", b"[1, 2]", b'"PRESS', b"\xff\xfe", b"ON OFF")
    shaped = (b"", b'{"volume": 250}', b'{"text": 5}', b'{"siteId": 7}')  # wrong shapes
    messages = [(topic, rng.choice(bad)) for topic in ours + hermes]
    # not on stop, listen or mute, where an empty or any object is a valid command
    messages += [(topic, rng.choice(shaped)) for topic in (ours[0], ours[4], *hermes)]
    other_site = json.dumps({"siteId": "elsewhere", "text": "not for us"}).encode()
    messages += [("hermes/tts/say", other_site), ("homeassistant/status", b"online")]
    messages += [(f"{BASE}/volume", str(rng.randrange(30, 90)).encode())]
    if rng.random() < 0.3:
        messages += [(f"{BASE}/say", json.dumps({"text": "soak test", "id": "fuzz"}).encode())]
    return messages


class Fuzzer:
    def __init__(self, broker: Broker, seed: int) -> None:
        self.broker = broker
        self.rng = random.Random(seed)
        self.sent = 0
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, name="fuzzer", daemon=True)

    def _run(self) -> None:
        import paho.mqtt.client as mqtt
        from paho.mqtt.enums import CallbackAPIVersion

        client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="fuzzer")
        client.reconnect_delay_set(1, 2)
        client.connect_async("127.0.0.1", self.broker.port)
        client.loop_start()
        while not self.stop.wait(self.rng.uniform(1.0, 4.0)):
            if not client.is_connected():
                continue
            for topic, payload in fuzz_messages(self.rng):
                client.publish(topic, payload, qos=self.rng.choice((0, 1)))
                self.sent += 1
        client.disconnect()
        client.loop_stop()


class Outages:
    """Stops the broker every `every` seconds for `length` seconds: SIGTERM and SIGKILL in turn."""

    def __init__(self, broker: Broker, every: float, length: float) -> None:
        self.broker = broker
        self.every = every
        self.length = length
        self.done: list[tuple[str, float, float]] = []
        """How, and the wall-clock times it went down and came back."""
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, name="outages", daemon=True)

    def _run(self) -> None:
        while not self.stop.wait(self.every):
            how = "kill -9" if len(self.done) % 2 else "stop"
            down = time.time()
            self.broker.kill() if how == "kill -9" else self.broker.stop()
            self.stop.wait(self.length)
            self.broker.start()
            self.done.append((how, down, time.time()))


class Events:
    """Reads the satellite's --jsonl output: turns, counts, the wall time spent in each state."""

    def __init__(self, proc: subprocess.Popen[bytes]) -> None:
        self.proc = proc
        self.produced: Counter[str] = Counter()
        self.turns = 0
        self.answered = 0
        self.understood: Counter[str] = Counter()
        self.in_turn = False
        self.replied = False
        self.thread = threading.Thread(target=self._run, name="events", daemon=True)

    def _run(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            try:
                self._event(json.loads(line))
            except ValueError:
                continue

    def _event(self, event: dict[str, Any]) -> None:
        kind = event.get("type", "?")
        self.produced[kind] += 1
        if kind in ("transcript", "not_recognized") and not self.in_turn:
            self.in_turn, self.replied = True, False
            self.turns += 1
        elif kind == "intent":
            self.understood[str(event.get("name"))] += 1
        elif kind == "reply" and event.get("source") not in NOT_TURN_REPLIES:
            if self.in_turn and not self.replied:
                self.answered += 1
                self.replied = True
        elif kind == "timings":
            self.in_turn = False


def state_times(sub: Subscriber, outages: list[tuple[float, float]]) -> dict[str, float]:
    """The longest wall-clock time spent in each state, from the retained `state` messages
    (their `timestamp` is when the state changed). While the broker is away only the latest
    state is kept, so a stay that overlaps an outage (or the reconnection after it) is left out.
    """
    changes: list[tuple[float, str]] = []
    for message in sub.on(f"{BASE}/state"):
        data = message.json()
        when = datetime.fromisoformat(data["timestamp"]).timestamp()
        if not changes or changes[-1][1] != data["state"]:
            changes.append((when, str(data["state"])))
    longest: dict[str, float] = {}
    for (start, state), (end, _) in itertools.pairwise(changes):
        if any(start < up + RECONNECT and end > down for down, up in outages):
            continue
        longest[state] = round(max(longest.get(state, 0.0), end - start), 1)
    return longest


def rss_mb(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def delivered(sub: Subscriber) -> tuple[Counter[str], int, int]:
    """Unique events per type, duplicates, and duplicates marked as redeliveries."""
    seen: set[str] = set()
    kinds: Counter[str] = Counter()
    duplicates = marked = 0
    for message in list(sub.messages):
        kind = message.topic.removeprefix(BASE + "/")
        if kind not in EVENT_TOPICS and kind != "result":
            continue
        try:
            data = message.json()
        except ValueError:
            continue
        if data["id"] in seen:
            duplicates += 1
            marked += bool(data.get("redelivery"))
            continue
        seen.add(data["id"])
        kinds[str(data.get("type"))] += 1
        if kind == "result":
            kinds[f"result:{data.get('command')}:{data.get('ok')}"] += 1
    return kinds, duplicates, marked


def settle(events: Events, quiet: float, longest: float = 180.0) -> None:
    """Wait until no event has come for `quiet` seconds (at most `longest`): up to 60 s of
    audio wait in the satellite's queue when the input stops."""
    deadline = time.monotonic() + longest
    last, since = -1, time.monotonic()
    while time.monotonic() < deadline:
        total = sum(events.produced.values())
        if total != last:
            last, since = total, time.monotonic()
        elif time.monotonic() - since >= quiet:
            return
        time.sleep(0.5)


def run_soak(args: argparse.Namespace, folder: Path) -> dict[str, Any]:
    broker = Broker(folder / "broker", persistence=True)
    broker.start()
    sub = Subscriber(broker, [f"{BASE}/#"], client_id="soak-watcher", persistent=True)
    config = write_config(folder, broker.port)
    log_path = Path(args.log or folder / "satellite.log")
    command = [sys.executable, "-m", "satellite", "--config", str(config), "run"]
    command += ["--input", "-", "--output", "null", "--jsonl"]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log, env=env
        )
        try:
            return supervise(args, proc, broker, sub)
        finally:
            if proc.poll() is None:
                proc.kill()
            sub.close()
            broker.stop()


def supervise(
    args: argparse.Namespace, proc: subprocess.Popen[bytes], broker: Broker, sub: Subscriber
) -> dict[str, Any]:
    feeder, fuzzer, events = Feeder(proc, args.seed), Fuzzer(broker, args.seed), Events(proc)
    for part in (events, feeder, fuzzer):
        part.thread.start()
    start = time.monotonic()
    end = start + args.minutes * 60
    rss: list[float] = []
    outages = Outages(broker, args.outage_every, args.outage)
    outages.thread.start()
    next_minute = start
    while time.monotonic() < end and proc.poll() is None:
        now = time.monotonic()
        if now >= next_minute:
            rss.append(round(rss_mb(proc.pid), 1))
            print(
                f"{(now - start) / 60:5.1f} min  rss {rss[-1]} MB  turns {events.turns}  "
                f"answered {events.answered}  outages {len(outages.done)}",
                flush=True,
            )
            next_minute += 60
        time.sleep(0.5)
    feeder.stop.set()
    fuzzer.stop.set()
    outages.stop.set()
    fuzzer.thread.join(10)
    outages.thread.join(args.outage + 15)
    settle(events, args.settle)  # the audio still queued is heard, the last turn ends
    stopped = time.monotonic()
    proc.send_signal(signal.SIGTERM)
    try:
        code = proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        code = None
    exit_seconds = time.monotonic() - stopped
    time.sleep(5)  # the last messages reach the subscriber
    return report(args, events, feeder, fuzzer, sub, rss, outages, code, exit_seconds)


def report(
    args: argparse.Namespace,
    events: Events,
    feeder: Feeder,
    fuzzer: Fuzzer,
    sub: Subscriber,
    rss: list[float],
    outages: Outages,
    code: int | None,
    exit_seconds: float,
) -> dict[str, Any]:
    kinds, duplicates, marked = delivered(sub)
    published = {t for t in EVENT_TOPICS if t != "state"}
    produced = {k: v for k, v in sorted(events.produced.items()) if k in published}
    got = {k: kinds.get(k, 0) for k in produced}
    warm = rss[WARM_UP_MINUTES:] if len(rss) > WARM_UP_MINUTES + 1 else rss[1:]
    drift = round(100 * (warm[-1] - warm[0]) / warm[0], 2) if len(warm) > 1 and warm[0] else None
    return {
        "minutes": args.minutes,
        "audio_minutes_fed": round(feeder.audio_seconds / 60, 1),
        "segments_fed": dict(feeder.segments),
        "turns_expected": sum(feeder.expected.values()),
        "turns_seen": events.turns,
        "turns_answered": events.answered,
        "understood": {k: f"{events.understood.get(k, 0)}/{n}" for k, n in feeder.expected.items()},
        "events_produced": produced,
        "events_delivered": got,
        "events_lost": sum(max(0, produced[k] - got[k]) for k in produced),
        "duplicates": duplicates,
        "duplicates_marked_redelivery": marked,
        "results": {k: v for k, v in sorted(kinds.items()) if k.startswith("result:")},
        "fuzz_messages": fuzzer.sent,
        "broker_outages": [f"{how} for {up - down:.0f} s" for how, down, up in outages.done],
        "rss_mb_per_minute": rss,
        "rss_drift_after_warm_up_pct": drift,
        "longest_state_s": state_times(sub, [(down, up) for _, down, up in outages.done]),
        "sigterm_exit_s": round(exit_seconds, 2),
        "exit_code": code,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=60.0)
    parser.add_argument("--out", type=Path, default=Path("soak.json"))
    parser.add_argument("--log", help="the satellite's log (default: in the work folder)")
    parser.add_argument("--seed", type=int, default=16)
    parser.add_argument("--outage-every", type=float, default=300.0, help="seconds")
    parser.add_argument("--outage", type=float, default=20.0, help="seconds the broker is down")
    parser.add_argument(
        "--settle", type=float, default=30.0, help="seconds without events before SIGTERM"
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="satellite-soak-") as folder:
        result = run_soak(args, Path(folder))
    args.out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
