"""Audio in and out. Inside the satellite audio is 16 kHz, mono, int16 numpy arrays; files and
devices at other rates or channel counts are converted at the edges (`wavfile.Resampler`)."""

from satellite.audio.devices import AudioDevice, list_input_devices, list_output_devices
from satellite.audio.sinks import AudioSink, NullSink, SpeakerSink, WavSink, open_sink
from satellite.audio.sources import (
    AudioSource,
    MicSource,
    ReopeningSource,
    StdinSource,
    WavSource,
    iter_frames,
    open_source,
)
from satellite.audio.wavfile import RATE, Resampler, decode_wav, read_wav, resample, write_wav

__all__ = [
    "RATE",
    "AudioDevice",
    "AudioSink",
    "AudioSource",
    "MicSource",
    "NullSink",
    "ReopeningSource",
    "Resampler",
    "SpeakerSink",
    "StdinSource",
    "WavSink",
    "WavSource",
    "decode_wav",
    "iter_frames",
    "list_input_devices",
    "list_output_devices",
    "open_sink",
    "open_source",
    "read_wav",
    "resample",
    "write_wav",
]
