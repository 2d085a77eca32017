"""Every API call as a description (method, path, body, how to read the answer), shared by the sync and async clients."""

from __future__ import annotations

import json
import os
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import IO, Any, Callable, Dict, Generic, List, Mapping, Optional, Sequence, Tuple, TypeVar, Union, cast
from urllib.parse import quote

import httpx

from .types import Page

T = TypeVar("T")

# What `contacts=` takes: a path, an open file (text or binary), CSV bytes, or contact dicts (each with a phone_number).
ContactsInput = Union[str, "os.PathLike[str]", bytes, IO[bytes], IO[str], Sequence[Mapping[str, object]]]
# A campaign setting as create, preflight and clone take it; lists become JSON arrays or comma lists.
SettingValue = Union[str, int, float, bool, None, datetime, Sequence[str]]
QueryValue = Union[str, int, float, None]

CAMPAIGNS = "/api/v1/campaigns"


@dataclass
class Operation(Generic[T]):
    method: str
    path: str
    parse: Callable[[httpx.Response], T]
    query: Dict[str, QueryValue] = field(default_factory=dict)
    json_body: Any = None
    form: Optional[Dict[str, str]] = None
    files: Optional[Dict[str, Tuple[str, bytes, str]]] = None
    content: Optional[bytes] = None
    headers: Dict[str, str] = field(default_factory=dict)
    # A full URL (a call's result_url) is sent as given and without the API key: its token is its credential.
    absolute_url: Optional[str] = None

    @property
    def idempotency_key(self) -> Optional[str]:
        return self.headers.get("Idempotency-Key")

    def request_kwargs(self) -> Dict[str, Any]:
        kwargs: Dict[str, Any] = {"params": {k: v for k, v in self.query.items() if v is not None}}
        if self.json_body is not None:
            kwargs["content"] = json.dumps(self.json_body).encode("utf-8")
            kwargs["headers"] = {"Content-Type": "application/json"}
        elif self.files is not None:
            kwargs["data"] = self.form or {}
            kwargs["files"] = self.files
        elif self.content is not None:
            kwargs["content"] = self.content
        return kwargs


def parse_json(response: httpx.Response) -> Any:
    return response.json()


def parse_nothing(response: httpx.Response) -> None:
    return None


def parse_page(key: str) -> Callable[[httpx.Response], Page[Any]]:
    def parse(response: httpx.Response) -> Page[Any]:
        body = response.json()
        return Page(
            items=list(body.get(key, [])),
            count=body.get("count", 0),
            total=body.get("total", 0),
            limit=body.get("limit", 0),
            offset=body.get("offset", 0),
            has_next=bool(body.get("has_next")),
            has_prev=bool(body.get("has_prev")),
            next_offset=body.get("next_offset"),
            prev_offset=body.get("prev_offset"),
            raw=body,
        )

    return parse


def segment(value: str) -> str:
    """One path segment, escaped (a DNC number's `+` included)."""
    return quote(value, safe="")


def write_headers(idempotency_key: Optional[str]) -> Dict[str, str]:
    """A key per call, made once here so the client's retries send the same one."""
    return {"Idempotency-Key": idempotency_key or str(uuid.uuid4())}


def rfc3339(value: Union[str, datetime]) -> str:
    if isinstance(value, str):
        return value
    if value.tzinfo is None:
        raise ValueError("scheduled_at needs a timezone: pass an aware datetime (for example datetime.now(timezone.utc)).")
    return value.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")


def json_setting(value: SettingValue) -> Any:
    if isinstance(value, datetime):
        return rfc3339(value)
    if isinstance(value, (list, tuple)):
        return list(value)
    return value


def form_setting(value: SettingValue) -> str:
    """A setting as a multipart field: booleans in lower case, lists as the comma lists the form accepts."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return rfc3339(value)
    if isinstance(value, (list, tuple)):
        return ",".join(str(item) for item in value)
    return str(value)


def read_contacts(contacts: ContactsInput) -> Union[List[Mapping[str, object]], bytes]:
    """Contact dicts stay a list (sent as JSON); anything else is read once into CSV bytes, so a retry sends the same file."""
    if isinstance(contacts, bytes):
        return contacts
    if isinstance(contacts, (str, os.PathLike)):
        with open(contacts, "rb") as file:
            return file.read()
    if hasattr(contacts, "read"):
        data = cast(IO[Any], contacts).read()
        return data.encode("utf-8") if isinstance(data, str) else bytes(data)
    if isinstance(contacts, Sequence):
        rows = list(contacts)
        if not all(isinstance(row, Mapping) for row in rows):
            raise TypeError("contacts as a list must hold dicts, each with a phone_number.")
        return rows
    raise TypeError("contacts must be a path, an open file, CSV bytes or a list of dicts.")


def campaign_body(
    method: str,
    path: str,
    contacts: Optional[ContactsInput],
    settings: Mapping[str, SettingValue],
    parse: Callable[[httpx.Response], T],
    headers: Dict[str, str],
    query: Optional[Dict[str, QueryValue]] = None,
) -> Operation[T]:
    """A create-shaped body: JSON when the contacts are dicts (or absent), else multipart with the CSV as `contacts`."""
    given = {k: v for k, v in settings.items() if v is not None}
    read = read_contacts(contacts) if contacts is not None else None
    operation: Operation[T] = Operation(method, path, parse, query=query or {}, headers=headers)
    if isinstance(read, bytes):
        operation.form = {k: form_setting(v) for k, v in given.items()}
        operation.files = {"contacts": ("contacts.csv", read, "text/csv")}
    else:
        body = {k: json_setting(v) for k, v in given.items()}
        if read is not None:
            body["contacts"] = [dict(row) for row in read]
        operation.json_body = body
    return operation
