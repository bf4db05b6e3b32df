"""Our topics and Hermes both ways: events and results out as messages, messages in as commands.

Out: `Messages` encodes an event (on our topic and, with Hermes, on Hermes's) and a command's
result. In: `Inbound.handle()` runs on paho's network thread and must stay cheap whatever
arrives: it checks and parses the message, logs a bad one (with its topic; a flood of them is
summarised, not logged one by one) and ignores it, and queues a good command for
`CommandWorker`, which calls the satellite's handler in arrival order on its own thread, with a
`reply` that answers it on the `result` topic. Every command gets exactly one `result`: the
queue is bounded, and a command that finds it full is refused at once (`ok: false`, with a
warning summarised per interval); one still waiting when the satellite stops, or whose handler
failed, is answered `ok: false` too; a second answer to the same command is ignored.
"""

from __future__ import annotations

import json
import logging
import queue
import threading
import time
from collections.abc import Callable
from typing import Final, Protocol

from satellite.events import Event
from satellite.mqtt.hermes_in import INBOUND, HermesInbound, HermesRequest
from satellite.mqtt.hermes_out import HermesTranslator, Message
from satellite.mqtt.payload import InvalidPayload
from satellite.mqtt.remote_commands import COMMAND_TOPICS, Command, parse_command
from satellite.mqtt.topics import (
    RESULT,
    STATE,
    Outgoing,
    Topics,
    encode,
    event_messages,
    new_event_id,
    now_iso,
    state_message,
)

log = logging.getLogger(__name__)

COMMAND_QUEUE: Final = 100
"""Commands waiting for the handler; more are dropped."""
BUSY: Final = f"refused: {COMMAND_QUEUE} commands are waiting"
STOPPING: Final = "not carried out: the satellite is stopping"
LOG_EVERY: Final = 10.0
"""Seconds between warnings about bad messages on one topic (the rest go to DEBUG)."""


class ProblemLog:
    """Logs a problem per topic as a warning at most every LOG_EVERY s, counting the rest."""

    def __init__(self) -> None:
        self._last: dict[str, float] = {}
        self._hidden: dict[str, int] = {}
        self.count = 0
        """Problems reported so far."""

    def report(self, topic: str, problem: str) -> None:
        self.count += 1
        now = time.monotonic()
        key = topic[:200]
        if now - self._last.get(key, -LOG_EVERY) < LOG_EVERY:
            self._hidden[key] = self._hidden.get(key, 0) + 1
            log.debug("MQTT: ignored a message on %s: %s", topic, problem)
            return
        hidden = self._hidden.pop(key, 0)
        self._last[key] = now
        more = f" (and {hidden} more since the last warning)" if hidden else ""
        log.warning("MQTT: ignored a message on %s: %s%s", topic, problem, more)


class Reply(Protocol):
    """Answers one command: `ok`, and why not."""

    def __call__(self, ok: bool, detail: str = "") -> None: ...


CommandHandler = Callable[[Command, Reply], None]
"""The satellite's side: carries out a command and answers it, once, through `reply`."""
BeforeHook = Callable[[Command, str | None], None]
Answer = Callable[[Command, bool, str], None]


class CommandWorker:
    """Calls `handler(command, reply)` for each submitted command, in order, on one thread;
    `reply(ok, detail)` calls `answer(command, ok, detail)`."""

    def __init__(
        self, handler: CommandHandler, before: BeforeHook, answer: Answer, problems: ProblemLog
    ) -> None:
        self.handler = handler
        self.before = before
        self.answer = answer
        self.problems = problems
        self._queue: queue.Queue[tuple[Command, str | None] | None] = queue.Queue(COMMAND_QUEUE)
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="mqtt-commands", daemon=True)
            self._thread.start()

    def submit(self, command: Command, topic: str, custom_data: str | None = None) -> None:
        try:
            self._queue.put_nowait((command, custom_data))
        except queue.Full:
            self.problems.report(topic, f"{COMMAND_QUEUE} commands are waiting; refused this one")
            self.answer(command, False, BUSY)

    def _run(self) -> None:
        while (item := self._queue.get()) is not None:
            command, custom_data = item
            reply = self._reply(command)
            try:
                self.before(command, custom_data)
                self.handler(command, reply)
            except Exception as err:
                log.exception("MQTT: the handler of command %s failed", command.name)
                reply(False, f"internal error: {str(err)[:80]}")

    def _reply(self, command: Command) -> Reply:
        answered = threading.Event()
        lock = threading.Lock()

        def reply(ok: bool, detail: str = "") -> None:
            with lock:
                if answered.is_set():
                    log.debug("MQTT: %s was answered already", command.name)
                    return
                answered.set()
            self.answer(command, ok, detail)

        return reply

    def stop(self, timeout: float) -> None:
        """Answer the commands still waiting (`ok: false`) and end the thread (bounded)."""
        thread, self._thread = self._thread, None
        if thread is None:
            return
        while True:  # make room for the end marker: pending commands are refused
            self._drain()
            try:
                self._queue.put_nowait(None)
                break
            except queue.Full:
                continue
        thread.join(timeout)

    def _drain(self) -> None:
        while True:
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                return
            if item is not None:
                self.answer(item[0], False, STOPPING)


class Inbound:
    """Routes our command topics and the Hermes requests to the worker."""

    def __init__(
        self,
        topics: Topics,
        limit: int,
        worker: CommandWorker,
        hermes: HermesInbound | None,
    ) -> None:
        self.topics = topics
        self.limit = limit
        self.worker = worker
        self.hermes = hermes
        self.problems = worker.problems

    def filters(self) -> list[str]:
        """The topics to subscribe to."""
        own = [self.topics(name) for name in COMMAND_TOPICS]
        return own + (list(INBOUND) if self.hermes else [])

    def handle(self, topic: str, payload: bytes, retain: bool) -> None:
        """Check, parse and queue one message; never raises."""
        if retain:
            self.problems.report(topic, "a retained command (it would run at every reconnection)")
            return
        try:
            if topic.startswith(self.topics.base + "/"):
                suffix = topic[len(self.topics.base) + 1 :]
                self.worker.submit(parse_command(suffix, payload, self.limit), topic)
            elif self.hermes is not None:
                self._hermes(topic, payload)
        except InvalidPayload as err:
            self.problems.report(topic, str(err))
        except Exception as err:  # a parser bug must not take paho's thread down
            log.exception("MQTT: cannot handle a message on %s", topic)
            self.problems.report(topic, f"internal error: {err}")

    def _hermes(self, topic: str, payload: bytes) -> None:
        assert self.hermes is not None
        request: HermesRequest | None = self.hermes.parse(topic, payload)
        if request is None:
            log.debug("MQTT: %s is for another site or session", topic)
            return
        self.worker.submit(request.command, topic, request.custom_data)


def encode_hermes(messages: list[Message]) -> tuple[Outgoing, ...]:
    return tuple(
        Outgoing(topic, json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode())
        for topic, data in messages
    )


class Messages:
    """Events and results as the messages that publish them: ours and, with Hermes, its own."""

    def __init__(self, topics: Topics, hermes: HermesTranslator | None) -> None:
        self.topics = topics
        self.hermes = hermes

    def event(self, event: Event) -> tuple[tuple[Outgoing, ...], Outgoing | None]:
        """The messages of `event`, and the retained `state` message when it is a state change;
        TypeError or ValueError when it cannot be encoded."""
        event_id = new_event_id()
        hermes = encode_hermes(self.hermes.event(event, event_id)) if self.hermes else ()
        if event.type == STATE:
            return hermes, state_message(self.topics, event.to_dict(), now_iso())
        return event_messages(event, self.topics, now_iso(), event_id) + hermes, None

    def state(self, state: str) -> Outgoing:
        return state_message(self.topics, {"type": STATE, "state": state}, now_iso())

    def result(self, command: Command, ok: bool, detail: str) -> tuple[Outgoing, ...]:
        """The `result` message (and Hermes: sayFinished, sessionEnded)."""
        event_id = new_event_id()
        data = {
            "type": RESULT,
            "command": command.name,
            "ok": ok,
            "detail": detail,
            "request_id": command.request_id,
            "origin": command.origin,
        }
        payload = encode(data, self.topics.site_id, now_iso(), event_id)
        messages: tuple[Outgoing, ...] = (Outgoing(self.topics(RESULT), payload),)
        if self.hermes is not None:
            messages += encode_hermes(self.hermes.result(command, ok, event_id))
        return messages

    def command(self, command: Command, custom_data: str | None) -> tuple[Outgoing, ...]:
        """What Hermes says when `command` is handed over (sessions it starts or continues)."""
        return encode_hermes(self.hermes.command(command, custom_data)) if self.hermes else ()
