"""When a failed request is sent again, and after how long. Pure: the clients do the waiting."""

from __future__ import annotations

import random
from typing import Callable, Optional

from ._errors import parse_retry_after

# Methods that mean the same thing when repeated; any other is repeated only with an Idempotency-Key.
IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})
RETRYABLE_STATUSES = frozenset({408, 429, 500, 502, 503, 504})
BASE_DELAY = 0.5
MAX_DELAY = 8.0
# A server asking for a longer pause than this is better answered by the caller than by a blocked thread.
MAX_RETRY_AFTER = 60.0


def may_repeat(method: str, has_idempotency_key: bool) -> bool:
    return method.upper() in IDEMPOTENT_METHODS or has_idempotency_key


def should_retry_status(status: int, has_idempotency_key: bool, retry_after: Optional[str]) -> bool:
    if status in RETRYABLE_STATUSES:
        return True
    # A repeat that overtook its still-running original; the server says when the original's answer is ready.
    return status == 409 and has_idempotency_key and retry_after is not None


def retry_delay(retries_done: int, retry_after: Optional[str], jitter: Callable[[], float] = random.random) -> float:
    """Seconds before retry number `retries_done + 1`: the server's Retry-After when it gave one, else doubling backoff with jitter."""
    hinted = parse_retry_after(retry_after)
    if hinted is not None:
        return min(hinted, MAX_RETRY_AFTER)
    base = min(MAX_DELAY, BASE_DELAY * 2**retries_done)
    # ±25% so many clients that failed together do not come back together.
    return base * (0.75 + jitter() * 0.5)
