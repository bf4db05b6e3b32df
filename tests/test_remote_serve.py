"""`satellite serve` as another program sees it: started as a user starts it, on a free
loopback port, and driven by the `wyoming` package's own `AsyncTcpClient`.

Its recogniser is this box's pocketsphinx held to the skills' sentences, its voice espeak-ng,
its wake word hey_jarvis (the lite profile's real models). Speech comes in both voice families.
The faults: garbage bytes, oversized frames and a silent peer on some connections while
another connection goes on being served; 20 clients at once; one client past the limit.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Final

import numpy as np
import pytest
from wyoming.asr import Transcribe, Transcript
from wyoming.audio import AudioChunk, AudioStart, AudioStop
from wyoming.client import AsyncTcpClient
from wyoming.error import Error
from wyoming.event import Event
from wyoming.info import Describe, Info
from wyoming.tts import Synthesize
from wyoming.wake import Detect, Detection, NotDetected

from satellite.skills import SkillSet
from satellite.skills.config import SkillsConfig
from satellite.stt.grammar import compile_grammar
from satellite.stt.sphinx import SphinxRecognizer
from tests.remote_peers import Peer, free_port, satellite_serve
from tests.speech import Take
from tests.voices import Speaker, espeak, piper

COMMANDS: Final = (
    ("turn on the kitchen light", "en-us", "HassTurnOn"),
    ("set a timer for five minutes", "en-us+f3", "HassStartTimer"),
    ("what time is it", "en-gb", "HassGetCurrentTime"),
)
RATE: Final = 16000


def write_serve_config(folder: Path, models_dir: Path) -> Path:
    path = folder / "serve.yaml"
    path.write_text(
        f"models:\n  dir: {models_dir}\nskills:\n  state_dir: {folder / 'state'}\nlog_level: INFO\n"
        "stt:\n  engine: sphinx\n"  # pocketsphinx pinned: what this file was measured with
    )
    return path


@pytest.fixture(scope="module")
def server(models_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Peer]:
    folder = tmp_path_factory.mktemp("serve")
    config = write_serve_config(folder, models_dir)
    with satellite_serve(config, free_port(), folder / "serve.log") as peer:
        yield peer


@pytest.fixture(scope="module")
def voices(models_dir: Path) -> Speaker:
    return Speaker(models_dir)


def client(peer: Peer) -> AsyncTcpClient:
    return AsyncTcpClient("127.0.0.1", peer.port, connect_timeout=5.0, read_timeout=30.0)


def audio_events(audio: np.ndarray, rate: int = RATE, chunk: int = 2048) -> list[Event]:
    pcm = audio.astype(np.int16).tobytes()
    chunks = [
        AudioChunk(rate=rate, width=2, channels=1, audio=pcm[i : i + chunk * 2]).event()
        for i in range(0, len(pcm), chunk * 2)
    ]
    return [AudioStart(rate=rate, width=2, channels=1).event(), *chunks, AudioStop().event()]


async def ask(peer: Peer, events: list[Event], last: type) -> list[Event]:
    """Send `events` on a new connection; the answer up to the first event of type `last`."""
    async with client(peer) as wyoming:
        return await exchange(wyoming, events, last)


async def exchange(wyoming: AsyncTcpClient, events: list[Event], last: type) -> list[Event]:
    for event in events:
        await wyoming.write_event(event)
    got: list[Event] = []
    while True:
        event = await wyoming.read_event()
        assert event is not None, f"the server closed the connection after {got}"
        got.append(event)
        if last.is_type(event.type) or Error.is_type(event.type):  # type: ignore[attr-defined]
            return got


async def transcribe(peer: Peer, audio: np.ndarray) -> Event:
    answer = await ask(peer, [Transcribe().event(), *audio_events(audio)], Transcript)
    return answer[-1]


def padded(audio: np.ndarray) -> np.ndarray:
    silence = np.zeros(RATE // 2, np.int16)
    return np.concatenate([silence, audio, silence])


def test_describe_names_the_three_services(server: Peer) -> None:
    (event,) = asyncio.run(ask(server, [Describe().event()], Info))
    info = Info.from_event(event)
    assert [p.name for p in info.asr] == ["satellite-sphinx"]
    assert info.asr[0].models[0].languages == ["en"]
    assert [p.name for p in info.tts] == ["satellite-espeak"]
    assert [m.name for m in info.wake[0].models] == ["hey_jarvis"]


@pytest.fixture(scope="module")
def skills(tmp_path_factory: pytest.TempPathFactory) -> SkillSet:
    return SkillSet(SkillsConfig(state_dir=str(tmp_path_factory.mktemp("state"))))


def test_commands_in_both_voice_families_are_heard_as_this_box_hears_them(
    server: Peer, voices: Speaker, skills: SkillSet
) -> None:
    """The server's transcript is the one the same recogniser gives in this process, and it
    means the command's intent."""
    local = SphinxRecognizer(compile_grammar(skills.intents))
    takes = [(text, espeak(voice, 160), intent) for text, voice, intent in COMMANDS]
    takes += [(text, piper(1.0), intent) for text, _, intent in COMMANDS]
    for text, voice, intent in takes:
        audio = padded(voices.speak(text, voice))
        event = asyncio.run(transcribe(server, audio))
        heard = Transcript.from_event(event).text
        assert heard == local.transcribe(audio).text, voice
        match = skills.recognize(heard)
        assert match is not None and match.intent == intent, (voice, heard)
        assert event.data["satellite"]["rejected"] is False


def test_speech_outside_the_skills_is_rejected_not_guessed(server: Peer, voices: Speaker) -> None:
    audio = voices.speak("what is the capital of france", espeak("en-us", 160))
    event = asyncio.run(transcribe(server, padded(audio)))
    assert Transcript.from_event(event).text == ""
    assert event.data["satellite"]["rejected"] is True and event.data["satellite"]["reason"]


def test_its_voice_says_what_its_recogniser_then_hears(server: Peer) -> None:
    events = asyncio.run(
        ask(server, [Synthesize(text="Turn off the office light.").event()], AudioStop)
    )
    start = AudioStart.from_event(events[0])
    assert (start.rate, start.width, start.channels) == (RATE, 2, 1)
    pcm = b"".join(AudioChunk.from_event(e).audio for e in events if AudioChunk.is_type(e.type))
    audio = np.frombuffer(pcm, np.int16)
    assert 0.8 < len(audio) / RATE < 4.0 and np.abs(audio).max() > 3000
    heard = asyncio.run(transcribe(server, padded(audio)))
    assert Transcript.from_event(heard).text == "turn off the office light"


def test_audio_at_another_rate_is_converted(server: Peer, voices: Speaker) -> None:
    from satellite.audio.wavfile import resample, to_int16

    audio = padded(voices.speak("what time is it", espeak("en-us", 160)))
    at_22k = to_int16(resample(audio, RATE, 22050))
    events = [Transcribe().event(), *audio_events(at_22k, rate=22050)]
    (event,) = asyncio.run(ask(server, events, Transcript))
    assert Transcript.from_event(event).text == "what time is it"


def test_wake_word_is_detected_in_a_stream(server: Peer, voices: Speaker) -> None:
    take = Take().silence(0.8).say("hey jarvis").silence(1.0)
    events = [Detect(names=["hey_jarvis"]).event(), *audio_events(take.audio, chunk=1280)]
    answer = asyncio.run(ask(server, events, Detection))
    assert Detection.is_type(answer[-1].type)
    assert Detection.from_event(answer[-1]).name == "hey_jarvis"
    other = padded(voices.speak("turn on the kitchen light", espeak("en-us", 160)))
    events = [Detect().event(), *audio_events(other, chunk=1280)]
    assert NotDetected.is_type(asyncio.run(ask(server, events, NotDetected))[-1].type)


BAD_INPUTS: Final = {
    "garbage bytes": b"\x00\xff\x13garbage\x80\x81 not json at all\n",
    "JSON that is not an event": b"[1, 2, 3]\n",
    "a gigabyte payload announced": json.dumps(
        {
            "type": "audio-chunk",
            "data": {"rate": 16000, "width": 2, "channels": 1},
            "payload_length": 1 << 30,
        }
    ).encode()
    + b"\n",
    "a negative data length": b'{"type": "describe", "data_length": -5}\n',
    "a header line of 100 kB": b'{"type": "' + b"x" * 100_000 + b'"}\n',
}


async def _bad_peer(port: int, raw: bytes) -> bytes:
    """Send `raw`; everything the server says before it closes the connection."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(raw)
    await writer.drain()
    said = await asyncio.wait_for(reader.read(), 10.0)
    writer.close()
    return said


async def _bad_frames_beside_a_good_client(peer: Peer, audio: np.ndarray) -> list[str]:
    texts = []
    async with client(peer) as good:
        for name, raw in BAD_INPUTS.items():
            said = await _bad_peer(peer.port, raw)
            assert b'"error"' in said.split(b"\n")[0], name  # told why, then closed
            answer = await exchange(good, [Transcribe().event(), *audio_events(audio)], Transcript)
            texts.append(Transcript.from_event(answer[-1]).text)
    return texts


def test_garbage_and_oversized_frames_close_only_their_connection(
    server: Peer, voices: Speaker
) -> None:
    audio = padded(voices.speak("cancel the timer", espeak("en-us", 160)))
    texts = asyncio.run(_bad_frames_beside_a_good_client(server, audio))
    assert texts == ["cancel the timer"] * len(BAD_INPUTS)
    assert server.proc is not None and server.proc.poll() is None
    (event,) = asyncio.run(ask(server, [Describe().event()], Info))  # and new clients too
    assert Info.is_type(event.type)


async def _one_of_many(peer: Peer, n: int, audio: np.ndarray) -> tuple[str, int]:
    async with client(peer) as wyoming:
        info = await exchange(wyoming, [Describe().event()], Info)
        assert Info.is_type(info[-1].type)
        spoken = await exchange(wyoming, [Synthesize(text=f"Client {n}.").event()], AudioStop)
        samples = sum(len(AudioChunk.from_event(e).audio) // 2 for e in spoken[1:-1])
        text = ""
        if n % 4 == 0:  # every fourth also has speech transcribed
            answer = await exchange(
                wyoming, [Transcribe().event(), *audio_events(audio)], Transcript
            )
            text = Transcript.from_event(answer[-1]).text
        return text, samples


async def _many(peer: Peer, count: int, audio: np.ndarray) -> list[tuple[str, int]]:
    return list(await asyncio.gather(*(_one_of_many(peer, n, audio) for n in range(count))))


def test_twenty_clients_at_once(server: Peer, voices: Speaker) -> None:
    audio = padded(voices.speak("never mind", espeak("en-us", 160)))
    results = asyncio.run(_many(server, 20, audio))
    assert len(results) == 20
    assert [text for n, (text, _) in enumerate(results) if n % 4 == 0] == ["never mind"] * 5
    assert all(samples > RATE // 4 for _, samples in results)


async def _described(peer: Peer) -> AsyncTcpClient:
    """A connection the server serves (it may still be counting one that just closed, such as
    the readiness probe's: then it says busy, and this tries again, a bounded number of times)."""
    for _ in range(50):
        wyoming = client(peer)
        await wyoming.connect()
        answer = await exchange(wyoming, [Describe().event()], Info)
        if Info.is_type(answer[-1].type):
            return wyoming
        await wyoming.disconnect()
        await asyncio.sleep(0.1)
    raise AssertionError("the server stayed busy")


async def _past_the_limit(peer: Peer) -> tuple[list[Event], Event | None]:
    first, second = await _described(peer), await _described(peer)
    try:
        async with client(peer) as third:
            told = await third.read_event()
            closed = await third.read_event()
        return [told] if told else [], closed
    finally:
        await first.disconnect()
        await second.disconnect()


def test_a_client_past_the_limit_is_told_the_server_is_busy(
    models_dir: Path, tmp_path: Path
) -> None:
    config = write_serve_config(tmp_path, models_dir)
    with satellite_serve(config, free_port(), tmp_path / "serve.log", "--max-clients", "2") as peer:
        told, closed = asyncio.run(_past_the_limit(peer))
        assert len(told) == 1 and Error.from_event(told[0]).code == "busy" and closed is None

        async def again() -> None:  # a place is free again once the others have gone
            await (await _described(peer)).disconnect()

        asyncio.run(again())


def test_the_systemd_unit_runs_serve_sandboxed() -> None:
    """systemd/satellite-serve.service: its command line is one the CLI accepts, and it runs
    as the satellite user with the sandboxing the unit promises."""
    from satellite.cli import build_parser

    unit = Path(__file__).parent.parent / "systemd" / "satellite-serve.service"
    settings = dict(
        line.split("=", 1)
        for line in unit.read_text().splitlines()
        if "=" in line and line[0] != "#"
    )
    argv = settings["ExecStart"].split()
    assert argv[0].endswith("/satellite") and argv[1] == "serve"
    args = build_parser().parse_args(argv[1:])
    assert args.uri == "tcp://0.0.0.0:10300" and args.command == "serve"
    assert settings["User"] == "satellite" and settings["NoNewPrivileges"] == "yes"
    assert settings["ProtectSystem"] == "strict" and settings["PrivateDevices"] == "yes"
    assert settings["CapabilityBoundingSet"] == ""
