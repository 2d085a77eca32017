"""Requests as sent, errors as raised, and which failures are retried, over a scripted transport."""

from __future__ import annotations

import io
import json
from datetime import datetime, timezone
from pathlib import Path

import httpx
import pytest

import edgedial
from edgedial import Edgedial
from edgedial._retry import may_repeat, retry_delay

from .conftest import json_reply

CAMPAIGN = {"id": "cmp_1", "status": "draft"}
PAGE = {"count": 1, "total": 3, "limit": 1, "offset": 0, "has_next": True, "has_prev": False, "next_offset": 1, "prev_offset": None}


def test_settings_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EDGEDIAL_API_KEY", "sk_live_env_key")
    monkeypatch.setenv("EDGEDIAL_BASE_URL", "https://dialer.example.com/")
    seen = []
    transport = httpx.MockTransport(lambda request: seen.append(request) or json_reply(200, CAMPAIGN))
    with Edgedial(http_client=httpx.Client(transport=transport)) as client:
        client.campaigns.get("cmp_1")
    assert str(seen[0].url) == "https://dialer.example.com/api/v1/campaigns/cmp_1"
    assert seen[0].headers["authorization"] == "Bearer sk_live_env_key"
    assert seen[0].headers["accept"] == "application/json", "errors must come back as JSON with their code"


def test_default_base_url_is_npm_start(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("EDGEDIAL_BASE_URL", raising=False)
    assert Edgedial(api_key="k").base_url == "http://127.0.0.1:8787"


def test_a_missing_key_fails_before_any_request(scripted, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("EDGEDIAL_API_KEY", raising=False)
    run = scripted()
    client = Edgedial(base_url="https://api.example.test", http_client=run.client._http)
    with pytest.raises(edgedial.AuthenticationError, match="EDGEDIAL_API_KEY"):
        client.campaigns.list()
    assert run.script.requests == []


@pytest.mark.parametrize(
    "status, kind",
    [
        (400, edgedial.BadRequestError),
        (401, edgedial.AuthenticationError),
        (403, edgedial.PermissionDeniedError),
        (404, edgedial.NotFoundError),
        (409, edgedial.ConflictError),
        (413, edgedial.BadRequestError),
        (422, edgedial.BadRequestError),
    ],
)
def test_error_answers_become_typed_exceptions(scripted, status: int, kind: type) -> None:
    run = scripted(json_reply(status, {"error": {"code": "some_code", "message": "What is wrong and how to fix it."}}))
    with pytest.raises(kind) as raised:
        run.client.campaigns.start("cmp_1")
    assert isinstance(raised.value, edgedial.APIError)
    assert (raised.value.status, raised.value.code, raised.value.message) == (status, "some_code", "What is wrong and how to fix it.")
    assert len(run.script.requests) == 1, f"{status} must not be retried"


def test_a_plain_text_error_keeps_its_sentence(scripted) -> None:
    run = scripted(httpx.Response(404, text="Campaign not found."))
    with pytest.raises(edgedial.NotFoundError) as raised:
        run.client.campaigns.get("cmp_x")
    assert raised.value.code == "http_404"
    assert raised.value.message == "Campaign not found."


def test_reads_are_retried_after_5xx_with_backoff(scripted) -> None:
    run = scripted(httpx.Response(503, text="busy"), httpx.Response(502, text="busy"), json_reply(200, CAMPAIGN))
    assert run.client.campaigns.get("cmp_1")["id"] == "cmp_1"
    assert len(run.script.requests) == 3
    assert len(run.sleeps) == 2 and 0.3 <= run.sleeps[0] <= 0.7 and run.sleeps[1] > run.sleeps[0] * 1.1


def test_retry_after_is_honoured_on_429(scripted) -> None:
    run = scripted(json_reply(429, {"error": {"code": "rate_limited", "message": "Slow down."}}, {"Retry-After": "2"}), json_reply(200, CAMPAIGN))
    run.client.campaigns.get("cmp_1")
    assert run.sleeps == [2.0]


def test_retries_give_up_with_the_last_error(scripted) -> None:
    run = scripted(*[json_reply(429, {"error": {"code": "rate_limited", "message": "Slow down."}}, {"Retry-After": "1"}) for _ in range(3)])
    with pytest.raises(edgedial.RateLimitError) as raised:
        run.client.campaigns.list()
    assert raised.value.retry_after == 1.0
    assert len(run.script.requests) == 3, "max_retries=2 means three attempts"


def test_max_retries_zero_sends_once(scripted) -> None:
    run = scripted(httpx.Response(500, text="boom"), max_retries=0)
    with pytest.raises(edgedial.InternalServerError):
        run.client.campaigns.list()
    assert len(run.script.requests) == 1


def test_a_create_repeats_with_the_same_idempotency_key(scripted) -> None:
    run = scripted(httpx.ConnectError("connection reset"), httpx.Response(503, text="busy"), json_reply(201, CAMPAIGN))
    run.client.campaigns.create(name="Spring", agent_id="agt_1", phone_number_id="pn_1", contacts=b"phone_number\n+14155550100\n")
    keys = {request.headers.get("idempotency-key") for request in run.script.requests}
    assert len(run.script.requests) == 3 and len(keys) == 1 and None not in keys
    bodies = {request.content for request in run.script.requests}
    assert len(bodies) == 1 or all(b"+14155550100" in body for body in bodies), "each retry sends the whole file again"


def test_each_call_gets_a_fresh_idempotency_key(scripted) -> None:
    run = scripted(json_reply(200, CAMPAIGN), json_reply(200, CAMPAIGN), json_reply(200, CAMPAIGN))
    run.client.campaigns.start("cmp_1")
    run.client.campaigns.pause("cmp_1")
    run.client.campaigns.stop("cmp_1", idempotency_key="my-own-key")
    keys = [request.headers["idempotency-key"] for request in run.script.requests]
    assert keys[0] != keys[1] and keys[2] == "my-own-key"
    assert [request.url.path for request in run.script.requests] == ["/api/v1/campaigns/cmp_1/start", "/api/v1/campaigns/cmp_1/pause", "/api/v1/campaigns/cmp_1/stop"]


def test_a_conflict_is_retried_only_when_the_server_says_when(scripted) -> None:
    in_progress = json_reply(409, {"error": {"code": "idempotency_in_progress", "message": "The first request is still running."}}, {"Retry-After": "1"})
    run = scripted(in_progress, json_reply(200, CAMPAIGN))
    run.client.campaigns.start("cmp_1")
    assert run.sleeps == [1.0]


def test_network_failures_raise_connection_errors(scripted) -> None:
    run = scripted(*[httpx.ConnectError("refused") for _ in range(3)])
    with pytest.raises(edgedial.APIConnectionError, match="Could not reach"):
        run.client.campaigns.list()
    assert len(run.script.requests) == 3
    run = scripted(httpx.ReadTimeout("slow"), max_retries=0)
    with pytest.raises(edgedial.APITimeoutError):
        run.client.campaigns.list()


def test_which_requests_may_repeat() -> None:
    assert may_repeat("GET", False) and may_repeat("DELETE", False) and may_repeat("PUT", False)
    assert not may_repeat("POST", False) and not may_repeat("PATCH", False)
    assert may_repeat("POST", True)
    assert retry_delay(0, "30") == 30.0
    assert retry_delay(0, "3600") == 60.0, "a huge Retry-After is capped"
    assert retry_delay(10, None, jitter=lambda: 1.0) == 8.0 * 1.25


def test_contacts_from_a_path_an_open_file_or_bytes_go_as_multipart(scripted, tmp_path: Path) -> None:
    csv = "phone_number,first_name\n+14155550100,Ada\n"
    path = tmp_path / "contacts.csv"
    path.write_text(csv)
    run = scripted(*[json_reply(201, CAMPAIGN) for _ in range(4)])
    with open(path) as text_file:
        for contacts in (str(path), path, text_file, io.BytesIO(csv.encode())):
            run.client.campaigns.create(
                name="Spring", agent_id="agt_1", phone_number_id="pn_1", contacts=contacts, max_concurrent_calls=3, calling_days=["mon", "tue"], voicemail_action="hangup"
            )
    for request in run.script.requests:
        assert request.headers["content-type"].startswith("multipart/form-data")
        body = request.content.decode()
        assert 'name="contacts"; filename="contacts.csv"' in body and "+14155550100,Ada" in body
        assert 'name="max_concurrent_calls"\r\n\r\n3\r\n' in body
        assert 'name="calling_days"\r\n\r\nmon,tue\r\n' in body
        assert 'name="voicemail_action"\r\n\r\nhangup\r\n' in body
        assert "retries_per_contact" not in body, "settings left out are not sent"


def test_contacts_as_dicts_go_as_json(scripted) -> None:
    run = scripted(json_reply(201, CAMPAIGN))
    when = datetime(2030, 1, 2, 9, 30, tzinfo=timezone.utc)
    run.client.campaigns.create(name="Spring", agent_id="agt_1", phone_number_id="pn_1", contacts=[{"phone_number": "+14155550100", "plan": "gold"}], scheduled_at=when, retry_on=["busy"])
    body = json.loads(run.script.requests[0].content)
    assert body == {
        "name": "Spring",
        "agent_id": "agt_1",
        "phone_number_id": "pn_1",
        "scheduled_at": "2030-01-02T09:30:00Z",
        "retry_on": ["busy"],
        "contacts": [{"phone_number": "+14155550100", "plan": "gold"}],
    }
    with pytest.raises(ValueError, match="timezone"):
        run.client.campaigns.create(name="x", agent_id="a", phone_number_id="p", contacts=[], scheduled_at=datetime(2030, 1, 1))


def test_append_contacts_posts_to_the_campaigns_contacts(scripted) -> None:
    run = scripted(json_reply(200, {"added": 1, "duplicates_skipped": 0, "dnc_suppressed": 0, "total": 14}))
    answer = run.client.campaigns.append_contacts("cmp_1", [{"phone_number": "+14155550177"}])
    request = run.script.requests[0]
    assert (request.method, request.url.path) == ("POST", "/api/v1/campaigns/cmp_1/contacts")
    assert json.loads(request.content) == {"contacts": [{"phone_number": "+14155550177"}]}
    assert request.headers["idempotency-key"] and answer["added"] == 1


def test_a_result_url_is_posted_to_as_given_without_the_key(scripted) -> None:
    run = scripted(json_reply(200, {"id": "ctc_1"}), json_reply(200, {"id": "ctc_1"}))
    url = "https://dialer.example.com/api/v1/calls/call_9/result?token=tok.abc"
    run.client.calls.report_result(url, disposition="interested", data={"plan": "gold"}, opt_out=False)
    run.client.calls.report_result("call_9", disposition="not_interested", callback_in_seconds=600)
    by_url, by_id = run.script.requests
    assert str(by_url.url) == url and "authorization" not in by_url.headers
    assert json.loads(by_url.content) == {"disposition": "interested", "data": {"plan": "gold"}, "opt_out": False}
    assert str(by_id.url) == "https://api.example.test/api/v1/calls/call_9/result"
    assert by_id.headers["authorization"] == "Bearer sk_live_unit_secret"
    assert json.loads(by_id.content) == {"disposition": "not_interested", "callback_in_seconds": 600}


def test_lists_are_pages_and_iter_contacts_follows_next_offset(scripted) -> None:
    pages = [
        json_reply(200, {**PAGE, "contacts": [{"id": "ctc_1"}, {"id": "ctc_2"}], "next_offset": 2}),
        json_reply(200, {**PAGE, "contacts": [{"id": "ctc_3"}], "has_next": False, "next_offset": None}),
    ]
    run = scripted(*pages)
    ids = [contact["id"] for contact in run.client.campaigns.iter_contacts("cmp_1", status="failed", page_size=2)]
    assert ids == ["ctc_1", "ctc_2", "ctc_3"]
    assert [dict(request.url.params) for request in run.script.requests] == [
        {"status": "failed", "limit": "2", "offset": "0"},
        {"status": "failed", "limit": "2", "offset": "2"},
    ]
    run = scripted(json_reply(200, {**PAGE, "campaigns": [CAMPAIGN]}))
    page = run.client.campaigns.list(status="draft", limit=1)
    assert page.items == [CAMPAIGN] and page.total == 3 and page.next_offset == 1 and list(page) == [CAMPAIGN]


def test_dnc_numbers_are_escaped_and_csv_is_sent_as_text_csv(scripted) -> None:
    run = scripted(json_reply(200, {"phone_number": "+14155550100", "reason": None, "created_at": "x"}), json_reply(200, {"added": 2, "already_listed": 0, "invalid": []}))
    run.client.dnc.get("+14155550100")
    run.client.dnc.add(csv=b"phone_number\n+14155550100\n+14155550101\n", reason="complaint")
    get, add = run.script.requests
    assert get.url.raw_path == b"/api/v1/dnc/%2B14155550100"
    assert add.headers["content-type"] == "text/csv" and add.url.params["reason"] == "complaint"
    with pytest.raises(ValueError):
        run.client.dnc.add()


def test_export_streams_into_a_file(scripted, tmp_path: Path) -> None:
    csv = b"row,phone_number,status\n1,+14155550100,completed\n"
    run = scripted(httpx.Response(200, content=csv, headers={"Content-Type": "text/csv"}), httpx.Response(200, content=csv))
    written = run.client.campaigns.export_contacts("cmp_1", to=tmp_path / "out.csv", status="completed")
    assert written == len(csv) and (tmp_path / "out.csv").read_bytes() == csv
    assert run.client.campaigns.export_contacts("cmp_1") == csv.decode()
    assert run.script.requests[0].headers["accept"].startswith("text/csv")
