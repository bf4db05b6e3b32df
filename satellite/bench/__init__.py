"""`satellite bench`: the real pipeline on spoken turns, timed stage by stage.

- `corpus`: the spoken turns (wake phrase + command) and idle audio, made by espeak-ng;
- `runner`: builds the satellite as `run` does (real broker, null audio output) and feeds it;
- `workers`: what runs in a process of its own (cold load times, the reference loops);
- `report`: the JSON document and the table; `plot`: the chart (optional `matplotlib`);
- `fullsetup` and `synthetic/`: the full profile's models, or random-weight stand-ins of them.
"""
