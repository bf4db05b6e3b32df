"""Build a whole satellite from the config: every engine loaded once, every part wired through
its constructor, in the order they need each other.

`replay` builds one that neither acts nor speaks nor connects; `run` builds the real thing,
each part from the ones made before it:

    listener; speaker (TTS, sink); announcer (bus, speaker); ringer (speaker, bus)
    control (speaker, announcer, tasks, ringer); arbiter (bus, tasks)
    MQTT publisher (control, arbiter)
    timers (ringer, bus); services (publisher, timers, volume, ringer)
    assistant (skills, STT, LLM, action runner on the services, speaker)
    pipeline (listener, state machine, bus, the assistant behind the arbiter, the speaker's
    earcons through the arbiter)

With a speaker (and `audio.echo.enabled`) the sink is tapped: what it plays goes to the echo
canceller, which the daemon runs on every frame and the listener asks about wake words.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from satellite.app.arbiter import Arbiter, ArbitratedHandler
from satellite.app.control import Announcer, Control
from satellite.app.daemon import Tasks
from satellite.app.hearing import Hearing, load_hearing, load_skills
from satellite.app.loaders import (
    load_language_model,
    load_listener,
    load_stop_listener,
    load_stt,
    open_tts,
)
from satellite.app.ringer import Ringer, timer_event
from satellite.audio.echo import EchoCanceller, PlayedAudio, TappedSink
from satellite.audio.sinks import AudioSink, SpeakerSink
from satellite.config import Config
from satellite.mqtt import MqttPublisher
from satellite.mqtt.peers import Peer
from satellite.skills import ActionRunner, Services, TimerManager
from satellite.voice.assistant import Assistant
from satellite.voice.pipeline import Bus, Pipeline
from satellite.voice.speaker import Speaker
from satellite.voice.state import StateMachine
from satellite.voice.turn import InlineRunner, TurnRunner

log = logging.getLogger(__name__)

STOP_SECONDS: Final = 1.0
"""What stopping the MQTT side may take (SIGTERM must end the satellite within 2 s)."""


@dataclass(frozen=True)
class Satellite:
    config: Config
    bus: Bus
    pipeline: Pipeline
    assistant: Assistant
    tasks: Tasks
    """Work for the processing thread (MQTT commands); the daemon runs it."""
    publisher: MqttPublisher | None = None
    """The MQTT connection of a live satellite with `mqtt.enabled`."""
    resources: ExitStack | None = None
    """What `close()` stops: the engines' connections, the publisher, the timers, the speaker
    (last started, first)."""
    echo: EchoCanceller | None = None
    """Takes what the satellite plays out of what it hears (the daemon cleans each frame)."""

    def close(self) -> None:
        if self.resources is not None:
            self.resources.close()


def load_assistant(
    config: Config,
    runner: ActionRunner | None = None,
    speaker: Speaker | None = None,
    hearing: Hearing | None = None,
) -> Assistant:
    """The skills, speech-to-text (`hearing`'s when given) and (`llm.enabled`) the language
    model, loaded once."""
    if hearing is None:
        skills = load_skills(config)
        stt = load_stt(config, skills)
    else:
        skills, stt = hearing.skills, hearing.stt
    llm = None
    if config.llm.enabled:
        from satellite.llm.fallback import LlmFallback

        engine = load_language_model(config.llm, config.models.dir, config.models.manifest)
        llm = LlmFallback(engine, skills)
    return Assistant(skills, stt, runner, speaker, llm)


def build(
    config: Config,
    *,
    live: bool,
    output: str | None = None,
    inline: bool = False,
    realtime: bool | None = None,
) -> Satellite:
    """`live`: act on intents, speak, publish on MQTT, run timers; else only report.
    `inline`: a live satellite whose turns run on the caller's thread, to their end (the
    bench); else they run on a worker thread within the state timeouts (`run`).
    `realtime`: the audio comes at the pace of speech, so partial decodes (`stt.incremental`)
    run on a worker thread beside it; else inline, on the feeding thread (default: a live
    satellite whose turns are not inline)."""
    worker = live and not inline if realtime is None else realtime
    if live:
        return _live(config, output, inline, worker)
    bus = Bus()
    hearing = load_hearing(config, worker)
    assistant = load_assistant(config, hearing=hearing)
    listener = load_listener(config, hearing.early, stt=hearing.stt)
    resources = _closing(hearing)
    resources.callback(_logged(lambda: close_engines(assistant)))
    pipeline = Pipeline(listener, StateMachine(config.timeouts), bus, assistant)
    return Satellite(config, bus, pipeline, assistant, Tasks(), resources=resources)


def _closing(hearing: Hearing, resources: ExitStack | None = None) -> ExitStack:
    resources = resources or ExitStack()
    if hearing.partials is not None:
        resources.callback(_logged(hearing.partials.close))
    return resources


def _live(config: Config, output: str | None, inline: bool, worker: bool) -> Satellite:
    resources = ExitStack()
    try:
        return _wire(config, output, resources, (inline, worker))
    except BaseException:
        resources.close()  # stop what was started before the failure
        raise


def _wire(
    config: Config, output: str | None, resources: ExitStack, how: tuple[bool, bool]
) -> Satellite:
    from satellite.app.integrity import verify_models
    from satellite.audio.sinks import open_sink

    inline, worker = how
    verify_models(config)  # a model damaged at its size is caught here, not mid-turn
    bus, tasks = Bus(), Tasks()
    hearing = load_hearing(config, worker)
    _closing(hearing, resources)
    echo, sink = _echo(config, open_sink(output if output is not None else config.audio.output))
    own_voice = echo.own_voice if echo else None
    listener = load_listener(config, hearing.early, own_voice, hearing.stt)
    tts = open_tts(config.tts, config.models.dir, config.models.manifest)
    resources.callback(_logged(lambda: _close(tts)))  # after the speaker's thread has ended
    speaker = Speaker(tts, sink, config.earcons)
    resources.callback(_logged(speaker.close))
    announcer = Announcer(bus, speaker, clock=lambda: listener.now)
    ringer = _ringer(config, speaker, bus, lambda: listener.now, resources)
    control = Control(speaker, announcer, tasks.submit, sink.set_volume, ringer.stop)
    arbiter = _arbiter(config, bus, tasks, lambda: listener.now)
    publisher = _publisher(config, control, bus, resources, arbiter.on_peer)
    resources.callback(_logged(speaker.stop))  # before the publisher stops: answers the says
    timers = _timers(config, ringer, bus, lambda: listener.now, resources)
    services = Services(
        config=config.skills,
        publisher=publisher,
        timers=timers,
        set_volume=sink.set_volume,
        silence_timers=ringer.silence,
        site_id=config.site_id,
    )
    assistant = load_assistant(config, ActionRunner(services), speaker, hearing)
    resources.callback(_logged(lambda: close_engines(assistant)))
    pipeline = Pipeline(
        listener,
        StateMachine(config.timeouts),
        bus,
        ArbitratedHandler(assistant, arbiter),
        chime=arbiter.chime(speaker.chime),
        runner=InlineRunner() if inline else TurnRunner(config.timeouts),
        apologise=_apology(speaker, announcer),
        follow_up=config.conversation.follow_up,
        hush=speaker.cut,
        stop=load_stop_listener(config, hearing.stt, echo.echo_only if echo else None),
    )
    if publisher is not None:
        publisher.start()  # commands are taken once everything they need is loaded
    return Satellite(config, bus, pipeline, assistant, tasks, publisher, resources, echo)


def _echo(config: Config, sink: AudioSink) -> tuple[EchoCanceller | None, AudioSink]:
    """The echo canceller, when it is on and a speaker plays (a file or nowhere makes no echo,
    and plays faster than time passes), and the sink, tapped for it."""
    if not config.audio.echo.enabled or not isinstance(sink, SpeakerSink):
        return None, sink
    echo = EchoCanceller(PlayedAudio(), config.audio.echo)
    return echo, TappedSink(sink, echo.played)


def _ringer(
    config: Config, speaker: Speaker, bus: Bus, clock: Callable[[], float], resources: ExitStack
) -> Ringer:
    ringer = Ringer(speaker, bus.publish, config.timers, clock)
    bus.subscribe(ringer.on_event)
    resources.callback(_logged(ringer.close))
    return ringer


def _timers(
    config: Config, ringer: Ringer, bus: Bus, clock: Callable[[], float], resources: ExitStack
) -> TimerManager:
    """The running timers: one that runs out rings; each change is a `timer` event."""
    timers = TimerManager(
        Path(config.skills.timers_file),
        ringer.ring,
        lambda action, timer: bus.publish(timer_event(clock(), action, timer)),
    )
    resources.callback(_logged(timers.close))
    return timers


def _arbiter(config: Config, bus: Bus, tasks: Tasks, clock: Callable[[], float]) -> Arbiter:
    """One room answers: the wake word heard by several satellites (off without MQTT)."""
    window = config.conversation.arbitration_window if config.mqtt.enabled else 0.0

    def drop() -> None:  # the turn of a wake another satellite won, silently
        tasks.submit(Pipeline.stop_turn)

    arbiter = Arbiter(config.site_id, window, bus.publish, drop, clock)
    bus.subscribe(arbiter.on_event)
    return arbiter


def _publisher(
    config: Config,
    control: Control,
    bus: Bus,
    resources: ExitStack,
    on_peer: Callable[[Peer], None],
) -> MqttPublisher | None:
    if not config.mqtt.enabled:
        return None
    publisher = MqttPublisher(config.mqtt, config.site_id, on_command=control, on_peer=on_peer)
    bus.subscribe(publisher.publish_event)
    resources.callback(_logged(lambda: publisher.stop(STOP_SECONDS)))
    return publisher


def _apology(speaker: Speaker, announce: Announcer) -> Callable[[str], None]:
    """A turn took too long: cut off what it was saying and say so instead."""

    def apologise(text: str) -> None:
        speaker.cut()  # the announcements waiting (a `say`) are still said
        announce(text, "timeout")

    return apologise


def close_engines(assistant: Assistant) -> None:
    """Close what the assistant's engines hold open: a remote recogniser's connection and
    its thread, a language model server's requests under way (local engines hold none)."""
    _close(assistant.stt)
    if assistant.llm is not None:
        _close(assistant.llm.engine)


def _close(engine: object) -> None:
    close = getattr(engine, "close", None)
    if callable(close):
        close()


def _logged(close: Callable[[], object]) -> Callable[[], None]:
    """`close`, with a failure logged rather than raised (the others still run)."""

    def run() -> None:
        try:
            close()
        except Exception:
            log.exception("error while shutting down")

    return run
