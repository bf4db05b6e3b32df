"""Sound devices through PortAudio (pyaudio): listing, lookup by name or index, rate probing.

PortAudio's ALSA and JACK back ends print pages of diagnostics on stderr while they probe (every
missing card, every absent JACK server). `quiet_stderr()` sends file descriptor 2 to /dev/null
around those calls, so a machine without sound hardware gives one clear `AudioError` instead.
The redirection is process-wide, so it is kept to device probing and stream opening.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, Final, Literal

from satellite.errors import AudioError

log = logging.getLogger(__name__)

Kind = Literal["input", "output"]
PREFERRED_RATES: Final = (16000, 48000, 44100, 32000, 22050, 96000, 8000)
"""Rates tried, after the requested one and the device's own default, when opening a stream."""

_stderr_lock = threading.RLock()


@dataclass(frozen=True)
class AudioDevice:
    index: int
    """PortAudio's device index (what `audio.input: 3` refers to)."""
    name: str
    host_api: str
    max_input_channels: int
    max_output_channels: int
    default_rate: int
    is_default: bool
    """The system's default device for this direction."""

    def describe(self) -> str:
        mark = " (default)" if self.is_default else ""
        return f"{self.index}: {self.name} [{self.host_api}, {self.default_rate} Hz]{mark}"


@contextlib.contextmanager
def quiet_stderr() -> Iterator[None]:
    """Silence the C libraries' stderr (fd 2) for the duration; Python's own is unaffected."""
    with _stderr_lock:
        try:
            sys.stderr.flush()
            saved = os.dup(2)
            devnull = os.open(os.devnull, os.O_WRONLY)
        except OSError:  # no fd 2 to redirect (e.g. a daemon without stderr)
            yield
            return
        try:
            os.dup2(devnull, 2)
            yield
        finally:
            os.dup2(saved, 2)
            os.close(saved)
            os.close(devnull)


def import_pyaudio() -> Any:
    """The pyaudio module, or an `AudioError` saying what to install."""
    try:
        import pyaudio
    except ImportError as err:  # the wheel or libportaudio is missing
        raise AudioError(
            f"pyaudio is not usable ({err}): `pip install pyaudio` "
            "(and `apt-get install libportaudio2` on Debian/Raspberry Pi OS)"
        ) from err
    return pyaudio


@contextlib.contextmanager
def portaudio() -> Iterator[Any]:
    """A `pyaudio.PyAudio` instance, terminated on exit; PortAudio's probing noise silenced."""
    instance = open_portaudio()
    try:
        yield instance
    finally:
        instance.terminate()


def open_portaudio() -> Any:
    """A new `pyaudio.PyAudio`; the caller must `terminate()` it."""
    pyaudio = import_pyaudio()
    with quiet_stderr():
        try:
            return pyaudio.PyAudio()
        except OSError as err:
            raise AudioError(f"cannot initialise PortAudio: {err}") from err


def _default_index(pa: Any, kind: Kind) -> int | None:
    try:
        with quiet_stderr():
            info = (
                pa.get_default_input_device_info()
                if kind == "input"
                else pa.get_default_output_device_info()
            )
    except OSError:
        return None
    return int(info["index"])


def _devices(pa: Any) -> list[AudioDevice]:
    defaults = {_default_index(pa, "input"), _default_index(pa, "output")} - {None}
    devices = []
    for index in range(pa.get_device_count()):
        info = pa.get_device_info_by_index(index)
        api = pa.get_host_api_info_by_index(info["hostApi"])["name"]
        devices.append(
            AudioDevice(
                index=index,
                name=str(info["name"]),
                host_api=str(api),
                max_input_channels=int(info["maxInputChannels"]),
                max_output_channels=int(info["maxOutputChannels"]),
                default_rate=round(info["defaultSampleRate"]),
                is_default=index in defaults,
            )
        )
    return devices


def list_devices(kind: Kind, pa: Any | None = None) -> list[AudioDevice]:
    """Devices that can capture (`input`) or play (`output`); empty without sound hardware."""
    if pa is None:
        with portaudio() as own:
            return list_devices(kind, own)
    default = _default_index(pa, kind)
    found = []
    for device in _devices(pa):
        channels = device.max_input_channels if kind == "input" else device.max_output_channels
        if channels > 0:
            found.append(_with_default(device, device.index == default))
    return found


def _with_default(device: AudioDevice, is_default: bool) -> AudioDevice:
    if device.is_default == is_default:
        return device
    return AudioDevice(
        device.index,
        device.name,
        device.host_api,
        device.max_input_channels,
        device.max_output_channels,
        device.default_rate,
        is_default,
    )


def list_input_devices() -> list[AudioDevice]:
    return list_devices("input")


def list_output_devices() -> list[AudioDevice]:
    return list_devices("output")


def find_device(pa: Any, spec: str | None, kind: Kind) -> AudioDevice:
    """The device `spec` names (`None`/`default`, an index, or part of a name), or `AudioError`."""
    devices = list_devices(kind, pa)
    wanted = (spec or "default").strip()
    if wanted == "default":
        default = _default_index(pa, kind)
        match = [d for d in devices if d.index == default] or devices[:1]
    elif wanted.isdigit():
        match = [d for d in devices if d.index == int(wanted)]
    else:
        match = [d for d in devices if wanted.lower() in d.name.lower()]
    if not match:
        raise AudioError(no_device_message(kind, wanted, devices))
    if len(match) > 1 and wanted != "default":
        log.info("%s device %r matches %d devices; using %s", kind, wanted, len(match), match[0])
    return match[0]


def no_device_message(kind: Kind, wanted: str, devices: list[AudioDevice]) -> str:
    """The error for a device that cannot be found, with what exists and the alternatives."""
    if not devices:
        problem = f"no audio {kind} device found (PortAudio sees none on this machine)"
        if wanted != "default":
            problem = f"audio {kind} device {wanted!r} not found: {problem}"
    elif wanted == "default":
        problem = f"there is no default audio {kind} device"
    else:
        problem = f"no audio {kind} device matches {wanted!r}"
    listing = "; ".join(d.describe() for d in devices) or "none"
    pick = "a device name or index from that list, " if devices else ""
    if kind == "input":
        alternatives = (
            f"set audio.input to {pick}a WAV file path, "
            "or `-` to read raw 16 kHz 16-bit mono audio from stdin"
        )
    else:
        alternatives = (
            f"set audio.output to {pick}a path ending in .wav, or `null` to discard the audio"
        )
    return f"{problem}. Available {kind} devices: {listing}. Instead, {alternatives}"


def supported_rates(
    pa: Any, device: AudioDevice, kind: Kind, channels: int, wanted: int
) -> list[int]:
    """Rates (best first) at which `device` accepts a 16-bit stream with `channels` channels."""
    pyaudio = import_pyaudio()
    candidates = list(dict.fromkeys((wanted, device.default_rate, *PREFERRED_RATES)))
    rates = []
    for rate in candidates:
        args: dict[str, Any] = {f"{kind}_device": device.index, f"{kind}_channels": channels}
        args[f"{kind}_format"] = pyaudio.paInt16
        try:
            with quiet_stderr():
                pa.is_format_supported(rate, **args)
        except ValueError:
            continue
        rates.append(rate)
    return rates


def open_stream(
    pa: Any,
    device: AudioDevice,
    kind: Kind,
    wanted: int,
    buffer_seconds: float,
    callback: Callable[..., Any],
) -> tuple[Any, int, int]:
    """A stopped 16-bit callback stream on `device`: mono if it can, at the best rate it takes.

    Returns the stream, its rate and its channel count; `AudioError` when nothing works.
    """
    pyaudio = import_pyaudio()
    most = device.max_input_channels if kind == "input" else device.max_output_channels
    index = "input_device_index" if kind == "input" else "output_device_index"
    for channels in dict.fromkeys((1, min(2, most))):
        for rate in supported_rates(pa, device, kind, channels, wanted):
            try:
                with quiet_stderr():
                    stream = pa.open(
                        format=pyaudio.paInt16,
                        channels=channels,
                        rate=rate,
                        frames_per_buffer=round(rate * buffer_seconds),
                        stream_callback=callback,
                        start=False,
                        **{kind: True, index: device.index},
                    )
            except OSError as err:
                log.debug("%s at %d Hz x%d: %s", device.name, rate, channels, err)
                continue
            return stream, rate, channels
    raise AudioError(f"cannot open {kind} device {device.describe()} at any usable rate")
