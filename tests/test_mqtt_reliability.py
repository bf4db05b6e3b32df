"""The on-disk queue: events survive a broker outage and a restart of the satellite."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from satellite.mqtt.journal import Journal, journal_path
from satellite.mqtt.topics import Outgoing
from tests.mqtt_fixtures import Broker, Received, Subscriber, wait_until

REPO = Path(__file__).resolve().parent.parent
BASE = "satellite/kitchen"

PUBLISHER = """
import sys, time
from satellite.events import TranscriptEvent
from satellite.mqtt import MqttConfig, MqttPublisher
port, queue, first, last = int(sys.argv[1]), sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
pub = MqttPublisher(MqttConfig(port=port, queue_dir=queue, reconnect_max=1), "kitchen")
pub.start()
half = (first + last) // 2
for i in range(first, last):
    if i == half:
        print("half", flush=True)
        sys.stdin.readline()
    pub.publish_event(TranscriptEvent(t=float(i), text=f"sentence {i}", confidence=1.0))
print("done", flush=True)
time.sleep(120)
"""


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[Broker]:
    with Broker(tmp_path / "broker", persistence=True) as running:
        yield running


def publisher_process(broker: Broker, queue: Path, first: int, last: int) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    command = [sys.executable, "-c", textwrap.dedent(PUBLISHER), str(broker.port), str(queue)]
    return subprocess.Popen(
        [*command, str(first), str(last)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    )


def read_line(proc: subprocess.Popen[str], expected: str) -> None:
    assert proc.stdout is not None
    line = proc.stdout.readline().strip()  # bounded: the script prints within seconds or dies
    assert line == expected, f"publisher said {line!r}, expected {expected!r}"


def first_copies(messages: list[Received]) -> tuple[list[str], list[dict[str, object]]]:
    """Texts in order of the first copy of each event id, and the repeated copies."""
    seen: dict[str, str] = {}
    repeats = []
    for message in messages:
        data = message.json()
        if data["id"] in seen:
            repeats.append(data)
        else:
            seen[data["id"]] = data["text"]
    return list(seen.values()), repeats


def test_broker_restart_and_satellite_kill_lose_nothing(broker: Broker, tmp_path: Path) -> None:
    queue = tmp_path / "queue"
    topic = f"{BASE}/transcript"
    with Subscriber(broker, [f"{BASE}/#"], client_id="listener", persistent=True) as sub:
        first = publisher_process(broker, queue, 0, 10)
        try:
            read_line(first, "half")
            sub.wait_for(topic, 5)
            broker.stop()  # in the middle of the series
            assert first.stdin is not None
            first.stdin.write("go\n")
            first.stdin.flush()
            read_line(first, "done")  # 5..9 are queued on disk now
        finally:
            first.send_signal(signal.SIGKILL)
            first.wait(10)
        second = publisher_process(broker, queue, 10, 15)
        try:
            read_line(second, "half")
            assert second.stdin is not None
            second.stdin.write("go\n")
            second.stdin.flush()
            read_line(second, "done")
            broker.start()
            wait_until(lambda: len(first_copies(sub.on(topic))[0]) >= 15, "15 events")
        finally:
            second.kill()
            second.wait(10)
    texts, repeats = first_copies(sub.on(topic))
    assert texts == [f"sentence {i}" for i in range(15)]
    for repeat in repeats:  # a copy sent again is the same event, under the same id
        assert repeat["text"] in texts


def test_journal_replays_only_what_was_not_acknowledged(tmp_path: Path) -> None:
    path = journal_path(str(tmp_path), "satellite-kitchen")
    journal = Journal(path)
    seqs = [
        journal.append((Outgoing("t", f'{{"id":"{i}","site_id":"k"}}'.encode()),)) for i in range(4)
    ]
    journal.sent(seqs[0])
    journal.sent(seqs[1])
    journal.done(seqs[0])
    journal.close()
    with path.open("ab") as torn:
        torn.write(b'{"p": 9, "m": [["t", "AAA')  # a record cut short by a crash
    again = Journal(path)
    recovered = again.recovered()
    again.close()
    assert [e.seq for e in recovered] == seqs[1:]
    assert [e.redelivery for e in recovered] == [True, False, False]
    assert b'"redelivery":true' in recovered[0].messages[0].payload
    assert b"redelivery" not in recovered[1].messages[0].payload


def test_a_second_process_cannot_share_the_queue(tmp_path: Path) -> None:
    from satellite.mqtt.journal import JournalError

    path = journal_path(str(tmp_path), "satellite-kitchen")
    holder = Journal(path)
    try:
        code = (
            "import sys; from pathlib import Path; from satellite.mqtt.journal import Journal\n"
            f"Journal(Path({str(path)!r}))"
        )
        done = subprocess.run(
            [sys.executable, "-c", code],
            capture_output=True,
            text=True,
            timeout=30,
            env={**os.environ, "PYTHONPATH": str(REPO)},
            check=False,
        )
        assert done.returncode != 0 and "is in use by another process" in done.stderr
    finally:
        holder.close()
    assert JournalError
