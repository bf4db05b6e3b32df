"""Build a whole satellite from the config: every engine loaded once, every part wired.

`replay` builds one that neither acts nor speaks nor connects; `run` builds the real thing.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from satellite.app.control import Remote
from satellite.app.loaders import load_listener, load_llm, load_stt, open_tts
from satellite.config import Config
from satellite.events import Event, ReplyEvent
from satellite.mqtt import MqttPublisher
from satellite.skills import ActionRunner, Services, SkillSet, TimerManager
from satellite.skills.timers import Timer
from satellite.voice.assistant import Assistant
from satellite.voice.pipeline import Bus, Pipeline
from satellite.voice.speaker import Speaker
from satellite.voice.state import StateMachine

log = logging.getLogger(__name__)


@dataclass
class Satellite:
    config: Config
    bus: Bus
    pipeline: Pipeline
    assistant: Assistant
    publisher: MqttPublisher | None = None
    speaker: Speaker | None = None
    timers: TimerManager | None = None
    remote: Remote | None = None
    """Carries out MQTT commands; `remote.submit` is set by the daemon."""
    closers: list[Callable[[], None]] = field(default_factory=list)

    def close(self) -> None:
        for close in reversed(self.closers):
            try:
                close()
            except Exception:
                log.exception("error while shutting down")


def load_assistant(config: Config) -> Assistant:
    skills = SkillSet(config.skills)
    for problem in skills.problems:
        log.warning("skill problem: %s", problem)
    llm = None
    if config.llm.enabled:
        from satellite.llm.fallback import LlmFallback

        engine = load_llm(config.llm, config.models.dir, config.models.manifest)
        llm = LlmFallback(engine, skills)
    return Assistant(skills, load_stt(config, skills), llm=llm)


def build(config: Config, *, live: bool, output: str | None = None) -> Satellite:
    """`live`: act on intents, speak, publish on MQTT, run timers; else only report."""
    bus = Bus()
    assistant = load_assistant(config)
    pipeline = Pipeline(load_listener(config), StateMachine(config.timeouts), bus, assistant)
    satellite = Satellite(config, bus, pipeline, assistant)
    if live:
        _go_live(satellite, output)
    return satellite


def _go_live(satellite: Satellite, output: str | None) -> None:
    from satellite.audio.sinks import open_sink

    config = satellite.config
    sink = open_sink(output if output is not None else config.audio.output)
    tts = open_tts(config.tts, config.models.dir, config.models.manifest)
    speaker = Speaker(tts, sink, config.earcons)
    satellite.speaker = speaker
    satellite.closers.append(speaker.close)
    remote = Remote(satellite.pipeline, speaker)
    satellite.remote = remote
    if config.mqtt.enabled:
        publisher = MqttPublisher(config.mqtt, config.site_id, on_command=remote)
        remote.publisher = publisher
        satellite.publisher = publisher
        satellite.bus.subscribe(publisher.publish_event)
        publisher.start()
        satellite.closers.append(publisher.stop)
    timers = TimerManager(Path(config.skills.timers_file), _timer_done(satellite))
    satellite.timers = timers
    satellite.closers.append(timers.close)
    services = Services(
        config=config.skills,
        publisher=satellite.publisher,
        timers=timers,
        set_volume=sink.set_volume,
        site_id=config.site_id,
    )
    satellite.assistant.runner = ActionRunner(services)
    satellite.assistant.speaker = speaker
    satellite.bus.subscribe(_earcons(speaker))


def _timer_done(satellite: Satellite) -> Callable[[Timer], None]:
    def done(timer: Timer) -> None:
        text = timer.announcement
        satellite.bus.publish(
            ReplyEvent(
                t=satellite.pipeline.listener.now,
                text=text,
                source="timer",
                intent="HassStartTimer",
            )
        )
        if satellite.speaker is not None:
            satellite.speaker.announce(text)

    return done


def _earcons(speaker: Speaker) -> Callable[[Event], None]:
    def on_event(event: Event) -> None:
        if event.type == "wake":
            speaker.chime("wake")
        elif event.type == "no_speech":
            speaker.chime("end")

    return on_event
