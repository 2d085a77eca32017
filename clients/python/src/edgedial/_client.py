"""The blocking client, `Edgedial`: one httpx.Client, retries, and the live events iterator."""

from __future__ import annotations

import codecs
import time
from types import TracebackType
from typing import Any, Callable, Iterator, Mapping, Optional, Type, TypeVar, Union, overload

import httpx

from . import _resources as spec
from ._base import DEFAULT_MAX_RETRIES, DEFAULT_TIMEOUT, ClientConfig, connection_error
from ._errors import APIConnectionError, APIError, error_from_response
from ._events import CampaignEvent, SseParser, StreamCursor, StreamDropped
from ._operations import Operation
from ._retry import RETRYABLE_STATUSES
from ._webhook_signature import verify as verify_signature
from .types import (
    Agent,
    AppendedContacts,
    CallLimits,
    Campaign,
    Contact,
    CreatedCampaign,
    DncAddResult,
    DncEntry,
    EventsToken,
    NewWebhookEndpoint,
    Page,
    PhoneNumber,
    Provider,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookMessage,
)

T = TypeVar("T")


class Edgedial:
    """edgedial's API. `Edgedial()` reads EDGEDIAL_API_KEY and EDGEDIAL_BASE_URL (default http://127.0.0.1:8787)."""

    def __init__(
        self,
        api_key: Optional[str] = None,
        base_url: Optional[str] = None,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        max_retries: int = DEFAULT_MAX_RETRIES,
        http_client: Optional[httpx.Client] = None,
    ) -> None:
        self._config = ClientConfig(api_key, base_url, timeout, max_retries)
        self._http = http_client or httpx.Client()
        self._sleep: Callable[[float], None] = time.sleep
        self.campaigns = Campaigns(self)
        self.calls = Calls(self)
        self.agents = Agents(self)
        self.telephony = Telephony(self)
        self.dnc = DoNotCall(self)
        self.webhooks = Webhooks(self)
        self.call_limits = CallLimitsResource(self)

    @property
    def base_url(self) -> str:
        return self._config.base_url

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> "Edgedial":
        return self

    def __exit__(self, kind: Optional[Type[BaseException]], error: Optional[BaseException], trace: Optional[TracebackType]) -> None:
        self.close()

    def _send(self, operation: Operation[Any], *, streaming: bool = False, retry: bool = True) -> httpx.Response:
        """The first successful answer; an error answer or a failure that may not (or no longer) be repeated is raised."""
        retries = 0
        while True:
            args = self._config.request_args(operation, streaming)
            request = self._http.build_request(**args)
            try:
                response = self._http.send(request, stream=streaming)
            except httpx.TransportError as failure:
                wait = self._config.wait_after_failure(operation, retries) if retry else None
                if wait is None:
                    raise connection_error(failure, str(request.url)) from None
            else:
                if response.is_success:
                    return response
                text = response.read().decode("utf-8", "replace")
                response.close()
                retry_after = response.headers.get("retry-after")
                wait = self._config.wait_after_status(operation, retries, response.status_code, retry_after) if retry else None
                if wait is None:
                    raise error_from_response(response.status_code, response.headers, text)
            self._sleep(wait)
            retries += 1

    def _run(self, operation: Operation[T]) -> T:
        return operation.parse(self._send(operation))


class Campaigns:
    def __init__(self, client: Edgedial) -> None:
        self._client = client

    def list(self, *, status: Optional[str] = None, limit: Optional[int] = None, offset: Optional[int] = None) -> Page[Campaign]:
        return self._client._run(spec.list_campaigns(status, limit, offset))

    def get(self, id: str) -> Campaign:
        return self._client._run(spec.get_campaign(id))

    def create(
        self,
        *,
        name: str,
        agent_id: str,
        phone_number_id: str,
        contacts: spec.ContactsInput,
        max_concurrent_calls: Optional[int] = None,
        retries_per_contact: Optional[int] = None,
        retry_delay_seconds: Optional[int] = None,
        scheduled_at: spec.DateInput = None,
        default_country: Optional[str] = None,
        idempotency_key: Optional[str] = None,
        **settings: spec.SettingValue,
    ) -> CreatedCampaign:
        """A draft campaign (scheduled with `scheduled_at`). Other create fields go in `settings`: calling_window_start, retry_on, …"""
        fields = spec.campaign_fields(name, agent_id, phone_number_id, max_concurrent_calls, retries_per_contact, retry_delay_seconds, scheduled_at, default_country, settings)
        return self._client._run(spec.create_campaign(contacts, fields, idempotency_key))

    def preflight(
        self,
        *,
        name: str,
        agent_id: str,
        phone_number_id: str,
        contacts: spec.ContactsInput,
        max_concurrent_calls: Optional[int] = None,
        retries_per_contact: Optional[int] = None,
        retry_delay_seconds: Optional[int] = None,
        scheduled_at: spec.DateInput = None,
        default_country: Optional[str] = None,
        assumptions: Optional[spec.Assumptions] = None,
        **settings: spec.SettingValue,
    ) -> spec.Json:
        """What create would do with the same arguments, without writing anything: problems by row, counts and a forecast."""
        fields = spec.campaign_fields(name, agent_id, phone_number_id, max_concurrent_calls, retries_per_contact, retry_delay_seconds, scheduled_at, default_country, settings)
        return self._client._run(spec.preflight_campaign(contacts, fields, assumptions))

    def clone(
        self,
        id: str,
        *,
        name: Optional[str] = None,
        statuses: Optional[spec.Names] = None,
        outcomes: Optional[spec.Names] = None,
        idempotency_key: Optional[str] = None,
        **settings: spec.SettingValue,
    ) -> CreatedCampaign:
        """A new draft with the source's contacts that match `statuses` and `outcomes` (both, when both are given), pending again."""
        return self._client._run(spec.clone_campaign(id, name, statuses, outcomes, settings, idempotency_key))

    def append_contacts(self, id: str, contacts: spec.ContactsInput, *, idempotency_key: Optional[str] = None) -> AppendedContacts:
        """Adds contacts (the campaign's own columns) to a draft, scheduled, paused or running campaign."""
        return self._client._run(spec.append_contacts(id, contacts, idempotency_key))

    def start(self, id: str, *, idempotency_key: Optional[str] = None) -> Campaign:
        return self._client._run(spec.campaign_action(id, "start", idempotency_key))

    def pause(self, id: str, *, idempotency_key: Optional[str] = None) -> Campaign:
        return self._client._run(spec.campaign_action(id, "pause", idempotency_key))

    def resume(self, id: str, *, idempotency_key: Optional[str] = None) -> Campaign:
        return self._client._run(spec.campaign_action(id, "resume", idempotency_key))

    def stop(self, id: str, *, idempotency_key: Optional[str] = None) -> Campaign:
        return self._client._run(spec.campaign_action(id, "stop", idempotency_key))

    def delete(self, id: str, *, idempotency_key: Optional[str] = None) -> None:
        self._client._run(spec.delete_campaign(id, idempotency_key))

    def list_contacts(
        self, id: str, *, status: Optional[str] = None, disposition: Optional[str] = None, limit: Optional[int] = None, offset: Optional[int] = None
    ) -> Page[Contact]:
        return self._client._run(spec.list_contacts(id, status, disposition, limit, offset))

    def iter_contacts(self, id: str, *, status: Optional[str] = None, disposition: Optional[str] = None, page_size: int = 1000) -> Iterator[Contact]:
        """Every matching contact in row order, a page at a time."""
        offset: Optional[int] = 0
        while offset is not None:
            page = self.list_contacts(id, status=status, disposition=disposition, limit=page_size, offset=offset)
            yield from page.items
            offset = page.next_offset

    def schedule_callback(self, id: str, contact_id: str, callback_at: spec.DateInput, *, idempotency_key: Optional[str] = None) -> Contact:
        return self._client._run(spec.schedule_callback(id, contact_id, callback_at, idempotency_key))

    def events_token(self, id: str, *, origin: Optional[str] = None) -> EventsToken:
        """A short-lived token for a browser's EventSource (`…/events?token=`); `origin` binds it to one page origin."""
        return self._client._run(spec.events_token(id, origin))

    @overload
    def export_contacts(self, id: str, *, status: Optional[str] = ..., disposition: Optional[str] = ..., to: None = ...) -> str: ...

    @overload
    def export_contacts(self, id: str, *, status: Optional[str] = ..., disposition: Optional[str] = ..., to: spec.Sink) -> int: ...

    def export_contacts(
        self, id: str, *, status: Optional[str] = None, disposition: Optional[str] = None, to: Optional[spec.Sink] = None
    ) -> Union[str, int]:
        """The contacts as CSV text; with `to` (a path or a binary file) streamed into it instead, answering the bytes written."""
        operation = spec.export_contacts(id, status, disposition)
        response = self._client._send(operation, streaming=True)
        try:
            if to is None:
                return response.read().decode("utf-8")
            with spec.open_sink(to) as sink:
                written = 0
                for chunk in response.iter_bytes():
                    sink.write(chunk)
                    written += len(chunk)
                return written
        finally:
            response.close()

    def stream_events(self, id: str, *, last_event_id: Optional[int] = None, max_reconnects: int = spec.DEFAULT_MAX_RECONNECTS) -> Iterator[CampaignEvent]:
        """Live events until the campaign ends. A dropped stream is reopened after the last event seen (Last-Event-ID),
        so no contact transition or result is lost or repeated; a refusal (404, 401, …) raises."""
        cursor = StreamCursor(last_event_id, max_reconnects)
        while True:
            operation = spec.campaign_events(id, cursor.request_headers())
            reason: BaseException
            try:
                response = self._client._send(operation, streaming=True, retry=False)
            except APIError as refused:
                if refused.status not in RETRYABLE_STATUSES:
                    raise
                reason = refused
            except APIConnectionError as failure:
                reason = failure
            else:
                try:
                    decoder = codecs.getincrementaldecoder("utf-8")("replace")
                    parser = SseParser()
                    for chunk in response.iter_bytes():
                        for message in parser.push(decoder.decode(chunk)):
                            event = cursor.accept(message)
                            if event is not None:
                                yield event
                            if cursor.ended:
                                return
                    reason = StreamDropped("The events stream closed before the campaign ended.")
                except httpx.TransportError as failure:
                    reason = failure
                finally:
                    response.close()
            self._client._sleep(cursor.next_delay(reason))


class Calls:
    def __init__(self, client: Edgedial) -> None:
        self._client = client

    def report_result(
        self,
        result_url_or_call_id: str,
        *,
        disposition: str,
        data: Optional[spec.ResultData] = None,
        summary: Optional[str] = None,
        transcript_url: Optional[str] = None,
        recording_url: Optional[str] = None,
        callback_at: spec.DateInput = None,
        callback_in_seconds: Optional[int] = None,
        opt_out: Optional[bool] = None,
        idempotency_key: Optional[str] = None,
    ) -> Contact:
        """Stores what happened on a call and answers the contact. A whole `result_url` is posted to as given (its token
        is the credential, no API key needed); a bare `call_…` id is posted with the API key."""
        body = spec.result_body(disposition, data, summary, transcript_url, recording_url, callback_at, callback_in_seconds, opt_out)
        return self._client._run(spec.report_result(result_url_or_call_id, body, idempotency_key))


class Agents:
    def __init__(self, client: Edgedial) -> None:
        self._client = client

    def list(self, *, limit: Optional[int] = None, offset: Optional[int] = None) -> Page[Agent]:
        return self._client._run(spec.list_of("/api/v1/agents", "agents", limit, offset))

    def get(self, id: str) -> Agent:
        return self._client._run(spec.get_one("/api/v1/agents", id))

    def create(self, *, name: str, status: Optional[str] = None, stream_url: Optional[str] = None) -> Agent:
        return self._client._run(spec.create_json("/api/v1/agents", {"name": name, "status": status, "stream_url": stream_url}))

    def update(self, id: str, **fields: spec.SettingValue) -> Agent:
        return self._client._run(spec.update_json("/api/v1/agents", id, fields))

    def delete(self, id: str) -> None:
        self._client._run(spec.delete_one("/api/v1/agents", id))


class Providers:
    def __init__(self, client: Edgedial) -> None:
        self._client = client

    def list(self, *, limit: Optional[int] = None, offset: Optional[int] = None) -> Page[Provider]:
        return self._client._run(spec.list_of(spec.PROVIDERS, "providers", limit, offset))

    def get(self, id: str) -> Provider:
        return self._client._run(spec.get_one(spec.PROVIDERS, id))

    def create(self, *, provider: str, credentials: Optional[spec.Json] = None, name: Optional[str] = None) -> Provider:
        return self._client._run(spec.create_json(spec.PROVIDERS, {"provider": provider, "credentials": credentials or {}, "name": name}))

    def delete(self, id: str) -> None:
        self._client._run(spec.delete_one(spec.PROVIDERS, id))


class Numbers:
    def __init__(self, client: Edgedial) -> None:
        self._client = client

    def list(self, *, limit: Optional[int] = None, offset: Optional[int] = None) -> Page[PhoneNumber]:
        return self._client._run(spec.list_of(spec.NUMBERS, "numbers", limit, offset))

    def get(self, id: str) -> PhoneNumber:
        return self._client._run(spec.get_one(spec.NUMBERS, id))

    def create(self, *, e164: str, credentials_id: str, provider: str, **fields: spec.SettingValue) -> PhoneNumber:
        return self._client._run(spec.create_json(spec.NUMBERS, {"e164": e164, "credentials_id": credentials_id, "provider": provider, **fields}))

    def update(self, id: str, **fields: spec.SettingValue) -> PhoneNumber:
        return self._client._run(spec.update_json(spec.NUMBERS, id, fields))

    def delete(self, id: str) -> None:
        self._client._run(spec.delete_one(spec.NUMBERS, id))


class Telephony:
    def __init__(self, client: Edgedial) -> None:
        self.providers = Providers(client)
        self.numbers = Numbers(client)


class DoNotCall:
    """The account's do-not-call list. Numbers are E.164 (`+` and digits)."""

    def __init__(self, client: Edgedial) -> None:
        self._client = client

    def list(self, *, prefix: Optional[str] = None, limit: Optional[int] = None, offset: Optional[int] = None) -> Page[DncEntry]:
        return self._client._run(spec.list_dnc(prefix, limit, offset))

    def get(self, phone_number: str) -> DncEntry:
        return self._client._run(spec.get_one(spec.DNC, phone_number))

    def add(
        self,
        numbers: Optional[spec.Names] = None,
        *,
        csv: Optional[spec.ContactsInput] = None,
        reason: Optional[str] = None,
        default_country: Optional[str] = None,
    ) -> DncAddResult:
        """Blocks numbers, given as a list or as a CSV with a phone_number column (a path, an open file or bytes)."""
        return self._client._run(spec.add_dnc(numbers, csv, reason, default_country))

    def remove(self, phone_number: str) -> None:
        self._client._run(spec.delete_one(spec.DNC, phone_number))


class Webhooks:
    def __init__(self, client: Edgedial) -> None:
        self._client = client

    def create(self, *, url: str, events: Optional[spec.Names] = None, description: Optional[str] = None, enabled: Optional[bool] = None) -> NewWebhookEndpoint:
        """The answer alone carries `secret` (`whsec_…`): keep it to verify deliveries."""
        return self._client._run(spec.create_json(spec.WEBHOOKS, {"url": url, "events": events, "description": description, "enabled": enabled}))

    def list(self, *, limit: Optional[int] = None, offset: Optional[int] = None) -> Page[WebhookEndpoint]:
        return self._client._run(spec.list_of(spec.WEBHOOKS, "webhooks", limit, offset))

    def get(self, id: str) -> WebhookEndpoint:
        return self._client._run(spec.get_one(spec.WEBHOOKS, id))

    def update(self, id: str, **fields: spec.SettingValue) -> WebhookEndpoint:
        return self._client._run(spec.update_json(spec.WEBHOOKS, id, fields))

    def delete(self, id: str) -> None:
        self._client._run(spec.delete_one(spec.WEBHOOKS, id))

    def test(self, id: str) -> spec.Json:
        """Sends a `ping` through the outbox; answers its `message_id` (the `webhook-id` it arrives with)."""
        return self._client._run(spec.test_webhook(id))

    def deliveries(self, id: str, *, limit: Optional[int] = None, offset: Optional[int] = None) -> Page[WebhookDelivery]:
        return self._client._run(spec.list_deliveries(id, limit, offset))

    @staticmethod
    def verify(payload: Union[str, bytes], headers: Mapping[str, str], secret: str, *, tolerance: int = 300) -> WebhookMessage:
        """The delivery's body once its Standard Webhooks signature checks out; raises WebhookVerificationError otherwise."""
        return verify_signature(payload, headers, secret, tolerance=tolerance)


class CallLimitsResource:
    def __init__(self, client: Edgedial) -> None:
        self._client = client

    def get(self) -> CallLimits:
        return self._client._run(spec.get_call_limits())
