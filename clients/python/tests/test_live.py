"""The SDK against a real edgedial (a throwaway `wrangler dev` with the simulator carrier and agent)."""

from __future__ import annotations

import asyncio
import os
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Dict, List, Tuple

import pytest

import edgedial
from edgedial import AsyncEdgedial, ContactEvent, Edgedial, EndEvent, ResultEvent, SnapshotEvent

from .conftest import Live


def unique_numbers(count: int, last_two: str, third_fourth: str = "00") -> List[str]:
    """Numbers no other test uses; the simulator answers by the last two digits and its agent by the two before."""
    base = uuid.uuid4().int % 10_000
    return [f"+1415{(base + i) % 10_000:04d}{third_fourth}{last_two}" for i in range(count)]


@pytest.fixture
def client(live: Live) -> Edgedial:
    with Edgedial(api_key=live.api_key, base_url=live.base_url) as opened:
        yield opened


def create(client: Edgedial, live: Live, numbers: List[str], **settings: object) -> dict:
    csv = "phone_number,first_name\n" + "".join(f"{number},P{i}\n" for i, number in enumerate(numbers))
    return client.campaigns.create(name="Python live", agent_id=live.agent_id, phone_number_id=live.phone_number_id, contacts=csv.encode(), **settings)


def test_live_campaign_runs_to_its_end(client: Edgedial, live: Live) -> None:
    answered, busy = unique_numbers(2, "01"), unique_numbers(1, "71")
    settings = {"max_concurrent_calls": 2}
    preflight = client.campaigns.preflight(
        name="Python live", agent_id=live.agent_id, phone_number_id=live.phone_number_id, contacts=("phone_number\n" + "\n".join(answered + busy)).encode(), **settings
    )
    assert preflight["ok"] is True and preflight["contacts"] == 3

    campaign = create(client, live, answered + busy + [answered[0]], **settings)
    assert campaign["status"] == "draft" and campaign["stats"]["total"] == 3 and campaign["duplicates_skipped"] == 1
    assert client.campaigns.get(campaign["id"])["max_concurrent_calls"] == 2
    assert campaign["id"] in {found["id"] for found in client.campaigns.list(status="draft", limit=100).items}
    assert client.campaigns.list_contacts(campaign["id"], status="pending").total == 3

    assert client.campaigns.start(campaign["id"])["status"] == "running"
    events = list(client.campaigns.stream_events(campaign["id"]))
    assert isinstance(events[0], SnapshotEvent) and isinstance(events[-1], EndEvent)
    assert events[-1].data["status"] == "completed" and events[-1].data["stats"]["completed"] == 2 and events[-1].data["stats"]["failed"] == 1
    ids = [event.id for event in events if isinstance(event, ContactEvent)]
    assert ids == sorted(set(ids)) and ids, f"each contact's transitions once, in order: {ids}"

    # A stream opened without last_event_id starts from now; from 0 it replays the whole history, then ends at once.
    replay = [event.id for event in client.campaigns.stream_events(campaign["id"], last_event_id=0) if isinstance(event, ContactEvent)]
    assert replay == list(range(1, len(replay) + 1)) and replay[-len(ids) :] == ids and len(replay) >= 6

    completed = client.campaigns.list_contacts(campaign["id"], status="completed")
    assert sorted(contact["phone_number"] for contact in completed.items) == sorted(answered)
    exported = client.campaigns.export_contacts(campaign["id"])
    assert exported.splitlines()[0].startswith("row,phone_number,status") and all(number in exported for number in answered + busy)

    retry = client.campaigns.clone(campaign["id"], name="Busy again", outcomes=["busy"])
    assert retry["status"] == "draft" and retry["stats"]["total"] == 1 and retry["source_campaign_id"] == campaign["id"]
    assert client.campaigns.stop(campaign["id"])["status"] == "completed", "stop on a finished campaign answers it unchanged"
    client.campaigns.delete(retry["id"])
    with pytest.raises(edgedial.NotFoundError):
        client.campaigns.get(retry["id"])


def test_live_lifecycle_actions_and_their_conflicts(client: Edgedial, live: Live) -> None:
    campaign = create(client, live, unique_numbers(2, "99"))
    with pytest.raises(edgedial.ConflictError) as refused:
        client.campaigns.pause(campaign["id"])
    assert refused.value.status == 409 and refused.value.message
    assert client.campaigns.start(campaign["id"])["status"] == "running"
    with pytest.raises(edgedial.ConflictError):
        client.campaigns.delete(campaign["id"])
    assert client.campaigns.pause(campaign["id"])["status"] == "paused"
    assert client.campaigns.resume(campaign["id"])["status"] == "running"
    stopped = client.campaigns.stop(campaign["id"])
    assert stopped["status"] == "completed" and stopped["completed_at"]
    ended = list(client.campaigns.stream_events(campaign["id"]))
    assert isinstance(ended[-1], EndEvent) and ended[-1].data["status"] == "completed"


def test_live_errors_carry_the_apis_sentence(client: Edgedial, live: Live) -> None:
    with pytest.raises(edgedial.NotFoundError) as missing:
        client.campaigns.get("cmp_doesnotexist")
    assert missing.value.code != "http_404", "the JSON error body's code is read"
    with pytest.raises(edgedial.BadRequestError) as invalid:
        create(client, live, ["not a number"])
    assert "2" in invalid.value.message, f"the sentence names the bad line: {invalid.value.message}"
    with pytest.raises(edgedial.AuthenticationError):
        Edgedial(api_key="sk_live_nobody_secret", base_url=live.base_url).campaigns.list()
    with pytest.raises(edgedial.APIConnectionError):
        Edgedial(api_key="k", base_url="http://127.0.0.1:9", max_retries=0).campaigns.list()


def test_live_result_reported_with_the_key_replaces_the_agents(client: Edgedial, live: Live) -> None:
    # Third- and fourth-last digits 11: the simulated agent reports `interested` on the call.
    campaign = create(client, live, unique_numbers(1, "02", third_fourth="11"))
    client.campaigns.start(campaign["id"])
    results = [event for event in client.campaigns.stream_events(campaign["id"]) if isinstance(event, ResultEvent)]
    assert [result.data["disposition"] for result in results] == ["interested"]
    contact = client.calls.report_result(results[0].data["call_id"], disposition="qualified", data={"seats": 3, "trial": True}, summary="Wants three seats.")
    assert contact["result"]["disposition"] == "qualified" and contact["result"]["data"] == {"seats": 3, "trial": True}
    with pytest.raises(edgedial.BadRequestError, match="disposition"):
        client.calls.report_result(results[0].data["call_id"], disposition="Not Valid!")


def test_live_do_not_call_list(client: Edgedial) -> None:
    first, second = unique_numbers(2, "50")
    added = client.dnc.add([first], reason="asked on the phone")
    assert added["added"] == 1 and added["invalid"] == []
    assert client.dnc.add(csv=f"phone_number\n{second}\nnonsense\n".encode())["invalid"][0]["row"] == 3
    assert client.dnc.get(first)["reason"] == "asked on the phone"
    assert {entry["phone_number"] for entry in client.dnc.list(prefix=os.path.commonprefix([first, second]), limit=1000).items} >= {first, second}
    client.dnc.remove(first)
    with pytest.raises(edgedial.NotFoundError):
        client.dnc.get(first)


class Receiver(BaseHTTPRequestHandler):
    deliveries: List[Tuple[bytes, Dict[str, str]]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        Receiver.deliveries.append((body, dict(self.headers.items())))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


def test_live_webhook_ping_arrives_signed_and_verifies(client: Edgedial) -> None:
    server = HTTPServer(("127.0.0.1", 0), Receiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        endpoint = client.webhooks.create(url=f"http://127.0.0.1:{server.server_port}/hooks", events=["ping"], description="python")
        assert endpoint["secret"].startswith("whsec_") and "secret" not in client.webhooks.get(endpoint["id"])
        message_id = client.webhooks.test(endpoint["id"])["message_id"]
        deadline = time.monotonic() + 30
        while not Receiver.deliveries and time.monotonic() < deadline:
            time.sleep(0.1)
        assert Receiver.deliveries, "the ping never arrived"
        body, headers = Receiver.deliveries[0]
        assert client.webhooks.verify(body, headers, endpoint["secret"])["type"] == "ping"
        assert {k.lower(): v for k, v in headers.items()}["webhook-id"] == message_id
        with pytest.raises(edgedial.WebhookVerificationError):
            client.webhooks.verify(body + b" ", headers, endpoint["secret"])
        assert client.webhooks.update(endpoint["id"], enabled=False)["enabled"] is False
        assert any(delivery["message_id"] == message_id for delivery in client.webhooks.deliveries(endpoint["id"]).items)
        client.webhooks.delete(endpoint["id"])
        with pytest.raises(edgedial.NotFoundError):
            client.webhooks.get(endpoint["id"])
    finally:
        server.shutdown()


def test_live_agents_numbers_and_limits(client: Edgedial, live: Live) -> None:
    agent = client.agents.create(name="Draft agent", stream_url="wss://agent.example/stream")
    assert agent["status"] == "draft"
    assert client.agents.update(agent["id"], name="Renamed")["name"] == "Renamed"
    assert agent["id"] in {found["id"] for found in client.agents.list(limit=100)}
    client.agents.delete(agent["id"])
    numbers = client.telephony.numbers.list()
    assert live.phone_number_id in {number["id"] for number in numbers}
    provider_id = client.telephony.numbers.get(live.phone_number_id)["credentials_id"]
    assert client.telephony.providers.get(provider_id)["provider"] == "simulator"
    with pytest.raises(edgedial.ConflictError):
        client.telephony.providers.delete(provider_id)
    assert client.call_limits.get()["concurrent_max"] == 100


def test_live_async_client_follows_a_campaign(live: Live) -> None:
    async def main() -> List[str]:
        async with AsyncEdgedial(api_key=live.api_key, base_url=live.base_url) as client:
            csv = "phone_number\n" + "\n".join(unique_numbers(2, "03"))
            campaign = await client.campaigns.create(name="Async", agent_id=live.agent_id, phone_number_id=live.phone_number_id, contacts=csv.encode())
            await client.campaigns.start(campaign["id"])
            kinds = [event.type async for event in client.campaigns.stream_events(campaign["id"])]
            assert (await client.campaigns.get(campaign["id"]))["status"] == "completed"
            return kinds

    kinds = asyncio.run(main())
    assert kinds[0] == "snapshot" and kinds[-1] == "end" and kinds.count("contact") >= 4
