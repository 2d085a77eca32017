"""The exceptions the client raises: one per kind of refusal, each with the API's own sentence."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from typing import Dict, Optional, Type

import httpx


class EdgedialError(Exception):
    """Base of every exception this package raises."""


class APIConnectionError(EdgedialError):
    """The request never got an answer: the server could not be reached or the connection broke."""

    def __init__(self, message: str, *, cause: Optional[BaseException] = None) -> None:
        super().__init__(message)
        self.__cause__ = cause


class APITimeoutError(APIConnectionError):
    """No answer within the client's timeout."""


class APIError(EdgedialError):
    """An error answer of the API: its HTTP status, snake_case code and sentence."""

    def __init__(self, status: int, code: str, message: str, *, headers: Optional[httpx.Headers] = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers if headers is not None else httpx.Headers()

    def __str__(self) -> str:
        return f"{self.status} {self.code}: {self.message}"


class BadRequestError(APIError):
    """400 (and 413, 422): the request is malformed; its sentence says what to change."""


class AuthenticationError(APIError):
    """401: no key, or a revoked, expired or unknown one."""


class PermissionDeniedError(APIError):
    """403: the key may not do this (another account, or a key minting keys)."""


class NotFoundError(APIError):
    """404: no such resource in this account."""


class ConflictError(APIError):
    """409: the resource's state forbids it now (a running campaign, a budget that does not fit)."""


class RateLimitError(APIError):
    """429: too many requests; `retry_after` is the server's suggested wait in seconds, when it gave one."""

    @property
    def retry_after(self) -> Optional[float]:
        return parse_retry_after(self.headers.get("retry-after"))


class InternalServerError(APIError):
    """5xx: the service failed; the request may be tried again."""


_BY_STATUS: Dict[int, Type[APIError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    409: ConflictError,
    413: BadRequestError,
    422: BadRequestError,
    429: RateLimitError,
}


class WebhookVerificationError(EdgedialError):
    """A webhook delivery whose signature, timestamp or headers do not check out: refuse it."""


def parse_retry_after(value: Optional[str]) -> Optional[float]:
    """Retry-After in seconds; an HTTP date is turned into seconds from now. None when absent or unreadable."""
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=timezone.utc)
        seconds = (when - datetime.now(timezone.utc)).total_seconds()
    return max(0.0, seconds)


def error_from_response(status: int, headers: httpx.Headers, text: str) -> APIError:
    """The exception for an error answer: JSON `{"error":{code,message}}` when the server sent it, else its plain sentence."""
    code = f"http_{status}"
    message = text.strip() or f"The server answered {status}."
    try:
        body = json.loads(text)
    except ValueError:
        body = None
    if isinstance(body, dict) and isinstance(body.get("error"), dict):
        error = body["error"]
        if isinstance(error.get("code"), str):
            code = error["code"]
        if isinstance(error.get("message"), str):
            message = error["message"]
    kind = _BY_STATUS.get(status, InternalServerError if status >= 500 else APIError)
    return kind(status, code, message, headers=headers)
