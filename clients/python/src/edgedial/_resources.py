"""Each endpoint as an Operation. Both clients call these, so a path or a body is written once."""

from __future__ import annotations

import os
import re
from contextlib import contextmanager
from datetime import datetime
from typing import Any, BinaryIO, Dict, Iterator, Mapping, Optional, Sequence, Union

from ._events import DEFAULT_MAX_RECONNECTS
from ._operations import (
    CAMPAIGNS,
    ContactsInput,
    Operation,
    SettingValue,
    campaign_body,
    parse_json,
    parse_nothing,
    parse_page,
    read_contacts,
    rfc3339,
    segment,
    write_headers,
)

__all__ = ["ContactsInput", "SettingValue", "DEFAULT_MAX_RECONNECTS"]

# Where an export goes: a path (opened and closed here) or a binary file the caller opened.
Sink = Union[str, "os.PathLike[str]", BinaryIO]
Json = Dict[str, Any]
Names = Sequence[str]
DateInput = Union[str, datetime, None]
ResultData = Mapping[str, Union[str, int, float, bool, None]]
# Overrides of the preflight forecast's named assumptions: answer_rate, average_call_seconds, unanswered_call_seconds, retry_share.
Assumptions = Mapping[str, float]

PROVIDERS = "/api/v1/telephony/providers"
NUMBERS = "/api/v1/telephony/numbers"
DNC = "/api/v1/dnc"
WEBHOOKS = "/api/v1/webhooks"
_ABSOLUTE_URL = re.compile(r"^https?://", re.IGNORECASE)


def campaign_path(id: str, tail: str = "") -> str:
    return f"{CAMPAIGNS}/{segment(id)}{tail}"


def list_campaigns(status: Optional[str], limit: Optional[int], offset: Optional[int]) -> Operation[Any]:
    return Operation("GET", CAMPAIGNS, parse_page("campaigns"), query={"status": status, "limit": limit, "offset": offset})


def get_campaign(id: str) -> Operation[Any]:
    return Operation("GET", campaign_path(id), parse_json)


def campaign_fields(
    name: str,
    agent_id: str,
    phone_number_id: str,
    max_concurrent_calls: Optional[int],
    retries_per_contact: Optional[int],
    retry_delay_seconds: Optional[int],
    scheduled_at: DateInput,
    default_country: Optional[str],
    settings: Mapping[str, SettingValue],
) -> Dict[str, SettingValue]:
    named: Dict[str, SettingValue] = {
        "name": name,
        "agent_id": agent_id,
        "phone_number_id": phone_number_id,
        "max_concurrent_calls": max_concurrent_calls,
        "retries_per_contact": retries_per_contact,
        "retry_delay_seconds": retry_delay_seconds,
        "scheduled_at": scheduled_at,
        "default_country": default_country,
    }
    return {**named, **settings}


def create_campaign(contacts: ContactsInput, fields: Mapping[str, SettingValue], idempotency_key: Optional[str]) -> Operation[Any]:
    return campaign_body("POST", CAMPAIGNS, contacts, fields, parse_json, write_headers(idempotency_key))


def preflight_campaign(contacts: ContactsInput, fields: Mapping[str, SettingValue], assumptions: Optional[Assumptions]) -> Operation[Any]:
    # Preflight writes nothing; the key only marks the POST as safe to repeat.
    query: Dict[str, Union[str, int, float, None]] = dict(assumptions or {})
    return campaign_body("POST", f"{CAMPAIGNS}/preflight", contacts, fields, parse_json, write_headers(None), query)


def clone_campaign(
    id: str, name: Optional[str], statuses: Optional[Names], outcomes: Optional[Names], settings: Mapping[str, SettingValue], idempotency_key: Optional[str]
) -> Operation[Any]:
    fields: Dict[str, SettingValue] = {"name": name, "statuses": statuses, "outcomes": outcomes, **settings}
    return campaign_body("POST", campaign_path(id, "/clone"), None, fields, parse_json, write_headers(idempotency_key))


def append_contacts(id: str, contacts: ContactsInput, idempotency_key: Optional[str]) -> Operation[Any]:
    return campaign_body("POST", campaign_path(id, "/contacts"), contacts, {}, parse_json, write_headers(idempotency_key))


def campaign_action(id: str, action: str, idempotency_key: Optional[str]) -> Operation[Any]:
    return Operation("POST", campaign_path(id, f"/{action}"), parse_json, headers=write_headers(idempotency_key))


def delete_campaign(id: str, idempotency_key: Optional[str]) -> Operation[None]:
    return Operation("DELETE", campaign_path(id), parse_nothing, headers=write_headers(idempotency_key))


def list_contacts(id: str, status: Optional[str], disposition: Optional[str], limit: Optional[int], offset: Optional[int]) -> Operation[Any]:
    query = {"status": status, "disposition": disposition, "limit": limit, "offset": offset}
    return Operation("GET", campaign_path(id, "/contacts"), parse_page("contacts"), query=dict(query))


def schedule_callback(id: str, contact_id: str, callback_at: DateInput, idempotency_key: Optional[str]) -> Operation[Any]:
    if callback_at is None:
        raise ValueError("schedule_callback needs callback_at: an RFC 3339 time or an aware datetime, 1 minute to 30 days ahead.")
    path = campaign_path(id, f"/contacts/{segment(contact_id)}/callback")
    return Operation("POST", path, parse_json, json_body={"callback_at": rfc3339(callback_at)}, headers=write_headers(idempotency_key))


def events_token(id: str, origin: Optional[str]) -> Operation[Any]:
    body = {"origin": origin} if origin else {}
    return Operation("POST", campaign_path(id, "/events/token"), parse_json, json_body=body, headers=write_headers(None))


def export_contacts(id: str, status: Optional[str], disposition: Optional[str]) -> Operation[None]:
    # JSON ranks above text/plain, so an error still arrives with its code.
    headers = {"Accept": "text/csv, application/json;q=0.9"}
    return Operation("GET", campaign_path(id, "/contacts.csv"), parse_nothing, query={"status": status, "disposition": disposition}, headers=headers)


def campaign_events(id: str, headers: Dict[str, str]) -> Operation[None]:
    return Operation("GET", campaign_path(id, "/events"), parse_nothing, headers=headers)


@contextmanager
def open_sink(to: Sink) -> Iterator[BinaryIO]:
    """A path is opened (and closed) here; a file the caller opened stays open."""
    if isinstance(to, (str, os.PathLike)):
        with open(to, "wb") as file:
            yield file
    else:
        yield to


def result_body(
    disposition: str,
    data: Optional[ResultData],
    summary: Optional[str],
    transcript_url: Optional[str],
    recording_url: Optional[str],
    callback_at: DateInput,
    callback_in_seconds: Optional[int],
    opt_out: Optional[bool],
) -> Json:
    body: Json = {
        "disposition": disposition,
        "data": dict(data) if data is not None else None,
        "summary": summary,
        "transcript_url": transcript_url,
        "recording_url": recording_url,
        "callback_at": rfc3339(callback_at) if callback_at is not None else None,
        "callback_in_seconds": callback_in_seconds,
        "opt_out": opt_out,
    }
    return {k: v for k, v in body.items() if v is not None}


def report_result(result_url_or_call_id: str, body: Json, idempotency_key: Optional[str]) -> Operation[Any]:
    headers = write_headers(idempotency_key)
    if _ABSOLUTE_URL.match(result_url_or_call_id):
        return Operation("POST", "", parse_json, json_body=body, headers=headers, absolute_url=result_url_or_call_id)
    return Operation("POST", f"/api/v1/calls/{segment(result_url_or_call_id)}/result", parse_json, json_body=body, headers=headers)


def list_of(path: str, key: str, limit: Optional[int], offset: Optional[int]) -> Operation[Any]:
    return Operation("GET", path, parse_page(key), query={"limit": limit, "offset": offset})


def get_one(path: str, id: str) -> Operation[Any]:
    return Operation("GET", f"{path}/{segment(id)}", parse_json)


def create_json(path: str, fields: Mapping[str, object]) -> Operation[Any]:
    body = {k: v for k, v in fields.items() if v is not None}
    return Operation("POST", path, parse_json, json_body=body, headers=write_headers(None))


def update_json(path: str, id: str, fields: Mapping[str, object]) -> Operation[Any]:
    # A PATCH sends what it is given: None clears a field.
    return Operation("PATCH", f"{path}/{segment(id)}", parse_json, json_body=dict(fields), headers=write_headers(None))


def delete_one(path: str, id: str) -> Operation[None]:
    return Operation("DELETE", f"{path}/{segment(id)}", parse_nothing, headers=write_headers(None))


def list_dnc(prefix: Optional[str], limit: Optional[int], offset: Optional[int]) -> Operation[Any]:
    return Operation("GET", DNC, parse_page("numbers"), query={"prefix": prefix, "limit": limit, "offset": offset})


def add_dnc(numbers: Optional[Names], csv: Optional[ContactsInput], reason: Optional[str], default_country: Optional[str]) -> Operation[Any]:
    if (numbers is None) == (csv is None):
        raise ValueError("dnc.add takes either numbers (a list) or csv (a path, an open file or bytes), not both and not neither.")
    headers = write_headers(None)
    if numbers is not None:
        body = {"numbers": list(numbers), "reason": reason, "default_country": default_country}
        return Operation("POST", DNC, parse_json, json_body={k: v for k, v in body.items() if v is not None}, headers=headers)
    content = read_contacts(csv) if csv is not None else b""
    if not isinstance(content, bytes):
        raise TypeError("dnc.add's csv must be a path, an open file or bytes; pass a list of numbers as numbers=.")
    headers["Content-Type"] = "text/csv"
    return Operation("POST", DNC, parse_json, query={"reason": reason, "default_country": default_country}, content=content, headers=headers)


def test_webhook(id: str) -> Operation[Any]:
    return Operation("POST", f"{WEBHOOKS}/{segment(id)}/test", parse_json, headers=write_headers(None))


def list_deliveries(id: str, limit: Optional[int], offset: Optional[int]) -> Operation[Any]:
    return Operation("GET", f"{WEBHOOKS}/{segment(id)}/deliveries", parse_page("deliveries"), query={"limit": limit, "offset": offset})


def get_call_limits() -> Operation[Any]:
    return Operation("GET", "/api/v1/call-limits", parse_json)
