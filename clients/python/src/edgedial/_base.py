"""What the sync and async clients share: settings from the environment, request headers, and the retry decision."""

from __future__ import annotations

import os
from typing import Any, Dict, Optional

import httpx

from ._errors import APIConnectionError, APITimeoutError, AuthenticationError
from ._operations import Operation
from ._retry import may_repeat, retry_delay, should_retry_status

# Where `npm start` serves the API; production callers set EDGEDIAL_BASE_URL or base_url.
DEFAULT_BASE_URL = "http://127.0.0.1:8787"
DEFAULT_TIMEOUT = 30.0
DEFAULT_MAX_RETRIES = 2
# The server sends a heartbeat every 15 s on an idle stream; silence for this long means the connection is gone.
STREAM_READ_TIMEOUT = 45.0
VERSION = "0.1.0"


class ClientConfig:
    def __init__(self, api_key: Optional[str], base_url: Optional[str], timeout: float, max_retries: int) -> None:
        self.api_key = api_key or os.environ.get("EDGEDIAL_API_KEY") or None
        self.base_url = (base_url or os.environ.get("EDGEDIAL_BASE_URL") or DEFAULT_BASE_URL).rstrip("/")
        self.timeout = timeout
        self.max_retries = max(0, max_retries)

    def request_args(self, operation: Operation[Any], streaming: bool = False) -> Dict[str, Any]:
        """httpx.build_request's arguments for one attempt of the operation."""
        args = operation.request_kwargs()
        headers: Dict[str, str] = {"Accept": "application/json", "User-Agent": f"edgedial-python/{VERSION}"}
        headers.update(args.pop("headers", {}))
        headers.update(operation.headers)
        if operation.absolute_url is None:
            if not self.api_key:
                raise AuthenticationError(401, "missing_api_key", "No API key: pass api_key= or set EDGEDIAL_API_KEY.")
            headers["Authorization"] = f"Bearer {self.api_key}"
        url = operation.absolute_url or f"{self.base_url}{operation.path}"
        timeout = httpx.Timeout(self.timeout, read=max(self.timeout, STREAM_READ_TIMEOUT)) if streaming else httpx.Timeout(self.timeout)
        return {"method": operation.method, "url": url, "headers": headers, "timeout": timeout, **args}

    def wait_after_status(self, operation: Operation[Any], retries_done: int, status: int, retry_after: Optional[str]) -> Optional[float]:
        """Seconds to wait before repeating after an error answer, or None to raise it."""
        if retries_done >= self.max_retries or not may_repeat(operation.method, operation.idempotency_key is not None):
            return None
        if not should_retry_status(status, operation.idempotency_key is not None, retry_after):
            return None
        return retry_delay(retries_done, retry_after)

    def wait_after_failure(self, operation: Operation[Any], retries_done: int) -> Optional[float]:
        """Seconds to wait before repeating after a network failure, or None to raise it."""
        if retries_done >= self.max_retries or not may_repeat(operation.method, operation.idempotency_key is not None):
            return None
        return retry_delay(retries_done, None)


def connection_error(error: httpx.TransportError, url: str) -> APIConnectionError:
    if isinstance(error, httpx.TimeoutException):
        return APITimeoutError(f"No answer from {url} in time: {error}", cause=error)
    return APIConnectionError(f"Could not reach {url}: {error}. Is the server running, and is EDGEDIAL_BASE_URL right?", cause=error)
