"""The API's JSON shapes as TypedDicts: answers are plain dicts, typed for editors and checkers."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Dict, Generic, Iterator, List, Literal, Optional, TypedDict, TypeVar, Union

CampaignStatus = Literal["draft", "scheduled", "running", "paused", "completed", "failed"]
ContactStatus = Literal["pending", "originated", "connected", "completed", "failed", "cancelled"]
DayName = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
JsonValue = Union[str, int, float, bool, None]


class Stats(TypedDict, total=False):
    total: int
    pending: int
    originated: int
    connected: int
    completed: int
    failed: int
    cancelled: int
    dispositions: Dict[str, int]


class CallingWindow(TypedDict):
    start: str
    end: str
    days: List[DayName]
    timezone: str


class Campaign(TypedDict, total=False):
    id: str
    name: str
    agent_id: str
    phone_number_id: str
    max_concurrent_calls: int
    retries_per_contact: int
    retry_delay_seconds: int
    scheduled_at: Optional[str]
    started_at: Optional[str]
    completed_at: Optional[str]
    created_at: str
    created_by: Optional[str]
    status: CampaignStatus
    status_reason: Optional[str]
    stats: Stats
    calling_window: Optional[CallingWindow]
    dispositions: Optional[List[str]]
    retry_on: List[str]
    source_campaign_id: Optional[str]


class CreatedCampaign(Campaign, total=False):
    """The answer to create: the campaign and what its upload skipped."""

    duplicates_skipped: int
    dnc_suppressed: int


class ContactResult(TypedDict):
    disposition: str
    data: Optional[Dict[str, JsonValue]]
    summary: Optional[str]
    transcript_url: Optional[str]
    recording_url: Optional[str]
    call_id: str
    reported_at: str


class Contact(TypedDict, total=False):
    id: str
    campaign_id: str
    row: int
    phone_number: str
    custom_fields: Dict[str, str]
    status: ContactStatus
    attempts: int
    outcome: Optional[str]
    last_error: Optional[str]
    call_id: Optional[str]
    next_attempt_at: Optional[str]
    created_at: str
    updated_at: str
    timezone: Optional[str]
    result: Optional[ContactResult]
    callbacks: int


class AppendedContacts(TypedDict):
    added: int
    duplicates_skipped: int
    dnc_suppressed: int
    total: int


class Agent(TypedDict, total=False):
    id: str
    name: str
    status: Literal["draft", "active", "paused", "archived"]
    stream_url: Optional[str]
    created_at: str


class Provider(TypedDict, total=False):
    id: str
    provider: str
    name: Optional[str]
    created_at: str


class PhoneNumber(TypedDict, total=False):
    id: str
    e164: str
    credentials_id: str
    provider: str
    agent_id: Optional[str]
    inbound_enabled: bool
    outbound_enabled: bool
    created_at: str


class CallLimits(TypedDict):
    concurrent_max: int
    calls_per_minute: int
    daily_calls_max: int
    daily_minutes_max: int


class DncEntry(TypedDict):
    phone_number: str
    reason: Optional[str]
    created_at: str


class DncInvalid(TypedDict):
    row: int
    value: str


class DncAddResult(TypedDict):
    added: int
    already_listed: int
    invalid: List[DncInvalid]


class WebhookEndpoint(TypedDict, total=False):
    id: str
    url: str
    events: List[str]
    description: Optional[str]
    enabled: bool
    disabled_reason: Optional[str]
    created_at: str


class NewWebhookEndpoint(WebhookEndpoint, total=False):
    """The answer to create, the only one that carries `secret` (`whsec_…`)."""

    secret: str


class WebhookDelivery(TypedDict, total=False):
    message_id: str
    type: str
    status: Literal["pending", "delivered", "failed"]
    attempts: int
    last_status_code: Optional[int]
    last_error: Optional[str]
    next_attempt_at: Optional[str]
    created_at: str


class WebhookMessage(TypedDict):
    """A verified delivery's body (Standard Webhooks)."""

    type: str
    timestamp: str
    data: Dict[str, object]


class EventsToken(TypedDict):
    campaign_id: str
    token: str
    expires_at: str


T = TypeVar("T")


@dataclass
class Page(Generic[T]):
    """One page of a list: `items` whatever the API calls the list (`campaigns`, `contacts`, …)."""

    items: List[T]
    count: int
    total: int
    limit: int
    offset: int
    has_next: bool
    has_prev: bool
    next_offset: Optional[int]
    prev_offset: Optional[int]
    raw: Dict[str, object] = field(repr=False, default_factory=dict)

    def __iter__(self) -> Iterator[T]:
        return iter(self.items)

    def __len__(self) -> int:
        return len(self.items)
