"""A campaign's live events (`GET …/campaigns/{id}/events`, SSE): framing, typed events and reconnect timing.

The rules match the service's own stream module (public/campaign-stream.js): unnamed messages are
snapshots, `contact` and `result` carry one id sequence that a reconnect resumes after, `end` closes.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from typing import Callable, Dict, List, Literal, Optional, TypedDict, Union

from ._errors import APIConnectionError
from .types import CampaignStatus, ContactStatus, Stats

# The wait before a reconnect until the server's `retry:` says otherwise.
DEFAULT_RETRY_SECONDS = 3.0
BACKOFF_MAX_SECONDS = 30.0
DEFAULT_MAX_RECONNECTS = 10


class SnapshotData(TypedDict, total=False):
    campaign_id: str
    name: str
    status: CampaignStatus
    status_reason: Optional[str]
    stats: Stats
    in_flight: int
    attempts: int
    at: str


class ContactTransition(TypedDict):
    contact_id: str
    phone_number: str
    status: ContactStatus
    attempt: int
    outcome: Optional[str]
    at: str


class CallResultData(TypedDict):
    contact_id: str
    call_id: str
    disposition: str
    callback_at: Optional[str]
    opt_out: bool
    at: str


@dataclass(frozen=True)
class SnapshotEvent:
    """The campaign's counts, at connect and every 2 s while it runs."""

    data: SnapshotData
    type: Literal["snapshot"] = "snapshot"


@dataclass(frozen=True)
class ContactEvent:
    """A contact changed status; `id` is the event's place in the campaign's sequence."""

    id: int
    data: ContactTransition
    type: Literal["contact"] = "contact"


@dataclass(frozen=True)
class ResultEvent:
    """The agent reported a call's result."""

    id: int
    data: CallResultData
    type: Literal["result"] = "result"


@dataclass(frozen=True)
class EndEvent:
    """The campaign reached `completed` or `failed`: the final snapshot, and the last event."""

    data: SnapshotData
    type: Literal["end"] = "end"


CampaignEvent = Union[SnapshotEvent, ContactEvent, ResultEvent, EndEvent]


@dataclass(frozen=True)
class SseMessage:
    event: str
    id: Optional[str]
    data: str
    retry: Optional[int]


class SseParser:
    """Incremental SSE framing by the EventSource field rules: `push` takes text as it arrives and returns the messages it completed."""

    def __init__(self) -> None:
        self._buffer = ""
        self._event: Optional[str] = None
        self._id: Optional[str] = None
        self._data: List[str] = []
        self._retry: Optional[int] = None
        self._started = False

    def push(self, text: str) -> List[SseMessage]:
        self._buffer += text
        # A CR at the very end may be half of a CRLF split across chunks: it waits for the next one.
        held = "\r" if self._buffer.endswith("\r") else ""
        body = self._buffer[: len(self._buffer) - len(held)]
        lines = body.replace("\r\n", "\n").replace("\r", "\n").split("\n")
        self._buffer = lines.pop() + held
        messages: List[SseMessage] = []
        for line in lines:
            if line == "":
                if self._started:
                    messages.append(SseMessage(self._event or "message", self._id, "\n".join(self._data), self._retry))
                self._reset()
                continue
            if line.startswith(":"):
                continue
            name, _, value = line.partition(":")
            if value.startswith(" "):
                value = value[1:]
            self._started = True
            if name == "event":
                self._event = value
            elif name == "id":
                self._id = value
            elif name == "data":
                self._data.append(value)
            elif name == "retry" and value.isdigit():
                self._retry = int(value)
        return messages

    def _reset(self) -> None:
        self._event, self._id, self._data, self._retry, self._started = None, None, [], None, False


def to_campaign_event(message: SseMessage) -> Optional[CampaignEvent]:
    """What a message means on a campaign stream; None for anything that is not for us."""
    if message.data == "":
        return None
    if message.event == "message":
        return SnapshotEvent(data=json.loads(message.data))
    if message.event == "end":
        return EndEvent(data=json.loads(message.data))
    if message.id is None or not message.id.isdigit():
        return None
    if message.event == "contact":
        return ContactEvent(id=int(message.id), data=json.loads(message.data))
    if message.event == "result":
        return ResultEvent(id=int(message.id), data=json.loads(message.data))
    return None


def reconnect_delay(failures: int, retry_seconds: float, jitter: Callable[[], float] = random.random) -> float:
    """The wait before reconnect number `failures`: the server's hint doubled per failure in a row, capped, ±20%."""
    base = min(BACKOFF_MAX_SECONDS, retry_seconds * 2 ** max(0, failures - 1))
    return min(BACKOFF_MAX_SECONDS, base * (0.8 + jitter() * 0.4))


class StreamCursor:
    """The state a reconnecting reader carries between connections: where to resume and how long to wait."""

    def __init__(self, last_event_id: Optional[int], max_reconnects: int) -> None:
        self.last_event_id = last_event_id
        self.max_reconnects = max_reconnects
        self.retry_seconds = DEFAULT_RETRY_SECONDS
        self.failures = 0
        self.ended = False

    def request_headers(self) -> Dict[str, str]:
        headers = {"Accept": "text/event-stream", "Cache-Control": "no-cache"}
        if self.last_event_id is not None:
            headers["Last-Event-ID"] = str(self.last_event_id)
        return headers

    def accept(self, message: SseMessage) -> Optional[CampaignEvent]:
        """The event to hand to the caller for this message, or None (a repeat, a heartbeat, something foreign)."""
        if message.retry is not None:
            self.retry_seconds = message.retry / 1000
        event = to_campaign_event(message)
        if event is None:
            return None
        # A stream that delivers is healthy: only failures in a row count towards giving up.
        self.failures = 0
        if isinstance(event, (ContactEvent, ResultEvent)):
            # A replay starts after last_event_id; this guards against a server that repeats one.
            if self.last_event_id is not None and event.id <= self.last_event_id:
                return None
            self.last_event_id = event.id
        if isinstance(event, EndEvent):
            self.ended = True
        return event

    def next_delay(self, reason: BaseException) -> float:
        """The wait before the next connection; raises once failures in a row pass max_reconnects."""
        self.failures += 1
        if self.failures > self.max_reconnects:
            raise StreamGaveUpError(f"The events stream kept failing; gave up after {self.max_reconnects} reconnects.") from reason
        return reconnect_delay(self.failures, self.retry_seconds)


class StreamGaveUpError(APIConnectionError):
    """The events stream failed more times in a row than allowed."""


class StreamDropped(Exception):
    """A stream that closed or answered a retryable status before the campaign ended."""
