"""espeak-ng as the speech engine: one `espeak-ng --stdout` process per sentence.

The text is passed as a single argument after `--`, never through a shell, so text that starts
with `-` is spoken rather than read as an option. espeak-ng writes a 22.05 kHz WAV stream to
stdout (with a dummy size in its header), which is decoded and resampled to 16 kHz.
"""

from __future__ import annotations

import logging
import shutil
import subprocess
from collections.abc import Iterator
from typing import Final

import numpy as np

from satellite.audio.wavfile import decode_wav
from satellite.errors import AudioError
from satellite.tts import TtsError, split_sentences

log = logging.getLogger(__name__)

TIMEOUT: Final = 30.0
"""Longest time one sentence may take to synthesise."""
INSTALL_HINT: Final = "install it with `apt-get install espeak-ng`"


class EspeakTts:
    """Loads (finds espeak-ng and checks the voice) once; `synthesize` streams sentences."""

    def __init__(
        self, voice: str = "en-us", rate: int = 170, executable: str = "espeak-ng"
    ) -> None:
        found = shutil.which(executable)
        if found is None:
            raise TtsError(f"espeak-ng not found (looked for {executable!r}): {INSTALL_HINT}")
        self.executable = found
        self.voice = voice
        self.rate = rate
        self._check_voice()

    def _check_voice(self) -> None:
        result = self._run(["-v", self.voice, "-q", "--", "ok"])
        if result.returncode != 0:
            raise TtsError(
                f"espeak-ng cannot use voice {self.voice!r} "
                f"({_stderr(result) or 'exit code ' + str(result.returncode)}); "
                "list the voices with `espeak-ng --voices`"
            )

    def synthesize(self, text: str) -> Iterator[np.ndarray]:
        """16 kHz mono int16 audio for each sentence of `text`, in order, as each is ready."""
        for sentence in split_sentences(text):
            yield self.speak_sentence(sentence)

    def speak_sentence(self, sentence: str) -> np.ndarray:
        """The audio of one sentence (no splitting)."""
        args = ["-v", self.voice, "-s", str(self.rate), "--stdout", "--", sentence]
        result = self._run(args)
        if result.returncode != 0 or not result.stdout:
            problem = _stderr(result) or f"exit code {result.returncode}, no audio"
            raise TtsError(f"espeak-ng failed on {sentence[:60]!r}: {problem}")
        try:
            return decode_wav(result.stdout, "espeak-ng output")
        except AudioError as err:
            raise TtsError(str(err)) from err

    def _run(self, args: list[str]) -> subprocess.CompletedProcess[bytes]:
        command = [self.executable, *args]
        try:
            return subprocess.run(command, capture_output=True, timeout=TIMEOUT, check=False)
        except subprocess.TimeoutExpired as err:
            raise TtsError(f"espeak-ng took longer than {TIMEOUT:.0f} s") from err
        except OSError as err:
            raise TtsError(f"cannot run {self.executable}: {err.strerror or err}") from err


def _stderr(result: subprocess.CompletedProcess[bytes]) -> str:
    return result.stderr.decode("utf-8", "replace").strip()
