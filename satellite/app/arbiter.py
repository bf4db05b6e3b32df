"""One room answers: satellites on one broker that heard the same wake word agree on one.

There is no coordinator. Each satellite publishes its `wake` event (with the phrase's `level`
in dBFS, its `score` and the wall-clock `timestamp`) and hears the others' (`mqtt/peers.py`).
When other satellites are online, a wake is a claim: `conversation.arbitration_window` seconds
later each satellite ranks the claims made within the window of its own — loudest first, then
the highest score, then the lowest site id — and every one comes to the same answer from the
same claims. The winner answers; the others drop the turn silently (`drop`: the pipeline's
`stop_turn` on the processing thread), their wake earcon never played: while a claim is open the
earcon waits for the decision, and a turn whose utterance ended meanwhile waits for it on its
worker thread (`ArbitratedHandler`). The decision is an `arbitration` event (on MQTT too). With
the broker down, or no other satellite online, a wake is no claim: the satellite acts alone at
once.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Final

from satellite.events import ArbitrationEvent, Event, UtteranceEvent, WakeEvent
from satellite.mqtt.peers import Peer, PeerPresence, PeerWake
from satellite.voice.pipeline import Chime, TextHandler
from satellite.voice.turn import TurnStep

log = logging.getLogger(__name__)
KEEP: Final = 32
"""Peer claims remembered (the last few seconds' worth in any house)."""
GRACE: Final = 2.0
"""Seconds beyond the window a turn waits for a decision that does not come (a stuck timer
thread): then it goes on, as if alone."""
BELONGS: Final = 1.0
"""An utterance starting within this many seconds (plus the window) of a lost wake is that
wake's command, however the threads interleave: it is never answered."""


@dataclass(frozen=True)
class Claim:
    site_id: str
    level: float
    score: float
    at: float
    """Wall-clock time of the wake."""

    def rank(self) -> tuple[float, float, str]:
        """Sorts the winner first: loudest, then highest score, then lowest site id."""
        return (-self.level, -self.score, self.site_id)

    def as_dict(self) -> dict[str, float | str]:
        return {"site_id": self.site_id, "level": self.level, "score": self.score}


def winner(mine: Claim, claims: Iterable[Claim], window: float) -> tuple[Claim, list[Claim]]:
    """The winning claim and every contender: `mine` and the claims within `window` of it,
    one per site (its loudest)."""
    best: dict[str, Claim] = {mine.site_id: mine}
    for claim in claims:
        if abs(claim.at - mine.at) <= window and claim.site_id != mine.site_id:
            held = best.get(claim.site_id)
            if held is None or claim.rank() < held.rank():
                best[claim.site_id] = claim
    contenders = sorted(best.values(), key=Claim.rank)
    return contenders[0], contenders


class Arbiter:
    def __init__(
        self,
        site_id: str,
        window: float,
        publish: Callable[[Event], None],
        drop: Callable[[], None],
        clock: Callable[[], float],
        wall: Callable[[], float] = time.time,
    ) -> None:
        """`publish`: the bus; `drop`: ends the turn silently; `clock`: seconds into the
        audio stream (events' `t`); `wall`: the wall clock, shared by the satellites (NTP)."""
        self.site_id = site_id
        self.window = window
        self._publish = publish
        self._drop = drop
        self._clock = clock
        self._wall = wall
        self._lock = threading.Lock()
        self._online: set[str] = set()
        self._claims: deque[Claim] = deque(maxlen=KEEP)
        self._open: Claim | None = None
        self._decided = threading.Event()
        self._decided.set()
        self._lost: deque[float] = deque(maxlen=KEEP)
        """Stream times (`WakeEvent.t`) of the wakes lost."""
        self._chime: Callable[[], None] | None = None

    @property
    def peers(self) -> set[str]:
        """The other satellites online now."""
        with self._lock:
            return set(self._online)

    def on_peer(self, peer: Peer) -> None:
        """From MQTT (paho's thread): another satellite's wake or availability."""
        with self._lock:
            if isinstance(peer, PeerPresence):
                (self._online.add if peer.online else self._online.discard)(peer.site_id)
            elif isinstance(peer, PeerWake):
                self._online.add(peer.site_id)
                self._claims.append(Claim(peer.site_id, peer.level, peer.score, peer.at))

    def on_event(self, event: Event) -> None:
        """A bus subscriber (the processing thread): our own wake is a claim, when others are
        online; it is decided on a timer thread, never here."""
        if not isinstance(event, WakeEvent) or self.window <= 0:
            return
        mine = Claim(self.site_id, event.level, event.score, self._wall())
        with self._lock:
            if not self._online:
                return
            self._open, self._chime = mine, None
            self._decided.clear()
        timer = threading.Timer(self.window, self._decide, (mine, event.t))
        timer.name, timer.daemon = "arbiter", True
        timer.start()

    def chime(self, play: Chime) -> Chime:
        """`play`, with the wake earcon held back while a claim is open (played if we win)."""

        def chime(kind: str) -> None:
            with self._lock:
                if kind == "wake" and not self._decided.is_set():
                    self._chime = lambda: play(kind)
                    return
            play(kind)

        return chime

    def may_answer(self, start: float) -> bool:
        """Whether to answer the utterance that starts at `start` (stream seconds): after the
        open claim's decision, if one is open; never for the command of a lost wake."""
        if not self._decided.wait(self.window + GRACE):
            log.warning("arbitration: no decision in time; answering")
            return True
        with self._lock:
            return not any(t - BELONGS <= start <= t + self.window + BELONGS for t in self._lost)

    def _decide(self, mine: Claim, t: float) -> None:
        with self._lock:
            if self._open is not mine:
                return  # a later wake replaced it
            best, contenders = winner(mine, list(self._claims), self.window)
            won = best is mine
            if not won:
                self._lost.append(t)
            chime, self._chime = self._chime, None
            self._open = None
            self._decided.set()
        names = [c.site_id for c in contenders]
        log.info("arbitration: %s answers (heard by %s)", best.site_id, ", ".join(names))
        self._publish(
            ArbitrationEvent(self._clock(), best.site_id, won, [c.as_dict() for c in contenders])
        )
        if won and chime is not None:
            chime()
        elif not won:
            self._drop()


class ArbitratedHandler:
    """The assistant, answering a spoken turn only once this satellite has won its wake."""

    def __init__(self, handler: TextHandler, arbiter: Arbiter) -> None:
        self.handler = handler
        self.arbiter = arbiter

    def __call__(self, utterance: UtteranceEvent) -> Iterator[TurnStep]:
        if self.arbiter.may_answer(utterance.start):
            yield from self.handler(utterance)

    def respond(self, text: str, t: float) -> Iterable[TurnStep]:
        return self.handler.respond(text, t)
