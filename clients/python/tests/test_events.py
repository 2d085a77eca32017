"""The live events: SSE framing, typed events, and resuming with Last-Event-ID after a drop."""

from __future__ import annotations

import json
from typing import Iterator, List

import httpx
import pytest

import edgedial
from edgedial import ContactEvent, EndEvent, ResultEvent, SnapshotEvent
from edgedial._events import SseMessage, SseParser, reconnect_delay, to_campaign_event

SNAPSHOT = '{"campaign_id":"cmp_1","status":"running","status_reason":null,"stats":{"total":2},"in_flight":1,"attempts":1,"at":"t"}'
END = SNAPSHOT.replace("running", "completed")


def contact(event_id: int, status: str) -> str:
    return f'event: contact\nid: {event_id}\ndata: {{"contact_id":"ctc_{event_id}","phone_number":"+1","status":"{status}","attempt":1,"outcome":null,"at":"t"}}\n\n'


def test_the_parser_follows_the_eventsource_rules() -> None:
    parser = SseParser()
    messages: List[SseMessage] = []
    # CRLF split between chunks, a comment, a two-line data field, retry and a field without a value.
    for chunk in ["retry: 1500\r", "\n: heartbeat\r\n", "event: contact\nid: 7\ndata: {\"a\":\ndata: 1}\n", "\n", "data\n\n", "data: tail"]:
        messages.extend(parser.push(chunk))
    assert messages[0] == SseMessage("contact", "7", '{"a":\n1}', 1500)
    assert messages[1] == SseMessage("message", None, "", None)
    assert len(messages) == 2, "a message is only complete at its blank line"


def test_messages_become_typed_events() -> None:
    assert to_campaign_event(SseMessage("message", None, SNAPSHOT, None)) == SnapshotEvent(data=json.loads(SNAPSHOT))
    transition = to_campaign_event(SseMessage("contact", "3", '{"contact_id":"ctc_1","status":"completed"}', None))
    assert isinstance(transition, ContactEvent) and transition.id == 3 and transition.data["status"] == "completed"
    result = to_campaign_event(SseMessage("result", "4", '{"contact_id":"ctc_1","call_id":"call_1","disposition":"interested"}', None))
    assert isinstance(result, ResultEvent) and result.type == "result" and result.data["disposition"] == "interested"
    assert isinstance(to_campaign_event(SseMessage("end", None, END, None)), EndEvent)
    assert to_campaign_event(SseMessage("contact", None, "{}", None)) is None, "a transition without an id cannot be resumed after"
    assert to_campaign_event(SseMessage("something-new", "5", "{}", None)) is None


def test_reconnect_delay_doubles_and_is_capped() -> None:
    assert reconnect_delay(1, 3.0, jitter=lambda: 0.5) == 3.0
    assert reconnect_delay(3, 3.0, jitter=lambda: 0.5) == 12.0
    assert reconnect_delay(10, 3.0, jitter=lambda: 1.0) == 30.0


def dropping(*chunks: str) -> Iterator[bytes]:
    for chunk in chunks:
        yield chunk.encode()
    raise httpx.ReadError("connection reset by peer")


def test_a_dropped_stream_resumes_after_the_last_event(scripted) -> None:
    run = scripted(
        httpx.Response(200, content=dropping("retry: 10\n\n", f"data: {SNAPSHOT}\n\n", contact(1, "originated"), contact(2, "connected")[:20])),
        httpx.Response(503, text="restarting"),
        httpx.Response(200, content=(f"data: {SNAPSHOT}\n\n" + contact(1, "originated") + contact(2, "connected") + f"event: end\ndata: {END}\n\n").encode()),
    )
    events = list(run.client.campaigns.stream_events("cmp_1"))
    assert [event.type for event in events] == ["snapshot", "contact", "snapshot", "contact", "end"]
    assert [event.id for event in events if isinstance(event, ContactEvent)] == [1, 2], "a replayed event is not handed over twice"
    assert [request.headers.get("last-event-id") for request in run.script.requests] == [None, "1", "1"]
    assert run.script.requests[0].headers["accept"] == "text/event-stream"
    assert len(run.sleeps) == 2 and run.sleeps[1] > run.sleeps[0], "failures in a row back off from the server's retry: hint"
    assert run.sleeps[0] < 0.05


def test_a_stream_that_closes_early_is_reopened_and_end_stops_it(scripted) -> None:
    run = scripted(
        httpx.Response(200, content=(contact(5, "completed")).encode()),
        httpx.Response(200, content=(f"event: end\ndata: {END}\n\n" + contact(6, "never")).encode()),
    )
    events = list(run.client.campaigns.stream_events("cmp_1", last_event_id=4))
    assert [event.type for event in events] == ["contact", "end"]
    assert [request.headers.get("last-event-id") for request in run.script.requests] == ["4", "5"]


def test_a_refused_stream_raises_at_once(scripted) -> None:
    run = scripted(httpx.Response(404, json={"error": {"code": "not_found", "message": "Campaign cmp_x not found."}}))
    with pytest.raises(edgedial.NotFoundError, match="cmp_x"):
        next(iter(run.client.campaigns.stream_events("cmp_x")))
    assert len(run.script.requests) == 1


def test_the_stream_gives_up_after_max_reconnects(scripted) -> None:
    run = scripted(*[httpx.ConnectError("refused") for _ in range(3)])
    with pytest.raises(edgedial.StreamGaveUpError, match="gave up after 2"):
        list(run.client.campaigns.stream_events("cmp_1", max_reconnects=2))
    assert len(run.script.requests) == 3
