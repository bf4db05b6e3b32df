"""One room answers (issue 14): satellites on one broker that hear the same wake word agree on
the loudest, without a coordinator; the others drop the turn silently.

The end-to-end test runs three satellites (`satellite run --input -`) on one real Mosquitto and
feeds each the same spoken command, in real time, at another gain, as three rooms hear one
voice; the parts below it check the ranking, the held-back earcon and the peers' messages.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from satellite.app.arbiter import Arbiter, ArbitratedHandler, Claim, winner
from satellite.events import ArbitrationEvent, Event, UtteranceEvent, WakeEvent
from satellite.mqtt.peers import PeerError, PeerPresence, PeerWake, parse_peer
from satellite.voice.listener import dbfs
from tests.live import LiveSatellite
from tests.mqtt_fixtures import Broker, Subscriber, wait_until
from tests.speech import Take

SITES = ("kitchen", "hall", "den")
GAINS = (1.0, 0.5, 0.25)
"""The kitchen is nearest the speaker: it hears the command 6 and 12 dB louder."""


House = tuple[dict[str, LiveSatellite], Subscriber]


def write_config(tmp_path: Path, site: str, port: int, models_dir: Path) -> Path:
    path = tmp_path / f"{site}.yaml"
    path.write_text(
        f"site_id: {site}\nmodels:\n  dir: {models_dir}\n"
        f"mqtt:\n  port: {port}\n  reconnect_max: 1\n  queue_dir: {tmp_path / site / 'queue'}\n"
        f"skills:\n  state_dir: {tmp_path / site / 'state'}\nearcons:\n  enabled: false\n"
        "conversation:\n  arbitration_window: 1.0\n",  # a loaded test box: a wide window
        encoding="utf-8",
    )
    return path


@pytest.fixture
def house(tmp_path: Path, models_dir: Path) -> Iterator[House]:
    with Broker(tmp_path / "broker") as broker, Subscriber(broker, ["satellite/#"]) as sub:
        rooms = {
            site: LiveSatellite(
                write_config(tmp_path, site, broker.port, models_dir), tmp_path / f"{site}.wav"
            )
            for site in SITES
        }
        try:
            for site in SITES:
                sub.wait_for_payload(f"satellite/{site}/availability", b"online", timeout=90)
            for site in SITES:
                subscribed = f"Sending SUBACK to satellite-{site}"
                wait_until(lambda s=subscribed: s in broker.log_path.read_text(), site, 60)
            yield rooms, sub
        finally:
            assert all(live.close() == 0 for live in rooms.values())


def feed_together(rooms: dict[str, LiveSatellite], audio: np.ndarray) -> None:
    """Write `audio` to every satellite at once, 80 ms at a time in real time, each at its
    room's gain: as a microphone hears it."""
    chunk = 1280
    scaled = {
        site: np.clip(audio * gain, -32768, 32767).astype(np.int16)
        for site, gain in zip(SITES, GAINS, strict=True)
    }
    start = time.monotonic()
    for i, offset in enumerate(range(0, len(audio), chunk)):
        for site, live in rooms.items():
            assert live.proc.stdin is not None
            live.proc.stdin.write(scaled[site][offset : offset + chunk].tobytes())
            live.proc.stdin.flush()
        time.sleep(max(0.0, start + (i + 1) * 0.08 - time.monotonic()))


def test_three_rooms_hear_one_command_and_only_the_nearest_answers(
    house: House,
) -> None:
    rooms, sub = house
    command = Take().silence(0.8).say("hey jarvis", "en-us", 160).silence(0.5)
    command.say("what time is it", "en-us", 160).silence(2.5)
    feed_together(rooms, command.audio)
    sub.wait_for("satellite/kitchen/reply", timeout=60)
    time.sleep(1.5)  # time for a wrong answer to show
    woke = [site for site in SITES if sub.on(f"satellite/{site}/wake")]
    decisions = {site: sub.on(f"satellite/{site}/arbitration")[-1].json() for site in woke}
    assert "kitchen" in woke and len(woke) >= 2, woke
    assert {d["winner"] for d in decisions.values()} == {"kitchen"}, decisions
    assert [site for site, d in decisions.items() if d["won"]] == ["kitchen"]
    levels = {c["site_id"]: c["level"] for c in decisions["kitchen"]["contenders"]}
    assert max(levels, key=levels.__getitem__) == "kitchen", levels
    answered = [site for site in SITES if sub.on(f"satellite/{site}/reply")]
    intents = [site for site in SITES if sub.on(f"satellite/{site}/intent")]
    assert answered == intents == ["kitchen"], (answered, intents)
    for site in set(woke) - {"kitchen"}:
        states = [json.loads(m.payload)["state"] for m in sub.on(f"satellite/{site}/state")]
        assert states[-1] == "idle" and "thinking" not in states, (site, states)


# ---------------------------------------------------------------- the parts


def claim(site: str, level: float, score: float = 0.9, at: float = 100.0) -> Claim:
    return Claim(site, level, score, at)


def test_the_loudest_wins_then_the_score_then_the_lowest_site_id() -> None:
    mine = claim("kitchen", -30.0)
    assert winner(mine, [claim("hall", -24.0)], 0.3)[0].site_id == "hall"
    assert winner(mine, [claim("hall", -30.0, 0.95)], 0.3)[0].site_id == "hall"
    assert winner(mine, [claim("attic", -30.0, 0.9)], 0.3)[0].site_id == "attic"
    assert winner(mine, [claim("zoo", -30.0, 0.9)], 0.3)[0].site_id == "kitchen"
    late = claim("hall", -10.0, at=100.5)  # another wake, not this one
    best, contenders = winner(mine, [late, claim("den", -40.0, at=99.8)], 0.3)
    assert best is mine and [c.site_id for c in contenders] == ["kitchen", "den"]


class Recorder:
    def __init__(self) -> None:
        self.events: list[Event] = []
        self.dropped = threading.Event()
        self.chimes: list[str] = []

    def publish(self, event: Event) -> None:
        self.events.append(event)

    def decisions(self) -> list[ArbitrationEvent]:
        return [e for e in self.events if isinstance(e, ArbitrationEvent)]


def arbiter(seen: Recorder, window: float = 0.1, wall: float = 1000.0) -> Arbiter:
    return Arbiter("kitchen", window, seen.publish, seen.dropped.set, lambda: 5.0, lambda: wall)


def wake(t: float = 5.0, level: float = -30.0) -> WakeEvent:
    return WakeEvent(t, "hey_jarvis", 0.9, level)


def test_alone_a_wake_is_no_claim() -> None:
    seen = Recorder()
    judge = arbiter(seen)
    chime = judge.chime(seen.chimes.append)
    judge.on_event(wake())
    chime("wake")
    assert seen.chimes == ["wake"] and judge.may_answer(4.9)
    assert seen.decisions() == [] and not seen.dropped.is_set()


def test_a_louder_peer_takes_the_turn_and_the_earcon_never_plays() -> None:
    seen = Recorder()
    judge = arbiter(seen)
    chime = judge.chime(seen.chimes.append)
    judge.on_peer(PeerPresence("hall", True))
    judge.on_event(wake())
    chime("wake")
    judge.on_peer(PeerWake("hall", -20.0, 0.8, 1000.05))
    assert seen.dropped.wait(5.0)
    assert not judge.may_answer(4.9)  # the command of the wake that was lost
    assert judge.may_answer(20.0)  # a later turn (a `listen` command) is answered
    (decision,) = seen.decisions()
    assert (decision.winner, decision.won) == ("hall", False)
    assert [c["site_id"] for c in decision.contenders] == ["hall", "kitchen"]
    assert seen.chimes == []


def test_the_loudest_answers_after_the_window_with_its_earcon() -> None:
    seen = Recorder()
    judge = arbiter(seen)
    chime = judge.chime(seen.chimes.append)
    judge.on_peer(PeerWake("hall", -40.0, 0.99, 1000.02))  # it is online: it woke
    judge.on_event(wake(level=-25.0))
    chime("wake")
    assert seen.chimes == []  # held back until the decision
    assert judge.may_answer(4.9)
    assert seen.chimes == ["wake"] and not seen.dropped.is_set()
    (decision,) = seen.decisions()
    assert (decision.winner, decision.won) == ("kitchen", True)


def test_a_turn_waits_for_the_decision_and_a_lost_one_says_nothing() -> None:
    seen = Recorder()
    judge = arbiter(seen, window=0.2)
    judge.on_peer(PeerPresence("hall", True))

    class Assistant:
        def __call__(self, utterance: UtteranceEvent) -> list[str]:
            return ["answered"]

        def respond(self, text: str, t: float) -> list[str]:
            return [text]

    handler = ArbitratedHandler(Assistant(), judge)  # type: ignore[arg-type]
    judge.on_event(wake())
    judge.on_peer(PeerWake("hall", -10.0, 0.9, 1000.0))
    utterance = UtteranceEvent(5.4, 4.9, 5.4, "silence", np.zeros(0, np.int16))
    assert list(handler(utterance)) == []  # waited, lost: no steps at all
    assert list(handler.respond("what time is it", 9.0)) == ["what time is it"]


def test_the_broker_gone_each_satellite_acts_alone() -> None:
    seen = Recorder()
    judge = arbiter(seen)
    judge.on_peer(PeerPresence("hall", True))
    judge.on_peer(PeerPresence("hall", False))  # its last will: it is gone
    judge.on_event(wake())
    assert judge.peers == set() and judge.may_answer(4.9) and seen.decisions() == []


def test_wake_levels_are_in_dbfs() -> None:
    assert dbfs(32768.0) == 0.0 and dbfs(3276.8) == -20.0 and dbfs(0.0) == -120.0


@pytest.mark.parametrize(
    ("payload", "problem"),
    [
        (b"not json", "expected a wake event as JSON"),
        (b"[1, 2]", "expected a wake event as a JSON object"),
        (b'{"score": "high", "timestamp": "2026-12-02T05:00:00+00:00"}', "score: expected"),
        (b'{"score": 0.9, "level": NaN, "timestamp": "2026-12-02T05:00:00+00:00"}', "level:"),
        (b'{"score": 0.9}', "timestamp: expected an ISO 8601 time, got None"),
        (b'{"score": 0.9, "timestamp": "yesterday"}', "timestamp: expected"),
    ],
)
def test_a_bad_peer_wake_says_what_is_wrong(payload: bytes, problem: str) -> None:
    with pytest.raises(PeerError, match=problem):
        parse_peer("satellite/hall/wake", payload, "satellite", "kitchen")


def test_peer_messages_are_told_apart_from_ours() -> None:
    good = b'{"score": 0.9, "level": -21.5, "timestamp": "2026-12-02T05:00:00.250+00:00"}'
    peer = parse_peer("satellite/hall/wake", good, "satellite", "kitchen")
    assert isinstance(peer, PeerWake) and (peer.site_id, peer.level) == ("hall", -21.5)
    assert peer.at == pytest.approx(1796187600.25)
    assert parse_peer("satellite/kitchen/wake", good, "satellite", "kitchen") is None
    assert parse_peer("satellite/hall/availability", b"online", "satellite", "kitchen") == (
        PeerPresence("hall", True)
    )
    assert parse_peer("other/hall/wake", good, "satellite", "kitchen") is None
