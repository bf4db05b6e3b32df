"""Where the full profile's memory goes: RSS after each engine loads and works, in one process.

    python scripts/memory_breakdown.py                         # the LFM2-1.2B-shaped stand-in
    python scripts/memory_breakdown.py --llm models/gemma-3-270m-q4_k_m.gguf
    python scripts/memory_breakdown.py --kv f16 --piper-arena --moonshine-arena  # as before
    python scripts/memory_breakdown.py --max-phonemes 1000 --glibc-heap  # before issue 13
    python scripts/memory_breakdown.py --side-by-side   # the settings above and today's, in turn

Each line: the step, RSS after it (anonymous + file-backed pages, from /proc/self/status), the
change, and the peak so far. llama.cpp's own buffer sizes (weights, repacked weights, KV cache,
compute) are read from its load log. Moonshine tiny and the Piper voice must be in the models
folder (`satellite models pull --profile full`); the language model defaults to the bench's
random-weight LFM2-1.2B (`satellite bench --profile full --synthetic` builds it).
"""

from __future__ import annotations

import argparse
import dataclasses
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from satellite.config import default_models_dir  # noqa: E402

LONG_SENTENCE = (
    "The moon is about three hundred and eighty four thousand kilometres away from the earth, "
    "which is roughly thirty times the width of our planet, and its light takes a little more "
    "than a second to reach us, a distance that changes through the month."
)
"""The longest sentence a reply may have: 96 tokens, three sentences (llm.max_tokens)."""
SETTINGS = (
    ("pieces of 40 phonemes, heap bounded (before)", ["--sessions-as-before", "--plain-decoder"]),
    ("and no pre-packing, trims", ["--plain-decoder"]),
    ("and Moonshine's leaner decoder (today)", []),
    ("today, and llama.cpp n_batch 32", ["--batch", "32"]),
)


def side_by_side(extra: list[str]) -> None:
    """Each of `SETTINGS` in a process of its own, one after the other; the peaks at the end."""
    import subprocess

    passed = [a for a in extra if a != "--side-by-side"]
    peaks = []
    for label, flags in SETTINGS:
        print(f"\n== {label}", flush=True)
        done = subprocess.run(
            [sys.executable, __file__, *passed, *flags], capture_output=True, text=True, check=True
        )
        print(done.stdout, end="", flush=True)
        rows = [line.split() for line in done.stdout.splitlines() if line.startswith("Piper again")]
        peaks.append((label, float(rows[-1][-1]) if rows else float("nan")))
    print("\npeak RSS (VmHWM), MB:")
    for label, peak in peaks:
        print(f"  {label:50} {peak:8.1f}")


def status() -> dict[str, float]:
    """VmRSS, RssAnon, RssFile and VmHWM in MB."""
    found = {}
    for line in Path("/proc/self/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "RssAnon", "RssFile", "VmHWM"):
            found[key] = int(value.split()[0]) / 1024
    return found


class Steps:
    def __init__(self) -> None:
        self.last = 0.0
        print(f"{'step':44} {'RSS':>8} {'change':>8} {'anon':>8} {'file':>8} {'peak':>8}")

    def __call__(self, step: str) -> None:
        now = status()
        rss = now["VmRSS"]
        print(
            f"{step:44} {rss:8.1f} {rss - self.last:+8.1f} {now['RssAnon']:8.1f} "
            f"{now['RssFile']:8.1f} {now['VmHWM']:8.1f}"
        )
        self.last = rss


def llama_buffers(lines: list[str]) -> list[str]:
    """llama.cpp's buffer-size lines from its load log."""
    pattern = re.compile(r"(buffer size|KV buffer|RS buffer|size =).*MiB", re.IGNORECASE)
    return sorted({" ".join(line.split()) for line in lines if pattern.search(line)})


def _catch_llama_log() -> list[str]:
    """Every llama.cpp log line of the engine's loads (its LoadLog keeps them here too)."""
    from satellite.llm import engine, loadlog

    lines: list[str] = []

    class Keeping(loadlog.LoadLog):
        def __exit__(self, *exc: object) -> None:
            lines.extend(self.lines)
            super().__exit__(None, None, None)

    engine.LoadLog = Keeping  # type: ignore[misc]
    return lines


def _batch(size: int) -> None:
    """The engine's batch (llama.cpp's n_batch: its compute buffer and llama-cpp-python's
    logits array, n_batch x vocabulary floats, scale with it)."""
    from satellite.llm import engine

    engine.BATCH = size  # type: ignore[misc]


def _scores_as_before() -> None:
    """llama-cpp-python's own logits copy (n_batch rows), cut to one row when saved."""
    from satellite.llm import engine

    def lean_save(llm: object) -> object:
        save = llm.save_state  # type: ignore[attr-defined]

        def saved() -> object:
            state = save()
            state.scores = state.scores[-1:].copy()
            return state

        llm.save_state = saved  # type: ignore[attr-defined]
        return llm

    engine._one_score_row = lean_save  # type: ignore[attr-defined]


def mappings(top: int = 12) -> None:
    """The largest resident mappings of /proc/self/smaps, by what they map."""
    sizes: dict[str, float] = {}
    name = ""
    for line in Path("/proc/self/smaps").read_text().splitlines():
        fields = line.split()
        if "-" in fields[0] and len(fields[0]) > 8 and ":" not in fields[0]:
            name = fields[5] if len(fields) > 5 else "[anonymous]"
        elif fields[0] == "Rss:":
            sizes[name] = sizes.get(name, 0.0) + int(fields[1]) / 1024
    print("\nresident mappings, MiB:")
    for key, size in sorted(sizes.items(), key=lambda item: -item[1])[:top]:
        print(f"  {size:8.1f}  {key}")


def _moonshine_with_arena() -> None:
    from satellite.models import onnx
    from satellite.stt import moonshine

    def opened(path: object, options: onnx.SessionOptions | None = None) -> object:
        chosen = dataclasses.replace(options or onnx.SessionOptions(), arena=True)
        return onnx.open_session(path, chosen)  # type: ignore[arg-type]

    moonshine.open_session = opened  # type: ignore[assignment]


def _sessions_as_before() -> None:
    """onnxruntime's pre-packing on, no trim after Moonshine's load and runs."""
    from satellite.models import onnx
    from satellite.stt import held, moonshine

    def opened(path: object, options: onnx.SessionOptions | None = None) -> object:
        chosen = dataclasses.replace(
            options or onnx.SessionOptions(), mem_pattern=True, prepack=True
        )
        return onnx.open_session(path, chosen)  # type: ignore[arg-type]

    moonshine.open_session = opened  # type: ignore[assignment]
    from satellite.tts import piper

    piper.open_session = opened  # type: ignore[assignment]
    moonshine.release_memory = held.release_memory = lambda: None  # type: ignore[assignment]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", default=default_models_dir())
    parser.add_argument("--llm", help="GGUF file (default: the bench's LFM2-1.2B stand-in)")
    parser.add_argument("--kv", choices=("f16", "q8_0"), default="q8_0")
    parser.add_argument("--piper-arena", action="store_true", help="keep Piper's ORT arena")
    parser.add_argument(
        "--moonshine-arena", action="store_true", help="Moonshine with onnxruntime's arena"
    )
    parser.add_argument("--max-phonemes", type=int, help="Piper: phonemes per run (default)")
    parser.add_argument("--batch", type=int, help="llama.cpp n_batch (default: the engine's)")
    parser.add_argument(
        "--scores-as-before",
        action="store_true",
        help="llama-cpp-python's n_batch rows of logits kept (cut to one row when saved)",
    )
    parser.add_argument(
        "--glibc-heap", action="store_true", help="keep glibc's own (rising) mmap threshold"
    )
    parser.add_argument(
        "--sessions-as-before",
        action="store_true",
        help="ONNX sessions as before (pre-packing, no trims after Moonshine's runs)",
    )
    parser.add_argument(
        "--plain-decoder", action="store_true", help="Moonshine's decoder file as it is"
    )
    parser.add_argument(
        "--side-by-side", action="store_true", help="each setting in its own process, in turn"
    )
    args = parser.parse_args()
    if args.side_by_side:
        side_by_side(sys.argv[1:])
        return
    steps = Steps()
    steps("python")
    import llama_cpp  # noqa: F401
    import numpy as np
    import onnxruntime  # noqa: F401
    import piper  # noqa: F401

    from satellite.app.loaders import moonshine_files, piper_files
    from satellite.bench.fullsetup import cache_dir
    from satellite.llm.config import LlmConfig
    from satellite.llm.engine import LlmEngine
    from satellite.llm.schema import choice, intent_schema
    from satellite.stt.moonshine import MoonshineRecognizer
    from satellite.stt.moonshine_config import MoonshineConfig
    from satellite.tts.piper import PiperTts
    from satellite.tts.piper_config import PiperConfig

    steps("imports (numpy, onnxruntime, llama_cpp, piper)")
    lines = _catch_llama_log()
    if args.moonshine_arena:
        _moonshine_with_arena()
    if args.batch:
        _batch(args.batch)
    if args.sessions_as_before:
        _sessions_as_before()
    if args.scores_as_before:
        _scores_as_before()
    if args.glibc_heap:
        from satellite.models import onnx

        onnx.bound_heap = lambda *_: None  # type: ignore[assignment]
    heard = MoonshineConfig(compact=not args.plain_decoder)
    stt = MoonshineRecognizer(moonshine_files(heard, args.models)[0].parent, heard)
    steps("Moonshine tiny loaded")
    voice = PiperConfig(arena=args.piper_arena)
    if args.max_phonemes:
        voice = dataclasses.replace(voice, max_phonemes=args.max_phonemes)
    model, config = piper_files(voice, args.models)
    tts = PiperTts(model, config, voice)
    steps("Piper voice loaded (and probed)")
    speech = np.concatenate(
        list(
            tts.synthesize(
                "Turned on the kitchen light. The timer is set for ten minutes, and it will ring."
            )
        )
    )
    steps("Piper: two sentences spoken")
    stt.transcribe(speech)
    steps("Moonshine: one transcription")
    path = Path(args.llm) if args.llm else cache_dir() / "LFM2-1.2B-Q4_K_M.gguf"
    llm = LlmEngine(dataclasses.replace(LlmConfig(model=str(path)), kv_cache=args.kv))
    steps(f"language model loaded ({path.name})")
    schema = intent_schema([choice("TurnOn", name=["kitchen", "hall"]), choice("GetTime")])
    llm.choose_intent("could you switch the kitchen light on", schema)
    steps("language model: one intent pass")
    "".join(llm.answer("why is the sky blue?"))
    steps("language model: one answer")
    llm.choose_intent("switch the hall light off", schema)
    "".join(llm.answer("and why is the sea blue?"))
    steps("and again, from the saved prefixes")
    list(tts.synthesize(LONG_SENTENCE))
    steps(f"Piper again: one sentence of {len(LONG_SENTENCE.split())} words")
    print("\nllama.cpp buffers:")
    for line in llama_buffers(lines):
        print(f"  {line}")
    mappings()


if __name__ == "__main__":
    main()
