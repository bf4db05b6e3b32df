"""The remote engines as a satellite uses them (`stt.engine: wyoming`, `tts.engine: wyoming`),
against real servers on free loopback ports: another satellite's `satellite serve`, and
wyoming-piper speaking the real en_US-joe-medium voice.

Faults: the server killed in the middle of a turn, nothing listening on the port, a server
that accepts the connection and never answers (a stopped process: the response timeout
fires); in each the local fallback speaks or hears instead, and once the server is back the
next request reaches it again (reconnection).
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Final

import numpy as np
import pytest

from satellite.app.loaders import load_stt, open_tts
from satellite.audio.sinks import NullSink
from satellite.audio.wavfile import read_wav
from satellite.config import Config, ModelsConfig
from satellite.errors import ConfigError
from satellite.models.locate import open_store
from satellite.skills import SkillSet
from satellite.skills.config import SkillsConfig
from satellite.stt import SttConfig, WyomingSttConfig
from satellite.stt.wyoming import WyomingRecognizer
from satellite.tts import TtsConfig
from satellite.tts.earcon import EarconConfig
from satellite.tts.wyoming import WyomingTts
from satellite.tts.wyoming_config import WyomingTtsConfig
from satellite.voice.speaker import Speaker
from tests.live import take
from tests.remote_peers import Peer, closed_port, free_port, satellite_serve, wyoming_piper
from tests.test_remote_serve import padded, write_serve_config
from tests.voices import PIPER_MODEL, espeak
from tests.voices import Speaker as Voices

SATELLITE: Final = (sys.executable, "-m", "satellite")
QUICK: Final = {"connect_timeout": 5.0, "retry_after": 0.2}
PATIENT: Final = 30.0
"""Response timeout where the server is meant to answer (this box may be busy)."""
SHORT: Final = 2.0
"""Response timeout where the server is meant not to answer."""
REPLY: Final = "The kitchen light is on. The timer is set. That is all for now."


@pytest.fixture(scope="module")
def voices(models_dir: Path) -> Voices:
    return Voices(models_dir)


@pytest.fixture(scope="module")
def skills(tmp_path_factory: pytest.TempPathFactory) -> SkillSet:
    return SkillSet(SkillsConfig(state_dir=str(tmp_path_factory.mktemp("state"))))


@pytest.fixture
def server(models_dir: Path, tmp_path: Path) -> Iterator[Peer]:
    config = write_serve_config(tmp_path, models_dir)
    with satellite_serve(config, free_port(), tmp_path / "serve.log") as peer:
        yield peer


def remote_stt(
    uri: str, models_dir: Path, skills: SkillSet, fallback: str, response_timeout: float = PATIENT
) -> WyomingRecognizer:
    settings = WyomingSttConfig(
        uri=uri,
        fallback=fallback,  # type: ignore[arg-type]
        response_timeout=response_timeout,
        **QUICK,  # type: ignore[arg-type]
    )
    stt = SttConfig(engine="wyoming", wyoming=settings)
    recognizer = load_stt(Config(models=ModelsConfig(dir=str(models_dir)), stt=stt), skills)
    assert isinstance(recognizer, WyomingRecognizer)
    return recognizer


def remote_tts(
    uri: str, fallback: str = "espeak", voice: str = "", response_timeout: float = PATIENT
) -> WyomingTts:
    quick = {**QUICK, "response_timeout": response_timeout}
    settings = WyomingTtsConfig(uri=uri, voice=voice, fallback=fallback, **quick)  # type: ignore[arg-type]
    tts = open_tts(TtsConfig(engine="wyoming", wyoming=settings))
    assert isinstance(tts, WyomingTts)
    return tts


def test_a_second_satellite_hears_and_speaks_through_serve(
    server: Peer, models_dir: Path, tmp_path: Path
) -> None:
    """`satellite run` with both engines remote and no local fallback: every word it heard
    and said went through the other satellite's server."""
    config = tmp_path / "client.yaml"
    config.write_text(
        f"models:\n  dir: {models_dir}\nmqtt:\n  enabled: false\n"
        f"skills:\n  state_dir: {tmp_path / 'state'}\nearcons:\n  enabled: false\n"
        f"stt:\n  engine: wyoming\n  wyoming: {{uri: '{server.uri}', fallback: none}}\n"
        f"tts:\n  engine: wyoming\n  wyoming: {{uri: '{server.uri}', fallback: none}}\n"
    )
    audio = take("turn on the kitchen light", "en-us", 150, 0.3, None, 0).audio
    output = tmp_path / "said.wav"
    done = subprocess.run(
        [
            *SATELLITE,
            "--config",
            str(config),
            "run",
            "--input",
            "-",
            "--jsonl",
            "--output",
            str(output),
        ],
        input=audio.tobytes(),
        capture_output=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr.decode()[-2000:]
    events = [json.loads(line) for line in done.stdout.splitlines()]
    kinds = {e["type"]: e for e in events}
    assert kinds["transcript"]["text"] == "turn on the kitchen light"
    assert kinds["intent"]["name"] == "HassTurnOn"
    assert kinds["reply"]["text"] and kinds["timings"]["first_audio_ms"] is not None
    said = read_wav(output)
    assert len(said) > 8000 and np.abs(said).max() > 3000
    assert b"remote speech" not in done.stderr  # no request failed


def test_wyoming_piper_speaks_the_joe_voice_and_our_recogniser_hears_it(
    models_dir: Path, skills: SkillSet, tmp_path: Path
) -> None:
    store = open_store(str(models_dir))
    store.pull([PIPER_MODEL])
    assert store.verify([PIPER_MODEL]) == []
    voice_dir = models_dir / "piper"
    port = free_port()
    with wyoming_piper(voice_dir, "en_US-joe-medium", port, tmp_path / "piper.log") as peer:
        # wyoming-piper loads the voice on the first request: give it time
        tts = remote_tts(peer.uri, "none", "en_US-joe-medium", response_timeout=30.0)
        sentences = list(tts.synthesize("Turn on the kitchen light. Set a timer for five minutes."))
    assert tts.tally.remote == 2 and tts.tally.fallback == 0
    # heard by the lite profile's recogniser (Moonshine held to the skills): pocketsphinx refused
    # the first sentence once in three fresh-clone runs, its margins on this voice being thin
    stt = load_stt(Config.from_dict({"models": {"dir": str(models_dir)}}), skills)
    heard = [stt.transcribe(padded(audio)).text for audio in sentences]
    assert heard == ["turn on the kitchen light", "set a timer for five minutes"]


class KillingSink(NullSink):
    """Counts what it plays; kills the server as the first sentence starts to play."""

    def __init__(self, peer: Peer) -> None:
        super().__init__()
        self.peer = peer

    def play(self, chunk: np.ndarray) -> None:
        self.peer.kill()
        super().play(chunk)


def test_server_killed_mid_reply_the_local_voice_says_the_rest(server: Peer) -> None:
    tts = remote_tts(server.uri)
    sink = KillingSink(server)
    timing = Speaker(tts, sink, EarconConfig(enabled=False)).speak_timed(REPLY)
    assert (tts.tally.remote, tts.tally.fallback) == (1, 2)
    assert timing.first_audio is not None and sink.samples_played > 3 * 8000
    server.start()  # back on the same port: the next reply reaches it again
    threading.Event().wait(QUICK["retry_after"])
    assert len(list(tts.synthesize("Hello again."))) == 1
    assert tts.tally.remote == 2 and tts.link.connects == 2


def test_server_killed_while_transcribing_the_local_recogniser_hears_it(
    server: Peer, models_dir: Path, skills: SkillSet, voices: Voices
) -> None:
    stt = remote_stt(server.uri, models_dir, skills, "sphinx")
    audio = padded(voices.speak("set a timer for five minutes", espeak("en-us", 160)))
    assert stt.transcribe(audio).text == "set a timer for five minutes"  # remote
    server.pause()
    result: list[str] = []
    worker = threading.Thread(target=lambda: result.append(stt.transcribe(audio).text))
    worker.start()
    threading.Event().wait(0.3)  # the request is out, the server stopped: kill it now
    server.kill()
    worker.join(timeout=30)
    assert result == ["set a timer for five minutes"]
    assert (stt.tally.remote, stt.tally.fallback) == (1, 1)


def test_nothing_listening_the_fallbacks_answer_at_once(
    models_dir: Path, skills: SkillSet, voices: Voices
) -> None:
    uri = f"tcp://127.0.0.1:{closed_port()}"
    stt = remote_stt(uri, models_dir, skills, "sphinx")
    audio = padded(voices.speak("what time is it", espeak("en-us", 160)))
    assert stt.transcribe(audio).text == "what time is it"
    tts = remote_tts(uri)
    assert len(list(tts.synthesize("It is five. Goodbye."))) == 2
    assert tts.tally.fallback == 2 and stt.tally.fallback == 1


def test_without_a_fallback_the_turn_says_sorry(
    models_dir: Path, tmp_path: Path, voices: Voices
) -> None:
    from satellite.app.build import load_assistant
    from satellite.events import NotRecognizedEvent, ReplyEvent, UtteranceEvent
    from satellite.voice.assistant import SORRY

    uri = f"tcp://127.0.0.1:{closed_port()}"
    config = Config.from_dict(
        {
            "models": {"dir": str(models_dir)},
            "skills": {"state_dir": str(tmp_path)},
            "stt": {"engine": "wyoming", "wyoming": {"uri": uri, "fallback": "none"}},
        }
    )
    sink = NullSink()
    speaker = Speaker(open_tts(config.tts), sink, EarconConfig(enabled=False))
    assistant = load_assistant(config, speaker=speaker)
    audio = padded(voices.speak("turn on the kitchen light", espeak("en-us", 160)))
    utterance = UtteranceEvent(t=1.0, start=0.0, end=1.0, reason="silence", audio=audio)
    events = list(assistant(utterance))
    rejected = [e for e in events if isinstance(e, NotRecognizedEvent)]
    assert rejected and "speech server" in rejected[0].reason
    assert [e.text for e in events if isinstance(e, ReplyEvent)] == [SORRY]
    assert sink.samples_played > 4000


def test_a_server_that_never_answers_times_out_and_the_fallback_speaks(
    server: Peer, models_dir: Path, skills: SkillSet, voices: Voices
) -> None:
    tts = remote_tts(server.uri, response_timeout=SHORT)
    stt = remote_stt(server.uri, models_dir, skills, "sphinx", response_timeout=SHORT)
    server.pause()  # the kernel still accepts connections; nothing answers
    sentences = list(tts.synthesize("The light is on."))
    audio = padded(voices.speak("cancel the timer", espeak("en-us", 160)))
    heard = stt.transcribe(audio).text
    assert len(sentences) == 1 and tts.tally.fallback == 1 and tts.tally.remote == 0
    assert heard == "cancel the timer" and stt.tally.fallback == 1
    server.resume()  # it drops the requests whose clients gave up, and serves the next ones
    stt, tts = remote_stt(server.uri, models_dir, skills, "none"), remote_tts(server.uri, "none")
    assert stt.transcribe(audio).text == "cancel the timer" and stt.tally.remote == 1
    assert len(list(tts.synthesize("Done."))) == 1 and tts.tally.remote == 1


@pytest.mark.parametrize(
    ("section", "value", "problem"),
    [
        ("stt", {"uri": "http://box:10300"}, "stt.wyoming.uri: expected tcp://HOST:PORT"),
        ("stt", {"uri": "tcp://box"}, "stt.wyoming.uri: expected tcp://HOST:PORT"),
        ("tts", {"response_timeout": 0}, "tts.wyoming.response_timeout: expected seconds"),
        ("tts", {"fallback": "festival"}, "tts.wyoming.fallback: expected"),
    ],
)
def test_bad_remote_settings_are_named(section: str, value: dict, problem: str) -> None:  # type: ignore[type-arg]
    with pytest.raises(ConfigError) as caught:
        Config.from_dict({section: {"engine": "wyoming", "wyoming": value}})
    assert any(p.startswith(problem) for p in caught.value.problems), caught.value.problems


def test_check_names_the_remote_server_that_does_not_answer(server: Peer) -> None:
    from satellite.commands.check import check_remote

    down = f"tcp://127.0.0.1:{closed_port()}"
    config = Config.from_dict(
        {
            "stt": {"engine": "wyoming", "wyoming": {"uri": server.uri}},
            "tts": {"engine": "wyoming", "wyoming": {"uri": down}},
            "llm": {
                "enabled": True,
                "engine": "openai",
                "openai": {"base_url": f"http://127.0.0.1:{closed_port()}/v1"},
            },
        }
    )
    problems = check_remote(config)
    assert len(problems) == 2, problems
    assert problems[0].startswith(f"tts.wyoming: cannot reach tts server {down}")
    assert problems[1].startswith("llm.openai: cannot reach the language model server")
    assert check_remote(Config()) == []
