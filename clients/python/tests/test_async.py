"""AsyncEdgedial has the sync client's behaviour: the same requests, retries, errors and event stream."""

from __future__ import annotations

import asyncio
import json
from typing import AsyncIterator, List

import httpx
import pytest

import edgedial
from edgedial import AsyncEdgedial, ContactEvent

from .conftest import Script, json_reply
from .test_events import END, contact


def run_with(script: Script, scenario) -> List[float]:
    """Runs `scenario(client)` on an AsyncEdgedial over the scripted transport; answers the waits it asked for."""
    sleeps: List[float] = []

    async def record(seconds: float) -> None:
        sleeps.append(seconds)

    async def main() -> None:
        http = httpx.AsyncClient(transport=httpx.MockTransport(script))
        async with AsyncEdgedial(api_key="sk_live_unit_secret", base_url="https://api.example.test", http_client=http) as client:
            client._sleep = record
            await scenario(client)
        assert http.is_closed, "leaving the context manager closes the connection pool"

    asyncio.run(main())
    return sleeps


async def dropping(*chunks: str) -> AsyncIterator[bytes]:
    for chunk in chunks:
        yield chunk.encode()
    raise httpx.ReadError("connection reset by peer")


def test_async_create_retries_with_one_key_and_answers_the_campaign() -> None:
    script = Script([httpx.Response(503, text="busy"), json_reply(201, {"id": "cmp_9", "status": "draft"})])
    created = {}

    async def scenario(client: AsyncEdgedial) -> None:
        created.update(await client.campaigns.create(name="Spring", agent_id="agt_1", phone_number_id="pn_1", contacts=[{"phone_number": "+14155550100"}]))

    sleeps = run_with(script, scenario)
    assert created["id"] == "cmp_9" and len(sleeps) == 1
    first, second = script.requests
    assert first.headers["idempotency-key"] == second.headers["idempotency-key"]
    assert json.loads(second.content)["contacts"] == [{"phone_number": "+14155550100"}]


def test_async_errors_are_the_same_exceptions() -> None:
    script = Script([json_reply(409, {"error": {"code": "invalid_state", "message": "Only a running campaign can be paused."}})])

    async def scenario(client: AsyncEdgedial) -> None:
        with pytest.raises(edgedial.ConflictError, match="running campaign"):
            await client.campaigns.pause("cmp_1")

    assert run_with(script, scenario) == []


def test_async_stream_resumes_with_last_event_id() -> None:
    script = Script(
        [
            httpx.Response(200, content=dropping("retry: 5\n\n", contact(1, "originated"))),
            httpx.Response(200, content=(contact(2, "completed") + f"event: end\ndata: {END}\n\n").encode()),
        ]
    )
    seen: List[object] = []

    async def scenario(client: AsyncEdgedial) -> None:
        async for event in client.campaigns.stream_events("cmp_1"):
            seen.append(event)

    run_with(script, scenario)
    assert [event.type for event in seen] == ["contact", "contact", "end"]
    assert [event.id for event in seen if isinstance(event, ContactEvent)] == [1, 2]
    assert [request.headers.get("last-event-id") for request in script.requests] == [None, "1"]


def test_async_iter_contacts_and_verify() -> None:
    page = {"count": 1, "total": 1, "limit": 100, "offset": 0, "has_next": False, "has_prev": False, "next_offset": None, "prev_offset": None}
    script = Script([json_reply(200, {**page, "contacts": [{"id": "ctc_1"}]})])
    ids: List[str] = []

    async def scenario(client: AsyncEdgedial) -> None:
        async for found in client.campaigns.iter_contacts("cmp_1"):
            ids.append(found["id"])
        with pytest.raises(edgedial.WebhookVerificationError):
            client.webhooks.verify("{}", {"webhook-id": "m", "webhook-timestamp": "1", "webhook-signature": "v1,x"}, "whsec_AAAA")

    run_with(script, scenario)
    assert ids == ["ctc_1"]
