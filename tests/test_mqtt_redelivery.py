"""The broker killed with `kill -9` in the middle of a turn: nothing is lost, and what is sent
again says so (`redelivery: true`) under the event's own `id` (issue 16).

The broker is frozen first (SIGSTOP: it takes the turn's messages but acknowledges none), then
killed: the messages are in flight when the connection drops. Before, paho sent them again as
they were, so a copy that arrived twice could not be told from a new event.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

from tests.live import LiveSatellite, take, write_config
from tests.mqtt_fixtures import Broker, Subscriber, wait_until

BASE = "satellite/kitchen/"
KINDS = ("wake", "transcript", "intent", "reply", "timings")


def test_broker_killed_mid_turn_loses_nothing_and_marks_redeliveries(
    tmp_path: Path, models_dir: Path
) -> None:
    with Broker(tmp_path / "broker", persistence=True) as broker:
        sub = Subscriber(broker, [BASE + "#"], client_id="watcher", persistent=True)
        live = LiveSatellite(write_config(tmp_path, broker.port, models_dir), tmp_path / "o.wav")
        try:
            sub.wait_for_payload(BASE + "availability", b"online", timeout=60)
            broker.freeze()
            events = live.turn(take("what time is it", "en-us", 160, 0.5, None, 11))
            assert [e["type"] for e in events if e["type"] in KINDS] == list(KINDS)
            broker.kill()
            broker.start()
            wait_until(lambda: all(sub.on(BASE + kind) for kind in KINDS), "the turn's events", 60)
        finally:
            code = live.close()
            sub.close()
    assert code == 0
    copies: dict[str, list[dict]] = defaultdict(list)
    for kind in KINDS:
        for message in sub.on(BASE + kind):
            data = message.json()
            copies[data["id"]].append(data)
    assert sorted(c[0]["type"] for c in copies.values()) == sorted(KINDS)  # 0 lost, once each
    for same in copies.values():
        strip = [{k: v for k, v in c.items() if k != "redelivery"} for c in same]
        assert all(s == strip[0] for s in strip)  # a repeated copy is the same event
        assert all(c.get("redelivery") is True for c in same[1:])
    resent = [c for same in copies.values() for c in same if c.get("redelivery")]
    assert resent, "the messages in flight at the kill were sent again, marked redelivery"
