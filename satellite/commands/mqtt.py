"""`satellite mqtt unregister|announce`: add or remove the satellite in Home Assistant."""

from __future__ import annotations

import argparse

from satellite.config import Config


def add_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("mqtt", help="Home Assistant discovery over MQTT")
    p.add_argument(
        "action",
        nargs="?",
        choices=("unregister", "announce"),
        help="unregister: remove the satellite's entities from Home Assistant; "
        "announce: publish them (a running satellite does this by itself)",
    )
    p.add_argument("--unregister", action="store_true", help="the same as `unregister`")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace, config: Config) -> int:
    from satellite.errors import SatelliteError
    from satellite.mqtt import discovery
    from satellite.mqtt.oneshot import publish_once
    from satellite.mqtt.topics import Topics

    action = "unregister" if args.unregister else args.action
    if action is None:
        raise SatelliteError("mqtt: expected an action: unregister or announce")
    if action == "unregister":
        messages = discovery.removal_messages(config.mqtt, config.site_id)
    else:
        messages = discovery.announce_messages(
            config.mqtt, Topics(config.mqtt.prefix, config.site_id)
        )
    publish_once(config.mqtt, config.site_id, messages)
    done = "removed from" if action == "unregister" else "announced to"
    print(
        f"satellite {config.site_id}: {len(messages)} entities {done} Home Assistant "
        f"({config.mqtt.discovery_prefix}/...)"
    )
    return 0
