"""The asyncio client, `AsyncEdgedial`: the same surface as `Edgedial`, every call awaited."""

from __future__ import annotations

import asyncio
import codecs
from types import TracebackType
from typing import Any, AsyncIterator, Awaitable, Callable, Mapping, Optional, Type, TypeVar, Union, overload

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


class AsyncEdgedial:
    """edgedial's API for asyncio. `AsyncEdgedial()` reads EDGEDIAL_API_KEY and EDGEDIAL_BASE_URL (default http://127.0.0.1:8787)."""

    def __init__(
        self,
        api_key: Optional[str] = None,
        base_url: Optional[str] = None,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        max_retries: int = DEFAULT_MAX_RETRIES,
        http_client: Optional[httpx.AsyncClient] = None,
    ) -> None:
        self._config = ClientConfig(api_key, base_url, timeout, max_retries)
        self._http = http_client or httpx.AsyncClient()
        self._sleep: Callable[[float], Awaitable[None]] = asyncio.sleep
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

    async def close(self) -> None:
        await self._http.aclose()

    async def __aenter__(self) -> "AsyncEdgedial":
        return self

    async def __aexit__(self, kind: Optional[Type[BaseException]], error: Optional[BaseException], trace: Optional[TracebackType]) -> None:
        await self.close()

    async def _send(self, operation: Operation[Any], *, streaming: bool = False, retry: bool = True) -> httpx.Response:
        """The first successful answer; an error answer or a failure that may not (or no longer) be repeated is raised."""
        retries = 0
        while True:
            args = self._config.request_args(operation, streaming)
            request = self._http.build_request(**args)
            try:
                response = await self._http.send(request, stream=streaming)
            except httpx.TransportError as failure:
                wait = self._config.wait_after_failure(operation, retries) if retry else None
                if wait is None:
                    raise connection_error(failure, str(request.url)) from None
            else:
                if response.is_success:
                    return response
                text = (await response.aread()).decode("utf-8", "replace")
                await response.aclose()
                retry_after = response.headers.get("retry-after")
                wait = self._config.wait_after_status(operation, retries, response.status_code, retry_after) if retry else None
                if wait is None:
                    raise error_from_response(response.status_code, response.headers, text)
            await self._sleep(wait)
            retries += 1

    async def _run(self, operation: Operation[T]) -> T:
        return operation.parse(await self._send(operation))


class Campaigns:
    def __init__(self, client: AsyncEdgedial) -> None:
        self._client = client

    async def list(self, *, status: Optional[str] = None, limit: Optional[int] = None, offset: Optional[int] = None) -> Page[Campaign]:
        return await self._client._run(spec.list_campaigns(status, limit, offset))

    async def get(self, id: str) -> Campaign:
        return await self._client._run(spec.get_campaign(id))

    async def create(
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
        return await self._client._run(spec.create_campaign(contacts, fields, idempotency_key))

    async def preflight(
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
        return await self._client._run(spec.preflight_campaign(contacts, fields, assumptions))

    async def clone(
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
        return await self._client._run(spec.clone_campaign(id, name, statuses, outcomes, settings, idempotency_key))

    async def append_contacts(self, id: str, contacts: spec.ContactsInput, *, idempotency_key: Optional[str] = None) -> AppendedContacts:
        """Adds contacts (the campaign's own columns) to a draft, scheduled, paused or running campaign."""
        return await self._client._run(spec.append_contacts(id, contacts, idempotency_key))

    async def start(self, id: str, *, idempotency_key: Optional[str] = None) -> Campaign:
        return await self._client._run(spec.campaign_action(id, "start", idempotency_key))

    async def pause(self, id: str, *, idempotency_key: Optional[str] = None) -> Campaign:
        return await self._client._run(spec.campaign_action(id, "pause", idempotency_key))

    async def resume(self, id: str, *, idempotency_key: Optional[str] = None) -> Campaign:
        return await self._client._run(spec.campaign_action(id, "resume", idempotency_key))

    async def stop(self, id: str, *, idempotency_key: Optional[str] = None) -> Campaign:
        return await self._client._run(spec.campaign_action(id, "stop", idempotency_key))

    async def delete(self, id: str, *, idempotency_key: Optional[str] = None) -> None:
        await self._client._run(spec.delete_campaign(id, idempotency_key))

    async def list_contacts(
        self, id: str, *, status: Optional[str] = None, disposition: Optional[str] = None, limit: Optional[int] = None, offset: Optional[int] = None
    ) -> Page[Contact]:
        return await self._client._run(spec.list_contacts(id, status, disposition, limit, offset))

    async def iter_contacts(self, id: str, *, status: Optional[str] = None, disposition: Optional[str] = None, page_size: int = 1000) -> AsyncIterator[Contact]:
        """Every matching contact in row order, a page at a time."""
        offset: Optional[int] = 0
        while offset is not None:
            page = await self.list_contacts(id, status=status, disposition=disposition, limit=page_size, offset=offset)
            for contact in page.items:
                yield contact
            offset = page.next_offset

    async def schedule_callback(self, id: str, contact_id: str, callback_at: spec.DateInput, *, idempotency_key: Optional[str] = None) -> Contact:
        return await self._client._run(spec.schedule_callback(id, contact_id, callback_at, idempotency_key))

    async def events_token(self, id: str, *, origin: Optional[str] = None) -> EventsToken:
        """A short-lived token for a browser's EventSource (`…/events?token=`); `origin` binds it to one page origin."""
        return await self._client._run(spec.events_token(id, origin))

    @overload
    async def export_contacts(self, id: str, *, status: Optional[str] = ..., disposition: Optional[str] = ..., to: None = ...) -> str: ...

    @overload
    async def export_contacts(self, id: str, *, status: Optional[str] = ..., disposition: Optional[str] = ..., to: spec.Sink) -> int: ...

    async def export_contacts(
        self, id: str, *, status: Optional[str] = None, disposition: Optional[str] = None, to: Optional[spec.Sink] = None
    ) -> Union[str, int]:
        """The contacts as CSV text; with `to` (a path or a binary file) streamed into it instead, answering the bytes written."""
        operation = spec.export_contacts(id, status, disposition)
        response = await self._client._send(operation, streaming=True)
        try:
            if to is None:
                return (await response.aread()).decode("utf-8")
            with spec.open_sink(to) as sink:
                written = 0
                async for chunk in response.aiter_bytes():
                    sink.write(chunk)
                    written += len(chunk)
                return written
        finally:
            await response.aclose()

    async def stream_events(self, id: str, *, last_event_id: Optional[int] = None, max_reconnects: int = spec.DEFAULT_MAX_RECONNECTS) -> AsyncIterator[CampaignEvent]:
        """Live events until the campaign ends. A dropped stream is reopened after the last event seen (Last-Event-ID),
        so no contact transition or result is lost or repeated; a refusal (404, 401, …) raises."""
        cursor = StreamCursor(last_event_id, max_reconnects)
        while True:
            operation = spec.campaign_events(id, cursor.request_headers())
            reason: BaseException
            try:
                response = await self._client._send(operation, streaming=True, retry=False)
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
                    async for chunk in response.aiter_bytes():
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
                    await response.aclose()
            await self._client._sleep(cursor.next_delay(reason))


class Calls:
    def __init__(self, client: AsyncEdgedial) -> None:
        self._client = client

    async def report_result(
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
        return await self._client._run(spec.report_result(result_url_or_call_id, body, idempotency_key))


class Agents:
    def __init__(self, client: AsyncEdgedial) -> None:
        self._client = client

    async def list(self, *, limit: Optional[int] = None, offset: Optional[int] = None) -> Page[Agent]:
        return await self._client._run(spec.list_of("/api/v1/agents", "agents", limit, offset))

    async def get(self, id: str) -> Agent:
        return await self._client._run(spec.get_one("/api/v1/agents", id))

    async def create(self, *, name: str, status: Optional[str] = None, stream_url: Optional[str] = None) -> Agent:
        return await self._client._run(spec.create_json("/api/v1/agents", {"name": name, "status": status, "stream_url": stream_url}))

    async def update(self, id: str, **fields: spec.SettingValue) -> Agent:
        return await self._client._run(spec.update_json("/api/v1/agents", id, fields))

    async def delete(self, id: str) -> None:
        await self._client._run(spec.delete_one("/api/v1/agents", id))


class Providers:
    def __init__(self, client: AsyncEdgedial) -> None:
        self._client = client

    async def list(self, *, limit: Optional[int] = None, offset: Optional[int] = None) -> Page[Provider]:
        return await self._client._run(spec.list_of(spec.PROVIDERS, "providers", limit, offset))

    async def get(self, id: str) -> Provider:
        return await self._client._run(spec.get_one(spec.PROVIDERS, id))

    async def create(self, *, provider: str, credentials: Optional[spec.Json] = None, name: Optional[str] = None) -> Provider:
        return await self._client._run(spec.create_json(spec.PROVIDERS, {"provider": provider, "credentials": credentials or {}, "name": name}))

    async def delete(self, id: str) -> None:
        await self._client._run(spec.delete_one(spec.PROVIDERS, id))


class Numbers:
    def __init__(self, client: AsyncEdgedial) -> None:
        self._client = client

    async def list(self, *, limit: Optional[int] = None, offset: Optional[int] = None) -> Page[PhoneNumber]:
        return await self._client._run(spec.list_of(spec.NUMBERS, "numbers", limit, offset))

    async def get(self, id: str) -> PhoneNumber:
        return await self._client._run(spec.get_one(spec.NUMBERS, id))

    async def create(self, *, e164: str, credentials_id: str, provider: str, **fields: spec.SettingValue) -> PhoneNumber:
        return await self._client._run(spec.create_json(spec.NUMBERS, {"e164": e164, "credentials_id": credentials_id, "provider": provider, **fields}))

    async def update(self, id: str, **fields: spec.SettingValue) -> PhoneNumber:
        return await self._client._run(spec.update_json(spec.NUMBERS, id, fields))

    async def delete(self, id: str) -> None:
        await self._client._run(spec.delete_one(spec.NUMBERS, id))


class Telephony:
    def __init__(self, client: AsyncEdgedial) -> None:
        self.providers = Providers(client)
        self.numbers = Numbers(client)


class DoNotCall:
    """The account's do-not-call list. Numbers are E.164 (`+` and digits)."""

    def __init__(self, client: AsyncEdgedial) -> None:
        self._client = client

    async def list(self, *, prefix: Optional[str] = None, limit: Optional[int] = None, offset: Optional[int] = None) -> Page[DncEntry]:
        return await self._client._run(spec.list_dnc(prefix, limit, offset))

    async def get(self, phone_number: str) -> DncEntry:
        return await self._client._run(spec.get_one(spec.DNC, phone_number))

    async def add(
        self,
        numbers: Optional[spec.Names] = None,
        *,
        csv: Optional[spec.ContactsInput] = None,
        reason: Optional[str] = None,
        default_country: Optional[str] = None,
    ) -> DncAddResult:
        """Blocks numbers, given as a list or as a CSV with a phone_number column (a path, an open file or bytes)."""
        return await self._client._run(spec.add_dnc(numbers, csv, reason, default_country))

    async def remove(self, phone_number: str) -> None:
        await self._client._run(spec.delete_one(spec.DNC, phone_number))


class Webhooks:
    def __init__(self, client: AsyncEdgedial) -> None:
        self._client = client

    async def create(self, *, url: str, events: Optional[spec.Names] = None, description: Optional[str] = None, enabled: Optional[bool] = None) -> NewWebhookEndpoint:
        """The answer alone carries `secret` (`whsec_…`): keep it to verify deliveries."""
        return await self._client._run(spec.create_json(spec.WEBHOOKS, {"url": url, "events": events, "description": description, "enabled": enabled}))

    async def list(self, *, limit: Optional[int] = None, offset: Optional[int] = None) -> Page[WebhookEndpoint]:
        return await self._client._run(spec.list_of(spec.WEBHOOKS, "webhooks", limit, offset))

    async def get(self, id: str) -> WebhookEndpoint:
        return await self._client._run(spec.get_one(spec.WEBHOOKS, id))

    async def update(self, id: str, **fields: spec.SettingValue) -> WebhookEndpoint:
        return await self._client._run(spec.update_json(spec.WEBHOOKS, id, fields))

    async def delete(self, id: str) -> None:
        await self._client._run(spec.delete_one(spec.WEBHOOKS, id))

    async def test(self, id: str) -> spec.Json:
        """Sends a `ping` through the outbox; answers its `message_id` (the `webhook-id` it arrives with)."""
        return await self._client._run(spec.test_webhook(id))

    async def deliveries(self, id: str, *, limit: Optional[int] = None, offset: Optional[int] = None) -> Page[WebhookDelivery]:
        return await self._client._run(spec.list_deliveries(id, limit, offset))

    @staticmethod
    def verify(payload: Union[str, bytes], headers: Mapping[str, str], secret: str, *, tolerance: int = 300) -> WebhookMessage:
        """The delivery's body once its Standard Webhooks signature checks out; raises WebhookVerificationError otherwise."""
        return verify_signature(payload, headers, secret, tolerance=tolerance)


class CallLimitsResource:
    def __init__(self, client: AsyncEdgedial) -> None:
        self._client = client

    async def get(self) -> CallLimits:
        return await self._client._run(spec.get_call_limits())
